//! Turns a [`MessageSpec`] into the RFC 5322 message the reference client sends, following the
//! référentiel: a `Message-ID` on every message (ECO.2.2.1), UTF-8 text parts (ECO.2.2.3), a
//! `text/plain` body or `multipart/alternative` text-then-HTML (ECO.2.2.4), the automatic
//! mention and `Reply-To` of application BALs (ECO.2.2.5), a sender label (ECO.2.2.7),
//! `X-MSS-MES: FIN` on request (ECO.2.2.8), receipt requests (ECO.2.3.x), `X-MSS-NIL`
//! (ECO.2.4.3).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use documents::remove_header;
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::raw::Raw;

use crate::account::{Account, Defect, Defects};
use crate::health;
use crate::spec::{AddressType, MessageSpec, Priority};

/// Headers the composer writes itself and a spec may not override.
const RESERVED: &[&str] = &[
    "from",
    "to",
    "cc",
    "bcc",
    "subject",
    "message-id",
    "date",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "reply-to",
    "in-reply-to",
    "references",
];

/// Why a message could not be composed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ComposeError {
    /// No recipient.
    #[error("the message has no recipient")]
    NoRecipient,
    /// A header of the spec is one the composer writes.
    #[error("header {0} is written by the client and cannot be given in `headers`")]
    ReservedHeader(String),
    /// A header name or value is not allowed.
    #[error("header {0} has an invalid name or value")]
    InvalidHeader(String),
    /// An attachment is not base64.
    #[error("attachment {0} is not valid base64")]
    Attachment(String),
    /// Health documents that cannot be sent as they are.
    #[error(transparent)]
    Health(#[from] crate::health::HealthError),
}

/// A composed message and its envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    /// The RFC 5322 bytes.
    pub bytes: Vec<u8>,
    /// The `Message-ID`, without angle brackets (`None` only for the no-message-id defect).
    pub message_id: Option<String>,
    /// Envelope sender.
    pub mail_from: String,
    /// Envelope recipients (To, Cc and Bcc).
    pub rcpt_to: Vec<String>,
}

/// Headers the client computes from the health documents it sends (ECO.2.4.1, ECO.2.4.2): a
/// caller's value is never trusted (it would be wrong as soon as the documents change).
const COMPUTED: &[&str] = &["x-mss-codecda", "x-mss-ins"];

/// The fixed Message-ID of the reused-message-id defect.
const REUSED_ID: &str = "toujours-le-meme@lps-defectueux";

/// A fresh Message-ID in the BAL's domain.
pub fn new_message_id(address: &str) -> String {
    let domain = address.rsplit_once('@').map_or("lps.invalid", |(_, d)| d);
    format!("{}@{domain}", uuid::Uuid::new_v4().simple())
}

fn valid_header(name: &str, value: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
        && !value.contains('\r')
        && !value.contains('\n')
}

