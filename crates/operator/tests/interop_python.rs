//! Python's standard `smtplib` and `imaplib` (code nobody here wrote) against the operator: the
//! Pro Santé Connect entry point with XOAUTH2, the application entry point with a client
//! certificate and PLAIN.

mod support;

use operator::journal::{AuthVerdict, EventKind};
use support::*;

const SMTP_XOAUTH2: &str = r#"
import smtplib, ssl, sys
host, port, cafile, user, token, rcpt = sys.argv[1:7]
ctx = ssl.create_default_context(cafile=cafile)
s = smtplib.SMTP(host, int(port), local_hostname="python-lps")
s.ehlo()
assert not s.has_extn("auth"), "AUTH must not be offered in clear"
s.starttls(context=ctx)
s.ehlo()
assert "XOAUTH2" in s.esmtp_features["auth"], s.esmtp_features
s.auth("XOAUTH2", lambda challenge=None: "user=%s\x01auth=Bearer %s\x01\x01" % (user, token))
msg = "From: Dr Marie MARTIN <%s>\r\nTo: <%s>\r\nSubject: python smtplib\r\nMessage-ID: <py-1@lps>\r\nX-MSS-NIL: PY-1\r\n\r\nBonjour\r\n" % (user, rcpt)
s.sendmail(user, [rcpt], msg.encode())
s.quit()
print("SENT")
"#;

const IMAP_XOAUTH2: &str = r#"
import imaplib, ssl, sys
host, port, cafile, user, token = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=cafile)
m = imaplib.IMAP4(host, int(port))
assert "STARTTLS" in m.capabilities, m.capabilities
m.starttls(ssl_context=ctx)
assert "AUTH=XOAUTH2" in m.capabilities, m.capabilities
m.authenticate("XOAUTH2", lambda challenge: ("user=%s\x01auth=Bearer %s\x01\x01" % (user, token)).encode())
typ, data = m.list()
assert typ == "OK" and any(b"INBOX" in d for d in data), data
typ, data = m.select("INBOX")
assert typ == "OK" and data[0] == b"1", data
typ, data = m.fetch("1", "(UID RFC822)")
assert typ == "OK" and b"Message-ID: <delivered-1@harness>" in data[0][1], data
m.logout()
print("FETCHED")
"#;

