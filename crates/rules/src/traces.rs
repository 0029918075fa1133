//! ECO.4.1.1 and ECO.4.1.2 — « Le système DOIT tracer les connexions, authentifications,
//! envois, relèves et suppressions de courriels » and « chaque trace DOIT comporter l'auteur
//! authentifié, un horodatage local, le type d'action, la requête et la réponse ».
//!
//! Judged on the traces the system exports (`export_traces`): JSON objects with `author`,
//! `timestamp`, `action`, `request` and `response` (French names `auteur`, `horodatage`,
//! `requete`/`requête`, `reponse`/`réponse` are read too; actions `connection`/`connexion`,
//! `authentication`/`authentification`, `send`/`envoi`, `fetch`/`relève`, `delete`/
//! `suppression`), against what the operator journaled in the same scenario.
//!
//! Readings:
//! - ECO.4.1.1: for each kind of action, the system has at least as many traces as the
//!   operator journaled (connections, authentications, accepted messages, sessions that
//!   fetched, sessions that deleted); a client may trace more (one fetch per message).
//! - ECO.4.1.2: every trace of the scenario has each field filled; the author is the BAL or the
//!   professional authenticated on it; the timestamp is the client's local time: RFC 3339 with
//!   its offset, or without offset when some time zone (UTC−12 to UTC+14) puts it within the
//!   scenario; a refused operation (the harness makes the operator refuse a recipient) is traced
//!   with the refusal.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{Finding, text};

/// ECO.4.1.1.
pub const ID_4_1_1: &str = "ECO.4.1.1";
/// ECO.4.1.2.
pub const ID_4_1_2: &str = "ECO.4.1.2";

/// The kinds of action the référentiel names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A connection (session).
    Connection,
    /// An authentication.
    Authentication,
    /// A message sent.
    Send,
    /// Messages fetched.
    Fetch,
    /// Messages deleted.
    Delete,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Connection,
        Kind::Authentication,
        Kind::Send,
        Kind::Fetch,
        Kind::Delete,
    ];

    fn label(self) -> &'static str {
        match self {
            Kind::Connection => "connexions",
            Kind::Authentication => "authentifications",
            Kind::Send => "envois",
            Kind::Fetch => "relèves",
            Kind::Delete => "suppressions",
        }
    }

    /// Reads an action name, English or French.
    pub fn parse(action: &str) -> Option<Kind> {
        let a = text::fold(action);
        let has = |keys: &[&str]| keys.iter().any(|k| a.contains(k));
        if has(&["auth", "login"]) {
            Some(Kind::Authentication)
        } else if has(&["connect", "connexion", "session"]) {
            Some(Kind::Connection)
        } else if has(&["send", "envoi", "submi", "soumission"]) {
            Some(Kind::Send)
        } else if has(&["fetch", "releve", "reception", "lecture", "sync"]) {
            Some(Kind::Fetch)
        } else if has(&["delete", "suppr", "expunge", "effac"]) {
            Some(Kind::Delete)
        } else {
            None
        }
    }
}

/// What the operator journaled for the system in the scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Journaled {
    /// SMTP and IMAP connections.
    pub connections: usize,
    /// Authentications (accepted or refused).
    pub authentications: usize,
    /// Messages accepted from the BAL.
    pub sends: usize,
    /// Sessions that fetched at least one message.
    pub fetches: usize,
    /// Sessions that deleted at least one message.
    pub deletes: usize,
    /// The refusal the operator gave a recipient, when the scenario provoked one.
    pub refused: Option<String>,
}

impl Journaled {
    fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Connection => self.connections,
            Kind::Authentication => self.authentications,
            Kind::Send => self.sends,
            Kind::Fetch => self.fetches,
            Kind::Delete => self.deletes,
        }
    }
}

/// The scenario's time window, and who may be the author.
#[derive(Debug, Clone)]
pub struct Window {
    /// First event of the scenario.
    pub start: OffsetDateTime,
    /// When the traces were exported.
    pub end: OffsetDateTime,
    /// Tolerated clock difference.
    pub skew: time::Duration,
    /// Authors accepted: the BAL, the professional's national ID.
    pub authors: Vec<String>,
}

fn field<'a>(entry: &'a serde_json::Value, names: &[&str]) -> Option<&'a serde_json::Value> {
    let object = entry.as_object()?;
    object
        .iter()
        .find(|(k, _)| names.iter().any(|n| text::fold(k) == *n))
        .map(|(_, v)| v)
}

