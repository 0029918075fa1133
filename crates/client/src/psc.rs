//! The client side of Pro Santé Connect, as the intermediate LPS server of seeds/004 runs it:
//! OpenID Connect discovery, the authorisation-code flow (test identities need no browser: the
//! `login_hint` completes it) or CIBA, the ID token checked against the JWKS (RS256, issuer,
//! audience, expiry, nonce), the access token refreshed before it expires, introspection to
//! notice a session ended elsewhere, and the end of the session.
//!
//! Tokens live in memory only (ECO.1.2.5): nothing here writes to disk, and [`Tokens`] never
//! shows them in `Debug`. Every answer of the provider is untrusted input: sizes are capped by
//! [`crate::http`], JSON fields are checked, and each failure is a typed [`PscError`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConfig;
use serde::Deserialize;

use crate::account::{ConnectTo, Secret};
use crate::http::{self, Fetch, HttpError, Schemes};

/// Largest answer read from the provider.
const MAX_ANSWER: usize = 256 * 1024;

/// How the client obtains its first tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flow {
    /// Authorisation code (with `login_hint` for test identities).
    #[default]
    Code,
    /// Client-initiated backchannel authentication (poll mode).
    Ciba,
}

/// What the client knows of its Pro Santé Connect client registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PscSettings {
    /// Issuer (the discovery document is under `/.well-known/openid-configuration`).
    pub issuer: String,
    /// Client ID.
    pub client_id: String,
    /// The professional (national ID), `login_hint` of the flow.
    pub professional: String,
    /// The flow.
    pub flow: Flow,
}

/// Why Pro Santé Connect did not give what was asked. Texts are French (they reach reports).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PscError {
    /// The provider could not be reached, or answered an HTTP error.
    #[error("Pro Santé Connect : {0}")]
    Http(#[from] HttpError),
    /// The answer is not what the protocol says.
    #[error("Pro Santé Connect : réponse invalide ({0})")]
    Answer(String),
    /// The provider refused (an OAuth 2.0 error other than the end of the session).
    #[error("Pro Santé Connect : refus {code} ({description})")]
    Refused {
        /// OAuth 2.0 error code.
        code: String,
        /// Its description.
        description: String,
    },
    /// The ID token does not hold.
    #[error("Pro Santé Connect : ID token refusé ({0})")]
    IdToken(String),
    /// The session ended (revoked, expired, logged out): a new login is needed.
    #[error("session Pro Santé Connect terminée ({0})")]
    SessionEnded(String),
}

/// The tokens of one session. `Debug` shows no secret.
#[derive(Clone)]
pub struct Tokens {
    /// The access token (JWT), for XOAUTH2.
    pub access: Secret,
    refresh: Secret,
    /// When the access token expires (local clock).
    pub access_expires: Instant,
    lifetime: Duration,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("access", &self.access)
            .field("access_expires_in", &self.remaining())
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// Time left before the access token expires.
    pub fn remaining(&self) -> Duration {
        self.access_expires
            .saturating_duration_since(Instant::now())
    }

    /// Whether the access token should be refreshed now: less than a fifth of its life left
    /// (at least 5 s), so a connection never starts with a token about to expire.
    pub fn due(&self) -> bool {
        self.remaining() < (self.lifetime / 5).max(Duration::from_secs(5))
    }
}

#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    introspection_endpoint: Option<String>,
    #[serde(default)]
    revocation_endpoint: Option<String>,
    #[serde(default)]
    backchannel_authentication_endpoint: Option<String>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    expires_in: u64,
    #[serde(default)]
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct OAuthError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

#[derive(Debug, Deserialize)]
struct IdClaims {
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    preferred_username: Option<String>,
}

/// A Pro Santé Connect client.
#[derive(Debug)]
pub struct PscClient {
    settings: PscSettings,
    tls: Arc<ClientConfig>,
    connect_to: Vec<ConnectTo>,
    timeout: Duration,
    discovery: tokio::sync::OnceCell<Discovery>,
}

