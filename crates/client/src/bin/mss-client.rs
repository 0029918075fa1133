//! `mss-client`: the reference client from the command line, and as an external system under
//! test speaking the harness's driver contract.
//!
//! ```text
//! mss-client --account account.json send message.json   # message in the JSON of seeds/000
//! mss-client --account account.json fetch               # INBOX as JSON lines
//! mss-client driver < request.json                      # one action of the driver contract
//! mss-client driver --forward < request.json            # … handed to a running `serve`
//! mss-client serve --listen 127.0.0.1:0                 # the contract over HTTP: POST /<action>
//! ```
//!
//! `driver` exits 0 with the answer on stdout, 1 when the action failed (`{"error": …}`), 2
//! when the request is not understood, 3 when the action is not supported. `serve` prints its
//! base URL on the first line of stdout, then answers `200`, `422` (failed), `400` (not
//! understood) or `501` (not supported).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use clap::{Parser, Subcommand};
use client::agent::{Agent, AgentSettings};
use client::driver::{DriverFailure, NIL, handle};
use client::{Account, Client, Defect, Defects, MessageSpec};

/// Where the harness gives a command action the first line its `start` process printed.
const START_LINE: &str = "MSS_SUT_START_LINE";
/// Longest wait for a forwarded action's answer.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(600);

/// The reference MSSanté client.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Deliberate defect to inject (for demonstrating the harness), repeatable.
    #[arg(long = "defect", global = true)]
    defects: Vec<Defect>,
    /// Account file (JSON) of `send` and `fetch`: address, display name, endpoints,
    /// credentials, trust.
    #[arg(long, global = true)]
    account: Option<PathBuf>,
    /// Per-step timeout, in seconds (connect, each reply, handshake).
    #[arg(long, global = true, default_value_t = 30)]
    timeout: u64,
    /// State folder (the last valid CRL of each distribution point). Default:
    /// `$MSS_CLIENT_DATA`, else `$XDG_CACHE_HOME/mss-client`, else `~/.cache/mss-client`.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// How often a held BAL's Pro Santé Connect session is checked, in seconds (`serve`).
    #[arg(long, global = true, default_value_t = 30.0)]
    session_check: f64,
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Sends the message described by a JSON file (`-` for standard input).
    Send {
        /// The message.
        message: PathBuf,
    },
    /// Prints the INBOX, one JSON object per message.
    Fetch,
    /// Runs one action of the driver contract read on standard input.
    Driver {
        /// Hand the action to the running `mss-client serve` whose URL the harness gives in
        /// `$MSS_SUT_START_LINE` (the first line the profile's `start` process printed), so
        /// the sessions it holds live on between actions.
        #[arg(long)]
        forward: bool,
    },
    /// Serves the driver contract over HTTP.
    Serve {
        /// Address to listen on (port 0: any free port; the URL is printed).
        #[arg(long, default_value = "127.0.0.1:8600")]
        listen: std::net::SocketAddr,
    },
}

fn read(path: &PathBuf) -> Result<String, String> {
    if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| format!("standard input: {e}"))
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
    }
}

fn load_account(path: Option<&PathBuf>) -> Result<Account, String> {
    let path = path.ok_or("--account is required for send and fetch")?;
    serde_json::from_str(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))
}

async fn serve_action(
    State(agent): State<Arc<Agent>>,
    Path(action): Path<String>,
    body: axum::body::Bytes,
) -> axum::response::Response {
    // The action in the path wins over the body's, so a proxy cannot confuse them.
    let mut request: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(serde_json::json!({ "error": e.to_string() })),
            )
                .into_response();
        }
    };
    request["action"] = serde_json::Value::String(action);
    let bytes = serde_json::to_vec(&request).unwrap_or_default();
    match handle(&bytes, &agent).await {
        Ok(answer) => (StatusCode::OK, axum::Json(answer)).into_response(),
        Err(failure) => {
            let status = match failure {
                DriverFailure::Unsupported(_) => StatusCode::NOT_IMPLEMENTED,
                DriverFailure::BadRequest(_) => StatusCode::BAD_REQUEST,
                DriverFailure::Failed(_) => StatusCode::UNPROCESSABLE_ENTITY,
            };
            (
                status,
                axum::Json(serde_json::json!({ "error": failure.to_string() })),
            )
                .into_response()
        }
    }
}

