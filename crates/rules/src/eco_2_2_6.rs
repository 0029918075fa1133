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

/// Checks, in a scenario, what a system sent when asked to write to patients: every patient
/// address is built on a valid INS matricule, and nothing reached a patient whose identity is
/// not qualified (the system refused, or went through the derogation, which needs a human).
pub fn check_written(
    messages: &[(Message<'_>, Vec<String>)],
    patients: &[crate::eco_3_1_5::Patient],
) -> Finding {
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for (message, envelope) in messages {
        for address in crate::eco_3_1_5::patient_recipients(message, envelope) {
            let local = address.split('@').next().unwrap_or_default();
            if let Err(e) = ins::check_matricule(local) {
                problems.push(format!(
                    "l'adresse usager « {address} » n'est pas construite sur un matricule INS valide : {e}"
                ));
            }
            for p in patients.iter().filter(|p| !p.qualified) {
                let ins = p.ins.to_ascii_lowercase();
                let nir = ins.get(..13).unwrap_or(&ins);
                if local.starts_with(nir) {
                    problems.push(format!(
                        "message envoyé à « {address} » alors que l'identité de l'usager {} n'est pas qualifiée",
                        p.ins
                    ));
                }
            }
            seen.push(address);
        }
    }
    let refused = patients.iter().filter(|p| !p.qualified).count();
    if seen.is_empty() && refused == 0 {
        return Finding::not_tested(ID, "aucun message à un usager");
    }
    Finding::from_problems(
        ID,
        problems,
        format!(
            "adresses usagers sur un matricule INS valide ({}) ; aucun envoi à {refused} usager(s) à l'identité non qualifiée",
            if seen.is_empty() {
                "aucune".to_owned()
            } else {
                seen.join(", ")
            }
        ),
    )
}

#[cfg(test)]
mod written_tests {
    use super::*;
    use crate::Verdict;
    use crate::eco_3_1_5::Patient;

    fn msg(to: &str) -> Vec<u8> {
        format!("From: a@b.mssante.fr\r\nTo: {to}\r\nSubject: x\r\nMessage-ID: <m@x>\r\n\r\nx\r\n")
            .into_bytes()
    }

    #[test]
    fn qualified_only() {
        let patients = [
            Patient {
                ins: "278117511504249".into(),
                qualified: true,
            },
            Patient {
                ins: "295021305501254".into(),
                qualified: false,
            },
        ];
        let good = msg("278117511504249@patient.mssante.fr");
        let messages = vec![(Message::parse(&good).expect("parses"), Vec::new())];
        assert_eq!(check_written(&messages, &patients).verdict, Verdict::Pass);
        assert_eq!(
            crate::eco_3_1_5::check(&messages, &patients).verdict,
            Verdict::Pass
        );
        let bad = msg("295021305501254@patient.mssante.fr");
        let messages = vec![(Message::parse(&bad).expect("parses"), Vec::new())];
        assert_eq!(check_written(&messages, &patients).verdict, Verdict::Fail);
        assert_eq!(
            crate::eco_3_1_5::check(&messages, &patients).verdict,
            Verdict::Fail
        );
        let nokey = msg("2781175115042@patient.mssante.fr");
        let messages = vec![(Message::parse(&nokey).expect("parses"), Vec::new())];
        assert_eq!(check_written(&messages, &patients).verdict, Verdict::Fail);
        assert_eq!(
            crate::eco_3_1_5::check(&messages, &patients).verdict,
            Verdict::Fail
        );
    }
}
