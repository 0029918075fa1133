//! The fake Pro Santé Connect: it issues access tokens shaped like PSC's (RS256 JWT, issuer,
//! `acr` eidas1, `preferred_username` = national ID, `azp`, `exp`...) and validates them exactly
//! as the operator does before opening a BAL.
//!
//! The OIDC endpoints (discovery, JWKS, grants, revocation) are served over HTTPS in a later
//! stage; the harness issues tokens directly through the operator handle meanwhile.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use x509_parser::prelude::FromDer;

use crate::directory::Professional;
use crate::journal::TokenSummary;

/// Audience of every access token the fake PSC issues for the API LPS.
pub const AUDIENCE: &str = "mss-api-lps";
/// Key ID of the signing key.
const KID: &str = "psc-fictif-1";

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Subject (opaque PSC user ID).
    pub sub: String,
    /// Audience.
    pub aud: String,
    /// Authorised party: the LPS's client ID at PSC.
    pub azp: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Token ID.
    pub jti: String,
    /// Token type.
    pub typ: String,
    /// Authentication level.
    pub acr: String,
    /// Scopes.
    pub scope: String,
    /// National ID of the professional.
    pub preferred_username: String,
    /// First name.
    pub given_name: String,
    /// Last name.
    pub family_name: String,
    /// PSC session the token belongs to (absent for tokens issued outside a session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Not before, Unix seconds (when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}

impl Claims {
    /// What the journal may show of them.
    pub fn summary(&self) -> TokenSummary {
        TokenSummary {
            iss: self.iss.clone(),
            azp: self.azp.clone(),
            preferred_username: self.preferred_username.clone(),
            exp: self.exp,
            jti: self.jti.clone(),
        }
    }
}

/// Why a token was refused. French texts: they go into the reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a JWT.
    #[error("le jeton n'est pas un JWT lisible")]
    Malformed,
    /// Signature does not verify with the fake PSC's key.
    #[error("la signature du jeton n'est pas celle de Pro Santé Connect")]
    Signature,
    /// Expired.
    #[error("le jeton a expiré")]
    Expired,
    /// Issued by someone else.
    #[error("le jeton n'a pas été émis par Pro Santé Connect")]
    Issuer,
    /// Meant for another audience.
    #[error("le jeton n'est pas destiné à l'API LPS")]
    Audience,
    /// Not valid yet: issued (`iat`) or valid from (`nbf`) in the future.
    #[error("le jeton n'est pas encore valide (émis ou valable dans le futur)")]
    NotYetValid,
    /// Other validation failure.
    #[error("jeton refusé : {0}")]
    Other(String),
}

/// Clock skew tolerated on `iat` and `nbf` (not on `exp`): a client's clock a little ahead.
pub const CLOCK_SKEW: i64 = 60;

/// Lifetime of the access tokens of the OIDC flows.
pub const ACCESS_TTL: Duration = Duration::from_secs(120);
/// Lifetime of a refresh token.
pub const REFRESH_TTL: Duration = Duration::from_secs(1800);

/// A PSC session: one authentication of a professional by one LPS.
#[derive(Debug, Clone)]
struct Session {
    professional: String,
    client_id: String,
    /// The refresh token currently valid (rotated at each use).
    refresh: String,
    refresh_expires: i64,
    revoked: bool,
}

/// An authorisation code waiting to be exchanged.
#[derive(Debug, Clone)]
struct Pending {
    professional: String,
    client_id: String,
    redirect_uri: Option<String>,
    nonce: Option<String>,
}

/// The tokens of a grant, as the token endpoint returns them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TokenSet {
    /// Access token (JWT).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds.
    pub expires_in: u64,
    /// Refresh token (opaque).
    pub refresh_token: String,
    /// Seconds.
    pub refresh_expires_in: u64,
    /// ID token (JWT).
    pub id_token: String,
    /// The session.
    pub session_state: String,
    /// Scopes.
    pub scope: String,
}

/// Why a grant was refused (OAuth 2.0 error codes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// `invalid_grant`: unknown, used, expired or revoked code or refresh token.
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    /// `invalid_request`: a parameter is missing.
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// `unknown_user`: the login hint names nobody known.
    #[error("unknown_user: {0}")]
    UnknownUser(String),
}

impl GrantError {
    /// The OAuth 2.0 error code.
    pub fn code(&self) -> &'static str {
        match self {
            GrantError::InvalidGrant(_) => "invalid_grant",
            GrantError::InvalidRequest(_) => "invalid_request",
            GrantError::UnknownUser(_) => "unknown_user",
        }
    }
}

