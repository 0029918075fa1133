//! ECO.1.1.9 — the client configures a BAL from its address alone: it reads
//! `https://autoconfig.<domain>/mail/config-v1.1.xml`, takes the parameters of the operator's
//! API LPS from it, and runs a connection test.
//!
//! Reading taken (VERIFICATION.md §1): the harness gives the client the address only (no
//! server, no port). The journal must show the HTTPS `GET /mail/config-v1.1.xml` on the host
//! `autoconfig.<domain of the BAL>` answered `200`, then, after it, a connection of this BAL
//! (authenticated as it, or not authenticated) reaching in TLS a listener of the BAL's entry
//! point — the host and port the document advertises for the family, which are not 587 and 143
//! on the bench. The référentiel asks for one connection test: one server (SMTP or IMAP) is
//! enough, the other is reported. Reaching only the other entry point fails (the document
//! describes both; the client must pick its family's). An authentication is reported but not
//! required: the référentiel says "test de connexion" without saying what it includes. The
//! scenarios use BALs configured nowhere else in the run, so a long-lived system's earlier
//! sessions cannot stand in for the test.

use evidence::{EntryPoint, EventKind, Service};

use crate::Finding;
use crate::session::{Expectation, SessionEvidence, for_this_bal};

/// The requirement.
pub const ID: &str = "ECO.1.1.9";

/// The path of the autoconfiguration document.
pub const PATH: &str = "/mail/config-v1.1.xml";

fn entry_name(entry: EntryPoint) -> &'static str {
    match entry {
        EntryPoint::Psc => "Pro Santé Connect",
        EntryPoint::App => "BAL applicatives",
    }
}

