//! The reference client in process (optionally a mutant), behind the same JSON contract an
//! external SUT implements: the harness serialises its request, the `client` crate reads it
//! with its own types (`client::driver`), exactly as `mss-client driver` and `mss-client
//! serve` do. Only the transport differs.

use std::time::Duration;

use std::sync::Arc;

use client::Defects;
use client::agent::{Agent, AgentSettings};
use client::driver::DriverFailure;

use super::external::{ExternalDriver, Transport, TransportFuture};
use super::{Action, DriverError};

/// The product reference the reference client writes in `X-MSS-NIL`.
pub const NIL: &str = concat!("MSS-HARNESS/REFERENCE/", env!("CARGO_PKG_VERSION"));

/// How often the reference client checks a held BAL's Pro Santé Connect session.
pub const SESSION_CHECK: std::time::Duration = std::time::Duration::from_millis(200);

/// Calls the reference client in process. Each driver is a freshly installed client: its
/// state folder (the CRLs it keeps, ECO.1.1.7) is its own and removed with it.
#[derive(Debug)]
pub struct ReferenceTransport {
    agent: std::sync::Mutex<Arc<Agent>>,
    settings: AgentSettings,
    _state: Option<Arc<tempfile::TempDir>>,
}

impl Transport for ReferenceTransport {
    fn data_dir(&self) -> Option<std::path::PathBuf> {
        self.settings.data_dir.clone()
    }

    fn supports(&self, action: Action) -> bool {
        matches!(
            action,
            Action::Configure
                | Action::TestConnection
                | Action::Send
                | Action::Sync
                | Action::Reply
                | Action::Open
                | Action::ListInbox
                | Action::ExportTraces
                | Action::WriteToPatient
                | Action::Restart
        )
    }

    fn call(&self, action: Action, body: Vec<u8>) -> TransportFuture<'_> {
        Box::pin(async move {
            if action == Action::Restart {
                // A new process: nothing kept in memory, the state folder kept.
                let fresh = Arc::new(Agent::new(self.settings.clone(), NIL));
                *self.agent.lock().unwrap_or_else(|p| p.into_inner()) = fresh;
                return Ok(serde_json::json!({}));
            }
            let agent = self.agent.lock().unwrap_or_else(|p| p.into_inner()).clone();
            client::driver::handle(&body, &agent)
                .await
                .map_err(|failure| match failure {
                    DriverFailure::Unsupported(_) => DriverError::Unsupported(action),
                    DriverFailure::BadRequest(message) => DriverError::Broken { action, message },
                    DriverFailure::Failed(message) => DriverError::Failed { action, message },
                })
        })
    }
}

/// The reference client (a mutant when `defects` is not empty).
#[derive(Debug)]
pub struct ReferenceDriver;

impl ReferenceDriver {
    /// A driver of the reference client with these defects and per-step timeout.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(defects: Defects, timeout: Duration) -> ExternalDriver {
        // Without a temporary folder the client keeps no CRL: the scenarios of ECO.1.1.7 then
        // fail, which says what went wrong.
        let state = tempfile::Builder::new()
            .prefix("mss-client-")
            .tempdir()
            .ok()
            .map(Arc::new);
        let describe = Self::describe(&defects);
        ExternalDriver::new(
            describe,
            Box::new({
                let settings = AgentSettings {
                    defects,
                    timeout,
                    data_dir: state.as_ref().map(|d| d.path().to_path_buf()),
                    // A scenario's delays are short: check the PSC session often.
                    session_check: SESSION_CHECK,
                    reconnect_delay: std::time::Duration::from_millis(100),
                    ..AgentSettings::default()
                };
                ReferenceTransport {
                    agent: std::sync::Mutex::new(Arc::new(Agent::new(settings.clone(), NIL))),
                    settings,
                    _state: state,
                }
            }),
        )
    }

    /// How reports name it.
    pub fn describe(defects: &Defects) -> String {
        if defects.is_empty() {
            "client de référence".to_owned()
        } else {
            let names: Vec<_> = defects.iter().map(|d| d.name()).collect();
            format!("client de référence (mutant {})", names.join(", "))
        }
    }
}
