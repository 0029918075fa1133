//! Health documents in a message: the client reads the CDA R2 documents the user attaches and
//! sends them the way the référentiel asks — one patient per message and one `IHE_XDM.ZIP`
//! (ECO.2.1.1), the subject `XDM/1.0/DDM+<libellé> <NOM> <prénom> <date>` (ECO.2.1.3), one
//! PDF/A-1 per document (ECO.2.1.5) named `<date>_<type>_<NOM>_<prénom>.pdf` (ECO.2.1.6),
//! `X-MSS-CODECDA` and `X-MSS-INS` computed from the documents themselves (ECO.2.4.1,
//! ECO.2.4.2), never taken from the caller.
//!
//! The CDA reader is the client's own (the judge's reader lives in `rules`, which the client
//! never uses): a tolerant walk over the CI-SIS header with `roxmltree` (no DTD, so no entity
//! expansion), the section narratives flattened to lines.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use documents::build::{self, BodySpec, DocumentSpec, PatientSpec, PersonSpec};

use crate::account::{Defect, Defects};

/// OIDs of the INS (NIR, NIA, and the test NIR and NIA of the INS referential).
pub const INS_OIDS: [&str; 4] = [
    "1.2.250.1.213.1.4.8",
    "1.2.250.1.213.1.4.9",
    "1.2.250.1.213.1.4.10",
    "1.2.250.1.213.1.4.11",
];

/// Largest CDA the client reads (an N1 embedding a PDF of a few megabytes is common).
pub const MAX_CDA: usize = 20 * 1024 * 1024;

/// Why health documents could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HealthError {
    /// A CDA attachment is not a readable CDA R2 document.
    #[error("{file}: not a readable CDA R2 document ({why})")]
    Unreadable {
        /// Attachment name.
        file: String,
        /// What is wrong.
        why: String,
    },
    /// The documents concern more than one patient (ECO.2.1.1: one patient per message).
    #[error("the documents concern several patients ({0} and {1}): send one message per patient")]
    SeveralPatients(String, String),
}

/// A CDA document as the user attached it, and what its header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdaDocument {
    /// The attachment's bytes, sent unchanged in the archive.
    pub bytes: Vec<u8>,
    /// What the header and body say.
    pub spec: DocumentSpec,
    /// The patient of its header.
    pub patient: PatientSpec,
}

/// Whether an attachment is a CDA document: XML whose root is `ClinicalDocument`.
pub fn is_cda(content_type: &str, bytes: &[u8]) -> bool {
    let ct = content_type.to_ascii_lowercase();
    let xml_type = ct.contains("xml") || ct.is_empty() || ct == "application/octet-stream";
    if !xml_type || bytes.len() > MAX_CDA {
        return false;
    }
    // Cheap test first: the root element's name within the first kilobytes.
    let head = &bytes[..bytes.len().min(4096)];
    let head = String::from_utf8_lossy(head);
    head.contains("ClinicalDocument")
}

fn hl7<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn hl7_all<'a, 'i: 'a>(
    node: roxmltree::Node<'a, 'i>,
    name: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> + 'a {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn path<'a, 'i>(node: roxmltree::Node<'a, 'i>, names: &[&str]) -> Option<roxmltree::Node<'a, 'i>> {
    names.iter().try_fold(node, |n, name| hl7(n, name))
}

fn text_of(node: roxmltree::Node<'_, '_>) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Elements of the CDA narrative block that start a line of their own.
const BLOCKS: &[&str] = &["paragraph", "item", "tr", "caption", "br", "list", "table"];

