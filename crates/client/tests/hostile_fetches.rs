//! Bad input on the client's fetches: hostile autoconfiguration documents, unreachable or lying
//! OCSP responders and CRL distribution points. Each gives a clear typed error within the
//! deadline, never a panic or a hang, and a revocation status that cannot be established never
//! lets a credential out (fail closed). The good path is here too: OCSP down, the CRL; the CRL
//! down as well, the one kept on disk.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use client::autoconfig::AutoconfigError;
use client::http::HttpError;
use client::revocation::RevocationError;
use client::spec::{AddressSpec, AddressType};
use client::{
    Account, Client, ClientError, ConnectTo, Credentials, Defect, Defects, Endpoint, MessageSpec,
    Secret, Trust,
};
use evidence::{EventKind, Outage};
use operator::{Directory, EntryPoint, Faults, Operator, OperatorConfig, OperatorHandle, Service};

mod common;
use common::{Behaviour, hostile, http, pki};

const MARIE: &str = "marie.martin@operateur-fictif.mssante.fr";
const DOMAIN: &str = "operateur-fictif.mssante.fr";

fn trust(pki: &pki::Pki) -> Trust {
    Trust {
        root_pem: pki.root.cert.pem.clone(),
        organisations_pem: pki.organisations.cert.pem.clone(),
    }
}

fn to(host: &str, addr: SocketAddr) -> ConnectTo {
    ConnectTo {
        host: host.to_owned(),
        port: None,
        address: addr.ip(),
        to_port: Some(addr.port()),
    }
}

fn token_credentials() -> Credentials {
    Credentials::Xoauth2 {
        token: Secret("jeton".into()),
    }
}

async fn autoconfigure(
    pki: &pki::Pki,
    server: SocketAddr,
) -> Result<(Endpoint, Endpoint), ClientError> {
    Client::autoconfigure(
        MARIE,
        &token_credentials(),
        &trust(pki),
        &[
            to(&format!("autoconfig.{DOMAIN}"), server),
            ConnectTo {
                host: format!("mail-psc.{DOMAIN}"),
                port: None,
                address: server.ip(),
                to_port: None,
            },
        ],
        &Defects::new(),
        Duration::from_secs(1),
    )
    .await
}

const DOCUMENT: &str = r#"<?xml version="1.0"?>
<clientConfig version="1.1"><emailProvider id="operateur-fictif.mssante.fr">
<incomingServer type="imap"><hostname>mail-psc.operateur-fictif.mssante.fr</hostname><port>1143</port><socketType>STARTTLS</socketType><authentication>OAuth2</authentication></incomingServer>
<outgoingServer type="smtp"><hostname>mail-psc.operateur-fictif.mssante.fr</hostname><port>1587</port><socketType>STARTTLS</socketType><authentication>OAuth2</authentication></outgoingServer>
</emailProvider></clientConfig>"#;

