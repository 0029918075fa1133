//! Memory of the operator process (`mss-operator`, run as a child so only its memory counts):
//! with 100 idle authenticated IMAP sessions inside TLS, and at the peak of a 25 MB DATA.
//!
//! `cargo bench -p operator --bench memory` (release) or `--profile dev`.

use std::io::{BufRead, BufReader};
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

fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn binary() -> PathBuf {
    // benches live in target/<profile>/deps; the binary in target/<profile>.
    let exe = std::env::current_exe().expect("exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    dir.join("mss-operator")
}

async fn line<S: AsyncRead + Unpin>(r: &mut TokioBufReader<S>) -> String {
    let mut l = String::new();
    r.read_line(&mut l).await.expect("read");
    l
}

async fn starttls(
    addr: std::net::SocketAddr,
    imap: bool,
    tls: Arc<rustls::ClientConfig>,
) -> TokioBufReader<tokio_rustls::client::TlsStream<TcpStream>> {
    let mut r = TokioBufReader::new(TcpStream::connect(addr).await.expect("connect"));
    line(&mut r).await;
    if imap {
        r.get_mut().write_all(b"a STARTTLS\r\n").await.expect("w");
        line(&mut r).await;
    } else {
        r.get_mut().write_all(b"EHLO bench\r\n").await.expect("w");
        loop {
            let l = line(&mut r).await;
            if l.as_bytes().get(3) == Some(&b' ') {
                break;
            }
        }
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

async fn until<S: AsyncRead + AsyncWrite + Unpin>(r: &mut TokioBufReader<S>, prefix: &str) {
    loop {
        let l = line(r).await;
        assert!(!l.is_empty(), "closed while waiting for {prefix}");
        if l.starts_with(prefix) {
            return;
        }
    }
}

fn main() {
    let certs = std::env::var_os("MSS_CERTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../certs"));
    let directory = Directory::embedded();
    let (pki, _) = pki::ensure(&certs, &directory.pki_profile()).expect("pki");
    let data = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(binary())
        .args(["--certs"])
        .arg(&certs)
        .arg("--data")
        .arg(data.path())
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
            // Every client of the bench comes from one address.
            "--max-connections-per-address",
            "100000",
            "--max-connections",
            "100000",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mss-operator (build it first: cargo build -p operator)");
    let pid = child.id();
    // The operator goes with the bench, even when the bench fails.
    struct Reap(std::process::Child);
    impl Drop for Reap {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stderr = child.stderr.take().expect("stderr");
    let _reap = Reap(child);
    let mut ready = String::new();
    for l in BufReader::new(stderr).lines() {
        let l = l.expect("line");
        if l.starts_with("prêt") {
            ready = l;
            break;
        }
    }
    let words: Vec<&str> = ready.split_whitespace().collect();
    let smtp: std::net::SocketAddr = words[4].parse().expect("smtp addr");
    let imap: std::net::SocketAddr = words[6].parse().expect("imap addr");
    let https: std::net::SocketAddr = words[17].parse().expect("https addr");

    // The operator's issuer names the HTTPS port it is bound to.
    let issuer = format!(
        "https://psc.{}:{}/auth/realms/esante-wallet",
        directory.operator.domain,
        https.port()
    );
    let psc = operator::psc::Psc::new(issuer, &pki).expect("psc");
    let marie = directory.professional("810000000001").expect("ps").clone();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(
            pki.root.cert.der.clone(),
        ))
        .expect("root");
    let tls = Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth(),
    );
    let xoauth2 = |token: &str| {
        operator::sasl::encode_base64(&operator::sasl::build_xoauth2(
            "marie.martin@operateur-fictif.mssante.fr",
            token,
        ))
    };

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
