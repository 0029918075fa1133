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
pub mod compose;
pub mod driver;
mod error;
mod imap;
mod net;
pub mod sasl;
mod smtp;
pub mod spec;
pub mod tls;

use std::time::Duration;

pub use account::{Account, Credentials, Defect, Defects, Endpoint, Secret, Trust};
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
}

impl Client {
    /// A conformant client.
    pub fn new(account: Account) -> Self {
        Client {
            account,
            defects: Defects::new(),
            timeout: Duration::from_secs(30),
        }
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

    /// Composes and submits a message.
    pub async fn send(&self, spec: &MessageSpec) -> Result<Sent, ClientError> {
        let composed = compose::compose(&self.account, spec, &self.defects)?;
        let reply = smtp::submit(
            &self.account,
            self.tls()?,
            &self.defects,
            &composed,
            self.timeout,
        )
        .await?;
        Ok(Sent {
            message_id: composed.message_id,
            reply,
            bytes: composed.bytes,
        })
    }

    /// Reads every message of the INBOX.
    pub async fn fetch_inbox(&self) -> Result<Vec<FetchedMessage>, ClientError> {
        imap::fetch_inbox(&self.account, self.tls()?, &self.defects, self.timeout).await
    }
}
