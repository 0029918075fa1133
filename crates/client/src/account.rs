//! What the client is configured with: the BAL, how to reach and authenticate to the operator,
//! which CA to trust, and the product reference written in `X-MSS-NIL`.

use std::collections::BTreeSet;
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A server of the operator: the name the certificate must carry and where to connect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// Host name, checked against the server certificate and sent as SNI.
    pub host: String,
    /// Address to connect to (resolved by the caller).
    pub addr: SocketAddr,
}

/// A secret string whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} characters>)", self.0.len())
    }
}

/// How the client authenticates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Credentials {
    /// Personal or organisational BAL: a Pro Santé Connect access token, sent with XOAUTH2.
    Xoauth2 {
        /// The access token (JWT).
        token: Secret,
    },
    /// Application BAL: an ORG AUTH_CLI certificate in TLS, then PLAIN naming the BAL.
    Certificate {
        /// Certificate chain (end entity first), PEM.
        chain_pem: String,
        /// Private key, PEM.
        key_pem: Secret,
    },
}

/// Trust anchors: the IGC Santé root and the Elementaire Organisations CA, the only issuer the
/// référentiel accepts for an operator's server certificate (ECO.1.1.10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trust {
    /// Root certificate, PEM.
    pub root_pem: String,
    /// Elementaire Organisations CA certificate, PEM.
    pub organisations_pem: String,
}

/// Where to connect for a host name, instead of asking the DNS: what `/etc/hosts` or curl's
/// `--connect-to` give a client on a test bench. With `port`, only connections to that port
/// are redirected (to `to_port` when given); without, every port of the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectTo {
    /// Host name, as in URLs and certificates.
    pub host: String,
    /// Port this entry applies to (every port when absent).
    #[serde(default)]
    pub port: Option<u16>,
    /// Address to connect to.
    pub address: std::net::IpAddr,
    /// Port to connect to (the requested one when absent).
    #[serde(default)]
    pub to_port: Option<u16>,
}

/// Resolves `host:port` through `connect_to` first, then the system's resolver.
pub(crate) async fn resolve(
    connect_to: &[ConnectTo],
    host: &str,
    port: u16,
) -> std::io::Result<SocketAddr> {
    let host_l = host.trim_end_matches('.').to_ascii_lowercase();
    let entry = connect_to
        .iter()
        .find(|c| c.host.eq_ignore_ascii_case(&host_l) && c.port == Some(port))
        .or_else(|| {
            connect_to
                .iter()
                .find(|c| c.host.eq_ignore_ascii_case(&host_l) && c.port.is_none())
        });
    if let Some(c) = entry {
        return Ok(SocketAddr::new(c.address, c.to_port.unwrap_or(port)));
    }
    if let Ok(ip) = host_l.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    tokio::net::lookup_host((host_l.as_str(), port))
        .await?
        .next()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "aucune adresse"))
}

/// Everything the client needs for one BAL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// BAL address.
    pub address: String,
    /// Sender label written in `From` (ECO.2.2.7).
    pub display_name: String,
    /// For an application BAL: the personal or organisational BAL named in `Reply-To` and in the
    /// closing mention (ECO.2.2.5).
    #[serde(default)]
    pub reply_to: Option<String>,
    /// Product reference written in `X-MSS-NIL` (ECO.2.4.3).
    pub nil: String,
    /// SMTP submission server.
    pub smtp: Endpoint,
    /// IMAP server.
    pub imap: Endpoint,
    /// Authentication.
    pub credentials: Credentials,
    /// Trust anchors.
    pub trust: Trust,
    /// Host names to reach without the DNS (test benches).
    #[serde(default)]
    pub connect_to: Vec<ConnectTo>,
}

