//! The message to send, in the JSON format editors already use to drive a sender (seeds/000:
//! `attachments`, `addresses`, `headers`, `flags`, `subject`, `body`, `priority`, `isHtml`),
//! plus the harness's requests (`requestDsn`, `requestMdn`, `endExchanges`, `inReplyTo`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Recipient kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AddressType {
    /// `To`.
    To,
    /// `Cc`.
    Cc,
    /// Blind copy: envelope only.
    Bcc,
}

/// One recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressSpec {
    /// Address.
    pub email: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Kind.
    #[serde(rename = "type")]
    pub kind: AddressType,
}

/// One attachment; `file` is base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentSpec {
    /// MIME type.
    pub content_type: String,
    /// Content, base64.
    pub file: String,
    /// File name.
    pub file_name: String,
}

/// Priority of seeds/000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Priority {
    /// `X-Priority: 1`.
    High,
    /// No header.
    #[default]
    Normal,
    /// `X-Priority: 5`.
    Low,
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSpec {
    /// Attachments.
    #[serde(default)]
    pub attachments: Vec<AttachmentSpec>,
    /// Recipients.
    pub addresses: Vec<AddressSpec>,
    /// Extra headers (e.g. `X-MSS-CODECDA`); structural headers are refused.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// IMAP flags of seeds/000; not used by submission.
    #[serde(default)]
    pub flags: Vec<String>,
    /// Subject.
    pub subject: String,
    /// Body: plain text, or HTML when `isHtml`.
    pub body: String,
    /// Priority.
    #[serde(default)]
    pub priority: Priority,
    /// Whether `body` is HTML (sent as multipart/alternative, text first).
    #[serde(default)]
    pub is_html: bool,
    /// Ask for a delivery status notification (ECO.2.3.1).
    #[serde(default)]
    pub request_dsn: bool,
    /// Ask for a read receipt (ECO.2.3.2).
    #[serde(default)]
    pub request_mdn: bool,
    /// End the exchanges with a patient (`X-MSS-MES: FIN`, ECO.2.2.8).
    #[serde(default)]
    pub end_exchanges: bool,
    /// Message-ID this message replies to.
    #[serde(default)]
    pub in_reply_to: Option<String>,
    /// The conversation's `References`, oldest first, ending with `in_reply_to` (ECO.2.2.2).
    #[serde(default)]
    pub references: Vec<String>,
}

impl MessageSpec {
    /// Parses the JSON format.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of seeds/000, verbatim apart from the placeholder.
    const SEED_EXAMPLE: &str = r#"{
      "attachments": [{
          "contentType": "application/xml",
          "file": "PENsaW5pY2FsRG9jdW1lbnQvPg==",
          "fileName": "cda.xml"
      }],
      "addresses": [
        { "email": "ps@operateur-fictif.mssante.fr", "name": "PS", "type": "TO" }
      ],
      "headers": {
          "X-MSS-INS": "O",
          "X-MSS-CODECDA": "34112-3",
          "X-MSS-NIL": "DEV935997"
      },
      "flags": [],
      "subject": "Message test envoi avec header x-mss",
      "body": "test <span style=\"color:#ff0000\">message </span><b>html</b>",
      "priority": "NORMAL",
      "isHtml": true
    }"#;

    #[test]
    fn reads_the_seed_example() {
        let spec = MessageSpec::from_json(SEED_EXAMPLE).expect("parse");
        assert!(spec.is_html);
        assert_eq!(spec.addresses[0].kind, AddressType::To);
        assert_eq!(spec.headers["X-MSS-NIL"], "DEV935997");
        assert_eq!(spec.attachments[0].file_name, "cda.xml");
        assert_eq!(spec.priority, Priority::Normal);
    }

    #[test]
    fn rejects_missing_fields_with_a_message() {
        let e = MessageSpec::from_json(r#"{"subject": "x"}"#).expect_err("addresses missing");
        assert!(e.to_string().contains("addresses"), "{e}");
    }
}
