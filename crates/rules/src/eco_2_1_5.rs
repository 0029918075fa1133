//! ECO.2.1.5 — « Chaque PDF/A-1 rattaché au courriel MSSanté DOIT être généré à partir du ou
//! des documents CDA correspondants [...] : cas d'un document CDA R2 N3, le PDF/A-1 doit
//! comporter les données suivantes de l'entête CDA : Titre, Type de document, Date et heure de
//! création, Auteur / Responsable du document, Organisation conservant le document, une
//! transcription fidèle du contenu clinique porté dans la partie narrative de chaque section
//! [...]. Sinon le PDF/A-1 doit être identique au PDF encapsulé dans le CDA R2 N1. »
//!
//! Readings: every attached PDF is PDF/A-1 (XMP `pdfaid:part` = 1, fonts embedded, not
//! encrypted) and corresponds to a document of the archive. For a N1, one PDF is byte for byte
//! the embedded one. For a N3, one PDF's text holds the title, the type (`code@displayName`),
//! the creation date (`effectiveTime`, written `JJ/MM/AAAA`, `AAAA-MM-JJ` or `3 novembre 2026`)
//! and its time when the CDA gives one (`10:15`, `10h15`), the author, the custodian, and every
//! word of every section's narrative. Texts are compared case-, accent- and space-insensitively:
//! PDF text extraction does not keep layout. A person author may be written given names then
//! family name or family name then given names, with or without their title ("Dr Jean DUPONT",
//! "DUPONT Jean"); an organisation author by its name.

use std::collections::BTreeSet;

use crate::health::PdfAttachment;
use crate::health::cda::{Body, Cda};
use crate::{Context, Finding, Message, text};

/// Requirement ID.
pub const ID: &str = "ECO.2.1.5";

const MONTHS: [&str; 12] = [
    "janvier",
    "fevrier",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "aout",
    "septembre",
    "octobre",
    "novembre",
    "decembre",
];

fn compact(s: &str) -> String {
    text::fold(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The ways a PDF may write a HL7 date (`YYYYMMDD…`).
pub fn date_forms(hl7: &str) -> Vec<String> {
    if hl7.len() < 8 || !hl7[..8].bytes().all(|b| b.is_ascii_digit()) {
        return Vec::new();
    }
    let (y, m, d) = (&hl7[..4], &hl7[4..6], &hl7[6..8]);
    let month = m
        .parse::<usize>()
        .ok()
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)));
    let mut forms = vec![
        format!("{d}/{m}/{y}"),
        format!("{y}-{m}-{d}"),
        format!("{d}-{m}-{y}"),
        format!("{d}.{m}.{y}"),
    ];
    if let Some(month) = month {
        forms.push(format!("{d} {month} {y}"));
        forms.push(format!("{} {month} {y}", d.trim_start_matches('0')));
    }
    forms
}

fn time_forms(hl7: &str) -> Vec<String> {
    if hl7.len() < 12 || !hl7[8..12].bytes().all(|b| b.is_ascii_digit()) {
        return Vec::new();
    }
    let (h, m) = (&hl7[8..10], &hl7[10..12]);
    vec![format!("{h}:{m}"), format!("{h}h{m}"), format!("{h} h {m}")]
}

/// What a PDF's text lacks of a N3 document (French labels).
fn missing_n3(cda: &Cda, pdf_text: &str) -> Vec<String> {
    let haystack = compact(pdf_text);
    let pdf_words: BTreeSet<String> = text::words(&text::fold(pdf_text)).into_iter().collect();
    let mut missing = Vec::new();
    // A person author in any of the orders a PDF may use; anything else as the CDA writes it.
    let written = |what: &str, v: &str| match (what, &cda.author_person) {
        ("auteur", Some(person)) => person
            .forms()
            .iter()
            .any(|form| haystack.contains(&compact(form))),
        _ => haystack.contains(&compact(v)),
    };
    for (what, value) in [
        ("titre", &cda.title),
        ("type de document", &cda.display_name),
        ("auteur", &cda.author),
        ("organisation conservant le document", &cda.custodian),
    ] {
        match value {
            Some(v) if !written(what, v) => missing.push(format!("{what} « {v} »")),
            Some(_) => {}
            None => missing.push(format!("{what} (absent du CDA)")),
        }
    }
    match cda.effective_time.as_deref() {
        Some(t) => {
            let dates = date_forms(t);
            if !dates.iter().any(|d| haystack.contains(&compact(d))) {
                missing.push(format!(
                    "date de création « {} »",
                    dates.first().cloned().unwrap_or_else(|| t.to_owned())
                ));
            }
            let times = time_forms(t);
            if !times.is_empty() && !times.iter().any(|h| haystack.contains(&compact(h))) {
                missing.push(format!("heure de création « {} »", times[0]));
            }
        }
        None => missing.push("date de création (absente du CDA)".into()),
    }
    if let Body::Structured(sections) = &cda.body {
        for (i, section) in sections.iter().enumerate() {
            let absent: Vec<String> = text::words(&text::fold(&section.narrative))
                .into_iter()
                .filter(|w| !pdf_words.contains(w))
                .collect();
            if !absent.is_empty() {
                let name = section
                    .title
                    .clone()
                    .unwrap_or_else(|| format!("n°{}", i + 1));
                let shown: Vec<String> = absent.into_iter().take(5).collect();
                missing.push(format!(
                    "section « {name} » (mots absents : {})",
                    shown.join(", ")
                ));
            }
        }
    }
    missing
}

fn pdf_name(pdf: &PdfAttachment, i: usize) -> String {
    pdf.name
        .clone()
        .unwrap_or_else(|| format!("PDF n°{}", i + 1))
}

