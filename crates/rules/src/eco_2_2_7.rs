//! ECO.2.2.7 — « Le système DOIT spécifier un libellé signifiant en complément de l'adresse de
//! messagerie de l'expéditeur : Intitulé_BAL <xxx@xxx.mssante.fr> », personal BAL
//! `<Titre>_<Prénom>_<NOM>_<Entité fonctionnelle>` (name and first name mandatory, NOM in upper
//! case), organisational or application BAL `<Entité fonctionnelle>`.
//!
//! Readings: the référentiel writes `_` between fields but every example ("Dr Marie MARTIN",
//! "Hôpital A – Service Cardiologie") uses spaces: both are accepted. The label must exist, be
//! neither empty nor the address (or its local part). For a personal BAL — known to scenarios,
//! or recognised offline when the label repeats the two parts of a `prenom.nom@` address or
//! starts with a title — the leading titles (`Dr`, `Pr`, `Docteur`, `Professeur`, `M`, `Mr`,
//! `Mme`, `Mlle`, `Me`, with or without a final `.`, in any case) are set aside and never count
//! as the NOM; what follows holds a NOM (a word of at least two letters in upper case) and a
//! first name (a word with a letter that is not in upper case, an initial counts): before the
//! NOM ("Marie MARTIN", "Jean-Pierre DE LA FONTAINE"), or right after it ("MARTIN Marie").
//! What follows them (the functional entity) is free.

use crate::{Context, Finding, Message, SenderKind, text};

/// Requirement ID.
pub const ID: &str = "ECO.2.2.7";

fn label_words(label: &str) -> Vec<&str> {
    label
        .split(|c: char| c.is_whitespace() || c == '_')
        .filter(|w| !w.is_empty())
        .collect()
}

/// Titles that may precede a professional's name, folded, without their final `.`.
const TITLES: [&str; 9] = [
    "dr",
    "pr",
    "docteur",
    "professeur",
    "m",
    "mr",
    "mme",
    "mlle",
    "me",
];

/// Whether a word is a title ("Dr", "pr.", "DOCTEUR"…).
fn is_title(word: &str) -> bool {
    let word = word.strip_suffix('.').unwrap_or(word);
    TITLES.iter().any(|t| word.eq_ignore_ascii_case(t))
}

/// Whether a word can be a NOM: at least two letters, none in lower case.
fn is_nom(word: &str) -> bool {
    word.chars().filter(|c| c.is_alphabetic()).count() >= 2 && text::is_upper(word)
}

/// Whether a word can be a first name: a letter, and not a NOM.
fn is_first_name(word: &str) -> bool {
    word.chars().any(char::is_alphabetic) && !is_nom(word)
}

/// What a personal BAL's label lacks (French), if anything: a NOM in upper case and a first name
/// before it or right after it, once the leading titles are set aside. `family_name` is the NOM
/// the address suggests, for the explanation.
fn personal_problem(label: &str, words: &[&str], family_name: Option<&str>) -> Option<String> {
    let titles = words.iter().take_while(|w| is_title(w)).count();
    let rest = &words[titles..];
    let hint = family_name
        .map(|n| format!(" (« {} »)", text::rniv_upper(n)))
        .unwrap_or_default();
    let problem = match rest.iter().position(|w| is_nom(w)) {
        _ if rest.len() < 2 => match rest {
            [nom] if is_nom(nom) => format!("prénom attendu en plus du NOM « {nom} »"),
            _ => "prénom et NOM attendus".to_owned(),
        },
        None => format!("le NOM doit être en majuscules{hint}"),
        Some(0) => {
            let after = rest.iter().find(|w| !is_nom(w));
            if after.is_some_and(|w| is_first_name(w)) {
                return None;
            }
            format!("prénom attendu avant ou juste après le NOM « {} »", rest[0])
        }
        Some(i) => {
            if rest[..i].iter().any(|w| is_first_name(w)) {
                return None;
            }
            format!("prénom attendu avant le NOM « {} »", rest[i])
        }
    };
    Some(format!(
        "libellé « {label} » d'une BAL personnelle : {problem}"
    ))
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
        None => looks_personal(label, &address)
            .map(Some)
            .or_else(|| words.first().is_some_and(|w| is_title(w)).then_some(None)),
    };
    if let Some(family_name) = personal {
        return match personal_problem(label, &words, family_name.as_deref()) {
            Some(problem) => Finding::fail(ID, problem),
            None => Finding::pass(ID, format!("libellé de BAL personnelle « {label} »")),
        };
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

    #[test]
    fn personal_labels() {
        let personal = |label: &str| {
            f(
                &format!("\"{label}\" <mm@h.mssante.fr>"),
                Some(SenderKind::Personal),
            )
        };
        for label in [
            "Dr Marie MARTIN",
            "Marie MARTIN",
            "Dr Marie MARTIN Service de cardiologie",
            "Marie_MARTIN",
            "Dr_Marie_MARTIN_Cardiologie",
            "Pr. Jean DUPONT",
            "dr. Jean DUPONT",
            "Docteur Jean DUPONT",
            "Mme Marie MARTIN",
            "Jean-Pierre DE LA FONTAINE",
            "MARTIN Marie",
            "J. MARTIN",
        ] {
            let d = personal(label);
            assert_eq!(d.verdict, Verdict::Pass, "{label}: {}", d.detail);
        }
        for (label, why) in [
            ("Dr MARTIN", "prénom attendu en plus du NOM « MARTIN »"),
            ("Mme MARTIN", "prénom attendu"),
            ("DR Marie Martin", "NOM doit être en majuscules"),
            ("DR. MME Marie Martin", "NOM doit être en majuscules"),
            ("Dr", "prénom et NOM attendus"),
            (
                "Dr MARTIN DUPONT",
                "prénom attendu avant ou juste après le NOM",
            ),
            ("42 MARTIN", "prénom attendu avant le NOM « MARTIN »"),
        ] {
            let d = personal(label);
            assert_eq!(d.verdict, Verdict::Fail, "{label}");
            assert!(d.detail.contains(why), "{label}: {}", d.detail);
        }
    }

    #[test]
    fn titles_offline_and_other_kinds() {
        // Offline, a title says the BAL is a person's.
        let d = f("\"Dr MARTIN\" <marie.martin@medecin.mssante.fr>", None);
        assert_eq!(d.verdict, Verdict::Fail, "{}", d.detail);
        let d = f("\"DR Marie Martin\" <cabinet@medecin.mssante.fr>", None);
        assert_eq!(d.verdict, Verdict::Fail, "{}", d.detail);
        // Organisational and application labels are free.
        for sender in [SenderKind::Organisational, SenderKind::Application] {
            let d = f("\"Dr MARTIN\" <cabinet@medecin.mssante.fr>", Some(sender));
            assert_eq!(d.verdict, Verdict::Pass, "{}", d.detail);
        }
        let d = f("\"Laboratoire B\" <labo@b.mssante.fr>", None);
        assert_eq!(d.verdict, Verdict::Pass, "{}", d.detail);
    }
}
