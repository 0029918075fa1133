//! The events of the journal: what the operator observed, in the order it observed it.
//!
//! Serialised as one flat JSON object per line: `{"seq": 12, "at": "…", "conn": 3, "type":
//! "command", "service": "smtp", "tls": false, "verb": "EHLO", "line": "EHLO client"}`.
//! Credentials never appear: the operator redacts commands before recording them.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A certificate as the operator read it (subject, issuer, validity, names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateSummary {
    /// Subject, most specific first (`CN=..., OU=..., O=..., C=FR`).
    pub subject: String,
    /// Issuer, same order.
    pub issuer: String,
    /// Common name of the subject.
    #[serde(default)]
    pub subject_cn: Option<String>,
    /// Organisational units of the subject (the IdNatStruc for ORG AUTH_CLI).
    #[serde(default)]
    pub subject_ou: Vec<String>,
    /// Common name of the issuer.
    #[serde(default)]
    pub issuer_cn: Option<String>,
    /// Serial number, hexadecimal.
    #[serde(default)]
    pub serial: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// DNS names of the subjectAltName.
    #[serde(default)]
    pub dns_names: Vec<String>,
}

/// Identifies one TCP connection in the journal.
pub type ConnId = u64;

/// Which protocol a listener speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// SMTP submission.
    Smtp,
    /// IMAP.
    Imap,
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Service::Smtp => "SMTP",
            Service::Imap => "IMAP",
        })
    }
}

/// The two entry points of the API LPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryPoint {
    /// Personal and organisational BALs, Pro Santé Connect tokens over SASL XOAUTH2.
    Psc,
    /// Application BALs, ORG AUTH_CLI client certificate then SASL PLAIN.
    App,
}

/// Who ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedBy {
    /// The client closed (or QUIT/LOGOUT).
    Client,
    /// The operator closed (error, timeout, fault, shutdown).
    Operator,
}

/// A cipher suite as seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suite {
    /// IANA code point.
    pub code: u16,
    /// IANA name, when known.
    pub name: String,
}

/// What a client offered in its ClientHello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientHelloSummary {
    /// Versions the client accepts (supported_versions, or the legacy version alone).
    pub versions: Vec<String>,
    /// Offered cipher suites, in the client's order.
    pub cipher_suites: Vec<Suite>,
    /// Offered key exchange groups.
    pub groups: Vec<String>,
    /// Server name indication.
    pub sni: Option<String>,
}

/// Summary of a client certificate and what the operator made of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCertificate {
    /// The certificate.
    pub summary: CertificateSummary,
    /// `None` when it chains to the fake IGC Santé and is valid; the reason otherwise.
    pub rejected: Option<String>,
}

/// Outcome of an authentication attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthVerdict {
    /// Authenticated.
    Accepted,
    /// Refused.
    Refused,
}

