//! The view the rules take of a journal: events grouped by connection, with the phases a
//! judgement needs, and French transcripts for the explanations.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::event::{AuthVerdict, ClosedBy, ConnId, EntryPoint, Event, EventKind, Service};

/// Everything observed during a scenario (or a recorded session), in journal order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionEvidence {
    events: Vec<Event>,
}

/// One TCP connection of the client and its events, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection<'a> {
    /// Its identifier in the journal.
    pub id: ConnId,
    /// SMTP or IMAP.
    pub service: Service,
    /// The entry point it reached.
    pub entry: EntryPoint,
    /// The client's address.
    pub peer: SocketAddr,
    /// Its events, the opening included.
    pub events: Vec<&'a Event>,
}

impl SessionEvidence {
    /// Evidence made of these events (kept in sequence order).
    pub fn new(mut events: Vec<Event>) -> Self {
        events.sort_by_key(|e| e.seq);
        SessionEvidence { events }
    }

    /// The evidence of one entry point: its connections' events, and the events of no
    /// connection (markers, HTTP requests, profile switches).
    pub fn restricted_to(&self, entry: EntryPoint) -> SessionEvidence {
        let keep: std::collections::BTreeSet<ConnId> = self
            .connections()
            .iter()
            .filter(|c| c.entry == entry)
            .map(|c| c.id)
            .collect();
        SessionEvidence {
            events: self
                .events
                .iter()
                .filter(|e| e.conn.is_none_or(|c| keep.contains(&c)))
                .cloned()
                .collect(),
        }
    }

    /// The entry points the client reached.
    pub fn entry_points(&self) -> Vec<EntryPoint> {
        let mut out = Vec::new();
        for c in self.connections() {
            if !out.contains(&c.entry) {
                out.push(c.entry);
            }
        }
        out
    }

    /// Every event.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Whether nothing was observed.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The client's connections, in order of opening.
    pub fn connections(&self) -> Vec<Connection<'_>> {
        let mut order: Vec<ConnId> = Vec::new();
        let mut by_id: BTreeMap<ConnId, Connection<'_>> = BTreeMap::new();
        for event in &self.events {
            let Some(id) = event.conn else { continue };
            match &event.kind {
                EventKind::ConnectionOpened {
                    service,
                    entry,
                    peer,
                } => {
                    order.push(id);
                    by_id.insert(
                        id,
                        Connection {
                            id,
                            service: *service,
                            entry: *entry,
                            peer: *peer,
                            events: vec![event],
                        },
                    );
                }
                _ => {
                    if let Some(c) = by_id.get_mut(&id) {
                        c.events.push(event);
                    }
                }
            }
        }
        order
            .into_iter()
            .filter_map(|id| by_id.remove(&id))
            .collect()
    }

    /// The connections to one protocol, in order of opening.
    pub fn connections_to(&self, service: Service) -> Vec<Connection<'_>> {
        self.connections()
            .into_iter()
            .filter(|c| c.service == service)
            .collect()
    }

    /// One connection.
    pub fn connection(&self, id: ConnId) -> Option<Connection<'_>> {
        self.connections().into_iter().find(|c| c.id == id)
    }

    /// Events matching a predicate.
    pub fn matching(&self, pred: impl Fn(&EventKind) -> bool) -> Vec<&Event> {
        self.events.iter().filter(|e| pred(&e.kind)).collect()
    }

    /// The messages the operator accepted over SMTP, in order.
    pub fn accepted_messages(&self) -> Vec<&Event> {
        self.matching(|k| matches!(k, EventKind::MessageAccepted { .. }))
    }

    /// Whether the client fetched (body or metadata) the message with this Message-ID.
    pub fn fetched(&self, message_id: &str) -> Vec<&Event> {
        let wanted = strip_brackets(message_id);
        self.matching(|k| {
            matches!(k, EventKind::MessageFetched { message_id: Some(m), .. }
                if strip_brackets(m) == wanted)
        })
    }
}

