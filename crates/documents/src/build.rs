//! Writes health documents the way the référentiel wants them sent: CDA R2 N1 and N3 with a
//! CI-SIS header, the ebRIM METADATA.XML of an XDM submission, the `IHE_XDM.ZIP` archive, the
//! PDF/A-1 rendering of each document, its file name (ECO.2.1.6) and the message subject
//! (ECO.2.1.3). The reference client composes with it; the fixtures are made with it.

use std::io::Write;

use base64::Engine;
use zip::write::SimpleFileOptions;

use crate::pdfa;
use crate::text;

/// A patient as a CDA header names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientSpec {
    /// INS: (15-character matricule, OID), when known.
    pub ins: Option<(String, String)>,
    /// A local identifier (IPP) with its OID, used when there is no INS.
    pub local_id: (String, String),
    /// Nom de naissance.
    pub birth_name: Option<String>,
    /// Nom utilisé, when different.
    pub used_name: Option<String>,
    /// Prénoms de naissance, first one first.
    pub given: Vec<String>,
    /// Birth date `YYYYMMDD`.
    pub birth_date: Option<String>,
    /// `M`, `F` or `U`.
    pub sex: Option<String>,
}

/// A person (author).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonSpec {
    /// "Dr", "Pr"…
    pub prefix: Option<String>,
    /// First name.
    pub given: String,
    /// Family name.
    pub family: String,
    /// RPPS id.
    pub rpps: String,
}

impl PersonSpec {
    /// "Dr Jean DUPONT".
    pub fn display(&self) -> String {
        let mut parts = Vec::new();
        parts.extend(self.prefix.clone());
        parts.push(self.given.clone());
        parts.push(self.family.clone());
        parts.join(" ")
    }
}

/// The body of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodySpec {
    /// Level 1: this PDF, embedded.
    N1 {
        /// The PDF.
        pdf: Vec<u8>,
    },
    /// Level 3: sections (title, paragraphs).
    N3 {
        /// The sections.
        sections: Vec<(String, Vec<String>)>,
    },
}

/// A document to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentSpec {
    /// Unique id (UUID) of the document.
    pub id: String,
    /// LOINC (or other) code.
    pub code: String,
    /// Its display name: the document type.
    pub display_name: String,
    /// Title.
    pub title: String,
    /// Creation `YYYYMMDDHHMMSS+ZZZZ`.
    pub effective_time: String,
    /// Act date `YYYYMMDD`.
    pub service_start: String,
    /// Author.
    pub author: PersonSpec,
    /// Custodian organisation.
    pub custodian: String,
    /// Body.
    pub body: BodySpec,
}