/// A section's narrative (`text`) as lines: paragraphs, list items and table rows (cells
/// separated by " | ") each on a line.
fn narrative_lines(text: roxmltree::Node<'_, '_>) -> Vec<String> {
    fn walk(node: roxmltree::Node<'_, '_>, line: &mut String, lines: &mut Vec<String>) {
        for child in node.children() {
            if child.is_text() {
                line.push_str(child.text().unwrap_or_default());
            } else if child.is_element() {
                let name = child.tag_name().name();
                let block = BLOCKS.contains(&name);
                if block {
                    flush(line, lines);
                }
                if (name == "td" || name == "th") && !line.trim().is_empty() {
                    line.push_str(" | ");
                }
                walk(child, line, lines);
                if block {
                    flush(line, lines);
                }
            }
        }
    }
    fn flush(line: &mut String, lines: &mut Vec<String>) {
        let clean = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if !clean.is_empty() {
            lines.push(clean);
        }
        line.clear();
    }
    let mut line = String::new();
    let mut lines = Vec::new();
    walk(text, &mut line, &mut lines);
    flush(&mut line, &mut lines);
    lines
}

fn read_patient(doc: roxmltree::Node<'_, '_>) -> Result<PatientSpec, String> {
    let role = path(doc, &["recordTarget", "patientRole"])
        .ok_or("no recordTarget/patientRole in the header")?;
    let mut ins = None;
    let mut local = None;
    for id in hl7_all(role, "id") {
        let (Some(root), Some(ext)) = (id.attribute("root"), id.attribute("extension")) else {
            continue;
        };
        if INS_OIDS.contains(&root) {
            ins.get_or_insert((ext.trim().to_owned(), root.to_owned()));
        } else {
            local.get_or_insert((ext.trim().to_owned(), root.to_owned()));
        }
    }
    let patient = hl7(role, "patient").ok_or("no patientRole/patient in the header")?;
    let mut p = PatientSpec {
        local_id: local
            .or_else(|| ins.clone())
            .ok_or("the patient has no identifier")?,
        ins,
        birth_name: None,
        used_name: None,
        given: Vec::new(),
        birth_date: hl7(patient, "birthTime")
            .and_then(|b| b.attribute("value"))
            .map(|v| v.chars().take(8).collect()),
        sex: hl7(patient, "administrativeGenderCode")
            .and_then(|g| g.attribute("code"))
            .map(str::to_owned),
    };
    if let Some(name) = hl7(patient, "name") {
        for family in hl7_all(name, "family") {
            let value = text_of(family);
            if value.is_empty() {
                continue;
            }
            match family.attribute("qualifier") {
                Some("BR") => {
                    p.birth_name.get_or_insert(value);
                }
                _ => {
                    p.used_name.get_or_insert(value);
                }
            }
        }
        for given in hl7_all(name, "given") {
            if matches!(given.attribute("qualifier"), None | Some("BR")) {
                let value = text_of(given);
                if !value.is_empty() {
                    p.given.push(value);
                }
            }
        }
    }
    if p.birth_name.is_none() && p.used_name.is_none() {
        return Err("the patient has no name".into());
    }
    Ok(p)
}

fn read_author(doc: roxmltree::Node<'_, '_>) -> PersonSpec {
    let assigned = path(doc, &["author", "assignedAuthor"]);
    let rpps = assigned
        .and_then(|a| hl7(a, "id"))
        .and_then(|i| i.attribute("extension"))
        .unwrap_or_default()
        .to_owned();
    if let Some(name) = assigned.and_then(|a| path(a, &["assignedPerson", "name"])) {
        let prefix = hl7(name, "prefix").map(text_of).filter(|s| !s.is_empty());
        let given = hl7(name, "given").map(text_of).unwrap_or_default();
        let family = hl7(name, "family").map(text_of).unwrap_or_default();
        return PersonSpec {
            prefix,
            given,
            family,
            rpps,
        };
    }
    // A document written by software: its name stands for the author.
    let device = assigned
        .and_then(|a| hl7(a, "assignedAuthoringDevice"))
        .map(|d| {
            [
                hl7(d, "manufacturerModelName").map(text_of),
                hl7(d, "softwareName").map(text_of),
            ]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
        })
        .unwrap_or_default();
    PersonSpec {
        prefix: None,
        given: String::new(),
        family: device,
        rpps,
    }
}

