//! Start-to-ready of the mock operator with the certificates cached, which every scenario pays,
//! and the cost of one STARTTLS session up to the first authenticated command.
//!
//! `cargo bench -p operator --bench start` (release) or add `--profile dev` for the debug build
//! editors run in CI. `MSS_BENCH_ROUNDS` sets the number of rounds (default 200).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use operator::{Directory, Operator, OperatorConfig};

fn stats(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{name:<40} n={:<5} min {:>8.3} ms  median {:>8.3} ms  p95 {:>8.3} ms  max {:>8.3} ms",
        samples.len(),
        pick(0.0).as_secs_f64() * 1e3,
        pick(0.5).as_secs_f64() * 1e3,
        pick(0.95).as_secs_f64() * 1e3,
        pick(1.0).as_secs_f64() * 1e3,
    );
}

fn main() {
    let rounds: usize = std::env::var("MSS_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let certs = std::env::var_os("MSS_CERTS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../certs"));
    let directory = Directory::embedded();
    let started = Instant::now();
    let (pki, outcome) = pki::ensure(&certs, &directory.pki_profile()).expect("pki");
    println!(
        "fake IGC Santé: {} in {:.1} ms",
        if outcome.generated.is_empty() {
            "loaded from cache"
        } else {
            "generated"
        },
        started.elapsed().as_secs_f64() * 1e3
    );
    let pki = Arc::new(pki);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let mut start = Vec::with_capacity(rounds);
        let mut greeting = Vec::with_capacity(rounds);
        for round in 0..rounds + 5 {
            let data = tempfile::tempdir().expect("tempdir");
            let config = OperatorConfig::new(directory.clone(), pki.clone(), data.path().into());
            let t0 = Instant::now();
            let op = Operator::start(config).await.expect("start");
            let ready = t0.elapsed();
            // Ready means serving: time to the first SMTP greeting on a fresh connection.
            let t1 = Instant::now();
            let mut tcp = tokio::net::TcpStream::connect(op.addresses().psc_smtp)
                .await
                .expect("connect");
            let mut buf = [0u8; 256];
            let n = tokio::io::AsyncReadExt::read(&mut tcp, &mut buf)
                .await
                .expect("read");
            assert!(buf[..n].starts_with(b"220 "));
            let first = t1.elapsed();
            drop(tcp);
            op.shutdown().await;
            if round >= 5 {
                start.push(ready);
                greeting.push(first);
            }
        }
        stats("Operator::start (4 listeners, TLS ready)", start);
        stats("connect → SMTP greeting", greeting);
    });
}
