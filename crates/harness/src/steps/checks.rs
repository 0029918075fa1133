//! The checks behind the `Alors` steps: each reads the operator's journal (or the messages it
//! stored), pushes evidence lines for the report, and explains a failure in French with the
//! offending journal lines.

use operator::Service;
use operator::journal::{AuthVerdict, ConnId, EntryPoint, EventKind};

use crate::world::{MssWorld, StepResult};

/// Shortest explanation of a failure: the message and the transcript of the connection.
fn with_transcript(w: &MssWorld, message: String, conn: Option<ConnId>) -> String {
    match conn {
        Some(conn) => {
            let lines: Vec<String> = w.transcript(conn).into_iter().take(40).collect();
            format!("{message}\n{}", lines.join("\n"))
        }
        None => message,
    }
}

/// The SUT's sends all succeeded and the operator accepted at least `count` messages.
pub(crate) async fn accepted(w: &mut MssWorld, count: usize) -> StepResult {
    w.settle().await?;
    if let Some(Err(e)) = w.sends.iter().find(|s| s.is_err()) {
        let last = w.connections(Service::Smtp)?.last().copied();
        return Err(with_transcript(
            w,
            format!("le système n'a pas pu envoyer : {e}"),
            last,
        ));
    }
    let accepted: Vec<String> = w
        .events()?
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::MessageAccepted {
                message_id, size, ..
            } => Some(format!(
                "message accepté par l'opérateur : {size} octets, Message-ID {}",
                message_id.as_deref().unwrap_or("absent")
            )),
            _ => None,
        })
        .collect();
    if accepted.len() < count {
        return Err(format!(
            "l'opérateur a accepté {} message(s) au lieu de {count}",
            accepted.len()
        ));
    }
    for line in accepted {
        w.note(line);
    }
    Ok(())
}

/// Commands (and the TLS upgrade) of one connection, in order.
fn tokens(w: &MssWorld, conn: ConnId) -> Result<Vec<String>, String> {
    Ok(w.conn_events(conn)?
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Command { verb, .. } if !verb.is_empty() => Some(verb.clone()),
            EventKind::TlsEstablished { version, .. } => Some(version.clone()),
            _ => None,
        })
        .collect())
}

fn matches(token: &str, expected: &str) -> bool {
    token == expected
        || token.starts_with(&format!("{expected} "))
        || token.ends_with(&format!(" {expected}"))
}

/// Whether `expected` appears in order in `tokens`, STARTTLS immediately followed by TLS.
fn follows(tokens: &[String], expected: &[&str]) -> Result<(), String> {
    let mut at = 0;
    let mut previous: Option<(&str, usize)> = None;
    for exp in expected {
        let Some(offset) = tokens[at..].iter().position(|t| matches(t, exp)) else {
            return Err(format!("« {exp} » manque (ou n'arrive pas à sa place)"));
        };
        let index = at + offset;
        if let Some(("STARTTLS", p)) = previous
            && *exp == "TLS"
            && index != p + 1
        {
            return Err(format!(
                "« {} » a été envoyé entre STARTTLS et la négociation TLS",
                tokens[p + 1]
            ));
        }
        previous = Some((exp, index));
        at = index + 1;
    }
    Ok(())
}

/// The session that did the work followed the expected sequence.
pub(crate) async fn sequence(w: &mut MssWorld, service: Service, sequence: &str) -> StepResult {
    w.settle().await?;
    let expected: Vec<&str> = sequence.split_whitespace().collect();
    // The connection that did the work: the one that got a message accepted (SMTP) or fetched
    // one (IMAP).
    let events = w.events()?;
    let worker = events.iter().find_map(|e| match &e.kind {
        EventKind::MessageAccepted { .. } if service == Service::Smtp => e.conn,
        EventKind::MessageFetched { .. } if service == Service::Imap => e.conn,
        _ => None,
    });
    let Some(conn) = worker.or_else(|| w.connections(service).ok()?.last().copied()) else {
        return Err(format!("le système n'a ouvert aucune connexion {service}"));
    };
    let tokens = tokens(w, conn)?;
    let shown = tokens.join(" → ");
    if let Err(problem) = follows(&tokens, &expected) {
        return Err(with_transcript(
            w,
            format!("séquence {service} observée : {shown} ; attendue : {sequence} ; {problem}"),
            Some(conn),
        ));
    }
    w.note(format!("{service} [connexion {conn}] : {shown}"));
    Ok(())
}