/// The client found its servers in the autoconfiguration document and connected to them.
pub fn check(evidence: &SessionEvidence, expected: &Expectation) -> Finding {
    let domain = expected
        .bal
        .as_deref()
        .and_then(|b| b.rsplit_once('@'))
        .map(|(_, d)| d.to_ascii_lowercase());
    let host_ok = |host: &Option<String>| match (&domain, host) {
        (Some(d), Some(h)) => {
            let h = h.to_ascii_lowercase().replace(".:", ":");
            let h = h.trim_end_matches('.');
            let name = h.rsplit_once(':').map_or(h, |(n, p)| {
                if p.bytes().all(|b| b.is_ascii_digit()) {
                    n
                } else {
                    h
                }
            });
            name == format!("autoconfig.{d}")
        }
        (None, Some(h)) => h.to_ascii_lowercase().starts_with("autoconfig."),
        _ => false,
    };
    let mut fetched_at: Option<usize> = None;
    let mut other_requests: Vec<String> = Vec::new();
    let mut listeners: Vec<(Service, EntryPoint, u16)> = Vec::new();
    for (i, e) in evidence.events().iter().enumerate() {
        match &e.kind {
            EventKind::ListenerReady {
                service,
                entry,
                addr,
            } => {
                listeners.push((*service, *entry, addr.port()));
            }
            EventKind::HttpRequest {
                tls,
                method,
                host,
                path,
                status,
            } => {
                let document = *tls
                    && method.eq_ignore_ascii_case("GET")
                    && path.split('?').next() == Some(PATH)
                    && host_ok(host)
                    && *status == 200;
                if document {
                    fetched_at.get_or_insert(i);
                } else if path.contains("config-v1.1.xml") || path.contains("autoconfig") {
                    other_requests.push(format!(
                        "{method} {}://{}{path} → {status}",
                        if *tls { "https" } else { "http" },
                        host.as_deref().unwrap_or("?")
                    ));
                }
            }
            _ => {}
        }
    }
    let expected_url = format!(
        "https://autoconfig.{}{PATH}",
        domain.as_deref().unwrap_or("<domaine>")
    );
    let Some(fetched_at) = fetched_at else {
        let mut detail = format!("le système n'a pas lu le document {expected_url}");
        if !other_requests.is_empty() {
            detail.push_str(&format!(
                " ; requêtes vues : {}",
                other_requests.join(" ; ")
            ));
        }
        return Finding::fail(ID, detail);
    };
    // Connections opened after the document was read, of this BAL: authenticated as it, or
    // not authenticated at all (a test that stops at TLS). Another account's connections (a
    // long-lived system holds other BALs' sessions, and reopens them) are not this one's.
    let opened_after: Vec<evidence::ConnId> = evidence.events()[fetched_at..]
        .iter()
        .filter(|e| matches!(e.kind, EventKind::ConnectionOpened { .. }))
        .filter_map(|e| e.conn)
        .collect();
    let users = |c: &evidence::Connection<'_>| -> Vec<Option<String>> {
        c.events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Auth { user, .. } => Some(user.clone()),
                _ => None,
            })
            .collect()
    };
    let conns: Vec<_> = evidence
        .connections()
        .into_iter()
        .filter(|c| opened_after.contains(&c.id))
        .filter(|c| {
            let users = users(c);
            users.is_empty() || users.iter().any(|u| for_this_bal(expected, u.as_deref()))
        })
        .collect();
    let right_entry = |c: &&evidence::Connection<'_>| expected.entry.is_none_or(|e| e == c.entry);
    let mut problems = Vec::new();
    let mut reached = Vec::new();
    let mut missing = Vec::new();
    for service in [Service::Smtp, Service::Imap] {
        let of: Vec<_> = conns
            .iter()
            .filter(|c| c.service == service)
            .filter(right_entry)
            .collect();
        let port = listeners
            .iter()
            .find(|(s, e, _)| *s == service && expected.entry.is_none_or(|x| x == *e))
            .map(|(_, _, p)| format!(" (port {p})"))
            .unwrap_or_default();
        let name = match service {
            Service::Smtp => "SMTP",
            Service::Imap => "IMAP",
        };
        if of.iter().any(|c| c.tls_established().is_some()) {
            let auth = if of.iter().any(|c| c.accepted_auth().is_some()) {
                "authentifiée"
            } else {
                "sans authentification"
            };
            reached.push(format!("{name}{port} en TLS, {auth}"));
        } else if of.is_empty() {
            missing.push(format!("{name}{port} : aucune connexion"));
        } else {
            missing.push(format!("{name}{port} : connexion sans session TLS établie"));
        }
    }
    // The test of the référentiel is one connection test: one announced server of the family
    // reached in TLS is enough; the other is reported.
    if reached.is_empty() {
        problems.push(format!(
            "aucun serveur annoncé par le document pour cette BAL n'a été joint en TLS ({}) : \
             les paramètres de l'autoconfiguration n'ont pas été appliqués",
            missing.join(" ; ")
        ));
        if let Some(entry) = expected.entry {
            let wrong: Vec<String> = conns
                .iter()
                .filter(|c| c.entry != entry)
                .map(|c| format!("connexion {} ({:?})", c.id, c.service))
                .collect();
            if !wrong.is_empty() {
                problems.push(format!(
                    "connexion(s) au point d'entrée {} au lieu de celui {} que le document \
                     annonce pour cette BAL : {}",
                    entry_name(if entry == EntryPoint::Psc {
                        EntryPoint::App
                    } else {
                        EntryPoint::Psc
                    }),
                    match entry {
                        EntryPoint::Psc => "Pro Santé Connect (OAuth2)",
                        EntryPoint::App => "des BAL applicatives (TLS-client-cert)",
                    },
                    wrong.join(", ")
                ));
            }
        }
    } else if !missing.is_empty() {
        reached.push(format!(
            "non testé par le système : {}",
            missing.join(" ; ")
        ));
    }
    if problems.is_empty() {
        Finding::pass(
            ID,
            format!(
                "document {expected_url} lu en HTTPS, puis connexions aux serveurs annoncés : {}",
                reached.join(" ; ")
            ),
        )
    } else {
        Finding::fail(ID, problems.join(" ; "))
    }
}
