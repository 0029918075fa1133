//! The operator under load, figures for the README and the issues' bars:
//!
//! 1. SMTP: 16 concurrent senders (STARTTLS + XOAUTH2, messages of 2 KB), messages/s and server
//!    CPU per message: 40,000 submissions with no IMAP session (RSS sampled: it must stay flat
//!    once the journal's ring of recent events is full), then 10,000 three times: with no IMAP
//!    session, with 100 sessions in IDLE on the recipient's INBOX of 10,000 messages and more
//!    (each delivery concerns them all), with 100 on another BAL's INBOX.
//! 2. IMAP: connect + STARTTLS + XOAUTH2 + SELECT + `FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)`
//!    on 1,000 messages of 20 KB, median wall time and server CPU per run.
//! 3. Hostile input: RSS after 60,000 unauthenticated connections, and with 16 silent
//!    unauthenticated IMAP clients that offered 25 MB literals.
//!
//! `cargo build --release -p operator && cargo bench -p operator --bench load`.
//! `MSS_BENCH_MESSAGES` sets the submissions of the first SMTP phase (default 40,000; the
//! second takes a quarter).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SENDERS: usize = 16;
const IDLERS: usize = 100;

fn main() {
    let messages: usize = std::env::var("MSS_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40_000);
    let data = tempfile::tempdir().expect("tempdir");
    // Paul's INBOX: 10,000 messages; Marie's: 1,000 of 20 KB.
    fill_maildir(&data.path().join("bal").join(BAL_PAUL), 10_000, 2_000, true);
    fill_maildir(
        &data.path().join("bal").join(BAL_MARIE),
        1_000,
        20_000,
        true,
    );
    let op = start_operator(data.path(), &[]);
    let psc = psc(operator_issuer(op.https));
    let tls = tls();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let rss = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (rate_all, cpu_all) = smtp_phase(&op, &psc, &tls, messages, &rss).await;
        let samples = rss.lock().expect("rss").clone();
        let at = |fraction: usize| {
            samples
                .get((samples.len() * fraction / 4).saturating_sub(1))
                .copied()
                .unwrap_or(0)
        };
        println!(
            "RSS across {messages} submissions: {} / {} / {} / {} kB at 25 / 50 / 75 / 100 %",
            at(1),
            at(2),
            at(3),
            at(4)
        );
        println!(
            "SMTP, {SENDERS} senders, {messages} messages, no IDLE session: {rate_all:.0} messages/s, {:.0} µs server CPU per message",
            cpu_all * 1e6
        );
        // The reference for the IDLE phases: the same number of messages, just before them.
        let (rate0, cpu0) = smtp_phase(&op, &psc, &tls, messages / 4, &Default::default()).await;
        println!(
            "SMTP, {SENDERS} senders, {} messages, no IDLE session: {rate0:.0} messages/s, {:.0} µs server CPU per message",
            messages / 4,
            cpu0 * 1e6
        );
        // Worst case: every session idles on the very INBOX each message is delivered to.
        let woken = Arc::new(AtomicU64::new(0));
        let idlers = idle_sessions(&op, &psc, &tls, BAL_PAUL, PAUL, &woken).await;
        let (rate1, cpu1) = smtp_phase(&op, &psc, &tls, messages / 4, &Default::default()).await;
        println!(
            "SMTP, {SENDERS} senders, {IDLERS} IDLE sessions on the recipient's own INBOX (10,000+ messages): {rate1:.0} messages/s ({:+.1} %), {:.0} µs server CPU per message; {} EXISTS received by the idling sessions",
            (rate1 / rate0 - 1.0) * 100.0,
            cpu1 * 1e6,
            woken.load(Ordering::Relaxed)
        );
        for i in idlers {
            i.abort();
        }
        // The usual case: sessions idle on other BALs' mailboxes (the sender's here).
        let woken = Arc::new(AtomicU64::new(0));
        let idlers = idle_sessions(&op, &psc, &tls, BAL_MARIE, MARIE, &woken).await;
        let (rate2, cpu2) = smtp_phase(&op, &psc, &tls, messages / 4, &Default::default()).await;
        println!(
            "SMTP, {SENDERS} senders, {IDLERS} IDLE sessions on another BAL's INBOX: {rate2:.0} messages/s ({:+.1} %), {:.0} µs server CPU per message; {} EXISTS received (none expected)",
            (rate2 / rate0 - 1.0) * 100.0,
            cpu2 * 1e6,
            woken.load(Ordering::Relaxed)
        );
        for i in idlers {
            i.abort();
        }

        let (wall, cpu) = imap_fetch(&op, &psc, &tls).await;
        println!(
            "IMAP connect + STARTTLS + XOAUTH2 + SELECT + FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE) on 1,000 messages of 20 KB: {:.1} ms median, {:.1} ms server CPU per run",
            wall * 1e3,
            cpu * 1e3
        );

        hostile(&op).await;
    });
}

