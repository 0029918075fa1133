//! Authentication decisions of the two entry points, shared by SMTP and IMAP.
//!
//! * Pro Santé Connect entry (ECO.1.2.1): XOAUTH2 of the exact form, a token the fake PSC
//!   issued and that is still valid, for a professional entitled to the BAL named in `user=`.
//! * Application entry (ECO.1.3.1): a client certificate that chains to the fake IGC Santé and
//!   whose OU is the IdNatStruc of the structure owning the application BAL named in PLAIN.

use crate::directory::BalFamily;
use crate::journal::{ClientCertificate, EventKind, Service, TokenSummary};
use crate::sasl;
use crate::server::Shared;
use evidence::AuthVerdict as Verdict;

/// A successful authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The BAL opened.
    pub bal: String,
    /// Who opened it: the professional's national ID, or the structure's IdNatStruc.
    pub principal: String,
}

/// Why an authentication was refused; the protocol reply depends on the kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The SASL message is not of the expected form.
    Format(String),
    /// The credentials (token or certificate) are refused.
    Credentials(String),
}

impl Refusal {
    /// The French explanation.
    pub fn reason(&self) -> &str {
        match self {
            Refusal::Format(r) | Refusal::Credentials(r) => r,
        }
    }
}

/// One attempt, with what the journal needs.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// Mechanism as named by the client.
    pub mechanism: String,
    /// The BAL asked for, when readable.
    pub user: Option<String>,
    /// Whether the SASL message had the exact expected form.
    pub format_ok: bool,
    /// Claims of the token (XOAUTH2).
    pub token: Option<TokenSummary>,
    /// The token had already been refused on this operator.
    pub retried_refused_token: bool,
    /// Refused by an injected fault, whatever the client sent.
    pub provoked: bool,
    /// PLAIN's authorisation identity, when given.
    pub authzid: Option<String>,
    /// Decision.
    pub result: Result<Authenticated, Refusal>,
}

impl Attempt {
    fn refused(mechanism: &str, refusal: Refusal) -> Self {
        Attempt {
            mechanism: mechanism.to_owned(),
            user: None,
            format_ok: !matches!(refusal, Refusal::Format(_)),
            token: None,
            retried_refused_token: false,
            provoked: false,
            authzid: None,
            result: Err(refusal),
        }
    }

    /// The journal event of this attempt; `pipelined` when the client had sent more before
    /// the answer.
    pub fn event(&self, service: Service, tls: bool, pipelined: bool) -> EventKind {
        EventKind::Auth {
            service,
            mechanism: self.mechanism.clone(),
            tls,
            user: self.user.clone(),
            format_ok: self.format_ok,
            retried_refused_token: self.retried_refused_token,
            provoked: self.provoked,
            pipelined,
            authzid: self.authzid.clone(),
            token: self.token.clone(),
            verdict: if self.result.is_ok() {
                Verdict::Accepted
            } else {
                Verdict::Refused
            },
            reason: self.result.as_ref().err().map(|r| r.reason().to_owned()),
        }
    }
}

/// Decides an XOAUTH2 attempt from the decoded SASL bytes.
pub fn xoauth2(shared: &Shared, raw: &[u8]) -> Attempt {
    let mechanism = "XOAUTH2";
    let parsed = match sasl::parse_xoauth2(raw) {
        Ok(p) => p,
        Err(e) => return Attempt::refused(mechanism, Refusal::Format(e.to_string())),
    };
    let attempt = Attempt {
        mechanism: mechanism.to_owned(),
        user: Some(parsed.user.clone()),
        format_ok: true,
        token: None,
        retried_refused_token: shared.was_refused(&parsed.token),
        provoked: false,
        authzid: None,
        result: Err(Refusal::Credentials(String::new())),
    };
    let attempt = xoauth2_decide(shared, attempt, &parsed.token);
    if attempt.result.is_err() {
        shared.remember_refused(&parsed.token);
    }
    attempt
}

