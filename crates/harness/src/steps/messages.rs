//! Checks on the messages the SUT sent (ECO.2.x), through the `rules` crate.

use cucumber::then;

use super::checks;
use crate::world::{MssWorld, StepResult};

#[then(
    expr = "chaque message envoyé porte un Message-ID conforme à la RFC 5322, unique dans la campagne"
)]
async fn message_id(w: &mut MssWorld) -> StepResult {
    checks::message_rule(w, checks::MessageRule::MessageId).await
}

#[then(expr = "chaque message envoyé porte un entête X-MSS-NIL renseigné")]
async fn nil(w: &mut MssWorld) -> StepResult {
    checks::message_rule(w, checks::MessageRule::Nil).await
}
