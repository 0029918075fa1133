//! Deterministic faults: each is switched through the handle, observed by a client, and
//! journaled.

mod support;

use std::time::{Duration, Instant};

use operator::Faults;
use operator::journal::{AuthVerdict, ClosedBy, EventKind};
use support::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

async fn line(r: &mut BufReader<TcpStream>) -> String {
    let mut l = String::new();
    tokio::time::timeout(Duration::from_secs(5), r.read_line(&mut l))
        .await
        .expect("line in time")
        .expect("read");
    l
}

#[tokio::test]
async fn sessions_end_after_the_set_time_with_bye() {
    let f = start().await;
    f.op.set_faults(Faults {
        close_after: Some(Duration::from_millis(150)),
        ..Faults::default()
    });
    let mut r = BufReader::new(
        TcpStream::connect(f.op.addresses().psc_imap)
            .await
            .expect("connect"),
    );
    assert!(line(&mut r).await.starts_with("* OK"));
    // The client stays silent: the operator ends the session on its own.
    let bye = line(&mut r).await;
    assert!(bye.starts_with("* BYE"), "{bye}");
    let closed =
        f.op.journal()
            .wait_for(0, Duration::from_secs(5), |e| {
                matches!(
                    e.kind,
                    EventKind::ConnectionClosed {
                        by: ClosedBy::Operator,
                        ..
                    }
                )
            })
            .await
            .expect("closed by the operator");
    assert!(
        matches!(&closed.kind, EventKind::ConnectionClosed { reason: Some(r), .. } if r.contains("défaut injecté"))
    );
}

#[tokio::test]
async fn sessions_end_after_the_set_number_of_commands_with_421() {
    let f = start().await;
    f.op.set_faults(Faults {
        close_after_commands: Some(2),
        ..Faults::default()
    });
    let mut r = BufReader::new(
        TcpStream::connect(f.op.addresses().psc_smtp)
            .await
            .expect("connect"),
    );
    assert!(line(&mut r).await.starts_with("220"));
    r.get_mut()
        .write_all(b"NOOP\r\nNOOP\r\n")
        .await
        .expect("write");
    assert!(line(&mut r).await.starts_with("250"));
    assert!(
        line(&mut r).await.starts_with("250"),
        "the second command is answered"
    );
    assert!(line(&mut r).await.starts_with("421 4.4.2"));
    assert!(f.op.journal().snapshot().iter().any(|e| matches!(
        &e.kind, EventKind::FaultInjected { fault } if fault.contains("2 commandes")
    )));
}

#[tokio::test]
async fn replies_are_delayed_when_slow() {
    let f = start().await;
    let mut r = BufReader::new(
        TcpStream::connect(f.op.addresses().psc_smtp)
            .await
            .expect("connect"),
    );
    line(&mut r).await;
    f.op.set_faults(Faults {
        slow_replies: Some(Duration::from_millis(300)),
        ..Faults::default()
    });
    let t0 = Instant::now();
    r.get_mut().write_all(b"NOOP\r\n").await.expect("write");
    assert!(line(&mut r).await.starts_with("250"));
    assert!(
        t0.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t0.elapsed()
    );
}

const SMTPLIB: &str = r#"
import smtplib, ssl, sys
host, port, cafile, user, token, rcpt = sys.argv[1:7]
ctx = ssl.create_default_context(cafile=cafile)
for attempt in (1, 2):
    s = smtplib.SMTP(host, int(port))
    s.starttls(context=ctx)
    try:
        s.auth("XOAUTH2", lambda challenge=None: "user=%s\x01auth=Bearer %s\x01\x01" % (user, token))
        print("AUTH%d OK" % attempt)
        try:
            s.sendmail(user, [rcpt], b"Subject: x\r\n\r\ny\r\n")
            print("SENT")
        except smtplib.SMTPRecipientsRefused as e:
            print("RCPT REFUSED", list(e.recipients.values())[0][0])
    except smtplib.SMTPAuthenticationError as e:
        print("AUTH%d REFUSED %d" % (attempt, e.smtp_code))
    s.quit()
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_auth_refused_then_recipient_refused() {
    if !have("python3") {
        return;
    }
    let f = start().await;
    f.op.set_faults(Faults {
        refuse_next_auth: 1,
        refused_recipients: [BAL_PAUL.to_owned()].into(),
        ..Faults::default()
    });
    let a = f.op.addresses().psc_smtp;
    let out = python(&f, SMTPLIB, a, BAL_MARIE, f.token(PS_MARIE), &[BAL_PAUL]).await;
    assert!(out.ok, "{}", out.all());
    assert!(out.stdout.contains("AUTH1 REFUSED 535"), "{}", out.all());
    assert!(out.stdout.contains("AUTH2 OK"), "{}", out.all());
    assert!(out.stdout.contains("RCPT REFUSED 550"), "{}", out.all());
    let refusals: Vec<String> =
        f.op.journal()
            .snapshot()
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Auth {
                    verdict: AuthVerdict::Refused,
                    reason,
                    ..
                } => reason.clone(),
                _ => None,
            })
            .collect();
    assert_eq!(refusals.len(), 1);
    assert!(refusals[0].contains("défaut injecté"));
    assert_eq!(
        f.op.faults().refuse_next_auth,
        0,
        "the refusal was consumed"
    );
}

/// `end_sessions` closes every session in progress, as a profile switch of the harness needs:
/// IMAP with `* BYE`, SMTP with `421`; new connections are served as usual.
#[tokio::test]
async fn ending_every_session_in_progress() {
    let f = start().await;
    let a = f.op.addresses();
    let mut imap = BufReader::new(TcpStream::connect(a.psc_imap).await.expect("imap"));
    let mut smtp = BufReader::new(TcpStream::connect(a.psc_smtp).await.expect("smtp"));
    assert!(line(&mut imap).await.starts_with("* OK"));
    assert!(line(&mut smtp).await.starts_with("220"));
    f.op.end_sessions("essai");
    assert!(line(&mut imap).await.starts_with("* BYE"));
    assert!(line(&mut smtp).await.starts_with("421"));
    let mut again = BufReader::new(TcpStream::connect(a.psc_smtp).await.expect("smtp"));
    assert!(line(&mut again).await.starts_with("220"));
    again.get_mut().write_all(b"NOOP\r\n").await.expect("w");
    assert!(
        line(&mut again).await.starts_with("250"),
        "a new session is not ended"
    );
    let journal = f.op.journal().snapshot();
    assert!(journal.iter().any(|e| matches!(
        &e.kind,
        EventKind::FaultInjected { fault } if fault.contains("essai")
    )));
}
