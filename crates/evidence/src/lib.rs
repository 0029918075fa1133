//! The evidence vocabulary: what the mock operator observed of a client, as typed events.
//!
//! The operator writes these events into its journal; the `rules` crate judges them; the
//! harness collects them and shows them in the reports. This crate does no I/O and does not
//! know who wrote the events: a journal recorded yesterday by `mss-operator --journal` reads
//! exactly like the one of a scenario that just ran ([`read_jsonl`]).
//!
//! [`SessionEvidence`] is the view the rules take: the events grouped by connection, with the
//! phases a judgement needs (what travelled in clear, the TLS handshake, the SASL exchange,
//! what came after), and French transcripts of a connection for the explanations.

mod event;
pub mod faults;
mod read;
mod session;

pub use event::{
    AuthVerdict, CertificateSummary, ClientCertificate, ClientHelloSummary, ClosedBy, ConnId,
    EntryPoint, Event, EventKind, Service, Suite, TokenSummary,
};
pub use faults::{Faults, Outage};
pub use read::{ReadError, read_jsonl, to_jsonl};
pub use session::{Connection, SessionEvidence, describe, strip_brackets};
