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
        .route("/api/psc/revoke", post(api_psc_revoke))
        .route("/api/reset", post(api_reset))
        .route("/api/mes/open", post(api_mes_open))
        .route("/api/mes/reply", post(api_mes_reply))
        .route("/api/mes/state", put(api_mes_state))
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
        .route(
            &format!("{REALM}/.well-known/openid-configuration"),
            get(oidc_discovery),
        )
        .route(
            &format!("{REALM}/protocol/openid-connect/certs"),
            get(oidc_jwks),
        )
        .route(
            &format!("{REALM}/protocol/openid-connect/auth"),
            get(oidc_authorize),
        )
        .route(
            &format!("{REALM}/protocol/openid-connect/token"),
            post(oidc_token),
        )
        .route(
            &format!("{REALM}/protocol/openid-connect/ext/ciba/auth"),
            post(oidc_ciba),
        )
        .route(
            &format!("{REALM}/protocol/openid-connect/token/introspect"),
            post(oidc_introspect),
        )
        .route(
            &format!("{REALM}/protocol/openid-connect/userinfo"),
            get(oidc_userinfo),
        )
        .route(
            &format!("{REALM}/protocol/openid-connect/logout"),
            get(oidc_logout).post(oidc_logout_form),
        )
        .route(
            &format!("{REALM}/protocol/openid-connect/revoke"),
            post(oidc_revoke),
        )
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
            "http": a.http, "https": a.https, "dns": a.dns,
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
    // Events older than what memory holds are only in the journal file.
    let dropped = journal.dropped().saturating_sub(q.after);
    let events: Vec<&crate::journal::Event> = events.iter().map(|e| &**e).collect();
    axum::Json(json!({ "events": events, "next": next, "dropped": dropped })).into_response()
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
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MesBody {
    ins: String,
    #[serde(default)]
    message_id: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    state: Option<crate::directory::MesState>,
}

/// A patient's action: `200 {"sentTo": …}`, `404` unknown patient or message, `409` reply
/// refused after `[FIN]`, `400` a field missing.
fn mes_answer(http: &Http, action: Option<crate::MesAction>) -> Response {
    let Some(action) = action else {
        return error(
            StatusCode::BAD_REQUEST,
            "champ absent (messageId, text ou state)",
        );
    };
    match http.shared.mes_act(action) {
        Ok(sent_to) => axum::Json(json!({ "sentTo": sent_to })).into_response(),
        Err(e @ crate::mes::MesError::Withdrawn(_)) => error(StatusCode::CONFLICT, e.to_string()),
        Err(e) => error(StatusCode::NOT_FOUND, e.to_string()),
    }
}

async fn api_mes_open(State(http): State<Http>, axum::Json(b): axum::Json<MesBody>) -> Response {
    let action = b.message_id.map(|message_id| crate::MesAction::Open {
        ins: b.ins,
        message_id,
    });
    mes_answer(&http, action)
}

async fn api_mes_reply(State(http): State<Http>, axum::Json(b): axum::Json<MesBody>) -> Response {
    let action = b
        .message_id
        .zip(b.text)
        .map(|(message_id, text)| crate::MesAction::Reply {
            ins: b.ins,
            message_id,
            text,
        });
    mes_answer(&http, action)
}

async fn api_mes_state(State(http): State<Http>, axum::Json(b): axum::Json<MesBody>) -> Response {
    let action = b
        .state
        .map(|state| crate::MesAction::State { ins: b.ins, state });
    mes_answer(&http, action)
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
    let issued = {
        let mut sessions = shared
            .psc_sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        shared.psc.issue_in_session(
            &mut sessions,
            p,
            &body.client_id,
            Duration::from_secs(body.ttl_seconds),
        )
    };
    match issued {
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
    match http.shared.reset("remise à zéro (API de contrôle)") {
        Ok(()) => axum::Json(json!({ "reset": true })).into_response(),
        Err(e) => (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({ "error": e.to_string() })),
        )
            .into_response(),
    }
}

/// Path of the fake PSC's realm, like the real one (`/auth/realms/esante-wallet`).
const REALM: &str = "/auth/realms/esante-wallet";

fn oauth_error(status: StatusCode, code: &str, description: impl Into<String>) -> Response {
    (
        status,
        axum::Json(json!({ "error": code, "error_description": description.into() })),
    )
        .into_response()
}

