//! The journal: every observable thing the system under test did to the operator, as typed
//! events, appended in order. It is the evidence of the conformance reports.
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

use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::watch;

/// Identifies one TCP connection in the journal.
pub type ConnId = u64;

/// Which protocol a listener speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// SMTP submission.
    Smtp,
    /// IMAP.
    Imap,
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Service::Smtp => "SMTP",
            Service::Imap => "IMAP",
        })
    }
}

/// The two entry points of the API LPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryPoint {
    /// Personal and organisational BALs, Pro Santé Connect tokens over SASL XOAUTH2.
    Psc,
    /// Application BALs, ORG AUTH_CLI client certificate then SASL PLAIN.
    App,
}

/// Who ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedBy {
    /// The client closed (or QUIT/LOGOUT).
    Client,
    /// The operator closed (error, timeout, fault, shutdown).
    Operator,
}

/// A cipher suite as seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suite {
    /// IANA code point.
    pub code: u16,
    /// IANA name, when known.
    pub name: String,
}

/// What a client offered in its ClientHello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientHelloSummary {
    /// Versions the client accepts (supported_versions, or the legacy version alone).
    pub versions: Vec<String>,
    /// Offered cipher suites, in the client's order.
    pub cipher_suites: Vec<Suite>,
    /// Offered key exchange groups.
    pub groups: Vec<String>,
    /// Server name indication.
    pub sni: Option<String>,
}

/// Summary of a client certificate and what the operator made of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientCertificate {
    /// The certificate.
    pub summary: pki::inspect::CertSummary,
    /// `None` when it chains to the fake IGC Santé and is valid; the reason otherwise.
    pub rejected: Option<String>,
}

/// Outcome of an authentication attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Authenticated.
    Accepted,
    /// Refused.
    Refused,
}

