//! ECO.1.0.1 — « Le système DOIT disposer d'une interface d'envoi de messages utilisant le
//! protocole SMTP conforme à la RFC 5321 avec STARTTLS comme défini dans le RFC 3207. »
//!
//! Reading taken, on every SMTP connection of the client:
//! - in clear, only what RFC 3207 needs before the upgrade or what carries nothing: `EHLO`,
//!   `HELO`, `STARTTLS`, `NOOP`, `RSET`, `QUIT`. An `AUTH`, `MAIL`… in clear fails, even when
//!   the operator refused it: the data travelled unencrypted.
//! - nothing sent after `STARTTLS` before the handshake (RFC 3207 §4.2, CVE-2011-0411);
//! - `EHLO` (or `HELO`) again first inside TLS, before `AUTH` or a transaction: the server
//!   forgets the session after STARTTLS (RFC 3207 §4.2) and a session with mail transactions
//!   MUST be initialized with it (RFC 5321 §4.1.4);
//! - the interface works: the messages the system was asked to send were accepted, inside TLS.
//!
//! A submission that did not happen fails only when STARTTLS was never used; when the TLS
//! handshake failed (set-up: the test root not trusted), the authentication was refused (judged
//! by ECO.1.2.1 / ECO.1.3.1) or the operator refused the transaction, the interface is not
//! shown: `NotTested`, with the reason. No SMTP connection at all is `NotTested`, never a pass.

use evidence::Service;

use crate::Finding;
use crate::session::{self, Expectation, Problems, SessionEvidence};

/// The requirement.
pub const ID: &str = "ECO.1.0.1";

/// SMTP verbs that may travel in clear.
pub const CLEAR: &[&str] = &["EHLO", "HELO", "STARTTLS", "NOOP", "RSET", "QUIT"];

/// Judges the SMTP connections of a session.
pub fn check(evidence: &SessionEvidence, expected: &Expectation) -> Finding {
    let conns = session::protocol_connections(evidence, Service::Smtp, expected);
    if conns.is_empty() {
        return Finding::not_tested(ID, "le système n'a ouvert aucune connexion SMTP");
    }
    let mut problems = Problems::default();
    for conn in &conns {
        session::clear_text(conn, CLEAR, &mut problems);
        session::injected(conn, &mut problems);
        session::ehlo_after_tls(conn, &mut problems);
    }
    if let Some(failure) = problems.into_failure(ID, evidence) {
        return failure;
    }
    let accepted: Vec<_> = conns
        .iter()
        .flat_map(|c| c.accepted_messages().into_iter().map(move |m| (c, m)))
        .filter(|(_, m)| session::from_this_bal(expected, m))
        .collect();
    if accepted.len() < expected.submissions.max(1) {
        let what = format!(
            "la soumission ({} message(s) accepté(s) sur {})",
            accepted.len(),
            expected.submissions.max(1)
        );
        // Offline, nothing says a message was meant to be sent: only what was sent is judged.
        if expected.submissions > 0 {
            return session::shortfall(&conns).finding(ID, &what, evidence);
        }
    }
    let Some((worker, _)) = accepted.first() else {
        return Finding::not_tested(
            ID,
            "aucun message soumis sur les connexions SMTP observées : rien ne montre l'envoi",
        );
    };
    Finding::pass(
        ID,
        format!(
            "{} message(s) soumis dans TLS après STARTTLS ; {} connexion(s) SMTP, en clair \
             seulement {} ; connexion {} : {}",
            accepted.len(),
            conns.len(),
            session::clear_verbs(&conns),
            worker.id,
            session::path(worker)
        ),
    )
}

/// The negative: while the operator advertises no STARTTLS, the system sends no credential and
/// no mail command in clear over SMTP (see `transport::nothing_in_clear`).
pub fn check_no_starttls(evidence: &SessionEvidence, expected: &Expectation) -> Finding {
    crate::transport::nothing_in_clear(ID, evidence, expected, Service::Smtp)
}