fn xoauth2_decide(shared: &Shared, mut attempt: Attempt, token: &str) -> Attempt {
    let parsed_user = attempt.user.clone().unwrap_or_default();
    if shared.consume_auth_refusal() {
        attempt.provoked = true;
        attempt.result = Err(Refusal::Credentials(
            "défaut injecté : l'opérateur refuse cette authentification".into(),
        ));
        return attempt;
    }
    let claims = match shared.psc.validate(token) {
        Ok(c) => c,
        Err(e) => {
            attempt.result = Err(Refusal::Credentials(e.to_string()));
            return attempt;
        }
    };
    attempt.token = Some(claims.summary());
    let (ended, refreshed) = {
        let sessions = shared
            .psc_sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        (
            crate::psc::Psc::session_ended(&sessions, claims.sid.as_deref()),
            crate::psc::Psc::from_refresh(&sessions, &claims.jti),
        )
    };
    if refreshed && shared.faults().refuse_refreshed_tokens {
        attempt.provoked = true;
        attempt.result = Err(Refusal::Credentials(
            "défaut injecté : jeton issu d'un rafraîchissement refusé".into(),
        ));
        return attempt;
    }
    if ended {
        attempt.result = Err(Refusal::Credentials(
            "la session Pro Santé Connect de ce jeton est terminée".into(),
        ));
        return attempt;
    }
    let directory = &shared.directory;
    attempt.result = match directory.bal(&parsed_user) {
        None => Err(Refusal::Credentials(format!(
            "la BAL « {parsed_user} » n'existe pas chez l'opérateur"
        ))),
        Some(bal) if bal.family == BalFamily::Application => Err(Refusal::Credentials(format!(
            "la BAL « {} » est applicative : elle s'ouvre par certificat, pas par Pro Santé Connect",
            bal.address
        ))),
        Some(bal) if !directory.is_entitled(&claims.preferred_username, bal) => {
            Err(Refusal::Credentials(format!(
                "le professionnel {} n'est pas habilité sur la BAL « {} »",
                claims.preferred_username, bal.address
            )))
        }
        Some(bal) => Ok(Authenticated {
            bal: bal.address.clone(),
            principal: claims.preferred_username.clone(),
        }),
    };
    attempt
}

/// Decides a PLAIN attempt on the application entry point.
pub fn plain_with_certificate(
    shared: &Shared,
    certificate: Option<&ClientCertificate>,
    raw: &[u8],
) -> Attempt {
    let mechanism = "PLAIN";
    let parsed = match sasl::parse_plain(raw) {
        Ok(p) => p,
        Err(e) => return Attempt::refused(mechanism, Refusal::Format(e.to_string())),
    };
    let mut attempt = Attempt {
        mechanism: mechanism.to_owned(),
        user: Some(parsed.authcid.clone()),
        format_ok: true,
        token: None,
        retried_refused_token: false,
        provoked: false,
        authzid: (!parsed.authzid.is_empty()).then(|| parsed.authzid.clone()),
        result: Err(Refusal::Credentials(String::new())),
    };
    if shared.consume_auth_refusal() {
        attempt.provoked = true;
        attempt.result = Err(Refusal::Credentials(
            "défaut injecté : l'opérateur refuse cette authentification".into(),
        ));
        return attempt;
    }
    attempt.result = (|| {
        let Some(certificate) = certificate else {
            return Err(Refusal::Credentials(
                "aucun certificat client ORG AUTH_CLI n'a été présenté lors de la négociation TLS"
                    .into(),
            ));
        };
        if let Some(reason) = &certificate.rejected {
            return Err(Refusal::Credentials(reason.clone()));
        }
        let directory = &shared.directory;
        let Some(bal) = directory.bal(&parsed.authcid) else {
            return Err(Refusal::Credentials(format!(
                "la BAL « {} » n'existe pas chez l'opérateur",
                parsed.authcid
            )));
        };
        if bal.family != BalFamily::Application {
            return Err(Refusal::Credentials(format!(
                "la BAL « {} » n'est pas applicative : elle s'ouvre par Pro Santé Connect",
                bal.address
            )));
        }
        let owner = bal.structure.as_deref().unwrap_or_default();
        let ou = &certificate.summary.subject_ou;
        if !ou.iter().any(|o| o == owner) {
            return Err(Refusal::Credentials(format!(
                "l'OU du certificat ({}) n'est pas l'IdNatStruc de la structure détentrice de la BAL ({owner})",
                if ou.is_empty() {
                    "absente".to_owned()
                } else {
                    ou.join(", ")
                }
            )));
        }
        Ok(Authenticated {
            bal: bal.address.clone(),
            principal: owner.to_owned(),
        })
    })();
    attempt
}
