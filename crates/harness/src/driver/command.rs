//! The command driver: each action is a command line from the profile; the request goes to its
//! standard input as JSON, the answer comes back on its standard output as one JSON object.
//! Exit status 0 is success; 2 says the request was not understood (a bench problem); 3 that
//! the action is not supported; any other status is the SUT's reported failure (its stderr, or
//! `{"error": "…"}` on stdout, is kept as evidence). An action missing from the profile is
//! `Unsupported`; a process still running at the action's timeout is killed.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::external::{Transport, TransportFuture};
use super::profile::{CommandSettings, Profile, ProfileError, resolve_program, seconds};
use super::{Action, DriverError, answer, error_text};

/// Most bytes kept of a command's standard output.
const MAX_STDOUT: usize = 4 * 1024 * 1024;
/// Most bytes kept of a command's standard error.
const MAX_STDERR: usize = 64 * 1024;

/// Runs a SUT's actions as command lines.
#[derive(Debug, Clone)]
pub struct CommandTransport {
    settings: CommandSettings,
    timeout: Duration,
    data_dir: Option<std::path::PathBuf>,
    start_line: Option<String>,
}

/// The variable giving each action the first line the profile's `start` process printed (how
/// a command line reaches the long-lived process that holds the SUT's sessions).
pub const START_LINE_VAR: &str = "MSS_SUT_START_LINE";

/// What a finished command left.
#[derive(Debug)]
struct Output {
    status: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

async fn read_capped(mut reader: impl AsyncRead + Unpin, cap: usize) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => return kept,
            Ok(n) => {
                let room = cap.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..n.min(room)]);
            }
        }
    }
}

impl CommandTransport {
    /// The transport of a command profile.
    pub fn new(profile: &Profile) -> Result<Self, ProfileError> {
        let settings = profile.command.clone().ok_or_else(|| ProfileError {
            path: profile.path.display().to_string(),
            message: "driver: command sans section « command: »".into(),
        })?;
        Ok(CommandTransport {
            settings,
            timeout: seconds(profile.timeout, "timeout").unwrap_or(Duration::from_secs(30)),
            data_dir: profile.data_dir_resolved(),
            start_line: None,
        })
    }

    /// Gives every action the first line the `start` process printed, in
    /// [`START_LINE_VAR`].
    pub fn with_start_line(mut self, line: Option<String>) -> Self {
        self.start_line = line;
        self
    }

    async fn run(&self, action: Action, body: Vec<u8>) -> Result<serde_json::Value, DriverError> {
        let Some(spec) = self.settings.actions.get(action) else {
            return Err(DriverError::Unsupported(action));
        };
        let timeout = spec
            .timeout
            .and_then(|t| seconds(t, "timeout").ok())
            .unwrap_or(self.timeout);
        let workdir = self.settings.workdir.clone();
        let program = resolve_program(&spec.run[0], workdir.as_deref())
            .map_err(|message| DriverError::Broken { action, message })?;
        let mut command = tokio::process::Command::new(&program);
        command
            .args(&spec.run[1..])
            .envs(&self.settings.env)
            .envs(self.start_line.iter().map(|line| (START_LINE_VAR, line)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(dir) = &workdir {
            command.current_dir(dir);
        }
        let mut child = command.spawn().map_err(|e| DriverError::Broken {
            action,
            message: format!("lancement de « {} » impossible : {e}", program.display()),
        })?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let work = async move {
            let write = async move {
                if let Some(mut stdin) = stdin {
                    // A SUT that does not read its input closes the pipe: not an error.
                    let _ = stdin.write_all(&body).await;
                    let _ = stdin.shutdown().await;
                }
            };
            let out = async move {
                match stdout {
                    Some(s) => read_capped(s, MAX_STDOUT).await,
                    None => Vec::new(),
                }
            };
            let err = async move {
                match stderr {
                    Some(s) => read_capped(s, MAX_STDERR).await,
                    None => Vec::new(),
                }
            };
            let ((), stdout, stderr) = tokio::join!(write, out, err);
            let status = child.wait().await;
            (status, stdout, stderr, child)
        };
        let output = match tokio::time::timeout(timeout, work).await {
            Err(_) => {
                // The child is dropped with the future: kill_on_drop ends it.
                return Err(DriverError::Timeout {
                    action,
                    after: timeout,
                });
            }
            Ok((status, stdout, stderr, _child)) => Output {
                status: status.ok().and_then(|s| s.code()),
                stdout,
                stderr,
            },
        };
        match output.status {
            Some(0) => answer(action, &output.stdout),
            Some(2) => Err(DriverError::Broken {
                action,
                message: format!(
                    "le système n'a pas compris la requête (code 2) : {}",
                    error_text(if output.stderr.is_empty() {
                        &output.stdout
                    } else {
                        &output.stderr
                    })
                ),
            }),
            Some(3) => Err(DriverError::Unsupported(action)),
            status => {
                let said = if output.stderr.iter().any(|b| !b.is_ascii_whitespace()) {
                    error_text(&output.stderr)
                } else {
                    error_text(&output.stdout)
                };
                Err(DriverError::Failed {
                    action,
                    message: format!(
                        "{} — {}",
                        match status {
                            Some(code) => format!("code de sortie {code}"),
                            None => "processus interrompu par un signal".to_owned(),
                        },
                        if said.is_empty() {
                            "sans message"
                        } else {
                            &said
                        }
                    ),
                })
            }
        }
    }
}

impl Transport for CommandTransport {
    fn data_dir(&self) -> Option<std::path::PathBuf> {
        self.data_dir.clone()
    }

    fn supports(&self, action: Action) -> bool {
        self.settings.actions.get(action).is_some()
    }

    fn call(&self, action: Action, body: Vec<u8>) -> TransportFuture<'_> {
        Box::pin(self.run(action, body))
    }
}