/// The sessions of the fake PSC.
#[derive(Debug, Default)]
pub struct Sessions {
    sessions: std::collections::HashMap<String, Session>,
    /// Refresh token → session.
    refresh: std::collections::HashMap<String, String>,
    codes: std::collections::HashMap<String, Pending>,
    /// CIBA request id → pending authentication.
    ciba: std::collections::HashMap<String, Pending>,
    /// IDs (`jti`) of the access tokens a refresh grant issued.
    refreshed: std::collections::HashSet<String>,
    /// Lifetime of the access tokens issued from now on (`None`: [`ACCESS_TTL`]).
    pub access_ttl: Option<Duration>,
}

fn random() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

impl Psc {
    /// Issues an access token and an ID token inside a session.
    fn tokens(
        &self,
        p: &Professional,
        session_id: &str,
        refresh: &str,
        nonce: Option<&str>,
        client_id: &str,
        ttl: Option<Duration>,
    ) -> Result<TokenSet, TokenError> {
        let iat = now();
        let ttl = ttl.unwrap_or(ACCESS_TTL);
        let mut claims = self.claims_for(p, client_id, iat, iat + ttl.as_secs().max(1) as i64);
        claims.sid = Some(session_id.to_owned());
        let access_token = self.sign(&claims)?;
        let id = serde_json::json!({
            "iss": self.issuer, "sub": claims.sub, "aud": client_id, "azp": client_id,
            "exp": claims.exp, "iat": iat, "nonce": nonce, "sid": session_id,
            "acr": "eidas1", "preferred_username": p.id,
            "given_name": p.first_name, "family_name": p.last_name,
        });
        let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
        header.kid = Some(KID.to_owned());
        let id_token = jsonwebtoken::encode(&header, &id, &self.encoding)
            .map_err(|e| TokenError::Other(e.to_string()))?;
        Ok(TokenSet {
            access_token,
            token_type: "Bearer",
            expires_in: ttl.as_secs().max(1),
            refresh_token: refresh.to_owned(),
            refresh_expires_in: REFRESH_TTL.as_secs(),
            id_token,
            session_state: session_id.to_owned(),
            scope: "openid scope_all".into(),
        })
    }

    fn open_session(
        &self,
        sessions: &mut Sessions,
        p: &Professional,
        client_id: &str,
        nonce: Option<&str>,
    ) -> Result<TokenSet, GrantError> {
        let id = random();
        let refresh = random();
        sessions.sessions.insert(
            id.clone(),
            Session {
                professional: p.id.clone(),
                client_id: client_id.to_owned(),
                refresh: refresh.clone(),
                refresh_expires: now() + REFRESH_TTL.as_secs() as i64,
                revoked: false,
            },
        );
        sessions.refresh.insert(refresh.clone(), id.clone());
        self.tokens(p, &id, &refresh, nonce, client_id, sessions.access_ttl)
            .map_err(|e| GrantError::InvalidRequest(e.to_string()))
    }

    /// Starts an authorisation-code flow for a professional (test identities need no browser).
    pub fn authorize(
        &self,
        sessions: &mut Sessions,
        p: &Professional,
        client_id: &str,
        redirect_uri: Option<&str>,
        nonce: Option<&str>,
    ) -> String {
        let code = random();
        sessions.codes.insert(
            code.clone(),
            Pending {
                professional: p.id.clone(),
                client_id: client_id.to_owned(),
                redirect_uri: redirect_uri.map(str::to_owned),
                nonce: nonce.map(str::to_owned),
            },
        );
        code
    }

    /// `grant_type=authorization_code`.
    pub fn exchange_code(
        &self,
        sessions: &mut Sessions,
        directory: &crate::Directory,
        code: &str,
        redirect_uri: Option<&str>,
    ) -> Result<(String, TokenSet), GrantError> {
        let pending = sessions
            .codes
            .remove(code)
            .ok_or_else(|| GrantError::InvalidGrant("code inconnu ou déjà utilisé".into()))?;
        if pending.redirect_uri.is_some() && pending.redirect_uri.as_deref() != redirect_uri {
            return Err(GrantError::InvalidGrant("redirect_uri différente".into()));
        }
        let p = directory
            .professional(&pending.professional)
            .ok_or_else(|| GrantError::UnknownUser(pending.professional.clone()))?;
        let tokens =
            self.open_session(sessions, p, &pending.client_id, pending.nonce.as_deref())?;
        Ok((p.id.clone(), tokens))
    }

