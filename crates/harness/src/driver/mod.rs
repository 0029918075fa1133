//! The system under test (SUT), seen through a driver.
//!
//! One trait, async; every action may answer [`DriverError::Unsupported`], and the scenario
//! then becomes `non testé` (or interactive with the `manual` driver), never `conforme`. The
//! data crossing it are the harness's own types ([`types`]), the JSON contract external SUTs
//! implement (documented in `scenarios/sut/README.md`).
//!
//! | driver | SUT |
//! |---|---|
//! | [`reference::ReferenceDriver`] | the `client` crate in process, optionally a mutant |
//! | [`external::ExternalDriver`] over [`command::CommandTransport`] | a command line per action, JSON on stdin and stdout |
//! | [`external::ExternalDriver`] over [`http::HttpTransport`] | an HTTP endpoint per action, JSON in and out |
//! | [`manual::ManualDriver`] | a tester at a terminal, the journal as witness |

pub mod command;
pub mod external;
pub mod http;
pub mod manual;
pub mod profile;
pub mod reference;
pub mod types;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use types::{AccountSpec, ListedMessage, MessageSpec, PatientSpec, SendOutcome};

/// A boxed future of a driver action.
pub type DriverFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, DriverError>> + Send + 'a>>;

/// The actions of the driver contract, by their names in profiles and requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Configure the BAL the SUT works with.
    Configure,
    /// Check the SUT can connect (autoconfiguration, connection test).
    TestConnection,
    /// Send a message.
    Send,
    /// Synchronise the INBOX.
    Sync,
    /// Reply to a received message.
    Reply,
    /// Open (display) a received message.
    Open,
    /// List the INBOX as the user sees it.
    ListInbox,
    /// Write to a patient.
    WriteToPatient,
    /// Export the SUT's traces.
    ExportTraces,
    /// Restart the SUT.
    Restart,
}

impl Action {
    /// Every action, in the contract's order.
    pub const ALL: [Action; 10] = [
        Action::Configure,
        Action::TestConnection,
        Action::Send,
        Action::Sync,
        Action::Reply,
        Action::Open,
        Action::ListInbox,
        Action::WriteToPatient,
        Action::ExportTraces,
        Action::Restart,
    ];

    /// Its name in profiles, requests and reports.
    pub fn name(self) -> &'static str {
        match self {
            Action::Configure => "configure",
            Action::TestConnection => "test_connection",
            Action::Send => "send",
            Action::Sync => "sync",
            Action::Reply => "reply",
            Action::Open => "open",
            Action::ListInbox => "list_inbox",
            Action::WriteToPatient => "write_to_patient",
            Action::ExportTraces => "export_traces",
            Action::Restart => "restart",
        }
    }

    /// Parses [`Action::name`].
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a driver action did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The driver cannot perform this action: the scenario is not tested (or interactive).
    #[error("action « {0} » non prise en charge par le pilote")]
    Unsupported(Action),
    /// The action cannot be asked now (the manual driver without a terminal): not tested.
    #[error("action « {action} » impossible : {reason}")]
    Unavailable {
        /// The action.
        action: Action,
        /// Why (French).
        reason: String,
    },
    /// The SUT tried and reported a failure (exit status, HTTP error, its own message). Not a
    /// verdict by itself: the rules judge what the operator saw.
    #[error("action « {action} » en échec : {message}")]
    Failed {
        /// The action.
        action: Action,
        /// What the SUT said (stderr, error body), trimmed.
        message: String,
    },
    /// The SUT did not answer within the action's timeout.
    #[error("action « {action} » sans réponse après {} s", .after.as_secs())]
    Timeout {
        /// The action.
        action: Action,
        /// The timeout.
        after: Duration,
    },
    /// The driver itself is broken (missing program, answer that is not JSON, unreachable
    /// endpoint): a fault of the bench set-up, never the SUT's non-conformity.
    #[error("pilote défaillant pour « {action} » : {message}")]
    Broken {
        /// The action.
        action: Action,
        /// What is wrong, naming the profile entry.
        message: String,
    },
}

impl DriverError {
    /// The action concerned.
    pub fn action(&self) -> Action {
        match self {
            DriverError::Unsupported(a) => *a,
            DriverError::Unavailable { action, .. }
            | DriverError::Failed { action, .. }
            | DriverError::Timeout { action, .. }
            | DriverError::Broken { action, .. } => *action,
        }
    }
}

/// Drives a system under test. Every action has a default answering `Unsupported`.
pub trait SutDriver: Send + Sync + fmt::Debug {
    /// A short description for reports (`client de référence`, `mss-client (commande)`…).
    fn describe(&self) -> String;

    /// The folder where the SUT keeps its data, when known (the profile's `data_dir`):
    /// ECO.1.2.5 looks there for Pro Santé Connect tokens.
    fn data_dir(&self) -> Option<std::path::PathBuf> {
        None
    }

    /// Configures the BAL the SUT works with.
    fn configure<'a>(&'a mut self, _account: &'a AccountSpec) -> DriverFuture<'a, ()> {
        unsupported(Action::Configure)
    }

