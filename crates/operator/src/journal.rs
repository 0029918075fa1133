//! The journal: every observable thing the system under test did to the operator, as typed
//! events (the vocabulary of the `evidence` crate), appended in order. It is the evidence of the
//! conformance reports.
//!
//! Tests and scenarios never sleep: they [`Journal::wait_for`] an event matching a predicate,
//! with a timeout. Credentials never enter the journal: commands carrying them are redacted
//! before they are recorded.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;

pub use evidence::{
    AuthVerdict, CertificateSummary, ClientCertificate, ClientHelloSummary, ClosedBy, ConnId,
    EntryPoint, Event, EventKind, Service, Suite, TokenSummary,
};

/// A wait that ended without a matching event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no matching journal event within {0:?}")]
pub struct WaitTimeout(pub Duration);

struct Inner {
    events: Mutex<Vec<Arc<Event>>>,
    sink: Mutex<Option<BufWriter<File>>>,
    notify: watch::Sender<u64>,
    next_conn: AtomicU64,
}

/// The journal. Cheap to clone; all clones share the same events.
#[derive(Clone)]
pub struct Journal {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Journal({} events)", self.len())
    }
}

impl Default for Journal {
    fn default() -> Self {
        Self::new()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a Vec half-pushed: keep going.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Journal {
    /// An empty journal kept in memory.
    pub fn new() -> Self {
        let (notify, _) = watch::channel(0);
        Journal {
            inner: Arc::new(Inner {
                events: Mutex::new(Vec::new()),
                sink: Mutex::new(None),
                notify,
                next_conn: AtomicU64::new(1),
            }),
        }
    }

    /// An empty journal that also appends each event as a JSON line to `path`.
    pub fn with_file(path: &Path) -> std::io::Result<Self> {
        let journal = Self::new();
        let file = File::create(path)?;
        *lock(&journal.inner.sink) = Some(BufWriter::new(file));
        Ok(journal)
    }

    /// A fresh connection identifier.
    pub fn new_conn(&self) -> ConnId {
        self.inner.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Appends an event and wakes the waiters. Returns its sequence number.
    pub fn record(&self, conn: Option<ConnId>, kind: EventKind) -> u64 {
        let seq = {
            let mut events = lock(&self.inner.events);
            let seq = events.len() as u64 + 1;
            let event = Arc::new(Event {
                seq,
                at: OffsetDateTime::now_utc(),
                conn,
                kind,
            });
            if let Some(sink) = lock(&self.inner.sink).as_mut() {
                // The file is a copy for humans; the in-memory journal stays authoritative.
                if let Ok(line) = serde_json::to_string(&*event) {
                    let _ = writeln!(sink, "{line}").and_then(|()| sink.flush());
                }
            }
            events.push(event);
            seq
        };
        self.inner.notify.send_replace(seq);
        seq
    }

    /// Number of events so far.
    pub fn len(&self) -> usize {
        lock(&self.inner.events).len()
    }

    /// Whether nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of every event so far.
    pub fn snapshot(&self) -> Vec<Arc<Event>> {
        lock(&self.inner.events).clone()
    }

    /// Events with a sequence number greater than `after`.
    pub fn since(&self, after: u64) -> Vec<Arc<Event>> {
        let events = lock(&self.inner.events);
        events
            .get(
                usize::try_from(after)
                    .unwrap_or(usize::MAX)
                    .min(events.len())..,
            )
            .map(<[_]>::to_vec)
            .unwrap_or_default()
    }

    /// Waits for the first event after `after` that matches `pred`.
    pub async fn wait_for<F>(
        &self,
        after: u64,
        timeout: Duration,
        pred: F,
    ) -> Result<Arc<Event>, WaitTimeout>
    where
        F: Fn(&Event) -> bool,
    {
        let mut rx = self.inner.notify.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        let mut checked = after;
        loop {
            // Mark the current value seen before scanning, so no event slips between the two.
            rx.borrow_and_update();
            for event in self.since(checked) {
                checked = event.seq;
                if pred(&event) {
                    return Ok(event);
                }
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                // The sender lives as long as `self`: `Err` cannot happen; treat it as a timeout.
                Ok(Err(_)) | Err(_) => return Err(WaitTimeout(timeout)),
            }
        }
    }

    /// Writes the whole journal as JSON lines.
    pub fn write_jsonl(&self, path: &Path) -> std::io::Result<()> {
        let mut out = BufWriter::new(File::create(path)?);
        for event in self.snapshot() {
            serde_json::to_writer(&mut out, &*event)?;
            out.write_all(b"\n")?;
        }
        out.flush()
    }
}

/// The journal as seen from one connection: every event carries its ID.
#[derive(Debug, Clone)]
pub struct ConnJournal {
    journal: Journal,
    conn: ConnId,
    service: Service,
}

impl ConnJournal {
    /// Opens a connection in the journal.
    pub fn open(journal: &Journal, service: Service, entry: EntryPoint, peer: SocketAddr) -> Self {
        let conn = journal.new_conn();
        journal.record(
            Some(conn),
            EventKind::ConnectionOpened {
                service,
                entry,
                peer,
            },
        );
        ConnJournal {
            journal: journal.clone(),
            conn,
            service,
        }
    }

    /// The connection's ID.
    pub fn conn(&self) -> ConnId {
        self.conn
    }

    /// The connection's protocol.
    pub fn service(&self) -> Service {
        self.service
    }

    /// Records an event of this connection.
    pub fn record(&self, kind: EventKind) -> u64 {
        self.journal.record(Some(self.conn), kind)
    }

    /// Records a client command (already redacted).
    pub fn command(&self, tls: bool, verb: &str, line: &str) {
        self.record(EventKind::Command {
            service: self.service,
            tls,
            verb: verb.to_owned(),
            line: line.to_owned(),
        });
    }

    /// Records an operator reply.
    pub fn reply(&self, tls: bool, line: &str) {
        self.record(EventKind::Reply {
            service: self.service,
            tls,
            line: line.to_owned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed() -> EventKind {
        EventKind::ConnectionClosed {
            by: ClosedBy::Client,
            reason: None,
        }
    }

    #[tokio::test]
    async fn wait_for_sees_past_and_future_events() {
        let journal = Journal::new();
        journal.record(Some(1), closed());
        let found = journal
            .wait_for(0, Duration::from_secs(1), |e| e.conn == Some(1))
            .await
            .expect("past event");
        assert_eq!(found.seq, 1);

        let writer = journal.clone();
        let task = tokio::spawn(async move {
            writer.record(Some(2), closed());
        });
        let found = journal
            .wait_for(1, Duration::from_secs(5), |e| e.conn == Some(2))
            .await
            .expect("future event");
        assert_eq!(found.seq, 2);
        task.await.expect("task");
    }

    #[tokio::test]
    async fn wait_for_times_out_without_a_match() {
        let journal = Journal::new();
        journal.record(Some(1), closed());
        let r = journal
            .wait_for(0, Duration::from_millis(20), |e| e.conn == Some(9))
            .await;
        assert_eq!(r, Err(WaitTimeout(Duration::from_millis(20))));
        // `after` skips what was already seen.
        let r = journal
            .wait_for(1, Duration::from_millis(20), |e| e.conn == Some(1))
            .await;
        assert!(r.is_err());
    }

    #[test]
    fn events_serialise_as_flat_json_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("journal.jsonl");
        let journal = Journal::with_file(&path).expect("file");
        journal.record(
            Some(3),
            EventKind::Command {
                service: Service::Smtp,
                tls: false,
                verb: "EHLO".into(),
                line: "EHLO client".into(),
            },
        );
        let text = std::fs::read_to_string(&path).expect("read");
        let value: serde_json::Value = serde_json::from_str(text.trim()).expect("json");
        assert_eq!(value["type"], "command");
        assert_eq!(value["verb"], "EHLO");
        assert_eq!(value["conn"], 3);
        assert_eq!(value["seq"], 1);
    }
}
