//! ECO.2.1.6 — « Les fichiers au format PDF présents en pièce jointe DOIVENT respecter la
//! convention de nommage suivante : <date de l'acte>_<type document>_<NOM>_<prenom>_<numéro de
//! dossier>.pdf. Tous les champs sont obligatoires à l'exception du champ <numéro de dossier>. »
//! The act date is `documentationOf/serviceEvent/effectiveTime/low` (or METADATA's
//! `serviceStartTime`) as `AAAAMMJJ`; the type is `code@displayName` (or METADATA's
//! `typeCodeDisplayName`) truncated to 40 characters; NOM is the birth name (else the used
//! name) in upper case; prénom the first name.
//!
//! Readings (VERIFICATION.md): the référentiel's example 2 writes "etabl" for the label "établ",
//! so the type is compared after removing diacritics and case-folding; NOM must be upper case
//! (diacritics tolerated, as the examples do not say); the prénom is compared like the type.
//! Each PDF must be named after one of the archive's documents. The act date may be the CDA's
//! (`serviceEvent/effectiveTime/low`) or METADATA's (`serviceStartTime`): when both exist and
//! differ, either is accepted, and an explanation names both.

use crate::health::Document;
use crate::{Context, Finding, Message, text};

/// Requirement ID.
pub const ID: &str = "ECO.2.1.6";

/// What a document's PDF name must contain.
struct Expected {
    /// The accepted act dates (`AAAAMMJJ`): the CDA's, then METADATA's when it differs.
    dates: Vec<DatedBy>,
    label: Option<String>,
    nom: Option<String>,
    prenoms: Vec<String>,
}

/// An act date and where it was read.
struct DatedBy {
    /// `AAAAMMJJ`.
    date: String,
    /// "CDA" or "METADATA.XML".
    source: &'static str,
}

/// The first eight characters of an HL7 date (`AAAAMMJJ…`), when it has them.
fn day(t: &str) -> Option<String> {
    t.get(..8).map(str::to_owned)
}

fn expected(d: &Document<'_>) -> Expected {
    let mut dates: Vec<DatedBy> = Vec::new();
    let sources = [
        (d.cda.service_start.as_deref(), "CDA"),
        (
            d.entry.and_then(|e| e.service_start.as_deref()),
            "METADATA.XML",
        ),
    ];
    for (value, source) in sources {
        if let Some(date) = value.and_then(day)
            && !dates.iter().any(|known| known.date == date)
        {
            dates.push(DatedBy { date, source });
        }
    }
    let label =
        crate::eco_2_1_3::type_label(d).map(|l| text::truncate_chars(&l, 40).trim_end().to_owned());
    let p = &d.cda.patient;
    let mut prenoms: Vec<String> = p.first_given().map(str::to_owned).into_iter().collect();
    prenoms.extend(p.called.clone());
    Expected {
        dates,
        label,
        nom: p.name().map(str::to_owned),
        prenoms,
    }
}

