//! ECO.2.2.7 — « Le système DOIT spécifier un libellé signifiant en complément de l'adresse de
//! messagerie de l'expéditeur : Intitulé_BAL <xxx@xxx.mssante.fr> », personal BAL
//! `<Titre>_<Prénom>_<NOM>_<Entité fonctionnelle>` (name and first name mandatory, NOM in upper
//! case), organisational or application BAL `<Entité fonctionnelle>`.
//!
//! Readings: the référentiel writes `_` between fields but every example ("Dr Marie MARTIN",
//! "Hôpital A – Service Cardiologie") uses spaces: both are accepted. The label must exist, be
//! neither empty nor the address (or its local part). For a personal BAL — known to scenarios,
//! or recognised offline when the label repeats the two parts of a `prenom.nom@` address — at
//! least two words, one of them (the NOM) in upper case.

use crate::{Context, Finding, Message, SenderKind, text};

/// Requirement ID.
pub const ID: &str = "ECO.2.2.7";

fn label_words(label: &str) -> Vec<&str> {
    label
        .split(|c: char| c.is_whitespace() || c == '_')
        .filter(|w| !w.is_empty())
        .collect()
}

/// Offline: a `prenom.nom@` address whose two parts both appear in the label.
fn looks_personal(label: &str, address: &str) -> Option<String> {
    let local = address.split('@').next()?;
    let pieces: Vec<&str> = local.split(['.', '_']).filter(|p| !p.is_empty()).collect();
    if pieces.len() != 2
        || !pieces
            .iter()
            .all(|p| p.chars().all(|c| c.is_alphabetic() || c == '-'))
    {
        return None;
    }
    let folded = text::fold(label);
    pieces
        .iter()
        .all(|p| folded.contains(&text::fold(p)))
        .then(|| pieces[1].to_owned())
}

/// Checks a message.
pub fn check(message: &Message<'_>, context: &Context) -> Finding {
    let from = message.mailboxes("From");
    let [mailbox] = from.as_slice() else {
        return Finding::fail(
            ID,
            format!(
                "l'entête From contient {} adresses au lieu d'une",
                from.len()
            ),
        );
    };
    let address = mailbox.address.clone().unwrap_or_default();
    let Some(label) = mailbox
        .name
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    else {
        return Finding::fail(
            ID,
            format!(
                "l'entête From « {address} » n'a pas de libellé (attendu : « Libellé <{address}> »)"
            ),
        );
    };
    let local = address.split('@').next().unwrap_or_default();
    if label.eq_ignore_ascii_case(&address) || label.eq_ignore_ascii_case(local) {
        return Finding::fail(
            ID,
            format!("le libellé « {label} » n'est que l'adresse : un libellé signifiant est exigé"),
        );
    }
    let words = label_words(label);
    let personal = match context.sender {
        Some(SenderKind::Personal) => Some(None),
        Some(_) => None,
        None => looks_personal(label, &address).map(Some),
    };
    if let Some(family_name) = personal {
        if words.len() < 2 {
            return Finding::fail(
                ID,
                format!("libellé « {label} » d'une BAL personnelle : prénom et NOM attendus"),
            );
        }
        let upper = words
            .iter()
            .any(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 2 && text::is_upper(w));
        if !upper {
            let hint = family_name
                .map(|n| format!(" (« {} »)", text::rniv_upper(&n)))
                .unwrap_or_default();
            return Finding::fail(
                ID,
                format!(
                    "libellé « {label} » d'une BAL personnelle : le NOM doit être en majuscules{hint}"
                ),
            );
        }
        return Finding::pass(ID, format!("libellé de BAL personnelle « {label} »"));
    }
    Finding::pass(ID, format!("libellé « {label} »"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    fn f(from: &str, sender: Option<SenderKind>) -> Finding {
        let raw = format!("From: {from}\r\n\r\nx");
        let ctx = Context {
            sender,
            ..Context::default()
        };
        check(&Message::parse(raw.as_bytes()).expect("parse"), &ctx)
    }

    #[test]
    fn labels() {
        assert_eq!(
            f("Dr Marie MARTIN <marie.martin@medecin.mssante.fr>", None).verdict,
            Verdict::Pass
        );
        assert_eq!(
            f(
                "Dr_Marie_MARTIN_Cardiologie <marie.martin@medecin.mssante.fr>",
                None
            )
            .verdict,
            Verdict::Pass
        );
        assert_eq!(f("=?utf-8?q?H=C3=B4pital_A_=E2=80=93_Service_Cardiologie?= <cardio@hopitala.mssante.fr>", None).verdict, Verdict::Pass);
        let lower = f("Marie Martin <marie.martin@medecin.mssante.fr>", None);
        assert!(lower.detail.contains("MARTIN"), "{}", lower.detail);
        assert_eq!(
            f(
                "Marie Martin <mm@medecin.mssante.fr>",
                Some(SenderKind::Personal)
            )
            .verdict,
            Verdict::Fail
        );
        assert_eq!(
            f(
                "Cardiologie <mm@medecin.mssante.fr>",
                Some(SenderKind::Personal)
            )
            .verdict,
            Verdict::Fail
        );
        assert_eq!(
            f(
                "Service Cardiologie <cardio@h.mssante.fr>",
                Some(SenderKind::Organisational)
            )
            .verdict,
            Verdict::Pass
        );
        assert!(
            f("<marie.martin@medecin.mssante.fr>", None)
                .detail
                .contains("pas de libellé")
        );
        assert!(
            f("\"\" <a@b.mssante.fr>", None)
                .detail
                .contains("pas de libellé")
        );
        assert!(
            f(
                "marie.martin@medecin.mssante.fr <marie.martin@medecin.mssante.fr>",
                None
            )
            .detail
            .contains("que l'adresse")
        );
        assert!(
            f("a <a@b.fr>, b <b@b.fr>", None)
                .detail
                .contains("2 adresses")
        );
    }
}
