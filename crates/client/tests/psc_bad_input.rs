//! Bad input from Pro Santé Connect: a provider that answers garbage, lies about its issuer,
//! never answers, signs ID tokens with another key, for another audience, with another nonce
//! or already expired, refuses with an OAuth error, ends the session, or rotates refresh tokens.
//! Each gives its typed error within the deadline; the good path is shown too.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use client::http::HttpError;
use client::psc::{Flow, PscClient, PscError, PscSettings};
use client::{ConnectTo, Credentials, Defects, Secret, Trust};
use common::{Behaviour, hostile, http, pki};

const ISSUER: &str = "https://psc.operateur-fictif.mssante.fr/realm";
const CLIENT: &str = "lps-de-test";
const MARIE: &str = "810000000001";

/// What the fake provider gets wrong.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Sound,
    DiscoveryGarbage,
    OtherIssuer,
    TokenHangs,
    OtherKey,
    Expired,
    OtherNonce,
    OtherAudience,
    OAuthError,
    Huge,
}

fn query(request: &str, key: &str) -> Option<String> {
    let line = request.lines().next()?;
    let target = line.split_whitespace().nth(1)?;
    let (_, q) = target.split_once('?')?;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.to_owned())
    })
}

fn form(request: &str, key: &str) -> Option<String> {
    let body = request.split("\r\n\r\n").nth(1)?;
    body.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.to_owned())
    })
}

