//! The system under test (SUT), seen through a driver.
//!
//! One trait, async; every action may answer [`DriverError::Unsupported`]. This stage ships the
//! `reference` driver (the `client` crate in process, optionally with one deliberate defect);
//! the `command`, `http` and `manual` drivers plug into the same trait.
//!
//! The account handed to [`SutDriver::configure`] is a [`client::Account`]: BAL address, label,
//! endpoints (host names and the addresses they resolve to), credentials (a Pro Santé Connect
//! access token, or the ORG AUTH_CLI certificate), trust anchors. Its `nil` is the harness's
//! own product reference: an external SUT writes its own.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use client::{Account, Client, Defects, MessageSpec};

/// A boxed future of a driver action.
pub type DriverFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, DriverError>> + Send + 'a>>;

/// Why a driver action did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The driver cannot perform this action (the scenario becomes interactive or not tested).
    #[error("action « {0} » non prise en charge par le pilote")]
    Unsupported(&'static str),
    /// The SUT tried and failed; the text says why.
    #[error("{0}")]
    Failed(String),
}

/// What the SUT reports after sending.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SendOutcome {
    /// The Message-ID the SUT says it wrote, if it tells.
    pub message_id: Option<String>,
}

/// A message the SUT reports having synchronised.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncedMessage {
    /// Its Message-ID.
    pub message_id: Option<String>,
    /// Its subject.
    pub subject: Option<String>,
}

/// Drives a system under test.
pub trait SutDriver: Send + Sync + fmt::Debug {
    /// A short description for reports (`reference`, `reference (mutant no-x-mss-nil)`...).
    fn describe(&self) -> String;

    /// Configures the BAL the SUT works with.
    fn configure<'a>(&'a mut self, account: &'a Account) -> DriverFuture<'a, ()>;

    /// Sends a message.
    fn send<'a>(&'a mut self, spec: &'a MessageSpec) -> DriverFuture<'a, SendOutcome>;

    /// Synchronises the INBOX.
    fn sync(&mut self) -> DriverFuture<'_, Vec<SyncedMessage>>;

    /// Replies to a received message.
    fn reply<'a>(
        &'a mut self,
        _message_id: &'a str,
        _text: &'a str,
    ) -> DriverFuture<'a, SendOutcome> {
        Box::pin(async { Err(DriverError::Unsupported("reply")) })
    }

    /// Restarts the SUT.
    fn restart(&mut self) -> DriverFuture<'_, ()> {
        Box::pin(async { Err(DriverError::Unsupported("restart")) })
    }
}

/// The reference client in process.
#[derive(Debug, Clone, Default)]
pub struct ReferenceDriver {
    defects: Defects,
    timeout: Option<Duration>,
    client: Option<Client>,
}

impl ReferenceDriver {
    /// A conformant reference client, or a mutant when `defects` is not empty.
    pub fn new(defects: Defects, timeout: Duration) -> Self {
        ReferenceDriver {
            defects,
            timeout: Some(timeout),
            client: None,
        }
    }

    fn client(&self) -> Result<&Client, DriverError> {
        self.client
            .as_ref()
            .ok_or_else(|| DriverError::Failed("le système n'a pas été configuré".into()))
    }
}

impl SutDriver for ReferenceDriver {
    fn describe(&self) -> String {
        if self.defects.is_empty() {
            "client de référence".to_owned()
        } else {
            let names: Vec<_> = self.defects.iter().map(|d| d.name()).collect();
            format!("client de référence (mutant {})", names.join(", "))
        }
    }

    fn configure<'a>(&'a mut self, account: &'a Account) -> DriverFuture<'a, ()> {
        Box::pin(async move {
            let mut client = Client::new(account.clone()).with_defects(self.defects.clone());
            if let Some(t) = self.timeout {
                client = client.with_timeout(t);
            }
            self.client = Some(client);
            Ok(())
        })
    }

    fn send<'a>(&'a mut self, spec: &'a MessageSpec) -> DriverFuture<'a, SendOutcome> {
        Box::pin(async move {
            let sent = self
                .client()?
                .send(spec)
                .await
                .map_err(|e| DriverError::Failed(e.to_string()))?;
            Ok(SendOutcome {
                message_id: sent.message_id,
            })
        })
    }

    fn sync(&mut self) -> DriverFuture<'_, Vec<SyncedMessage>> {
        Box::pin(async move {
            let messages = self
                .client()?
                .fetch_inbox()
                .await
                .map_err(|e| DriverError::Failed(e.to_string()))?;
            Ok(messages
                .into_iter()
                .map(|m| SyncedMessage {
                    message_id: m.message_id,
                    subject: m.subject,
                })
                .collect())
        })
    }
}