/// Nothing but the allowed commands travelled in clear on the protocol's connections.
pub(crate) async fn only_in_clear(w: &mut MssWorld, service: Service, allowed: &str) -> StepResult {
    w.settle().await?;
    let allowed: Vec<&str> = allowed.split_whitespace().collect();
    let connections = w.connections(service)?;
    if connections.is_empty() {
        return Err(format!("le système n'a ouvert aucune connexion {service}"));
    }
    for conn in connections {
        for e in w.conn_events(conn)? {
            if let EventKind::Command {
                tls: false,
                verb,
                line,
                ..
            } = &e.kind
                && !allowed.iter().any(|a| a == verb)
            {
                let what = if verb.is_empty() {
                    "une réponse SASL".to_owned()
                } else {
                    format!("la commande {verb}")
                };
                return Err(with_transcript(
                    w,
                    format!("{what} a circulé en clair, avant STARTTLS : « {line} »"),
                    Some(conn),
                ));
            }
        }
    }
    w.note(format!(
        "{service} : en clair, seulement {}",
        allowed.join(", ")
    ));
    Ok(())
}

/// The SUT synchronised and got every message the harness delivered.
pub(crate) async fn fetched(w: &mut MssWorld) -> StepResult {
    w.settle().await?;
    let synced = match &w.synced {
        None => return Err("le système n'a pas synchronisé sa boîte".into()),
        Some(Err(e)) => {
            let last = w.connections(Service::Imap)?.last().copied();
            return Err(with_transcript(
                w,
                format!("la synchronisation a échoué : {e}"),
                last,
            ));
        }
        Some(Ok(messages)) => messages.clone(),
    };
    let events = w.events()?;
    for id in w.delivered.clone() {
        let fetched = events.iter().any(|e| {
            matches!(&e.kind, EventKind::MessageFetched { message_id: Some(m), body: true, .. } if *m == id)
        });
        if !fetched {
            return Err(format!(
                "l'opérateur n'a pas vu le système lire le contenu du message <{id}>"
            ));
        }
        if !synced
            .iter()
            .any(|m| m.message_id.as_deref() == Some(id.as_str()))
        {
            return Err(format!("le système ne signale pas le message <{id}>"));
        }
        w.note(format!(
            "message <{id}> lu par le système (FETCH du contenu)"
        ));
    }
    Ok(())
}

/// The SUT authenticated successfully on both protocols.
pub(crate) async fn authenticated_on_both(w: &mut MssWorld) -> StepResult {
    w.settle().await?;
    for service in [Service::Smtp, Service::Imap] {
        let ok = w.events()?.iter().any(|e| {
            matches!(&e.kind, EventKind::Auth { service: s, verdict: AuthVerdict::Accepted, .. } if *s == service)
        });
        if !ok {
            let last = w.connections(service)?.last().copied();
            return Err(with_transcript(
                w,
                format!("aucune authentification {service} réussie"),
                last,
            ));
        }
    }
    Ok(())
}

/// Which authentication every attempt must be.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Expected {
    /// XOAUTH2 of the exact form, with a token accepted (ECO.1.2.1).
    Xoauth2,
    /// PLAIN naming the BAL, after a valid certificate (ECO.1.3.1).
    PlainWithBal,
}

