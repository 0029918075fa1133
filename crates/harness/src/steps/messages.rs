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

#[then(expr = "chaque partie texte des messages envoyés est en UTF-8")]
async fn utf8(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_messages(&super::text(step), MessageRule::Utf8)
}

#[then(expr = "le corps de chaque message envoyé est en texte, ou en texte puis HTML")]
async fn body(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_messages(&super::text(step), MessageRule::Body)
}

#[then(
    expr = "chaque message envoyé porte le Reply-To de la BAL paramétrée et la mention de génération automatique"
)]
async fn app_reply_to(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_messages(&super::text(step), MessageRule::AppReplyTo)
}

#[then(expr = "chaque message envoyé nomme son émetteur par un libellé signifiant")]
async fn sender_label(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_messages(&super::text(step), MessageRule::SenderLabel)
}

#[then(
    expr = "chaque message envoyé à un usager porte X-MSS-MES: FIN si et seulement si la fin des échanges a été demandée"
)]
async fn end_of_exchanges(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_messages(&super::text(step), MessageRule::EndOfExchanges)
}

#[then(
    expr = "chaque message envoyé porte Return-Receipt-To vers sa BAL si l'accusé de réception a été demandé"
)]
async fn dsn(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_messages(&super::text(step), MessageRule::Dsn)
}

#[then(
    expr = "chaque message envoyé porte Disposition-Notification-To vers sa BAL si l'accusé de lecture a été demandé"
)]
async fn mdn(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_messages(&super::text(step), MessageRule::Mdn)
}

#[then(expr = "chaque message envoyé porte un entête X-MSS-NIL renseigné")]
async fn nil(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_messages(&super::text(step), MessageRule::Nil)
}