/// What is wrong with a name for one document (empty: it fits).
fn judge(name: &str, e: &Expected) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(stem) = name
        .strip_suffix(".pdf")
        .or_else(|| name.strip_suffix(".PDF"))
    else {
        return vec!["l'extension n'est pas .pdf".into()];
    };
    let fields: Vec<&str> = stem.split('_').collect();
    let label_fields = e.label.as_deref().map_or(1, |l| l.split('_').count());
    if fields.len() < 3 + label_fields {
        return vec![format!(
            "{} champ(s) séparé(s) par « _ » au lieu de 4 ou 5 (date_type_NOM_prénom[_dossier])",
            fields.len()
        )];
    }
    let date = fields[0];
    match e.dates.as_slice() {
        _ if e.dates.iter().any(|d| d.date == date) => {}
        [] => problems.push("date de l'acte absente du CDA et de METADATA.XML".into()),
        [d] => problems.push(format!(
            "date de l'acte « {date} » au lieu de « {} »",
            d.date
        )),
        several => problems.push(format!(
            "date de l'acte « {date} » au lieu de {}",
            several
                .iter()
                .map(|d| format!("« {} » ({})", d.date, d.source))
                .collect::<Vec<_>>()
                .join(" ou ")
        )),
    }
    let label = fields[1..1 + label_fields].join("_");
    match &e.label {
        Some(l) if text::fold(l) == text::fold(&label) => {}
        Some(l) => problems.push(format!("type « {label} » au lieu de « {l} »")),
        None => problems.push("type de document absent du CDA et de METADATA.XML".into()),
    }
    let nom = fields[1 + label_fields];
    match &e.nom {
        Some(n) if text::fold(n) != text::fold(nom) => problems.push(format!(
            "NOM « {nom} » au lieu de « {} »",
            text::rniv_upper(n)
        )),
        Some(n) if !text::is_upper(nom) => problems.push(format!(
            "NOM « {nom} » doit être en majuscules : « {} »",
            text::rniv_upper(n)
        )),
        Some(_) => {}
        None => problems.push("nom de l'usager absent du CDA".into()),
    }
    let prenom = fields[2 + label_fields];
    if !e
        .prenoms
        .iter()
        .any(|p| text::fold(p) == text::fold(prenom))
    {
        problems.push(format!(
            "prénom « {prenom} » au lieu de « {} »",
            e.prenoms.first().cloned().unwrap_or_default()
        ));
    }
    match &fields[3 + label_fields..] {
        [] => {}
        [dossier] if !dossier.is_empty() => {}
        [_] => problems.push("numéro de dossier vide".into()),
        extra => problems.push(format!("{} champ(s) en trop après le prénom", extra.len())),
    }
    problems
}

/// The name a document's PDF should have (without the optional dossier number).
fn example(e: &Expected) -> String {
    format!(
        "{}_{}_{}_{}.pdf",
        e.dates.first().map_or("AAAAMMJJ", |d| d.date.as_str()),
        e.label.as_deref().unwrap_or("type"),
        e.nom
            .as_deref()
            .map(text::rniv_upper)
            .unwrap_or_else(|| "NOM".into()),
        e.prenoms.first().map(String::as_str).unwrap_or("prenom")
    )
}

