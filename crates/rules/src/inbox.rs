//! ECO.3.1.1 to ECO.3.1.3 — what a client shows of its INBOX, judged on the listing its driver
//! reports (`list_inbox`) against the messages the harness delivered.
//!
//! - ECO.3.1.1 « Le système DOIT distinguer les courriels provenant d'un usager (patient) de
//!   ceux provenant d'un professionnel »: the patient's message is marked `patient`, the
//!   professional's `professional`.
//! - ECO.3.1.2 « … afficher … le nom de naissance, le prénom et l'INS de l'usager »: for a
//!   message `From: Prénom Nom <INS@patient.mssante.fr>` the listing gives that birth name
//!   (compared without case nor diacritics), first name and INS.
//! - ECO.3.1.3 « … masquer le préfixe XDM/1.0/DDM+ … »: the displayed subject of a message
//!   carrying documents does not start with the prefix, and keeps the rest of the subject.
//!
//! A message the listing leaves out is a failure (the user cannot see it); an empty listing is
//! « non testé » only when the driver reported nothing at all.

use crate::{Finding, text};

/// ECO.2.1.2.
pub const ID_2_1_2: &str = "ECO.2.1.2";
/// ECO.3.1.1.
pub const ID_3_1_1: &str = "ECO.3.1.1";
/// ECO.3.1.2.
pub const ID_3_1_2: &str = "ECO.3.1.2";
/// ECO.3.1.3.
pub const ID_3_1_3: &str = "ECO.3.1.3";

/// The prefix hidden by ECO.3.1.3.
pub const XDM_PREFIX: &str = "XDM/1.0/DDM+";

/// A patient as the listing shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShownPatient {
    /// Nom de naissance.
    pub birth_name: String,
    /// Prénom.
    pub first_name: String,
    /// INS.
    pub ins: String,
}

/// One line of the listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    /// Message-ID, without angle brackets.
    pub message_id: Option<String>,
    /// Subject as displayed.
    pub subject: Option<String>,
    /// `patient` or `professional`, as reported.
    pub sender_kind: Option<String>,
    /// The patient file the message was filed in (INS), if the system says.
    pub filed_under: Option<String>,
    /// The patient shown, if any.
    pub patient: Option<ShownPatient>,
}

/// What the harness delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// Message-ID, without angle brackets.
    pub message_id: String,
    /// Its subject.
    pub subject: String,
    /// The patient who sent it, if a patient did.
    pub patient: Option<ShownPatient>,
    /// For a message carrying documents: the INS of METADATA.XML's `patientId`.
    pub patient_id: Option<String>,
}

fn find<'a>(listing: &'a [Shown], id: &str) -> Option<&'a Shown> {
    listing
        .iter()
        .find(|s| s.message_id.as_deref().map(|m| m.trim_matches(['<', '>'])) == Some(id))
}

fn missing(id: &'static str, d: &Delivered) -> Finding {
    Finding::fail(
        id,
        format!(
            "le message <{}> déposé dans la BAL n'apparaît pas dans la liste affichée",
            d.message_id
        ),
    )
}

/// ECO.2.1.2: a message carrying documents is filed under the patient METADATA.XML's
/// `patientId` names, whatever its subject says.
pub fn check_2_1_2(listing: &[Shown], delivered: &[Delivered]) -> Finding {
    let mut problems = Vec::new();
    let mut judged = 0;
    for d in delivered {
        let Some(expected) = &d.patient_id else {
            continue;
        };
        judged += 1;
        let Some(s) = find(listing, &d.message_id) else {
            return missing(ID_2_1_2, d);
        };
        match s.filed_under.as_deref().map(str::trim) {
            Some(ins) if ins.eq_ignore_ascii_case(expected) => {}
            Some(other) => problems.push(format!(
                "<{}> classé sous « {other} » au lieu de l'INS {expected} du patientId de METADATA.XML",
                d.message_id
            )),
            None => problems.push(format!(
                "<{}> : le système ne dit pas sous quel usager il l'a classé",
                d.message_id
            )),
        }
    }
    if judged == 0 {
        return Finding::not_tested(ID_2_1_2, "aucun message porteur de documents déposé");
    }
    Finding::from_problems(
        ID_2_1_2,
        problems,
        "classé sous l'usager du patientId de METADATA.XML, non sous celui de l'objet",
    )
}

/// ECO.3.1.1: patients' messages told from professionals'.
pub fn check_3_1_1(listing: &[Shown], delivered: &[Delivered]) -> Finding {
    let mut problems = Vec::new();
    let mut seen = (false, false);
    for d in delivered {
        let Some(s) = find(listing, &d.message_id) else {
            return missing(ID_3_1_1, d);
        };
        let expected = if d.patient.is_some() {
            seen.0 = true;
            "patient"
        } else {
            seen.1 = true;
            "professional"
        };
        let kind = s.sender_kind.as_deref().unwrap_or_default();
        if !kind.eq_ignore_ascii_case(expected) {
            problems.push(format!(
                "<{}> présenté comme « {} » au lieu de « {expected} »",
                d.message_id,
                if kind.is_empty() { "(rien)" } else { kind }
            ));
        }
    }
    if !(seen.0 && seen.1) {
        return Finding::not_tested(
            ID_3_1_1,
            "il faut un message d'usager et un message de professionnel pour juger",
        );
    }
    Finding::from_problems(
        ID_3_1_1,
        problems,
        "le message de l'usager et celui du professionnel sont distingués",
    )
}

