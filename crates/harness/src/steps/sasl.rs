//! Authentication on the two entry points (ECO.1.2.1 Pro Santé Connect, ECO.1.3.1 certificate).

use cucumber::gherkin::Step;
use cucumber::then;

use crate::world::{MssWorld, SessionRule, StepResult};

#[then(
    expr = "chaque authentification a utilisé XOAUTH2 au format exact avec le jeton PSC de la BAL, après STARTTLS et avant toute autre commande"
)]
async fn xoauth2(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_session(&super::text(step), SessionRule::Xoauth2)
}

#[then(
    expr = "chaque session a présenté le certificat ORG AUTH_CLI de la structure puis PLAIN avec l'adresse de la BAL, après STARTTLS et avant toute autre commande"
)]
async fn certificate(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_session(&super::text(step), SessionRule::Certificate)
}