/// Hands one request to the running `serve` and answers as `driver` would: its exit codes
/// from the HTTP status; a `serve` that cannot be reached is a bench problem (exit 2), one
/// that breaks off its answer failed the action (exit 1).
async fn forward_action(request: &str) -> ExitCode {
    let bench = |message: String| {
        println!("{}", serde_json::json!({ "error": message }));
        eprintln!("mss-client: {message}");
        ExitCode::from(2)
    };
    let Ok(base) = std::env::var(START_LINE) else {
        return bench(format!(
            "--forward : ${START_LINE} absent (l'URL que « mss-client serve » a écrite)"
        ));
    };
    let action = match serde_json::from_str::<serde_json::Value>(request) {
        Ok(v) => v["action"].as_str().unwrap_or_default().to_owned(),
        Err(e) => return bench(format!("requête illisible : {e}")),
    };
    if action.is_empty() || !action.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return bench(format!("action invalide « {action} »"));
    }
    let url = format!("{}/{action}", base.trim().trim_end_matches('/'));
    // The harness bounds the action; this only keeps a vanished `serve` from hanging us.
    match client::http::post_json(&url, request.as_bytes().to_vec(), FORWARD_TIMEOUT).await {
        Ok((status, body)) => {
            println!("{}", String::from_utf8_lossy(&body));
            ExitCode::from(match status {
                200 => 0,
                400 => 2,
                501 => 3,
                _ => 1,
            })
        }
        // Not reached: a bench problem. Reached, then no whole answer: the client failed.
        Err(e @ client::http::HttpError::Unreachable { .. }) => {
            bench(format!("mss-client serve injoignable : {e}"))
        }
        Err(e) => {
            println!("{}", serde_json::json!({ "error": e.to_string() }));
            eprintln!("mss-client: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run(args: Args) -> Result<ExitCode, String> {
    let defects: Defects = args.defects.into_iter().collect();
    let timeout = Duration::from_secs(args.timeout.max(1));
    let data_dir = args.data_dir.clone().or_else(Client::default_data_dir);
    if let Some(dir) = &data_dir {
        // The client's own folder exists from its first start, like any application's.
        let _ = std::fs::create_dir_all(dir);
    }
    let agent = Arc::new(Agent::new(
        AgentSettings {
            defects: defects.clone(),
            timeout,
            data_dir: data_dir.clone(),
            session_check: Duration::from_secs_f64(args.session_check.clamp(0.05, 3600.0)),
            ..AgentSettings::default()
        },
        NIL,
    ));
    let client = |account: Account| {
        let client = Client::new(account)
            .with_defects(defects.clone())
            .with_timeout(timeout);
        match &data_dir {
            Some(dir) => client.with_data_dir(dir),
            None => client,
        }
    };
    match args.action {
        Action::Send { message } => {
            let client = client(load_account(args.account.as_ref())?);
            let spec = MessageSpec::from_json(&read(&message)?)
                .map_err(|e| format!("{}: {e}", message.display()))?;
            let sent = client.send(&spec).await.map_err(|e| e.to_string())?;
            println!(
                "{}",
                serde_json::json!({"messageId": sent.message_id, "reply": sent.reply})
            );
        }
        Action::Fetch => {
            let client = client(load_account(args.account.as_ref())?);
            for m in client.fetch_inbox().await.map_err(|e| e.to_string())? {
                println!(
                    "{}",
                    serde_json::json!({"uid": m.uid, "messageId": m.message_id, "subject": m.subject})
                );
            }
        }
        Action::Driver { forward } => {
            let request = std::io::read_to_string(std::io::stdin())
                .map_err(|e| format!("standard input: {e}"))?;
            if forward {
                if !defects.is_empty() || args.data_dir.is_some() {
                    // They belong to the running `serve`: silently ignored, a mutant would pass.
                    eprintln!(
                        "mss-client: --defect et --data-dir se donnent à « serve », pas à « driver --forward »"
                    );
                    return Ok(ExitCode::from(2));
                }
                return Ok(forward_action(&request).await);
            }
            return Ok(match handle(request.as_bytes(), &agent).await {
                Ok(answer) => {
                    println!("{answer}");
                    ExitCode::SUCCESS
                }
                Err(failure) => {
                    println!("{}", serde_json::json!({ "error": failure.to_string() }));
                    eprintln!("mss-client: {failure}");
                    ExitCode::from(match failure {
                        DriverFailure::Failed(_) => 1,
                        DriverFailure::BadRequest(_) => 2,
                        DriverFailure::Unsupported(_) => 3,
                    })
                }
            });
        }
        Action::Serve { listen } => {
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| format!("{listen}: {e}"))?;
            let local = listener.local_addr().map_err(|e| e.to_string())?;
            let app = axum::Router::new()
                .route("/health", axum::routing::get(|| async { "ok" }))
                .route("/{action}", axum::routing::post(serve_action))
                .with_state(agent);
            // The first line of stdout is the base URL: the harness reads it.
            println!("http://{local}");
            use std::io::Write;
            let _ = std::io::stdout().flush();
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mss-client: {e}");
            ExitCode::FAILURE
        }
    }
}
