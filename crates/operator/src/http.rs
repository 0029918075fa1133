//! The operator's HTTP services.
//!
//! Plain HTTP (what certificates point to, and the harness's channel):
//! * `GET /igc-sante/<ac>.crl` — the CRLs named by the certificates' distribution points;
//! * `/api/...` — the control API (described in this crate's README).
//!
//! HTTPS, with the operator's IGC Santé server certificate:
//! * `GET /mail/config-v1.1.xml` — autoconfiguration (Thunderbird ConfigFileFormat) describing both
//!   entry points with the hosts and ports actually bound.
//!
//! Every request of a client (not the control API's) is journaled.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::json;

use crate::faults::{Faults, Outage};
use crate::journal::{EntryPoint, EventKind, Service};
use crate::server::Shared;
use crate::tls::TlsProfile;

#[derive(Clone)]
struct Http {
    shared: Arc<Shared>,
    tls: bool,
}

/// The router of the plain HTTP listener.
pub(crate) fn plain(shared: Arc<Shared>) -> Router {
    let state = Http { shared, tls: false };
    Router::new()
        .route("/igc-sante/{file}", get(crl))
        .route("/ocsp", post(ocsp_post))
        .route("/ocsp/{request}", get(ocsp_get))
        .route("/api/state", get(api_state))
        .route("/api/journal", get(api_journal))
        .route("/api/tls-profile", put(api_tls_profile))
        .route("/api/faults", put(api_faults))
        .route("/api/deliver", post(api_deliver))
        .route("/api/psc/token", post(api_token))
        .route("/api/reset", post(api_reset))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            journal_requests,
        ))
        .with_state(state)
}

/// The router of the HTTPS listener.
pub(crate) fn secure(shared: Arc<Shared>) -> Router {
    let state = Http { shared, tls: true };
    Router::new()
        .route("/mail/config-v1.1.xml", get(autoconfig))
        .route(
            "/.well-known/autoconfig/mail/config-v1.1.xml",
            get(autoconfig),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            journal_requests,
        ))
        .with_state(state)
}

/// Journals every request but the control API's (the harness's own channel: journaling its
/// journal polls would feed the poll forever).
async fn journal_requests(State(http): State<Http>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let response = next.run(request).await;
    if !path.starts_with("/api/") {
        http.shared.journal.record(
            None,
            EventKind::HttpRequest {
                tls: http.tls,
                method,
                host,
                path,
                status: response.status().as_u16(),
            },
        );
    }
    response
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "rien à cette adresse")
}

/// Applies an outage fault: `Some(response)` when the service must not answer normally.
async fn outage(http: &Http, outage: Option<Outage>, what: &str) -> Option<Response> {
    match outage {
        Some(Outage::Unavailable) => Some(error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{what} indisponible"),
        )),
        Some(Outage::Hang) => {
            // Never answer: until the client gives up, or the operator stops.
            let mut stop = http.shared.shutdown.clone();
            let _ = stop.changed().await;
            Some(error(
                StatusCode::SERVICE_UNAVAILABLE,
                "arrêt de l'opérateur",
            ))
        }
        None => None,
    }
}

async fn ocsp_answer(http: &Http, request: &[u8]) -> Response {
    if let Some(r) = outage(http, http.shared.faults().ocsp, "répondeur OCSP").await {
        return r;
    }
    let answer = pki::ocsp::respond(
        http.shared.tls.pki(),
        request,
        time::OffsetDateTime::now_utc(),
    );
    http.shared.journal.record(
        None,
        EventKind::OcspAnswered {
            certificates: answer
                .certificates
                .iter()
                .map(|(serial, status)| {
                    let status = match status {
                        pki::ocsp::CertStatus::Good => "good",
                        pki::ocsp::CertStatus::Revoked => "revoked",
                        pki::ocsp::CertStatus::Unknown => "unknown",
                    };
                    (serial.clone(), status.to_owned())
                })
                .collect(),
        },
    );
    (
        [(header::CONTENT_TYPE, "application/ocsp-response")],
        Body::from(answer.der),
    )
        .into_response()
}

async fn ocsp_post(State(http): State<Http>, body: axum::body::Bytes) -> Response {
    ocsp_answer(&http, &body).await
}

/// RFC 6960 appendix A.1: `GET {url}/{url-encoding of base-64 encoding of the DER request}`.
async fn ocsp_get(State(http): State<Http>, Path(request): Path<String>) -> Response {
    use base64::Engine;
    match base64::engine::general_purpose::STANDARD.decode(request.trim()) {
        Ok(der) => ocsp_answer(&http, &der).await,
        // Still an OCSP answer: malformedRequest.
        Err(_) => ocsp_answer(&http, b"").await,
    }
}

async fn crl(State(http): State<Http>, Path(file): Path<String>) -> Response {
    if let Some(r) = outage(&http, http.shared.faults().crl, "distribution de CRL").await {
        return r;
    }
    let pki = http.shared.tls.pki();
    let der = match file.as_str() {
        "ac-racine-elementaire.crl" => pki.root_crl.der.clone(),
        "ac-elementaire-organisations.crl" => pki.organisations_crl.der.clone(),
        _ => return not_found().await,
    };
    (
        [(header::CONTENT_TYPE, "application/pkix-crl")],
        Body::from(der),
    )
        .into_response()
}