/// Every authentication attempt was of the expected kind, inside TLS, and accepted.
pub(crate) async fn every_auth(w: &mut MssWorld, expected: Expected) -> StepResult {
    w.settle().await?;
    let bal = w
        .bal
        .as_ref()
        .map(|b| b.address.clone())
        .unwrap_or_default();
    let mut count = 0;
    for e in w.events()? {
        let EventKind::Auth {
            service,
            mechanism,
            tls,
            user,
            format_ok,
            token,
            verdict,
            reason,
            ..
        } = &e.kind
        else {
            continue;
        };
        count += 1;
        let problem = if !tls {
            Some("authentification tentée en clair, avant STARTTLS".to_owned())
        } else {
            match expected {
                Expected::Xoauth2 if mechanism != "XOAUTH2" => {
                    Some(format!("mécanisme {mechanism} au lieu de XOAUTH2"))
                }
                Expected::PlainWithBal if mechanism != "PLAIN" => {
                    Some(format!("mécanisme {mechanism} au lieu de PLAIN"))
                }
                _ if !format_ok => Some(format!(
                    "chaîne SASL mal formée : {}",
                    reason.as_deref().unwrap_or("?")
                )),
                Expected::PlainWithBal if user.as_deref() != Some(bal.as_str()) => Some(format!(
                    "le login PLAIN vaut « {} » au lieu de l'adresse de la BAL {bal}",
                    user.as_deref().unwrap_or("")
                )),
                _ if *verdict != AuthVerdict::Accepted => {
                    Some(format!("refusée : {}", reason.as_deref().unwrap_or("?")))
                }
                _ => None,
            }
        };
        if let Some(problem) = problem {
            return Err(with_transcript(
                w,
                format!("authentification {service} non conforme : {problem}"),
                e.conn,
            ));
        }
        let detail = match token {
            Some(t) => format!(
                "{service} : {mechanism} pour {} avec un jeton PSC de {} (azp {})",
                user.as_deref().unwrap_or("?"),
                t.preferred_username,
                t.azp
            ),
            None => format!(
                "{service} : {mechanism} pour {}",
                user.as_deref().unwrap_or("?")
            ),
        };
        w.note(detail);
    }
    if count == 0 {
        return Err("le système ne s'est pas authentifié".into());
    }
    Ok(())
}

/// On each connection, nothing but capability discovery and the SASL exchange came before the
/// successful authentication.
pub(crate) async fn nothing_before_auth(w: &mut MssWorld) -> StepResult {
    w.settle().await?;
    const ALLOWED: &[&str] = &[
        "EHLO",
        "HELO",
        "CAPABILITY",
        "AUTH",
        "AUTHENTICATE",
        "NOOP",
        "",
    ];
    for service in [Service::Smtp, Service::Imap] {
        for conn in w.connections(service)? {
            for e in w.conn_events(conn)? {
                match &e.kind {
                    EventKind::Auth {
                        verdict: AuthVerdict::Accepted,
                        ..
                    } => break,
                    EventKind::Command {
                        tls: true,
                        verb,
                        line,
                        ..
                    } if !ALLOWED.contains(&verb.as_str()) => {
                        return Err(with_transcript(
                            w,
                            format!(
                                "la commande « {line} » a été envoyée avant la validation de l'authentification"
                            ),
                            Some(conn),
                        ));
                    }
                    _ => {}
                }
            }
        }
    }
    w.note("aucune commande avant la validation de l'authentification");
    Ok(())
}

/// Every TLS session on the application entry point carried a valid ORG AUTH_CLI certificate
/// of the structure.
pub(crate) async fn client_certificate(w: &mut MssWorld, ou: &str) -> StepResult {
    w.settle().await?;
    let events = w.events()?;
    let app_conns: Vec<ConnId> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::ConnectionOpened {
                entry: EntryPoint::App,
                ..
            } => e.conn,
            _ => None,
        })
        .collect();
    let mut sessions = 0;
    for e in &events {
        let EventKind::TlsEstablished {
            client_certificate, ..
        } = &e.kind
        else {
            continue;
        };
        if !e.conn.is_some_and(|c| app_conns.contains(&c)) {
            continue;
        }
        sessions += 1;
        let problem = match client_certificate {
            None => Some("aucun certificat client présenté".to_owned()),
            Some(c) if c.rejected.is_some() => c.rejected.clone(),
            Some(c) if c.summary.subject_cn.as_deref() != Some(pki::AUTH_CLI_CN) => Some(format!(
                "le CN du certificat est « {} » au lieu de « {} »",
                c.summary.subject_cn.as_deref().unwrap_or(""),
                pki::AUTH_CLI_CN
            )),
            Some(c) if !c.summary.subject_ou.iter().any(|o| o == ou) => Some(format!(
                "l'OU du certificat ({}) n'est pas l'IdNatStruc {ou}",
                c.summary.subject_ou.join(", ")
            )),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            return Err(with_transcript(
                w,
                format!("session TLS sans certificat ORG AUTH_CLI valide : {problem}"),
                e.conn,
            ));
        }
        if let Some(c) = client_certificate {
            w.note(format!(
                "[connexion {}] certificat client {} émis par {}",
                e.conn.unwrap_or_default(),
                c.summary.subject,
                c.summary.issuer_cn.as_deref().unwrap_or("?")
            ));
        }
    }
    if sessions == 0 {
        return Err("aucune session TLS sur le point d'entrée des BAL applicatives".into());
    }
    Ok(())
}

