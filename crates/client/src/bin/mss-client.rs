//! `mss-client`: the reference client from the command line.
//!
//! ```text
//! mss-client --account account.json send message.json   # message in the JSON of seeds/000
//! mss-client --account account.json fetch               # INBOX as JSON lines
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use client::{Account, Client, Defect, Defects, MessageSpec};

/// The reference MSSanté client.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Account file (JSON): address, display name, endpoints, credentials, trust, X-MSS-NIL.
    #[arg(long)]
    account: PathBuf,
    /// Deliberate defect to inject (for demonstrating the harness), repeatable.
    #[arg(long = "defect")]
    defects: Vec<Defect>,
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
}

fn read(path: &PathBuf) -> Result<String, String> {
    if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| format!("standard input: {e}"))
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
    }
}

async fn run(args: Args) -> Result<(), String> {
    let account: Account = serde_json::from_str(&read(&args.account)?)
        .map_err(|e| format!("{}: {e}", args.account.display()))?;
    let client = Client::new(account).with_defects(args.defects.into_iter().collect::<Defects>());
    match args.action {
        Action::Send { message } => {
            let spec = MessageSpec::from_json(&read(&message)?)
                .map_err(|e| format!("{}: {e}", message.display()))?;
            let sent = client.send(&spec).await.map_err(|e| e.to_string())?;
            println!(
                "{}",
                serde_json::json!({"messageId": sent.message_id, "reply": sent.reply})
            );
        }
        Action::Fetch => {
            for m in client.fetch_inbox().await.map_err(|e| e.to_string())? {
                println!(
                    "{}",
                    serde_json::json!({"uid": m.uid, "messageId": m.message_id, "subject": m.subject})
                );
            }
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mss-client: {e}");
            ExitCode::FAILURE
        }
    }
}
