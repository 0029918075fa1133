//! Checks on the messages the SUT sent (ECO.2.x), through the `rules` crate.

use cucumber::gherkin::Step;
use cucumber::then;

use crate::world::{MessageRule, MssWorld, StepResult};

#[then(
    expr = "chaque message envoyé porte un Message-ID conforme à la RFC 5322, unique dans la campagne"
)]
async fn message_id(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_messages(&super::text(step), MessageRule::MessageId)
}

#[then(expr = "chaque message envoyé porte un entête X-MSS-NIL renseigné")]
async fn nil(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_messages(&super::text(step), MessageRule::Nil)
}
