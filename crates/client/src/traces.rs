//! The client's traces (ECO.4.1.1, ECO.4.1.2): one JSON object per connection,
//! authentication, send, fetch and delete, with the authenticated author, the client's own
//! timestamp (RFC 3339 with its offset), the action, the request and the response — failures
//! included, with the server's answer when there was one. Kept in memory for the BAL and
//! exported through the driver (`export_traces`).

use std::sync::Mutex;

use serde::Serialize;

use crate::account::{Account, Credentials, Defect, Defects};
use crate::error::ClientError;

/// Most entries kept (the oldest are dropped first).
pub const MAX_TRACES: usize = 10_000;

/// One trace entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trace {
    /// The authenticated author: the BAL.
    pub author: String,
    /// When, by the client's clock (RFC 3339).
    pub timestamp: String,
    /// `connection`, `authentication`, `send`, `fetch` or `delete`.
    pub action: &'static str,
    /// What the client asked.
    pub request: String,
    /// What it got: the server's answer, or why it failed.
    pub response: String,
    /// Whether it succeeded.
    pub ok: bool,
}

/// A log of traces, shared by every action of an agent.
#[derive(Debug, Default)]
pub struct TraceLog {
    entries: Mutex<Vec<Trace>>,
}

/// Where an operation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Connection,
    Authentication,
    Transaction,
}

fn stage(error: &ClientError) -> Stage {
    match error {
        ClientError::AuthRefused(_) | ClientError::Psc(_) => Stage::Authentication,
        ClientError::Unexpected { step, .. } | ClientError::Timeout { step }
            if [
                "MAIL FROM",
                "RCPT TO",
                "DATA",
                "fin de DATA",
                "SELECT",
                "FETCH",
            ]
            .contains(step) =>
        {
            Stage::Transaction
        }
        ClientError::Compose(_) => Stage::Transaction,
        _ => Stage::Connection,
    }
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl TraceLog {
    /// Records one entry.
    pub fn record(
        &self,
        author: &str,
        action: &'static str,
        request: String,
        outcome: Result<String, String>,
    ) {
        let (ok, response) = match outcome {
            Ok(r) => (true, r),
            Err(e) => (false, e),
        };
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_TRACES {
            entries.remove(0);
        }
        entries.push(Trace {
            author: author.to_owned(),
            timestamp: now(),
            action,
            request,
            response,
            ok,
        });
    }

    /// The entries of a BAL, oldest first.
    pub fn export(&self, author: &str) -> Vec<Trace> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|t| t.author.eq_ignore_ascii_case(author))
            .cloned()
            .collect()
    }

    /// Records an SMTP or IMAP operation: its connection, its authentication, then (when it
    /// got that far) its transaction (`send` or `fetch`), from the operation's outcome (the
    /// transaction's response, or the error that stopped it).
    pub fn operation(
        &self,
        account: &Account,
        defects: &Defects,
        smtp: bool,
        transaction: Option<(&'static str, String)>,
        outcome: Result<String, &ClientError>,
    ) {
        let author = account.address.as_str();
        let failed_at = outcome.as_ref().err().map(|e| stage(e));
        let error = outcome.as_ref().err().map(|e| e.to_string());
        let at = |s: Stage| match failed_at {
            Some(f) if f == s => Err(error.clone().unwrap_or_default()),
            _ => Ok(()),
        };
        let server = if smtp { &account.smtp } else { &account.imap };
        let protocol = if smtp { "SMTP" } else { "IMAP" };
        self.record(
            author,
            "connection",
            format!("{protocol} {}:{} STARTTLS", server.host, server.addr.port()),
            at(Stage::Connection).map(|()| "session TLS établie".to_owned()),
        );
        if failed_at == Some(Stage::Connection) {
            return;
        }
        let mechanism = match account.credentials {
            Credentials::Xoauth2 { .. } => "XOAUTH2",
            Credentials::Certificate { .. } => "certificat + PLAIN",
        };
        self.record(
            author,
            "authentication",
            format!("{protocol} AUTH {mechanism} {author}"),
            at(Stage::Authentication).map(|()| "authentification acceptée".to_owned()),
        );
        if failed_at == Some(Stage::Authentication) {
            return;
        }
        if let Some((action, request)) = transaction {
            let response = outcome.map_err(|e| e.to_string());
            let response = if defects.contains(&Defect::TraceWithoutResponse) {
                Ok(String::new())
            } else {
                response
            };
            self.record(author, action, request, response);
        }
    }
}