    /// CIBA backchannel authentication request: returns the `auth_req_id` (test identities are
    /// approved at once).
    pub fn ciba_request(
        &self,
        sessions: &mut Sessions,
        p: &Professional,
        client_id: &str,
    ) -> String {
        let id = random();
        sessions.ciba.insert(
            id.clone(),
            Pending {
                professional: p.id.clone(),
                client_id: client_id.to_owned(),
                redirect_uri: None,
                nonce: None,
            },
        );
        id
    }

    /// `grant_type=urn:openid:params:grant-type:ciba`.
    pub fn ciba_token(
        &self,
        sessions: &mut Sessions,
        directory: &crate::Directory,
        auth_req_id: &str,
    ) -> Result<(String, TokenSet), GrantError> {
        let pending = sessions.ciba.remove(auth_req_id).ok_or_else(|| {
            GrantError::InvalidGrant("auth_req_id inconnu ou déjà utilisé".into())
        })?;
        let p = directory
            .professional(&pending.professional)
            .ok_or_else(|| GrantError::UnknownUser(pending.professional.clone()))?;
        let tokens = self.open_session(sessions, p, &pending.client_id, None)?;
        Ok((p.id.clone(), tokens))
    }

    /// `grant_type=refresh_token`: a new access token and a new refresh token (rotation).
    pub fn refresh(
        &self,
        sessions: &mut Sessions,
        directory: &crate::Directory,
        refresh_token: &str,
    ) -> Result<(String, TokenSet), GrantError> {
        let id = sessions
            .refresh
            .get(refresh_token)
            .cloned()
            .ok_or_else(|| GrantError::InvalidGrant("refresh token inconnu".into()))?;
        let session = sessions
            .sessions
            .get(&id)
            .cloned()
            .ok_or_else(|| GrantError::InvalidGrant("session inconnue".into()))?;
        if session.revoked {
            return Err(GrantError::InvalidGrant("session terminée".into()));
        }
        if session.refresh != refresh_token {
            return Err(GrantError::InvalidGrant(
                "refresh token déjà utilisé".into(),
            ));
        }
        if session.refresh_expires <= now() {
            return Err(GrantError::InvalidGrant("refresh token expiré".into()));
        }
        let p = directory
            .professional(&session.professional)
            .ok_or_else(|| GrantError::UnknownUser(session.professional.clone()))?;
        let next = random();
        sessions.refresh.remove(refresh_token);
        sessions.refresh.insert(next.clone(), id.clone());
        if let Some(s) = sessions.sessions.get_mut(&id) {
            s.refresh = next.clone();
            s.refresh_expires = now() + REFRESH_TTL.as_secs() as i64;
        }
        let tokens = self
            .tokens(p, &id, &next, None, &session.client_id, sessions.access_ttl)
            .map_err(|e| GrantError::InvalidRequest(e.to_string()))?;
        if let Ok(claims) = self.validate(&tokens.access_token) {
            sessions.refreshed.insert(claims.jti);
        }
        Ok((p.id.clone(), tokens))
    }

    /// Whether an access token came from a refresh grant.
    pub fn from_refresh(sessions: &Sessions, jti: &str) -> bool {
        sessions.refreshed.contains(jti)
    }

    /// Ends the session a refresh token belongs to; returns the professional.
    pub fn end_session(sessions: &mut Sessions, refresh_token: &str) -> Option<String> {
        let id = sessions.refresh.get(refresh_token)?.clone();
        let s = sessions.sessions.get_mut(&id)?;
        s.revoked = true;
        Some(s.professional.clone())
    }

    /// Ends every session of a professional; returns how many.
    pub fn end_sessions_of(sessions: &mut Sessions, professional: &str) -> usize {
        let mut n = 0;
        for s in sessions.sessions.values_mut() {
            if s.professional == professional && !s.revoked {
                s.revoked = true;
                n += 1;
            }
        }
        n
    }

    /// Whether the session of a token has ended (tokens without a session never end early).
    pub fn session_ended(sessions: &Sessions, sid: Option<&str>) -> bool {
        sid.and_then(|id| sessions.sessions.get(id))
            .is_some_and(|s| s.revoked)
    }

    /// The JWKS document: the public key access tokens are signed with.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [ self.jwk.clone() ] })
    }
}

/// Why the fake PSC could not start.
#[derive(Debug, thiserror::Error)]
#[error("fake Pro Santé Connect key: {0}")]
pub struct KeyError(String);

