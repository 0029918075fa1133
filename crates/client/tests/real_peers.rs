//! The reference client against real servers nobody here wrote: Debian's Dovecot (IMAP
//! STARTTLS) and Postfix (submission STARTTLS), configured by `crates/operator/benches/peers/`
//! with the operator's certificate chain and accepting the fake Pro Santé Connect's tokens
//! (Dovecot validates them locally; Postfix authenticates through Dovecot). The client checks
//! the certificate's revocation at the mock operator's OCSP responder, as it does everywhere.
//!
//! Needs root (the peers drop privileges), or `sudo -n`, and `postfix`, `dovecot-imapd`
//! (`.ci/run` installs them). Skipped otherwise, except in CI (`MSS_REQUIRE_INTEROP`), where a
//! missing package is a failure.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use client::spec::{AddressSpec, AddressType};
use client::{Account, Client, ConnectTo, Credentials, Endpoint, MessageSpec, Secret, Trust};
use operator::directory::Professional;
use operator::{Directory, Operator, OperatorConfig};

const MARIE: &str = "marie.martin@operateur-fictif.mssante.fr";
/// The issuer Dovecot's `oauth2.conf.ext` trusts, and the client ID its key folder names.
const ISSUER: &str = "https://psc.operateur-fictif.mssante.fr/auth/realms/esante-wallet";
const IMAP: &str = "127.0.0.1:30143";
const SUBMISSION: &str = "127.0.0.1:30587";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn certs() -> PathBuf {
    std::env::var_os("MSS_CERTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("certs"))
}

fn setup() -> PathBuf {
    workspace().join("crates/operator/benches/peers/setup.sh")
}

fn found(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// How to run the set-up as root: directly, through `sudo -n`, or not at all.
fn as_root() -> Option<Vec<String>> {
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    if root {
        return Some(Vec::new());
    }
    let sudo = Command::new("sudo")
        .args(["-n", "true"])
        .status()
        .is_ok_and(|s| s.success());
    sudo.then(|| vec!["sudo".to_owned(), "-n".to_owned(), "-E".to_owned()])
}

/// The peers, stopped on drop.
struct Peers {
    root: PathBuf,
    prefix: Vec<String>,
}

impl Peers {
    fn run(&self, args: &[&str]) -> bool {
        let mut command = match self.prefix.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg("bash");
                c
            }
            None => Command::new("bash"),
        };
        command
            .arg(setup())
            .arg(&self.root)
            .args(args)
            .env("MSS_CERTS_DIR", certs())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Peers {
    fn drop(&mut self) {
        self.run(&["stop"]);
    }
}

/// Waits until a foreign server accepts connections: Dovecot and Postfix daemonise before they
/// listen, and write nothing this test could wait on instead.
fn wait_for(addr: SocketAddr) {
    let t0 = Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "{addr} never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    ["new", "cur"]
        .iter()
        .flat_map(|s| {
            std::fs::read_dir(dir.join(s))
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|e| e.path())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_client_works_with_dovecot_and_postfix() {
    let installed = ["postfix", "dovecot", "doveadm"].iter().all(|t| found(t));
    if !installed {
        assert!(
            std::env::var_os("MSS_REQUIRE_INTEROP").is_none(),
            "postfix and dovecot-imapd are required (installed by .ci/run)"
        );
        eprintln!("SKIPPED: postfix and dovecot-imapd are not installed");
        return;
    }
    let Some(prefix) = as_root() else {
        eprintln!("SKIPPED: the peers need root (or sudo -n) to drop privileges");
        return;
    };
    let directory = Directory::embedded();
    let (pki, _) = pki::ensure(&certs(), &directory.pki_profile()).expect("pki");
    let pki = Arc::new(pki);

    // The mock operator answers OCSP and CRL requests about the peers' certificate (the same
    // leaf); its SMTP and IMAP are not used.
    let data = tempfile::tempdir().expect("tempdir");
    let op = Operator::start(OperatorConfig::new(
        directory.clone(),
        pki.clone(),
        data.path().into(),
    ))
    .await
    .expect("operator");

    let root = tempfile::Builder::new()
        .prefix("mss-peers-")
        .tempdir()
        .expect("tempdir");
    let peers = Peers {
        root: root.path().to_owned(),
        prefix,
    };
    assert!(peers.run(&[]), "the peers did not start");
    let (imap, submission): (SocketAddr, SocketAddr) = (
        IMAP.parse().expect("addr"),
        SUBMISSION.parse().expect("addr"),
    );
    wait_for(imap);
    wait_for(submission);

    // A token of the fake Pro Santé Connect whose preferred_username is the BAL: Dovecot's
    // username attribute.
    let psc = operator::psc::Psc::new(ISSUER.into(), &pki).expect("psc");
    let holder = Professional {
        id: MARIE.into(),
        title: Some("Dr".into()),
        first_name: "Marie".into(),
        last_name: "MARTIN".into(),
        entity: None,
    };
    let token = psc
        .issue(&holder, "bench", Duration::from_secs(600))
        .expect("token");
    let host = directory.operator.psc_host.clone();
    let http = op.addresses().http;
    let revocation = |name: &str| ConnectTo {
        host: format!("{name}.{}", directory.operator.domain),
        port: None,
        address: http.ip(),
        to_port: Some(http.port()),
    };
    let account = Account {
        address: MARIE.into(),
        display_name: "Dr Marie MARTIN".into(),
        reply_to: None,
        nil: "MSS-CLIENT/INTEROP".into(),
        smtp: Endpoint {
            host: host.clone(),
            addr: submission,
        },
        imap: Endpoint { host, addr: imap },
        credentials: Credentials::Xoauth2 {
            token: Secret(token),
        },
        trust: Trust {
            root_pem: pki.root.cert.pem.clone(),
            organisations_pem: pki.organisations.cert.pem.clone(),
        },
        connect_to: vec![revocation("ocsp"), revocation("crl")],
    };
    let client = Client::new(account).with_timeout(Duration::from_secs(10));

    // Submission to Postfix: STARTTLS, XOAUTH2 checked by Dovecot, delivered by virtual(8).
    let sent = client
        .send(&MessageSpec {
            addresses: vec![AddressSpec {
                email: "paul.durand@operateur-fictif.mssante.fr".into(),
                name: None,
                kind: AddressType::To,
            }],
            subject: "Interopérabilité Postfix".into(),
            body: "Bonjour, ceci passe par Postfix.".into(),
            ..MessageSpec::default()
        })
        .await
        .expect("Postfix accepts the submission");
    assert!(sent.reply.starts_with("250"), "{}", sent.reply);
    let id = sent.message_id.expect("Message-ID");
    let inbox = root.path().join("postfix/mail/inbox");
    let t0 = Instant::now();
    let delivered = loop {
        let hit = files_in(&inbox)
            .into_iter()
            .find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(&id)));
        if let Some(hit) = hit {
            break hit;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "Postfix never delivered {id}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = std::fs::read_to_string(&delivered).expect("delivered");
    assert!(text.contains("X-MSS-NIL: MSS-CLIENT/INTEROP"), "{text}");

    // Synchronisation with Dovecot: a message laid in Marie's Maildir comes back.
    let maildir = root.path().join("dovecot/mail").join(MARIE);
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(maildir.join(sub)).expect("maildir");
    }
    std::fs::write(
        maildir.join("new/1700000000.M1.interop"),
        "From: Dr Paul DURAND <paul.durand@operateur-fictif.mssante.fr>\r\nTo: <marie.martin@operateur-fictif.mssante.fr>\r\nSubject: Depuis Dovecot\r\nMessage-ID: <interop-dovecot@test>\r\nDate: Tue, 1 Dec 2026 10:00:00 +0100\r\n\r\nBonjour.\r\n",
    )
    .expect("message");
    let chown = {
        let mut c = match peers.prefix.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg("chown");
                c
            }
            None => Command::new("chown"),
        };
        c.args(["-R", "mail:mail"])
            .arg(root.path().join("dovecot/mail"));
        c.status().is_ok_and(|s| s.success())
    };
    assert!(chown, "chown of the Maildir");
    let fetched = client
        .fetch_inbox()
        .await
        .expect("Dovecot serves the INBOX");
    assert!(
        fetched
            .iter()
            .any(|m| m.message_id.as_deref() == Some("interop-dovecot@test")),
        "{:?}",
        fetched.iter().map(|m| &m.message_id).collect::<Vec<_>>()
    );
    // The OCSP responder was asked about the peers' certificate, once per connection.
    let lookups = op
        .journal()
        .since(0)
        .iter()
        .filter(|e| matches!(&e.kind, evidence::EventKind::OcspAnswered { .. }))
        .count();
    assert!(lookups >= 2, "{lookups} OCSP lookups");
    drop(peers);
}

/// The read receipt the reference client sends (ECO.3.1.6) is an RFC 8098 report that
/// Python's `email` package reads: `multipart/report; report-type=disposition-notification`,
/// a `message/disposition-notification` part naming the original and `displayed`.
#[test]
fn pythons_email_reads_the_read_receipt() {
    if !found("python3") {
        assert!(
            std::env::var_os("MSS_REQUIRE_INTEROP").is_none(),
            "python3 is required in CI"
        );
        return;
    }
    let original = b"From: Dr Paul DURAND <paul.durand@operateur-fictif.mssante.fr>\r\n\
        To: marie.martin@operateur-fictif.mssante.fr\r\nSubject: Compte rendu\r\n\
        Message-ID: <orig-1@operateur-fictif.mssante.fr>\r\n\
        Disposition-Notification-To: <paul.durand@operateur-fictif.mssante.fr>\r\n\r\nBonjour\r\n";
    let fetched = client::FetchedMessage {
        uid: 1,
        raw: original.to_vec(),
        message_id: Some("orig-1@operateur-fictif.mssante.fr".into()),
        subject: Some("Compte rendu".into()),
    };
    let endpoint = client::Endpoint {
        host: "h".into(),
        addr: "127.0.0.1:1".parse().expect("addr"),
    };
    let account = client::Account {
        address: "marie.martin@operateur-fictif.mssante.fr".into(),
        display_name: "Dr Marie MARTIN".into(),
        reply_to: None,
        nil: "NIL".into(),
        smtp: endpoint.clone(),
        imap: endpoint,
        credentials: client::Credentials::Xoauth2 {
            token: client::Secret("t".into()),
        },
        trust: client::Trust {
            root_pem: String::new(),
            organisations_pem: String::new(),
        },
        connect_to: Vec::new(),
    };
    let receipt = client::inbox::read_receipt(&account, &fetched, &client::Defects::new())
        .expect("composes")
        .expect("asked for");
    let script = r#"
import email, sys
m = email.message_from_bytes(sys.stdin.buffer.read())
assert m.get_content_type() == "multipart/report", m.get_content_type()
assert m.get_param("report-type") == "disposition-notification", m.get_param("report-type")
parts = [p for p in m.walk() if p.get_content_type() == "message/disposition-notification"]
assert len(parts) == 1, [p.get_content_type() for p in m.walk()]
fields = parts[0].get_payload()
text = str(fields[0]) if isinstance(fields, list) else fields
assert "Original-Message-ID: <orig-1@operateur-fictif.mssante.fr>" in text, text
assert "displayed" in text.split("Disposition:")[1], text
print("OK")
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&receipt.bytes)
        .expect("write");
    let out = child.wait_with_output().expect("python3 ran");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("OK"),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
