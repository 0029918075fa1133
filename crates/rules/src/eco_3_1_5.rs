//! ECO.3.1.5 — « Lors de la rédaction d'un courriel à destination d'un usager, le système DOIT
//! construire l'adresse de messagerie de l'usager à partir de son INS qualifiée. »
//!
//! Reading: asked to write to a patient of its user's files whose identity is qualified, the
//! system sends a message whose recipient (header or SMTP envelope) is exactly
//! `<INS>@patient.mssante.fr` (or a test sub-domain) for that patient's 15-character INS.

use crate::{Finding, Message};

/// Requirement ID.
pub const ID: &str = "ECO.3.1.5";

/// A patient the system was asked to write to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patient {
    /// INS matricule (15 characters).
    pub ins: String,
    /// Whether the identity is qualified.
    pub qualified: bool,
}

/// The patient recipients of a message: its To/Cc/Bcc and its envelope.
pub(crate) fn patient_recipients(message: &Message<'_>, envelope: &[String]) -> Vec<String> {
    let mut all: Vec<String> = message
        .recipients()
        .into_iter()
        .chain(envelope.iter().cloned())
        .map(|a| a.trim().to_ascii_lowercase())
        .filter(|a| is_patient(a))
        .collect();
    all.sort();
    all.dedup();
    all
}

/// Whether an address is a Mon espace santé address (test sub-domains included).
pub(crate) fn is_patient(address: &str) -> bool {
    let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    domain == "patient.mssante.fr" || domain.ends_with(".patient.mssante.fr")
}

/// Checks the messages sent (with their envelope recipients) for the patients asked.
pub fn check(messages: &[(Message<'_>, Vec<String>)], patients: &[Patient]) -> Finding {
    let qualified: Vec<&Patient> = patients.iter().filter(|p| p.qualified).collect();
    if qualified.is_empty() {
        return Finding::not_tested(ID, "aucun usager à l'identité qualifiée à qui écrire");
    }
    let seen: Vec<String> = messages
        .iter()
        .flat_map(|(m, env)| patient_recipients(m, env))
        .collect();
    let mut problems = Vec::new();
    for p in qualified {
        let expected = p.ins.to_ascii_lowercase();
        let found = seen.iter().any(|a| {
            a.split_once('@')
                .is_some_and(|(local, _)| local == expected)
        });
        if !found {
            problems.push(format!(
                "aucun message adressé à {}@patient.mssante.fr (adresses usagers reçues : {})",
                p.ins,
                if seen.is_empty() {
                    "aucune".to_owned()
                } else {
                    seen.join(", ")
                }
            ));
        }
    }
    Finding::from_problems(
        ID,
        problems,
        format!(
            "adresse construite sur l'INS qualifiée : {}",
            seen.join(", ")
        ),
    )
}
