//! Synchronising over IMAP (ECO.1.0.2).

use cucumber::gherkin::Step;
use cucumber::{then, when};

use crate::world::{MssWorld, SessionRule, StepResult};

#[when(expr = "le système synchronise sa boîte de réception")]
async fn sync(w: &mut MssWorld) -> StepResult {
    w.sync().await
}

#[then(expr = "la synchronisation a suivi IMAP avec STARTTLS, sans donnée en clair")]
async fn imap_starttls(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_session(&super::text(step), SessionRule::Imap)
}

#[then(expr = "le système n'a envoyé en clair ni authentification ni commande IMAP")]
async fn imap_nothing_in_clear(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_session(&super::text(step), SessionRule::ImapNoStartTls)
}
