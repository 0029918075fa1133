//! What a user sees and does with received messages: the INBOX listing that tells patients
//! from professionals, shows a patient's name and INS and hides the `XDM/1.0/DDM+` prefix
//! (ECO.3.1.1 to ECO.3.1.3), replies that keep the conversation's chain (ECO.2.2.2), and the
//! read receipt (RFC 8098 MDN) of a displayed message that asks for one (ECO.3.1.6).

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::mime::{BodyPart, MimePart};
use serde::Serialize;

use crate::account::{Account, Defect, Defects};
use crate::compose::{self, ComposeError, Composed};
use crate::imap::FetchedMessage;
use crate::spec::{AddressSpec, AddressType, MessageSpec};

/// The domain of Mon espace santé's patient addresses (its sub-domains count: test
/// environments use `recette.patient.mssante.fr`).
pub const PATIENT_DOMAIN: &str = "patient.mssante.fr";

/// The prefix of messages carrying health documents, hidden from displayed subjects.
pub const XDM_PREFIX: &str = "XDM/1.0/DDM+";

/// A patient as the listing shows them (ECO.3.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedPatient {
    /// Nom de naissance.
    pub birth_name: String,
    /// Prénom.
    pub first_name: String,
    /// INS (the local part of the address).
    pub ins: String,
}

/// One line of the INBOX as the user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listed {
    /// Message-ID, without angle brackets.
    pub message_id: Option<String>,
    /// Subject as displayed.
    pub subject: String,
    /// Sender as displayed.
    pub from: String,
    /// `patient` or `professional` (ECO.3.1.1).
    pub sender_kind: &'static str,
    /// For a message carrying documents: the INS of the patient file it is filed in, from
    /// METADATA.XML's `patientId` (ECO.2.1.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filed_under: Option<String>,
    /// The patient, for a message from a patient.
    pub patient: Option<ListedPatient>,
}

fn is_patient(address: &str) -> bool {
    let domain = address
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default();
    domain == PATIENT_DOMAIN || domain.ends_with(&format!(".{PATIENT_DOMAIN}"))
}

/// The line of the listing for a fetched message.
pub fn listing(message: &FetchedMessage, defects: &Defects) -> Listed {
    let parsed = mail_parser::MessageParser::default().parse(&message.raw);
    let from = parsed
        .as_ref()
        .and_then(|m| m.from())
        .and_then(|f| f.first());
    let address = from
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_owned();
    let name = from
        .and_then(|a| a.name())
        .unwrap_or_default()
        .trim()
        .to_owned();
    let subject = message.subject.clone().unwrap_or_default();
    let subject = if defects.contains(&Defect::ShowsXdmPrefix) {
        subject
    } else {
        subject
            .strip_prefix(XDM_PREFIX)
            .map(str::to_owned)
            .unwrap_or(subject)
    };
    let patient_sender = is_patient(&address) && !defects.contains(&Defect::PatientsUnmarked);
    let patient = patient_sender.then(|| {
        // Mon espace santé writes `Prénom Nom <INS@patient.mssante.fr>`.
        let (first, birth) = match name.split_once(' ') {
            Some((first, rest)) => (first.to_owned(), rest.trim().to_owned()),
            None => (String::new(), name.clone()),
        };
        ListedPatient {
            birth_name: birth.to_uppercase(),
            first_name: first,
            ins: if defects.contains(&Defect::PatientWithoutIns) {
                String::new()
            } else {
                address
                    .split_once('@')
                    .map(|(l, _)| l.to_owned())
                    .unwrap_or_default()
            },
        }
    });
    let filed_under = if defects.contains(&Defect::FilesBySubject) {
        // The defect: the patient is taken from the subject's names.
        message
            .subject
            .as_deref()
            .and_then(|s| s.strip_prefix(XDM_PREFIX))
            .map(str::to_owned)
    } else {
        parsed.as_ref().and_then(xdm_patient_id)
    };
    Listed {
        message_id: message.message_id.clone(),
        filed_under,
        subject,
        from: if name.is_empty() {
            address
        } else {
            format!("{name} <{address}>")
        },
        sender_kind: if patient_sender {
            "patient"
        } else {
            "professional"
        },
        patient,
    }
}

/// Largest METADATA.XML read from a received archive.
const MAX_METADATA: u64 = 4 * 1024 * 1024;

/// `identificationScheme` of `XDSSubmissionSet.patientId` and `XDSDocumentEntry.patientId`.
const PATIENT_ID_SCHEMES: [&str; 2] = [
    "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446",
    "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427",
];