/// Checks a message.
pub fn check(message: &Message<'_>, _context: &Context) -> Finding {
    let documents = match crate::documents_to_judge(message, ID, "PDF invérifiables") {
        Ok(d) => d,
        Err(finding) => return finding,
    };
    let health = message.health();
    if health.pdfs.is_empty() {
        return Finding::fail(
            ID,
            "aucun PDF joint : chaque document CDA doit l'être aussi en PDF/A-1",
        );
    }
    let mut problems = Vec::new();
    let mut matched = vec![false; health.pdfs.len()];
    for (i, pdf) in health.pdfs.iter().enumerate() {
        match pdf.info() {
            Err(e) => problems.push(format!("{} : {e}", pdf_name(pdf, i))),
            Ok(info) => {
                let p = info.pdfa1_problems();
                if !p.is_empty() {
                    problems.push(format!(
                        "{} n'est pas PDF/A-1 : {}",
                        pdf_name(pdf, i),
                        p.join(", ")
                    ));
                }
            }
        }
    }
    for d in &documents {
        match &d.cda.body {
            Body::NonXml {
                content: Some(embedded),
                ..
            } => match health.pdfs.iter().position(|p| &p.content == embedded) {
                Some(i) => matched[i] = true,
                None => problems.push(format!(
                    "aucun PDF joint n'est identique au PDF encapsulé dans {} (CDA N1)",
                    d.path
                )),
            },
            Body::Structured(_) => {
                let mut best: Option<(usize, Vec<String>)> = None;
                for (i, pdf) in health.pdfs.iter().enumerate() {
                    let Ok(info) = pdf.info() else { continue };
                    let Ok(text) = &info.text else { continue };
                    let missing = missing_n3(d.cda, text);
                    if best.as_ref().is_none_or(|(_, b)| missing.len() < b.len()) {
                        best = Some((i, missing));
                    }
                }
                match best {
                    Some((i, missing)) if missing.is_empty() => matched[i] = true,
                    Some((i, missing)) => problems.push(format!(
                        "le PDF le plus proche de {} (CDA N3), {}, ne reprend pas : {}",
                        d.path,
                        pdf_name(&health.pdfs[i], i),
                        missing.join(", ")
                    )),
                    None => problems.push(format!("aucun PDF lisible pour {} (CDA N3)", d.path)),
                }
            }
            // A body that cannot be judged is ECO.2.1.1's finding.
            _ => {}
        }
    }
    let unmatched: Vec<String> = matched
        .iter()
        .enumerate()
        .filter(|(_, m)| !**m)
        .map(|(i, _)| pdf_name(&health.pdfs[i], i))
        .collect();
    if problems.is_empty() && !unmatched.is_empty() {
        problems.push(format!(
            "{} ne correspond à aucun document CDA de l'archive",
            unmatched.join(", ")
        ));
    }
    Finding::from_problems(
        ID,
        problems,
        format!(
            "{} PDF/A-1 générés à partir des {} document(s) CDA",
            health.pdfs.len(),
            documents.len()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let forms = date_forms("20261103101500+0100");
        assert!(forms.contains(&"03/11/2026".to_owned()));
        assert!(forms.contains(&"3 novembre 2026".to_owned()));
        assert!(forms.contains(&"2026-11-03".to_owned()));
        assert_eq!(
            time_forms("20261103101500"),
            vec!["10:15", "10h15", "10 h 15"]
        );
        assert!(time_forms("20261103").is_empty());
        assert!(date_forms("2026").is_empty());
    }

    fn cda(author: &str) -> Cda {
        let xml = format!(
            r#"<ClinicalDocument xmlns="urn:hl7-org:v3">
  <code code="11488-4" displayName="Compte rendu de consultation"/>
  <title>CR de consultation</title>
  <effectiveTime value="20261103"/>
  <author><assignedAuthor>{author}</assignedAuthor></author>
  <custodian><assignedCustodian><representedCustodianOrganization><name>Hôpital A</name></representedCustodianOrganization></assignedCustodian></custodian>
  <component><structuredBody><component><section><title>Motif</title><text>Douleur</text></section></component></structuredBody></component>
</ClinicalDocument>"#
        );
        crate::health::cda::parse(xml.as_bytes()).expect("parse")
    }

    /// What a PDF writing the author as `written` lacks, the author only.
    fn author_missing(cda: &Cda, written: &str) -> Vec<String> {
        let pdf = format!(
            "CR de consultation\nCompte rendu de consultation\n03/11/2026\nAuteur : {written}\nHôpital A\nMotif : Douleur"
        );
        missing_n3(cda, &pdf)
            .into_iter()
            .filter(|m| m.starts_with("auteur"))
            .collect()
    }

    #[test]
    fn person_author_in_either_order() {
        let person = cda(
            "<assignedPerson><name><prefix>Dr</prefix><given>Jean</given><family>DUPONT</family></name></assignedPerson>",
        );
        for written in [
            "Dr Jean DUPONT",
            "DUPONT Jean",
            "Jean DUPONT",
            "Dr DUPONT Jean",
        ] {
            assert!(
                author_missing(&person, written).is_empty(),
                "{written}: {:?}",
                author_missing(&person, written)
            );
        }
        assert_eq!(
            author_missing(&person, "Jean MARTIN"),
            vec!["auteur « Dr Jean DUPONT »"]
        );
        assert!(!author_missing(&person, "Dr Jean").is_empty());
    }

    #[test]
    fn organisation_author() {
        let organisation =
            cda("<representedOrganization><name>Laboratoire B</name></representedOrganization>");
        assert!(author_missing(&organisation, "Laboratoire B").is_empty());
        assert_eq!(
            author_missing(&organisation, "Laboratoire C"),
            vec!["auteur « Laboratoire B »"]
        );
    }
}
