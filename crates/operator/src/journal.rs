//! The journal: every observable thing the system under test did to the operator, as typed
//! events (the vocabulary of the `evidence` crate), appended in order. It is the evidence of the
//! conformance reports.
//!
//! Tests and scenarios never sleep: they [`Journal::wait_for`] an event matching a predicate,
//! with a timeout. Credentials never enter the journal: commands carrying them are redacted
//! before they are recorded.
//!
//! Memory stays bounded: only the most recent events are held (`capacity`, 100,000 by
//! default, ~70 MB); older ones live on in the JSON-lines file when there is one. That file is
//! never truncated: an existing one is rotated (`journal.jsonl` → `journal.jsonl.1` … `.5`) when
//! the operator starts, and again whenever it grows past `max_file_bytes`.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
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

/// The events held in memory: the most recent ones.
struct Held {
    events: VecDeque<Arc<Event>>,
    /// Sequence number of the last event recorded (held or not).
    last_seq: u64,
    capacity: usize,
}

/// The JSON-lines copy, rotated by size.
struct Sink {
    path: PathBuf,
    out: BufWriter<File>,
    written: u64,
    max_bytes: u64,
}

/// How many rotated copies of the journal file are kept.
const ROTATED: u32 = 5;

/// Default number of events held in memory.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// Default size past which the journal file is rotated.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

impl Sink {
    /// Opens `path` for a new journal, rotating what is there (never truncating it).
    fn open(path: &Path, max_bytes: u64) -> std::io::Result<Sink> {
        if path.metadata().is_ok_and(|m| m.len() > 0) {
            rotate(path)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Sink {
            path: path.to_owned(),
            out: BufWriter::new(file),
            written: 0,
            max_bytes,
        })
    }

    fn write(&mut self, line: &str) {
        if self.written > 0 && self.written + line.len() as u64 + 1 > self.max_bytes {
            // Rotation failing must not stop the operator: keep writing where we are.
            let _ = self.out.flush();
            if rotate(&self.path).is_ok()
                && let Ok(file) = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)
            {
                self.out = BufWriter::new(file);
                self.written = 0;
            }
        }
        if writeln!(self.out, "{line}")
            .and_then(|()| self.out.flush())
            .is_ok()
        {
            self.written += line.len() as u64 + 1;
        }
    }
}

/// `journal.jsonl` → `.1`, `.1` → `.2` … the oldest beyond `.5` dropped.
fn rotate(path: &Path) -> std::io::Result<()> {
    let numbered = |n: u32| {
        let mut p = path.as_os_str().to_owned();
        p.push(format!(".{n}"));
        PathBuf::from(p)
    };
    for n in (1..ROTATED).rev() {
        if numbered(n).exists() {
            std::fs::rename(numbered(n), numbered(n + 1))?;
        }
    }
    std::fs::rename(path, numbered(1))
}

struct Inner {
    held: Mutex<Held>,
    sink: Mutex<Option<Sink>>,
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
    /// An empty journal kept in memory, holding the default number of recent events.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }

    /// An empty journal holding at most `capacity` recent events in memory (at least 1,000).
    pub fn with_capacity(capacity: usize) -> Self {
        let (notify, _) = watch::channel(0);
        Journal {
            inner: Arc::new(Inner {
                held: Mutex::new(Held {
                    events: VecDeque::new(),
                    last_seq: 0,
                    capacity: capacity.max(1_000),
                }),
                sink: Mutex::new(None),
                notify,
                next_conn: AtomicU64::new(1),
            }),
        }
    }

    /// An empty journal that also appends each event as a JSON line to `path` (an existing
    /// file is rotated, never truncated), with the default limits.
    pub fn with_file(path: &Path) -> std::io::Result<Self> {
        Self::with_file_limits(path, DEFAULT_CAPACITY, DEFAULT_MAX_FILE_BYTES)
    }