/// A fake Pro Santé Connect misbehaving as `mode` says; `refresh` decides refresh grants
/// (given the refresh token presented).
async fn provider(
    pki: &Arc<pki::Pki>,
    mode: Mode,
    refresh: impl Fn(&str) -> Result<String, &'static str> + Send + Sync + 'static,
) -> SocketAddr {
    let psc = operator::psc::Psc::new(ISSUER.into(), pki).expect("psc");
    let jwks = psc.jwks();
    let psc_key = jsonwebtoken::EncodingKey::from_rsa_pem(pki.psc_signing_key.expose().as_bytes())
        .expect("psc key");
    let other_key =
        jsonwebtoken::EncodingKey::from_rsa_pem(pki.server.key.expose().as_bytes()).expect("key");
    let nonce = Arc::new(Mutex::new(String::new()));
    hostile(pki, true, move |raw| {
        let request = String::from_utf8_lossy(raw).into_owned();
        let path = request
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .split('?')
            .next()
            .unwrap_or("")
            .to_owned();
        let json = |v: serde_json::Value| {
            Behaviour::Answer(http("200 OK", "Content-Type: application/json\r\n", v.to_string().as_bytes()))
        };
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let id_token = |nonce: Option<String>| {
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
            header.kid = Some(jwks["keys"][0]["kid"].as_str().unwrap_or("").to_owned());
            let claims = serde_json::json!({
                "iss": ISSUER,
                "aud": if mode == Mode::OtherAudience { "un-autre-lps" } else { CLIENT },
                "sub": "s", "preferred_username": MARIE,
                "iat": now, "exp": if mode == Mode::Expired { now - 3600 } else { now + 120 },
                "nonce": if mode == Mode::OtherNonce { Some("autre".to_owned()) } else { nonce },
            });
            let key = if mode == Mode::OtherKey { &other_key } else { &psc_key };
            jsonwebtoken::encode(&header, &claims, key).expect("sign")
        };
        match path.as_str() {
            "/realm/.well-known/openid-configuration" => match mode {
                Mode::DiscoveryGarbage => Behaviour::Answer(http("200 OK", "", b"<html>portail</html>")),
                _ => json(serde_json::json!({
                    "issuer": if mode == Mode::OtherIssuer { "https://ailleurs.example/realm" } else { ISSUER },
                    "authorization_endpoint": format!("{ISSUER}/auth"),
                    "token_endpoint": format!("{ISSUER}/token"),
                    "jwks_uri": format!("{ISSUER}/certs"),
                    "introspection_endpoint": format!("{ISSUER}/introspect"),
                })),
            },
            "/realm/auth" => {
                *nonce.lock().expect("nonce") = query(&request, "nonce").unwrap_or_default();
                json(serde_json::json!({ "code": "code-1", "state": query(&request, "state") }))
            }
            "/realm/certs" => json(jwks.clone()),
            "/realm/token" => match mode {
                Mode::TokenHangs => Behaviour::Hang,
                Mode::OAuthError => Behaviour::Answer(http(
                    "401 Unauthorized",
                    "Content-Type: application/json\r\n",
                    br#"{"error":"invalid_client","error_description":"client inconnu"}"#,
                )),
                Mode::Huge => Behaviour::Answer(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n".to_vec(),
                ),
                _ => match form(&request, "grant_type").as_deref() {
                    Some("refresh_token") => {
                        match refresh(&form(&request, "refresh_token").unwrap_or_default()) {
                            Ok(next) => json(serde_json::json!({
                                "access_token": "jeton-rafraichi", "expires_in": 120,
                                "refresh_token": next, "id_token": id_token(None),
                            })),
                            Err(why) => Behaviour::Answer(http(
                                "400 Bad Request",
                                "",
                                format!(r#"{{"error":"invalid_grant","error_description":"{why}"}}"#)
                                    .as_bytes(),
                            )),
                        }
                    }
                    _ => json(serde_json::json!({
                        "access_token": "jeton-1", "expires_in": 120,
                        "refresh_token": "rt-1",
                        "id_token": id_token(Some(nonce.lock().expect("nonce").clone())),
                    })),
                },
            },
            _ => Behaviour::Answer(http("404 Not Found", "", b"")),
        }
    })
    .await
}

fn client(pki: &pki::Pki, server: SocketAddr) -> PscClient {
    let trust = Trust {
        root_pem: pki.root.cert.pem.clone(),
        organisations_pem: pki.organisations.cert.pem.clone(),
    };
    let credentials = Credentials::Xoauth2 {
        token: Secret(String::new()),
    };
    let tls =
        client::tls::client_config(&trust, &credentials, false, &Defects::new()).expect("tls");
    PscClient::new(
        PscSettings {
            issuer: ISSUER.into(),
            client_id: CLIENT.into(),
            professional: MARIE.into(),
            flow: Flow::Code,
        },
        tls,
        vec![ConnectTo {
            host: "psc.operateur-fictif.mssante.fr".into(),
            port: None,
            address: server.ip(),
            to_port: Some(server.port()),
        }],
        Duration::from_secs(1),
    )
}

#[tokio::test]
async fn a_misbehaving_provider_gives_typed_errors_within_the_deadline() {
    let pki = pki();
    type Check = fn(&PscError) -> bool;
    let cases: [(Mode, Check); 9] = [
        (Mode::DiscoveryGarbage, |e| matches!(e, PscError::Answer(_))),
        (
            Mode::OtherIssuer,
            |e| matches!(e, PscError::Answer(m) if m.contains("émetteur")),
        ),
        (Mode::TokenHangs, |e| {
            matches!(e, PscError::Http(HttpError::Timeout { .. }))
        }),
        (Mode::OtherKey, |e| matches!(e, PscError::IdToken(_))),
        (Mode::Expired, |e| matches!(e, PscError::IdToken(_))),
        (
            Mode::OtherNonce,
            |e| matches!(e, PscError::IdToken(m) if m.contains("nonce")),
        ),
        (Mode::OtherAudience, |e| matches!(e, PscError::IdToken(_))),
        (
            Mode::OAuthError,
            |e| matches!(e, PscError::Refused { code, .. } if code == "invalid_client"),
        ),
        (Mode::Huge, |e| {
            matches!(e, PscError::Http(HttpError::TooLarge { .. }))
        }),
    ];
    for (mode, check) in cases {
        let server = provider(&pki, mode, |_| Err("non")).await;
        let started = Instant::now();
        let e = client(&pki, server)
            .login()
            .await
            .expect_err(&format!("{mode:?}"));
        assert!(check(&e), "{mode:?}: {e:?}");
        assert!(started.elapsed() < Duration::from_secs(5), "{mode:?}");
    }
}

#[tokio::test]
async fn refresh_follows_rotation_and_an_invalid_grant_ends_the_session() {
    let pki = pki();
    // The provider rotates: each refresh token works once, and gives the next.
    let current = Arc::new(Mutex::new("rt-1".to_owned()));
    let seen = current.clone();
    let server = provider(&pki, Mode::Sound, move |presented| {
        let mut c = seen.lock().expect("rt");
        if presented != *c {
            return Err("refresh token déjà utilisé");
        }
        *c = format!("{presented}x");
        Ok(c.clone())
    })
    .await;
    let psc = client(&pki, server);
    let tokens = psc.login().await.expect("sound provider");
    assert_eq!(tokens.access.0, "jeton-1");
    let second = psc.refresh(&tokens).await.expect("first refresh");
    let third = psc
        .refresh(&second)
        .await
        .expect("the rotated token is used");
    assert_eq!(third.access.0, "jeton-rafraichi");
    // Presenting an old refresh token again: the session is over for the client.
    let e = psc.refresh(&tokens).await.expect_err("used refresh token");
    assert!(matches!(e, PscError::SessionEnded(_)), "{e:?}");
    assert!(
        !format!("{tokens:?}").contains("jeton-1"),
        "no token in Debug"
    );
}

/// A provider that never answers one BAL's login holds up no other BAL: the agent configures
/// another while the first is still waiting (ECO.1.2.3: a connection failure stays contained).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_provider_for_one_bal_holds_up_no_other() {
    use client::agent::{Agent, AgentSettings};
    use client::{Account, Endpoint};
    let pki = pki();
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let psc = silent.local_addr().expect("addr");
    let account = |address: &str| {
        let unused = Endpoint {
            host: "mail-psc.operateur-fictif.mssante.fr".into(),
            addr: SocketAddr::from(([127, 0, 0, 1], 9)),
        };
        Account {
            address: address.into(),
            display_name: address.into(),
            reply_to: None,
            nil: "TEST/1".into(),
            smtp: unused.clone(),
            imap: unused,
            credentials: Credentials::Xoauth2 {
                token: Secret(String::new()),
            },
            trust: Trust {
                root_pem: pki.root.cert.pem.clone(),
                organisations_pem: pki.organisations.cert.pem.clone(),
            },
            connect_to: vec![ConnectTo {
                host: "psc.operateur-fictif.mssante.fr".into(),
                port: None,
                address: psc.ip(),
                to_port: Some(psc.port()),
            }],
        }
    };
    let agent = Arc::new(Agent::new(
        AgentSettings {
            timeout: Duration::from_secs(3),
            ..AgentSettings::default()
        },
        "TEST/1",
    ));
    let waiting = {
        let agent = agent.clone();
        let marie = account("marie.martin@operateur-fictif.mssante.fr");
        tokio::spawn(async move {
            agent
                .configure(
                    marie,
                    Some(PscSettings {
                        issuer: ISSUER.into(),
                        client_id: CLIENT.into(),
                        professional: MARIE.into(),
                        flow: Flow::Code,
                    }),
                )
                .await
        })
    };
    // Marie's login is under way: the provider took its connection and says nothing.
    let (_held, _) = silent.accept().await.expect("accept");
    let other = tokio::time::timeout(
        Duration::from_secs(1),
        agent.configure(account("imagerie-lyon@operateur-fictif.mssante.fr"), None),
    )
    .await;
    assert!(matches!(other, Ok(Ok(()))), "another BAL waited: {other:?}");
    let marie = waiting.await.expect("task");
    assert!(marie.is_err(), "a silent provider gives an error");
}