/// The patient's identifier (the INS matricule of the CX value) that the METADATA.XML of a
/// received `IHE_XDM.ZIP` names, if the message carries one.
pub fn xdm_patient_id(message: &mail_parser::Message<'_>) -> Option<String> {
    use mail_parser::MimeHeaders;
    use std::io::Read;
    let archive = message.attachments().find(|a| {
        a.attachment_name()
            .is_some_and(|n| n.to_ascii_uppercase().ends_with(".ZIP"))
    })?;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive.contents())).ok()?;
    let name = zip
        .file_names()
        .filter_map(Result::ok)
        .find(|n| n.to_ascii_uppercase().ends_with("METADATA.XML"))?
        .into_owned();
    let file = zip.by_name(&name).ok()?;
    let mut xml = String::new();
    file.take(MAX_METADATA).read_to_string(&mut xml).ok()?;
    let doc = roxmltree::Document::parse_with_options(
        &xml,
        roxmltree::ParsingOptions {
            allow_dtd: false,
            ..roxmltree::ParsingOptions::default()
        },
    )
    .ok()?;
    let value = PATIENT_ID_SCHEMES.iter().find_map(|scheme| {
        doc.descendants()
            .filter(|n| n.tag_name().name() == "ExternalIdentifier")
            .find(|n| n.attribute("identificationScheme") == Some(scheme))
            .and_then(|n| n.attribute("value"))
    })?;
    let id = value.split('^').next().unwrap_or_default().trim();
    (!id.is_empty()).then(|| id.to_owned())
}

fn ids(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_start_matches('<').trim_end_matches('>').to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The first address of an address-list header value (`Name <a@b>, …` or `a@b`).
fn first_address(value: &str) -> Option<String> {
    let first = value.split(',').next()?.trim();
    let address = match (first.rfind('<'), first.rfind('>')) {
        (Some(open), Some(close)) if open < close => &first[open + 1..close],
        _ => first,
    };
    let address = address.trim();
    (address.contains('@') && !address.contains(char::is_whitespace)).then(|| address.to_owned())
}

/// The reply to `original`: to its Reply-To (else its sender), `Re:` subject, and the
/// conversation's chain: `In-Reply-To` the original, `References` its References then it.
pub fn reply_spec(original: &FetchedMessage, text: &str, defects: &Defects) -> MessageSpec {
    let parsed = mail_parser::MessageParser::default().parse(&original.raw);
    let to = parsed
        .as_ref()
        .and_then(|m| m.reply_to().or_else(|| m.from()))
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_owned();
    let subject = original.subject.clone().unwrap_or_default();
    let subject = if subject.to_ascii_lowercase().starts_with("re:") {
        subject
    } else {
        format!("Re: {subject}")
    };
    let mut references = ids(parsed
        .as_ref()
        .and_then(|m| m.header_raw("References"))
        .filter(|_| !defects.contains(&Defect::ReferencesParentOnly)));
    if let Some(id) = &original.message_id {
        references.push(id.clone());
    }
    if defects.contains(&Defect::NoReferences) {
        references.clear();
    }
    MessageSpec {
        addresses: vec![AddressSpec {
            email: to,
            name: None,
            kind: AddressType::To,
        }],
        subject,
        body: text.to_owned(),
        in_reply_to: original.message_id.clone(),
        references,
        ..MessageSpec::default()
    }
}

/// The RFC 8098 read receipt of a displayed message that asks for one
/// (`Disposition-Notification-To`), or `None`.
pub fn read_receipt(
    account: &Account,
    original: &FetchedMessage,
    defects: &Defects,
) -> Result<Option<Composed>, ComposeError> {
    if defects.contains(&Defect::NoReadReceipt) {
        return Ok(None);
    }
    let Some(parsed) = mail_parser::MessageParser::default().parse(&original.raw) else {
        return Ok(None);
    };
    // mail-parser keeps unknown headers as text: read the address of the raw value.
    let Some(to) = parsed
        .header_raw("Disposition-Notification-To")
        .and_then(first_address)
    else {
        return Ok(None);
    };
    let subject = original.subject.clone().unwrap_or_default();
    let message_id = compose::new_message_id(&account.address);
    let mut fields = format!(
        "Reporting-UA: mss-client; {}\r\nFinal-Recipient: rfc822;{}\r\n",
        crate::driver::NIL,
        account.address
    );
    if let Some(id) = &original.message_id {
        fields.push_str(&format!("Original-Message-ID: <{id}>\r\n"));
    }
    fields.push_str("Disposition: manual-action/MDN-sent-automatically; displayed\r\n");
    let human = format!(
        "Le message « {subject} » envoyé à {} a été affiché.\r\n\
         Cet accusé de lecture ne garantit pas que son contenu a été lu ou compris.\r\n",
        account.address
    );
    let report = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", "disposition-notification"),
        BodyPart::Multipart(vec![
            MimePart::new("text/plain", human),
            MimePart::raw(format!(
                "Content-Type: message/disposition-notification\r\n\r\n{fields}"
            )),
        ]),
    );
    let builder = MessageBuilder::new()
        .from(Address::new_address(
            Some(account.display_name.as_str()),
            account.address.as_str(),
        ))
        .to(Address::new_address(None::<&str>, to.as_str()))
        .subject(format!("Accusé de lecture : {subject}"))
        .message_id(message_id.as_str())
        .header(
            "X-MSS-NIL",
            mail_builder::headers::raw::Raw::new(account.nil.as_str()),
        )
        .body(report);
    let mut bytes = builder
        .write_to_vec()
        .map_err(|e| ComposeError::InvalidHeader(e.to_string()))?;
    if !bytes.ends_with(b"\r\n") {
        bytes.extend_from_slice(b"\r\n");
    }
    Ok(Some(Composed {
        bytes,
        message_id: Some(message_id),
        // RFC 8098 §2.1: an MDN is sent with a null return path; the operator's submission
        // service wants the BAL as envelope sender, as for every message of the BAL.
        mail_from: account.address.clone(),
        rcpt_to: vec![to],
    }))
}

