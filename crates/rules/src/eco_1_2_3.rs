//! ECO.1.2.3 — « Le système DOIT traiter les erreurs techniques rencontrées lors du processus de
//! connexion et d'authentification SMTP/IMAP de sorte qu'elles ne perturbent pas les autres
//! fonctions de l'application (hors messagerie). »
//!
//! Reading taken (VERIFICATION.md §1): the functions outside messaging are not visible on the
//! wire; what is: the operator refuses an authentication, the system reports the failure of
//! that action to its caller (the driver's answer), keeps answering, and its next action works
//! (an authentication accepted after the refusal, the action answered as done). A system that
//! stops working after the error fails. Interactive runs add the tester's attestation that the
//! rest of the application kept working (the reports' attestations).

use evidence::{AuthVerdict, EventKind};

use crate::Finding;
use crate::session::{Expectation, SessionEvidence, for_this_bal};

/// The requirement.
pub const ID: &str = "ECO.1.2.3";

/// What the driver said of the actions asked after the one the refusal hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actions {
    /// Whether the action the refusal hit was reported as failed.
    pub failure_reported: bool,
    /// The later actions: name, success, what the system said.
    pub later: Vec<(String, bool, String)>,
}

/// Judges the system's behaviour after a refused authentication.
pub fn check(evidence: &SessionEvidence, expected: &Expectation, actions: &Actions) -> Finding {
    let events = evidence.events();
    let Some(refused_at) = events.iter().position(|e| {
        matches!(&e.kind, EventKind::Auth { verdict: AuthVerdict::Refused, user, .. }
            if for_this_bal(expected, user.as_deref()))
    }) else {
        return Finding::not_tested(
            ID,
            "l'opérateur n'a refusé aucune authentification de la BAL",
        );
    };
    if actions.later.is_empty() {
        return Finding::not_tested(
            ID,
            "aucune action demandée après le refus d'authentification",
        );
    }
    let accepted_after = events[refused_at..].iter().any(|e| {
        matches!(&e.kind, EventKind::Auth { verdict: AuthVerdict::Accepted, user, .. }
            if for_this_bal(expected, user.as_deref()))
    });
    let mut problems = Vec::new();
    for (name, ok, said) in &actions.later {
        if !ok {
            problems.push(format!(
                "après le refus d'authentification, l'action « {name} » a échoué : {said}"
            ));
        }
    }
    if problems.is_empty() && !accepted_after {
        problems.push(
            "après le refus, aucune authentification acceptée : l'action suivante n'a pas abouti \
             auprès de l'opérateur"
                .into(),
        );
    }
    if problems.is_empty() {
        Finding::pass(
            ID,
            format!(
                "authentification refusée par l'opérateur{} ; ensuite {} réussie(s) et une \
                 authentification acceptée",
                if actions.failure_reported {
                    ", échec signalé par le système"
                } else {
                    ""
                },
                actions
                    .later
                    .iter()
                    .map(|(n, _, _)| format!("« {n} »"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    } else {
        Finding::fail(ID, problems.join(" ; "))
    }
}
