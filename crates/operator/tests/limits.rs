//! The operator's limits against slow, idle and greedy clients: none of them locks other
//! clients out, and a real client's long IMAP session is not cut early. Time-based checks run
//! on tokio's paused clock: no test waits minutes.

mod support;

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use support::*;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};

async fn line<S: AsyncRead + Unpin>(r: &mut BufReader<S>) -> String {
    let mut l = String::new();
    let _ = r.read_line(&mut l).await;
    l
}

/// A client connecting from another loopback address than 127.0.0.1.
async fn connect_from(local: &str, addr: std::net::SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{local}:0").parse().expect("addr"))
        .expect("bind");
    socket.connect(addr).await.expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_loris_sockets_do_not_lock_new_clients_out() {
    let f = start().await;
    let a = f.op.addresses();
    for (addr, greeting) in [(a.psc_smtp, "220"), (a.psc_imap, "* OK")] {
        let mut held = Vec::new();
        let mut refused = 0;
        for _ in 0..520 {
            let mut r = BufReader::new(TcpStream::connect(addr).await.expect("connect"));
            let first = line(&mut r).await;
            if first.starts_with("421 4.7.0") || first.starts_with("* BYE Too many") {
                refused += 1;
                continue;
            }
            assert!(first.starts_with(greeting), "{first}");
            // A command that never ends: one byte, then silence.
            r.get_mut().write_all(b"E").await.expect("write");
            held.push(r);
        }
        assert_eq!(held.len(), 64, "one address holds 64 connections at most");
        assert_eq!(
            refused,
            520 - 64,
            "the others are told, not dropped silently"
        );
        // A client from another address is served at once.
        let mut other = BufReader::new(connect_from("127.0.0.2", addr).await);
        let first = tokio::time::timeout(Duration::from_secs(1), line(&mut other))
            .await
            .expect("greeting within 1 s");
        assert!(first.starts_with(greeting), "{first}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_command_trickled_byte_by_byte_is_cut() {
    let f = start().await;
    let mut r = BufReader::new(
        TcpStream::connect(f.op.addresses().psc_smtp)
            .await
            .expect("connect"),
    );
    assert!(line(&mut r).await.starts_with("220"));
    let started = tokio::time::Instant::now();
    // One byte every 10 s: the idle timer alone would never fire.
    let mut reply = String::new();
    for byte in b"EHLO slow-client-never-ending" {
        r.get_mut().write_all(&[*byte]).await.expect("write");
        tokio::time::advance(Duration::from_secs(10)).await;
        if let Ok(l) = tokio::time::timeout(Duration::from_millis(1), line(&mut r)).await
            && !l.is_empty()
        {
            reply = l;
            break;
        }
    }
    let elapsed = started.elapsed();
    assert!(reply.starts_with("421 4.4.2"), "{reply:?}");
    assert!(
        elapsed >= Duration::from_secs(60) && elapsed <= Duration::from_secs(80),
        "cut after {elapsed:?}, the command timeout being 60 s"
    );
}

/// A TLS client trusting the fake IGC Santé root.
fn tls_client(f: &Fixture) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(
            f.pki.root.cert.der.clone(),
        ))
        .expect("root");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[tokio::test(start_paused = true)]
async fn an_imap_idle_session_is_not_cut_before_30_minutes() {
    let f = start().await;
    let mut r = BufReader::new(
        TcpStream::connect(f.op.addresses().psc_imap)
            .await
            .expect("connect"),
    );
    line(&mut r).await;
    r.get_mut().write_all(b"a STARTTLS\r\n").await.expect("w");
    assert!(line(&mut r).await.starts_with("a OK"));
    let name = ServerName::try_from("mail-psc.operateur-fictif.mssante.fr").expect("name");
    let tls = tls_client(&f)
        .connect(name, r.into_inner())
        .await
        .expect("TLS");
    let mut s = BufReader::new(tls);
    let xoauth2 = operator::sasl::encode_base64(&operator::sasl::build_xoauth2(
        BAL_MARIE,
        &f.token(PS_MARIE),
    ));
    s.get_mut()
        .write_all(format!("b AUTHENTICATE XOAUTH2 {xoauth2}\r\nc SELECT INBOX\r\n").as_bytes())
        .await
        .expect("w");
    loop {
        let l = line(&mut s).await;
        assert!(!l.is_empty(), "closed before SELECT completed");
        if l.starts_with("c OK") {
            break;
        }
    }
    // IDLE, silent for 29 minutes (the client re-issues it then, RFC 2177).
    s.get_mut().write_all(b"d IDLE\r\n").await.expect("w");
    assert!(line(&mut s).await.starts_with('+'));
    let started = tokio::time::Instant::now();
    tokio::time::advance(Duration::from_secs(29 * 60)).await;
    s.get_mut().write_all(b"DONE\r\n").await.expect("w");
    let done = line(&mut s).await;
    assert!(
        done.starts_with("d OK"),
        "still served after 29 min: {done:?}"
    );
    // Silent again: cut only past 30 minutes.
    let silent = tokio::time::Instant::now();
    let bye = line(&mut s).await;
    assert!(bye.starts_with("* BYE"), "{bye:?}");
    assert!(
        silent.elapsed() >= Duration::from_secs(30 * 60),
        "cut after {:?} of silence (total {:?})",
        silent.elapsed(),
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_http_connections_do_not_starve_mail() {
    let f = start().await;
    let a = f.op.addresses();
    let mut idle = Vec::new();
    for _ in 0..1_100 {
        idle.push(TcpStream::connect(a.http).await.expect("connect"));
    }
    for (addr, greeting) in [(a.psc_smtp, "220"), (a.psc_imap, "* OK")] {
        let mut r = BufReader::new(TcpStream::connect(addr).await.expect("connect"));
        let first = tokio::time::timeout(Duration::from_secs(1), line(&mut r))
            .await
            .expect("greeting within 1 s");
        assert!(first.starts_with(greeting), "{first}");
    }
    drop(idle);
    // The HTTP port serves again once the idle connections are gone.
    let served = async {
        loop {
            let mut s = TcpStream::connect(a.http).await.expect("connect");
            let _ = s
                .write_all(b"GET /api/state HTTP/1.0\r\nHost: x\r\n\r\n")
                .await;
            let mut r = BufReader::new(s);
            let l = line(&mut r).await;
            if l.starts_with("HTTP/1.0 200") || l.starts_with("HTTP/1.1 200") {
                return;
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), served)
        .await
        .expect("HTTP answers again");
}
