//! Realistic French material to test the rules with: patients with and without a qualified INS,
//! CDA N1 and N3 documents, XDM archives, PDF/A-1 files, and whole messages — conformant ones
//! and ones that break one requirement for one reason ([`cases`]). The golden files under
//! `crates/rules/tests/golden/` are written from here by `cargo xtask fixtures`.
//!
//! Everything is deterministic (fixed dates, identifiers and MIME boundaries).

use lopdf::dictionary;
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::raw::Raw;

use crate::build::{self, BodySpec, DocumentSpec, PatientSpec, PersonSpec};
use crate::pdfa;
use crate::remove_header;

/// The sending professional's BAL.
pub const SENDER: &str = "marie.martin@operateur-fictif.mssante.fr";
/// A professional recipient.
pub const RECIPIENT: &str = "paul.durand@operateur-fictif.mssante.fr";
/// An application BAL.
pub const APP_SENDER: &str = "resultats-biologie@operateur-fictif.mssante.fr";
/// The organisational BAL an application BAL's replies go to.
pub const APP_REPLY_TO: &str = "secretariat-biologie@operateur-fictif.mssante.fr";
/// The product reference of X-MSS-NIL.
pub const NIL: &str = "HARNAIS-REF-0001";

/// A test INS matricule (test OID .10) with a valid key.
pub fn ins_matricule(nir13: &str) -> String {
    format!("{nir13}{:02}", crate::ins_control_key(nir13).unwrap_or(0))
}

/// Hélène Muller-Dupré, with a qualified INS (test NIR).
pub fn patient() -> PatientSpec {
    PatientSpec {
        ins: Some((
            ins_matricule("2480975123005"),
            "1.2.250.1.213.1.4.10".into(),
        )),
        local_id: ("IPP-000123".into(), "1.2.250.1.71.4.2.7.1750000001".into()),
        birth_name: Some("Muller-Dupré".into()),
        used_name: Some("Martin".into()),
        given: vec!["Hélène".into(), "Marie".into()],
        birth_date: Some("19480902".into()),
        sex: Some("F".into()),
    }
}

/// Another patient (for the "one patient per message" rule).
pub fn other_patient() -> PatientSpec {
    PatientSpec {
        ins: Some((
            ins_matricule("1780578058111"),
            "1.2.250.1.213.1.4.10".into(),
        )),
        local_id: ("IPP-000456".into(), "1.2.250.1.71.4.2.7.1750000001".into()),
        birth_name: Some("Vial".into()),
        used_name: None,
        given: vec!["Paul".into()],
        birth_date: Some("19781126".into()),
        sex: Some("M".into()),
    }
}

/// A patient whose identity is not qualified: no INS, only the local identifier.
pub fn unqualified_patient() -> PatientSpec {
    PatientSpec {
        ins: None,
        ..patient()
    }
}

/// A patient with an INS but no birth name in the document (only the used name): the
/// identity is not qualified, `X-MSS-INS` must be `N` (ECO.2.4.2).
pub fn patient_without_birth_name() -> PatientSpec {
    PatientSpec {
        birth_name: None,
        ..patient()
    }
}

fn author() -> PersonSpec {
    PersonSpec {
        prefix: Some("Dr".into()),
        given: "Marie".into(),
        family: "MARTIN".into(),
        rpps: "810000000001".into(),
    }
}

/// A N3 biology report.
pub fn biology_n3() -> DocumentSpec {
    DocumentSpec {
        id: "5c9a1d7e-2b8f-4c3a-9e61-0a7d2f4b8c11".into(),
        code: "11502-2".into(),
        display_name: "CR d'examens biologiques".into(),
        title: "Compte rendu d'examens de biologie médicale".into(),
        effective_time: "20261103101500+0100".into(),
        service_start: "20261102".into(),
        author: author(),
        custodian: "Laboratoire de biologie Hôpital A".into(),
        body: BodySpec::N3 {
            sections: vec![
                (
                    "Hématologie".into(),
                    vec![
                        "Hémoglobine : 13,5 g/dL (valeurs de référence 12,0 à 16,0)".into(),
                        "Leucocytes : 6,2 G/L".into(),
                    ],
                ),
                (
                    "Conclusion".into(),
                    vec!["Bilan sans anomalie. À recontrôler dans six mois.".into()],
                ),
            ],
        },
    }
}