#[tokio::test]
async fn hostile_autoconfiguration_documents_are_typed_errors_within_the_deadline() {
    let pki = pki();
    let laughs = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"{}\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><clientConfig>&b;</clientConfig>",
        "ha".repeat(100)
    );
    let mut chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..40 {
        chunked.extend_from_slice(b"1000\r\n");
        chunked.extend_from_slice(&[b'<'; 0x1000]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    type Check = fn(&ClientError) -> bool;
    let cases: Vec<(&str, bool, Behaviour, Check)> = vec![
        (
            "announced length over 64 KiB",
            true,
            Behaviour::Answer(http("200 OK", "", &vec![b' '; 100 * 1024])),
            |e| {
                matches!(
                    e,
                    ClientError::Autoconfig(AutoconfigError::Fetch(HttpError::TooLarge { .. }))
                )
            },
        ),
        (
            "chunked answer growing past 64 KiB",
            true,
            Behaviour::Answer(chunked),
            |e| {
                matches!(
                    e,
                    ClientError::Autoconfig(AutoconfigError::Fetch(HttpError::TooLarge { .. }))
                )
            },
        ),
        (
            "redirect to another scheme",
            true,
            Behaviour::Answer(http(
                "302 Found",
                "Location: http://evil.example/x.xml\r\n",
                b"",
            )),
            |e| {
                matches!(
                    e,
                    ClientError::Autoconfig(AutoconfigError::Fetch(HttpError::Redirect { .. }))
                )
            },
        ),
        (
            "redirect to another host",
            true,
            Behaviour::Answer(http(
                "301 Moved",
                "Location: https://169.254.169.254/latest\r\n",
                b"",
            )),
            |e| {
                matches!(
                    e,
                    ClientError::Autoconfig(AutoconfigError::Fetch(HttpError::Redirect { .. }))
                )
            },
        ),
        (
            "not found",
            true,
            Behaviour::Answer(http("404 Not Found", "", b"")),
            |e| {
                matches!(
                    e,
                    ClientError::Autoconfig(AutoconfigError::Fetch(HttpError::Status {
                        status: 404,
                        ..
                    }))
                )
            },
        ),
        (
            "not XML",
            true,
            Behaviour::Answer(http("200 OK", "", b"{\"imap\": \"ailleurs\"}")),
            |e| matches!(e, ClientError::Autoconfig(AutoconfigError::Document(_))),
        ),
        (
            "entity expansion",
            true,
            Behaviour::Answer(http("200 OK", "", laughs.as_bytes())),
            |e| matches!(e, ClientError::Autoconfig(AutoconfigError::Document(_))),
        ),
        (
            "no server of the family",
            true,
            Behaviour::Answer(http(
                "200 OK",
                "",
                DOCUMENT.replace("OAuth2", "password-cleartext").as_bytes(),
            )),
            |e| matches!(e, ClientError::Autoconfig(AutoconfigError::Missing { .. })),
        ),
        (
            "not UTF-8",
            true,
            Behaviour::Answer(http("200 OK", "", &[0xff, 0xfe, 0x3c, 0x00])),
            |e| matches!(e, ClientError::Autoconfig(AutoconfigError::Document(_))),
        ),
        ("never answers", true, Behaviour::Hang, |e| {
            matches!(
                e,
                ClientError::Autoconfig(AutoconfigError::Fetch(HttpError::Timeout { .. }))
            )
        }),
        (
            "not HTTP",
            true,
            Behaviour::Answer(b"SSH-2.0-OpenSSH_9.2\r\n".to_vec()),
            |e| {
                matches!(
                    e,
                    ClientError::Autoconfig(AutoconfigError::Fetch(HttpError::Protocol { .. }))
                )
            },
        ),
        (
            "plain HTTP on the HTTPS port",
            false,
            Behaviour::Answer(http("200 OK", "", DOCUMENT.as_bytes())),
            |e| {
                matches!(
                    e,
                    ClientError::Autoconfig(AutoconfigError::Fetch(HttpError::Tls { .. }))
                )
            },
        ),
    ];
    for (name, tls, behaviour, check) in cases {
        let server = hostile(&pki, tls, move |_| behaviour.clone()).await;
        let started = Instant::now();
        let e = autoconfigure(&pki, server).await.expect_err(name);
        assert!(check(&e), "{name}: {e:?}");
        assert!(!e.to_string().is_empty(), "{name}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{name}: {:?}",
            started.elapsed()
        );
    }
    // The same server with a sound document: the family's servers, ports included.
    let server = hostile(&pki, true, |request| {
        assert!(request.starts_with(b"GET /mail/config-v1.1.xml HTTP/1.1\r\n"));
        Behaviour::Answer(http(
            "200 OK",
            "Content-Type: application/xml\r\n",
            DOCUMENT.as_bytes(),
        ))
    })
    .await;
    let (smtp, imap) = autoconfigure(&pki, server).await.expect("sound document");
    assert_eq!(
        (smtp.host.as_str(), smtp.addr.port()),
        ("mail-psc.operateur-fictif.mssante.fr", 1587)
    );
    assert_eq!(imap.addr.port(), 1143);
}

struct Bench {
    op: OperatorHandle,
    pki: Arc<pki::Pki>,
    _data: tempfile::TempDir,
}

async fn bench() -> Bench {
    let pki = pki();
    let data = tempfile::tempdir().expect("tempdir");
    let op = Operator::start(OperatorConfig::new(
        Directory::embedded(),
        pki.clone(),
        data.path().into(),
    ))
    .await
    .expect("operator");
    Bench {
        op,
        pki,
        _data: data,
    }
}

impl Bench {
    /// Marie's account; the OCSP and CRL hosts on `revocation` (the operator's own by default).
    fn account(&self, revocation: Option<SocketAddr>) -> Account {
        let a = self.op.addresses();
        let host = self.op.directory().operator.psc_host.clone();
        let token = self
            .op
            .issue_access_token("810000000001", "lps-de-test", Duration::from_secs(600))
            .expect("token");
        let http = revocation.unwrap_or(a.http);
        Account {
            address: MARIE.into(),
            display_name: "Dr Marie MARTIN".into(),
            reply_to: None,
            nil: "TEST/1".into(),
            smtp: Endpoint {
                host: host.clone(),
                addr: a.of(Service::Smtp, EntryPoint::Psc),
            },
            imap: Endpoint {
                host,
                addr: a.of(Service::Imap, EntryPoint::Psc),
            },
            credentials: Credentials::Xoauth2 {
                token: Secret(token),
            },
            trust: trust(&self.pki),
            connect_to: vec![
                to(&format!("ocsp.{DOMAIN}"), http),
                to(&format!("crl.{DOMAIN}"), http),
            ],
        }
    }

    fn authenticated_since(&self, mark: u64) -> bool {
        self.op
            .journal()
            .since(mark)
            .iter()
            .any(|e| matches!(e.kind, EventKind::Auth { .. }))
    }

    fn crl_downloads_since(&self, mark: u64) -> usize {
        self.op
            .journal()
            .since(mark)
            .iter()
            .filter(|e| matches!(&e.kind, EventKind::HttpRequest { path, status: 200, .. } if path.ends_with(".crl")))
            .count()
    }
}

fn message() -> MessageSpec {
    MessageSpec {
        addresses: vec![AddressSpec {
            email: "paul.durand@operateur-fictif.mssante.fr".into(),
            name: None,
            kind: AddressType::To,
        }],
        subject: "Révocation".into(),
        body: "Bonjour.".into(),
        ..MessageSpec::default()
    }
}

#[tokio::test]
async fn lying_or_silent_revocation_services_fail_closed_before_any_credential() {
    let b = bench().await;
    let good_crl = b.pki.organisations_crl.der.clone();
    let wrong_crl = b.pki.root_crl.der.clone();
    let pki = b.pki.clone();
    let corrupt_ocsp = move |request: &[u8]| {
        let body = &request[request
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(0, |p| p + 4)..];
        let mut der = pki::ocsp::respond(&pki, body, time::OffsetDateTime::now_utc()).der;
        // One digit of producedAt (the first GeneralizedTime): the signed data changes, the
        // signature no longer matches.
        let at = der
            .windows(4)
            .position(|w| w == [0x18, 0x0f, b'2', b'0'])
            .expect("producedAt");
        der[at + 2 + 13] ^= 0x01;
        der
    };
    type Pick = Box<dyn Fn(&[u8]) -> Behaviour + Send + Sync>;
    let ocsp_or_crl = |ocsp: Pick, crl: Pick| -> Pick {
        Box::new(move |request: &[u8]| {
            if request.starts_with(b"POST /ocsp") {
                ocsp(request)
            } else {
                crl(request)
            }
        })
    };
    let answer =
        |bytes: Vec<u8>| -> Pick { Box::new(move |_: &[u8]| Behaviour::Answer(bytes.clone())) };
    let cases: Vec<(&str, Pick)> = vec![
        (
            "garbage everywhere",
            ocsp_or_crl(
                answer(http("200 OK", "", b"\x30\x03\x0a\x01")),
                answer(http("200 OK", "", b"pas une CRL")),
            ),
        ),
        (
            "OCSP signature broken, CRL of another issuer",
            ocsp_or_crl(
                Box::new(move |r: &[u8]| Behaviour::Answer(http("200 OK", "", &corrupt_ocsp(r)))),
                answer(http("200 OK", "", &wrong_crl)),
            ),
        ),
        (
            "OCSP malformedRequest, CRL 404",
            ocsp_or_crl(
                answer(http("200 OK", "", b"\x30\x03\x0a\x01\x01")),
                answer(http("404 Not Found", "", b"")),
            ),
        ),
        ("both hang", Box::new(|_: &[u8]| Behaviour::Hang)),
        (
            "both announce 20 MB",
            answer(b"HTTP/1.1 200 OK\r\nContent-Length: 20000000\r\n\r\n".to_vec()),
        ),
        (
            "OCSP redirects, CRL is HTML",
            ocsp_or_crl(
                answer(http("302 Found", "Location: http://ailleurs/\r\n", b"")),
                answer(http("200 OK", "", b"<html>maintenance</html>")),
            ),
        ),
    ];
    for (name, pick) in cases {
        let server = hostile(&b.pki, false, pick).await;
        let mark = b.op.journal().len() as u64;
        let started = Instant::now();
        let e = Client::new(b.account(Some(server)))
            .with_timeout(Duration::from_secs(1))
            .send(&message())
            .await
            .expect_err(name);
        assert!(
            matches!(e, ClientError::Revocation(RevocationError::Unknown(_))),
            "{name}: {e}"
        );
        assert!(!b.authenticated_since(mark), "{name}: no credential sent");
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{name}: {:?}",
            started.elapsed()
        );
    }
    // Garbage from the responder, the right CRL from the distribution point: it connects.
    let server = hostile(
        &b.pki,
        false,
        ocsp_or_crl(
            answer(http("200 OK", "", b"garbage")),
            answer(http("200 OK", "", &good_crl)),
        ),
    )
    .await;
    Client::new(b.account(Some(server)))
        .send(&message())
        .await
        .expect("the CRL stands in for the OCSP responder");
}

