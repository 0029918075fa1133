//! What the operator's benchmarks share: running `mss-operator` as a child process (so only
//! its memory and CPU count), reading its memory and CPU from `/proc`, and a minimal STARTTLS +
//! XOAUTH2 client for SMTP and IMAP.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use operator::Directory;
use rustls::pki_types::ServerName;
use tokio::io::{
    AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader as TokioBufReader,
};
use tokio::net::TcpStream;

/// A TLS stream with line reading.
pub type Tls = TokioBufReader<tokio_rustls::client::TlsStream<TcpStream>>;

pub const MARIE: &str = "810000000001";
pub const PAUL: &str = "810000000002";
pub const BAL_MARIE: &str = "marie.martin@operateur-fictif.mssante.fr";
pub const BAL_PAUL: &str = "paul.durand@operateur-fictif.mssante.fr";

/// A field of `/proc/<pid>/status`, in kB.
pub fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// CPU time (user + system) of a process and its reaped children, in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<f64> = rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    // utime, stime, cutime, cstime are fields 14–17 (1-based), i.e. 11–14 after the name.
    let ticks: f64 = fields.get(11..15).map_or(0.0, |f| f.iter().sum());
    ticks / 100.0
}

/// The fake IGC Santé folder.
pub fn certs() -> PathBuf {
    std::env::var_os("MSS_CERTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../certs"))
}

/// A running `mss-operator`, killed on drop.
pub struct Child {
    pub pid: u32,
    pub smtp: SocketAddr,
    pub imap: SocketAddr,
    pub https: SocketAddr,
    process: std::process::Child,
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Starts `mss-operator` (built beside the bench) on free ports over `data`, every client
/// allowed from one address.
pub fn start_operator(data: &Path, extra: &[&str]) -> Child {
    // benches live in target/<profile>/deps; the binary in target/<profile>.
    let exe = std::env::current_exe().expect("exe");
    let binary = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join("mss-operator");
    let mut process = Command::new(binary)
        .arg("--certs")
        .arg(certs())
        .arg("--data")
        .arg(data)
        .arg("--directory")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/directory.yaml"))
        .args([
            "--psc-ip",
            "127.0.0.1",
            "--app-ip",
            "127.0.0.1",
            "--smtp-port",
            "0",
            "--imap-port",
            "0",
            "--http-port",
            "0",
            "--https-port",
            "0",
            "--dns-port",
            "0",
            "--max-connections-per-address",
            "100000",
            "--max-connections",
            "100000",
        ])
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mss-operator (build it first: cargo build --release -p operator)");
    let stderr = process.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.starts_with("prêt"))
        .expect("the operator says it is ready");
    // Keep draining its log so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let words: Vec<&str> = ready.split_whitespace().collect();
    Child {
        pid: process.id(),
        smtp: words[4].parse().expect("smtp addr"),
        imap: words[6].parse().expect("imap addr"),
        https: words[17].parse().expect("https addr"),
        process,
    }
}

/// Signs tokens like the operator's fake Pro Santé Connect (same key; `issuer` as the server
/// expects it).
pub fn psc(issuer: String) -> operator::psc::Psc {
    let directory = Directory::embedded();
    let (pki, _) = pki::ensure(&certs(), &directory.pki_profile()).expect("pki");
    operator::psc::Psc::new(issuer, &pki).expect("psc")
}

/// The operator's own issuer, naming the HTTPS port it is bound to.
pub fn operator_issuer(https: SocketAddr) -> String {
    format!(
        "https://psc.{}:{}/auth/realms/esante-wallet",
        Directory::embedded().operator.domain,
        https.port()
    )
}

/// An access token of a professional.
pub fn token(psc: &operator::psc::Psc, professional: &str) -> String {
    let directory = Directory::embedded();
    let p = directory.professional(professional).expect("professional");
    psc.issue(p, "bench", Duration::from_secs(3600))
        .expect("token")
}

/// The base64 XOAUTH2 initial response.
pub fn xoauth2(user: &str, token: &str) -> String {
    operator::sasl::encode_base64(&operator::sasl::build_xoauth2(user, token))
}

