//! ECO.1.0.2 — « Le système DOIT disposer d'une interface d'accès aux BAL utilisant le protocole
//! IMAP 4 (rev1 ou rev2) conforme respectivement à la RFC 3501 ou RFC 9051 avec STARTTLS comme
//! défini dans la RFC 5246. »
//!
//! The text cites RFC 5246 (TLS 1.2) for STARTTLS; IMAP's STARTTLS is RFC 3501 §6.2.1 / RFC
//! 9051 §6.2.1 (RFC 2595): both are read together. Reading taken, on every IMAP connection:
//! - in clear, only `CAPABILITY`, `STARTTLS`, `NOOP`, `ID` (client identification, no
//!   credential) and `LOGOUT`; `AUTHENTICATE`, `LOGIN`, `SELECT`… in clear fail even when
//!   refused;
//! - nothing sent after `STARTTLS` before the handshake;
//! - the access works: every message the harness delivered was fetched (headers or body).
//!
//! A message not read fails only when STARTTLS was never used; otherwise (TLS handshake
//! failed, authentication refused, nothing fetched after it) the access is not shown:
//! `NotTested`, with the reason.
//!
//! A client that keeps its connection open (IDLE) is judged on what it did so far. No IMAP
//! connection at all is `NotTested`.

use evidence::{EventKind, Service};

use crate::Finding;
use crate::session::{self, Expectation, Problems, SessionEvidence};

/// The requirement.
pub const ID: &str = "ECO.1.0.2";

/// IMAP verbs that may travel in clear.
pub const CLEAR: &[&str] = &["CAPABILITY", "STARTTLS", "NOOP", "ID", "LOGOUT"];

/// Judges the IMAP connections of a session.
pub fn check(evidence: &SessionEvidence, expected: &Expectation) -> Finding {
    let conns = session::protocol_connections(evidence, Service::Imap, expected);
    if conns.is_empty() {
        return Finding::not_tested(ID, "le système n'a ouvert aucune connexion IMAP");
    }
    let mut problems = Problems::default();
    for conn in &conns {
        session::clear_text(conn, CLEAR, &mut problems);
        session::injected(conn, &mut problems);
    }
    if let Some(failure) = problems.into_failure(ID, evidence) {
        return failure;
    }
    let mut fetched = Vec::new();
    let ours: std::collections::BTreeSet<u64> = conns.iter().map(|c| c.id).collect();
    for id in &expected.delivered {
        let fetched_here: Vec<_> = evidence
            .fetched(id)
            .into_iter()
            .filter(|e| e.conn.is_some_and(|c| ours.contains(&c)))
            .collect();
        match fetched_here.first() {
            Some(e) => fetched.push((id.clone(), e.conn)),
            None => {
                let what = format!("la lecture du message <{id}> déposé dans la BAL");
                return session::shortfall(&conns).finding(ID, &what, evidence);
            }
        }
    }
    // Offline, or nothing delivered: some mailbox access inside TLS must show the interface.
    let worker = match fetched.first() {
        Some((_, conn)) => conns.iter().find(|c| Some(c.id) == *conn),
        None => conns.iter().find(|c| {
            c.events
                .iter()
                .any(|e| matches!(e.kind, EventKind::MessageFetched { .. }))
        }),
    };
    let Some(worker) = worker else {
        return Finding::not_tested(
            ID,
            "aucune lecture de message sur les connexions IMAP observées : rien ne montre l'accès à la BAL",
        );
    };
    Finding::pass(
        ID,
        format!(
            "{} ; {} connexion(s) IMAP, en clair seulement {} ; connexion {} : {}",
            if fetched.is_empty() {
                "messages lus dans TLS après STARTTLS".to_owned()
            } else {
                format!(
                    "{} message(s) déposé(s) lu(s) dans TLS après STARTTLS",
                    fetched.len()
                )
            },
            conns.len(),
            session::clear_verbs(&conns),
            worker.id,
            session::path(worker)
        ),
    )
}

/// The negative: while the operator advertises no STARTTLS, the system sends no credential and
/// no mail command in clear over IMAP (see `transport::nothing_in_clear`).
pub fn check_no_starttls(evidence: &SessionEvidence, expected: &Expectation) -> Finding {
    crate::transport::nothing_in_clear(ID, evidence, expected, Service::Imap)
}
