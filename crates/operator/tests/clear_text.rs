//! RFC-style transcripts of the clear-text phase: nothing but EHLO/CAPABILITY and STARTTLS is
//! served before TLS, pipelined bytes after STARTTLS are discarded, bad input gets an error reply.

mod support;

use std::time::Duration;

use operator::journal::{ClosedBy, EventKind};
use support::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    async fn connect(addr: std::net::SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect");
        Client {
            reader: BufReader::new(stream),
        }
    }

    async fn line(&mut self) -> String {
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(5), self.reader.read_line(&mut line))
            .await
            .expect("reply in time")
            .expect("read");
        line
    }

    /// Reads an SMTP reply (all its lines).
    async fn smtp_reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let line = self.line().await;
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return all;
            }
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).await.expect("write");
    }
}

#[tokio::test]
async fn smtp_refuses_auth_and_mail_before_starttls() {
    let f = start().await;
    let mut c = Client::connect(f.op.addresses().psc_smtp).await;
    assert!(c.smtp_reply().await.starts_with("220 "));
    c.send(b"EHLO lps\r\n").await;
    let ehlo = c.smtp_reply().await;
    assert!(
        ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"),
        "{ehlo}"
    );
    c.send(b"AUTH XOAUTH2 dXNlcj1hAWF1dGg9QmVhcmVyIHQBAQ==\r\n")
        .await;
    assert!(c.smtp_reply().await.starts_with("530 5.7.0"));
    c.send(b"MAIL FROM:<marie.martin@operateur-fictif.mssante.fr>\r\n")
        .await;
    assert!(c.smtp_reply().await.starts_with("530 5.7.0"));
    c.send(b"BOGUS\r\n").await;
    assert!(c.smtp_reply().await.starts_with("500 5.5.1"));
    // A client that goes on with its SASL exchange after the refusal: the line is masked.
    c.send(b"AUTH LOGIN\r\n").await;
    assert!(c.smtp_reply().await.starts_with("530"));
    c.send(b"c2VjcmV0LXBhc3N3b3Jk\r\n").await;
    c.smtp_reply().await;
    c.send(&[b'A'; 20_000]).await;
    c.send(b"\r\n").await;
    assert!(c.smtp_reply().await.starts_with("500 5.5.6"));
    c.send(b"QUIT\r\n").await;
    assert!(c.smtp_reply().await.starts_with("221"));

    let journal = f.op.journal();
    journal
        .wait_for(0, Duration::from_secs(5), |e| {
            matches!(
                e.kind,
                EventKind::ConnectionClosed {
                    by: ClosedBy::Client,
                    ..
                }
            )
        })
        .await
        .expect("closed");
    // The AUTH attempt in clear was journaled, with its initial response masked.
    let events = journal.snapshot();
    let auth_line = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Command {
                verb,
                line,
                tls: false,
                ..
            } if verb == "AUTH" => Some(line.clone()),
            _ => None,
        })
        .expect("AUTH journaled");
    assert!(!auth_line.contains("dXNlcj1h"), "{auth_line}");
    assert!(
        events.iter().all(|e| match &e.kind {
            EventKind::Command { line, .. } => !line.contains("c2VjcmV0"),
            _ => true,
        }),
        "a stray SASL line never reaches the journal"
    );
}

#[tokio::test]
async fn bytes_pipelined_after_starttls_are_discarded() {
    let f = start().await;
    let mut c = Client::connect(f.op.addresses().psc_smtp).await;
    c.smtp_reply().await;
    c.send(b"EHLO lps\r\n").await;
    c.smtp_reply().await;
    // An attacker appends a command to STARTTLS, hoping it runs inside TLS (CVE-2011-0411).
    c.send(b"STARTTLS\r\nRSET\r\n").await;
    assert!(c.smtp_reply().await.starts_with("220 2.0.0"));
    f.op.journal()
        .wait_for(0, Duration::from_secs(5), |e| {
            matches!(e.kind, EventKind::InjectionDiscarded { bytes: 6 })
        })
        .await
        .expect("injection journaled");
}

/// Starts an IMAP STARTTLS, sends `after` right behind it, then hands the TLS layer garbage so
/// the handshake fails and the connection's events are complete.
async fn imap_starttls_followed_by(after: &[u8]) -> Vec<std::sync::Arc<operator::Event>> {
    let f = start().await;
    let mut c = Client::connect(f.op.addresses().psc_imap).await;
    c.line().await;
    let mut bytes = b"a1 STARTTLS\r\n".to_vec();
    bytes.extend_from_slice(after);
    c.send(&bytes).await;
    assert!(c.line().await.starts_with("a1 OK"));
    c.send(b"not a ClientHello\r\n").await;
    f.op.journal()
        .wait_for(0, Duration::from_secs(5), |e| {
            matches!(e.kind, EventKind::TlsFailed { .. })
        })
        .await
        .expect("handshake failure journaled");
    f.op.journal().snapshot()
}

#[tokio::test]
async fn imap_starttls_alone_is_not_an_injection() {
    let events = imap_starttls_followed_by(b"").await;
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.kind, EventKind::InjectionDiscarded { .. })),
        "{events:#?}"
    );
}