/// A N1 discharge letter whose label is over 40 characters, embedding a PDF/A-1.
pub fn letter_n1() -> DocumentSpec {
    let lines = vec![
        "Lettre de liaison à la sortie d'un établissement de soins".to_owned(),
        "Patiente hospitalisée du 28/10/2026 au 02/11/2026 en cardiologie.".to_owned(),
        "Traitement de sortie : bisoprolol 2,5 mg le matin.".to_owned(),
    ];
    DocumentSpec {
        id: "8e2f6a40-1c3d-4b5e-8f70-91a2b3c4d5e6".into(),
        code: "11490-0".into(),
        display_name: "Lettre de liaison à la sortie d'un établissement de soins".into(),
        title: "Lettre de liaison de sortie".into(),
        effective_time: "20261102170000+0100".into(),
        service_start: "20261102".into(),
        author: author(),
        custodian: "Hôpital A – Service de cardiologie".into(),
        body: BodySpec::N1 {
            pdf: pdfa::write("Lettre de liaison de sortie", &lines),
        },
    }
}

/// An attachment: file name, MIME type, bytes.
pub type File = (String, String, Vec<u8>);

/// A message to compose.
#[derive(Debug, Clone)]
pub struct Eml {
    /// From: (label, address); no label when `None`.
    pub from: (Option<String>, String),
    /// To addresses.
    pub to: Vec<String>,
    /// Subject.
    pub subject: String,
    /// Message-ID (without brackets); none when `None`.
    pub message_id: Option<String>,
    /// Extra headers, in order.
    pub headers: Vec<(String, String)>,
    /// Plain text body.
    pub text: String,
    /// HTML body, making the message `multipart/alternative`.
    pub html: Option<String>,
    /// Attachments.
    pub files: Vec<File>,
}

impl Eml {
    /// Sets (replacing) a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Removes a header.
    pub fn without_header(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }
}

/// A plain conformant message from Dr Marie MARTIN to a colleague.
pub fn simple() -> Eml {
    Eml {
        from: (Some("Dr Marie MARTIN".into()), SENDER.into()),
        to: vec![RECIPIENT.into()],
        subject: "Avis sur un patient commun".into(),
        message_id: Some("avis-1@lps.harnais".into()),
        headers: vec![("X-MSS-NIL".into(), NIL.into())],
        text: "Bonjour,\r\n\r\nPourriez-vous me rappeler au sujet de notre patiente commune ?\r\n\r\nDr Marie MARTIN\r\n".into(),
        html: None,
        files: Vec::new(),
    }
}

/// A conformant message carrying these documents for this patient: XDM, one PDF each,
/// subject, X-MSS headers.
pub fn with_documents(documents: &[DocumentSpec], patient: &PatientSpec) -> Eml {
    let mut files: Vec<File> = vec![(
        "IHE_XDM.ZIP".into(),
        "application/zip".into(),
        build::xdm(documents, patient),
    )];
    for d in documents {
        files.push((
            build::pdf_name(d, patient, None),
            "application/pdf".into(),
            build::pdf(d, patient),
        ));
    }
    let qualified = patient.ins.is_some();
    Eml {
        subject: build::subject(documents, patient),
        message_id: Some(format!("docs-{}@lps.harnais", documents.len())),
        headers: vec![
            ("X-MSS-NIL".into(), NIL.into()),
            ("X-MSS-CODECDA".into(), build::codecda(documents)),
            ("X-MSS-INS".into(), if qualified { "O" } else { "N" }.into()),
        ],
        text: "Bonjour,\r\n\r\nVeuillez trouver ci-joint les documents de votre patiente.\r\n\r\nDr Marie MARTIN\r\n".into(),
        files,
        ..simple()
    }
}

