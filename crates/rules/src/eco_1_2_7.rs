//! ECO.1.2.7 — « Suite à la détection d'une fin de session IMAP ou SMTP déclenchée par
//! l'Opérateur MSSanté, lorsque l'authentification PSC est toujours valide, le système DOIT
//! pouvoir réouvrir automatiquement (i.e. sans intervention humaine) une session IMAP ou
//! SMTP » — with the access token if it is still valid, after a refresh otherwise.
//!
//! Reading taken (VERIFICATION.md §1): the operator ends every session in progress (IMAP
//! `BYE`, SMTP `421`) while the system holds an authenticated session on the BAL's entry point
//! and its Pro Santé Connect session is valid; the harness asks nothing of the system
//! afterwards. Within the scenario's delay, the system must open a new IMAP connection and
//! authenticate as the BAL (a submission session ended with nothing to send may wait for the
//! next message: « une session IMAP ou SMTP »). Sending again a token the operator had just refused
//! fails the check; a refusal followed by a refresh and a success does not.

use std::time::Duration;

use evidence::{AuthVerdict, EventKind};

use crate::Finding;
use crate::session::{Expectation, SessionEvidence, for_this_bal};

/// The requirement.
pub const ID: &str = "ECO.1.2.7";

/// The marker of the operator ending every session (`OperatorHandle::end_sessions`).
const ENDED: &str = "sessions en cours fermées par l'opérateur";

/// The system reopened what the operator closed, within `delay`.
pub fn check(evidence: &SessionEvidence, expected: &Expectation, delay: Duration) -> Finding {
    let events = evidence.events();
    let Some((t0, at)) = events.iter().enumerate().find_map(|(i, e)| match &e.kind {
        EventKind::FaultInjected { fault } if e.conn.is_none() && fault.starts_with(ENDED) => {
            Some((i, e.at))
        }
        _ => None,
    }) else {
        return Finding::not_tested(
            ID,
            "l'opérateur n'a pas mis fin aux sessions pendant le scénario",
        );
    };
    let before: std::collections::HashSet<u64> =
        events[..t0].iter().filter_map(|e| e.conn).collect();
    let conns: Vec<_> = evidence
        .connections()
        .into_iter()
        .filter(|c| expected.entry.is_none_or(|x| x == c.entry))
        .collect();
    let accepted_as_bal = |c: &evidence::Connection<'_>| {
        c.events.iter().find_map(|e| match &e.kind {
            EventKind::Auth {
                verdict: AuthVerdict::Accepted,
                user,
                ..
            } if for_this_bal(expected, user.as_deref()) => Some(e.at),
            _ => None,
        })
    };
    // The sessions the operator ended: authenticated before, closed by it after.
    let ended: Vec<_> = conns
        .iter()
        .filter(|c| before.contains(&c.id))
        .filter(|c| accepted_as_bal(c).is_some_and(|t| t < at))
        .filter(|c| {
            c.events.iter().any(|e| {
                e.at >= at
                    && matches!(
                        e.kind,
                        EventKind::ConnectionClosed {
                            by: evidence::ClosedBy::Operator,
                            ..
                        }
                    )
            })
        })
        .collect();
    if !ended.iter().any(|c| c.service == evidence::Service::Imap) {
        return Finding::not_tested(
            ID,
            "le système n'avait aucune session IMAP authentifiée ouverte quand l'opérateur y a mis fin : \
             rien à rouvrir",
        );
    }
    let mut problems = Vec::new();
    let mut reopened = Vec::new();
    let mut services: Vec<evidence::Service> = Vec::new();
    for c in &ended {
        if !services.contains(&c.service) {
            services.push(c.service);
        }
    }
    for service in services {
        let name = format!("{service:?}").to_uppercase();
        let again: Vec<_> = conns
            .iter()
            .filter(|c| c.service == service && !before.contains(&c.id))
            .collect();
        let retried: Vec<String> = again
            .iter()
            .filter(|c| {
                c.events.iter().any(|e| {
                    matches!(
                        &e.kind,
                        EventKind::Auth {
                            retried_refused_token: true,
                            ..
                        }
                    )
                })
            })
            .map(|c| c.id.to_string())
            .collect();
        if !retried.is_empty() {
            problems.push(format!(
                "jeton déjà refusé par l'opérateur présenté de nouveau (connexion(s) {})",
                retried.join(", ")
            ));
        }
        match again
            .iter()
            .find_map(|c| accepted_as_bal(c).map(|t| (c.id, t)))
        {
            Some((id, t)) => {
                let after = (t - at).as_seconds_f64().max(0.0);
                if after > delay.as_secs_f64() {
                    problems.push(format!(
                        "session {name} rouverte {after:.1} s après sa fermeture (délai {} s)",
                        delay.as_secs_f64()
                    ));
                } else {
                    reopened.push(format!(
                        "{name} rouverte et authentifiée en {after:.1} s (connexion {id})"
                    ));
                }
            }
            // A submission session is reopened when there is something to send: « une session
            // IMAP ou SMTP ».
            None if again.is_empty() && service == evidence::Service::Smtp => reopened.push(
                "SMTP fermée, à rouvrir au prochain envoi (non exigé sans message à envoyer)"
                    .to_owned(),
            ),
            None if again.is_empty() => problems.push(format!(
                "session {name} fermée par l'opérateur et jamais rouverte"
            )),
            None => problems.push(format!(
                "session {name} : {} reconnexion(s) sans authentification acceptée",
                again.len()
            )),
        }
    }
    // The grants after the end, counted by kind and outcome, in order of first appearance.
    let mut counted: Vec<(String, usize)> = Vec::new();
    for e in &events[t0..] {
        if let EventKind::PscGrant {
            grant_type, error, ..
        } = &e.kind
        {
            let what = match error {
                None => format!("{grant_type} accordé"),
                Some(err) => format!("{grant_type} refusé ({err})"),
            };
            match counted.iter_mut().find(|(w, _)| *w == what) {
                Some((_, n)) => *n += 1,
                None => counted.push((what, 1)),
            }
        }
    }
    let grants: Vec<String> = counted
        .into_iter()
        .map(|(w, n)| if n == 1 { w } else { format!("{w} ×{n}") })
        .collect();
    let grants = if grants.is_empty() {
        String::new()
    } else {
        format!(" ; Pro Santé Connect : {}", grants.join(", "))
    };
    if problems.is_empty() {
        Finding::pass(ID, format!("{}{grants}", reopened.join(" ; ")))
    } else {
        let failure = Finding::fail(ID, format!("{}{grants}", problems.join(" ; ")));
        match evidence.connection(ended[0].id) {
            Some(c) => failure.with_evidence(c.transcript(20)),
            None => failure,
        }
    }
}