/// Text of an HTML body for its `text/plain` alternative: tags removed, line breaks kept,
/// the usual entities decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + end]
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if matches!(
            tag.as_str(),
            "br" | "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3"
        ) {
            out.push('\n');
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

/// The closing mention of messages sent from an application BAL (ECO.2.2.5).
pub fn automatic_mention(reply_to: &str) -> String {
    format!(
        "\n\n--\nCe message a été généré automatiquement. Pour contacter l'émetteur, écrivez à {reply_to}."
    )
}

/// Composes a message for an account.
pub fn compose(
    account: &Account,
    spec: &MessageSpec,
    defects: &Defects,
) -> Result<Composed, ComposeError> {
    if spec.addresses.is_empty() {
        return Err(ComposeError::NoRecipient);
    }
    for (name, value) in &spec.headers {
        if RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(ComposeError::ReservedHeader(name.clone()));
        }
        if !valid_header(name, value) {
            return Err(ComposeError::InvalidHeader(name.clone()));
        }
    }

    // Attachments: CDA documents become the IHE_XDM archive and its PDFs (ECO.2.1.x).
    let mut files = Vec::with_capacity(spec.attachments.len());
    let mut cdas = Vec::new();
    for attachment in &spec.attachments {
        let bytes = STANDARD
            .decode(attachment.file.trim())
            .map_err(|_| ComposeError::Attachment(attachment.file_name.clone()))?;
        if health::is_cda(&attachment.content_type, &bytes) {
            cdas.push(health::read_cda(&attachment.file_name, &bytes)?);
        } else {
            files.push((
                attachment.content_type.clone(),
                attachment.file_name.clone(),
                bytes,
            ));
        }
    }
    let rendered = if cdas.is_empty() {
        None
    } else {
        Some(health::render(&cdas, defects)?)
    };

    let message_id = if defects.contains(&Defect::ReusedMessageId) {
        REUSED_ID.to_owned()
    } else {
        new_message_id(&account.address)
    };
    let mut builder = MessageBuilder::new()
        .from(Address::new_address(
            (!defects.contains(&Defect::NoSenderLabel)).then_some(account.display_name.as_str()),
            account.address.as_str(),
        ))
        .subject(
            if spec.end_exchanges && defects.contains(&Defect::FinInSubject) {
                "[FIN]"
            } else if let Some(r) = &rendered {
                r.subject.as_str()
            } else {
                spec.subject.as_str()
            },
        )
        .message_id(message_id.as_str());

    let by_kind = |kind: AddressType| -> Vec<Address<'_>> {
        spec.addresses
            .iter()
            .filter(|a| a.kind == kind)
            .map(|a| Address::new_address(a.name.as_deref(), a.email.as_str()))
            .collect()
    };
    let to = by_kind(AddressType::To);
    if !to.is_empty() {
        builder = builder.to(to);
    }
    let cc = by_kind(AddressType::Cc);
    if !cc.is_empty() {
        builder = builder.cc(cc);
    }
    if let Some(original) = &spec.in_reply_to {
        builder = builder.in_reply_to(original.as_str());
        // The conversation's chain (ECO.2.2.2); a caller that gives none gets the parent.
        let references: Vec<&str> = if spec.references.is_empty() {
            vec![original.as_str()]
        } else {
            spec.references.iter().map(String::as_str).collect()
        };
        if !defects.contains(&Defect::NoReferences) {
            builder = builder.references(references);
        }
    }
    let reply_to = account
        .reply_to
        .as_deref()
        .filter(|_| !defects.contains(&Defect::NoReplyTo));
    if let Some(reply_to) = reply_to {
        builder = builder.reply_to(reply_to);
    }
    if !defects.contains(&Defect::NoNil) && !spec.headers.contains_key("X-MSS-NIL") {
        builder = builder.header("X-MSS-NIL", Raw::new(account.nil.as_str()));
    }
    for (name, value) in &spec.headers {
        if name == "X-MSS-NIL" && defects.contains(&Defect::NoNil) {
            continue;
        }
        if COMPUTED.contains(&name.to_ascii_lowercase().as_str()) {
            continue;
        }
        builder = builder.header(name.as_str(), Raw::new(value.as_str()));
    }
    if let Some(r) = &rendered {
        builder = builder
            .header("X-MSS-CODECDA", Raw::new(r.codecda.as_str()))
            .header("X-MSS-INS", Raw::new(r.ins));
    }
    if spec.end_exchanges && !defects.contains(&Defect::FinInSubject) {
        builder = builder.header("X-MSS-MES", Raw::new("FIN"));
    }
    if spec.request_dsn && !defects.contains(&Defect::IgnoresDsnRequest) {
        builder = builder.header(
            "Return-Receipt-To",
            Raw::new(format!("<{}>", account.address)),
        );
    }
    if spec.request_mdn && !defects.contains(&Defect::IgnoresMdnRequest) {
        builder = builder.header(
            "Disposition-Notification-To",
            Raw::new(format!("<{}>", account.address)),
        );
    }
    match spec.priority {
        Priority::High => builder = builder.header("X-Priority", Raw::new("1")),
        Priority::Low => builder = builder.header("X-Priority", Raw::new("5")),
        Priority::Normal => {}
    }

    let mention = reply_to.map(automatic_mention);
    if defects.contains(&Defect::HtmlOnly) {
        let mut html = if spec.is_html {
            spec.body.clone()
        } else {
            format!(
                "<p>{}</p>",
                spec.body.replace('&', "&amp;").replace('<', "&lt;")
            )
        };
        if let Some(m) = &mention {
            html.push_str(&format!("<p>{}</p>", m.trim().replace('<', "&lt;")));
        }
        builder = builder.html_body(html);
    } else if spec.is_html {
        let mut text = html_to_text(&spec.body);
        let mut html = spec.body.clone();
        if let Some(m) = &mention {
            text.push_str(m);
            html.push_str(&format!(
                "<p>{}</p>",
                m.trim()
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('\n', "<br>")
            ));
        }
        builder = builder.text_body(text).html_body(html);
    } else {
        let mut text = spec.body.clone();
        if let Some(m) = &mention {
            text.push_str(m);
        }
        builder = builder.text_body(text);
    }
    if let Some(r) = &rendered {
        if defects.contains(&Defect::NoXdm) {
            // The defect: the CDA documents go as they are, without their archive.
            for d in &cdas {
                files.push(("text/xml".into(), "DOC.XML".into(), d.bytes.clone()));
            }
        } else {
            builder = builder.attachment("application/zip", "IHE_XDM.ZIP", r.xdm.as_slice());
        }
        for (name, pdf) in &r.pdfs {
            builder = builder.attachment("application/pdf", name.as_str(), pdf.as_slice());
        }
    }
    for (content_type, name, bytes) in files {
        builder = builder.attachment(content_type, name, bytes);
    }

    let mut bytes = builder
        .write_to_vec()
        .map_err(|e| ComposeError::InvalidHeader(e.to_string()))?;
    // A message is a sequence of lines: end it with CRLF so these are the bytes that travel.
    if !bytes.ends_with(b"\r\n") {
        bytes.extend_from_slice(b"\r\n");
    }
    if defects.contains(&Defect::Latin1Text) {
        // The defect: the text parts say ISO-8859-1 (ECO.2.2.3 wants UTF-8).
        bytes = String::from_utf8_lossy(&bytes)
            .replace("charset=\"utf-8\"", "charset=\"iso-8859-1\"")
            .replace("charset=utf-8", "charset=iso-8859-1")
            .into_bytes();
    }
    let mut message_id = Some(message_id);
    if defects.contains(&Defect::NoMessageId) {
        bytes = remove_header(&bytes, "Message-ID");
        message_id = None;
    }
    Ok(Composed {
        bytes,
        message_id,
        mail_from: account.address.clone(),
        rcpt_to: spec.addresses.iter().map(|a| a.email.clone()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{Credentials, Endpoint, Secret, Trust};
    use crate::spec::AddressSpec;

    fn account(reply_to: Option<&str>) -> Account {
        let endpoint = Endpoint {
            host: "mail.example".into(),
            addr: "127.0.0.1:1".parse().expect("addr"),
        };
        Account {
            address: "marie.martin@operateur-fictif.mssante.fr".into(),
            display_name: "Dr Marie MARTIN".into(),
            reply_to: reply_to.map(str::to_owned),
            nil: "HARNESS/REF/1".into(),
            smtp: endpoint.clone(),
            imap: endpoint,
            credentials: Credentials::Xoauth2 {
                token: Secret("t".into()),
            },
            trust: Trust {
                root_pem: String::new(),
                organisations_pem: String::new(),
            },
            connect_to: Vec::new(),
        }
    }

    fn spec() -> MessageSpec {
        MessageSpec {
            addresses: vec![
                AddressSpec {
                    email: "paul.durand@operateur-fictif.mssante.fr".into(),
                    name: Some("Paul DURAND".into()),
                    kind: AddressType::To,
                },
                AddressSpec {
                    email: "caché@operateur-fictif.mssante.fr".into(),
                    name: None,
                    kind: AddressType::Bcc,
                },
            ],
            subject: "Compte rendu — été".into(),
            body: "Bonjour, voici le résultat.".into(),
            ..MessageSpec::default()
        }
    }

    fn parse(bytes: &[u8]) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(bytes)
            .expect("parses")
    }

    #[test]
    fn composes_what_the_referentiel_asks() {
        let c = compose(&account(None), &spec(), &Defects::new()).expect("compose");
        let m = parse(&c.bytes);
        assert_eq!(m.message_id(), c.message_id.as_deref());
        assert_eq!(
            m.header_raw("X-MSS-NIL").map(str::trim),
            Some("HARNESS/REF/1")
        );
        assert_eq!(m.subject(), Some("Compte rendu — été"));
        let from = m.from().and_then(|a| a.first()).expect("from");
        assert_eq!(from.name(), Some("Dr Marie MARTIN"));
        assert_eq!(
            m.body_text(0).as_deref().map(str::trim_end),
            Some("Bonjour, voici le résultat.")
        );
        assert!(c.bytes.ends_with(b"\r\n"));
        let text = String::from_utf8_lossy(&c.bytes);
        assert!(
            text.contains("charset=utf-8") || text.contains("charset=\"utf-8\""),
            "{text}"
        );
        assert!(!text.contains("caché"), "Bcc stays out of the headers");
        assert_eq!(c.rcpt_to.len(), 2);
    }

    #[test]
    fn html_goes_as_alternative_text_first() {
        let mut s = spec();
        s.is_html = true;
        s.body = "<p>Bonjour&nbsp;<b>Paul</b></p><p>À bientôt</p>".into();
        let c = compose(&account(None), &s, &Defects::new()).expect("compose");
        let m = parse(&c.bytes);
        assert_eq!(
            m.body_text(0).as_deref().map(str::trim_end),
            Some("Bonjour Paul\r\n\r\nÀ bientôt")
        );
        assert!(m.body_html(0).is_some());
        assert!(String::from_utf8_lossy(&c.bytes).contains("multipart/alternative"));
    }

    #[test]
    fn application_bal_adds_reply_to_and_the_mention() {
        let c = compose(
            &account(Some("cardiologie@operateur-fictif.mssante.fr")),
            &spec(),
            &Defects::new(),
        )
        .expect("compose");
        let m = parse(&c.bytes);
        let reply_to = m
            .reply_to()
            .and_then(|a| a.first())
            .and_then(|a| a.address());
        assert_eq!(reply_to, Some("cardiologie@operateur-fictif.mssante.fr"));
        let body = m.body_text(0).expect("body");
        let body = body.trim_end();
        assert!(
            body.ends_with("écrivez à cardiologie@operateur-fictif.mssante.fr."),
            "{body}"
        );
    }

    #[test]
    fn requests_set_their_headers() {
        let mut s = spec();
        s.request_dsn = true;
        s.request_mdn = true;
        s.end_exchanges = true;
        let c = compose(&account(None), &s, &Defects::new()).expect("compose");
        let m = parse(&c.bytes);
        assert_eq!(m.header_raw("X-MSS-MES").map(str::trim), Some("FIN"));
        assert!(
            m.header_raw("Return-Receipt-To")
                .is_some_and(|v| v.contains("marie.martin"))
        );
        assert!(
            m.header_raw("Disposition-Notification-To")
                .is_some_and(|v| v.contains("marie.martin"))
        );
    }

    #[test]
    fn defects_remove_or_freeze_headers() {
        let a = account(None);
        let c = compose(
            &a,
            &spec(),
            &Defects::from([Defect::NoMessageId, Defect::NoNil]),
        )
        .expect("compose");
        let m = parse(&c.bytes);
        assert_eq!(m.message_id(), None);
        assert_eq!(m.header_raw("X-MSS-NIL"), None);
        let reused = Defects::from([Defect::ReusedMessageId]);
        let one = compose(&a, &spec(), &reused).expect("compose");
        let two = compose(&a, &spec(), &reused).expect("compose");
        assert_eq!(one.message_id, two.message_id);
        let fresh = compose(&a, &spec(), &Defects::new()).expect("compose");
        assert_ne!(fresh.message_id, one.message_id);
    }

    #[test]
    fn bad_specs_are_refused() {
        let mut s = spec();
        s.headers.insert("From".into(), "x".into());
        assert!(matches!(
            compose(&account(None), &s, &Defects::new()),
            Err(ComposeError::ReservedHeader(_))
        ));
        let mut s = spec();
        s.headers.insert("X-Evil".into(), "a\r\nBcc: x".into());
        assert!(matches!(
            compose(&account(None), &s, &Defects::new()),
            Err(ComposeError::InvalidHeader(_))
        ));
        let mut s = spec();
        s.addresses.clear();
        assert_eq!(
            compose(&account(None), &s, &Defects::new()),
            Err(ComposeError::NoRecipient)
        );
    }
}