/// Checks a message.
pub fn check(message: &Message<'_>, _context: &Context) -> Finding {
    let documents = match crate::documents_to_judge(message, ID, "noms des PDF invérifiables") {
        Ok(d) => d,
        Err(finding) => return finding,
    };
    let health = message.health();
    if health.pdfs.is_empty() {
        return Finding::fail(ID, "aucun PDF joint");
    }
    let expectations: Vec<Expected> = documents.iter().map(expected).collect();
    let mut problems = Vec::new();
    let mut names = Vec::new();
    for (i, pdf) in health.pdfs.iter().enumerate() {
        let Some(name) = pdf.name.as_deref() else {
            problems.push(format!("le PDF n°{} n'a pas de nom de fichier", i + 1));
            continue;
        };
        names.push(name.to_owned());
        let best = expectations
            .iter()
            .map(|e| (e, judge(name, e)))
            .min_by_key(|(_, p)| p.len());
        if let Some((e, p)) = best
            && !p.is_empty()
        {
            problems.push(format!(
                "« {name} » : {} (attendu : « {} »)",
                p.join(", "),
                example(e)
            ));
        }
    }
    Finding::from_problems(
        ID,
        problems,
        format!("PDF nommés selon la convention : {}", names.join(", ")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e() -> Expected {
        Expected {
            dates: vec![DatedBy {
                date: "20150802".into(),
                source: "CDA",
            }],
            label: Some("Lettre de liaison à la sortie d'un établ".into()),
            nom: Some("Vial".into()),
            prenoms: vec!["Paul".into()],
        }
    }

    #[test]
    fn names_of_the_referentiel_examples() {
        assert!(
            judge(
                "20150802_Lettre de liaison à la sortie d'un etabl_VIAL_Paul.pdf",
                &e()
            )
            .is_empty()
        );
        assert!(
            judge(
                "20150802_Lettre de liaison à la sortie d'un établ_VIAL_Paul_12150302014578.pdf",
                &e()
            )
            .is_empty()
        );
        let p = judge("20150802_Lettre de liaison_Vial_Paul.pdf", &e());
        assert!(
            p.iter().any(|x| x.contains("type")) && p.iter().any(|x| x.contains("majuscules")),
            "{p:?}"
        );
        assert!(
            judge(
                "2015-08-02_Lettre de liaison à la sortie d'un etabl_VIAL_Paul.pdf",
                &e()
            )[0]
            .contains("date")
        );
        assert!(judge("VIAL_Paul.pdf", &e())[0].contains("champ"));
        assert!(
            judge(
                "20150802_Lettre de liaison à la sortie d'un etabl_VIAL_Paul.txt",
                &e()
            )[0]
            .contains("extension")
        );
        assert!(
            judge(
                "20150802_Lettre de liaison à la sortie d'un etabl_VIAL_Paul_1_2.pdf",
                &e()
            )[0]
            .contains("en trop")
        );
    }

    const NAME: &str = "_Lettre de liaison à la sortie d'un etabl_VIAL_Paul.pdf";

    /// Expectations with a CDA and a METADATA act date.
    fn two_dates(cda: &str, metadata: &str) -> Expected {
        let mut e = e();
        e.dates = vec![
            DatedBy {
                date: cda.into(),
                source: "CDA",
            },
            DatedBy {
                date: metadata.into(),
                source: "METADATA.XML",
            },
        ];
        e
    }

    #[test]
    fn either_act_date() {
        let e = two_dates("20150802", "20150801");
        assert!(judge(&format!("20150802{NAME}"), &e).is_empty());
        assert!(judge(&format!("20150801{NAME}"), &e).is_empty());
        let p = judge(&format!("20150803{NAME}"), &e);
        assert_eq!(
            p,
            vec![
                "date de l'acte « 20150803 » au lieu de « 20150802 » (CDA) ou « 20150801 » (METADATA.XML)"
            ]
        );
        assert!(example(&e).starts_with("20150802_"), "{}", example(&e));
        let mut none = e;
        none.dates.clear();
        assert!(judge(&format!("20150802{NAME}"), &none)[0].contains("absente"));
    }

    #[test]
    fn act_dates_of_a_document() {
        let cda_xml = |low: &str| {
            format!(
                r#"<ClinicalDocument xmlns="urn:hl7-org:v3"><documentationOf><serviceEvent><effectiveTime>{low}</effectiveTime></serviceEvent></documentationOf></ClinicalDocument>"#
            )
        };
        let make_entry = |start: Option<&str>| crate::health::metadata::DocumentEntry {
            service_start: start.map(str::to_owned),
            ..Default::default()
        };
        let dates = |low: &str, start: Option<&str>| {
            let cda = crate::health::cda::parse(cda_xml(low).as_bytes()).expect("cda");
            let entry = make_entry(start);
            let document = Document {
                path: "IHE_XDM/SUBSET01/DOC0001.XML",
                cda: &cda,
                entry: Some(&entry),
            };
            expected(&document)
                .dates
                .into_iter()
                .map(|d| format!("{} {}", d.source, d.date))
                .collect::<Vec<_>>()
        };
        let low = r#"<low value="20261102101500+0100"/>"#;
        assert_eq!(
            dates(low, Some("20261101")),
            vec!["CDA 20261102", "METADATA.XML 20261101"]
        );
        assert_eq!(dates(low, Some("20261102090000")), vec!["CDA 20261102"]);
        assert_eq!(dates("", Some("20261101")), vec!["METADATA.XML 20261101"]);
        assert!(dates("", None).is_empty());
    }
}
