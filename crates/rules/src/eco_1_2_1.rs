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
//! 1. no authentication command in clear, even one the operator refused;
//! 2. every attempt is `XOAUTH2` of exactly that form (the operator checks the bytes), its
//!    `user=` is the BAL the system was configured for (not merely one the professional may
//!    open; a long-lived system may also keep using BALs it was configured for earlier), and
//!    the token is accepted (issued by Pro Santé Connect, unexpired, for a professional
//!    entitled to the BAL). A refusal followed by a success (an expired token refreshed, the
//!    case of ECO.1.2.7) is noted, not failed; refusals the operator provoked are not the
//!    client's;
//! 3. nothing but capability discovery and the SASL exchange before the validation, and
//!    nothing pipelined behind the authentication (step 3: wait for the validation);
//! 4. every protocol the client was asked to use got an accepted authentication as the
//!    configured BAL.
//!
//! Both the initial-response and the continuation forms are accepted. No connection, no
//! attempt, or a protocol never reached (TLS handshake failed) is `NotTested`.

use evidence::EntryPoint;

use crate::Finding;
use crate::session::{self, Expectation, SessionEvidence};

/// The requirement.
pub const ID: &str = "ECO.1.2.1";

/// Judges the connections to the Pro Santé Connect entry point.
pub fn check(evidence: &SessionEvidence, expected: &Expectation) -> Finding {
    let judged = match session::judge_authentication(
        ID,
        evidence,
        expected,
        EntryPoint::Psc,
        "XOAUTH2",
        |_, _| {},
    ) {
        Ok(j) => j,
        Err(finding) => return finding,
    };
    let first = &judged.accepted[0];
    let token = first
        .token
        .map(|t| {
            format!(
                " avec un jeton Pro Santé Connect de {} (client {})",
                t.preferred_username, t.azp
            )
        })
        .unwrap_or_default();
    let retried = if judged.retried > 0 {
        format!(
            " ; {} refus suivi(s) d'une nouvelle tentative acceptée (jeton renouvelé)",
            judged.retried
        )
    } else {
        String::new()
    };
    Finding::pass(
        ID,
        format!(
            "{} authentification(s) XOAUTH2 de la forme exacte acceptée(s) sur {} pour {}{token}, \
             toutes dans TLS ; aucune commande avant leur validation{retried}",
            judged.accepted.len(),
            session::services_of(&judged.accepted),
            first.user.unwrap_or("?"),
        ),
    )
}
