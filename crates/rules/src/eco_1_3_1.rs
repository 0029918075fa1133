//! ECO.1.3.1 — « Le système DOIT réaliser des demandes d'ouverture de connexions SMTP et IMAP sur
//! l'interface BAL applicative de l'API LPS d'un Opérateur MSSanté en respectant la cinématique
//! suivante : 1- Monter la session TLS avec STARTTLS en présentant un certificat ORG AUTH_CLI à
//! l'Opérateur MSSanté utilisé comme défini dans la RFC 5246, 2- Transmettre l'adresse de la BAL
//! dans le login de la méthode d'authentification PLAIN comme défini dans la RFC 3501 ou RFC
//! 9051, 3- Envoyer les commandes SMTP ou IMAP. » « Le certificat ORG AUTH_CLI doit contenir
//! l'IdNat de la structure détentrice de la BAL applicative dans le champ OU du DN du
//! certificat. »
//!
//! Reading taken, on every connection to the application entry point:
//! 1. every TLS session presents a client certificate the operator accepts (chains to the IGC
//!    Santé Elementaire Organisations CA, valid, not revoked) whose CN is `Authentification MSS`
//!    and whose OU is the IdNatStruc of the structure owning the BAL;
//! 2. no authentication command in clear, even refused;
//! 3. every attempt is `PLAIN` whose login (authcid, or authzid when given) is the BAL address;
//! 4. nothing but capability discovery and the SASL exchange before the validation; every
//!    protocol used got an accepted authentication.

use evidence::{EntryPoint, EventKind, Service};

use crate::Finding;
use crate::session::{self, Expectation, Problems, SessionEvidence};

/// The requirement.
pub const ID: &str = "ECO.1.3.1";

/// The CN of every ORG AUTH_CLI certificate of the API LPS.
pub const AUTH_CLI_CN: &str = "Authentification MSS";

/// Judges the connections to the application entry point.
pub fn check(evidence: &SessionEvidence, expected: &Expectation) -> Finding {
    let conns: Vec<_> = evidence
        .connections()
        .into_iter()
        .filter(|c| c.entry == EntryPoint::App)
        .collect();
    if conns.is_empty() {
        return Finding::not_tested(
            ID,
            "le système n'a ouvert aucune connexion au point d'entrée des BAL applicatives",
        );
    }
    let mut problems = Problems::default();
    let mut certificates = Vec::new();
    let mut accepted = Vec::new();
    let mut provoked = Vec::new();
    let mut attempts = 0;
    for conn in &conns {
        let problems_before = problems.len();
        if let Some(e) = conn.tls_established()
            && let EventKind::TlsEstablished {
                client_certificate, ..
            } = &e.kind
        {
            match client_certificate {
                None => problems.push(
                    Some(conn.id),
                    "session TLS sans certificat client ORG AUTH_CLI",
                ),
                Some(c) => {
                    if let Some(why) = &c.rejected {
                        problems.push(Some(conn.id), format!("certificat client refusé : {why}"));
                    } else if c.summary.subject_cn.as_deref() != Some(AUTH_CLI_CN) {
                        problems.push(
                            Some(conn.id),
                            format!(
                                "le CN du certificat client est « {} » au lieu de « {AUTH_CLI_CN} »",
                                c.summary.subject_cn.as_deref().unwrap_or("")
                            ),
                        );
                    } else if let Some(ou) = &expected.structure
                        && !c.summary.subject_ou.iter().any(|o| o == ou)
                    {
                        problems.push(
                            Some(conn.id),
                            format!(
                                "l'OU du certificat client ({}) n'est pas l'IdNatStruc {ou} de la \
                                 structure détentrice de la BAL",
                                c.summary.subject_ou.join(", ")
                            ),
                        );
                    } else {
                        certificates.push(c.summary.subject.clone());
                    }
                }
            }
        }
        session::auth_in_clear(conn, &mut problems);
        session::wrong_mechanism(conn, "PLAIN", &mut problems);
        for e in conn.auths() {
            let Some(a) = session::attempt(e) else {
                continue;
            };
            attempts += 1;
            if !a.tls {
                continue;
            }
            if a.mechanism != "PLAIN" {
                // Reported from the command that named it.
                continue;
            }
            if !a.format_ok {
                problems.push(
                    Some(conn.id),
                    a.reason.unwrap_or("message PLAIN mal formé").to_owned(),
                );
                continue;
            }
            if let Some(bal) = &expected.bal
                && !a.user.is_some_and(|u| session::configured_bal(expected, u))
            {
                problems.push(
                    Some(conn.id),
                    format!(
                        "le login PLAIN vaut « {} » au lieu de l'adresse de la BAL {bal}",
                        a.user.unwrap_or("")
                    ),
                );
                continue;
            }
            let certificate_reported = problems.len() > problems_before;
            if a.provoked {
                provoked.push(a.service);
            } else if a.accepted {
                accepted.push(a);
            } else if !certificate_reported {
                problems.push(
                    Some(conn.id),
                    format!(
                        "authentification refusée par l'opérateur : {}",
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
                .any(|a| a.service == service && session::for_this_bal(expected, a.user))
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
    if attempts == 0 || certificates.is_empty() {
        return Finding::not_tested(
            ID,
            "aucune session TLS authentifiée observée sur le point d'entrée des BAL applicatives",
        );
    }
    let mut services: Vec<String> = Vec::new();
    for a in &accepted {
        let s = a.service.to_string();
        if !services.contains(&s) {
            services.push(s);
        }
    }
    Finding::pass(
        ID,
        format!(
            "{} session(s) TLS avec le certificat « {} » ; {} authentification(s) PLAIN pour {} \
             acceptée(s) sur {} ; aucune commande avant leur validation",
            certificates.len(),
            certificates[0],
            accepted.len(),
            accepted.first().and_then(|a| a.user).unwrap_or("?"),
            services.join(" et ")
        ),
    )
}