/// A deliberate defect the harness injects to prove a scenario can fail (a "mutant").
/// The reference client has none of them by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Defect {
    /// Sends `AUTH` in clear before STARTTLS, then carries on as usual once refused.
    SmtpAuthInClear,
    /// Never issues STARTTLS on IMAP and authenticates in clear.
    ImapWithoutStartTls,
    /// Ends the XOAUTH2 string with one `^A` instead of two.
    Xoauth2BadSeparators,
    /// Presents no client certificate on the application entry point.
    NoClientCertificate,
    /// Sends messages without a `Message-ID` header.
    NoMessageId,
    /// Gives every message the same `Message-ID`.
    ReusedMessageId,
    /// Sends messages without an `X-MSS-NIL` header.
    NoNil,
    /// Pipelines a command right behind `STARTTLS`, before the TLS handshake (SMTP and IMAP).
    StarttlsPipelining,
    /// Names another BAL of the same professional in XOAUTH2's `user=`.
    Xoauth2WrongUser,
    /// Authenticates with PLAIN on the Pro Santé Connect entry point, the token as password.
    PlainInsteadOfXoauth2,
    /// Sends a command inside TLS before authenticating (refused), then authenticates.
    CommandBeforeAuth,
    /// Gives PLAIN the BAL's local part instead of its address.
    PlainWrongLogin,
    /// Pipelines `MAIL FROM` behind `AUTH` without waiting for the validation (SMTP).
    AuthPipelined,
    /// Skips the `EHLO` after the TLS handshake (SMTP).
    NoEhloAfterTls,
    /// Also offers ECDHE-RSA-CHACHA20-POLY1305 (0xCCA8), a suite outside ECO.1.1.3's list.
    OffersChacha20,
    /// Accepts a server certificate of another range of the IGC Santé root (chain built with
    /// the intermediates the server sends).
    TrustsOtherRange,
    /// Accepts an expired or not yet valid server certificate.
    IgnoresCertificateDates,
    /// Presents another structure's ORG AUTH_CLI certificate (application entry point).
    OtherStructureCertificate,
    /// Presents an expired client certificate (application entry point).
    ExpiredClientCertificate,
    /// Presents a client certificate of the Elementaire Personnes range (application entry
    /// point).
    PersonnesClientCertificate,
    /// Offers TLS 1.3 only: cannot work with an operator limited to TLS 1.2.
    Tls13Only,
    /// Never checks whether the operator's certificate is revoked (no OCSP, no CRL).
    NoRevocationCheck,
    /// Keeps no CRL on disk: when the distribution point fails, the status is unknown.
    DropsCrlCache,
    /// Connects to ports 587 and 143 whatever the autoconfiguration document says.
    HardCodedPorts,
    /// Authenticates before checking the certificate's revocation status.
    CredentialBeforeVerify,
    /// Accepts TLS 1.0 (and the CBC-SHA suites it needs), through OpenSSL.
    AllowsTls10,
    /// Also offers ECDHE-RSA-AES-CBC-SHA suites (0xC014, 0xC013), through OpenSSL.
    OffersCbcSha,
    /// Also offers the P-224 curve, through OpenSSL.
    OffersP224,
    /// Offers only the allowed suites but accepts a 1,024-bit DHE group, through OpenSSL.
    AcceptsWeakDhe,
    /// Presents a revoked client certificate (application entry point).
    RevokedClientCertificate,
    /// Presents a client certificate of a commercial CA (application entry point).
    CommercialClientCertificate,
    /// Accepts any server certificate whatever its issuer (like a client trusting every CA of
    /// the system store and more); the host name and dates are still checked.
    TrustsAnyCa,
    /// Never refreshes the access token: once it expires, nothing works.
    NoRefresh,
    /// Keeps its IMAP and SMTP sessions when the Pro Santé Connect session ends.
    IgnoresPscSessionEnd,
    /// Does not reopen a session the operator ended.
    DoesNotReconnect,
    /// Sends the token the operator refused again, in a loop, instead of refreshing it.
    RetriesRefusedToken,
    /// Keeps no CRL and connects when the revocation status is unknown (soft fail).
    SoftFailRevocation,
    /// Opens its Pro Santé Connect session as another professional of the directory (one not
    /// entitled to the BAL).
    OtherProfessionalToken,
    /// After an authentication refused by the operator, every later action fails too.
    CrashesOnAuthError,
    /// Writes its Pro Santé Connect tokens to its state folder, to survive a restart.
    WritesTokenToDisk,
    /// Declares its text parts in ISO-8859-1 instead of UTF-8.
    Latin1Text,
    /// Sends an HTML body alone, without its plain-text alternative.
    HtmlOnly,
    /// From an application BAL: neither Reply-To nor the automatic-message mention.
    NoReplyTo,
    /// Writes the sender's address in `From:` without a label.
    NoSenderLabel,
    /// Ignores the user's request for a delivery receipt (no `Return-Receipt-To`).
    IgnoresDsnRequest,
    /// Ignores the user's request for a read receipt (no `Disposition-Notification-To`).
    IgnoresMdnRequest,
    /// Ends the exchanges with a patient by subject `[FIN]` instead of `X-MSS-MES: FIN`.
    FinInSubject,
    /// Attaches the CDA documents as they are, without their `IHE_XDM.ZIP` archive.
    NoXdm,
    /// Writes `X-MSS-CODECDA` with the first document's code only.
    CodecdaFirstDocumentOnly,
    /// Writes `X-MSS-INS: O` whenever the header has an INS, even without a birth name.
    InsOWithoutBirthName,
    /// Writes the whole document type label in the subject, not truncated to 40 characters.
    SubjectNotTruncated,
    /// Renders an N3 document's PDF with its title alone, without header nor narrative.
    PdfWithoutNarrative,
    /// Names the PDFs `document1.pdf`… instead of `<date>_<type>_<NOM>_<prénom>.pdf`.
    PdfNamedFreely,
    /// Replies without a `References` header.
    NoReferences,
    /// Replies with `References` naming the parent only, dropping the earlier chain.
    ReferencesParentOnly,
    /// Sends no read receipt when a displayed message asks for one.
    NoReadReceipt,
    /// Lists messages from patients like those from professionals.
    PatientsUnmarked,
    /// Shows a patient's name without their INS.
    PatientWithoutIns,
    /// Shows the `XDM/1.0/DDM+` prefix in the subjects it lists.
    ShowsXdmPrefix,
    /// Writes its send and fetch traces without the server's response.
    TraceWithoutResponse,
    /// Keeps no trace of its fetches.
    NoFetchTraces,
    /// Writes to a patient whose identity is not qualified.
    WritesToUnqualifiedPatient,
    /// Builds a patient's address from the 13-character NIR, without its control key.
    PatientAddressWithoutKey,
    /// Files received documents under the patient named in the subject, not METADATA.XML's.
    FilesBySubject,
}