/// A client TLS configuration trusting the fake IGC Santé, TLS 1.2 (as the peers' notes ask
/// for a fair comparison).
pub fn tls() -> Arc<rustls::ClientConfig> {
    let directory = Directory::embedded();
    let (pki, _) = pki::ensure(&certs(), &directory.pki_profile()).expect("pki");
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(
            pki.root.cert.der.clone(),
        ))
        .expect("root");
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_protocol_versions(&[&rustls::version::TLS12])
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

pub async fn line<S: AsyncRead + Unpin>(r: &mut TokioBufReader<S>) -> String {
    let mut l = String::new();
    r.read_line(&mut l).await.expect("read");
    l
}

/// Reads lines until one starts with `prefix`.
pub async fn until<S: AsyncRead + AsyncWrite + Unpin>(r: &mut TokioBufReader<S>, prefix: &str) {
    loop {
        let l = line(r).await;
        assert!(!l.is_empty(), "closed while waiting for {prefix}");
        if l.starts_with(prefix) {
            return;
        }
    }
}

/// Connects and upgrades with STARTTLS (SMTP after EHLO, or IMAP).
pub async fn starttls(addr: SocketAddr, imap: bool, tls: Arc<rustls::ClientConfig>) -> Tls {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let mut r = TokioBufReader::new(tcp);
    line(&mut r).await;
    if imap {
        r.get_mut().write_all(b"a STARTTLS\r\n").await.expect("w");
        until(&mut r, "a ").await;
    } else {
        r.get_mut().write_all(b"EHLO bench\r\n").await.expect("w");
        until(&mut r, "250 ").await;
        r.get_mut().write_all(b"STARTTLS\r\n").await.expect("w");
        line(&mut r).await;
    }
    let name = ServerName::try_from("mail-psc.operateur-fictif.mssante.fr").expect("name");
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect(name, r.into_inner())
        .await
        .expect("tls");
    TokioBufReader::new(stream)
}

/// An authenticated IMAP session.
pub async fn imap_login(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    user: &str,
    token: &str,
) -> Tls {
    let mut s = starttls(addr, true, tls).await;
    s.get_mut()
        .write_all(format!("b AUTHENTICATE XOAUTH2 {}\r\n", xoauth2(user, token)).as_bytes())
        .await
        .expect("w");
    until(&mut s, "b OK").await;
    s
}

/// An authenticated SMTP session, after EHLO.
pub async fn smtp_login(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    user: &str,
    token: &str,
) -> Tls {
    let mut s = starttls(addr, false, tls).await;
    s.get_mut().write_all(b"EHLO bench\r\n").await.expect("w");
    until(&mut s, "250 ").await;
    s.get_mut()
        .write_all(format!("AUTH XOAUTH2 {}\r\n", xoauth2(user, token)).as_bytes())
        .await
        .expect("w");
    until(&mut s, "235").await;
    s
}

/// Writes `count` messages of about `size` bytes into a Maildir `cur/` folder, as the
/// operator names them (`,U=<uid>`), with a uidlist; returns nothing, panics on failure.
pub fn fill_maildir(dir: &Path, count: u32, size: usize, operator_layout: bool) {
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(dir.join(sub)).expect("mkdir");
    }
    let body_line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n";
    for uid in 1..=count {
        let mut m = format!(
            "Return-Path: <{BAL_MARIE}>\r\nFrom: Dr Marie MARTIN <{BAL_MARIE}>\r\nTo: Dr Paul DURAND <{BAL_PAUL}>\r\nSubject: Compte rendu {uid}\r\nDate: Tue, 3 Nov 2026 10:00:00 +0100\r\nMessage-ID: <bench-{uid}@lps>\r\nX-MSS-NIL: {uid}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        );
        while m.len() < size {
            m.push_str(body_line);
        }
        let name = if operator_layout {
            format!("1700000000.M{uid}.bench,U={uid}:2,")
        } else {
            format!("1700000000.M{uid}.bench:2,")
        };
        std::fs::write(dir.join("cur").join(name), m).expect("write");
    }
    if operator_layout {
        std::fs::write(
            dir.join("uidlist.json"),
            format!(r#"{{"uid_validity":1,"uid_next":{}}}"#, count + 1),
        )
        .expect("uidlist");
    }
}

/// CPU time of a process and of its living descendants (each with its reaped children), in
/// seconds: the whole of a multi-process server like Postfix or Dovecot.
pub fn tree_cpu(root: u32) -> f64 {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        parents.push((pid, ppid));
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        i += 1;
    }
    tree.into_iter().map(cpu_seconds).sum()
}