/// Which message rule to apply.
#[derive(Debug, Clone, Copy)]
pub(crate) enum MessageRule {
    /// ECO.2.2.1, with uniqueness across the run.
    MessageId,
    /// ECO.2.4.3.
    Nil,
}

/// Applies a rule of the `rules` crate to every message the SUT got accepted.
pub(crate) async fn message_rule(w: &mut MssWorld, rule: MessageRule) -> StepResult {
    w.settle().await?;
    let messages = w.accepted_messages()?;
    if messages.is_empty() {
        return Err("le système n'a envoyé aucun message".into());
    }
    let ctx = w.ctx()?.clone();
    let scenario = w
        .bal
        .as_ref()
        .map(|b| format!("message envoyé par {}", b.address))
        .unwrap_or_default();
    for (index, bytes) in messages.iter().enumerate() {
        let message = rules::Message::parse(bytes)
            .map_err(|e| format!("message n°{} illisible : {e}", index + 1))?;
        let finding = match rule {
            MessageRule::Nil => rules::eco_2_4_3::check(&message, &rules::Context::default()),
            MessageRule::MessageId => {
                let mut registry = ctx.message_ids.lock().unwrap_or_else(|p| p.into_inner());
                let context = rules::Context {
                    seen_message_ids: registry.clone(),
                    ..rules::Context::default()
                };
                let finding = rules::eco_2_2_1::check(&message, &context);
                if let Some(id) = message.parsed().message_id() {
                    registry
                        .entry(id.to_owned())
                        .or_insert_with(|| format!("{scenario} n°{}", index + 1));
                }
                finding
            }
        };
        match finding.verdict {
            rules::Verdict::Fail => {
                return Err(format!(
                    "{} — message n°{} : {}",
                    finding.requirement,
                    index + 1,
                    finding.detail
                ));
            }
            _ => w.note(format!("message n°{} : {}", index + 1, finding.detail)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Vec<String> {
        s.split(',').map(str::to_owned).collect()
    }

    #[test]
    fn sequences() {
        let ok = t("EHLO,STARTTLS,TLS 1.3,EHLO,AUTH,MAIL,RCPT,DATA,QUIT");
        assert!(
            follows(
                &ok,
                &[
                    "EHLO", "STARTTLS", "TLS", "EHLO", "AUTH", "MAIL", "RCPT", "DATA"
                ]
            )
            .is_ok()
        );
        let clear_auth = t("EHLO,AUTH,STARTTLS,TLS 1.3,EHLO,AUTH,MAIL,RCPT,DATA");
        assert!(
            follows(&clear_auth, &["EHLO", "STARTTLS", "TLS", "EHLO", "AUTH"]).is_ok(),
            "the sequence check alone tolerates extra commands; the clear-text check catches them"
        );
        let injected = t("EHLO,STARTTLS,RSET,TLS 1.2,EHLO");
        assert!(follows(&injected, &["STARTTLS", "TLS"]).is_err());
        let no_tls = t("CAPABILITY,AUTHENTICATE,SELECT");
        assert!(follows(&no_tls, &["CAPABILITY", "STARTTLS", "TLS", "AUTHENTICATE"]).is_err());
        assert!(follows(&t("UID FETCH"), &["FETCH"]).is_ok());
    }
}