impl Defect {
    /// All defects, in a stable order.
    pub const ALL: [Defect; 64] = [
        Defect::SmtpAuthInClear,
        Defect::ImapWithoutStartTls,
        Defect::Xoauth2BadSeparators,
        Defect::NoClientCertificate,
        Defect::NoMessageId,
        Defect::ReusedMessageId,
        Defect::NoNil,
        Defect::StarttlsPipelining,
        Defect::Xoauth2WrongUser,
        Defect::PlainInsteadOfXoauth2,
        Defect::CommandBeforeAuth,
        Defect::PlainWrongLogin,
        Defect::AuthPipelined,
        Defect::NoEhloAfterTls,
        Defect::OffersChacha20,
        Defect::TrustsOtherRange,
        Defect::IgnoresCertificateDates,
        Defect::OtherStructureCertificate,
        Defect::ExpiredClientCertificate,
        Defect::PersonnesClientCertificate,
        Defect::Tls13Only,
        Defect::NoRevocationCheck,
        Defect::DropsCrlCache,
        Defect::HardCodedPorts,
        Defect::CredentialBeforeVerify,
        Defect::AllowsTls10,
        Defect::OffersCbcSha,
        Defect::OffersP224,
        Defect::AcceptsWeakDhe,
        Defect::RevokedClientCertificate,
        Defect::CommercialClientCertificate,
        Defect::TrustsAnyCa,
        Defect::NoRefresh,
        Defect::IgnoresPscSessionEnd,
        Defect::DoesNotReconnect,
        Defect::RetriesRefusedToken,
        Defect::SoftFailRevocation,
        Defect::OtherProfessionalToken,
        Defect::CrashesOnAuthError,
        Defect::WritesTokenToDisk,
        Defect::Latin1Text,
        Defect::HtmlOnly,
        Defect::NoReplyTo,
        Defect::NoSenderLabel,
        Defect::IgnoresDsnRequest,
        Defect::IgnoresMdnRequest,
        Defect::FinInSubject,
        Defect::NoXdm,
        Defect::CodecdaFirstDocumentOnly,
        Defect::InsOWithoutBirthName,
        Defect::SubjectNotTruncated,
        Defect::PdfWithoutNarrative,
        Defect::PdfNamedFreely,
        Defect::NoReferences,
        Defect::ReferencesParentOnly,
        Defect::NoReadReceipt,
        Defect::PatientsUnmarked,
        Defect::PatientWithoutIns,
        Defect::ShowsXdmPrefix,
        Defect::TraceWithoutResponse,
        Defect::NoFetchTraces,
        Defect::WritesToUnqualifiedPatient,
        Defect::PatientAddressWithoutKey,
        Defect::FilesBySubject,
    ];

