//! The reference client against the mock operator, over the wire: both families send and fetch;
//! each defect breaks exactly what it should.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use client::spec::{AddressSpec, AddressType};
use client::{
    Account, Client, ClientError, ConnectTo, Credentials, Defect, Defects, Endpoint, MessageSpec,
    Secret, Trust,
};
use operator::journal::{AuthVerdict, EventKind};
use operator::{Directory, EntryPoint, Operator, OperatorConfig, OperatorHandle, Service};

const MARIE: &str = "marie.martin@operateur-fictif.mssante.fr";
const PAUL: &str = "paul.durand@operateur-fictif.mssante.fr";
const APP: &str = "resultats-biologie@operateur-fictif.mssante.fr";

struct Fixture {
    op: OperatorHandle,
    pki: Arc<pki::Pki>,
    _data: tempfile::TempDir,
}

async fn start() -> Fixture {
    let directory = Directory::embedded();
    let certs = std::env::var_os("MSS_CERTS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../certs"));
    let (pki, _) = pki::ensure(&certs, &directory.pki_profile()).expect("pki");
    let pki = Arc::new(pki);
    let data = tempfile::tempdir().expect("tempdir");
    let op = Operator::start(OperatorConfig::new(
        directory,
        pki.clone(),
        data.path().into(),
    ))
    .await
    .expect("operator");
    Fixture {
        op,
        pki,
        _data: data,
    }
}

impl Fixture {
    fn account(&self, address: &str) -> Account {
        let op = &self.op;
        let dir = op.directory();
        let bal = dir.bal(address).expect("bal");
        let app = bal.structure.is_some() && bal.owner.is_none() && bal.reply_to.is_some();
        let entry = if app {
            EntryPoint::App
        } else {
            EntryPoint::Psc
        };
        let host = match entry {
            EntryPoint::Psc => dir.operator.psc_host.clone(),
            EntryPoint::App => dir.operator.authcli_host.clone(),
        };
        let a = op.addresses();
        let credentials = if app {
            let cred = self
                .pki
                .client_for(bal.structure.as_deref().expect("structure"))
                .expect("cert");
            Credentials::Certificate {
                chain_pem: cred.chain_pem(),
                key_pem: Secret(cred.key.expose().to_owned()),
            }
        } else {
            let token = op
                .issue_access_token(
                    bal.owner.as_deref().expect("owner"),
                    "lps-de-test",
                    Duration::from_secs(600),
                )
                .expect("token");
            Credentials::Xoauth2 {
                token: Secret(token),
            }
        };
        Account {
            address: bal.address.clone(),
            display_name: dir.display_name(bal).expect("label"),
            reply_to: bal.reply_to.clone(),
            nil: "HARNESS/REFERENCE/0.1".into(),
            smtp: Endpoint {
                host: host.clone(),
                addr: a.of(Service::Smtp, entry),
            },
            imap: Endpoint {
                host,
                addr: a.of(Service::Imap, entry),
            },
            credentials,
            trust: Trust {
                root_pem: self.pki.root.cert.pem.clone(),
                organisations_pem: self.pki.organisations.cert.pem.clone(),
            },
            connect_to: connect_to(op),
        }
    }
}

/// The operator's HTTP hosts (CRL, OCSP) and autoconfiguration host as the test binds them.
fn connect_to(op: &OperatorHandle) -> Vec<ConnectTo> {
    let a = op.addresses();
    let dir = op.directory();
    let to = |host: String, addr: std::net::SocketAddr, port: bool| ConnectTo {
        host,
        port: None,
        address: addr.ip(),
        to_port: port.then_some(addr.port()),
    };
    vec![
        to(format!("crl.{}", dir.operator.domain), a.http, true),
        to(format!("ocsp.{}", dir.operator.domain), a.http, true),
        to(dir.operator.autoconfig_host.clone(), a.https, true),
        to(dir.operator.psc_host.clone(), a.psc_smtp, false),
        to(dir.operator.authcli_host.clone(), a.app_smtp, false),
    ]
}

fn message(to: &str) -> MessageSpec {
    MessageSpec {
        addresses: vec![AddressSpec {
            email: to.into(),
            name: None,
            kind: AddressType::To,
        }],
        subject: "Résultats d'analyse".into(),
        body: "Bonjour, ci-joint les résultats.".into(),
        ..MessageSpec::default()
    }
}

#[tokio::test]
async fn personal_bal_sends_and_the_recipient_fetches() {
    let f = start().await;
    let sent = Client::new(f.account(MARIE))
        .send(&message(PAUL))
        .await
        .expect("send");
    assert!(sent.reply.starts_with("250"), "{}", sent.reply);
    let inbox = Client::new(f.account(PAUL))
        .fetch_inbox()
        .await
        .expect("fetch");
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].message_id, sent.message_id);
    assert_eq!(inbox[0].subject.as_deref(), Some("Résultats d'analyse"));
    assert_eq!(inbox[0].raw, sent.bytes, "delivered byte for byte");
}