/// The claims of an access token worth showing (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSummary {
    /// Issuer.
    pub iss: String,
    /// Authorised party (the LPS's client ID).
    pub azp: String,
    /// National ID of the professional.
    pub preferred_username: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Token ID.
    pub jti: String,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// The operator's TLS profile was switched.
    TlsProfileChanged {
        /// The new profile's name (`good`, `tls10-only`, `certificate-expired`...).
        profile: String,
    },
    /// The operator's faults were switched.
    FaultsChanged {
        /// The faults now in force.
        faults: crate::faults::Faults,
    },
    /// The operator injected a fault into this connection.
    FaultInjected {
        /// What it did (French, for the reports).
        fault: String,
    },
    /// A listener is ready.
    ListenerReady {
        /// Protocol.
        service: Service,
        /// Entry point.
        entry: EntryPoint,
        /// Bound address.
        addr: SocketAddr,
    },
    /// A client connected.
    ConnectionOpened {
        /// Protocol.
        service: Service,
        /// Entry point.
        entry: EntryPoint,
        /// Client address.
        peer: SocketAddr,
    },
    /// A connection ended.
    ConnectionClosed {
        /// Who ended it.
        by: ClosedBy,
        /// Why, when the operator ended it.
        reason: Option<String>,
    },
    /// A command (or SASL line) from the client, credentials redacted.
    Command {
        /// Protocol.
        service: Service,
        /// Whether it travelled inside TLS.
        tls: bool,
        /// Verb, upper case (`EHLO`, `AUTHENTICATE`...); empty for SASL continuation lines.
        verb: String,
        /// The line as received, credentials redacted.
        line: String,
    },
    /// A reply from the operator (first line only for multi-line replies).
    Reply {
        /// Protocol.
        service: Service,
        /// Whether it travelled inside TLS.
        tls: bool,
        /// The reply.
        line: String,
    },
    /// Bytes the client sent after STARTTLS but before the TLS handshake: discarded.
    InjectionDiscarded {
        /// How many bytes.
        bytes: usize,
    },
    /// A ClientHello was received.
    TlsClientHello(ClientHelloSummary),
    /// The TLS handshake completed.
    TlsEstablished {
        /// Negotiated version.
        version: String,
        /// Negotiated suite.
        cipher_suite: Suite,
        /// Negotiated key exchange group.
        group: Option<String>,
        /// Client certificate, when one was presented.
        client_certificate: Option<ClientCertificate>,
    },
    /// The TLS handshake failed (the client aborted, or sent something else).
    TlsFailed {
        /// The error, as the TLS stack reported it.
        error: String,
    },
    /// An authentication attempt.
    Auth {
        /// Protocol.
        service: Service,
        /// SASL mechanism as named by the client.
        mechanism: String,
        /// Whether it happened inside TLS.
        tls: bool,
        /// The BAL the client asked for, when it could be read.
        user: Option<String>,
        /// Whether the SASL string had the exact form the référentiel prescribes.
        format_ok: bool,
        /// The client presented again a token the operator had already refused.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        retried_refused_token: bool,
        /// The operator refused on purpose (an injected fault), whatever the client sent.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        provoked: bool,
        /// The client had already sent more bytes when the operator answered: it did not wait
        /// for the validation.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        pipelined: bool,
        /// The PLAIN authorisation identity, when one was given (informative).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authzid: Option<String>,
        /// Claims of the access token (XOAUTH2).
        token: Option<TokenSummary>,
        /// Decision.
        verdict: AuthVerdict,
        /// Why it was refused (French, for the reports).
        reason: Option<String>,
    },
    /// A message was accepted and stored.
    MessageAccepted {
        /// Envelope sender.
        mail_from: String,
        /// Envelope recipients.
        rcpt_to: Vec<String>,
        /// Size in bytes.
        size: u64,
        /// `Message-ID` header, if any.
        message_id: Option<String>,
        /// `Subject` header, if any.
        subject: Option<String>,
        /// Where the message, as received, is stored.
        path: String,
        /// Local BALs it was delivered to.
        delivered_to: Vec<String>,
    },
    /// A submitted message whose `From:` does not name the authenticated BAL: refused at the
    /// end of DATA as a real operator would, or accepted when that policy is switched off.
    FromNotOwned {
        /// Envelope sender (empty for the null reverse-path).
        mail_from: String,
        /// The `From:` header, as written.
        from_header: Option<String>,
        /// Why (French, for the reports).
        reason: String,
        /// Whether the operator refused the message (`550 5.7.1`).
        refused: bool,
    },
    /// An HTTP request from a client (autoconfig, CRL, OCSP, Pro Santé Connect).
    HttpRequest {
        /// Over HTTPS.
        tls: bool,
        /// Method.
        method: String,
        /// `Host` header.
        host: Option<String>,
        /// Path.
        path: String,
        /// Status of the answer.
        status: u16,
    },
    /// A grant at the fake Pro Santé Connect's token endpoint.
    PscGrant {
        /// `authorization_code`, `refresh_token`, CIBA...
        grant_type: String,
        /// The LPS's client ID.
        client_id: Option<String>,
        /// The professional, when known.
        professional: Option<String>,
        /// The OAuth error when refused.
        error: Option<String>,
    },
    /// Sessions of a professional ended at the fake Pro Santé Connect.
    PscSessionEnded {
        /// National ID.
        professional: String,
        /// How many sessions.
        sessions: usize,
        /// Who ended them (`harnais`, `logout`, `revoke`).
        by: String,
    },
    /// A DNS query to the operator's responder.
    DnsQuery {
        /// Who asked.
        peer: SocketAddr,
        /// The name, lower case.
        name: String,
        /// The record type (`A`, `AAAA`...).
        record_type: String,
        /// The address answered, if any.
        answer: Option<std::net::IpAddr>,
    },
    /// The OCSP responder answered.
    OcspAnswered {
        /// Serial (hexadecimal) and status (`good`, `revoked`, `unknown`) of each certificate
        /// asked about; empty for a malformed request.
        certificates: Vec<(String, String)>,
    },
    /// Mon espace santé (the patients' operator) received a message for a patient.
    MesReceived {
        /// The professional's BAL.
        from: String,
        /// The patient's address.
        to: String,
        /// Its subject.
        subject: Option<String>,
        /// What became of it (French): delivered with the sender label shown, bounced, `[FIN]`…
        outcome: String,
        /// Whether Mon espace santé sent a message back to the professional's BAL.
        answered: bool,
    },
    /// A patient acted in Mon espace santé (the harness, through the control API): opened a
    /// message (its read receipt sent, if asked), replied, or had their space opened/closed.
    MesPatient {
        /// The patient's INS.
        ins: String,
        /// `open`, `reply` or `state`.
        action: String,
        /// The message concerned.
        message_id: Option<String>,
        /// Where Mon espace santé sent something (receipt, reply), if it did.
        sent_to: Option<String>,
        /// What happened (French), or why it was refused.
        outcome: String,
    },
    /// The operator delivered a delivery status notification (RFC 3464) to a sender.
    DsnSent {
        /// The sender's BAL.
        to: String,
        /// The recipients it reports on.
        recipients: Vec<String>,
    },
    /// The harness (or the control API) put a message into a BAL.
    MessageInjected {
        /// The BAL.
        bal: String,
        /// `Message-ID` header, if any.
        message_id: Option<String>,
        /// Stored path.
        path: String,
    },
    /// A client stored a message with IMAP APPEND (e.g. a copy of what it sent, in `Sent`).
    MessageAppended {
        /// The BAL.
        bal: String,
        /// The mailbox.
        mailbox: String,
        /// The UID it got.
        uid: u32,
        /// `Message-ID` header, if any.
        message_id: Option<String>,
    },
    /// A message was fetched over IMAP.
    MessageFetched {
        /// The BAL.
        bal: String,
        /// The mailbox (`INBOX`, `Sent`, `Drafts`, `Trash`).
        mailbox: String,
        /// Its UID.
        uid: u32,
        /// `Message-ID` header, if any.
        message_id: Option<String>,
        /// Whether the body (not only metadata) was sent.
        body: bool,
    },
    /// A client changed the flags of a message (IMAP STORE, or a non-peek body fetch setting
    /// `\Seen`).
    FlagsChanged {
        /// The BAL.
        bal: String,
        /// The mailbox.
        mailbox: String,
        /// The message's UID.
        uid: u32,
        /// Its flags now, as IMAP writes them (`\Seen`, `\Deleted`…).
        flags: Vec<String>,
    },
    /// Messages were copied (IMAP COPY) or moved (MOVE) to another mailbox of the BAL.
    MessagesCopied {
        /// The BAL.
        bal: String,
        /// Source mailbox.
        from: String,
        /// Destination mailbox.
        to: String,
        /// (source UID, destination UID) of each message.
        uids: Vec<(u32, u32)>,
        /// Whether the sources were removed (MOVE).
        moved: bool,
    },
    /// A message was removed for good (IMAP EXPUNGE, CLOSE, MOVE).
    MessageExpunged {
        /// The BAL.
        bal: String,
        /// The mailbox.
        mailbox: String,
        /// Its UID.
        uid: u32,
    },
    /// The harness marked the journal: a scenario starts or ends, the operator was reset. Lets
    /// a reader of a shared operator's journal cut it into scenarios.
    Marker {
        /// What starts or ends (French, for the reports).
        text: String,
    },
    /// An event of a kind this version does not know (written by a newer operator): kept so a
    /// recorded journal still reads, ignored by the rules.
    #[serde(other)]
    Unknown,
}

/// One journal entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the journal, from 1.
    pub seq: u64,
    /// When it was recorded (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Connection it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conn: Option<ConnId>,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}
