//! The driver of an external SUT: the contract's actions as JSON requests and answers, over a
//! [`Transport`] (command lines, HTTP). Both transports share this mapping, so a SUT answers
//! the same JSON whichever way it is reached.

use std::future::Future;
use std::pin::Pin;

use super::types::{AccountSpec, ListedMessage, MessageSpec, PatientSpec, SendOutcome};
use super::{Action, DriverError, DriverFuture, SutDriver, field, request};

/// A boxed future of one transport call.
pub type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = Result<serde_json::Value, DriverError>> + Send + 'a>>;

/// How requests reach an external SUT.
pub trait Transport: Send + Sync + std::fmt::Debug {
    /// Whether the profile maps this action.
    fn supports(&self, action: Action) -> bool;

    /// Sends one request (the JSON body) and reads the answer (a JSON object).
    fn call(&self, action: Action, body: Vec<u8>) -> TransportFuture<'_>;

    /// The SUT's data folder, when known (ECO.1.2.5 looks there for tokens).
    fn data_dir(&self) -> Option<std::path::PathBuf> {
        None
    }
}

/// An external SUT behind a transport.
#[derive(Debug)]
pub struct ExternalDriver {
    description: String,
    transport: Box<dyn Transport>,
    account: Option<AccountSpec>,
}

impl ExternalDriver {
    /// A driver over a transport.
    pub fn new(description: String, transport: Box<dyn Transport>) -> Self {
        ExternalDriver {
            description,
            transport,
            account: None,
        }
    }

    async fn call(
        &self,
        action: Action,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, DriverError> {
        if !self.transport.supports(action) {
            return Err(DriverError::Unsupported(action));
        }
        let body = request(action, self.account.as_ref(), params);
        self.transport.call(action, body).await
    }
}

impl SutDriver for ExternalDriver {
    fn describe(&self) -> String {
        self.description.clone()
    }

    fn data_dir(&self) -> Option<std::path::PathBuf> {
        self.transport.data_dir()
    }

    fn configure<'a>(&'a mut self, account: &'a AccountSpec) -> DriverFuture<'a, ()> {
        Box::pin(async move {
            self.account = Some(account.clone());
            match self.call(Action::Configure, serde_json::json!({})).await {
                Ok(_) | Err(DriverError::Unsupported(_)) => Ok(()),
                Err(e) => Err(e),
            }
        })
    }

    fn test_connection(&mut self) -> DriverFuture<'_, ()> {
        Box::pin(async move {
            self.call(Action::TestConnection, serde_json::json!({}))
                .await?;
            Ok(())
        })
    }

    fn send<'a>(&'a mut self, message: &'a MessageSpec) -> DriverFuture<'a, SendOutcome> {
        Box::pin(async move {
            let a = self
                .call(Action::Send, serde_json::json!({ "message": message }))
                .await?;
            Ok(SendOutcome {
                message_id: field(Action::Send, &a, "messageId")?,
            })
        })
    }

    fn sync(&mut self) -> DriverFuture<'_, Vec<ListedMessage>> {
        Box::pin(async move {
            let a = self.call(Action::Sync, serde_json::json!({})).await?;
            field(Action::Sync, &a, "messages")
        })
    }

    fn reply<'a>(
        &'a mut self,
        message_id: &'a str,
        text: &'a str,
    ) -> DriverFuture<'a, SendOutcome> {
        Box::pin(async move {
            let a = self
                .call(
                    Action::Reply,
                    serde_json::json!({ "messageId": message_id, "text": text }),
                )
                .await?;
            Ok(SendOutcome {
                message_id: field(Action::Reply, &a, "messageId")?,
            })
        })
    }

    fn open<'a>(&'a mut self, message_id: &'a str) -> DriverFuture<'a, ()> {
        Box::pin(async move {
            self.call(Action::Open, serde_json::json!({ "messageId": message_id }))
                .await?;
            Ok(())
        })
    }

    fn list_inbox(&mut self) -> DriverFuture<'_, Vec<ListedMessage>> {
        Box::pin(async move {
            let a = self.call(Action::ListInbox, serde_json::json!({})).await?;
            field(Action::ListInbox, &a, "messages")
        })
    }

    fn write_to_patient<'a>(
        &'a mut self,
        patient: &'a PatientSpec,
    ) -> DriverFuture<'a, SendOutcome> {
        Box::pin(async move {
            let a = self
                .call(
                    Action::WriteToPatient,
                    serde_json::json!({ "ins": patient.ins, "patient": patient }),
                )
                .await?;
            Ok(SendOutcome {
                message_id: field(Action::WriteToPatient, &a, "messageId")?,
            })
        })
    }

    fn export_traces(&mut self) -> DriverFuture<'_, Vec<serde_json::Value>> {
        Box::pin(async move {
            let a = self
                .call(Action::ExportTraces, serde_json::json!({}))
                .await?;
            field(Action::ExportTraces, &a, "traces")
        })
    }

    fn restart(&mut self) -> DriverFuture<'_, ()> {
        Box::pin(async move {
            self.call(Action::Restart, serde_json::json!({})).await?;
            Ok(())
        })
    }
}
