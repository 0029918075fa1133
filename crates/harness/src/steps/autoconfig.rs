//! Autoconfiguration from the address alone (ECO.1.1.9).

use cucumber::gherkin::Step;
use cucumber::{then, when};

use crate::world::{MssWorld, SessionRule, StepResult};

#[when(expr = "le système configure la BAL {string} à partir de sa seule adresse")]
async fn autoconfigure(w: &mut MssWorld, address: String) -> StepResult {
    w.configure_by_autoconfig(&address).await
}

#[then(expr = "le système a lu le document d'autoconfiguration et testé les serveurs annoncés")]
async fn autoconfigured(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_session(&super::text(step), SessionRule::Autoconfigured)
}