/// A patient of the user's files, as the driver's `write_to_patient` gives them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientRecord {
    /// INS matricule (15 characters: NIR or NIA and its key).
    pub ins: String,
    /// Nom de naissance.
    #[serde(default)]
    pub birth_name: String,
    /// Prénoms.
    #[serde(default)]
    pub first_names: Vec<String>,
    /// Whether the identity is qualified (INSi-checked).
    #[serde(default)]
    pub qualified: bool,
}

/// Why a patient cannot be written to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatientAddressError {
    /// The identity is not qualified (ECO.2.2.6): no address may be built from it.
    #[error("identité de l'usager non qualifiée : pas d'adresse Mon espace santé (ECO.2.2.6)")]
    Unqualified,
    /// The INS is not a 15-character matricule with a right key.
    #[error("INS « {0} » invalide (15 caractères et clé de contrôle attendus)")]
    InvalidIns(String),
}

/// The Mon espace santé address of a patient: built only from a qualified INS whose control
/// key is right (ECO.2.2.6, ECO.3.1.5).
pub fn patient_address(
    patient: &PatientRecord,
    defects: &Defects,
) -> Result<String, PatientAddressError> {
    if !patient.qualified && !defects.contains(&Defect::WritesToUnqualifiedPatient) {
        return Err(PatientAddressError::Unqualified);
    }
    let ins = patient.ins.trim().to_ascii_uppercase();
    if defects.contains(&Defect::PatientAddressWithoutKey) {
        return Ok(format!(
            "{}@{PATIENT_DOMAIN}",
            ins.get(..13).unwrap_or(&ins)
        ));
    }
    let valid = ins.len() == 15
        && ins.is_ascii()
        && ins[13..].parse::<u32>().ok() == documents::ins_control_key(&ins[..13]);
    if !valid {
        return Err(PatientAddressError::InvalidIns(patient.ins.clone()));
    }
    Ok(format!("{ins}@{PATIENT_DOMAIN}"))
}

