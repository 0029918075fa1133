//! ECO.1.2.1 — « Le système DOIT réaliser des demandes d'ouverture de connexion SMTP et IMAP sur
//! l'interface BAL personnelle ou organisationnelle de l'API LPS d'un Opérateur MSSanté en
//! respectant la cinématique suivante : 1- Ouvrir la session TLS avec STARTTLS 2- Réaliser une
//! authentification du PS via le mécanisme SASL OAuth 2.0, en envoyant le mot clé AUTHENTICATE
//! XOAUTH2 pour IMAP ou AUTH XOAUTH2 pour SMTP avec la chaîne de caractères encodée en base64
//! contenant à la fois l'adresse de la BAL dans le champ « user » et l'Access Token PSC au format
//! JWT […] "user=", Adresse mail de la BAL, "^Aauth=Bearer ", Access Token PSC, "^A^A". 3-
//! Attendre la validation de la connexion IMAP ou SMTP par l'Opérateur MSSanté utilisé 4-
//! Envoyer les commandes SMTP ou IMAP »
//!
//! Reading taken, on every connection to the Pro Santé Connect entry point:
//! 1. no authentication command in clear, even one the operator refused (the token travelled
//!    unencrypted);
//! 2. every attempt is `XOAUTH2` of exactly that form (the operator checks the bytes), its
//!    `user=` is the BAL the system was configured for (not merely one the professional may
//!    open), and the token is accepted (issued by Pro Santé Connect, unexpired, for a
//!    professional entitled to the BAL); refusals the operator provoked on purpose (injected
//!    faults) are not the client's;
//! 3. nothing but capability discovery and the SASL exchange before the validation;
//! 4. every protocol the client used got an accepted authentication.
//!
//! Both the initial-response and the continuation forms are accepted. No connection, or no
//! attempt at all, is `NotTested`.

use evidence::{EntryPoint, Service};

use crate::Finding;
use crate::session::{self, Expectation, Problems, SessionEvidence};

/// The requirement.
pub const ID: &str = "ECO.1.2.1";

/// Judges the connections to the Pro Santé Connect entry point.
pub fn check(evidence: &SessionEvidence, expected: &Expectation) -> Finding {
    let conns: Vec<_> = evidence
        .connections()
        .into_iter()
        .filter(|c| c.entry == EntryPoint::Psc)
        .collect();
    if conns.is_empty() {
        return Finding::not_tested(
            ID,
            "le système n'a ouvert aucune connexion au point d'entrée Pro Santé Connect",
        );
    }
    let mut problems = Problems::default();
    let mut attempts = 0;
    let mut accepted = Vec::new();
    let mut provoked = Vec::new();
    for conn in &conns {
        session::auth_in_clear(conn, &mut problems);
        session::wrong_mechanism(conn, "XOAUTH2", &mut problems);
        for e in conn.auths() {
            let Some(a) = session::attempt(e) else {
                continue;
            };
            attempts += 1;
            if !a.tls {
                // Already reported as a command in clear.
                continue;
            }
            if a.mechanism != "XOAUTH2" {
                // Reported from the command that named it.
                continue;
            }
            if !a.format_ok {
                problems.push(
                    Some(conn.id),
                    a.reason.unwrap_or("chaîne XOAUTH2 mal formée").to_owned(),
                );
                continue;
            }
            if let (Some(bal), Some(user)) = (&expected.bal, a.user)
                && !session::configured_bal(expected, user)
            {
                problems.push(
                    Some(conn.id),
                    format!("« user= » vaut « {user} » au lieu de la BAL configurée {bal}"),
                );
                continue;
            }
            if a.provoked {
                provoked.push(a.service);
            } else if a.accepted {
                accepted.push((conn.id, a));
            } else {
                problems.push(
                    Some(conn.id),
                    format!(
                        "jeton refusé par l'opérateur : {}",
                        a.reason.unwrap_or("raison inconnue")
                    ),
                );
            }
        }
        session::before_auth(conn, &mut problems);
    }
    for service in [Service::Smtp, Service::Imap] {
        let used: Vec<_> = conns.iter().filter(|c| c.service == service).collect();
        if !used.is_empty()
            && problems.is_empty()
            && !accepted
                .iter()
                .any(|(_, a)| a.service == service && session::for_this_bal(expected, a.user))
            && !provoked.contains(&service)
        {
            problems.push(
                used.last().map(|c| c.id),
                format!(
                    "aucune authentification {service} réussie{}",
                    expected
                        .bal
                        .as_deref()
                        .map(|b| format!(" pour la BAL configurée {b}"))
                        .unwrap_or_default()
                ),
            );
        }
    }
    if let Some(failure) = problems.into_failure(ID, evidence) {
        return failure;
    }
    if let Some(why) = session::unexercised(&conns, expected) {
        return Finding::not_tested(ID, why);
    }
    if attempts == 0 {
        return Finding::not_tested(ID, "aucune tentative d'authentification observée");
    }
    let mut services: Vec<String> = Vec::new();
    for (_, a) in &accepted {
        let s = a.service.to_string();
        if !services.contains(&s) {
            services.push(s);
        }
    }
    let who = accepted
        .first()
        .map(|(_, a)| {
            format!(
                " pour {}{}",
                a.user.unwrap_or("?"),
                a.token
                    .map(|t| format!(
                        " avec un jeton Pro Santé Connect de {} (client {})",
                        t.preferred_username, t.azp
                    ))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_default();
    Finding::pass(
        ID,
        format!(
            "{} authentification(s) XOAUTH2 de la forme exacte acceptée(s) sur {}{who}, toutes \
             dans TLS ; aucune commande avant leur validation",
            accepted.len(),
            services.join(" et ")
        ),
    )
}
