//! Synchronising over IMAP (ECO.1.0.2).

use cucumber::{then, when};
use operator::Service;

use super::checks;
use crate::world::{MssWorld, StepResult};

#[when(expr = "le système synchronise sa boîte de réception")]
async fn sync(w: &mut MssWorld) -> StepResult {
    w.sync().await
}

#[then(expr = "le système a récupéré le message déposé")]
async fn fetched(w: &mut MssWorld) -> StepResult {
    checks::fetched(w).await
}

#[then(expr = "la session IMAP a suivi la séquence {string}")]
async fn imap_sequence(w: &mut MssWorld, sequence: String) -> StepResult {
    checks::sequence(w, Service::Imap, &sequence).await
}

#[then(expr = "seules les commandes {string} ont circulé en clair sur IMAP")]
async fn imap_clear(w: &mut MssWorld, allowed: String) -> StepResult {
    checks::only_in_clear(w, Service::Imap, &allowed).await
}
