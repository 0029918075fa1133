//! ECO.2.1.3 — « L'objet du courriel DOIT respecter le format suivant :
//! XDM/1.0/DDM+<libellé> <NOM> <prenom> <date de naissance> », the label being the CDA's
//! `code@displayName` truncated to 40 characters for one document, `N documents` for several;
//! NOM and prénom from the CDA header, upper case without diacritics (INS-RNIV); the birth date
//! `JJ/MM/AAAA` optional.
//!
//! Readings (VERIFICATION.md, the référentiel's examples write "VIAL Paul"): NOM must be upper
//! case without diacritics; the prénom is compared case-insensitively but without diacritics;
//! the label is compared case- and accent-insensitively; truncation counts characters. NOM is the
//! birth name, else the used name; the prénom is the first given name (the used first name, or
//! all the given names, are accepted too). The label of several documents of the same type may be
//! either `N documents` or that type's label (the text only speaks of "types différents").

use crate::health::Document;
use crate::{Context, Finding, Message, text};

/// Requirement ID.
pub const ID: &str = "ECO.2.1.3";

/// The prefix and separator.
pub const PREFIX: &str = "XDM/1.0/DDM+";

/// The document type label of a document: `code@displayName`, else METADATA's typeCode name.
pub(crate) fn type_label(d: &Document<'_>) -> Option<String> {
    d.cda
        .display_name
        .clone()
        .or_else(|| d.entry.and_then(|e| e.type_display_name.clone()))
}

/// The labels a subject may carry for these documents.
fn expected_labels(documents: &[Document<'_>]) -> Vec<String> {
    let n = documents.len();
    let types: Vec<String> = documents.iter().filter_map(type_label).collect();
    let one_type = types.len() == n && types.iter().all(|t| text::fold(t) == text::fold(&types[0]));
    let mut labels = Vec::new();
    if n > 1 {
        labels.push(format!("{n} documents"));
    }
    if (n == 1 || one_type) && !types.is_empty() {
        labels.push(text::truncate_chars(&types[0], 40).trim_end().to_owned());
    }
    labels
}

/// Checks a message.
pub fn check(message: &Message<'_>, _context: &Context) -> Finding {
    let documents = match crate::documents_to_judge(message, ID, "objet invérifiable") {
        Ok(d) => d,
        Err(finding) => return finding,
    };
    let subject = message
        .parsed()
        .subject()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let patient = &documents[0].cda.patient;
    let Some(name) = patient.name() else {
        return Finding::fail(
            ID,
            format!(
                "{} n'a pas de nom d'usager : objet invérifiable",
                documents[0].path
            ),
        );
    };
    let nom = text::rniv_upper(name);
    let mut prenoms: Vec<String> = Vec::new();
    prenoms.extend(patient.first_given().map(str::to_owned));
    prenoms.extend(patient.called.clone());
    if patient.given.len() > 1 {
        prenoms.push(patient.given.join(" "));
    }
    let labels = expected_labels(&documents);
    let birth = patient.birth_date_fr();
    let example = format!(
        "{PREFIX}{} {nom} {}{}",
        labels.first().cloned().unwrap_or_default(),
        text::strip_diacritics(prenoms.first().map(String::as_str).unwrap_or("?")),
        birth.as_ref().map(|b| format!(" {b}")).unwrap_or_default()
    );
    let Some(rest) = subject.strip_prefix(PREFIX) else {
        return Finding::fail(
            ID,
            format!(
                "l'objet « {subject} » ne commence pas par « {PREFIX} » (attendu : « {example} »)"
            ),
        );
    };
    let mut words: Vec<&str> = rest.split(' ').filter(|w| !w.is_empty()).collect();
    let mut problems = Vec::new();
    let date_written = words
        .last()
        .filter(|w| w.len() == 10 && w.as_bytes()[2] == b'/' && w.as_bytes()[5] == b'/')
        .map(|w| w.to_string());
    if let Some(date) = &date_written {
        words.pop();
        match &birth {
            Some(b) if b == date => {}
            Some(b) => problems.push(format!("date de naissance « {date} » au lieu de « {b} »")),
            None => problems.push(format!("date de naissance « {date} » absente du CDA")),
        }
    }
    let nom_words = nom.split(' ').filter(|w| !w.is_empty()).count();
    // Try each accepted prénom: the first that fits the word count decides.
    let mut best: Option<Vec<String>> = None;
    for prenom in &prenoms {
        let prenom_words = prenom.split(' ').filter(|w| !w.is_empty()).count();
        if words.len() < nom_words + prenom_words + 1 {
            continue;
        }
        let split = words.len() - nom_words - prenom_words;
        let label = words[..split].join(" ");
        let nom_written = words[split..split + nom_words].join(" ");
        let prenom_written = words[split + nom_words..].join(" ");
        let mut local = Vec::new();
        if !labels.iter().any(|l| text::fold(l) == text::fold(&label)) {
            local.push(format!(
                "libellé « {label} » au lieu de « {} »",
                labels.join(" » ou « ")
            ));
        }
        if nom_written != nom {
            if text::fold(&nom_written) == text::fold(&nom) {
                local.push(format!(
                    "NOM « {nom_written} » doit être en majuscules sans accent : « {nom} »"
                ));
            } else {
                local.push(format!("NOM « {nom_written} » au lieu de « {nom} »"));
            }
        }
        if text::fold(&prenom_written) != text::fold(prenom) {
            local.push(format!(
                "prénom « {prenom_written} » au lieu de « {} »",
                text::strip_diacritics(prenom)
            ));
        } else if text::has_diacritics(&prenom_written) {
            local.push(format!(
                "prénom « {prenom_written} » doit être sans accent : « {} »",
                text::strip_diacritics(&prenom_written)
            ));
        }
        if best.as_ref().is_none_or(|b| local.len() < b.len()) {
            best = Some(local);
        }
    }
    match best {
        Some(local) => problems.extend(local),
        None => problems.push(format!(
            "l'objet « {subject} » n'a pas la forme « {example} »"
        )),
    }
    if problems.is_empty() {
        Finding::pass(ID, format!("objet « {subject} » conforme"))
    } else {
        Finding::fail(
            ID,
            format!(
                "objet « {subject} » : {} (attendu : « {example} »)",
                problems.join(" ; ")
            ),
        )
    }
}