/// Where a benchmark's client goes, and as whom (XOAUTH2).
#[derive(Debug, Clone)]
pub struct Target {
    pub smtp: SocketAddr,
    pub imap: SocketAddr,
    pub user: String,
    pub token: String,
}

/// `senders` concurrent SMTP sessions share `messages` submissions of 2 KB from Marie to
/// Paul; `every_thousand` runs after each thousandth. Returns the wall time in seconds.
pub async fn submit(
    target: &Target,
    tls: &Arc<rustls::ClientConfig>,
    senders: usize,
    messages: usize,
    every_thousand: Arc<dyn Fn() + Send + Sync>,
) -> f64 {
    let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut sessions = Vec::new();
    for _ in 0..senders {
        sessions.push(smtp_login(target.smtp, tls.clone(), &target.user, &target.token).await);
    }
    let t0 = std::time::Instant::now();
    let mut tasks = Vec::new();
    for (n, mut s) in sessions.into_iter().enumerate() {
        let share = messages / senders + usize::from(n < messages % senders);
        let (done, every_thousand) = (done.clone(), every_thousand.clone());
        tasks.push(tokio::spawn(async move {
            let body = "x".repeat(76);
            for i in 0..share {
                let envelope = format!("MAIL FROM:<{BAL_MARIE}>\r\nRCPT TO:<{BAL_PAUL}>\r\nDATA\r\n");
                s.get_mut().write_all(envelope.as_bytes()).await.expect("w");
                until(&mut s, "354").await;
                let mut m = format!(
                    "From: <{BAL_MARIE}>\r\nTo: <{BAL_PAUL}>\r\nSubject: charge {n}-{i}\r\nMessage-ID: <load-{n}-{i}-{}@bench>\r\n\r\n",
                    t0.elapsed().as_nanos()
                );
                for _ in 0..25 {
                    m.push_str(&body);
                    m.push_str("\r\n");
                }
                m.push_str(".\r\n");
                s.get_mut().write_all(m.as_bytes()).await.expect("w");
                until(&mut s, "250").await;
                if done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 1_000 == 999 {
                    every_thousand();
                }
            }
            s.get_mut().write_all(b"QUIT\r\n").await.expect("w");
        }));
    }
    for t in tasks {
        t.await.expect("sender");
    }
    t0.elapsed().as_secs_f64()
}

/// `runs` times: connect + STARTTLS + XOAUTH2 + SELECT INBOX + `FETCH 1:* (UID FLAGS
/// RFC822.SIZE ENVELOPE)`, checking that `expected` messages came. Wall times, sorted.
pub async fn fetch_envelopes(
    target: &Target,
    tls: &Arc<rustls::ClientConfig>,
    runs: usize,
    expected: usize,
) -> Vec<f64> {
    let mut walls = Vec::new();
    for _ in 0..runs {
        let t0 = std::time::Instant::now();
        let mut s = imap_login(target.imap, tls.clone(), &target.user, &target.token).await;
        s.get_mut()
            .write_all(b"s SELECT INBOX\r\nf FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)\r\n")
            .await
            .expect("w");
        let mut fetched = 0;
        loop {
            let l = line(&mut s).await;
            assert!(!l.is_empty(), "closed during FETCH");
            if l.starts_with("* ") && l.contains(" FETCH ") {
                fetched += 1;
            }
            if l.starts_with("f ") {
                assert!(l.starts_with("f OK"), "{l}");
                break;
            }
        }
        assert_eq!(fetched, expected);
        walls.push(t0.elapsed().as_secs_f64());
        s.get_mut().write_all(b"l LOGOUT\r\n").await.expect("w");
    }
    walls.sort_by(f64::total_cmp);
    walls
}
