//! ECO.1.1.1 — « Le système DOIT utiliser au minimum la version 1.2 du protocole TLS pour
//! établir une connexion avec l'API LPS d'un Opérateur MSSanté. »
//!
//! Reading taken (VERIFICATION.md §1):
//! - [`check_refusal`]: while the operator offers only TLS 1.0 or only TLS 1.1, the client
//!   abandons every connection before any credential or command after STARTTLS
//!   (see [`crate::transport`]);
//! - [`check_tls12`]: while the operator offers only TLS 1.2, the client completes a TLS 1.2
//!   handshake; a client that does not offer TLS 1.2 fails (TLS 1.3 is only a faculty,
//!   ECO.1.1.2, so TLS 1.2 is the version every client must be able to use).

use evidence::EventKind;

use crate::Finding;
use crate::session::{Expectation, SessionEvidence};
use crate::transport;

/// The requirement.
pub const ID: &str = "ECO.1.1.1";

/// The operator's profiles offering only a version below 1.2.
pub const OLD_VERSIONS: [&str; 2] = ["tls10-only", "tls11-only"];

/// The client abandons connections to a server offering only TLS 1.0 or 1.1.
pub fn check_refusal(evidence: &SessionEvidence, expected: &Expectation) -> Finding {
    transport::abandoned(
        ID,
        evidence,
        expected,
        &OLD_VERSIONS,
        "seulement TLS 1.0 ou TLS 1.1",
    )
}

/// The client works with a server offering only TLS 1.2: a TLS 1.2 session established (what
/// follows, the authentication, is ECO.1.2.1's and ECO.1.3.1's). A ClientHello that does not
/// offer TLS 1.2 fails (TLS 1.3 is only a faculty, ECO.1.1.2); a handshake that failed for
/// another reason (no common suite, trust) is not tested, with the error.
pub fn check_tls12(evidence: &SessionEvidence, expected: &Expectation) -> Finding {
    let conns = transport::under_profiles(evidence, expected, &["tls12-only"]);
    if conns.is_empty() {
        return Finding::not_tested(
            ID,
            "le système n'a ouvert aucune connexion pendant que l'opérateur servait seulement TLS 1.2",
        );
    }
    if let Some(c) = conns.iter().find(|c| {
        c.events.iter().any(|e| {
            matches!(&e.kind, EventKind::TlsEstablished { version, .. } if version == "TLS 1.2")
        })
    }) {
        return Finding::pass(
            ID,
            format!(
                "opérateur limité à TLS 1.2 : session TLS 1.2 établie (connexion {}, {} \
                 connexion(s) en tout)",
                c.id,
                conns.len()
            ),
        );
    }
    let refusing = conns.iter().find_map(|c| {
        c.events.iter().find_map(|e| match &e.kind {
            EventKind::TlsClientHello(hello) if !hello.versions.iter().any(|v| v == "TLS 1.2") => {
                Some((c, hello.versions.join(", ")))
            }
            _ => None,
        })
    });
    if let Some((c, versions)) = refusing {
        return Finding::fail(
            ID,
            format!(
                "opérateur limité à TLS 1.2 : le ClientHello de la connexion {} n'offre pas TLS \
                 1.2 (versions offertes : {versions})",
                c.id
            ),
        )
        .with_evidence(c.transcript(40));
    }
    let errors: Vec<String> = conns
        .iter()
        .flat_map(|c| {
            c.events.iter().filter_map(move |e| match &e.kind {
                EventKind::TlsFailed { error } => Some(format!("connexion {} : {error}", c.id)),
                _ => None,
            })
        })
        .collect();
    Finding::not_tested(
        ID,
        format!(
            "opérateur limité à TLS 1.2 : aucune session TLS 1.2 établie sur {} connexion(s), \
             TLS 1.2 pourtant offert{}",
            conns.len(),
            if errors.is_empty() {
                String::new()
            } else {
                format!(" ({})", errors.join(" ; "))
            }
        ),
    )
}
