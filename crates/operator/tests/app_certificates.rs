//! The application entry point refuses every ORG AUTH_CLI certificate that is not right, with a
//! clear reply and the reason in the journal: absent, expired, not yet valid, revoked, from
//! another IGC Santé range, from a foreign CA, of another structure. Driven by Python's ssl and
//! imaplib (a client nobody here wrote).

mod support;

use std::time::Duration;

use operator::journal::{AuthVerdict, EventKind};
use pki::hostile::Flaw;
use support::*;

const IMAP_PLAIN: &str = r#"
import imaplib, ssl, sys
host, port, cafile, user = sys.argv[1:5]
chain = sys.argv[5] if len(sys.argv) > 5 else None
key = sys.argv[6] if len(sys.argv) > 6 else None
ctx = ssl.create_default_context(cafile=cafile)
if chain:
    ctx.load_cert_chain(chain, key)
m = imaplib.IMAP4(host, int(port))
m.starttls(ssl_context=ctx)
try:
    m.authenticate("PLAIN", lambda challenge: ("\0%s\0x" % user).encode())
    print("ACCEPTED")
except imaplib.IMAP4.error as e:
    print("REFUSED", e)
"#;

async fn attempt(
    f: &Fixture,
    user: &str,
    credential: Option<&pki::Credential>,
) -> (String, String) {
    let port = f.op.addresses().app_imap.port();
    let mut args = vec![
        "-c".to_owned(),
        IMAP_PLAIN.to_owned(),
        "127.0.0.1".to_owned(),
        port.to_string(),
        s(&f.root()),
        user.to_owned(),
    ];
    if let Some(c) = credential {
        let name = uuid_like(&c.cert.der);
        let chain = f.data.path().join(format!("{name}.chain.pem"));
        let key = f.data.path().join(format!("{name}.key.pem"));
        std::fs::write(&chain, c.chain_pem()).expect("chain");
        std::fs::write(&key, c.key.expose()).expect("key");
        args.push(s(&chain));
        args.push(s(&key));
    }
    let mark = f.op.journal().len() as u64;
    let out = run("python3", args, None).await;
    assert!(out.ok, "{}", out.all());
    let event =
        f.op.journal()
            .wait_for(mark, Duration::from_secs(5), |e| {
                matches!(e.kind, EventKind::Auth { .. })
            })
            .await
            .expect("auth journaled");
    let reason = match &event.kind {
        EventKind::Auth {
            verdict: AuthVerdict::Refused,
            reason,
            ..
        } => reason.clone().unwrap_or_default(),
        EventKind::Auth {
            verdict: AuthVerdict::Accepted,
            ..
        } => "accepted".to_owned(),
        _ => unreachable!(),
    };
    (out.stdout.trim().to_owned(), reason)
}

fn uuid_like(der: &[u8]) -> String {
    der.iter()
        .rev()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_wrong_certificate_is_refused_with_its_reason() {
    if !have("python3") {
        return;
    }
    let f = start().await;
    let good = f.pki.client_for(APP_STRUCTURE).expect("good").clone();
    let (out, reason) = attempt(&f, BAL_APP, Some(&good)).await;
    assert!(out.starts_with("ACCEPTED"), "{out} / {reason}");

    let hostile = f.pki.hostile.clients.clone();
    let cases: Vec<(&str, Option<&pki::Credential>, &str, &str)> = vec![
        ("absent", None, BAL_APP, "aucun certificat client"),
        ("expiré", Some(&hostile[&Flaw::Expired]), BAL_APP, "expiré"),
        (
            "pas encore valide",
            Some(&hostile[&Flaw::NotYetValid]),
            BAL_APP,
            "pas encore valide",
        ),
        (
            "révoqué",
            Some(&hostile[&Flaw::Revoked]),
            BAL_APP,
            "révoqué",
        ),
        (
            "autre gamme",
            Some(&hostile[&Flaw::Personnes]),
            BAL_APP,
            "ELEMENTAIRE PERSONNES",
        ),
        (
            "autre AC",
            Some(&hostile[&Flaw::Commercial]),
            BAL_APP,
            "COMMERCIALE",
        ),
        (
            "autre structure",
            Some(&good),
            BAL_APP_OTHER,
            "OU du certificat",
        ),
    ];
    for (what, credential, user, expected) in cases {
        let (out, reason) = attempt(&f, user, credential).await;
        assert!(out.starts_with("REFUSED"), "{what}: {out}");
        assert!(reason.contains(expected), "{what}: {reason}");
    }
}
