//! A message under judgement: its raw bytes, their parse, and what several rules read from it
//! (attachments, health documents, addresses), computed once.

use std::sync::OnceLock;

use mail_parser::{Address, HeaderValue, MimeHeaders, PartType};

use crate::health::Health;

/// Why bytes are not a message at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Its file name (`Content-Disposition` filename, else `Content-Type` name), decoded.
    pub name: Option<String>,
    /// `type/subtype`, lower case.
    pub content_type: String,
    /// Its content, transfer-decoded.
    pub content: Vec<u8>,
}

/// A mailbox of an address header: display name (decoded) and address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Display name, decoded from RFC 2047 when encoded.
    pub name: Option<String>,
    /// Address (`local@domain`).
    pub address: Option<String>,
}

/// Largest message judged (MSSanté's limit is 25 MB; base64 adds a third).
pub const MAX_MESSAGE: usize = 40 * 1024 * 1024;

/// A message as sent.
#[derive(Debug)]
pub struct Message<'a> {
    raw: &'a [u8],
    parsed: mail_parser::Message<'a>,
    attachments: OnceLock<Vec<Attachment>>,
    health: OnceLock<Health>,
}

/// `type/subtype` of a part, lower case; `text/plain` when absent (RFC 2045 default).
pub fn content_type(part: &mail_parser::MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => format!(
            "{}/{}",
            ct.c_type.to_ascii_lowercase(),
            ct.c_subtype
                .as_deref()
                .unwrap_or_default()
                .to_ascii_lowercase()
        ),
        None => "text/plain".into(),
    }
}

impl<'a> Message<'a> {
    /// Parses raw RFC 5322 bytes.
    pub fn parse(raw: &'a [u8]) -> Result<Self, ParseError> {
        if raw.len() > MAX_MESSAGE {
            return Err(ParseError(format!(
                "message de {} octets, au-delà de la limite de {MAX_MESSAGE}",
                raw.len()
            )));
        }
        let parsed = mail_parser::MessageParser::default()
            .parse(raw)
            .filter(|m| {
                // A message starts with header fields (RFC 5322 field names: printable ASCII).
                m.headers().first().is_some_and(|h| {
                    let name = h.name();
                    !name.is_empty() && name.bytes().all(|b| (33..=126).contains(&b) && b != b':')
                })
            })
            .ok_or_else(|| ParseError("le contenu n'est pas un message RFC 5322".into()))?;
        Ok(Message {
            raw,
            parsed,
            attachments: OnceLock::new(),
            health: OnceLock::new(),
        })
    }

    /// The bytes as sent.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The parsed message.
    pub fn parsed(&self) -> &mail_parser::Message<'a> {
        &self.parsed
    }

    /// Raw values (unfolded, trimmed) of every top-level header with this name.
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.parsed
            .headers()
            .iter()
            .filter(|h| h.name().eq_ignore_ascii_case(name))
            .filter_map(|h| {
                let start = h.offset_start() as usize;
                let end = h.offset_end() as usize;
                self.raw.get(start..end)
            })
            .map(|v| {
                String::from_utf8_lossy(v)
                    .replace("\r\n", "")
                    .replace('\n', "")
                    .trim()
                    .to_owned()
            })
            .collect()
    }

    /// The mailboxes of an address header (`From`, `To`, `Cc`, `Bcc`, `Reply-To`…), groups
    /// flattened.
    pub fn mailboxes(&self, name: &str) -> Vec<Mailbox> {
        let mut out = Vec::new();
        for header in self
            .parsed
            .headers()
            .iter()
            .filter(|h| h.name().eq_ignore_ascii_case(name))
        {
            let addrs: Vec<&mail_parser::Addr<'_>> = match &header.value {
                HeaderValue::Address(Address::List(list)) => list.iter().collect(),
                HeaderValue::Address(Address::Group(groups)) => {
                    groups.iter().flat_map(|g| g.addresses.iter()).collect()
                }
                _ => Vec::new(),
            };
            out.extend(addrs.into_iter().map(|a| {
                Mailbox {
                    name: a
                        .name
                        .as_deref()
                        .map(str::trim)
                        .filter(|n| !n.is_empty())
                        .map(str::to_owned),
                    address: a.address.as_deref().map(str::trim).map(str::to_owned),
                }
            }));
        }
        out
    }

    /// The mailboxes of a header mail-parser does not know as an address header
    /// (`Return-Receipt-To`, `Disposition-Notification-To`): its raw value read with the address
    /// grammar.
    pub fn mailboxes_of_raw(&self, name: &str) -> Vec<Mailbox> {
        let mut out = Vec::new();
        for value in self.header_values(name) {
            let synthetic = format!("To: {value}\r\n\r\n");
            if let Ok(m) = Message::parse(synthetic.as_bytes()) {
                out.extend(m.mailboxes("To"));
            }
        }
        out
    }

    /// Every recipient address (`To`, `Cc`, `Bcc`), lower case.
    pub fn recipients(&self) -> Vec<String> {
        ["To", "Cc", "Bcc"]
            .iter()
            .flat_map(|h| self.mailboxes(h))
            .filter_map(|m| m.address)
            .map(|a| a.to_ascii_lowercase())
            .collect()
    }

    /// The files attached (every part that is not the message's text body).
    pub fn attachments(&self) -> &[Attachment] {
        self.attachments.get_or_init(|| {
            self.parsed
                .attachments
                .iter()
                .filter_map(|&i| self.parsed.parts.get(i as usize))
                .filter(|p| !matches!(p.body, PartType::Message(_) | PartType::Multipart(_)))
                .map(|p| Attachment {
                    name: p.attachment_name().map(str::to_owned),
                    content_type: content_type(p),
                    content: p.contents().to_vec(),
                })
                .collect()
        })
    }

    /// Its health documents (XDM archive, PDFs), read on first use.
    pub fn health(&self) -> &Health {
        self.health.get_or_init(|| Health::of(self.attachments()))
    }
}