/// A Message-ID without its angle brackets.
pub fn strip_brackets(id: &str) -> &str {
    id.trim().trim_start_matches('<').trim_end_matches('>')
}

impl<'a> Connection<'a> {
    /// The successful TLS handshake, if any.
    pub fn tls_established(&self) -> Option<&'a Event> {
        self.events
            .iter()
            .copied()
            .find(|e| matches!(e.kind, EventKind::TlsEstablished { .. }))
    }

    /// The commands (and SASL lines) the client sent, in order.
    pub fn commands(&self) -> Vec<&'a Event> {
        self.events
            .iter()
            .copied()
            .filter(|e| matches!(e.kind, EventKind::Command { .. }))
            .collect()
    }

    /// Commands that travelled in clear.
    pub fn clear_commands(&self) -> Vec<&'a Event> {
        self.commands()
            .into_iter()
            .filter(|e| matches!(e.kind, EventKind::Command { tls: false, .. }))
            .collect()
    }

    /// Bytes the client sent after STARTTLS before the handshake, as the operator discarded
    /// them: the sizes.
    pub fn injected_bytes(&self) -> Vec<usize> {
        self.events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::InjectionDiscarded { bytes } => Some(bytes),
                _ => None,
            })
            .collect()
    }

    /// Authentication attempts the operator judged.
    pub fn auths(&self) -> Vec<&'a Event> {
        self.events
            .iter()
            .copied()
            .filter(|e| matches!(e.kind, EventKind::Auth { .. }))
            .collect()
    }

    /// The first accepted authentication, if any.
    pub fn accepted_auth(&self) -> Option<&'a Event> {
        self.auths().into_iter().find(|e| {
            matches!(
                e.kind,
                EventKind::Auth {
                    verdict: AuthVerdict::Accepted,
                    ..
                }
            )
        })
    }

    /// Whether a message was accepted on this connection.
    pub fn accepted_messages(&self) -> Vec<&'a Event> {
        self.events
            .iter()
            .copied()
            .filter(|e| matches!(e.kind, EventKind::MessageAccepted { .. }))
            .collect()
    }

    /// How the connection ended, if it did.
    pub fn closed(&self) -> Option<(ClosedBy, Option<&'a str>)> {
        self.events.iter().find_map(|e| match &e.kind {
            EventKind::ConnectionClosed { by, reason } => Some((*by, reason.as_deref())),
            _ => None,
        })
    }

    /// A French transcript of the connection (credentials were never journaled), at most
    /// `max` lines; the last line says how many were left out.
    pub fn transcript(&self, max: usize) -> Vec<String> {
        let mut lines: Vec<String> = self
            .events
            .iter()
            .filter_map(|e| describe(self.id, e))
            .collect();
        if lines.len() > max {
            let left = lines.len() - max;
            lines.truncate(max);
            lines.push(format!(
                "[{}] … {left} ligne(s) de plus dans le journal",
                self.id
            ));
        }
        lines
    }
}

fn lock(tls: bool) -> &'static str {
    if tls { " (TLS)" } else { " (clair)" }
}

