//! ECO.1.1.1 — « Le système DOIT utiliser au minimum la version 1.2 du protocole TLS pour
//! établir une connexion avec l'API LPS d'un Opérateur MSSanté. »
//!
//! Reading taken (VERIFICATION.md §1):
//! - [`check_refusal`]: while the operator offers only TLS 1.0 or only TLS 1.1, the client
//!   abandons every connection before any credential or command after STARTTLS
//!   (see [`crate::transport`]);
//! - [`check_tls12`]: while the operator offers only TLS 1.2, the client completes: a TLS 1.2
//!   session in which its authentication was accepted.

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

/// The client works with a server offering only TLS 1.2.
pub fn check_tls12(evidence: &SessionEvidence, expected: &Expectation) -> Finding {
    let conns = transport::under_profiles(evidence, expected, &["tls12-only"]);
    if conns.is_empty() {
        return Finding::not_tested(
            ID,
            "le système n'a ouvert aucune connexion pendant que l'opérateur servait seulement TLS 1.2",
        );
    }
    let worked = conns.iter().find(|c| {
        c.events.iter().any(|e| {
            matches!(&e.kind, EventKind::TlsEstablished { version, .. } if version == "TLS 1.2")
        }) && c.accepted_auth().is_some()
    });
    match worked {
        Some(c) => Finding::pass(
            ID,
            format!(
                "opérateur limité à TLS 1.2 : session TLS 1.2 établie et authentifiée \
                 (connexion {}, {} connexion(s) en tout)",
                c.id,
                conns.len()
            ),
        ),
        None => {
            let errors: Vec<String> = conns
                .iter()
                .flat_map(|c| {
                    c.events.iter().filter_map(move |e| match &e.kind {
                        EventKind::TlsFailed { error } => {
                            Some(format!("connexion {} : {error}", c.id))
                        }
                        _ => None,
                    })
                })
                .collect();
            Finding::fail(
                ID,
                format!(
                    "opérateur limité à TLS 1.2 : aucune session TLS 1.2 authentifiée sur {} \
                     connexion(s){}",
                    conns.len(),
                    if errors.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", errors.join(" ; "))
                    }
                ),
            )
            .with_evidence(conns[0].transcript(40))
        }
    }
}