#[tokio::test]
async fn application_bal_sends_and_fetches_with_its_certificate() {
    let f = start().await;
    let client = Client::new(f.account(APP));
    client.send(&message(MARIE)).await.expect("send");
    f.op.deliver(APP, b"Message-ID: <to-app@x>\r\nSubject: a\r\n\r\nb\r\n")
        .expect("deliver");
    let inbox = client.fetch_inbox().await.expect("fetch");
    assert_eq!(inbox[0].message_id.as_deref(), Some("to-app@x"));
    let auths = f.op.journal().snapshot().iter().filter(|e| matches!(
        &e.kind,
        EventKind::Auth { mechanism, verdict: AuthVerdict::Accepted, .. } if mechanism == "PLAIN"
    )).count();
    assert_eq!(auths, 2);
}

#[tokio::test]
async fn defects_break_what_they_should() {
    let f = start().await;
    let with =
        |address: &str, d: Defect| Client::new(f.account(address)).with_defects(Defects::from([d]));

    // AUTH in clear is refused but the sloppy client still gets its message through: only the
    // journal shows the leak.
    with(MARIE, Defect::SmtpAuthInClear)
        .send(&message(PAUL))
        .await
        .expect("still sent");
    assert!(f.op.journal().snapshot().iter().any(|e| matches!(
        &e.kind,
        EventKind::Command { verb, tls: false, .. } if verb == "AUTH"
    )));

    let e = with(MARIE, Defect::ImapWithoutStartTls)
        .fetch_inbox()
        .await
        .expect_err("refused");
    assert!(matches!(e, ClientError::AuthRefused(_)), "{e}");
    let e = with(MARIE, Defect::Xoauth2BadSeparators)
        .send(&message(PAUL))
        .await
        .expect_err("refused");
    assert!(matches!(e, ClientError::AuthRefused(_)), "{e}");
    let e = with(APP, Defect::NoClientCertificate)
        .send(&message(PAUL))
        .await
        .expect_err("refused");
    assert!(matches!(e, ClientError::AuthRefused(_)), "{e}");
}

#[tokio::test]
async fn a_server_outside_the_elementaire_organisations_chain_is_refused() {
    let f = start().await;
    // Another fake IGC Santé: same names, other keys. Its root does not vouch for the operator.
    let other_dir = tempfile::tempdir().expect("tempdir");
    let (other, _) = pki::ensure(other_dir.path(), &f.pki.profile).expect("other pki");
    let mut account = f.account(MARIE);
    account.trust.root_pem = other.root.cert.pem.clone();
    account.trust.organisations_pem = other.organisations.cert.pem.clone();
    let e = Client::new(account)
        .send(&message(PAUL))
        .await
        .expect_err("refused");
    assert!(matches!(e, ClientError::Tls(_)), "{e}");
    let mut account = f.account(MARIE);
    account.smtp.host = "autre-operateur.mssante.fr".into();
    let e = Client::new(account)
        .send(&message(PAUL))
        .await
        .expect_err("wrong host refused");
    assert!(matches!(e, ClientError::Tls(_)), "{e}");
}

/// Each hostile TLS profile of the operator is refused by the reference client before any
/// credential leaves it; the TLS 1.2-only profile is accepted (ECO.1.1.1).
#[tokio::test]
async fn the_reference_client_refuses_every_hostile_tls_profile() {
    use operator::TlsProfile;
    use pki::hostile::Flaw;
    let f = start().await;
    let mut refused = Vec::new();
    for profile in TlsProfile::all() {
        f.op.set_tls_profile(profile);
        let mark = f.op.journal().len() as u64;
        let outcome = Client::new(f.account(MARIE)).send(&message(PAUL)).await;
        let events = f.op.journal().since(mark);
        let authenticated = events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Auth { .. }));
        match profile {
            TlsProfile::Good | TlsProfile::Tls12Only => {
                outcome.unwrap_or_else(|e| panic!("{}: {e}", profile.name()));
                if profile == TlsProfile::Tls12Only {
                    assert!(events.iter().any(|e| matches!(
                        &e.kind, EventKind::TlsEstablished { version, .. } if version == "TLS 1.2"
                    )));
                }
            }
            TlsProfile::NoStartTls => {
                let e = outcome.expect_err("no STARTTLS: refused");
                assert!(matches!(e, ClientError::NoStartTls), "{e}");
                assert!(!authenticated, "no credential in clear");
            }
            TlsProfile::Certificate(Flaw::Revoked) => {
                let e = outcome.expect_err("revoked");
                assert!(matches!(e, ClientError::Revocation(_)), "{e}");
                assert!(!authenticated, "revoked: no credential sent");
                refused.push(profile);
            }
            TlsProfile::Certificate(_) | TlsProfile::OffListSuite | TlsProfile::Weak(_) => {
                let e = outcome.expect_err(&profile.name());
                assert!(matches!(e, ClientError::Tls(_)), "{}: {e}", profile.name());
                assert!(!authenticated, "{}: no credential sent", profile.name());
                refused.push(profile);
            }
        }
    }
    assert_eq!(
        refused.len(),
        Flaw::SERVER.len() + 1 + operator::tls::weak::Weakness::ALL.len()
    );
}
