//! Reading a recorded journal (JSON lines), with errors that name the line.

use crate::event::Event;

/// Why a recorded journal could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// A line is not JSON at all (another kind of file?).
    #[error(
        "ligne {line} : ce n'est pas du JSON ({detail}) — est-ce bien un journal de mss-operator ?"
    )]
    NotJson {
        /// Line number, from 1.
        line: usize,
        /// The parser's message.
        detail: String,
    },
    /// A line is JSON but not an event of the operator's journal.
    #[error("ligne {line} : ce n'est pas un événement du journal de l'opérateur ({detail})")]
    Foreign {
        /// Line number, from 1.
        line: usize,
        /// The parser's message.
        detail: String,
    },
    /// The last line stops in the middle (the file was cut while being written).
    #[error("ligne {line} tronquée : le journal a été coupé pendant son écriture")]
    Truncated {
        /// Line number, from 1.
        line: usize,
    },
    /// Sequence numbers go backwards: two journals were mixed, or lines were reordered.
    #[error(
        "ligne {line} : numéro d'ordre {seq} après {previous} — journaux mélangés ou réordonnés ?"
    )]
    OutOfOrder {
        /// Line number, from 1.
        line: usize,
        /// Its sequence number.
        seq: u64,
        /// The previous line's.
        previous: u64,
    },
}

/// Reads a journal written as JSON lines (blank lines are skipped).
pub fn read_jsonl(text: &str) -> Result<Vec<Event>, ReadError> {
    let mut events: Vec<Event> = Vec::new();
    let ends_with_newline = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let last = lines.len();
    for (index, raw) in lines.iter().enumerate() {
        let line = index + 1;
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let value: serde_json::Value = match serde_json::from_str(raw) {
            Ok(v) => v,
            Err(e) if e.is_eof() && line == last && !ends_with_newline => {
                return Err(ReadError::Truncated { line });
            }
            Err(e) => {
                return Err(ReadError::NotJson {
                    line,
                    detail: e.to_string(),
                });
            }
        };
        let event: Event = serde_json::from_value(value).map_err(|e| ReadError::Foreign {
            line,
            detail: e.to_string(),
        })?;
        if let Some(previous) = events.last()
            && event.seq <= previous.seq
        {
            return Err(ReadError::OutOfOrder {
                line,
                seq: event.seq,
                previous: previous.seq,
            });
        }
        events.push(event);
    }
    Ok(events)
}

/// Writes events as JSON lines, the format [`read_jsonl`] reads.
pub fn to_jsonl<'a>(events: impl IntoIterator<Item = &'a Event>) -> String {
    let mut out = String::new();
    for event in events {
        // Serialising these plain structs cannot fail (string keys, no maps with other keys).
        if let Ok(line) = serde_json::to_string(event) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;

    const TWO: &str = concat!(
        r#"{"seq":1,"at":"2026-11-30T10:00:00Z","conn":1,"type":"connection_opened","service":"smtp","entry":"psc","peer":"127.0.0.1:5000"}"#,
        "\n",
        r#"{"seq":2,"at":"2026-11-30T10:00:00.1Z","conn":1,"type":"command","service":"smtp","tls":false,"verb":"EHLO","line":"EHLO client"}"#,
        "\n"
    );

    #[test]
    fn reads_and_writes_back_the_same_events() {
        let events = read_jsonl(TWO).expect("read");
        assert_eq!(events.len(), 2);
        assert!(matches!(&events[1].kind, EventKind::Command { verb, .. } if verb == "EHLO"));
        assert_eq!(read_jsonl(&to_jsonl(&events)).expect("again"), events);
    }

    #[test]
    fn unknown_kinds_are_kept_as_unknown() {
        let text = r#"{"seq":1,"at":"2026-11-30T10:00:00Z","type":"from_the_future","x":1}"#;
        let events = read_jsonl(text).expect("read");
        assert_eq!(events[0].kind, EventKind::Unknown);
    }

    #[test]
    fn bad_files_get_errors_naming_the_line() {
        let truncated = &TWO[..TWO.len() - 20];
        assert_eq!(read_jsonl(truncated), Err(ReadError::Truncated { line: 2 }));
        let e = read_jsonl("hello world\n").expect_err("not JSON");
        assert!(matches!(e, ReadError::NotJson { line: 1, .. }), "{e}");
        let e = read_jsonl("{\"name\": \"x\"}\n").expect_err("foreign");
        assert!(matches!(e, ReadError::Foreign { line: 1, .. }), "{e}");
        assert!(e.to_string().contains("ligne 1"));
        let swapped: Vec<&str> = TWO.lines().rev().collect();
        let e = read_jsonl(&swapped.join("\n")).expect_err("order");
        assert!(matches!(e, ReadError::OutOfOrder { line: 2, .. }), "{e}");
        assert_eq!(read_jsonl("").expect("empty"), vec![]);
    }
}