    /// Checks the SUT can reach the operator (autoconfiguration, connection test).
    fn test_connection(&mut self) -> DriverFuture<'_, ()> {
        unsupported(Action::TestConnection)
    }

    /// Sends a message.
    fn send<'a>(&'a mut self, _message: &'a MessageSpec) -> DriverFuture<'a, SendOutcome> {
        unsupported(Action::Send)
    }

    /// Synchronises the INBOX.
    fn sync(&mut self) -> DriverFuture<'_, Vec<ListedMessage>> {
        unsupported(Action::Sync)
    }

    /// Replies to a received message.
    fn reply<'a>(
        &'a mut self,
        _message_id: &'a str,
        _text: &'a str,
    ) -> DriverFuture<'a, SendOutcome> {
        unsupported(Action::Reply)
    }

    /// Opens (displays) a received message.
    fn open<'a>(&'a mut self, _message_id: &'a str) -> DriverFuture<'a, ()> {
        unsupported(Action::Open)
    }

    /// Lists the INBOX as the user sees it.
    fn list_inbox(&mut self) -> DriverFuture<'_, Vec<ListedMessage>> {
        unsupported(Action::ListInbox)
    }

    /// Writes to a patient of the user's files.
    fn write_to_patient<'a>(
        &'a mut self,
        _patient: &'a types::PatientSpec,
    ) -> DriverFuture<'a, SendOutcome> {
        unsupported(Action::WriteToPatient)
    }

    /// Exports the SUT's traces (JSON values, one per entry).
    fn export_traces(&mut self) -> DriverFuture<'_, Vec<serde_json::Value>> {
        unsupported(Action::ExportTraces)
    }

    /// Restarts the SUT.
    fn restart(&mut self) -> DriverFuture<'_, ()> {
        unsupported(Action::Restart)
    }

    /// Asks a tester to attest `statement` (what the harness cannot observe); `None` when no
    /// tester can be asked (every driver but an interactive manual one).
    fn attest<'a>(&'a mut self, _statement: &'a str) -> DriverFuture<'a, Option<Attestation>> {
        Box::pin(async { Ok(None) })
    }
}

/// A tester's answer to an attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestation {
    /// Whether the tester attests the statement.
    pub confirmed: bool,
    /// The tester's evidence file, if one was given.
    pub evidence: Option<EvidenceFile>,
}

/// A file a tester gives as evidence, identified by its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceFile {
    /// Where it is.
    pub path: std::path::PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its SHA-256, in hexadecimal.
    pub sha256: String,
}

impl EvidenceFile {
    /// Reads a file given as evidence (a regular file).
    pub fn read(path: &std::path::Path) -> Result<Self, String> {
        use sha2::Digest;
        let meta = std::fs::metadata(path).map_err(|e| format!("{} : {e}", path.display()))?;
        if !meta.is_file() {
            return Err(format!("{} n'est pas un fichier", path.display()));
        }
        use std::io::Read;
        let mut file =
            std::fs::File::open(path).map_err(|e| format!("{} : {e}", path.display()))?;
        let mut hasher = sha2::Sha256::new();
        let mut bytes = 0u64;
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let n = file
                .read(&mut chunk)
                .map_err(|e| format!("{} : {e}", path.display()))?;
            if n == 0 {
                break;
            }
            hasher.update(&chunk[..n]);
            bytes += n as u64;
        }
        let sha256 = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(EvidenceFile {
            path: std::path::absolute(path).unwrap_or_else(|_| path.to_owned()),
            bytes,
            sha256,
        })
    }
}

fn unsupported<'a, T: Send + 'a>(action: Action) -> DriverFuture<'a, T> {
    Box::pin(async move { Err(DriverError::Unsupported(action)) })
}

/// The request an external SUT receives for an action (stdin of the command driver, body of
/// the HTTP driver): `{"action": "send", "account": {…}, "message": {…}}`. The account is in
/// every request, so a stateless command line needs no `configure`.
pub fn request(
    action: Action,
    account: Option<&AccountSpec>,
    params: serde_json::Value,
) -> Vec<u8> {
    let mut object = serde_json::Map::new();
    object.insert("action".into(), action.name().into());
    if let Some(account) = account {
        object.insert(
            "account".into(),
            serde_json::to_value(account).unwrap_or(serde_json::Value::Null),
        );
    }
    if let serde_json::Value::Object(extra) = params {
        object.extend(extra);
    }
    serde_json::to_vec(&serde_json::Value::Object(object)).unwrap_or_default()
}

/// Reads an external SUT's answer: one JSON object (empty output counts as `{}`).
pub fn answer(action: Action, bytes: &[u8]) -> Result<serde_json::Value, DriverError> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if text.is_empty() {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v @ serde_json::Value::Object(_)) => Ok(v),
        Ok(other) => Err(DriverError::Broken {
            action,
            message: format!(
                "réponse JSON qui n'est pas un objet : {}",
                excerpt(&other.to_string())
            ),
        }),
        Err(e) => Err(DriverError::Broken {
            action,
            message: format!(
                "réponse qui n'est pas du JSON ({e}) : « {} »",
                excerpt(text)
            ),
        }),
    }
}

/// A field of an answer, read into a type; a wrong shape is the driver's fault.
pub fn field<T: serde::de::DeserializeOwned + Default>(
    action: Action,
    answer: &serde_json::Value,
    name: &str,
) -> Result<T, DriverError> {
    match answer.get(name) {
        None | Some(serde_json::Value::Null) => Ok(T::default()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| DriverError::Broken {
            action,
            message: format!("champ « {name} » de la réponse mal formé : {e}"),
        }),
    }
}

/// The SUT's own error message in an answer (`{"error": "…"}`), or the text itself.
pub fn error_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text)
        && let Some(e) = v.get("error").and_then(|e| e.as_str())
    {
        return excerpt(e);
    }
    excerpt(text)
}

/// At most a few hundred characters of a text, on one line.
pub fn excerpt(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = one_line.trim();
    if trimmed.chars().count() > 300 {
        format!("{}…", trimmed.chars().take(300).collect::<String>())
    } else {
        trimmed.to_owned()
    }
}