/// XML text escaping for the autoconfig document.
fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn autoconfig(State(http): State<Http>) -> Response {
    let shared = &http.shared;
    let Some(addresses) = shared.addresses.get() else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "opérateur pas encore prêt");
    };
    let op = &shared.directory.operator;
    let server = |kind: &str, service: Service, entry: EntryPoint, auth: &str| {
        let host = shared.host(entry);
        let port = addresses.of(service, entry).port();
        let tag = if service == Service::Imap {
            "incomingServer"
        } else {
            "outgoingServer"
        };
        format!(
            "    <{tag} type=\"{kind}\">\n      <hostname>{}</hostname>\n      <port>{port}</port>\n      <socketType>STARTTLS</socketType>\n      <username>%EMAILADDRESS%</username>\n      <authentication>{auth}</authentication>\n    </{tag}>\n",
            xml_escape(host)
        )
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n  <emailProvider id=\"{domain}\">\n    <domain>{domain}</domain>\n    <displayName>{name}</displayName>\n    <displayShortName>Opérateur fictif</displayShortName>\n{}{}{}{}  </emailProvider>\n</clientConfig>\n",
        server("imap", Service::Imap, EntryPoint::Psc, "OAuth2"),
        server("smtp", Service::Smtp, EntryPoint::Psc, "OAuth2"),
        server("imap", Service::Imap, EntryPoint::App, "TLS-client-cert"),
        server("smtp", Service::Smtp, EntryPoint::App, "TLS-client-cert"),
        domain = xml_escape(&op.domain),
        name = xml_escape(&op.name),
    );
    (
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn api_state(State(http): State<Http>) -> Response {
    let shared = &http.shared;
    let addresses = shared.addresses.get().map(|a| {
        json!({
            "psc_smtp": a.psc_smtp, "psc_imap": a.psc_imap,
            "app_smtp": a.app_smtp, "app_imap": a.app_imap,
            "http": a.http, "https": a.https,
        })
    });
    axum::Json(json!({
        "tls_profile": shared.tls_profile().name(),
        "tls_profiles": TlsProfile::all().into_iter().map(TlsProfile::name).collect::<Vec<_>>(),
        "faults": shared.faults(),
        "addresses": addresses,
        "journal_events": shared.journal.len(),
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
struct JournalQuery {
    /// Events after this sequence number.
    #[serde(default)]
    after: u64,
    /// Wait up to this many seconds for one (long poll), 0 by default, 60 at most.
    #[serde(default)]
    wait: f64,
    /// At most this many events (1000 by default).
    #[serde(default)]
    limit: Option<usize>,
}

async fn api_journal(State(http): State<Http>, Query(q): Query<JournalQuery>) -> Response {
    let journal = &http.shared.journal;
    let wait = Duration::from_secs_f64(q.wait.clamp(0.0, 60.0));
    if wait > Duration::ZERO {
        let _ = journal.wait_for(q.after, wait, |_| true).await;
    }
    let events: Vec<_> = journal
        .since(q.after)
        .into_iter()
        .take(q.limit.unwrap_or(1000))
        .collect();
    let next = events.last().map_or(q.after, |e| e.seq);
    let events: Vec<&crate::journal::Event> = events.iter().map(|e| &**e).collect();
    axum::Json(json!({ "events": events, "next": next })).into_response()
}

#[derive(Debug, Deserialize)]
struct ProfileBody {
    profile: String,
}

async fn api_tls_profile(
    State(http): State<Http>,
    axum::Json(body): axum::Json<ProfileBody>,
) -> Response {
    match TlsProfile::from_name(&body.profile) {
        Some(p) => {
            http.shared.set_tls_profile(p);
            axum::Json(json!({ "tls_profile": p.name() })).into_response()
        }
        None => error(
            StatusCode::BAD_REQUEST,
            format!(
                "profil TLS inconnu « {} » ; connus : {}",
                body.profile,
                TlsProfile::all()
                    .into_iter()
                    .map(TlsProfile::name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    }
}

async fn api_faults(State(http): State<Http>, axum::Json(faults): axum::Json<Faults>) -> Response {
    http.shared.set_faults(faults.clone());
    axum::Json(json!({ "faults": faults })).into_response()
}

#[derive(Debug, Deserialize)]
struct DeliverBody {
    bal: String,
    /// The RFC 5322 message, as text.
    message: String,
}

async fn api_deliver(
    State(http): State<Http>,
    axum::Json(body): axum::Json<DeliverBody>,
) -> Response {
    match http.shared.deliver(&body.bal, body.message.as_bytes()) {
        Ok(path) => axum::Json(json!({ "path": path })).into_response(),
        Err(crate::OperatorError::Unknown(m)) => error(StatusCode::NOT_FOUND, m),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
struct TokenBody {
    professional: String,
    #[serde(default = "default_client")]
    client_id: String,
    #[serde(default = "default_ttl")]
    ttl_seconds: u64,
}

fn default_client() -> String {
    "lps-sous-test".into()
}

fn default_ttl() -> u64 {
    3600
}

async fn api_token(State(http): State<Http>, axum::Json(body): axum::Json<TokenBody>) -> Response {
    let shared = &http.shared;
    let Some(p) = shared.directory.professional(&body.professional) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("professionnel inconnu {}", body.professional),
        );
    };
    match shared
        .psc
        .issue(p, &body.client_id, Duration::from_secs(body.ttl_seconds))
    {
        Ok(token) => axum::Json(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": body.ttl_seconds,
        }))
        .into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn api_reset(State(http): State<Http>) -> Response {
    http.shared.set_tls_profile(TlsProfile::Good);
    http.shared.set_faults(Faults::default());
    axum::Json(json!({ "reset": true })).into_response()
}
