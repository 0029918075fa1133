//! Sending over SMTP (ECO.1.0.1).

use cucumber::{then, when};
use operator::Service;

use super::checks;
use crate::world::{MssWorld, StepResult};

#[when(expr = "le système envoie un message à {string}")]
async fn send_one(w: &mut MssWorld, to: String) -> StepResult {
    w.send(1, &to).await
}

#[when(expr = "le système envoie {int} messages à {string}")]
async fn send_many(w: &mut MssWorld, count: usize, to: String) -> StepResult {
    w.send(count, &to).await
}

#[then(expr = "l'opérateur a accepté le message")]
async fn accepted_one(w: &mut MssWorld) -> StepResult {
    checks::accepted(w, 1).await
}

#[then(expr = "l'opérateur a accepté {int} messages")]
async fn accepted_many(w: &mut MssWorld, count: usize) -> StepResult {
    checks::accepted(w, count).await
}

#[then(expr = "la session SMTP a suivi la séquence {string}")]
async fn smtp_sequence(w: &mut MssWorld, sequence: String) -> StepResult {
    checks::sequence(w, Service::Smtp, &sequence).await
}

#[then(expr = "seules les commandes {string} ont circulé en clair sur SMTP")]
async fn smtp_clear(w: &mut MssWorld, allowed: String) -> StepResult {
    checks::only_in_clear(w, Service::Smtp, &allowed).await
}