fn random() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl PscClient {
    /// A client of the provider at `settings.issuer`, over HTTPS under `tls`.
    pub fn new(
        settings: PscSettings,
        tls: Arc<ClientConfig>,
        connect_to: Vec<ConnectTo>,
        timeout: Duration,
    ) -> Self {
        PscClient {
            settings,
            tls,
            connect_to,
            timeout,
            discovery: tokio::sync::OnceCell::new(),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &PscSettings {
        &self.settings
    }

    async fn call(
        &self,
        url: &str,
        form: Option<Vec<(&str, &str)>>,
    ) -> Result<serde_json::Value, PscError> {
        let post = match form {
            Some(pairs) => Some((
                "application/x-www-form-urlencoded",
                serde_urlencoded::to_string(&pairs)
                    .map_err(|e| PscError::Answer(e.to_string()))?
                    .into_bytes(),
            )),
            None => None,
        };
        let fetched = http::fetch(Fetch {
            url,
            schemes: Schemes::HttpsOnly,
            post,
            max: MAX_ANSWER,
            timeout: self.timeout,
            tls: Some(self.tls.clone()),
            connect_to: &self.connect_to,
        })
        .await;
        let body = match fetched {
            Ok(f) => f.body,
            // OAuth errors come with 400/401 and a JSON body the fetch does not keep: say
            // which status it was.
            Err(e) => return Err(PscError::Http(e)),
        };
        serde_json::from_slice(&body).map_err(|e| PscError::Answer(format!("JSON : {e}")))
    }

    async fn discover(&self) -> Result<&Discovery, PscError> {
        self.discovery
            .get_or_try_init(|| async {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.settings.issuer.trim_end_matches('/')
                );
                let value = self.call(&url, None).await?;
                let d: Discovery = serde_json::from_value(value)
                    .map_err(|e| PscError::Answer(format!("découverte : {e}")))?;
                if d.issuer != self.settings.issuer {
                    return Err(PscError::Answer(format!(
                        "découverte : émetteur « {} » au lieu de « {} »",
                        d.issuer, self.settings.issuer
                    )));
                }
                Ok(d)
            })
            .await
    }

    /// Opens a session: the configured flow, then the ID token checked.
    pub async fn login(&self) -> Result<Tokens, PscError> {
        let d = self.discover().await?.clone();
        let nonce = random();
        let answer = match self.settings.flow {
            Flow::Code => {
                let state = random();
                let query = serde_urlencoded::to_string([
                    ("response_type", "code"),
                    ("client_id", self.settings.client_id.as_str()),
                    ("scope", "openid scope_all"),
                    ("acr_values", "eidas1"),
                    ("login_hint", self.settings.professional.as_str()),
                    ("state", state.as_str()),
                    ("nonce", nonce.as_str()),
                ])
                .map_err(|e| PscError::Answer(e.to_string()))?;
                let sep = if d.authorization_endpoint.contains('?') {
                    '&'
                } else {
                    '?'
                };
                let url = format!("{}{sep}{query}", d.authorization_endpoint);
                let v = self.call(&url, None).await?;
                let code = v["code"]
                    .as_str()
                    .ok_or_else(|| PscError::Answer("pas de code d'autorisation".into()))?;
                if v["state"].as_str() != Some(state.as_str()) {
                    return Err(PscError::Answer("state différent de celui envoyé".into()));
                }
                self.grant(&[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("client_id", self.settings.client_id.as_str()),
                ])
                .await?
            }
            Flow::Ciba => {
                let endpoint = d
                    .backchannel_authentication_endpoint
                    .clone()
                    .ok_or_else(|| {
                        PscError::Answer("pas de point d'authentification CIBA".into())
                    })?;
                let v = self
                    .call(
                        &endpoint,
                        Some(vec![
                            ("client_id", self.settings.client_id.as_str()),
                            ("scope", "openid scope_all"),
                            ("login_hint", self.settings.professional.as_str()),
                        ]),
                    )
                    .await?;
                let id = v["auth_req_id"]
                    .as_str()
                    .ok_or_else(|| PscError::Answer("pas d'auth_req_id".into()))?
                    .to_owned();
                let interval =
                    Duration::from_secs(v["interval"].as_u64().unwrap_or(5).clamp(1, 30));
                let deadline = Instant::now() + self.timeout.max(Duration::from_secs(1)) * 4;
                loop {
                    match self
                        .grant(&[
                            ("grant_type", "urn:openid:params:grant-type:ciba"),
                            ("auth_req_id", id.as_str()),
                            ("client_id", self.settings.client_id.as_str()),
                        ])
                        .await
                    {
                        Err(PscError::Refused { code, .. })
                            if code == "authorization_pending" && Instant::now() < deadline =>
                        {
                            tokio::time::sleep(interval).await;
                        }
                        other => break other?,
                    }
                }
            }
        };
        let id_token = answer
            .id_token
            .as_deref()
            .ok_or_else(|| PscError::IdToken("absent".into()))?;
        let claims = self.verify_id_token(id_token).await?;
        // CIBA requests carry no nonce (OpenID CIBA Core §7.1); the code flow's must come back.
        if self.settings.flow == Flow::Code && claims.nonce.as_deref() != Some(nonce.as_str()) {
            return Err(PscError::IdToken("nonce différent de celui envoyé".into()));
        }
        if claims.preferred_username.as_deref() != Some(self.settings.professional.as_str()) {
            return Err(PscError::IdToken(format!(
                "identité « {} » au lieu de « {} »",
                claims.preferred_username.unwrap_or_default(),
                self.settings.professional
            )));
        }
        tokens(answer)
    }

    /// A new access token (and, with rotation, a new refresh token). An `invalid_grant` is the
    /// end of the session.
    pub async fn refresh(&self, current: &Tokens) -> Result<Tokens, PscError> {
        let answer = self
            .grant(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", current.refresh.0.as_str()),
                ("client_id", self.settings.client_id.as_str()),
            ])
            .await
            .map_err(|e| match e {
                PscError::Refused { code, description } if code == "invalid_grant" => {
                    PscError::SessionEnded(description)
                }
                other => other,
            })?;
        if let Some(id_token) = answer.id_token.as_deref() {
            self.verify_id_token(id_token).await?;
        }
        let mut next = tokens(answer)?;
        if next.refresh.0.is_empty() {
            // No rotation: the refresh token stays.
            next.refresh = current.refresh.clone();
        }
        Ok(next)
    }

    /// Whether the session of these tokens is still active (token introspection); `Ok(true)`
    /// when the provider offers no introspection.
    pub async fn active(&self, current: &Tokens) -> Result<bool, PscError> {
        let d = self.discover().await?.clone();
        let Some(endpoint) = d.introspection_endpoint else {
            return Ok(true);
        };
        let v = self
            .call(
                &endpoint,
                Some(vec![
                    ("token", current.access.0.as_str()),
                    ("client_id", self.settings.client_id.as_str()),
                ]),
            )
            .await?;
        v["active"]
            .as_bool()
            .ok_or_else(|| PscError::Answer("introspection sans « active »".into()))
    }

    /// Ends the session at the provider (token revocation).
    pub async fn logout(&self, current: &Tokens) -> Result<(), PscError> {
        let d = self.discover().await?.clone();
        let Some(endpoint) = d.revocation_endpoint else {
            return Ok(());
        };
        let post = serde_urlencoded::to_string([
            ("token", current.refresh.0.as_str()),
            ("token_type_hint", "refresh_token"),
            ("client_id", self.settings.client_id.as_str()),
        ])
        .map_err(|e| PscError::Answer(e.to_string()))?;
        match http::fetch(Fetch {
            url: &endpoint,
            schemes: Schemes::HttpsOnly,
            post: Some(("application/x-www-form-urlencoded", post.into_bytes())),
            max: MAX_ANSWER,
            timeout: self.timeout,
            tls: Some(self.tls.clone()),
            connect_to: &self.connect_to,
        })
        .await
        {
            // 200 or 204: both mean revoked (RFC 7009).
            Ok(_) | Err(HttpError::Status { status: 204, .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Posts to the token endpoint; an OAuth error answer becomes [`PscError::Refused`].
    async fn grant(&self, form: &[(&str, &str)]) -> Result<TokenAnswer, PscError> {
        let d = self.discover().await?.clone();
        let post =
            serde_urlencoded::to_string(form).map_err(|e| PscError::Answer(e.to_string()))?;
        let fetched = http::fetch_with_errors(Fetch {
            url: &d.token_endpoint,
            schemes: Schemes::HttpsOnly,
            post: Some(("application/x-www-form-urlencoded", post.into_bytes())),
            max: MAX_ANSWER,
            timeout: self.timeout,
            tls: Some(self.tls.clone()),
            connect_to: &self.connect_to,
        })
        .await?;
        if fetched.status != 200 {
            let e: OAuthError = serde_json::from_slice(&fetched.body).map_err(|_| {
                PscError::Answer(format!("réponse HTTP {} sans erreur OAuth", fetched.status))
            })?;
            return Err(PscError::Refused {
                code: e.error,
                description: e.error_description.unwrap_or_default(),
            });
        }
        serde_json::from_slice(&fetched.body).map_err(|e| PscError::Answer(format!("jetons : {e}")))
    }

    async fn verify_id_token(&self, token: &str) -> Result<IdClaims, PscError> {
        use jsonwebtoken::{
            Algorithm, DecodingKey, Validation, decode, decode_header, jwk::JwkSet,
        };
        let d = self.discover().await?.clone();
        let header = decode_header(token).map_err(|e| PscError::IdToken(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(PscError::IdToken(format!("algorithme {:?}", header.alg)));
        }
        let jwks: JwkSet = serde_json::from_value(self.call(&d.jwks_uri, None).await?)
            .map_err(|e| PscError::Answer(format!("JWKS : {e}")))?;
        let jwk = match &header.kid {
            Some(kid) => jwks.find(kid),
            None => jwks.keys.first(),
        }
        .ok_or_else(|| PscError::IdToken("clé de signature inconnue du JWKS".into()))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| PscError::IdToken(e.to_string()))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[self.settings.issuer.as_str()]);
        validation.set_audience(&[self.settings.client_id.as_str()]);
        validation.leeway = 60;
        decode::<IdClaims>(token, &key, &validation)
            .map(|t| t.claims)
            .map_err(|e| PscError::IdToken(e.to_string()))
    }
}

fn tokens(answer: TokenAnswer) -> Result<Tokens, PscError> {
    if answer.access_token.is_empty() {
        return Err(PscError::Answer("access token vide".into()));
    }
    let lifetime = Duration::from_secs(answer.expires_in.clamp(1, 24 * 3600));
    Ok(Tokens {
        access: Secret(answer.access_token),
        refresh: Secret(answer.refresh_token.unwrap_or_default()),
        access_expires: Instant::now() + lifetime,
        lifetime,
    })
}
