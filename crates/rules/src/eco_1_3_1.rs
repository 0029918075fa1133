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
//!    Santé Elementaire Organisations CA, valid, not revoked) whose OU is the IdNatStruc of
//!    the structure owning the BAL. The CN (`Authentification MSS` in the API LPS slides) is
//!    shown, not judged: the référentiel does not state it;
//! 2. no authentication command in clear, even refused;
//! 3. every attempt is SASL `PLAIN` (AUTH PLAIN in SMTP, AUTHENTICATE PLAIN in IMAP: the
//!    RFCs cited define AUTHENTICATE; IMAP's LOGIN command is another method and fails) whose
//!    login (the authcid) is the BAL address; an authorisation identity is shown, not judged;
//! 4. nothing but capability discovery and the SASL exchange before the validation, nothing
//!    pipelined behind it; every protocol used got an accepted authentication.

use evidence::{EntryPoint, EventKind};

use crate::Finding;
use crate::session::{self, Expectation, SessionEvidence};

/// The requirement.
pub const ID: &str = "ECO.1.3.1";

/// The CN the API LPS slides give every ORG AUTH_CLI certificate (shown, not judged).
pub const AUTH_CLI_CN: &str = "Authentification MSS";

/// Judges the connections to the application entry point.
pub fn check(evidence: &SessionEvidence, expected: &Expectation) -> Finding {
    let certificate = |conn: &evidence::Connection<'_>, problems: &mut session::Problems| {
        let Some(e) = conn.tls_established() else {
            return;
        };
        let EventKind::TlsEstablished {
            client_certificate, ..
        } = &e.kind
        else {
            return;
        };
        match client_certificate {
            None => problems.push(
                Some(conn.id),
                "session TLS sans certificat client ORG AUTH_CLI",
            ),
            Some(c) => {
                if let Some(why) = &c.rejected {
                    problems.push(Some(conn.id), format!("certificat client refusé : {why}"));
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
                }
            }
        }
    };
    let judged = match session::judge_authentication(
        ID,
        evidence,
        expected,
        EntryPoint::App,
        "PLAIN",
        certificate,
    ) {
        Ok(j) => j,
        Err(finding) => return finding,
    };
    let subjects: Vec<String> = judged
        .conns
        .iter()
        .filter_map(|c| match c.tls_established().map(|e| &e.kind) {
            Some(EventKind::TlsEstablished {
                client_certificate: Some(cert),
                ..
            }) => Some(cert.summary.subject.clone()),
            _ => None,
        })
        .collect();
    let Some(subject) = subjects.first() else {
        return Finding::not_tested(ID, "aucune session TLS avec certificat client observée");
    };
    let first = &judged.accepted[0];
    Finding::pass(
        ID,
        format!(
            "{} session(s) TLS avec le certificat « {subject} » ; {} authentification(s) PLAIN \
             pour {} acceptée(s) sur {} ; aucune commande avant leur validation",
            subjects.len(),
            judged.accepted.len(),
            first.user.unwrap_or("?"),
            session::services_of(&judged.accepted),
        ),
    )
}