/// Reads a CDA R2 document (N1 embedding a PDF, or N3).
pub fn read_cda(file: &str, bytes: &[u8]) -> Result<CdaDocument, HealthError> {
    let unreadable = |why: String| HealthError::Unreadable {
        file: file.to_owned(),
        why,
    };
    if bytes.len() > MAX_CDA {
        return Err(unreadable(format!("larger than {MAX_CDA} bytes")));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| unreadable(format!("not UTF-8: {e}")))?;
    let xml = roxmltree::Document::parse_with_options(
        text,
        roxmltree::ParsingOptions {
            allow_dtd: false,
            ..roxmltree::ParsingOptions::default()
        },
    )
    .map_err(|e| unreadable(e.to_string()))?;
    let doc = xml.root_element();
    if doc.tag_name().name() != "ClinicalDocument" {
        return Err(unreadable(format!(
            "root element is {}, not ClinicalDocument",
            doc.tag_name().name()
        )));
    }
    let patient = read_patient(doc).map_err(|e| unreadable(e.to_owned()))?;
    let code = hl7(doc, "code").ok_or_else(|| unreadable("no code".into()))?;
    let effective_time = hl7(doc, "effectiveTime")
        .and_then(|e| e.attribute("value"))
        .unwrap_or_default()
        .to_owned();
    let service_start = path(
        doc,
        &["documentationOf", "serviceEvent", "effectiveTime", "low"],
    )
    .and_then(|l| l.attribute("value"))
    .map(|v| v.chars().take(8).collect())
    .unwrap_or_else(|| effective_time.chars().take(8).collect());
    let body_component = hl7(doc, "component").ok_or_else(|| unreadable("no body".into()))?;
    let body = if let Some(non_xml) = hl7(body_component, "nonXMLBody") {
        let text = hl7(non_xml, "text").ok_or_else(|| unreadable("empty nonXMLBody".into()))?;
        let media = text.attribute("mediaType").unwrap_or_default();
        if !media.eq_ignore_ascii_case("application/pdf") {
            return Err(unreadable(format!(
                "a level-1 body of type {media:?}: only PDF can be sent as the document's PDF"
            )));
        }
        let b64: String = text_of(text).split_whitespace().collect();
        let pdf = STANDARD
            .decode(b64.as_bytes())
            .map_err(|e| unreadable(format!("embedded PDF is not base64: {e}")))?;
        if !pdf.starts_with(b"%PDF-") {
            return Err(unreadable("the embedded document is not a PDF".into()));
        }
        BodySpec::N1 { pdf }
    } else if let Some(structured) = hl7(body_component, "structuredBody") {
        let sections = structured
            .descendants()
            .filter(|n| n.is_element() && n.tag_name().name() == "section")
            .map(|s| {
                let title = hl7(s, "title").map(text_of).unwrap_or_default();
                let lines = hl7(s, "text").map(narrative_lines).unwrap_or_default();
                (title, lines)
            })
            .filter(|(t, l)| !t.is_empty() || !l.is_empty())
            .collect();
        BodySpec::N3 { sections }
    } else {
        return Err(unreadable("neither nonXMLBody nor structuredBody".into()));
    };
    let spec = DocumentSpec {
        id: hl7(doc, "id")
            .map(|i| {
                let root = i.attribute("root").unwrap_or_default();
                match i.attribute("extension") {
                    Some(ext) => format!("{root}^{ext}"),
                    None => root.to_owned(),
                }
            })
            .unwrap_or_default(),
        code: code.attribute("code").unwrap_or_default().to_owned(),
        display_name: code.attribute("displayName").unwrap_or_default().to_owned(),
        title: hl7(doc, "title").map(text_of).unwrap_or_default(),
        effective_time,
        service_start,
        author: read_author(doc),
        custodian: path(
            doc,
            &[
                "custodian",
                "assignedCustodian",
                "representedCustodianOrganization",
                "name",
            ],
        )
        .map(text_of)
        .unwrap_or_default(),
        body,
    };
    if spec.code.is_empty() {
        return Err(unreadable("the document has no type code".into()));
    }
    Ok(CdaDocument {
        bytes: bytes.to_vec(),
        spec,
        patient,
    })
}