#[tokio::test]
async fn the_last_crl_is_kept_on_disk_for_when_the_distribution_point_fails() {
    let b = bench().await;
    let state = tempfile::tempdir().expect("state");
    let client = || {
        Client::new(b.account(None))
            .with_timeout(Duration::from_secs(2))
            .with_data_dir(state.path())
    };
    b.op.set_faults(Faults {
        ocsp: Some(Outage::Unavailable),
        ..Faults::default()
    });
    let mark = b.op.journal().len() as u64;
    client().send(&message()).await.expect("OCSP down: the CRL");
    assert_eq!(b.crl_downloads_since(mark), 1);
    b.op.set_faults(Faults {
        ocsp: Some(Outage::Hang),
        crl: Some(Outage::Unavailable),
        ..Faults::default()
    });
    let started = Instant::now();
    client()
        .send(&message())
        .await
        .expect("CRL down too: the kept one");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    // Without a state folder, or the mutant that keeps nothing: the status is unknown.
    let e = Client::new(b.account(None))
        .with_timeout(Duration::from_secs(1))
        .send(&message())
        .await
        .expect_err("nothing kept");
    assert!(
        matches!(e, ClientError::Revocation(RevocationError::Unknown(_))),
        "{e}"
    );
    let e = client()
        .with_defects([Defect::DropsCrlCache].into_iter().collect())
        .send(&message())
        .await
        .expect_err("mutant keeps nothing");
    assert!(e.to_string().contains("aucune CRL conservée"), "{e}");
    // A damaged cache file is not trusted.
    for entry in walk(state.path()) {
        std::fs::write(&entry, b"abime").expect("damage");
    }
    let e = client().send(&message()).await.expect_err("damaged cache");
    assert!(e.to_string().contains("CRL conservée inutilisable"), "{e}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
