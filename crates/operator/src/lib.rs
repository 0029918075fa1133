//! The mock MSSanté operator: the API LPS an editor's software is tested against.
//!
//! [`Operator::start`] binds the SMTP submission and IMAP listeners of both entry points (Pro
//! Santé Connect with XOAUTH2; application mailboxes with an ORG AUTH_CLI certificate and PLAIN),
//! all with STARTTLS, and returns an [`OperatorHandle`]: the addresses, the [`Journal`] of
//! everything the client did, the fake Pro Santé Connect, and message injection.
//!
//! The operator never depends on the reference client: they meet only on the wire.

mod auth;
mod conn;
pub mod directory;
mod dns;
pub mod dsn;
pub mod faults;
mod http;
mod imap;
pub mod journal;
pub mod mes;
pub mod psc;
pub mod sasl;
mod server;
mod smtp;
pub mod store;
pub mod tls;

pub use directory::Directory;
pub use faults::Faults;
pub use journal::{EntryPoint, Event, EventKind, Journal, Service};
pub use server::{
    Addresses, Limits, Listen, MesAction, Operator, OperatorConfig, OperatorError, OperatorHandle,
    Policy, Shared,
};
pub use tls::TlsProfile;
