//! Traces (ECO.4.1.1, ECO.4.1.2): the SUT exports them; the harness compares them with the
//! operator's journal.

use cucumber::gherkin::Step;
use cucumber::{then, when};

use crate::world::{MssWorld, StepResult, TraceRule};

#[when(expr = "le système exporte ses traces")]
async fn export(w: &mut MssWorld) -> StepResult {
    w.export_traces().await
}

#[then(
    expr = "chaque connexion, authentification, envoi et relève journalisés par l'opérateur a sa trace"
)]
async fn complete(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_traces(&super::text(step), TraceRule::Complete)
}

#[then(
    expr = "chaque trace porte l'auteur authentifié, un horodatage local, l'action, la requête et la réponse, échec compris"
)]
async fn fields(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_traces(&super::text(step), TraceRule::Fields)
}
