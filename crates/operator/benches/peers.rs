//! The operator side by side with Postfix 3.7 (submission) and Dovecot 2.3 (IMAP), Debian's
//! packages configured in `benches/peers/` with the operator's certificates and the fake Pro
//! Santé Connect's key (Dovecot validates the tokens locally; Postfix authenticates through
//! Dovecot). The same client, TLS 1.2 and XOAUTH2 on both sides:
//!
//! - SMTP: 16 concurrent senders, messages of 2 KB: messages/s and server CPU per message
//!   (Postfix's and Dovecot's whole process trees, until the last message is in the Maildir);
//! - IMAP: connect + STARTTLS + XOAUTH2 + SELECT + `FETCH 1:* (UID FLAGS RFC822.SIZE
//!   ENVELOPE)` on 1,000 messages of 20 KB: median wall time and server CPU per run.
//!
//! Needs root (the peers drop privileges) and `postfix`, `dovecot-imapd`; skipped otherwise.
//! `cargo build --release -p operator && cargo bench -p operator --bench peers`;
//! `MSS_BENCH_MESSAGES` sets the submissions per side (default 8,000).

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;

const SENDERS: usize = 16;
const RUNS: usize = 20;
/// The issuer Dovecot's `oauth2.conf.ext` trusts.
const ISSUER: &str = "https://psc.operateur-fictif.mssante.fr/auth/realms/esante-wallet";

fn setup() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peers/setup.sh")
}

/// The peers, stopped on drop.
struct Peers(PathBuf);

impl Drop for Peers {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(setup())
            .arg(&self.0)
            .arg("stop")
            .status();
    }
}

fn pid_in(path: &Path) -> u32 {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no pid in {}", path.display()))
}

/// Waits (polling: these are foreign processes) until `addr` accepts connections.
fn wait_for(addr: SocketAddr) {
    let t0 = Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "{addr} never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn count_files(dir: &Path) -> usize {
    ["new", "cur"]
        .iter()
        .map(|s| std::fs::read_dir(dir.join(s)).map_or(0, |d| d.count()))
        .sum()
}

fn main() {
    let root_user = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    let installed = ["postfix", "dovecot", "doveadm"].iter().all(|t| {
        Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !root_user || !installed {
        println!("skipped: needs root and Debian's postfix and dovecot-imapd");
        return;
    }
    let messages: usize = std::env::var("MSS_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8_000);

    // The peers, with Marie's 1,000 messages in Dovecot's Maildir.
    let root = tempfile::tempdir().expect("tempdir");
    let status = Command::new("bash")
        .arg(setup())
        .arg(root.path())
        .env("MSS_CERTS_DIR", certs())
        .status()
        .expect("setup.sh");
    let peers = Peers(root.path().to_owned());
    assert!(status.success(), "the peers did not start");
    let mailbox = root.path().join("dovecot/mail").join(MARIE);
    fill_maildir(&mailbox, 1_000, 20_000, false);
    let chown = Command::new("chown")
        .args(["-R", "mail:mail"])
        .arg(root.path().join("dovecot/mail"))
        .status()
        .expect("chown");
    assert!(chown.success());
    let (dovecot_imap, postfix_smtp): (SocketAddr, SocketAddr) = (
        "127.0.0.1:30143".parse().expect("addr"),
        "127.0.0.1:30587".parse().expect("addr"),
    );
    wait_for(dovecot_imap);
    wait_for(postfix_smtp);
    let dovecot = pid_in(&root.path().join("dovecot/run/master.pid"));
    let postfix = pid_in(&root.path().join("postfix/queue/pid/master.pid"));
    let peer_psc = psc(ISSUER.into());
    let peer = Target {
        smtp: postfix_smtp,
        imap: dovecot_imap,
        user: MARIE.into(),
        token: token(&peer_psc, MARIE),
    };

    // The operator, with the same 1,000 messages.
    let data = tempfile::tempdir().expect("tempdir");
    fill_maildir(
        &data.path().join("bal").join(BAL_MARIE),
        1_000,
        20_000,
        true,
    );
    let op = start_operator(data.path(), &[]);
    let ours = Target {
        smtp: op.smtp,
        imap: op.imap,
        user: BAL_MARIE.into(),
        token: token(&psc(operator_issuer(op.https)), MARIE),
    };

    let tls = tls();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        // IMAP first, while the machine is quiet; one warm-up run each.
        fetch_envelopes(&peer, &tls, 1, 1_000).await;
        fetch_envelopes(&ours, &tls, 1, 1_000).await;
        let before = tree_cpu(dovecot);
        let theirs_imap = fetch_envelopes(&peer, &tls, RUNS, 1_000).await;
        let theirs_imap_cpu = (tree_cpu(dovecot) - before) / RUNS as f64;
        let before = cpu_seconds(op.pid);
        let ours_imap = fetch_envelopes(&ours, &tls, RUNS, 1_000).await;
        let ours_imap_cpu = (cpu_seconds(op.pid) - before) / RUNS as f64;
        let (ours_ms, theirs_ms) = (ours_imap[RUNS / 2] * 1e3, theirs_imap[RUNS / 2] * 1e3);
        println!(
            "IMAP SELECT + FETCH ENVELOPE on 1,000 messages: operator {ours_ms:.1} ms ({:.1} ms CPU), Dovecot {theirs_ms:.1} ms ({:.1} ms CPU): {:.2}× Dovecot's time, {:.2}× its CPU",
            ours_imap_cpu * 1e3,
            theirs_imap_cpu * 1e3,
            ours_ms / theirs_ms,
            ours_imap_cpu / theirs_imap_cpu
        );

        let inbox = root.path().join("postfix/mail/inbox");
        let before = tree_cpu(postfix) + tree_cpu(dovecot);
        let elapsed = submit(&peer, &tls, SENDERS, messages, Arc::new(|| {})).await;
        // Postfix delivers after it answers: count its CPU until the last message is stored.
        let t0 = Instant::now();
        while count_files(&inbox) < messages && t0.elapsed() < Duration::from_secs(120) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let theirs_cpu = (tree_cpu(postfix) + tree_cpu(dovecot) - before) / messages as f64;
        let theirs_rate = messages as f64 / elapsed;
        let before = cpu_seconds(op.pid);
        let elapsed = submit(&ours, &tls, SENDERS, messages, Arc::new(|| {})).await;
        let ours_cpu = (cpu_seconds(op.pid) - before) / messages as f64;
        let ours_rate = messages as f64 / elapsed;
        println!(
            "SMTP, {SENDERS} senders, {messages} messages: operator {ours_rate:.0} messages/s ({:.0} µs CPU each), Postfix {theirs_rate:.0} messages/s ({:.0} µs CPU each, delivery included): {:.2}× Postfix's rate, {:.2}× its CPU per message",
            ours_cpu * 1e6,
            theirs_cpu * 1e6,
            ours_rate / theirs_rate,
            ours_cpu / theirs_cpu
        );
    });
    drop(peers);
}