/// ECO.3.1.2: a patient's birth name, first name and INS shown.
pub fn check_3_1_2(listing: &[Shown], delivered: &[Delivered]) -> Finding {
    let mut problems = Vec::new();
    let mut judged = 0;
    for d in delivered {
        let Some(expected) = &d.patient else { continue };
        judged += 1;
        let Some(s) = find(listing, &d.message_id) else {
            return missing(ID_3_1_2, d);
        };
        let Some(shown) = &s.patient else {
            problems.push(format!("<{}> : aucun usager affiché", d.message_id));
            continue;
        };
        if text::fold(&shown.birth_name) != text::fold(&expected.birth_name) {
            problems.push(format!(
                "nom de naissance affiché « {} » au lieu de « {} »",
                shown.birth_name, expected.birth_name
            ));
        }
        if text::fold(&shown.first_name) != text::fold(&expected.first_name) {
            problems.push(format!(
                "prénom affiché « {} » au lieu de « {} »",
                shown.first_name, expected.first_name
            ));
        }
        if shown.ins.trim() != expected.ins {
            problems.push(format!(
                "INS affichée « {} » au lieu de « {} »",
                shown.ins, expected.ins
            ));
        }
    }
    if judged == 0 {
        return Finding::not_tested(ID_3_1_2, "aucun message d'usager déposé");
    }
    Finding::from_problems(
        ID_3_1_2,
        problems,
        "nom de naissance, prénom et INS de l'usager affichés",
    )
}

/// ECO.3.1.3: the `XDM/1.0/DDM+` prefix hidden, the rest of the subject kept.
pub fn check_3_1_3(listing: &[Shown], delivered: &[Delivered]) -> Finding {
    let mut problems = Vec::new();
    let mut judged = 0;
    for d in delivered {
        let Some(rest) = d.subject.strip_prefix(XDM_PREFIX) else {
            continue;
        };
        judged += 1;
        let Some(s) = find(listing, &d.message_id) else {
            return missing(ID_3_1_3, d);
        };
        let shown = s.subject.as_deref().unwrap_or_default().trim();
        if shown.contains(XDM_PREFIX) {
            problems.push(format!(
                "objet affiché « {shown} » : le préfixe est visible"
            ));
        } else if !text::fold(shown).contains(&text::fold(rest.trim())) {
            problems.push(format!(
                "objet affiché « {shown} » : le reste de l'objet « {rest} » n'apparaît pas"
            ));
        }
    }
    if judged == 0 {
        return Finding::not_tested(ID_3_1_3, "aucun message porteur de documents déposé");
    }
    Finding::from_problems(
        ID_3_1_3,
        problems,
        "le préfixe XDM/1.0/DDM+ est masqué, le reste de l'objet affiché",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    fn patient() -> ShownPatient {
        ShownPatient {
            birth_name: "Dupond".into(),
            first_name: "Léo".into(),
            ins: "180057805811153".into(),
        }
    }

    fn delivered() -> Vec<Delivered> {
        vec![
            Delivered {
                message_id: "p@x".into(),
                subject: "Question".into(),
                patient: Some(patient()),
                patient_id: None,
            },
            Delivered {
                message_id: "d@x".into(),
                subject: "XDM/1.0/DDM+CR d'examens biologiques DUPOND Leo".into(),
                patient: None,
                patient_id: Some("178057805811142".into()),
            },
        ]
    }

    fn shown(kind_p: &str, patient: Option<ShownPatient>, subject: &str) -> Vec<Shown> {
        vec![
            Shown {
                message_id: Some("p@x".into()),
                subject: Some("Question".into()),
                sender_kind: Some(kind_p.into()),
                filed_under: None,
                patient,
            },
            Shown {
                message_id: Some("<d@x>".into()),
                subject: Some(subject.into()),
                sender_kind: Some("professional".into()),
                filed_under: Some("178057805811142".into()),
                patient: None,
            },
        ]
    }

    #[test]
    fn a_right_listing_passes_all_three() {
        let upper = ShownPatient {
            birth_name: "DUPOND".into(),
            first_name: "LEO".into(),
            ..patient()
        };
        let l = shown(
            "patient",
            Some(upper),
            "CR d'examens biologiques DUPOND Leo",
        );
        assert_eq!(check_3_1_1(&l, &delivered()).verdict, Verdict::Pass);
        assert_eq!(check_3_1_2(&l, &delivered()).verdict, Verdict::Pass);
        assert_eq!(check_3_1_3(&l, &delivered()).verdict, Verdict::Pass);
        assert_eq!(check_2_1_2(&l, &delivered()).verdict, Verdict::Pass);
        let mut wrong = l.clone();
        wrong[1].filed_under = Some("MULLER-DUPRE Helene".into());
        assert_eq!(check_2_1_2(&wrong, &delivered()).verdict, Verdict::Fail);
        wrong[1].filed_under = None;
        assert_eq!(check_2_1_2(&wrong, &delivered()).verdict, Verdict::Fail);
    }

    #[test]
    fn each_wrong_listing_fails() {
        let ok = "CR d'examens biologiques DUPOND Leo";
        let l = shown("professional", Some(patient()), ok);
        assert_eq!(check_3_1_1(&l, &delivered()).verdict, Verdict::Fail);
        let no_ins = ShownPatient {
            ins: String::new(),
            ..patient()
        };
        let l = shown("patient", Some(no_ins), ok);
        assert_eq!(check_3_1_2(&l, &delivered()).verdict, Verdict::Fail);
        let l = shown(
            "patient",
            Some(patient()),
            "XDM/1.0/DDM+CR d'examens biologiques DUPOND Leo",
        );
        assert_eq!(check_3_1_3(&l, &delivered()).verdict, Verdict::Fail);
        let l = shown("patient", Some(patient()), "");
        assert_eq!(
            check_3_1_3(&l, &delivered()).verdict,
            Verdict::Fail,
            "subject lost"
        );
        assert_eq!(
            check_3_1_1(&[], &delivered()).verdict,
            Verdict::Fail,
            "not listed"
        );
    }
}
