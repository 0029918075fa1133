//! ECO.1.1.2 — « Le système PEUT établir une connexion avec l'API LPS d'un Opérateur MSSanté
//! en utilisant une version de TLS ultérieure à la version 1.2 de TLS (1.3...). »
//!
//! Informational (PEUT): reports the version negotiated on the connections made while the
//! operator offered TLS 1.3 (its good profile). TLS 1.3 negotiated is the faculty observed
//! (`Pass`); TLS 1.2 only is "not observed" (`NotTested`, with what was negotiated), never a
//! failure.

use evidence::EventKind;

use crate::Finding;
use crate::session::{Expectation, SessionEvidence};

/// The requirement.
pub const ID: &str = "ECO.1.1.2";

/// Reports the TLS versions negotiated with an operator offering TLS 1.3.
pub fn check(evidence: &SessionEvidence, expected: &Expectation) -> Finding {
    // Only the connections made while TLS 1.3 was on offer: not under a hostile profile, nor
    // under `tls12-only`.
    let mut left_out = crate::transport::opened_under_hostile(evidence);
    left_out.extend(
        crate::transport::under_profiles(evidence, &Expectation::default(), &["tls12-only"])
            .iter()
            .map(|c| c.id),
    );
    let mut versions: Vec<String> = Vec::new();
    let mut tls13 = 0;
    let mut sessions = 0;
    for conn in evidence.connections() {
        if left_out.contains(&conn.id) || expected.entry.is_some_and(|e| e != conn.entry) {
            continue;
        }
        for e in &conn.events {
            if let EventKind::TlsEstablished { version, .. } = &e.kind {
                sessions += 1;
                if version == "TLS 1.3" {
                    tls13 += 1;
                }
                if !versions.contains(version) {
                    versions.push(version.clone());
                }
            }
        }
    }
    if sessions == 0 {
        return Finding::not_tested(
            ID,
            "aucune session TLS établie pendant que l'opérateur offrait TLS 1.3",
        );
    }
    if tls13 > 0 {
        Finding::pass(
            ID,
            format!("TLS 1.3 négocié sur {tls13} session(s) TLS sur {sessions}"),
        )
    } else {
        Finding::not_tested(
            ID,
            format!(
                "faculté non utilisée : {} négocié sur {sessions} session(s) alors que \
                 l'opérateur offrait TLS 1.3",
                versions.join(", ")
            ),
        )
    }
}