    /// [`Journal::with_file`] with the number of events held in memory and the size past
    /// which the file is rotated.
    pub fn with_file_limits(
        path: &Path,
        capacity: usize,
        max_file_bytes: u64,
    ) -> std::io::Result<Self> {
        let journal = Self::with_capacity(capacity);
        *lock(&journal.inner.sink) = Some(Sink::open(path, max_file_bytes.max(4096))?);
        Ok(journal)
    }

    /// A fresh connection identifier.
    pub fn new_conn(&self) -> ConnId {
        self.inner.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Appends an event and wakes the waiters. Returns its sequence number.
    pub fn record(&self, conn: Option<ConnId>, kind: EventKind) -> u64 {
        let seq = {
            let mut held = lock(&self.inner.held);
            let seq = held.last_seq + 1;
            let event = Arc::new(Event {
                seq,
                at: OffsetDateTime::now_utc(),
                conn,
                kind,
            });
            if let Some(sink) = lock(&self.inner.sink).as_mut() {
                // The file is a copy for humans and for judging later; serialising these
                // plain structs cannot fail.
                if let Ok(line) = serde_json::to_string(&*event) {
                    sink.write(&line);
                }
            }
            held.events.push_back(event);
            held.last_seq = seq;
            while held.events.len() > held.capacity {
                held.events.pop_front();
            }
            seq
        };
        self.inner.notify.send_replace(seq);
        seq
    }

    /// Sequence number of the last event recorded (the number of events so far).
    pub fn len(&self) -> usize {
        usize::try_from(lock(&self.inner.held).last_seq).unwrap_or(usize::MAX)
    }

    /// Whether nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many of the oldest events are no longer held in memory.
    pub fn dropped(&self) -> u64 {
        let held = lock(&self.inner.held);
        held.last_seq - held.events.len() as u64
    }

    /// A copy of every event held.
    pub fn snapshot(&self) -> Vec<Arc<Event>> {
        lock(&self.inner.held).events.iter().cloned().collect()
    }

    /// Events held with a sequence number greater than `after`.
    pub fn since(&self, after: u64) -> Vec<Arc<Event>> {
        let held = lock(&self.inner.held);
        let first = held.last_seq - held.events.len() as u64 + 1;
        let skip = usize::try_from(after.saturating_add(1).saturating_sub(first))
            .unwrap_or(usize::MAX)
            .min(held.events.len());
        held.events.range(skip..).cloned().collect()
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

    /// Writes the events held as JSON lines.
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
    fn memory_holds_only_the_recent_events() {
        let journal = Journal::with_capacity(1_000);
        for _ in 0..2_500 {
            journal.record(Some(1), closed());
        }
        assert_eq!(journal.len(), 2_500);
        assert_eq!(journal.snapshot().len(), 1_000);
        assert_eq!(journal.dropped(), 1_500);
        assert_eq!(journal.snapshot()[0].seq, 1_501);
        assert_eq!(journal.since(2_498).len(), 2);
        assert_eq!(
            journal.since(0).len(),
            1_000,
            "older ones are gone from memory"
        );
        assert_eq!(journal.since(2_500).len(), 0);
    }

    #[test]
    fn the_file_is_rotated_never_truncated() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("journal.jsonl");
        std::fs::write(&path, "{\"earlier\": \"run\"}\n").expect("write");
        let journal = Journal::with_file_limits(&path, 1_000, 4096).expect("file");
        let kept = std::fs::read_to_string(dir.path().join("journal.jsonl.1")).expect(".1");
        assert!(
            kept.contains("earlier"),
            "the crashed run's journal survives"
        );
        for _ in 0..100 {
            journal.record(Some(1), closed());
        }
        // 100 lines of ~100 bytes past a 4 KiB limit: rotated again while running.
        let current = std::fs::read_to_string(&path).expect("current");
        assert!(current.len() <= 4096, "{}", current.len());
        assert!(dir.path().join("journal.jsonl.2").exists());
        let events = evidence::read_jsonl(&current).expect("a readable journal");
        assert_eq!(events.last().map(|e| e.seq), Some(100));
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