fn esc(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

fn patient_xml(p: &PatientSpec) -> String {
    let mut ids = String::new();
    if let Some((matricule, oid)) = &p.ins {
        ids.push_str(&format!(
            "<id root=\"{}\" extension=\"{}\"/>",
            esc(oid),
            esc(matricule)
        ));
    }
    ids.push_str(&format!(
        "<id root=\"{}\" extension=\"{}\"/>",
        esc(&p.local_id.1),
        esc(&p.local_id.0)
    ));
    let mut name = String::new();
    for g in &p.given {
        name.push_str(&format!("<given>{}</given>", esc(g)));
    }
    if let Some(b) = &p.birth_name {
        name.push_str(&format!("<family qualifier=\"BR\">{}</family>", esc(b)));
    }
    if let Some(u) = &p.used_name {
        name.push_str(&format!("<family qualifier=\"SP\">{}</family>", esc(u)));
    }
    let sex = p
        .sex
        .as_ref()
        .map(|s| {
            format!(
                "<administrativeGenderCode code=\"{}\" codeSystem=\"2.16.840.1.113883.5.1\"/>",
                esc(s)
            )
        })
        .unwrap_or_default();
    let birth = p
        .birth_date
        .as_ref()
        .map(|b| format!("<birthTime value=\"{}\"/>", esc(b)))
        .unwrap_or_default();
    format!(
        "<recordTarget><patientRole>{ids}<patient><name>{name}</name>{sex}{birth}</patient></patientRole></recordTarget>"
    )
}

/// A CDA R2 document (N1 or N3) for this patient.
pub fn cda(doc: &DocumentSpec, patient: &PatientSpec) -> Vec<u8> {
    let a = &doc.author;
    let prefix = a
        .prefix
        .as_ref()
        .map(|p| format!("<prefix>{}</prefix>", esc(p)))
        .unwrap_or_default();
    let body = match &doc.body {
        BodySpec::N1 { pdf } => format!(
            "<nonXMLBody><text mediaType=\"application/pdf\" representation=\"B64\">{}</text></nonXMLBody>",
            base64::engine::general_purpose::STANDARD.encode(pdf)
        ),
        BodySpec::N3 { sections } => {
            let mut s = String::from("<structuredBody>");
            for (title, paragraphs) in sections {
                s.push_str(&format!(
                    "<component><section><title>{}</title><text>",
                    esc(title)
                ));
                for p in paragraphs {
                    s.push_str(&format!("<paragraph>{}</paragraph>", esc(p)));
                }
                s.push_str("</text></section></component>");
            }
            s.push_str("</structuredBody>");
            s
        }
    };
    let template = match doc.body {
        BodySpec::N1 { .. } => "1.2.250.1.213.1.1.1.1",
        BodySpec::N3 { .. } => "1.2.250.1.213.1.1.1.1.1",
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<realmCode code="FR"/>
<typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
<templateId root="{template}"/>
<id root="{id}"/>
<code code="{code}" codeSystem="2.16.840.1.113883.6.1" displayName="{display}"/>
<title>{title}</title>
<effectiveTime value="{time}"/>
<confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
<languageCode code="fr-FR"/>
{patient}
<author><time value="{time}"/><assignedAuthor><id root="1.2.250.1.71.4.2.1" extension="{rpps}"/><assignedPerson><name>{prefix}<given>{given}</given><family>{family}</family></name></assignedPerson></assignedAuthor></author>
<custodian><assignedCustodian><representedCustodianOrganization><id root="1.2.250.1.71.4.2.2" extension="1750000001"/><name>{custodian}</name></representedCustodianOrganization></assignedCustodian></custodian>
<documentationOf><serviceEvent><effectiveTime><low value="{start}"/></effectiveTime></serviceEvent></documentationOf>
<component>{body}</component>
</ClinicalDocument>
"#,
        id = esc(&doc.id),
        code = esc(&doc.code),
        display = esc(&doc.display_name),
        title = esc(&doc.title),
        time = esc(&doc.effective_time),
        patient = patient_xml(patient),
        rpps = esc(&a.rpps),
        given = esc(&a.given),
        family = esc(&a.family),
        custodian = esc(&doc.custodian),
        start = esc(&doc.service_start),
    )
    .into_bytes()
}

/// The CX patient identifier of METADATA.XML: the INS, else the local id.
pub fn patient_cx(patient: &PatientSpec) -> String {
    let (id, oid) = patient.ins.as_ref().unwrap_or(&patient.local_id);
    format!("{id}^^^&{oid}&ISO^NH")
}

fn slot(name: &str, value: &str) -> String {
    format!(
        "<rim:Slot name=\"{}\"><rim:ValueList><rim:Value>{}</rim:Value></rim:ValueList></rim:Slot>",
        esc(name),
        esc(value)
    )
}

/// METADATA.XML describing these documents (file name, spec, size in bytes).
pub fn metadata(documents: &[(String, &DocumentSpec, usize)], patient: &PatientSpec) -> Vec<u8> {
    let cx = patient_cx(patient);
    let mut objects = String::new();
    for (i, (file, doc, size)) in documents.iter().enumerate() {
        let entry = format!("Document{:02}", i + 1);
        objects.push_str(&format!(
            r#"<rim:ExtrinsicObject id="{entry}" mimeType="text/xml" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">
{created}{start}{source}{uri}{size}{lang}
<rim:Classification classificationScheme="urn:uuid:f0306f51-975f-434e-a61c-c59651d33983" classifiedObject="{entry}" nodeRepresentation="{code}"><rim:Name><rim:LocalizedString value="{display}"/></rim:Name>{scheme}</rim:Classification>
<rim:ExternalIdentifier identificationScheme="urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427" registryObject="{entry}" value="{cx}"><rim:Name><rim:LocalizedString value="XDSDocumentEntry.patientId"/></rim:Name></rim:ExternalIdentifier>
<rim:ExternalIdentifier identificationScheme="urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab" registryObject="{entry}" value="{id}"><rim:Name><rim:LocalizedString value="XDSDocumentEntry.uniqueId"/></rim:Name></rim:ExternalIdentifier>
</rim:ExtrinsicObject>
"#,
            created = slot("creationTime", &doc.effective_time.chars().take(14).collect::<String>()),
            start = slot("serviceStartTime", &doc.service_start),
            source = slot("sourcePatientId", &cx),
            uri = slot("URI", file),
            size = slot("size", &size.to_string()),
            lang = slot("languageCode", "fr-FR"),
            code = esc(&doc.code),
            display = esc(&doc.display_name),
            scheme = slot("codingScheme", "2.16.840.1.113883.6.1"),
            cx = esc(&cx),
            id = esc(&doc.id),
        ));
    }
    let mut associations = String::new();
    for i in 0..documents.len() {
        associations.push_str(&format!(
            "<rim:Association id=\"Association{:02}\" associationType=\"urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember\" sourceObject=\"SubmissionSet\" targetObject=\"Document{:02}\">{}</rim:Association>\n",
            i + 1,
            i + 1,
            slot("SubmissionSetStatus", "Original")
        ));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">
<rim:RegistryObjectList>
{objects}<rim:RegistryPackage id="SubmissionSet">
<rim:ExternalIdentifier identificationScheme="urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446" registryObject="SubmissionSet" value="{cx}"><rim:Name><rim:LocalizedString value="XDSSubmissionSet.patientId"/></rim:Name></rim:ExternalIdentifier>
</rim:RegistryPackage>
<rim:Classification classifiedObject="SubmissionSet" classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd" id="SubmissionSetClassification"/>
{associations}</rim:RegistryObjectList>
</lcm:SubmitObjectsRequest>
"#,
        cx = esc(&cx),
    )
    .into_bytes()
}

/// Files of an XDM archive, before zipping: (path, content).
pub fn xdm_files(documents: &[DocumentSpec], patient: &PatientSpec) -> Vec<(String, Vec<u8>)> {
    let cdas: Vec<(Vec<u8>, &DocumentSpec)> =
        documents.iter().map(|d| (cda(d, patient), d)).collect();
    xdm_files_of(&cdas, patient)
}

/// Files of an XDM archive holding these CDA documents as they are (bytes, and what they
/// say), described by a METADATA.XML written from what they say.
pub fn xdm_files_of(
    cdas: &[(Vec<u8>, &DocumentSpec)],
    patient: &PatientSpec,
) -> Vec<(String, Vec<u8>)> {
    let cdas: Vec<(String, &DocumentSpec, &[u8])> = cdas
        .iter()
        .enumerate()
        .map(|(i, (bytes, d))| (format!("DOC{:04}.XML", i + 1), *d, bytes.as_slice()))
        .collect();
    let described: Vec<(String, &DocumentSpec, usize)> = cdas
        .iter()
        .map(|(f, d, c)| (f.clone(), *d, c.len()))
        .collect();
    let mut index = String::from(
        "<html><head><meta charset=\"utf-8\"><title>IHE_XDM</title></head><body><h1>Documents</h1><ul>",
    );
    for (file, d, _) in &cdas {
        index.push_str(&format!(
            "<li><a href=\"IHE_XDM/SUBSET01/{file}\">{}</a></li>",
            esc(&d.title)
        ));
    }
    index.push_str("</ul></body></html>\r\n");
    let mut files = vec![
        ("INDEX.HTM".to_owned(), index.into_bytes()),
        (
            "README.TXT".to_owned(),
            b"Archive IHE XDM produite par le harnais de conformite MSSante.\r\nContenu : IHE_XDM/SUBSET01 (METADATA.XML et documents CDA R2).\r\n".to_vec(),
        ),
        ("IHE_XDM/SUBSET01/METADATA.XML".to_owned(), metadata(&described, patient)),
    ];
    files.extend(
        cdas.into_iter()
            .map(|(f, _, c)| (format!("IHE_XDM/SUBSET01/{f}"), c.to_vec())),
    );
    files
}

/// Zips files (deflated, fixed dates: the same files give the same archive).
pub fn zip(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for (name, content) in files {
        if w.start_file(name.as_str(), options).is_err() || w.write_all(content).is_err() {
            return Vec::new();
        }
    }
    w.finish().map(|c| c.into_inner()).unwrap_or_default()
}

/// The `IHE_XDM.ZIP` of these documents.
pub fn xdm(documents: &[DocumentSpec], patient: &PatientSpec) -> Vec<u8> {
    zip(&xdm_files(documents, patient))
}

fn fr_date(yyyymmdd: &str) -> String {
    if yyyymmdd.len() >= 8 {
        format!("{}/{}/{}", &yyyymmdd[6..8], &yyyymmdd[4..6], &yyyymmdd[..4])
    } else {
        yyyymmdd.to_owned()
    }
}

fn fr_time(t: &str) -> String {
    if t.len() >= 12 {
        format!("{}:{}", &t[8..10], &t[10..12])
    } else {
        String::new()
    }
}

/// The PDF/A-1 of a document: its embedded PDF (N1), or a rendering of its header and
/// sections (N3) as ECO.2.1.5 lists them.
pub fn pdf(doc: &DocumentSpec, patient: &PatientSpec) -> Vec<u8> {
    match &doc.body {
        BodySpec::N1 { pdf } => pdf.clone(),
        BodySpec::N3 { .. } => pdfa::write(&doc.title, &pdf_lines(doc, patient)),
    }
}

/// The lines of an N3 document's rendering: its header (title, type, creation date, author,
/// custodian, patient) then each section's title and narrative; none for an N1 document.
pub fn pdf_lines(doc: &DocumentSpec, patient: &PatientSpec) -> Vec<String> {
    match &doc.body {
        BodySpec::N1 { .. } => Vec::new(),
        BodySpec::N3 { sections } => {
            let name = patient
                .birth_name
                .clone()
                .or(patient.used_name.clone())
                .unwrap_or_default();
            let mut lines = vec![
                doc.title.clone(),
                format!("Type de document : {}", doc.display_name),
                format!(
                    "Date de création : {} {}",
                    fr_date(&doc.effective_time),
                    fr_time(&doc.effective_time)
                ),
                format!("Auteur : {}", doc.author.display()),
                format!("Établissement : {}", doc.custodian),
                format!(
                    "Patient : {} {} né(e) le {}",
                    text::rniv_upper(&name),
                    patient.given.first().cloned().unwrap_or_default(),
                    patient
                        .birth_date
                        .as_deref()
                        .map(fr_date)
                        .unwrap_or_default()
                ),
                String::new(),
            ];
            for (title, paragraphs) in sections {
                lines.push(title.clone());
                lines.extend(paragraphs.iter().cloned());
                lines.push(String::new());
            }
            lines
        }
    }
}

/// The ECO.2.1.6 file name of a document's PDF.
pub fn pdf_name(doc: &DocumentSpec, patient: &PatientSpec, dossier: Option<&str>) -> String {
    let name = patient
        .birth_name
        .clone()
        .or(patient.used_name.clone())
        .unwrap_or_default();
    let mut n = format!(
        "{}_{}_{}_{}",
        &doc.service_start.chars().take(8).collect::<String>(),
        text::truncate_chars(&doc.display_name, 40).trim_end(),
        text::rniv_upper(&name),
        patient.given.first().cloned().unwrap_or_default()
    );
    if let Some(d) = dossier {
        n.push('_');
        n.push_str(d);
    }
    n.push_str(".pdf");
    n
}

/// The ECO.2.1.3 subject of a message carrying these documents.
pub fn subject(documents: &[DocumentSpec], patient: &PatientSpec) -> String {
    let label = if documents.len() == 1 {
        text::truncate_chars(&documents[0].display_name, 40)
            .trim_end()
            .to_owned()
    } else {
        format!("{} documents", documents.len())
    };
    let name = patient
        .birth_name
        .clone()
        .or(patient.used_name.clone())
        .unwrap_or_default();
    let mut s = format!(
        "XDM/1.0/DDM+{label} {} {}",
        text::rniv_upper(&name),
        text::strip_diacritics(
            patient
                .given
                .first()
                .map(String::as_str)
                .unwrap_or_default()
        )
    );
    if let Some(b) = &patient.birth_date {
        s.push(' ');
        s.push_str(&fr_date(b));
    }
    s
}

/// `X-MSS-CODECDA` for these documents.
pub fn codecda(documents: &[DocumentSpec]) -> String {
    documents
        .iter()
        .map(|d| d.code.clone())
        .collect::<Vec<_>>()
        .join(", ")
}
