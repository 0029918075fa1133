//! Throughput of the offline check (`mss-harness check`) on messages carrying health documents:
//! 1000 XDM messages (one N3, one N1, two documents, alternately), every ECO.2.x rule each.
//!
//! `cargo bench -p rules --bench check` (release) or add `--profile dev` for the debug build
//! editors run in CI. `MSS_BENCH_MESSAGES` sets the number of messages (default 1000).

use std::time::Instant;

use documents::fixtures::{self, Eml};
use rules::{Context, Message, Verdict, check_all};

fn main() {
    let count: usize = std::env::var("MSS_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let p = fixtures::patient();
    let kinds: Vec<Eml> = vec![
        fixtures::with_documents(&[fixtures::biology_n3()], &p),
        fixtures::with_documents(&[fixtures::letter_n1()], &p),
        fixtures::with_documents(&[fixtures::biology_n3(), fixtures::letter_n1()], &p),
    ];
    let started = Instant::now();
    let messages: Vec<Vec<u8>> = (0..count)
        .map(|i| {
            let mut e = kinds[i % kinds.len()].clone();
            e.message_id = Some(format!("bench-{i}@lps.harnais"));
            fixtures::compose(&e)
        })
        .collect();
    let bytes: usize = messages.iter().map(Vec::len).sum();
    println!(
        "composed {count} messages ({:.1} MB) in {:.2} s",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let context = Context::default();
    let started = Instant::now();
    let mut failures = 0;
    for raw in &messages {
        let message = Message::parse(raw).expect("message");
        failures += check_all(&message, &context)
            .iter()
            .filter(|f| f.verdict == Verdict::Fail)
            .count();
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(failures, 0, "the fixtures are conformant");
    println!(
        "checked {count} XDM messages in {:.3} s: {:.0} messages/s, {:.2} ms each, {:.1} MB/s",
        elapsed,
        count as f64 / elapsed,
        elapsed * 1e3 / count as f64,
        bytes as f64 / 1e6 / elapsed
    );
}
