//! Memory of the operator process (`mss-operator`, run as a child so only its memory counts):
//! with 100 idle authenticated IMAP sessions inside TLS, and at the peak of a 25 MB DATA.
//!
//! `cargo bench -p operator --bench memory` (release) or `--profile dev`.

mod common;

use std::time::Duration;

use common::*;
use tokio::io::AsyncWriteExt;

fn main() {
    let data = tempfile::tempdir().expect("tempdir");
    let op = start_operator(data.path(), &[]);
    let pid = op.pid;
    let (imap, smtp) = (op.imap, op.smtp);
    let psc = psc(operator_issuer(op.https));
    let tls = tls();
    let directory = operator::Directory::embedded();
    let marie = directory.professional(MARIE).expect("ps").clone();
    let xoauth2 = |token: &str| xoauth2(BAL_MARIE, token);

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let base = status_kb(pid, "VmRSS:");
        let mut sessions = Vec::new();
        for _ in 0..100 {
            let mut s = starttls(imap, true, tls.clone()).await;
            let token = psc
                .issue(&marie, "bench", Duration::from_secs(600))
                .expect("token");
            s.get_mut()
                .write_all(format!("b AUTHENTICATE XOAUTH2 {}\r\n", xoauth2(&token)).as_bytes())
                .await
                .expect("w");
            until(&mut s, "b OK").await;
            sessions.push(s);
        }
        let with_sessions = status_kb(pid, "VmRSS:");
        println!(
            "RSS: {base} kB at rest, {with_sessions} kB with 100 idle authenticated IMAP sessions in TLS ({:.1} kB per session)",
            (with_sessions.saturating_sub(base)) as f64 / 100.0
        );
        drop(sessions);

        let before = status_kb(pid, "VmHWM:");
        let mut s = starttls(smtp, false, tls.clone()).await;
        s.get_mut().write_all(b"EHLO bench\r\n").await.expect("w");
        until(&mut s, "250 ").await;
        let token = psc
            .issue(&marie, "bench", Duration::from_secs(600))
            .expect("token");
        s.get_mut()
            .write_all(format!("AUTH XOAUTH2 {}\r\n", xoauth2(&token)).as_bytes())
            .await
            .expect("w");
        until(&mut s, "235").await;
        s.get_mut()
            .write_all(
                b"MAIL FROM:<marie.martin@operateur-fictif.mssante.fr>\r\nRCPT TO:<paul.durand@operateur-fictif.mssante.fr>\r\nDATA\r\n",
            )
            .await
            .expect("w");
        until(&mut s, "354").await;
        let line = [b'x'; 998];
        let mut sent = 0usize;
        s.get_mut()
            .write_all(b"Subject: 25 Mo\r\nMessage-ID: <gros@bench>\r\n\r\n")
            .await
            .expect("w");
        while sent < 25 * 1000 * 1000 {
            s.get_mut().write_all(&line).await.expect("w");
            s.get_mut().write_all(b"\r\n").await.expect("w");
            sent += 1000;
        }
        s.get_mut().write_all(b".\r\n").await.expect("w");
        let t0 = std::time::Instant::now();
        until(&mut s, "250 ").await;
        let after = status_kb(pid, "VmHWM:");
        println!(
            "peak RSS: {before} kB before, {after} kB after a {} MB DATA (+{} kB); stored and delivered in {:.0} ms after the final dot",
            sent / 1_000_000,
            after.saturating_sub(before),
            t0.elapsed().as_secs_f64() * 1e3
        );
    });
}