const APP_CERT: &str = r#"
import imaplib, smtplib, ssl, sys
host, smtp_port, imap_port, cafile, chain, key, user, rcpt = sys.argv[1:9]
ctx = ssl.create_default_context(cafile=cafile)
ctx.load_cert_chain(chain, key)
s = smtplib.SMTP(host, int(smtp_port), local_hostname="python-app")
s.starttls(context=ctx)
s.ehlo()
assert s.esmtp_features["auth"].strip() == "PLAIN", s.esmtp_features
s.login(user, "ignored")
s.sendmail(user, [rcpt], ("From: Biologie <%s>\r\nTo: <%s>\r\nSubject: app\r\n\r\nRésultat\r\n" % (user, rcpt)).encode())
s.quit()
m = imaplib.IMAP4(host, int(imap_port))
m.starttls(ssl_context=ctx)
m.authenticate("PLAIN", lambda challenge: ("\0%s\0x" % user).encode())
typ, data = m.select("INBOX")
assert typ == "OK", data
m.logout()
print("APP OK")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtplib_submits_with_xoauth2() {
    if !have("python3") {
        return;
    }
    let f = start().await;
    let addr = f.op.addresses().psc_smtp;
    let out = python(
        &f,
        SMTP_XOAUTH2,
        addr,
        BAL_MARIE,
        f.token(PS_MARIE),
        &[BAL_PAUL],
    )
    .await;
    assert!(out.ok && out.stdout.contains("SENT"), "{}", out.all());
    let journal = f.op.journal().snapshot();
    let accepted = journal
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::MessageAccepted {
                delivered_to,
                message_id,
                ..
            } => Some((delivered_to.clone(), message_id.clone())),
            _ => None,
        })
        .expect("message accepted");
    assert_eq!(accepted.0, vec![BAL_PAUL.to_owned()]);
    assert_eq!(accepted.1.as_deref(), Some("py-1@lps"));
    assert!(journal.iter().any(|e| matches!(
        &e.kind,
        EventKind::Auth {
            verdict: AuthVerdict::Accepted,
            format_ok: true,
            tls: true,
            ..
        }
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imaplib_fetches_with_xoauth2_continuation() {
    if !have("python3") {
        return;
    }
    let f = start().await;
    f.op.deliver(
        BAL_MARIE,
        b"From: <x@y.mssante.fr>\r\nMessage-ID: <delivered-1@harness>\r\nSubject: s\r\n\r\nb\r\n",
    )
    .expect("deliver");
    let addr = f.op.addresses().psc_imap;
    let out = python(&f, IMAP_XOAUTH2, addr, BAL_MARIE, f.token(PS_MARIE), &[]).await;
    assert!(out.ok && out.stdout.contains("FETCHED"), "{}", out.all());
    assert!(f.op.journal().snapshot().iter().any(|e| matches!(
        &e.kind,
        EventKind::MessageFetched { body: true, message_id: Some(id), .. } if id == "delivered-1@harness"
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_application_client_with_certificate_and_plain() {
    if !have("python3") {
        return;
    }
    let f = start().await;
    let (chain, key) = f.client_files(APP_STRUCTURE);
    let a = f.op.addresses();
    let out = run(
        "python3",
        vec![
            "-c".into(),
            APP_CERT.into(),
            a.app_smtp.ip().to_string(),
            a.app_smtp.port().to_string(),
            a.app_imap.port().to_string(),
            s(&f.root()),
            s(&chain),
            s(&key),
            BAL_APP.into(),
            BAL_MARIE.into(),
        ],
        None,
    )
    .await;
    assert!(out.ok && out.stdout.contains("APP OK"), "{}", out.all());
    let established = f
        .op
        .journal()
        .snapshot()
        .iter()
        .filter(|e| matches!(
            &e.kind,
            EventKind::TlsEstablished { client_certificate: Some(c), .. }
                if c.rejected.is_none() && c.summary.subject_ou == vec![APP_STRUCTURE.to_owned()]
        ))
        .count();
    assert_eq!(
        established, 2,
        "SMTP and IMAP both presented the ORG AUTH_CLI certificate"
    );
}

const RETRY: &str = r#"
import smtplib, ssl, sys
host, port, cafile, user, token = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=cafile)
for attempt in (1, 2):
    s = smtplib.SMTP(host, int(port))
    s.starttls(context=ctx)
    try:
        s.auth("XOAUTH2", lambda challenge=None: "user=%s\x01auth=Bearer %s\x01\x01" % (user, token))
    except smtplib.SMTPAuthenticationError as e:
        print("REFUSED", e.smtp_code)
    s.quit()
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_retrying_a_refused_token_is_flagged() {
    if !have("python3") {
        return;
    }
    let f = start().await;
    let addr = f.op.addresses().psc_smtp;
    // Paul's token does not open Marie's BAL; the client insists.
    let out = python(&f, RETRY, addr, BAL_MARIE, f.token(PS_PAUL), &[]).await;
    assert_eq!(
        out.stdout.matches("REFUSED 535").count(),
        2,
        "{}",
        out.all()
    );
    let flags: Vec<bool> =
        f.op.journal()
            .snapshot()
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Auth {
                    retried_refused_token,
                    verdict: AuthVerdict::Refused,
                    ..
                } => Some(*retried_refused_token),
                _ => None,
            })
            .collect();
    assert_eq!(flags, vec![false, true]);
}

const DSN: &str = r#"
import imaplib, smtplib, ssl, sys, email
host, smtp_port, imap_port, cafile, user, token, rcpt = sys.argv[1:8]
ctx = ssl.create_default_context(cafile=cafile)
auth = lambda challenge=None: "user=%s\x01auth=Bearer %s\x01\x01" % (user, token)
s = smtplib.SMTP(host, int(smtp_port))
s.starttls(context=ctx)
s.ehlo()
assert s.has_extn("dsn"), s.esmtp_features
s.auth("XOAUTH2", auth)
s.sendmail(user, [rcpt], b"Subject: avec DSN\r\nMessage-ID: <dsn-1@lps>\r\n\r\ncorps\r\n",
           mail_options=["RET=HDRS", "ENVID=ENV-PY-1"],
           rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;" + rcpt])
s.quit()
m = imaplib.IMAP4(host, int(imap_port))
m.starttls(ssl_context=ctx)
m.authenticate("XOAUTH2", lambda c: auth().encode())
typ, data = m.select("INBOX")
assert data[0] == b"1", data
typ, data = m.fetch("1", "(RFC822)")
report = email.message_from_bytes(data[0][1])
assert report.get_content_type() == "multipart/report", report.get_content_type()
assert report.get_param("report-type") == "delivery-status"
status = [p for p in report.walk() if p.get_content_type() == "message/delivery-status"][0]
text = str(status)
for f in ("Original-Envelope-Id: ENV-PY-1", "Final-Recipient: rfc822; " + rcpt, "Action: delivered", "Status: 2.0.0"):
    assert f in text, (f, text)
m.logout()
print("DSN OK")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtplib_gets_a_delivery_status_notification() {
    if !have("python3") {
        return;
    }
    let f = start().await;
    let a = f.op.addresses();
    let out = run(
        "python3",
        vec![
            "-c".into(),
            DSN.into(),
            "127.0.0.1".into(),
            a.psc_smtp.port().to_string(),
            a.psc_imap.port().to_string(),
            s(&f.root()),
            BAL_MARIE.into(),
            f.token(PS_MARIE),
            BAL_PAUL.into(),
        ],
        None,
    )
    .await;
    assert!(out.ok && out.stdout.contains("DSN OK"), "{}", out.all());
    assert!(f.op.journal().snapshot().iter().any(|e| matches!(
        &e.kind,
        EventKind::DsnSent { to, recipients } if to == BAL_MARIE && recipients == &vec![BAL_PAUL.to_owned()]
    )));
}

const FOREIGN_FROM: &str = r#"
import smtplib, ssl, sys
host, port, cafile, user, token, rcpt = sys.argv[1:7]
ctx = ssl.create_default_context(cafile=cafile)
s = smtplib.SMTP(host, int(port), local_hostname="python-lps")
s.starttls(context=ctx)
s.auth("XOAUTH2", lambda challenge=None: "user=%s\x01auth=Bearer %s\x01\x01" % (user, token))
for sender, frm in ((user, rcpt), ("", rcpt), (user, "Dr M. <%s>" % user.upper())):
    msg = "From: %s\r\nTo: <%s>\r\nSubject: from\r\n\r\nBonjour\r\n" % (frm, rcpt)
    try:
        s.sendmail(sender, [rcpt], msg.encode())
        print("ACCEPTED")
    except smtplib.SMTPDataError as e:
        print("REFUSED", e.smtp_code)
s.quit()
"#;

/// A `From:` naming another BAL (with a real or a null reverse-path) is refused like a real
/// operator does, and journaled; the owner's address in another case is the same mailbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_from_naming_another_mailbox_is_refused_and_journaled() {
    if !have("python3") {
        return;
    }
    let f = start().await;
    let addr = f.op.addresses().psc_smtp;
    let out = python(
        &f,
        FOREIGN_FROM,
        addr,
        BAL_MARIE,
        f.token(PS_MARIE),
        &[BAL_PAUL],
    )
    .await;
    assert!(out.ok, "{}", out.all());
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines,
        ["REFUSED 550", "REFUSED 550", "ACCEPTED"],
        "{}",
        out.all()
    );
    let journal = f.op.journal().snapshot();
    let mismatches: Vec<(String, bool)> = journal
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::FromNotOwned {
                mail_from, refused, ..
            } => Some((mail_from.clone(), *refused)),
            _ => None,
        })
        .collect();
    assert_eq!(
        mismatches,
        [(BAL_MARIE.to_owned(), true), (String::new(), true)]
    );
    let accepted = journal
        .iter()
        .filter(|e| matches!(e.kind, EventKind::MessageAccepted { .. }))
        .count();
    assert_eq!(
        accepted, 1,
        "only the message from the owner's BAL is accepted"
    );
}

/// With the policy off, the same messages are accepted and the mismatch is still evidence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_from_policy_can_be_switched_off_and_still_journals() {
    if !have("python3") {
        return;
    }
    let f = start_with(|c| c.policy.from_must_be_authenticated_bal = false).await;
    let addr = f.op.addresses().psc_smtp;
    let out = python(
        &f,
        FOREIGN_FROM,
        addr,
        BAL_MARIE,
        f.token(PS_MARIE),
        &[BAL_PAUL],
    )
    .await;
    assert_eq!(out.stdout.matches("ACCEPTED").count(), 3, "{}", out.all());
    let journaled =
        f.op.journal()
            .snapshot()
            .iter()
            .filter(|e| matches!(e.kind, EventKind::FromNotOwned { refused: false, .. }))
            .count();
    assert_eq!(journaled, 2);
}