#[tokio::test]
async fn imap_bytes_pipelined_after_starttls_are_counted_exactly() {
    // A whole command and half of the next one.
    let events = imap_starttls_followed_by(b"a2 CAPABILITY\r\na3 NO").await;
    let injected: Vec<usize> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::InjectionDiscarded { bytes } => Some(bytes),
            _ => None,
        })
        .collect();
    assert_eq!(injected, [b"a2 CAPABILITY\r\na3 NO".len()]);
}

#[tokio::test]
async fn imap_refuses_authenticate_and_login_before_starttls() {
    let f = start().await;
    let mut c = Client::connect(f.op.addresses().psc_imap).await;
    let greeting = c.line().await;
    assert!(
        greeting.contains("STARTTLS") && greeting.contains("LOGINDISABLED"),
        "{greeting}"
    );
    assert!(!greeting.contains("AUTH="), "{greeting}");
    c.send(b"a1 AUTHENTICATE XOAUTH2 dXNlcj1hAWF1dGg9QmVhcmVyIHQBAQ==\r\n")
        .await;
    let reply = c.line().await;
    assert!(reply.starts_with("a1 NO [PRIVACYREQUIRED]"), "{reply}");
    c.send(b"a2 LOGIN marie secret\r\n").await;
    assert!(c.line().await.starts_with("a2 NO"));
    c.send(b"a3 SELECT INBOX\r\n").await;
    assert!(c.line().await.starts_with("a3 NO"));
    c.send(b"a4 FETCH (((\r\n").await;
    assert!(c.line().await.starts_with("a4 BAD"));
    c.send(b"\xff\xfe garbage\r\n").await;
    assert!(c.line().await.starts_with("* BAD"));
    c.send(b"dXNlcj1hAWF1dGg9QmVhcmVyIHQBAQ==\r\n").await;
    c.line().await;
    c.send(b"a5 LOGOUT\r\n").await;
    assert!(c.line().await.starts_with("* BYE"));

    let events = f.op.journal().snapshot();
    assert!(events.iter().all(|e| match &e.kind {
        EventKind::Command { line, .. } => !line.contains("secret") && !line.contains("dXNlcj1h"),
        _ => true,
    }));
}

#[tokio::test]
async fn garbage_never_takes_the_operator_down() {
    let f = start().await;
    let a = f.op.addresses();
    let payloads: [&[u8]; 6] = [
        b"\x00\x01\x02\xff\xfe\r\n\r\n\x00",
        b"a1 APPEND INBOX {999999999}\r\n",
        b"* * * {5}\r\nabcde\r\n",
        b"MAIL FROM:<\x00@x>\r\nRCPT TO:<>\r\nDATA\r\n",
        &[b'\n'; 10_000],
        b"STARTTLS\r\nthis is not a TLS ClientHello at all\r\n",
    ];
    for addr in [a.psc_smtp, a.psc_imap, a.app_smtp, a.app_imap] {
        for payload in payloads {
            let mut c = Client::connect(addr).await;
            let _ = c.line().await;
            c.send(payload).await;
            // Read whatever comes back until the operator answers or closes.
            let _ = tokio::time::timeout(Duration::from_millis(200), c.line()).await;
        }
        // The listener still serves a well-behaved client.
        let mut c = Client::connect(addr).await;
        let greeting = c.line().await;
        assert!(
            greeting.starts_with("220 ") || greeting.starts_with("* OK"),
            "{addr}: {greeting}"
        );
    }
    // A STARTTLS followed by half a TLS record then a hang-up is a journaled handshake
    // failure, not a crash.
    let mut c = Client::connect(a.psc_smtp).await;
    c.smtp_reply().await;
    c.send(b"STARTTLS\r\n").await;
    assert!(c.smtp_reply().await.starts_with("220 2.0.0"));
    let mark = f.op.journal().len() as u64;
    c.send(b"\x16\x03\x01\x00\x05hello").await;
    drop(c);
    let failed =
        f.op.journal()
            .wait_for(mark, Duration::from_secs(5), |e| {
                matches!(e.kind, EventKind::TlsFailed { .. })
            })
            .await
            .expect("handshake failure journaled");
    assert!(
        matches!(&failed.kind, EventKind::TlsFailed { error } if error.contains("fermée")),
        "{failed:?}"
    );
}

#[tokio::test]
async fn before_authentication_imap_lines_and_literals_stay_small() {
    let f = start().await;
    let mut c = Client::connect(f.op.addresses().psc_imap).await;
    c.line().await;
    // A 25 MB literal offered before login: refused at once, no continuation.
    c.send(b"a1 LOGIN {26214400}\r\n").await;
    let reply = c.line().await;
    assert!(reply.starts_with("a1 BAD"), "{reply}");
    // A line that never ends: refused and the connection closed, nothing buffered.
    c.send(&[b'x'; 40 * 1024]).await;
    let reply = c.line().await;
    assert!(reply.starts_with("* BAD"), "{reply}");
    let mut rest = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let mut line = String::new();
            match c.reader.read_line(&mut line).await {
                Ok(0) | Err(_) => break,
                Ok(_) => rest.push_str(&line),
            }
        }
    })
    .await;
    assert!(rest.contains("* BYE"), "{rest}");
    f.op.journal()
        .wait_for(0, Duration::from_secs(5), |e| {
            matches!(e.kind, EventKind::ConnectionClosed { .. })
        })
        .await
        .expect("closed by the operator");
}