/// Whether the patient's identity is qualified for `X-MSS-INS: O`: an INS, and the birth
/// name, first given name, birth date and sex of the header.
pub fn qualified(patient: &PatientSpec) -> bool {
    patient.ins.is_some()
        && patient.birth_name.is_some()
        && !patient.given.is_empty()
        && patient.birth_date.is_some()
        && patient.sex.is_some()
}

fn identity(p: &PatientSpec) -> String {
    let (id, oid) = p.ins.as_ref().unwrap_or(&p.local_id);
    format!("{id}@{oid}")
}

/// What a message carrying health documents is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The `IHE_XDM.ZIP` archive.
    pub xdm: Vec<u8>,
    /// One PDF per document: (file name, bytes).
    pub pdfs: Vec<(String, Vec<u8>)>,
    /// The subject.
    pub subject: String,
    /// `X-MSS-CODECDA`.
    pub codecda: String,
    /// `X-MSS-INS`: `O` or `N`.
    pub ins: &'static str,
}

/// Builds the archive, PDFs, subject and headers of a message carrying these documents.
pub fn render(documents: &[CdaDocument], defects: &Defects) -> Result<Rendered, HealthError> {
    let Some(first) = documents.first() else {
        return Err(HealthError::Unreadable {
            file: String::new(),
            why: "no document".into(),
        });
    };
    if let Some(other) = documents
        .iter()
        .find(|d| identity(&d.patient) != identity(&first.patient))
    {
        return Err(HealthError::SeveralPatients(
            identity(&first.patient),
            identity(&other.patient),
        ));
    }
    // The most complete header of the patient names them (documents of one patient may be
    // written by different software).
    let patient = documents
        .iter()
        .map(|d| &d.patient)
        .find(|p| qualified(p))
        .unwrap_or(&first.patient)
        .clone();
    let specs: Vec<DocumentSpec> = documents.iter().map(|d| d.spec.clone()).collect();
    let xdm = if defects.contains(&Defect::NoXdm) {
        Vec::new()
    } else {
        let cdas: Vec<(Vec<u8>, &DocumentSpec)> = documents
            .iter()
            .map(|d| (d.bytes.clone(), &d.spec))
            .collect();
        build::zip(&build::xdm_files_of(&cdas, &patient))
    };
    let pdfs = documents
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let name = if defects.contains(&Defect::PdfNamedFreely) {
                format!("document{}.pdf", i + 1)
            } else {
                build::pdf_name(&d.spec, &patient, None)
            };
            let bytes = if defects.contains(&Defect::PdfWithoutNarrative) {
                documents::pdfa::write(&d.spec.title, std::slice::from_ref(&d.spec.title))
            } else {
                build::pdf(&d.spec, &patient)
            };
            (name, bytes)
        })
        .collect();
    let mut subject = build::subject(&specs, &patient);
    if defects.contains(&Defect::SubjectNotTruncated) && specs.len() == 1 {
        subject = subject.replacen(
            &documents::text::truncate_chars(&specs[0].display_name, 40)
                .trim_end()
                .to_owned(),
            &specs[0].display_name,
            1,
        );
    }
    let codecda = if defects.contains(&Defect::CodecdaFirstDocumentOnly) {
        specs[0].code.clone()
    } else {
        build::codecda(&specs)
    };
    let ins = if qualified(&patient)
        || (defects.contains(&Defect::InsOWithoutBirthName) && patient.ins.is_some())
    {
        "O"
    } else {
        "N"
    };
    Ok(Rendered {
        xdm,
        pdfs,
        subject,
        codecda,
        ins,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use documents::fixtures;

    fn read(doc: &DocumentSpec, patient: &PatientSpec) -> CdaDocument {
        read_cda("DOC.XML", &build::cda(doc, patient)).expect("reads")
    }

    #[test]
    fn reads_back_what_a_cda_writer_wrote() {
        let n3 = fixtures::biology_n3();
        let d = read(&n3, &fixtures::patient());
        assert_eq!(d.spec.code, n3.code);
        assert_eq!(d.spec.display_name, n3.display_name);
        assert_eq!(d.spec.title, n3.title);
        assert_eq!(d.spec.service_start, n3.service_start);
        assert_eq!(d.spec.author, n3.author);
        assert_eq!(d.spec.custodian, n3.custodian);
        assert_eq!(d.spec.body, n3.body);
        assert_eq!(d.patient, fixtures::patient());
        let n1 = fixtures::letter_n1();
        assert_eq!(read(&n1, &fixtures::patient()).spec.body, n1.body);
    }

    #[test]
    fn renders_headers_from_the_documents() {
        let docs = [
            read(&fixtures::biology_n3(), &fixtures::patient()),
            read(&fixtures::letter_n1(), &fixtures::patient()),
        ];
        let r = render(&docs, &Defects::new()).expect("renders");
        assert_eq!(r.codecda, "11502-2, 11490-0");
        assert_eq!(r.ins, "O");
        assert!(
            r.subject
                .starts_with("XDM/1.0/DDM+2 documents MULLER-DUPRE"),
            "{}",
            r.subject
        );
        assert_eq!(r.pdfs.len(), 2);
        assert!(
            r.pdfs[0]
                .0
                .starts_with("20261102_CR d'examens biologiques_MULLER-DUPRE_")
        );
        let DocumentSpec {
            body: BodySpec::N1 { pdf },
            ..
        } = fixtures::letter_n1()
        else {
            panic!("N1");
        };
        assert_eq!(r.pdfs[1].1, pdf, "an N1's PDF is the embedded one");
        assert!(r.xdm.starts_with(b"PK"));
        let one = render(&docs[1..], &Defects::new()).expect("renders");
        assert!(
            one.subject
                .contains("Lettre de liaison à la sortie d'un établ MULLER-DUPRE"),
            "{}",
            one.subject
        );
        let unqualified = [read(
            &fixtures::biology_n3(),
            &fixtures::patient_without_birth_name(),
        )];
        assert_eq!(
            render(&unqualified, &Defects::new()).expect("renders").ins,
            "N"
        );
    }

    #[test]
    fn refuses_documents_of_two_patients_and_broken_cdas() {
        let docs = [
            read(&fixtures::biology_n3(), &fixtures::patient()),
            read(&fixtures::letter_n1(), &fixtures::other_patient()),
        ];
        assert!(matches!(
            render(&docs, &Defects::new()),
            Err(HealthError::SeveralPatients(..))
        ));
        for bad in [
            &b"<ClinicalDocument"[..],
            b"<!DOCTYPE x [<!ENTITY a 'b'>]><ClinicalDocument/>",
            b"<ClinicalDocument xmlns=\"urn:hl7-org:v3\"/>",
            b"<Other/>",
            &[0xff, 0xfe],
        ] {
            assert!(read_cda("x.xml", bad).is_err());
        }
    }

    #[test]
    fn narratives_keep_lists_and_tables_on_their_own_lines() {
        let xml = "<text><paragraph>Un <content>mot</content></paragraph><list><item>a</item>\
                   <item>b</item></list><table><tr><td>Hb</td><td>13</td></tr></table></text>";
        let doc = roxmltree::Document::parse(xml).expect("xml");
        assert_eq!(
            narrative_lines(doc.root_element()),
            ["Un mot", "a", "b", "Hb | 13"]
        );
    }

    #[test]
    fn recognises_cda_attachments() {
        let cda = build::cda(&fixtures::biology_n3(), &fixtures::patient());
        assert!(is_cda("application/xml", &cda));
        assert!(is_cda("text/xml", &cda));
        assert!(!is_cda("application/pdf", &cda));
        assert!(!is_cda("application/xml", b"<note/>"));
    }
}