/// Replaces the random MIME boundaries by numbered ones, so a message composes identically.
fn stable_boundaries(bytes: Vec<u8>) -> Vec<u8> {
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    let mut n = 0;
    while let Some(at) = text.find("boundary=\"") {
        let start = at + "boundary=\"".len();
        let Some(len) = text[start..].find('"') else {
            break;
        };
        let old = text[start..start + len].to_owned();
        let new = format!("=_harnais_{n}");
        text = text.replace(
            &format!("boundary=\"{old}\""),
            &format!("boundary:\"{new}\""),
        );
        text = text.replace(&old, &new);
        n += 1;
    }
    text.replace("boundary:\"", "boundary=\"").into_bytes()
}

/// The bytes of a message (fixed date).
pub fn compose(eml: &Eml) -> Vec<u8> {
    let mut b = MessageBuilder::new()
        .from(Address::new_address(eml.from.0.clone(), eml.from.1.clone()))
        .to(eml
            .to
            .iter()
            .map(|t| Address::new_address(None::<String>, t.clone()))
            .collect::<Vec<_>>())
        .subject(eml.subject.clone())
        .date(1_793_700_000i64);
    if let Some(id) = &eml.message_id {
        b = b.message_id(id.clone());
    }
    for (name, value) in &eml.headers {
        b = b.header(name.clone(), Raw::new(value.clone()));
    }
    b = b.text_body(eml.text.clone());
    if let Some(html) = &eml.html {
        b = b.html_body(html.clone());
    }
    for (name, ct, bytes) in &eml.files {
        b = b.attachment(ct.clone(), name.clone(), bytes.clone());
    }
    let mut bytes = b.write_to_vec().unwrap_or_default();
    if eml.message_id.is_none() {
        bytes = remove_header(&bytes, "Message-ID");
    }
    stable_boundaries(bytes)
}

/// Replaces bytes once (raw edits no builder can make).
fn edit(bytes: Vec<u8>, from: &str, to: &[u8]) -> Vec<u8> {
    let Some(at) = bytes.windows(from.len()).position(|w| w == from.as_bytes()) else {
        return bytes;
    };
    let mut out = bytes[..at].to_vec();
    out.extend_from_slice(to);
    out.extend_from_slice(&bytes[at + from.len()..]);
    out
}

/// The family a golden message is judged for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Personal and organisational mailboxes.
    PerOrg,
    /// Application mailboxes.
    App,
}

/// One golden case.
#[derive(Debug, Clone)]
pub struct Case {
    /// File name, without extension.
    pub name: &'static str,
    /// The family the message is judged for.
    pub family: Family,
    /// What it shows (French, for the golden README).
    pub about: &'static str,
    /// The message.
    pub bytes: Vec<u8>,
}

fn case(name: &'static str, family: Family, about: &'static str, bytes: Vec<u8>) -> Case {
    Case {
        name,
        family,
        about,
        bytes,
    }
}

fn replace_file(mut eml: Eml, index: usize, file: File) -> Eml {
    eml.files[index] = file;
    eml
}

/// A PDF whose font is not embedded (a standard Helvetica), otherwise PDF/A-1 tagged.
fn pdf_with_unembedded_font(title: &str, lines: &[String]) -> Vec<u8> {
    let bytes = pdfa::write(title, lines);
    let Ok(mut doc) = lopdf::Document::load_mem(&bytes) else {
        return bytes;
    };
    let ids: Vec<lopdf::ObjectId> = doc
        .objects
        .iter()
        .filter(|(_, o)| {
            o.as_dict().is_ok_and(|d| {
                d.get(b"Subtype").and_then(lopdf::Object::as_name).ok() == Some(b"Type3")
            })
        })
        .map(|(id, _)| *id)
        .collect();
    for id in ids {
        doc.objects.insert(
            id,
            lopdf::Object::Dictionary(dictionary! {
                "Type" => "Font",
                "Subtype" => "Type1",
                "BaseFont" => "Helvetica",
                "Encoding" => "WinAnsiEncoding",
            }),
        );
    }
    let mut out = Vec::new();
    if doc.save_to(&mut out).is_err() {
        return bytes;
    }
    out
}