async fn oidc_discovery(State(http): State<Http>) -> Response {
    let issuer = http.shared.psc.issuer().to_owned();
    let base = format!("{issuer}/protocol/openid-connect");
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/auth"),
        "token_endpoint": format!("{base}/token"),
        "introspection_endpoint": format!("{base}/token/introspect"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "end_session_endpoint": format!("{base}/logout"),
        "revocation_endpoint": format!("{base}/revoke"),
        "jwks_uri": format!("{base}/certs"),
        "backchannel_authentication_endpoint": format!("{base}/ext/ciba/auth"),
        "grant_types_supported": [
            "authorization_code", "refresh_token", "urn:openid:params:grant-type:ciba"
        ],
        "response_types_supported": ["code"],
        "backchannel_token_delivery_modes_supported": ["poll"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "acr_values_supported": ["eidas1"],
        "scopes_supported": ["openid", "scope_all"],
    }))
    .into_response()
}

async fn oidc_jwks(State(http): State<Http>) -> Response {
    axum::Json(http.shared.psc.jwks()).into_response()
}

#[derive(Debug, Deserialize)]
struct AuthorizeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    /// National ID of a test identity: the flow completes without a browser.
    login_hint: Option<String>,
}

async fn oidc_authorize(State(http): State<Http>, Query(q): Query<AuthorizeQuery>) -> Response {
    let shared = &http.shared;
    let Some(hint) = q.login_hint.as_deref() else {
        // A tester with a browser: pick a test identity.
        let mut page = String::from(
            "<!doctype html><html lang=\"fr\"><meta charset=\"utf-8\"><title>Pro Santé Connect fictif</title><h1>Pro Santé Connect fictif</h1><p>Choisissez une identité de test :</p><ul>",
        );
        for p in &shared.directory.professionals {
            let mut query = vec![("login_hint", p.id.as_str())];
            for (k, v) in [
                ("client_id", &q.client_id),
                ("redirect_uri", &q.redirect_uri),
                ("state", &q.state),
                ("nonce", &q.nonce),
            ] {
                if let Some(v) = v {
                    query.push((k, v));
                }
            }
            let query = serde_urlencoded::to_string(&query).unwrap_or_default();
            page.push_str(&format!(
                "<li><a href=\"?{}\">{}</a> ({})</li>",
                xml_escape(&query),
                xml_escape(&p.display_name()),
                xml_escape(&p.id)
            ));
        }
        page.push_str("</ul></html>");
        return ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response();
    };
    let Some(p) = shared.directory.professional(hint) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unknown_user",
            format!("identité inconnue {hint}"),
        );
    };
    let client_id = q
        .client_id
        .clone()
        .unwrap_or_else(|| "lps-sous-test".into());
    let code = shared.psc.authorize(
        &mut shared
            .psc_sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner()),
        p,
        &client_id,
        q.redirect_uri.as_deref(),
        q.nonce.as_deref(),
    );
    match &q.redirect_uri {
        Some(uri) => {
            let mut params = vec![("code", code.as_str())];
            if let Some(state) = &q.state {
                params.push(("state", state));
            }
            let sep = if uri.contains('?') { '&' } else { '?' };
            let location = format!(
                "{uri}{sep}{}",
                serde_urlencoded::to_string(&params).unwrap_or_default()
            );
            (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
        }
        None => axum::Json(json!({ "code": code, "state": q.state })).into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    grant_type: String,
    code: Option<String>,
    redirect_uri: Option<String>,
    refresh_token: Option<String>,
    auth_req_id: Option<String>,
    client_id: Option<String>,
}

async fn oidc_token(State(http): State<Http>, axum::Form(form): axum::Form<TokenForm>) -> Response {
    let shared = &http.shared;
    let mut sessions = shared
        .psc_sessions
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    sessions.access_ttl = shared.faults().psc_access_ttl;
    let missing = |what: &str| crate::psc::GrantError::InvalidRequest(format!("{what} manquant"));
    let outcome = match form.grant_type.as_str() {
        "authorization_code" => match &form.code {
            Some(code) => shared.psc.exchange_code(
                &mut sessions,
                &shared.directory,
                code,
                form.redirect_uri.as_deref(),
            ),
            None => Err(missing("code")),
        },
        "refresh_token" => match &form.refresh_token {
            Some(r) => shared.psc.refresh(&mut sessions, &shared.directory, r),
            None => Err(missing("refresh_token")),
        },
        "urn:openid:params:grant-type:ciba" => match &form.auth_req_id {
            Some(id) => shared.psc.ciba_token(&mut sessions, &shared.directory, id),
            None => Err(missing("auth_req_id")),
        },
        other => Err(crate::psc::GrantError::InvalidRequest(format!(
            "grant_type non pris en charge : {other}"
        ))),
    };
    drop(sessions);
    let (professional, error) = match &outcome {
        Ok((p, _)) => (Some(p.clone()), None),
        Err(e) => (None, Some(e.to_string())),
    };
    shared.journal.record(
        None,
        EventKind::PscGrant {
            grant_type: form.grant_type.clone(),
            client_id: form.client_id.clone(),
            professional,
            error,
        },
    );
    match outcome {
        Ok((_, tokens)) => {
            shared.remember_issued([
                tokens.access_token.as_str(),
                tokens.refresh_token.as_str(),
                tokens.id_token.as_str(),
            ]);
            axum::Json(tokens).into_response()
        }
        Err(e) => oauth_error(StatusCode::BAD_REQUEST, e.code(), e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
struct CibaForm {
    login_hint: Option<String>,
    client_id: Option<String>,
}

async fn oidc_ciba(State(http): State<Http>, axum::Form(form): axum::Form<CibaForm>) -> Response {
    let shared = &http.shared;
    let Some(p) = form
        .login_hint
        .as_deref()
        .and_then(|h| shared.directory.professional(h))
    else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unknown_user_id",
            "login_hint inconnu",
        );
    };
    let client_id = form.client_id.unwrap_or_else(|| "lps-sous-test".into());
    let id = shared.psc.ciba_request(
        &mut shared
            .psc_sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner()),
        p,
        &client_id,
    );
    axum::Json(json!({ "auth_req_id": id, "expires_in": 120, "interval": 1 })).into_response()
}

#[derive(Debug, Deserialize)]
struct TokenOnly {
    token: Option<String>,
    refresh_token: Option<String>,
}

async fn oidc_introspect(
    State(http): State<Http>,
    axum::Form(form): axum::Form<TokenOnly>,
) -> Response {
    let shared = &http.shared;
    let token = form.token.unwrap_or_default();
    match shared.psc.validate(&token) {
        Ok(claims) => {
            let ended = crate::psc::Psc::session_ended(
                &shared
                    .psc_sessions
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()),
                claims.sid.as_deref(),
            );
            if ended {
                return axum::Json(json!({ "active": false })).into_response();
            }
            let mut value = serde_json::to_value(&claims).unwrap_or_default();
            if let Some(map) = value.as_object_mut() {
                map.insert("active".into(), json!(true));
            }
            axum::Json(value).into_response()
        }
        Err(_) => axum::Json(json!({ "active": false })).into_response(),
    }
}

