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
    /// Other validation failure.
    #[error("jeton refusé : {0}")]
    Other(String),
}

/// Why the fake PSC could not start.
#[derive(Debug, thiserror::Error)]
#[error("fake Pro Santé Connect key: {0}")]
pub struct KeyError(String);

/// The fake Pro Santé Connect.
pub struct Psc {
    issuer: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
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
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
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
                other => TokenError::Other(format!("{other:?}")),
            })
    }
}
