//! ECO.1.2.6 — « Dès que le Refresh Token PSC de l'utilisateur connecté devient invalide (durée
//! de vie maximale atteinte, déconnexion PSC, ...), le système DOIT déclencher la fin de session
//! IMAP et SMTP avec le serveur de messagerie. »
//!
//! Reading taken (VERIFICATION.md §1): the harness ends the professional's sessions at the fake
//! Pro Santé Connect (the refresh token becomes invalid) while the system holds an
//! authenticated session on the BAL's entry point. Every such session still open at that
//! moment must be closed by the system (LOGOUT/QUIT or closing the connection) within the
//! scenario's delay; none may authenticate again afterwards (its tokens are dead). A session
//! the operator closed itself proves nothing either way. With no session open when the PSC
//! session ended, there is nothing to close: `non testé`.

use std::time::Duration;

use evidence::{AuthVerdict, ClosedBy, EventKind};

use crate::Finding;
use crate::session::{Expectation, SessionEvidence, for_this_bal};

/// The requirement.
pub const ID: &str = "ECO.1.2.6";

/// The system closed its sessions within `delay` of the end of the PSC session.
pub fn check(evidence: &SessionEvidence, expected: &Expectation, delay: Duration) -> Finding {
    let events = evidence.events();
    let Some((t0, ended)) = events.iter().enumerate().find_map(|(i, e)| match &e.kind {
        EventKind::PscSessionEnded { professional, .. } => Some((i, (e.at, professional.clone()))),
        _ => None,
    }) else {
        return Finding::not_tested(
            ID,
            "la session Pro Santé Connect n'a pas pris fin pendant le scénario",
        );
    };
    let (at, professional) = ended;
    let before: std::collections::HashSet<u64> =
        events[..t0].iter().filter_map(|e| e.conn).collect();
    let mut held = Vec::new();
    let mut problems = Vec::new();
    let mut closed = Vec::new();
    for conn in evidence.connections() {
        if expected.entry.is_some_and(|x| x != conn.entry) {
            continue;
        }
        let open_at_end = before.contains(&conn.id)
            && conn
                .events
                .iter()
                .find(|e| matches!(e.kind, EventKind::ConnectionClosed { .. }))
                .is_none_or(|e| e.at >= at);
        // A session the client was already leaving (LOGOUT, QUIT sent) was not held.
        let leaving = conn.events.iter().any(|e| {
            e.at < at
                && matches!(&e.kind, EventKind::Command { verb, .. }
                    if verb.eq_ignore_ascii_case("LOGOUT") || verb.eq_ignore_ascii_case("QUIT"))
        });
        let authenticated_as_bal = !leaving && conn.events.iter().any(|e| {
            e.at < at
                && matches!(&e.kind, EventKind::Auth { verdict: AuthVerdict::Accepted, user, .. }
                    if for_this_bal(expected, user.as_deref()))
        });
        if open_at_end && authenticated_as_bal {
            held.push(conn.id);
            let service = format!("{:?}", conn.service).to_uppercase();
            match conn.closed() {
                None => problems.push(format!(
                    "connexion {} ({service}) toujours ouverte après la fin de la session PSC",
                    conn.id
                )),
                Some((by, _)) => {
                    let close = conn
                        .events
                        .iter()
                        .find(|e| matches!(e.kind, EventKind::ConnectionClosed { .. }))
                        .map(|e| e.at);
                    let after = close
                        .map(|c| (c - at).as_seconds_f64().max(0.0))
                        .unwrap_or_default();
                    match by {
                        ClosedBy::Operator => problems.push(format!(
                            "connexion {} ({service}) fermée par l'opérateur et non par le système",
                            conn.id
                        )),
                        ClosedBy::Client if after > delay.as_secs_f64() => problems.push(format!(
                            "connexion {} ({service}) fermée {after:.1} s après la fin de la session PSC (délai {} s)",
                            conn.id,
                            delay.as_secs_f64()
                        )),
                        ClosedBy::Client => {
                            closed.push(format!("connexion {} ({service}) fermée en {after:.1} s", conn.id))
                        }
                    }
                }
            }
        }
        // No new session on the dead tokens.
        for e in &conn.events {
            if e.at > at
                && matches!(&e.kind, EventKind::Auth { verdict: AuthVerdict::Accepted, token: Some(t), .. }
                    if t.preferred_username == professional)
            {
                problems.push(format!(
                    "connexion {} authentifiée après la fin de la session PSC",
                    conn.id
                ));
            }
        }
    }
    if held.is_empty() && problems.is_empty() {
        return Finding::not_tested(
            ID,
            "le système n'avait aucune session IMAP ou SMTP authentifiée ouverte quand la session \
             Pro Santé Connect a pris fin : rien à fermer",
        );
    }
    if problems.is_empty() {
        Finding::pass(
            ID,
            format!(
                "session Pro Santé Connect de {professional} terminée ; {}",
                closed.join(" ; ")
            ),
        )
    } else {
        let first = held.first().copied();
        let failure = Finding::fail(ID, problems.join(" ; "));
        match first.and_then(|c| evidence.connection(c)) {
            Some(c) => failure.with_evidence(c.transcript(20)),
            None => failure,
        }
    }
}