    /// Kebab-case name used on command lines and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Defect::SmtpAuthInClear => "smtp-auth-in-clear",
            Defect::ImapWithoutStartTls => "imap-without-starttls",
            Defect::Xoauth2BadSeparators => "xoauth2-bad-separators",
            Defect::NoClientCertificate => "no-client-certificate",
            Defect::NoMessageId => "no-message-id",
            Defect::ReusedMessageId => "reused-message-id",
            Defect::NoNil => "no-x-mss-nil",
            Defect::StarttlsPipelining => "starttls-pipelining",
            Defect::Xoauth2WrongUser => "xoauth2-wrong-user",
            Defect::PlainInsteadOfXoauth2 => "plain-instead-of-xoauth2",
            Defect::CommandBeforeAuth => "command-before-auth",
            Defect::PlainWrongLogin => "plain-wrong-login",
            Defect::AuthPipelined => "auth-pipelined",
            Defect::NoEhloAfterTls => "no-ehlo-after-tls",
            Defect::OffersChacha20 => "offers-chacha20",
            Defect::TrustsOtherRange => "trusts-other-range",
            Defect::IgnoresCertificateDates => "ignores-certificate-dates",
            Defect::OtherStructureCertificate => "other-structure-certificate",
            Defect::ExpiredClientCertificate => "expired-client-certificate",
            Defect::PersonnesClientCertificate => "personnes-client-certificate",
            Defect::Tls13Only => "tls13-only",
            Defect::NoRevocationCheck => "no-revocation-check",
            Defect::DropsCrlCache => "drops-crl-cache",
            Defect::HardCodedPorts => "hard-coded-ports",
            Defect::CredentialBeforeVerify => "credential-before-verify",
            Defect::AllowsTls10 => "allows-tls10",
            Defect::OffersCbcSha => "offers-cbc-sha",
            Defect::OffersP224 => "offers-p224",
            Defect::AcceptsWeakDhe => "accepts-weak-dhe",
            Defect::RevokedClientCertificate => "revoked-client-certificate",
            Defect::CommercialClientCertificate => "commercial-client-certificate",
            Defect::TrustsAnyCa => "trusts-any-ca",
            Defect::NoRefresh => "no-refresh",
            Defect::IgnoresPscSessionEnd => "ignores-psc-session-end",
            Defect::DoesNotReconnect => "does-not-reconnect",
            Defect::RetriesRefusedToken => "retries-refused-token",
            Defect::SoftFailRevocation => "soft-fail-revocation",
            Defect::OtherProfessionalToken => "other-professional-token",
            Defect::CrashesOnAuthError => "crashes-on-auth-error",
            Defect::WritesTokenToDisk => "writes-token-to-disk",
            Defect::Latin1Text => "latin1-text",
            Defect::HtmlOnly => "html-only",
            Defect::NoReplyTo => "no-reply-to",
            Defect::NoSenderLabel => "no-sender-label",
            Defect::IgnoresDsnRequest => "ignores-dsn-request",
            Defect::IgnoresMdnRequest => "ignores-mdn-request",
            Defect::FinInSubject => "fin-in-subject",
            Defect::NoXdm => "no-xdm",
            Defect::CodecdaFirstDocumentOnly => "codecda-first-document-only",
            Defect::InsOWithoutBirthName => "ins-o-without-birth-name",
            Defect::SubjectNotTruncated => "subject-not-truncated",
            Defect::PdfWithoutNarrative => "pdf-without-narrative",
            Defect::PdfNamedFreely => "pdf-named-freely",
            Defect::NoReferences => "no-references",
            Defect::ReferencesParentOnly => "references-parent-only",
            Defect::NoReadReceipt => "no-read-receipt",
            Defect::PatientsUnmarked => "patients-unmarked",
            Defect::PatientWithoutIns => "patient-without-ins",
            Defect::ShowsXdmPrefix => "shows-xdm-prefix",
            Defect::TraceWithoutResponse => "trace-without-response",
            Defect::NoFetchTraces => "no-fetch-traces",
            Defect::WritesToUnqualifiedPatient => "writes-to-unqualified-patient",
            Defect::PatientAddressWithoutKey => "patient-address-without-key",
            Defect::FilesBySubject => "files-by-subject",
        }
    }
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Defect {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Defect::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| {
                let known: Vec<_> = Defect::ALL.iter().map(|d| d.name()).collect();
                format!("unknown defect {s:?} (known: {})", known.join(", "))
            })
    }
}

/// The defects switched on for a client.
pub type Defects = BTreeSet<Defect>;
