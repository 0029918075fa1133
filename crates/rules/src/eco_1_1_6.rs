//! ECO.1.1.6 — the client checks that the operator's server certificate is not revoked, by the
//! CRLs or the OCSP responder.
//!
//! Reading taken (VERIFICATION.md §1): while the operator presents a certificate its CA has
//! revoked (listed by the CRL, `revoked` at the OCSP responder; otherwise correct), the client
//! abandons every connection before any credential or command after STARTTLS (see
//! [`crate::transport`]). The finding reports the lookups the journal shows (OCSP requests, CRL
//! downloads); a client that refuses with no lookup there (a CRL installed by hand) is not
//! failed for it: the référentiel asks for the check, not for a way of fetching.

use evidence::EventKind;

use crate::Finding;
use crate::session::{Expectation, SessionEvidence};
use crate::transport;

/// The requirement.
pub const ID: &str = "ECO.1.1.6";

/// The operator's profile with a revoked certificate.
pub const PROFILES: [&str; 1] = ["certificate-revoque"];

/// The revocation lookups (OCSP requests, CRL downloads) the journal shows, in order, as
/// report lines, with the profile in force when each was made.
pub fn lookups(evidence: &SessionEvidence) -> Vec<(String, String)> {
    let mut profile = "good".to_owned();
    let mut out = Vec::new();
    for e in evidence.events() {
        match &e.kind {
            EventKind::TlsProfileChanged { profile: p } => profile = p.clone(),
            EventKind::HttpRequest {
                method,
                host,
                path,
                status,
                ..
            } => {
                if let Some(what) = lookup_kind(method, path) {
                    out.push((
                        profile.clone(),
                        format!(
                            "{what} : {method} http://{}{path} → {status}",
                            host.as_deref().unwrap_or("?")
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

/// `OCSP` or `CRL` for a request to the operator's responder or distribution points.
pub fn lookup_kind(method: &str, path: &str) -> Option<&'static str> {
    if path == "/ocsp" || path.starts_with("/ocsp/") {
        Some("OCSP")
    } else if method.eq_ignore_ascii_case("GET")
        && path.starts_with("/igc-sante/")
        && path.ends_with(".crl")
    {
        Some("CRL")
    } else {
        None
    }
}

/// The client abandons connections to a server whose certificate is revoked.
pub fn check_refusal(evidence: &SessionEvidence, expected: &Expectation) -> Finding {
    let finding = transport::abandoned(ID, evidence, expected, &PROFILES, "un certificat révoqué");
    let seen: Vec<String> = lookups(evidence)
        .into_iter()
        .filter(|(p, _)| PROFILES.contains(&p.as_str()))
        .map(|(_, line)| line)
        .collect();
    match finding.verdict {
        crate::Verdict::Pass if seen.is_empty() => Finding::pass(
            ID,
            format!(
                "{} ; aucune requête OCSP ni téléchargement de CRL au journal pendant ce profil \
                 (CRL installée localement ou en cache)",
                finding.detail
            ),
        ),
        crate::Verdict::Pass => Finding::pass(
            ID,
            format!(
                "{} ; contrôle de révocation observé : {}",
                finding.detail,
                seen.join(" ; ")
            ),
        ),
        crate::Verdict::Fail if seen.is_empty() => Finding {
            detail: format!(
                "{} ; aucune requête OCSP ni téléchargement de CRL au journal : le statut de \
                 révocation n'a pas été vérifié",
                finding.detail
            ),
            ..finding
        },
        _ => finding,
    }
}