/// The claims of an access token worth showing (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenSummary {
    /// Issuer.
    pub iss: String,
    /// Authorised party (the LPS's client ID).
    pub azp: String,
    /// National ID of the professional.
    pub preferred_username: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Token ID.
    pub jti: String,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// The operator's TLS profile was switched.
    TlsProfileChanged {
        /// The new profile.
        profile: crate::tls::TlsProfile,
    },
    /// The operator's faults were switched.
    FaultsChanged {
        /// The faults now in force.
        faults: crate::faults::Faults,
    },
    /// The operator injected a fault into this connection.
    FaultInjected {
        /// What it did (French, for the reports).
        fault: String,
    },
    /// A listener is ready.
    ListenerReady {
        /// Protocol.
        service: Service,
        /// Entry point.
        entry: EntryPoint,
        /// Bound address.
        addr: SocketAddr,
    },
    /// A client connected.
    ConnectionOpened {
        /// Protocol.
        service: Service,
        /// Entry point.
        entry: EntryPoint,
        /// Client address.
        peer: SocketAddr,
    },
    /// A connection ended.
    ConnectionClosed {
        /// Who ended it.
        by: ClosedBy,
        /// Why, when the operator ended it.
        reason: Option<String>,
    },
    /// A command (or SASL line) from the client, credentials redacted.
    Command {
        /// Protocol.
        service: Service,
        /// Whether it travelled inside TLS.
        tls: bool,
        /// Verb, upper case (`EHLO`, `AUTHENTICATE`...); empty for SASL continuation lines.
        verb: String,
        /// The line as received, credentials redacted.
        line: String,
    },
    /// A reply from the operator (first line only for multi-line replies).
    Reply {
        /// Protocol.
        service: Service,
        /// Whether it travelled inside TLS.
        tls: bool,
        /// The reply.
        line: String,
    },
    /// Bytes the client sent after STARTTLS but before the TLS handshake: discarded.
    InjectionDiscarded {
        /// How many bytes.
        bytes: usize,
    },
    /// A ClientHello was received.
    TlsClientHello(ClientHelloSummary),
    /// The TLS handshake completed.
    TlsEstablished {
        /// Negotiated version.
        version: String,
        /// Negotiated suite.
        cipher_suite: Suite,
        /// Negotiated key exchange group.
        group: Option<String>,
        /// Client certificate, when one was presented.
        client_certificate: Option<ClientCertificate>,
    },
    /// The TLS handshake failed (the client aborted, or sent something else).
    TlsFailed {
        /// The error, as the TLS stack reported it.
        error: String,
    },
    /// An authentication attempt.
    Auth {
        /// Protocol.
        service: Service,
        /// SASL mechanism as named by the client.
        mechanism: String,
        /// Whether it happened inside TLS.
        tls: bool,
        /// The BAL the client asked for, when it could be read.
        user: Option<String>,
        /// Whether the SASL string had the exact form the référentiel prescribes.
        format_ok: bool,
        /// The client presented again a token the operator had already refused.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        retried_refused_token: bool,
        /// Claims of the access token (XOAUTH2).
        token: Option<TokenSummary>,
        /// Decision.
        verdict: Verdict,
        /// Why it was refused (French, for the reports).
        reason: Option<String>,
    },
    /// A message was accepted and stored.
    MessageAccepted {
        /// Envelope sender.
        mail_from: String,
        /// Envelope recipients.
        rcpt_to: Vec<String>,
        /// Size in bytes.
        size: u64,
        /// `Message-ID` header, if any.
        message_id: Option<String>,
        /// `Subject` header, if any.
        subject: Option<String>,
        /// Where the message, as received, is stored.
        path: String,
        /// Local BALs it was delivered to.
        delivered_to: Vec<String>,
    },
    /// An HTTP request from a client (autoconfig, CRL, OCSP, Pro Santé Connect).
    HttpRequest {
        /// Over HTTPS.
        tls: bool,
        /// Method.
        method: String,
        /// `Host` header.
        host: Option<String>,
        /// Path.
        path: String,
        /// Status of the answer.
        status: u16,
    },
    /// A grant at the fake Pro Santé Connect's token endpoint.
    PscGrant {
        /// `authorization_code`, `refresh_token`, CIBA...
        grant_type: String,
        /// The LPS's client ID.
        client_id: Option<String>,
        /// The professional, when known.
        professional: Option<String>,
        /// The OAuth error when refused.
        error: Option<String>,
    },
    /// Sessions of a professional ended at the fake Pro Santé Connect.
    PscSessionEnded {
        /// National ID.
        professional: String,
        /// How many sessions.
        sessions: usize,
        /// Who ended them (`harnais`, `logout`, `revoke`).
        by: String,
    },
    /// A DNS query to the operator's responder.
    DnsQuery {
        /// Who asked.
        peer: SocketAddr,
        /// The name, lower case.
        name: String,
        /// The record type (`A`, `AAAA`...).
        record_type: String,
        /// The address answered, if any.
        answer: Option<std::net::IpAddr>,
    },
    /// The OCSP responder answered.
    OcspAnswered {
        /// Serial (hexadecimal) and status (`good`, `revoked`, `unknown`) of each certificate
        /// asked about; empty for a malformed request.
        certificates: Vec<(String, String)>,
    },
    /// The operator delivered a delivery status notification (RFC 3464) to a sender.
    DsnSent {
        /// The sender's BAL.
        to: String,
        /// The recipients it reports on.
        recipients: Vec<String>,
    },
    /// The harness (or the control API) put a message into a BAL.
    MessageInjected {
        /// The BAL.
        bal: String,
        /// `Message-ID` header, if any.
        message_id: Option<String>,
        /// Stored path.
        path: String,
    },
    /// A client stored a message with IMAP APPEND (e.g. a copy of what it sent, in `Sent`).
    MessageAppended {
        /// The BAL.
        bal: String,
        /// The mailbox.
        mailbox: String,
        /// The UID it got.
        uid: u32,
        /// `Message-ID` header, if any.
        message_id: Option<String>,
    },
    /// A message was fetched over IMAP.
    MessageFetched {
        /// The BAL.
        bal: String,
        /// The mailbox (`INBOX`, `Sent`, `Drafts`, `Trash`).
        mailbox: String,
        /// Its UID.
        uid: u32,
        /// `Message-ID` header, if any.
        message_id: Option<String>,
        /// Whether the body (not only metadata) was sent.
        body: bool,
    },
    /// A client changed the flags of a message (IMAP STORE, or a non-peek body fetch setting
    /// `\Seen`).
    FlagsChanged {
        /// The BAL.
        bal: String,
        /// The mailbox.
        mailbox: String,
        /// The message's UID.
        uid: u32,
        /// Its flags now, as IMAP writes them (`\Seen`, `\Deleted`…).
        flags: Vec<String>,
    },
    /// Messages were copied (IMAP COPY) or moved (MOVE) to another mailbox of the BAL.
    MessagesCopied {
        /// The BAL.
        bal: String,
        /// Source mailbox.
        from: String,
        /// Destination mailbox.
        to: String,
        /// (source UID, destination UID) of each message.
        uids: Vec<(u32, u32)>,
        /// Whether the sources were removed (MOVE).
        moved: bool,
    },
    /// A message was removed for good (IMAP EXPUNGE, CLOSE, MOVE).
    MessageExpunged {
        /// The BAL.
        bal: String,
        /// The mailbox.
        mailbox: String,
        /// Its UID.
        uid: u32,
    },
}

/// One journal entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Position in the journal, from 1.
    pub seq: u64,
    /// When it was recorded (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Connection it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conn: Option<ConnId>,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

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