fn field_text(entry: &serde_json::Value, names: &[&str]) -> String {
    match field(entry, names) {
        Some(serde_json::Value::String(s)) => s.trim().to_owned(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

const AUTHOR: &[&str] = &["author", "auteur", "user", "utilisateur"];
const TIMESTAMP: &[&str] = &["timestamp", "horodatage", "date", "time", "at"];
const ACTION: &[&str] = &["action", "type"];
const REQUEST: &[&str] = &["request", "requete"];
const RESPONSE: &[&str] = &["response", "reponse"];

/// When an entry happened, if its timestamp places it in the window.
fn in_window(stamp: &str, window: &Window) -> Result<(), String> {
    let (from, to) = (window.start - window.skew, window.end + window.skew);
    if let Ok(t) = OffsetDateTime::parse(stamp, &Rfc3339) {
        return if t >= from && t <= to {
            Ok(())
        } else {
            Err(format!(
                "horodatage « {stamp} » hors de la durée du scénario"
            ))
        };
    }
    // A local time without offset: some time zone must place it in the scenario.
    let naive = stamp.replace(' ', "T");
    let naive = naive.trim_end_matches('Z');
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    let Ok(t) = time::PrimitiveDateTime::parse(naive, &format) else {
        return Err(format!(
            "horodatage « {stamp} » illisible (RFC 3339 attendu)"
        ));
    };
    let fits = (-12..=14).any(|h| {
        time::UtcOffset::from_hms(h, 0, 0)
            .map(|o| t.assume_offset(o))
            .is_ok_and(|t| t >= from && t <= to)
    });
    if fits {
        Ok(())
    } else {
        Err(format!(
            "horodatage « {stamp} » hors de la durée du scénario"
        ))
    }
}

fn entries_in_window<'a>(
    traces: &'a [serde_json::Value],
    window: &Window,
) -> Vec<&'a serde_json::Value> {
    traces
        .iter()
        .filter(|t| in_window(&field_text(t, TIMESTAMP), window).is_ok())
        .collect()
}

/// ECO.4.1.1: every kind of action the operator journaled is traced as often.
pub fn check_4_1_1(
    traces: &[serde_json::Value],
    journaled: &Journaled,
    window: &Window,
) -> Finding {
    if Kind::ALL.iter().all(|k| journaled.count(*k) == 0) {
        return Finding::not_tested(ID_4_1_1, "l'opérateur n'a rien journalisé pour le système");
    }
    let entries = entries_in_window(traces, window);
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for kind in Kind::ALL {
        let expected = journaled.count(kind);
        let traced = entries
            .iter()
            .filter(|e| Kind::parse(&field_text(e, ACTION)) == Some(kind))
            .count();
        if expected > 0 {
            seen.push(format!(
                "{} : {traced} tracé(es) pour {expected} journalisé(es)",
                kind.label()
            ));
        }
        if traced < expected {
            problems.push(format!(
                "{} : {traced} trace(s) pour {expected} journalisée(s) par l'opérateur",
                kind.label()
            ));
        }
    }
    if entries.is_empty() {
        problems.insert(
            0,
            format!(
                "aucune trace datée du scénario parmi les {} exportées",
                traces.len()
            ),
        );
    }
    Finding::from_problems(ID_4_1_1, problems, seen.join(" ; "))
}

fn failed(entry: &serde_json::Value, refused: &str) -> bool {
    let response = field_text(entry, RESPONSE);
    let code = refused.get(..3).unwrap_or_default();
    let explicit = ["ok", "success", "succes"]
        .iter()
        .any(|n| field(entry, &[n]).and_then(serde_json::Value::as_bool) == Some(false));
    explicit || (!code.is_empty() && response.contains(code))
}

/// ECO.4.1.2: each trace of the scenario has its fields, the refused operation included.
pub fn check_4_1_2(
    traces: &[serde_json::Value],
    journaled: &Journaled,
    window: &Window,
) -> Finding {
    if traces.is_empty() {
        return Finding::fail(ID_4_1_2, "le système n'a exporté aucune trace");
    }
    let mut problems = Vec::new();
    let mut judged = 0;
    for (i, entry) in traces.iter().enumerate() {
        let n = i + 1;
        let stamp = field_text(entry, TIMESTAMP);
        if stamp.is_empty() {
            problems.push(format!("trace n°{n} : pas d'horodatage"));
            continue;
        }
        if in_window(&stamp, window).is_err() {
            // Another scenario's trace, or a wrong clock: the first shows in ECO.4.1.1.
            if let Err(e) = in_window(&stamp, window)
                && e.contains("illisible")
            {
                problems.push(format!("trace n°{n} : {e}"));
            }
            continue;
        }
        judged += 1;
        let author = field_text(entry, AUTHOR);
        if author.is_empty() {
            problems.push(format!("trace n°{n} : auteur absent"));
        } else if !window
            .authors
            .iter()
            .any(|a| author.to_lowercase().contains(&a.to_lowercase()))
        {
            problems.push(format!(
                "trace n°{n} : auteur « {author} » au lieu de l'utilisateur authentifié ({})",
                window.authors.join(" ou ")
            ));
        }
        let action = field_text(entry, ACTION);
        if Kind::parse(&action).is_none() {
            problems.push(format!(
                "trace n°{n} : type d'action « {action} » non reconnu"
            ));
        }
        if field_text(entry, REQUEST).is_empty() {
            problems.push(format!("trace n°{n} : requête absente"));
        }
        if field_text(entry, RESPONSE).is_empty() {
            problems.push(format!("trace n°{n} ({action}) : réponse absente"));
        }
    }
    if judged == 0 {
        problems.push("aucune trace datée du scénario".into());
    }
    if let Some(refused) = &journaled.refused {
        let traced = traces
            .iter()
            .any(|e| Kind::parse(&field_text(e, ACTION)) == Some(Kind::Send) && failed(e, refused));
        if !traced {
            problems.push(format!(
                "l'échec de l'envoi refusé par l'opérateur (« {refused} ») n'est pas tracé avec sa réponse"
            ));
        }
    }
    problems.truncate(8);
    Finding::from_problems(
        ID_4_1_2,
        problems,
        format!(
            "{judged} trace(s) avec auteur, horodatage, action, requête et réponse, échec compris"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;
    use serde_json::json;

    fn window() -> Window {
        let start = OffsetDateTime::parse("2026-12-02T10:00:00Z", &Rfc3339).expect("date");
        Window {
            start,
            end: start + time::Duration::seconds(5),
            skew: time::Duration::seconds(120),
            authors: vec!["marie.martin@operateur-fictif.mssante.fr".into()],
        }
    }

    fn trace(action: &str, response: &str, at: &str) -> serde_json::Value {
        json!({"author": "marie.martin@operateur-fictif.mssante.fr", "timestamp": at,
               "action": action, "request": "RCPT TO:<x@y>", "response": response})
    }

    fn journaled() -> Journaled {
        Journaled {
            connections: 1,
            authentications: 1,
            sends: 0,
            fetches: 0,
            deletes: 0,
            refused: Some("550 5.1.1 Recipient address rejected".into()),
        }
    }

    #[test]
    fn complete_traces_pass() {
        let t = vec![
            trace(
                "connection",
                "session TLS établie",
                "2026-12-02T11:00:01+01:00",
            ),
            trace("authentification", "235 ok", "2026-12-02 11:00:01"),
            trace(
                "envoi",
                "550 5.1.1 Recipient address rejected",
                "2026-12-02T10:00:02Z",
            ),
        ];
        assert_eq!(
            check_4_1_1(&t, &journaled(), &window()).verdict,
            Verdict::Pass
        );
        assert_eq!(
            check_4_1_2(&t, &journaled(), &window()).verdict,
            Verdict::Pass
        );
    }

    #[test]
    fn missing_or_incomplete_traces_fail() {
        let t = vec![trace("connection", "ok", "2026-12-02T10:00:01Z")];
        assert_eq!(
            check_4_1_1(&t, &journaled(), &window()).verdict,
            Verdict::Fail
        );
        let t = vec![
            trace("connection", "ok", "2026-12-02T10:00:01Z"),
            trace("authentication", "", "2026-12-02T10:00:01Z"),
            trace("send", "550 refused", "2026-12-02T10:00:01Z"),
        ];
        assert_eq!(
            check_4_1_2(&t, &journaled(), &window()).verdict,
            Verdict::Fail
        );
        let t = vec![
            trace("connection", "ok", "2026-12-02T10:00:01Z"),
            trace("send", "envoyé", "2026-12-02T10:00:01Z"),
        ];
        assert_eq!(
            check_4_1_2(&t, &journaled(), &window()).verdict,
            Verdict::Fail,
            "the refusal is not traced"
        );
        let old = vec![trace("connection", "ok", "2026-12-01T10:00:01Z")];
        assert_eq!(
            check_4_1_1(&old, &journaled(), &window()).verdict,
            Verdict::Fail
        );
        assert_eq!(
            check_4_1_2(&[], &journaled(), &window()).verdict,
            Verdict::Fail
        );
    }

    #[test]
    fn actions_are_read_in_english_and_french() {
        assert_eq!(Kind::parse("Relève IMAP"), Some(Kind::Fetch));
        assert_eq!(Kind::parse("AUTHENTICATION"), Some(Kind::Authentication));
        assert_eq!(Kind::parse("suppression"), Some(Kind::Delete));
        assert_eq!(Kind::parse("quelque chose"), None);
    }
}
