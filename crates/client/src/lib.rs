//! The reference MSSanté client ("LPS"): what a conformant editor's software does on the wire.
//!
//! [`Client::send`] composes a [`MessageSpec`] (the JSON of seeds/000) and submits it over SMTP
//! with STARTTLS; [`Client::fetch_inbox`] synchronises the INBOX over IMAP with STARTTLS. Both
//! authenticate the way the référentiel prescribes for the account's family: XOAUTH2 with a Pro
//! Santé Connect token, or an ORG AUTH_CLI certificate then PLAIN. TLS trusts only the IGC Santé
//! Elementaire Organisations chain and offers only the allowed suites.
//!
//! [`Defect`]s turn it into a deliberately wrong client (a "mutant") so the harness can prove
//! each scenario fails when it should. The client never depends on the operator.

pub mod account;
pub mod agent;
pub mod autoconfig;
pub mod compose;
pub mod driver;
mod error;
pub mod health;
pub mod http;
mod imap;
pub mod inbox;
mod net;
pub mod psc;
pub mod revocation;
pub mod sasl;
mod smtp;
pub mod spec;
pub mod tls;
pub mod traces;
mod weak;

use std::path::PathBuf;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

pub use account::{Account, ConnectTo, Credentials, Defect, Defects, Endpoint, Secret, Trust};
pub use error::ClientError;
pub use imap::FetchedMessage;
pub use spec::MessageSpec;

/// What was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The `Message-ID` written, without angle brackets.
    pub message_id: Option<String>,
    /// The server's final reply to DATA.
    pub reply: String,
    /// The message as sent.
    pub bytes: Vec<u8>,
}

/// The reference client for one account.
#[derive(Debug, Clone)]
pub struct Client {
    account: Account,
    defects: Defects,
    timeout: Duration,
    data_dir: Option<PathBuf>,
    traces: Option<std::sync::Arc<traces::TraceLog>>,
}

/// Deadline of each OCSP or CRL fetch: a responder that hangs must not hold the connection
/// for the whole step timeout.
const REVOCATION_FETCH: Duration = Duration::from_secs(10);

impl Client {
    /// A conformant client.
    pub fn new(account: Account) -> Self {
        Client {
            account,
            defects: Defects::new(),
            timeout: Duration::from_secs(30),
            data_dir: None,
            traces: None,
        }
    }

    /// Keeps a trace of every connection, authentication, send and fetch in `log` (ECO.4.1.x).
    pub fn with_traces(mut self, log: std::sync::Arc<traces::TraceLog>) -> Self {
        self.traces = Some(log);
        self
    }

