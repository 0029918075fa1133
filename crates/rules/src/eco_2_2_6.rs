//! ECO.2.2.6 — « Un système, qui envoie des courriels MSSanté à des usagers, DOIT utiliser des
//! adresses usagers construites à partir d'Identités Nationale de Santé « qualifiées ». »
//!
//! Reading, on a message alone: every patient recipient (`…@patient.mssante.fr` or one of its
//! test sub-domains) has as local part a 15-character INS matricule (NIR or NIA) whose control
//! key is right; without it the message cannot reach the patient. Whether the identity behind
//! it was qualified is not visible in a message: the scenarios check it on the client side
//! (refusal, or the derogation's key check and confirmation).

use crate::{Context, Finding, Message, ins};

/// Requirement ID.
pub const ID: &str = "ECO.2.2.6";

/// Checks a message.
pub fn check(message: &Message<'_>, context: &Context) -> Finding {
    let patients: Vec<String> = message
        .recipients()
        .into_iter()
        .filter(|a| context.is_patient_address(a))
        .collect();
    if patients.is_empty() {
        return Finding::not_applicable(ID, "aucun destinataire usager (patient.mssante.fr)");
    }
    let mut problems = Vec::new();
    for address in &patients {
        let local = address.split('@').next().unwrap_or_default();
        if let Err(e) = ins::check_matricule(local) {
            problems.push(format!(
                "l'adresse usager « {address} » n'est pas construite sur un matricule INS valide : {e}"
            ));
        }
    }
    Finding::from_problems(
        ID,
        problems,
        format!(
            "adresse(s) usager construite(s) sur un matricule INS valide : {}",
            patients.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    fn f(to: &str) -> Finding {
        let raw = format!("To: {to}\r\n\r\nx");
        check(
            &Message::parse(raw.as_bytes()).expect("parse"),
            &Context::default(),
        )
    }

    #[test]
    fn patient_addresses() {
        let key = ins::control_key("1780578058111").expect("key");
        let good = format!("1780578058111{key:02}@patient.mssante.fr");
        assert_eq!(f(&good).verdict, Verdict::Pass);
        assert_eq!(
            f(&good.replace("@patient", "@recette.patient")).verdict,
            Verdict::Pass
        );
        let wrong_key = format!("1780578058111{:02}@patient.mssante.fr", (key % 97) + 1);
        assert!(
            f(&wrong_key).detail.contains("clé de contrôle"),
            "{}",
            f(&wrong_key).detail
        );
        assert!(
            f("jean.dupont@patient.mssante.fr")
                .detail
                .contains("caractères")
        );
        assert_eq!(f("dr@hopital.mssante.fr").verdict, Verdict::NotApplicable);
        assert_eq!(f("x@notpatient.mssante.fr").verdict, Verdict::NotApplicable);
    }
}
