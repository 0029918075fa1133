//! The driver contract's data: what the harness tells a system under test (an account, a
//! message to send) and what it answers. These are the harness's own types, documented as JSON
//! in `scenarios/sut/README.md`; the reference client's types never leak into them.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The family of a BAL, as the operator's directory writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum BalKind {
    /// A professional's personal BAL (Pro Santé Connect).
    Per,
    /// A service's organisational BAL (Pro Santé Connect).
    Org,
    /// An application BAL (ORG AUTH_CLI certificate).
    App,
}

impl BalKind {
    /// The catalogue family.
    pub fn family(self) -> catalog::Family {
        match self {
            BalKind::Per | BalKind::Org => catalog::Family::PerOrg,
            BalKind::App => catalog::Family::App,
        }
    }
}

/// A server of the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSpec {
    /// Host name: the server certificate carries it, send it as SNI.
    pub host: String,
    /// TCP port (587 and 143 at a real operator; others in a test bench).
    pub port: u16,
    /// Address the host name resolves to, for a system that cannot use the operator's DNS.
    pub address: IpAddr,
}

/// Where to connect for a host name (and port), instead of asking the DNS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectToSpec {
    /// Host name, as in URLs, certificates and the autoconfiguration document.
    pub host: String,
    /// Port this entry applies to; absent: every port.
    #[serde(default)]
    pub port: Option<u16>,
    /// Address to connect to.
    pub address: IpAddr,
    /// Port to connect to; absent: the requested one.
    #[serde(default)]
    pub to_port: Option<u16>,
}

/// Files that make the fake IGC Santé trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustSpec {
    /// The root CA certificate (PEM): the only anchor to trust.
    pub root: PathBuf,
    /// The Elementaire Organisations CA (PEM): the only issuer of operator certificates.
    pub organisations: PathBuf,
    /// The CRLs of both CAs (PEM), for a system that takes them as files.
    #[serde(default)]
    pub crls: Vec<PathBuf>,
}

/// An application BAL's ORG AUTH_CLI certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateSpec {
    /// Certificate chain (end entity first), PEM.
    pub chain: PathBuf,
    /// Private key, PEM (PKCS#8).
    pub key: PathBuf,
}

/// How a personal or organisational BAL authenticates: the fake Pro Santé Connect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PscSpec {
    /// OpenID Connect issuer (its discovery document is under
    /// `/.well-known/openid-configuration`).
    pub issuer: String,
    /// The client ID the fake Pro Santé Connect knows the system by.
    pub client_id: String,
    /// National ID of the professional who uses the BAL (`login_hint` of the test flow).
    pub professional: String,
    /// An access token issued for this professional and client, for a system that does not
    /// run the OpenID Connect flow itself.
    pub access_token: String,
}

/// The BAL a system under test works with, and how to reach the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountSpec {
    /// The BAL address.
    pub address: String,
    /// Its family.
    pub kind: BalKind,
    /// The label the directory gives the BAL (what `From` should show, ECO.2.2.7).
    pub display_name: String,
    /// For an application BAL: the personal or organisational BAL replies go to (ECO.2.2.5).
    #[serde(default)]
    pub reply_to: Option<String>,
    /// SMTP submission server; `null` when the SUT must find it by autoconfiguration from
    /// the address alone (ECO.1.1.9).
    pub smtp: Option<ServerSpec>,
    /// IMAP server; `null` likewise.
    pub imap: Option<ServerSpec>,
    /// Autoconfiguration document of the BAL's domain (ECO.1.1.9), with the port actually
    /// bound; a SUT derives `https://autoconfig.<domain>/mail/config-v1.1.xml` itself.
    pub autoconfig: String,
    /// Host names to reach without the DNS, like curl's `--connect-to`: the operator's hosts
    /// (autoconfiguration, CRL, OCSP, both entry points) on a bench whose ports or addresses
    /// are not the real ones.
    #[serde(default)]
    pub connect_to: Vec<ConnectToSpec>,
    /// What to trust.
    pub trust: TrustSpec,
    /// Application BAL: the certificate; `null` otherwise.
    #[serde(default)]
    pub certificate: Option<CertificateSpec>,
    /// Personal or organisational BAL: Pro Santé Connect; `null` otherwise.
    #[serde(default)]
    pub psc: Option<PscSpec>,
}