    /// Records an operation in the traces, if kept.
    fn trace(
        &self,
        smtp: bool,
        transaction: Option<(&'static str, String)>,
        outcome: Result<String, &ClientError>,
    ) {
        if let Some(log) = &self.traces {
            log.operation(&self.account, &self.defects, smtp, transaction, outcome);
        }
    }

    /// Submits a composed message (or, without one, only authenticates), traced.
    async fn submit(&self, composed: Option<&compose::Composed>) -> Result<String, ClientError> {
        let revocation = self.revocation()?;
        let outcome = smtp::submit(
            &self.account,
            self.tls()?,
            &self.defects,
            composed,
            self.timeout,
            revocation.as_ref(),
        )
        .await;
        let transaction = composed.map(|c| {
            (
                "send",
                format!(
                    "MAIL FROM:<{}> RCPT TO:{} Message-ID:<{}>",
                    c.mail_from,
                    c.rcpt_to
                        .iter()
                        .map(|r| format!("<{r}>"))
                        .collect::<Vec<_>>()
                        .join(","),
                    c.message_id.as_deref().unwrap_or_default()
                ),
            )
        });
        self.trace(true, transaction, outcome.as_ref().map(Clone::clone));
        outcome
    }

    /// The folder where the client keeps its state (the last valid CRLs, ECO.1.1.7). Without
    /// one, CRLs are not kept between connections.
    pub fn with_data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// The default state folder: `$MSS_CLIENT_DATA`, else `$XDG_CACHE_HOME/mss-client`, else
    /// `$HOME/.cache/mss-client`.
    pub fn default_data_dir() -> Option<PathBuf> {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        env("MSS_CLIENT_DATA")
            .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("mss-client")))
            .or_else(|| env("HOME").map(|d| d.join(".cache").join("mss-client")))
    }

    /// The same client with deliberate defects.
    pub fn with_defects(mut self, defects: Defects) -> Self {
        self.defects = defects;
        self
    }

    /// The per-step timeout (connect, each reply, handshake).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The account.
    pub fn account(&self) -> &Account {
        &self.account
    }

    fn tls(&self) -> Result<std::sync::Arc<rustls::ClientConfig>, ClientError> {
        let present = !self.defects.contains(&Defect::NoClientCertificate);
        Ok(tls::client_config(
            &self.account.trust,
            &self.account.credentials,
            present,
            &self.defects,
        )?)
    }

    /// The revocation check of the operator's certificates (`None` for the mutant that skips
    /// it).
    fn revocation(&self) -> Result<Option<revocation::Revocation>, ClientError> {
        if self.defects.contains(&Defect::NoRevocationCheck) {
            return Ok(None);
        }
        let der = |pem: &str, what: &str| {
            CertificateDer::from_pem_slice(pem.as_bytes())
                .map_err(|e| ClientError::Policy(tls::TlsPolicyError(format!("{what}: {e}"))))
        };
        Ok(Some(revocation::Revocation {
            root: der(&self.account.trust.root_pem, "IGC Santé root")?,
            issuer: der(
                &self.account.trust.organisations_pem,
                "Elementaire Organisations CA",
            )?,
            connect_to: self.account.connect_to.clone(),
            cache: self.data_dir.clone().filter(|_| {
                !self.defects.contains(&Defect::DropsCrlCache)
                    && !self.defects.contains(&Defect::SoftFailRevocation)
            }),
            timeout: self.timeout.min(REVOCATION_FETCH),
            soft_fail: self.defects.contains(&Defect::TrustsOtherRange)
                || self.defects.contains(&Defect::IgnoresCertificateDates)
                || self.defects.contains(&Defect::TrustsAnyCa)
                || self.defects.contains(&Defect::SoftFailRevocation),
        }))
    }

    /// Composes and submits a message.
    pub async fn send(&self, spec: &MessageSpec) -> Result<Sent, ClientError> {
        let composed = compose::compose(&self.account, spec, &self.defects)?;
        let reply = self.submit(Some(&composed)).await?;
        Ok(Sent {
            message_id: composed.message_id,
            reply,
            bytes: composed.bytes,
        })
    }

    /// Reads every message of the INBOX.
    pub async fn fetch_inbox(&self) -> Result<Vec<FetchedMessage>, ClientError> {
        let revocation = self.revocation()?;
        let outcome = imap::fetch_inbox(
            &self.account,
            self.tls()?,
            &self.defects,
            self.timeout,
            revocation.as_ref(),
        )
        .await;
        let transaction = (!self.defects.contains(&Defect::NoFetchTraces))
            .then(|| ("fetch", "SELECT INBOX, FETCH 1:* BODY.PEEK[]".to_owned()));
        self.trace(
            false,
            transaction,
            outcome
                .as_ref()
                .map(|m| format!("{} message(s) relevé(s)", m.len())),
        );
        outcome
    }

    /// The INBOX message with this Message-ID (angle brackets optional).
    pub async fn find(&self, message_id: &str) -> Result<FetchedMessage, ClientError> {
        let wanted = message_id
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>');
        self.fetch_inbox()
            .await?
            .into_iter()
            .find(|m| m.message_id.as_deref() == Some(wanted))
            .ok_or_else(|| ClientError::NoSuchMessage(wanted.to_owned()))
    }

    /// Replies to an INBOX message, keeping the conversation's chain (ECO.2.2.2).
    pub async fn reply(&self, message_id: &str, text: &str) -> Result<Sent, ClientError> {
        let original = self.find(message_id).await?;
        self.send(&inbox::reply_spec(&original, text, &self.defects))
            .await
    }

    /// Displays an INBOX message: when it asks for a read receipt, sends the RFC 8098 MDN
    /// (ECO.3.1.6). Returns the receipt sent, if any.
    pub async fn open(&self, message_id: &str) -> Result<Option<Sent>, ClientError> {
        let original = self.find(message_id).await?;
        let Some(receipt) = inbox::read_receipt(&self.account, &original, &self.defects)? else {
            return Ok(None);
        };
        let reply = self.submit(Some(&receipt)).await?;
        Ok(Some(Sent {
            message_id: receipt.message_id,
            reply,
            bytes: receipt.bytes,
        }))
    }

    /// Writes to a patient of the user's files (ECO.3.1.5): the address is built from the
    /// qualified INS only (ECO.2.2.6); an unqualified identity is refused before anything is
    /// sent.
    pub async fn write_to_patient(
        &self,
        patient: &inbox::PatientRecord,
    ) -> Result<Sent, ClientError> {
        let spec = inbox::to_patient(patient, &self.defects)?;
        self.send(&spec).await
    }

    /// The INBOX as the user sees it (ECO.3.1.1 to ECO.3.1.3).
    pub async fn list_inbox(&self) -> Result<Vec<inbox::Listed>, ClientError> {
        Ok(self
            .fetch_inbox()
            .await?
            .iter()
            .map(|m| inbox::listing(m, &self.defects))
            .collect())
    }

    /// Holds an IMAP session open in IDLE until `stop` turns true or the server ends it.
    pub(crate) async fn hold_inbox(
        &self,
        stop: &mut tokio::sync::watch::Receiver<bool>,
    ) -> Result<imap::Held, ClientError> {
        let revocation = self.revocation()?;
        let traced = std::sync::atomic::AtomicBool::new(false);
        let ready = || {
            // Connected and authenticated: traced now, not when the session ends.
            self.trace(false, None, Ok(String::new()));
            traced.store(true, std::sync::atomic::Ordering::SeqCst);
        };
        let outcome = imap::hold(
            &self.account,
            self.tls()?,
            &self.defects,
            self.timeout,
            revocation.as_ref(),
            stop,
            &ready,
        )
        .await;
        if let Err(e) = &outcome
            && !traced.load(std::sync::atomic::Ordering::SeqCst)
        {
            self.trace(false, None, Err(e));
        }
        outcome
    }

    /// The connection test of ECO.1.1.9: an authenticated SMTP session (no message) and an
    /// authenticated IMAP session reading the INBOX.
    pub async fn test_connection(&self) -> Result<(), ClientError> {
        self.submit(None).await?;
        self.fetch_inbox().await.map(|_| ())
    }

    /// Configures the servers of `account` from its address alone (ECO.1.1.9): the
    /// autoconfiguration document of its domain, the entry point of its family. The
    /// `hard-coded-ports` mutant keeps the hosts and uses 587 and 143.
    pub async fn autoconfigure(
        address: &str,
        credentials: &Credentials,
        trust: &Trust,
        connect_to: &[ConnectTo],
        defects: &Defects,
        timeout: Duration,
    ) -> Result<(Endpoint, Endpoint), ClientError> {
        let certificate = matches!(credentials, Credentials::Certificate { .. });
        // The document's server presents a certificate of the IGC Santé: same policy, no client
        // certificate.
        let tls = tls::client_config(trust, credentials, false, defects)?;
        let mut servers =
            autoconfig::discover(address, certificate, tls, connect_to, timeout).await?;
        if defects.contains(&Defect::HardCodedPorts) {
            servers.smtp.port = 587;
            servers.imap.port = 143;
        }
        Ok((
            autoconfig::endpoint(&servers.smtp, connect_to).await?,
            autoconfig::endpoint(&servers.imap, connect_to).await?,
        ))
    }
}