/// `IDLERS` sessions of `user` idling on their INBOX, counting the EXISTS they hear.
async fn idle_sessions(
    op: &Child,
    psc: &operator::psc::Psc,
    tls: &Arc<rustls::ClientConfig>,
    bal: &str,
    professional: &str,
    woken: &Arc<AtomicU64>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut idlers = Vec::new();
    for _ in 0..IDLERS {
        let mut s = imap_login(op.imap, tls.clone(), bal, &token(psc, professional)).await;
        s.get_mut()
            .write_all(b"s SELECT INBOX\r\n")
            .await
            .expect("w");
        until(&mut s, "s OK").await;
        s.get_mut().write_all(b"i IDLE\r\n").await.expect("w");
        until(&mut s, "+").await;
        let woken = woken.clone();
        idlers.push(tokio::spawn(async move {
            loop {
                let l = line(&mut s).await;
                if l.is_empty() {
                    return;
                }
                if l.ends_with("EXISTS\r\n") {
                    woken.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    idlers
}

/// 16 senders share `messages` submissions to Paul; returns (messages/s, server CPU s/message).
async fn smtp_phase(
    op: &Child,
    psc: &operator::psc::Psc,
    tls: &Arc<rustls::ClientConfig>,
    messages: usize,
    rss: &Arc<std::sync::Mutex<Vec<u64>>>,
) -> (f64, f64) {
    let target = Target {
        smtp: op.smtp,
        imap: op.imap,
        user: BAL_MARIE.into(),
        token: token(psc, MARIE),
    };
    let (rss, pid) = (rss.clone(), op.pid);
    let cpu_before = cpu_seconds(op.pid);
    let elapsed = submit(
        &target,
        tls,
        SENDERS,
        messages,
        Arc::new(move || rss.lock().expect("rss").push(status_kb(pid, "VmRSS:"))),
    )
    .await;
    let cpu = cpu_seconds(op.pid) - cpu_before;
    (messages as f64 / elapsed, cpu / messages as f64)
}

/// Median wall time and mean server CPU of 20 full IMAP runs on Marie's 1,000 messages.
async fn imap_fetch(
    op: &Child,
    psc: &operator::psc::Psc,
    tls: &Arc<rustls::ClientConfig>,
) -> (f64, f64) {
    let target = Target {
        smtp: op.smtp,
        imap: op.imap,
        user: BAL_MARIE.into(),
        token: token(psc, MARIE),
    };
    const RUNS: usize = 20;
    let cpu_before = cpu_seconds(op.pid);
    let walls = fetch_envelopes(&target, tls, RUNS, 1_000).await;
    let cpu = (cpu_seconds(op.pid) - cpu_before) / RUNS as f64;
    (walls[RUNS / 2], cpu)
}

/// RSS after a flood of unauthenticated connections, and with 16 clients offering 25 MB
/// literals before authentication.
async fn hostile(op: &Child) {
    let before = status_kb(op.pid, "VmRSS:");
    let t0 = Instant::now();
    let addr = op.smtp;
    let limit = Arc::new(tokio::sync::Semaphore::new(200));
    let mut tasks = Vec::new();
    const FLOOD: usize = 60_000;
    for _ in 0..FLOOD {
        let permit = limit.clone().acquire_owned().await.expect("permit");
        tasks.push(tokio::spawn(async move {
            if let Ok(mut tcp) = tokio::net::TcpStream::connect(addr).await {
                let mut greeting = [0u8; 128];
                let _ =
                    tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut greeting)).await;
            }
            drop(permit);
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let after = status_kb(op.pid, "VmRSS:");
    println!(
        "{FLOOD} unauthenticated SMTP connections in {:.1} s: RSS {before} kB before, {after} kB after ({:+} kB), peak {} kB",
        t0.elapsed().as_secs_f64(),
        after as i64 - before as i64,
        status_kb(op.pid, "VmHWM:")
    );

    let before = status_kb(op.pid, "VmRSS:");
    let mut silent = Vec::new();
    for _ in 0..16 {
        let mut tcp = tokio::net::TcpStream::connect(op.imap)
            .await
            .expect("connect");
        let mut greeting = [0u8; 256];
        let _ = tcp.read(&mut greeting).await;
        tcp.write_all(b"a LOGIN {25000000}\r\n").await.expect("w");
        // Then as much of the literal as the operator takes, without waiting for `+`.
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..25 {
            if tokio::time::timeout(Duration::from_millis(200), tcp.write_all(&chunk))
                .await
                .map_or(true, |r| r.is_err())
            {
                break;
            }
        }
        silent.push(tcp);
    }
    let after = status_kb(op.pid, "VmRSS:");
    println!(
        "16 unauthenticated IMAP clients offering 25 MB literals: RSS {before} kB before, {after} kB with them ({:+} kB)",
        after as i64 - before as i64
    );
}