/// A message to a patient of the user's files.
pub fn to_patient(
    patient: &PatientRecord,
    defects: &Defects,
) -> Result<MessageSpec, PatientAddressError> {
    let address = patient_address(patient, defects)?;
    let name = format!(
        "{} {}",
        patient.first_names.first().cloned().unwrap_or_default(),
        patient.birth_name
    );
    Ok(MessageSpec {
        addresses: vec![AddressSpec {
            email: address,
            name: Some(name.trim().to_owned()).filter(|n| !n.is_empty()),
            kind: AddressType::To,
        }],
        subject: "Votre rendez-vous".into(),
        body: "Bonjour,\nVotre prochain rendez-vous est confirmé. N'hésitez pas à répondre à ce \
               message pour toute question.\nBien cordialement."
            .into(),
        ..MessageSpec::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetched(raw: &str) -> FetchedMessage {
        let parsed = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .expect("parses");
        FetchedMessage {
            uid: 1,
            raw: raw.as_bytes().to_vec(),
            message_id: parsed.message_id().map(str::to_owned),
            subject: parsed.subject().map(str::to_owned),
        }
    }

    const PATIENT: &str = "From: =?utf-8?q?L=C3=A9o?= Dupond <180057805811153@patient.mssante.fr>\r\n\
        To: marie.martin@operateur-fictif.mssante.fr\r\nSubject: XDM/1.0/DDM+2 documents DUPOND Leo\r\n\
        Message-ID: <p1@patient.mssante.fr>\r\nReferences: <a@x> <b@x>\r\n\
        Disposition-Notification-To: <180057805811153@patient.mssante.fr>\r\n\r\nBonjour\r\n";

    #[test]
    fn lists_a_patient_with_name_and_ins_and_hides_the_prefix() {
        let l = listing(&fetched(PATIENT), &Defects::new());
        assert_eq!(l.sender_kind, "patient");
        assert_eq!(l.subject, "2 documents DUPOND Leo");
        let p = l.patient.expect("patient");
        assert_eq!(
            (p.first_name.as_str(), p.birth_name.as_str(), p.ins.as_str()),
            ("Léo", "DUPOND", "180057805811153")
        );
        let pro = fetched(
            "From: Dr Paul DURAND <paul.durand@operateur-fictif.mssante.fr>\r\nSubject: x\r\n\r\nx\r\n",
        );
        assert_eq!(listing(&pro, &Defects::new()).sender_kind, "professional");
    }

    #[test]
    fn a_displayed_message_asking_for_it_gets_a_read_receipt() {
        let account = crate::Account {
            address: "marie.martin@operateur-fictif.mssante.fr".into(),
            display_name: "Dr Marie MARTIN".into(),
            reply_to: None,
            nil: "NIL".into(),
            smtp: crate::Endpoint {
                host: "h".into(),
                addr: "127.0.0.1:1".parse().expect("addr"),
            },
            imap: crate::Endpoint {
                host: "h".into(),
                addr: "127.0.0.1:1".parse().expect("addr"),
            },
            credentials: crate::Credentials::Xoauth2 {
                token: crate::Secret("t".into()),
            },
            trust: crate::Trust {
                root_pem: String::new(),
                organisations_pem: String::new(),
            },
            connect_to: Vec::new(),
        };
        let receipt = read_receipt(&account, &fetched(PATIENT), &Defects::new())
            .expect("composes")
            .expect("asked for");
        assert_eq!(receipt.rcpt_to, ["180057805811153@patient.mssante.fr"]);
        let text = String::from_utf8_lossy(&receipt.bytes);
        assert!(
            text.contains("report-type=disposition-notification")
                || text.contains("report-type=\"disposition-notification\""),
            "{text}"
        );
        assert!(
            text.contains("Original-Message-ID: <p1@patient.mssante.fr>"),
            "{text}"
        );
        assert!(text.contains("; displayed"), "{text}");
        let not_asked = fetched("From: a@b\r\nMessage-ID: <x@y>\r\n\r\nx\r\n");
        assert!(
            read_receipt(&account, &not_asked, &Defects::new())
                .expect("ok")
                .is_none()
        );
    }

    #[test]
    fn patient_addresses_come_from_qualified_ins_only() {
        let mut p = PatientRecord {
            ins: "278117511504249".into(),
            birth_name: "VIAL".into(),
            first_names: vec!["Paulette".into()],
            qualified: true,
        };
        assert_eq!(
            patient_address(&p, &Defects::new()).as_deref(),
            Ok("278117511504249@patient.mssante.fr")
        );
        p.ins = "278117511504248".into();
        assert!(matches!(
            patient_address(&p, &Defects::new()),
            Err(PatientAddressError::InvalidIns(_))
        ));
        p.ins = "278117511504249".into();
        p.qualified = false;
        assert_eq!(
            patient_address(&p, &Defects::new()),
            Err(PatientAddressError::Unqualified)
        );
        assert!(patient_address(&p, &Defects::from([Defect::WritesToUnqualifiedPatient])).is_ok());
    }

    #[test]
    fn a_received_archive_is_filed_under_its_metadata_patient() {
        use documents::fixtures;
        let docs = [fixtures::biology_n3()];
        let mut eml = fixtures::with_documents(&docs, &fixtures::other_patient());
        eml.subject = documents::build::subject(&docs, &fixtures::patient());
        let raw = String::from_utf8(fixtures::compose(&eml)).expect("utf-8");
        let listed = listing(&fetched(&raw), &Defects::new());
        let expected = fixtures::other_patient().ins.map(|(m, _)| m);
        assert_eq!(listed.filed_under, expected);
        let wrong = listing(&fetched(&raw), &Defects::from([Defect::FilesBySubject]));
        assert_ne!(wrong.filed_under, expected);
    }

    #[test]
    fn a_reply_keeps_the_chain() {
        let r = reply_spec(&fetched(PATIENT), "Merci", &Defects::new());
        assert_eq!(r.in_reply_to.as_deref(), Some("p1@patient.mssante.fr"));
        assert_eq!(r.references, ["a@x", "b@x", "p1@patient.mssante.fr"]);
        assert_eq!(r.subject, "Re: XDM/1.0/DDM+2 documents DUPOND Leo");
        assert_eq!(r.addresses[0].email, "180057805811153@patient.mssante.fr");
    }
}