/// The JWK of an RSA public key given as SPKI PEM.
fn jwk(spki_pem: &str) -> Result<serde_json::Value, KeyError> {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (_, pem) = x509_parser::pem::parse_x509_pem(spki_pem.as_bytes())
        .map_err(|e| KeyError(e.to_string()))?;
    let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&pem.contents)
        .map_err(|e| KeyError(e.to_string()))?;
    let Ok(x509_parser::public_key::PublicKey::RSA(rsa)) = spki.parsed() else {
        return Err(KeyError("not an RSA key".into()));
    };
    let trim = |b: &[u8]| -> Vec<u8> {
        let start = b.iter().position(|&x| x != 0).unwrap_or(b.len());
        b[start..].to_vec()
    };
    Ok(serde_json::json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID,
        "n": URL_SAFE_NO_PAD.encode(trim(rsa.modulus)),
        "e": URL_SAFE_NO_PAD.encode(trim(rsa.exponent)),
    }))
}

/// The fake Pro Santé Connect.
pub struct Psc {
    issuer: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: serde_json::Value,
}

impl std::fmt::Debug for Psc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Psc").field("issuer", &self.issuer).finish()
    }
}

impl Psc {
    /// A PSC signing with the key of the fake IGC Santé folder.
    pub fn new(issuer: String, pki: &pki::Pki) -> Result<Self, KeyError> {
        let encoding = EncodingKey::from_rsa_pem(pki.psc_signing_key.expose().as_bytes())
            .map_err(|e| KeyError(e.to_string()))?;
        let decoding = DecodingKey::from_rsa_pem(pki.psc_verifying_key.as_bytes())
            .map_err(|e| KeyError(e.to_string()))?;
        Ok(Psc {
            jwk: jwk(&pki.psc_verifying_key)?,
            issuer,
            encoding,
            decoding,
        })
    }

    /// The issuer URL written in tokens.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Issues an access token for a professional, valid for `ttl` (may be negative through
    /// [`Psc::issue_claims`] to build expired tokens).
    pub fn issue(
        &self,
        professional: &Professional,
        client_id: &str,
        ttl: Duration,
    ) -> Result<String, TokenError> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let claims = self.claims_for(professional, client_id, now, now + ttl.as_secs() as i64);
        self.sign(&claims)
    }

    /// The claims PSC would put in a token for this professional.
    pub fn claims_for(&self, p: &Professional, client_id: &str, iat: i64, exp: i64) -> Claims {
        Claims {
            iss: self.issuer.clone(),
            sub: format!("f:psc-fictif:{}", p.id),
            aud: AUDIENCE.to_owned(),
            azp: client_id.to_owned(),
            exp,
            iat,
            jti: uuid::Uuid::new_v4().to_string(),
            typ: "Bearer".to_owned(),
            acr: "eidas1".to_owned(),
            scope: "openid scope_all".to_owned(),
            preferred_username: p.id.clone(),
            given_name: p.first_name.clone(),
            family_name: p.last_name.clone(),
            sid: None,
            nbf: None,
        }
    }

    /// Signs arbitrary claims with the fake PSC's key.
    pub fn sign(&self, claims: &Claims) -> Result<String, TokenError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(KID.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| TokenError::Other(e.to_string()))
    }

    /// Validates a token: signature, issuer, audience, expiry (no leeway).
    pub fn validate(&self, token: &str) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidToken
                | ErrorKind::Base64(_)
                | ErrorKind::Json(_)
                | ErrorKind::Utf8(_) => TokenError::Malformed,
                ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => TokenError::Signature,
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::InvalidIssuer => TokenError::Issuer,
                ErrorKind::InvalidAudience => TokenError::Audience,
                ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                other => TokenError::Other(format!("{other:?}")),
            })?;
        let limit = now() + CLOCK_SKEW;
        if claims.iat > limit || claims.nbf.is_some_and(|nbf| nbf > limit) {
            return Err(TokenError::NotYetValid);
        }
        Ok(claims)
    }

    /// Issues an access token inside a new session of its own (what the harness and the
    /// control API hand out): ending the professional's sessions revokes it like any other.
    pub fn issue_in_session(
        &self,
        sessions: &mut Sessions,
        professional: &Professional,
        client_id: &str,
        ttl: Duration,
    ) -> Result<String, TokenError> {
        let id = random();
        let refresh = random();
        sessions.sessions.insert(
            id.clone(),
            Session {
                professional: professional.id.clone(),
                client_id: client_id.to_owned(),
                refresh: refresh.clone(),
                refresh_expires: now() + REFRESH_TTL.as_secs() as i64,
                revoked: false,
            },
        );
        sessions.refresh.insert(refresh, id.clone());
        let iat = now();
        let mut claims = self.claims_for(professional, client_id, iat, iat + ttl.as_secs() as i64);
        claims.sid = Some(id);
        self.sign(&claims)
    }
}