/// One transcript line for an event of connection `conn`, or nothing for events a reader
/// does not need.
pub fn describe(conn: ConnId, e: &Event) -> Option<String> {
    let text = match &e.kind {
        EventKind::ConnectionOpened {
            service,
            entry,
            peer,
        } => format!(
            "connexion {service} ({}) depuis {peer}",
            match entry {
                EntryPoint::Psc => "point d'entrée Pro Santé Connect",
                EntryPoint::App => "point d'entrée BAL applicatives",
            }
        ),
        EventKind::Command { tls, line, .. } => format!("C{}: {line}", lock(*tls)),
        EventKind::Reply { tls, line, .. } => {
            format!(
                "S{}: {}",
                lock(*tls),
                line.lines().next().unwrap_or_default()
            )
        }
        EventKind::InjectionDiscarded { bytes } => format!(
            "{bytes} octet(s) envoyés après STARTTLS avant la négociation TLS, écartés par l'opérateur"
        ),
        EventKind::TlsClientHello(h) => format!(
            "ClientHello : versions {} ; suites {} ; groupes {}{}",
            h.versions.join(" "),
            h.cipher_suites
                .iter()
                .map(|s| format!("0x{:04X}", s.code))
                .collect::<Vec<_>>()
                .join(" "),
            h.groups.join(" "),
            h.sni
                .as_deref()
                .map(|s| format!(" ; SNI {s}"))
                .unwrap_or_default()
        ),
        EventKind::TlsEstablished {
            version,
            cipher_suite,
            group,
            client_certificate,
        } => format!(
            "TLS établi : {version} {} {}{}",
            cipher_suite.name,
            group.as_deref().unwrap_or(""),
            client_certificate
                .as_ref()
                .map(|c| format!(
                    ", certificat client « {} »{}",
                    c.summary.subject,
                    c.rejected
                        .as_deref()
                        .map(|r| format!(" refusé : {r}"))
                        .unwrap_or_default()
                ))
                .unwrap_or_else(|| ", sans certificat client".to_owned())
        ),
        EventKind::TlsFailed { error } => format!("échec TLS : {error}"),
        EventKind::Auth {
            mechanism,
            tls,
            user,
            verdict,
            reason,
            ..
        } => format!(
            "authentification {mechanism}{} pour « {} » : {}{}",
            if *tls { "" } else { " EN CLAIR" },
            user.as_deref().unwrap_or("?"),
            match verdict {
                AuthVerdict::Accepted => "acceptée",
                AuthVerdict::Refused => "refusée",
            },
            reason
                .as_deref()
                .map(|r| format!(" — {r}"))
                .unwrap_or_default()
        ),
        EventKind::MessageAccepted {
            message_id, size, ..
        } => format!(
            "message accepté ({size} octets, Message-ID {})",
            message_id.as_deref().unwrap_or("absent")
        ),
        EventKind::MessageFetched {
            mailbox,
            uid,
            message_id,
            body,
            ..
        } => format!(
            "{} du message {mailbox}/{uid} (Message-ID {})",
            if *body {
                "lecture du contenu"
            } else {
                "lecture des métadonnées"
            },
            message_id.as_deref().unwrap_or("absent")
        ),
        EventKind::FaultInjected { fault } => format!("panne provoquée : {fault}"),
        EventKind::ConnectionClosed { by, reason } => format!(
            "fermeture par {}{}",
            match by {
                ClosedBy::Client => "le client",
                ClosedBy::Operator => "l'opérateur",
            },
            reason
                .as_deref()
                .map_or(String::new(), |r| format!(" ({r})"))
        ),
        _ => return None,
    };
    Some(format!("[{conn}] {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::read_jsonl;

    const JOURNAL: &str = include_str!("../tests/data/smtp-session.jsonl");

    #[test]
    fn groups_events_by_connection() {
        let evidence = SessionEvidence::new(read_jsonl(JOURNAL).expect("journal"));
        let conns = evidence.connections();
        assert_eq!(conns.len(), 1);
        let c = &conns[0];
        assert_eq!(c.service, Service::Smtp);
        assert!(c.tls_established().is_some());
        let clear: Vec<String> = c
            .clear_commands()
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Command { verb, .. } => Some(verb.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(clear, ["EHLO", "STARTTLS"]);
        assert!(c.accepted_auth().is_some());
        assert_eq!(c.accepted_messages().len(), 1);
        assert_eq!(evidence.accepted_messages().len(), 1);
        let transcript = c.transcript(100);
        assert!(
            transcript.iter().any(|l| l.contains("C (clair): EHLO")),
            "{transcript:#?}"
        );
        assert!(transcript.iter().any(|l| l.contains("TLS établi")));
        let short = c.transcript(3);
        assert_eq!(short.len(), 4);
        assert!(short[3].contains("de plus"));
    }
}