/// The variant where the access token of the held session has expired (the refresh token is
/// valid): on top of [`check`], the reopened session must authenticate with another, valid
/// token, obtained by a refresh grant the fake Pro Santé Connect accepted.
pub fn check_after_expiry(
    evidence: &SessionEvidence,
    expected: &Expectation,
    delay: Duration,
) -> Finding {
    let reopened = check(evidence, expected, delay);
    if reopened.verdict != crate::Verdict::Pass {
        return reopened;
    }
    let events = evidence.events();
    let Some(t0) = events.iter().position(|e| {
        matches!(&e.kind, EventKind::FaultInjected { fault } if e.conn.is_none() && fault.starts_with(ENDED))
    }) else {
        return reopened;
    };
    // Accepted tokens of this BAL: (jti, expiry, position in the journal).
    let tokens = |from: usize, to: usize| -> Vec<(String, i64, usize)> {
        events[from..to]
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match &e.kind {
                EventKind::Auth {
                    verdict: AuthVerdict::Accepted,
                    user,
                    token: Some(t),
                    ..
                } if for_this_bal(expected, user.as_deref()) => {
                    Some((t.jti.clone(), t.exp, from + i))
                }
                _ => None,
            })
            .collect()
    };
    let Some((old, old_exp, _)) = tokens(0, t0).pop() else {
        return Finding::not_tested(ID, "aucun jeton connu pour la session tenue");
    };
    let at = events[t0].at;
    if old_exp > at.unix_timestamp() {
        return Finding::not_tested(
            ID,
            "l'Access Token de la session tenue n'avait pas expiré quand l'opérateur l'a fermée",
        );
    }
    let Some((new, _, reauth)) = tokens(t0, events.len()).into_iter().next() else {
        return Finding::fail(
            ID,
            "aucune réauthentification acceptée après l'expiration du jeton",
        );
    };
    if new == old {
        return Finding::fail(ID, "réauthentification avec le jeton expiré");
    }
    let refreshed = events[..reauth].iter().any(|e| {
        matches!(&e.kind, EventKind::PscGrant { grant_type, error: None, .. } if grant_type == "refresh_token")
    });
    if !refreshed {
        return Finding::fail(
            ID,
            "nouveau jeton présenté sans rafraîchissement accepté par Pro Santé Connect",
        );
    }
    Finding::pass(
        ID,
        format!(
            "{} ; jeton expiré remplacé par un jeton rafraîchi avant la réouverture",
            reopened.detail
        ),
    )
}
