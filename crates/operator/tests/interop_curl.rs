//! curl (libcurl's SMTP and IMAP, OpenSSL underneath) against the operator: XOAUTH2 with
//! `--oauth2-bearer` on the Pro Santé Connect entry point, a client certificate and PLAIN on the
//! application entry point.

mod support;

use operator::journal::{AuthVerdict, EventKind};
use support::*;

fn message(from: &str, to: &str) -> Vec<u8> {
    format!(
        "From: Dr Marie MARTIN <{from}>\r\nTo: <{to}>\r\nSubject: curl\r\nMessage-ID: <curl-1@lps>\r\nX-MSS-NIL: CURL-1\r\n\r\nBonjour\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_sends_and_lists_with_oauth2_bearer() {
    if !have("curl") {
        return;
    }
    let f = start().await;
    let a = f.op.addresses();
    let token = f.token(PS_MARIE);
    let out = run(
        "curl",
        vec![
            "-sS".into(),
            "--url".into(),
            format!("smtp://127.0.0.1:{}", a.psc_smtp.port()),
            "--ssl-reqd".into(),
            "--cacert".into(),
            s(&f.root()),
            "--mail-from".into(),
            BAL_MARIE.into(),
            "--mail-rcpt".into(),
            BAL_PAUL.into(),
            "--upload-file".into(),
            "-".into(),
            "--user".into(),
            format!("{BAL_MARIE}:"),
            "--oauth2-bearer".into(),
            token.clone(),
            "--sasl-ir".into(),
        ],
        Some(message(BAL_MARIE, BAL_PAUL)),
    )
    .await;
    assert!(out.ok, "{}", out.all());

    // Paul lists his INBOX and fetches what Marie sent.
    let paul = f.token(PS_PAUL);
    let imap = |path: &str| {
        vec![
            "-sS".into(),
            "--url".into(),
            format!("imap://127.0.0.1:{}/{path}", a.psc_imap.port()),
            "--ssl-reqd".into(),
            "--cacert".into(),
            s(&f.root()),
            "--user".into(),
            format!("{BAL_PAUL}:"),
            "--oauth2-bearer".into(),
            paul.clone(),
        ]
    };
    let out = run("curl", imap(""), None).await;
    assert!(out.ok && out.stdout.contains("INBOX"), "{}", out.all());
    let out = run("curl", imap("INBOX;UID=1"), None).await;
    assert!(
        out.ok && out.stdout.contains("Message-ID: <curl-1@lps>"),
        "{}",
        out.all()
    );
    // SEARCH (URL query), a section, and an upload (APPEND) of Paul's copy of a reply.
    let out = run("curl", imap("INBOX?SUBJECT%20curl"), None).await;
    assert!(out.ok && out.stdout.contains("* SEARCH 1"), "{}", out.all());
    let out = run("curl", imap("INBOX;UID=1;SECTION=TEXT"), None).await;
    assert!(out.ok && out.stdout.trim() == "Bonjour", "{}", out.all());
    let reply = f.data.path().join("reply.eml");
    std::fs::write(&reply, message(BAL_PAUL, BAL_MARIE)).expect("reply");
    let mut upload = imap("Sent");
    upload.extend(["-T".into(), s(&reply)]);
    let out = run("curl", upload, None).await;
    assert!(out.ok, "{}", out.all());
    assert!(f.op.journal().snapshot().iter().any(|e| matches!(
        &e.kind,
        EventKind::MessageAppended { bal, mailbox, .. } if bal == BAL_PAUL && mailbox == "Sent"
    )));

    let auths: Vec<_> =
        f.op.journal()
            .snapshot()
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Auth {
                    mechanism, verdict, ..
                } => Some((mechanism.clone(), *verdict)),
                _ => None,
            })
            .collect();
    assert_eq!(auths.len(), 6, "{auths:?}");
    assert!(
        auths
            .iter()
            .all(|(m, v)| m == "XOAUTH2" && *v == AuthVerdict::Accepted)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_with_client_certificate_and_plain() {
    if !have("curl") {
        return;
    }
    let f = start().await;
    let a = f.op.addresses();
    let (chain, key) = f.client_files(APP_STRUCTURE);
    let common = |url: String| {
        vec![
            "-sS".into(),
            "--url".into(),
            url,
            "--ssl-reqd".into(),
            "--cacert".into(),
            s(&f.root()),
            "--cert".into(),
            s(&chain),
            "--key".into(),
            s(&key),
            "--user".into(),
            format!("{BAL_APP}:x"),
            "--login-options".into(),
            "AUTH=PLAIN".into(),
        ]
    };
    let mut send = common(format!("smtp://127.0.0.1:{}", a.app_smtp.port()));
    send.extend([
        "--mail-from".into(),
        BAL_APP.into(),
        "--mail-rcpt".into(),
        BAL_MARIE.into(),
        "--upload-file".into(),
        "-".into(),
    ]);
    let out = run("curl", send, Some(message(BAL_APP, BAL_MARIE))).await;
    assert!(out.ok, "{}", out.all());
    let out = run(
        "curl",
        common(format!("imap://127.0.0.1:{}/", a.app_imap.port())),
        None,
    )
    .await;
    assert!(out.ok && out.stdout.contains("INBOX"), "{}", out.all());

    // The same certificate cannot open the BAL of another structure.
    let mut other = common(format!("imap://127.0.0.1:{}/", a.app_imap.port()));
    let user = other.iter().position(|a| a == "--user").expect("--user") + 1;
    other[user] = format!("{BAL_APP_OTHER}:x");
    let out = run("curl", other, None).await;
    assert!(!out.ok, "{}", out.all());
    assert!(f.op.journal().snapshot().iter().any(|e| matches!(
        &e.kind,
        EventKind::Auth { verdict: AuthVerdict::Refused, reason: Some(r), .. } if r.contains("OU du certificat")
    )));
}