/// The same PDF with an `/Encrypt` dictionary in its trailer (RC4 40-bit, empty passwords).
fn encrypted(pdf: Vec<u8>) -> Vec<u8> {
    let Ok(mut doc) = lopdf::Document::load_mem(&pdf) else {
        return pdf;
    };
    let encrypt = doc.add_object(dictionary! {
        "Filter" => "Standard",
        "V" => 1,
        "R" => 2,
        "O" => lopdf::Object::string_literal(vec![0u8; 32]),
        "U" => lopdf::Object::string_literal(vec![0u8; 32]),
        "P" => -4,
    });
    doc.trailer.set("Encrypt", encrypt);
    let mut out = Vec::new();
    if doc.save_to(&mut out).is_err() {
        return pdf;
    }
    out
}

/// The same PDF, its XMP saying nothing of PDF/A.
fn without_pdfa(pdf: Vec<u8>) -> Vec<u8> {
    // Same length, so the cross-reference offsets stay right.
    edit(
        pdf,
        "<pdfaid:part>1</pdfaid:part>",
        b"<pdfaid:xxxx>1</pdfaid:xxxx>",
    )
}

/// Every golden case: conformant messages, then for each requirement the messages that break
/// it, one reason each.
pub fn cases() -> Vec<Case> {
    use Family::{App, PerOrg};
    let p = patient();
    let n3 = biology_n3();
    let n1 = letter_n1();
    let both = [n3.clone(), n1.clone()];
    let docs = with_documents(std::slice::from_ref(&n3), &p);
    let patient_address = format!(
        "{}@patient.mssante.fr",
        p.ins.clone().map(|i| i.0).unwrap_or_default()
    );
    let mut out = vec![
        case("conforme-simple", PerOrg, "message sans document, conforme", compose(&simple())),
        case(
            "conforme-html",
            PerOrg,
            "multipart/alternative texte puis HTML au même contenu",
            compose(&Eml {
                html: Some("<p>Bonjour,</p><p>Pourriez-vous me rappeler au sujet de notre patiente commune&nbsp;?</p><p>Dr Marie MARTIN</p>".into()),
                ..simple()
            }),
        ),
        case("conforme-n3", PerOrg, "un CDA N3, son PDF/A-1, INS qualifiée", compose(&docs)),
        case(
            "conforme-n1",
            PerOrg,
            "un CDA N1 (libellé de plus de 40 caractères), le PDF encapsulé",
            compose(&with_documents(std::slice::from_ref(&n1), &p)),
        ),
        case("conforme-2-documents", PerOrg, "deux CDA (N3 et N1) : « 2 documents »", compose(&with_documents(&both, &p))),
        case(
            "conforme-sans-ins",
            PerOrg,
            "identité non qualifiée : X-MSS-INS: N",
            compose(&with_documents(std::slice::from_ref(&n3), &unqualified_patient())),
        ),
        case(
            "conforme-usager-fin",
            PerOrg,
            "message à un usager avec X-MSS-MES: FIN",
            compose(&Eml {
                to: vec![patient_address.clone()],
                ..simple()
            }.with_header("X-MSS-MES", "FIN")),
        ),
        case(
            "conforme-accuses",
            PerOrg,
            "demandes d'accusé DSN et MDN à l'adresse de l'émetteur",
            compose(&simple()
                .with_header("Return-Receipt-To", &format!("<{SENDER}>"))
                .with_header("Disposition-Notification-To", &format!("Dr Marie MARTIN <{SENDER}>"))),
        ),
        case(
            "conforme-applicative",
            App,
            "BAL applicative : Reply-To et mention de génération automatique",
            compose(&Eml {
                from: (Some("Hôpital A – Biologie".into()), APP_SENDER.into()),
                text: format!("Bonjour,\r\n\r\nLes résultats de votre patiente sont disponibles.\r\n\r\n--\r\nCe message a été généré automatiquement. Pour contacter l'émetteur : {APP_REPLY_TO}\r\n"),
                ..simple()
            }.with_header("Reply-To", &format!("<{APP_REPLY_TO}>"))),
        ),
    ];

    // ECO.2.1.1
    let mut two_patients = with_documents(&both, &p);
    let mut files = build::xdm_files(&both, &p);
    for (name, content) in files.iter_mut() {
        if name.ends_with("DOC0002.XML") {
            *content = build::cda(&n1, &other_patient());
        }
    }
    two_patients.files[0].2 = build::zip(&files);
    out.push(case(
        "2.1.1-deux-usagers",
        PerOrg,
        "le second CDA concerne un autre usager",
        compose(&two_patients),
    ));
    out.push(case(
        "2.1.1-archive-mal-nommee",
        PerOrg,
        "archive XDM nommée DOCUMENTS.ZIP",
        compose(&replace_file(
            docs.clone(),
            0,
            (
                "DOCUMENTS.ZIP".into(),
                "application/zip".into(),
                build::xdm(std::slice::from_ref(&n3), &p),
            ),
        )),
    ));
    let mut no_metadata = build::xdm_files(std::slice::from_ref(&n3), &p);
    no_metadata.retain(|(n, _)| !n.ends_with("METADATA.XML") && n != "INDEX.HTM");
    out.push(case(
        "2.1.1-sans-metadata",
        PerOrg,
        "archive sans METADATA.XML ni INDEX.HTM",
        compose(&replace_file(
            docs.clone(),
            0,
            (
                "IHE_XDM.ZIP".into(),
                "application/zip".into(),
                build::zip(&no_metadata),
            ),
        )),
    ));
    out.push(case(
        "2.1.1-archive-traversee",
        PerOrg,
        "archive contenant ../../etc/passwd",
        compose(&replace_file(
            docs.clone(),
            0,
            (
                "IHE_XDM.ZIP".into(),
                "application/zip".into(),
                build::zip(&[("../../etc/passwd".into(), b"root".to_vec())]),
            ),
        )),
    ));
    out.push(case(
        "2.1.1-bombe-zip",
        PerOrg,
        "archive de quelques Ko se décompressant en 30 Mo",
        compose(&replace_file(
            docs.clone(),
            0,
            (
                "IHE_XDM.ZIP".into(),
                "application/zip".into(),
                build::zip(&[(
                    "IHE_XDM/SUBSET01/DOC0001.XML".into(),
                    vec![b' '; 30 * 1024 * 1024],
                )]),
            ),
        )),
    ));
    out.push(case(
        "2.1.1-objet-sans-archive",
        PerOrg,
        "objet XDM/1.0/DDM mais aucune archive jointe",
        compose(&Eml {
            files: Vec::new(),
            headers: vec![("X-MSS-NIL".into(), NIL.into())],
            ..docs.clone()
        }),
    ));
    out.push(case(
        "2.1.1-pdf-manquant",
        PerOrg,
        "deux CDA mais un seul PDF joint",
        compose(&{
            let mut e = with_documents(&both, &p);
            e.files.pop();
            e
        }),
    ));

    // ECO.2.1.3
    let subject = |s: &str| {
        compose(&Eml {
            subject: s.into(),
            ..docs.clone()
        })
    };
    out.push(case(
        "2.1.3-nom-minuscule",
        PerOrg,
        "NOM écrit « Muller-Dupré »",
        subject("XDM/1.0/DDM+CR d'examens biologiques Muller-Dupré Helene 02/09/1948"),
    ));
    out.push(case(
        "2.1.3-sans-prefixe",
        PerOrg,
        "objet sans XDM/1.0/DDM+",
        subject("CR d'examens biologiques MULLER-DUPRE Helene"),
    ));
    out.push(case(
        "2.1.3-date-fausse",
        PerOrg,
        "date de naissance erronée",
        subject("XDM/1.0/DDM+CR d'examens biologiques MULLER-DUPRE Helene 09/02/1948"),
    ));
    out.push(case(
        "2.1.3-libelle-faux",
        PerOrg,
        "libellé d'un autre type de document",
        subject("XDM/1.0/DDM+CR d'anesthésie MULLER-DUPRE Helene"),
    ));
    out.push(case(
        "2.1.3-libelle-non-tronque",
        PerOrg,
        "libellé de plus de 40 caractères non tronqué",
        compose(&Eml {
            subject: "XDM/1.0/DDM+Lettre de liaison à la sortie d'un établissement de soins MULLER-DUPRE Helene".into(),
            ..with_documents(std::slice::from_ref(&n1), &p)
        }),
    ));
    out.push(case(
        "2.1.3-prenom-accentue",
        PerOrg,
        "prénom « Hélène » avec diacritiques",
        subject("XDM/1.0/DDM+CR d'examens biologiques MULLER-DUPRE Hélène 02/09/1948"),
    ));

    // ECO.2.1.5
    let n3_lines = vec!["Compte rendu d'examens de biologie médicale".to_owned()];
    let n3_name = build::pdf_name(&n3, &p, None);
    out.push(case(
        "2.1.5-pdf-incomplet",
        PerOrg,
        "le PDF du CDA N3 ne reprend ni l'auteur ni les sections",
        compose(&replace_file(
            docs.clone(),
            1,
            (
                n3_name.clone(),
                "application/pdf".into(),
                pdfa::write("CR", &n3_lines),
            ),
        )),
    ));
    out.push(case(
        "2.1.5-pdf-non-pdfa",
        PerOrg,
        "PDF sans identification PDF/A",
        compose(&replace_file(
            docs.clone(),
            1,
            (
                n3_name.clone(),
                "application/pdf".into(),
                without_pdfa(build::pdf(&n3, &p)),
            ),
        )),
    ));
    out.push(case(
        "2.1.5-police-non-incorporee",
        PerOrg,
        "PDF dont la police (Helvetica) n'est pas incorporée",
        compose(&{
            let e = with_documents(std::slice::from_ref(&n3), &p);
            let lines = build::pdf_lines(&n3, &p);
            replace_file(
                e,
                1,
                (
                    n3_name.clone(),
                    "application/pdf".into(),
                    pdf_with_unembedded_font(&n3.title, &lines),
                ),
            )
        }),
    ));
    let n1_docs = with_documents(std::slice::from_ref(&n1), &p);
    out.push(case(
        "2.1.5-pdf-n1-different",
        PerOrg,
        "le PDF joint n'est pas celui encapsulé dans le CDA N1",
        compose(&replace_file(
            n1_docs.clone(),
            1,
            (
                build::pdf_name(&n1, &p, None),
                "application/pdf".into(),
                pdfa::write("Autre", &["Autre document".to_owned()]),
            ),
        )),
    ));

    out.push(case(
        "2.1.5-pdf-chiffre",
        PerOrg,
        "PDF chiffré (dictionnaire /Encrypt)",
        compose(&replace_file(
            docs.clone(),
            1,
            (
                n3_name.clone(),
                "application/pdf".into(),
                encrypted(build::pdf(&n3, &p)),
            ),
        )),
    ));

    // ECO.2.1.6
    let rename = |name: &str| {
        compose(&replace_file(
            docs.clone(),
            1,
            (name.into(), "application/pdf".into(), build::pdf(&n3, &p)),
        ))
    };
    out.push(case(
        "2.1.6-sans-date",
        PerOrg,
        "PDF nommé sans date de l'acte",
        rename("CR d'examens biologiques_MULLER-DUPRE_Hélène.pdf"),
    ));
    out.push(case(
        "2.1.6-nom-minuscule",
        PerOrg,
        "NOM en minuscules dans le nom du PDF",
        rename("20261102_CR d'examens biologiques_Muller-Dupre_Hélène.pdf"),
    ));
    out.push(case(
        "2.1.6-type-faux",
        PerOrg,
        "type de document erroné",
        rename("20261102_Compte rendu_MULLER-DUPRE_Hélène.pdf"),
    ));
    out.push(case(
        "2.1.6-date-au-format-iso",
        PerOrg,
        "date 2026-11-02 au lieu de 20261102",
        rename("2026-11-02_CR d'examens biologiques_MULLER-DUPRE_Hélène.pdf"),
    ));

    // ECO.2.2.1
    out.push(case(
        "2.2.1-sans-message-id",
        PerOrg,
        "pas de Message-ID",
        compose(&Eml {
            message_id: None,
            ..simple()
        }),
    ));
    out.push(case(
        "2.2.1-message-id-invalide",
        PerOrg,
        "Message-ID sans chevrons ni @",
        edit(
            compose(&simple()),
            "Message-ID: <avis-1@lps.harnais>",
            b"Message-ID: avis-1",
        ),
    ));

    // ECO.2.2.3
    let latin1 = edit(
        edit(
            compose(&simple()),
            "charset=\"utf-8\"",
            b"charset=\"iso-8859-1\"",
        ),
        "Bonjour,",
        b"Bonjour \xe0 vous,",
    );
    out.push(case(
        "2.2.3-latin1",
        PerOrg,
        "partie texte en iso-8859-1",
        latin1,
    ));
    out.push(case(
        "2.2.3-sans-charset",
        PerOrg,
        "partie texte sans paramètre charset",
        edit(
            compose(&simple()),
            "text/plain; charset=\"utf-8\"",
            b"text/plain",
        ),
    ));
    out.push(case(
        "2.2.3-utf8-invalide",
        PerOrg,
        "charset=utf-8 déclaré, octets Latin-1",
        edit(compose(&simple()), "Bonjour,", b"Bonjour \xe0 vous,"),
    ));

    // ECO.2.2.4
    out.push(case(
        "2.2.4-html-seul",
        PerOrg,
        "corps text/html seul",
        edit(
            compose(&simple()),
            "Content-Type: text/plain",
            b"Content-Type: text/html",
        ),
    ));
    out.push(case(
        "2.2.4-versions-differentes",
        PerOrg,
        "HTML au contenu différent du texte",
        compose(&Eml {
            html: Some("<p>Bonjour,</p><p>Merci de me rappeler demain.</p>".into()),
            ..simple()
        }),
    ));

    out.push(case(
        "2.2.4-html-avant-texte",
        PerOrg,
        "multipart/alternative dont la première partie est le HTML",
        {
            let bytes = compose(&Eml {
                html: Some("<p>Bonjour,</p><p>Pourriez-vous me rappeler au sujet de notre patiente commune&nbsp;?</p><p>Dr Marie MARTIN</p>".into()),
                ..simple()
            });
            let swapped = edit(bytes, "Content-Type: text/plain", b"Content-Type: text/TEMP");
            let swapped = edit(swapped, "Content-Type: text/html", b"Content-Type: text/plain");
            edit(swapped, "Content-Type: text/TEMP", b"Content-Type: text/html")
        },
    ));

    // ECO.2.2.5
    let app = |text: &str, reply: Option<&str>| {
        let mut e = Eml {
            from: (Some("Hôpital A – Biologie".into()), APP_SENDER.into()),
            text: text.into(),
            ..simple()
        };
        if let Some(r) = reply {
            e = e.with_header("Reply-To", r);
        }
        compose(&e)
    };
    let mention = format!(
        "Bonjour,\r\n\r\nRésultats disponibles.\r\n\r\n--\r\nCe message a été généré automatiquement. Pour contacter l'émetteur : {APP_REPLY_TO}\r\n"
    );
    out.push(case(
        "2.2.5-sans-reply-to",
        App,
        "BAL applicative sans Reply-To",
        app(&mention, None),
    ));
    out.push(case(
        "2.2.5-sans-mention",
        App,
        "BAL applicative sans mention de génération automatique",
        app(
            "Bonjour,\r\n\r\nRésultats disponibles.\r\n",
            Some(&format!("<{APP_REPLY_TO}>")),
        ),
    ));
    out.push(case(
        "2.2.5-reply-to-applicatif",
        App,
        "Reply-To vers la BAL applicative elle-même",
        app(
            &mention.replace(APP_REPLY_TO, APP_SENDER),
            Some(&format!("<{APP_SENDER}>")),
        ),
    ));

    // ECO.2.2.6
    let bad_key = {
        let m = p.ins.clone().map(|i| i.0).unwrap_or_default();
        let key: u32 = m[13..].parse().unwrap_or(0);
        format!("{}{:02}@patient.mssante.fr", &m[..13], (key % 97) + 1)
    };
    out.push(case(
        "2.2.6-cle-fausse",
        PerOrg,
        "adresse usager dont la clé INS est fausse",
        compose(&Eml {
            to: vec![bad_key],
            ..simple()
        }),
    ));
    out.push(case(
        "2.2.6-adresse-nominative",
        PerOrg,
        "adresse usager « prenom.nom@patient.mssante.fr »",
        compose(&Eml {
            to: vec!["helene.muller@patient.mssante.fr".into()],
            ..simple()
        }),
    ));

    // ECO.2.2.7
    out.push(case(
        "2.2.7-sans-libelle",
        PerOrg,
        "From sans libellé",
        compose(&Eml {
            from: (None, SENDER.into()),
            ..simple()
        }),
    ));
    out.push(case(
        "2.2.7-nom-minuscule",
        PerOrg,
        "libellé « Marie Martin »",
        compose(&Eml {
            from: (Some("Marie Martin".into()), SENDER.into()),
            ..simple()
        }),
    ));
    out.push(case(
        "2.2.7-libelle-adresse",
        PerOrg,
        "libellé égal à l'adresse",
        compose(&Eml {
            from: (Some(SENDER.into()), SENDER.into()),
            ..simple()
        }),
    ));

    // ECO.2.2.8
    let to_patient = Eml {
        to: vec![patient_address.clone()],
        ..simple()
    };
    out.push(case(
        "2.2.8-fin-minuscule",
        PerOrg,
        "X-MSS-MES: fin",
        compose(&to_patient.clone().with_header("X-MSS-MES", "fin")),
    ));
    out.push(case(
        "2.2.8-sans-usager",
        PerOrg,
        "X-MSS-MES: FIN vers un professionnel seulement : sans objet, noté",
        compose(&simple().with_header("X-MSS-MES", "FIN")),
    ));

    // ECO.2.3.1, ECO.2.3.2
    out.push(case(
        "2.3.1-autre-adresse",
        PerOrg,
        "Return-Receipt-To vers une autre adresse",
        compose(&simple().with_header("Return-Receipt-To", &format!("<{RECIPIENT}>"))),
    ));
    out.push(case(
        "2.3.2-autre-adresse",
        PerOrg,
        "Disposition-Notification-To vers une autre adresse",
        compose(&simple().with_header("Disposition-Notification-To", &format!("<{RECIPIENT}>"))),
    ));

    // ECO.2.4.1
    out.push(case(
        "2.4.1-absent",
        PerOrg,
        "archive jointe sans X-MSS-CODECDA",
        compose(&docs.clone().without_header("X-MSS-CODECDA")),
    ));
    out.push(case(
        "2.4.1-code-faux",
        PerOrg,
        "X-MSS-CODECDA d'un autre document",
        compose(&docs.clone().with_header("X-MSS-CODECDA", "34112-3")),
    ));
    out.push(case(
        "2.4.1-code-manquant",
        PerOrg,
        "deux documents, un seul code",
        compose(&with_documents(&both, &p).with_header("X-MSS-CODECDA", "11502-2")),
    ));
    out.push(case(
        "2.4.1-sans-archive",
        PerOrg,
        "X-MSS-CODECDA sans archive",
        compose(&simple().with_header("X-MSS-CODECDA", "11502-2")),
    ));

    // ECO.2.4.2
    out.push(case(
        "2.4.2-absent",
        PerOrg,
        "archive jointe sans X-MSS-INS",
        compose(&docs.clone().without_header("X-MSS-INS")),
    ));
    out.push(case(
        "2.4.2-n-avec-ins",
        PerOrg,
        "X-MSS-INS: N alors que l'INS est qualifiée",
        compose(&docs.clone().with_header("X-MSS-INS", "N")),
    ));
    out.push(case(
        "2.4.2-o-sans-ins",
        PerOrg,
        "X-MSS-INS: O sans INS dans le CDA",
        compose(
            &with_documents(std::slice::from_ref(&n3), &unqualified_patient())
                .with_header("X-MSS-INS", "O"),
        ),
    ));
    out.push(case(
        "2.4.2-valeur-invalide",
        PerOrg,
        "X-MSS-INS: oui",
        compose(&docs.clone().with_header("X-MSS-INS", "oui")),
    ));

    // ECO.2.4.3
    out.push(case(
        "2.4.3-absent",
        PerOrg,
        "pas de X-MSS-NIL",
        compose(&simple().without_header("X-MSS-NIL")),
    ));
    out
}