async fn oidc_userinfo(State(http): State<Http>, headers: axum::http::HeaderMap) -> Response {
    let shared = &http.shared;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    match shared.psc.validate(token) {
        Ok(c) => axum::Json(json!({
            "sub": c.sub, "preferred_username": c.preferred_username,
            "SubjectNameID": c.preferred_username,
            "given_name": c.given_name, "family_name": c.family_name,
        }))
        .into_response(),
        Err(e) => oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", e.to_string()),
    }
}

fn end_session(shared: &Shared, refresh_token: Option<&str>, by: &str) -> Response {
    let ended = refresh_token.and_then(|r| {
        crate::psc::Psc::end_session(
            &mut shared
                .psc_sessions
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
            r,
        )
    });
    match ended {
        Some(professional) => {
            shared.journal.record(
                None,
                EventKind::PscSessionEnded {
                    professional,
                    sessions: 1,
                    by: by.to_owned(),
                },
            );
            StatusCode::NO_CONTENT.into_response()
        }
        // RFC 7009: revoking an unknown token still answers 200.
        None => StatusCode::OK.into_response(),
    }
}

async fn oidc_logout(State(http): State<Http>, Query(q): Query<TokenOnly>) -> Response {
    end_session(&http.shared, q.refresh_token.as_deref(), "logout")
}

async fn oidc_logout_form(
    State(http): State<Http>,
    axum::Form(f): axum::Form<TokenOnly>,
) -> Response {
    end_session(&http.shared, f.refresh_token.as_deref(), "logout")
}

async fn oidc_revoke(State(http): State<Http>, axum::Form(f): axum::Form<TokenOnly>) -> Response {
    let token = f.token.or(f.refresh_token);
    end_session(&http.shared, token.as_deref(), "revoke")
}

#[derive(Debug, Deserialize)]
struct RevokeBody {
    professional: String,
}

async fn api_psc_revoke(
    State(http): State<Http>,
    axum::Json(body): axum::Json<RevokeBody>,
) -> Response {
    let n = http.shared.end_psc_sessions(&body.professional, "harnais");
    axum::Json(json!({ "sessions_ended": n })).into_response()
}