/// Mon espace santé behind the operator: a message to a patient whose space is closed comes
/// back to the professional as « Message non distribué », one to an open space is delivered
/// with the sender label the patient sees; both journaled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_to_patients_reach_mon_espace_sante() {
    if !have("python3") {
        return;
    }
    let f = start().await;
    let addr = f.op.addresses().psc_smtp;
    for patient in [
        "184036912345658@patient.mssante.fr",
        "278117511504249@patient.mssante.fr",
    ] {
        let out = python(
            &f,
            SMTP_XOAUTH2,
            addr,
            BAL_MARIE,
            f.token(PS_MARIE),
            &[patient],
        )
        .await;
        assert!(out.ok && out.stdout.contains("SENT"), "{}", out.all());
    }
    let received: Vec<(String, String, bool)> =
        f.op.journal()
            .snapshot()
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::MesReceived {
                    to,
                    outcome,
                    answered,
                    ..
                } => Some((to.clone(), outcome.clone(), *answered)),
                _ => None,
            })
            .collect();
    assert_eq!(received.len(), 2, "{received:?}");
    assert!(
        received[0].1.contains("clôturée") && received[0].2,
        "{received:?}"
    );
    assert!(
        received[1].1.contains("« Dr Marie MARTIN »") && !received[1].2,
        "{received:?}"
    );
    if !have("curl") {
        return;
    }
    // The patient replies through the control API: the reply reaches Marie's BAL.
    let api = format!("http://127.0.0.1:{}/api/mes", f.op.addresses().http.port());
    let curl = |method: &str, path: &str, body: &str| {
        let args = [
            "-s",
            "-w",
            "\n%{http_code}",
            "-X",
            method,
            "-H",
            "Content-Type: application/json",
            "-d",
            body,
            &format!("{api}/{path}"),
        ]
        .map(str::to_owned)
        .to_vec();
        run("curl", args, None)
    };
    let out = curl(
        "POST",
        "reply",
        r#"{"ins":"278117511504249","messageId":"py-1@lps","text":"Merci"}"#,
    )
    .await;
    assert!(out.stdout.ends_with("200"), "{}", out.all());
    assert!(out.stdout.contains(BAL_MARIE), "{}", out.all());
    let out = curl("PUT", "state", r#"{"ins":"000","state":"closed"}"#).await;
    assert!(out.stdout.ends_with("404"), "{}", out.all());
    let out = curl("POST", "open", r#"{"ins":"278117511504249"}"#).await;
    assert!(out.stdout.ends_with("400"), "{}", out.all());
    assert!(f.op.journal().snapshot().iter().any(|e| matches!(
        &e.kind,
        EventKind::MesPatient { action, sent_to: Some(to), .. } if action == "reply" && to == BAL_MARIE
    )));
}