/// Recipient kind (seeds/000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AddressType {
    /// `To`.
    To,
    /// `Cc`.
    Cc,
    /// Blind copy.
    Bcc,
}

/// One recipient (seeds/000).
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

/// One attachment (seeds/000); `file` is base64.
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

/// A message to send: the JSON of seeds/000 (`attachments`, `addresses`, `headers`, `flags`,
/// `subject`, `body`, `priority`, `isHtml`) plus what scenarios ask for.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSpec {
    /// Attachments.
    #[serde(default)]
    pub attachments: Vec<AttachmentSpec>,
    /// Recipients.
    pub addresses: Vec<AddressSpec>,
    /// Extra headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// IMAP flags (seeds/000).
    #[serde(default)]
    pub flags: Vec<String>,
    /// Subject.
    pub subject: String,
    /// Body: plain text, or HTML when `isHtml`.
    pub body: String,
    /// Priority.
    #[serde(default)]
    pub priority: Priority,
    /// Whether `body` is HTML.
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
}

/// Priority (seeds/000).
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

/// What the system says after sending.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendOutcome {
    /// The Message-ID it wrote, if it tells.
    #[serde(default)]
    pub message_id: Option<String>,
}

/// A message the system reports in its INBOX.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedMessage {
    /// Its Message-ID.
    #[serde(default)]
    pub message_id: Option<String>,
    /// Its subject as displayed.
    #[serde(default)]
    pub subject: Option<String>,
    /// Its sender as displayed.
    #[serde(default)]
    pub from: Option<String>,
    /// `patient` or `professional`: whom the user is shown it comes from (ECO.3.1.1).
    #[serde(default)]
    pub sender_kind: Option<String>,
    /// For a message carrying documents: the INS of the patient whose file it was filed in
    /// (ECO.2.1.2).
    #[serde(default)]
    pub filed_under: Option<String>,
    /// For a message from a patient: the patient as displayed (ECO.3.1.2).
    #[serde(default)]
    pub patient: Option<ListedPatient>,
}

/// A patient of the user's files, for `write_to_patient` (ECO.2.2.6, ECO.3.1.5): the SUT
/// builds the address from the INS only when the identity is qualified.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientSpec {
    /// INS matricule (15 characters).
    pub ins: String,
    /// OID of the INS (NIR, NIA, or their test OIDs).
    pub oid: String,
    /// Nom de naissance.
    pub birth_name: String,
    /// Prénoms de naissance.
    pub first_names: Vec<String>,
    /// Birth date `YYYY-MM-DD`.
    pub birth_date: String,
    /// `M` or `F`.
    pub sex: String,
    /// Whether the identity is qualified (checked against the INSi service).
    pub qualified: bool,
}

/// A patient as the system displays them (ECO.3.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedPatient {
    /// Nom de naissance.
    #[serde(default)]
    pub birth_name: String,
    /// Prénom.
    #[serde(default)]
    pub first_name: String,
    /// INS.
    #[serde(default)]
    pub ins: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of seeds/000, verbatim apart from the placeholder address.
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
    fn the_seed_example_is_a_message_spec() {
        let spec: MessageSpec = serde_json::from_str(SEED_EXAMPLE).expect("seeds/000 JSON");
        assert!(spec.is_html);
        assert_eq!(spec.addresses[0].kind, AddressType::To);
        assert_eq!(spec.headers["X-MSS-NIL"], "DEV935997");
        let back = serde_json::to_value(&spec).expect("json");
        assert_eq!(back["attachments"][0]["fileName"], "cda.xml");
        assert_eq!(back["isHtml"], true);
        let default = serde_json::to_value(MessageSpec::default()).expect("json");
        assert_eq!(default["priority"], "NORMAL");
    }
}
