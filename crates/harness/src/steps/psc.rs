//! The Pro Santé Connect session lifecycle (ECO.1.2.6, ECO.1.2.7): sessions held by the system,
//! ended at the provider or by the operator.

use cucumber::gherkin::Step;
use cucumber::{given, then, when};

use crate::world::{MssWorld, SessionRule, StepResult};

#[when(expr = "le système garde une session IMAP ouverte")]
async fn held(w: &mut MssWorld) -> StepResult {
    w.await_held_session().await
}

#[when(expr = "la session Pro Santé Connect du professionnel prend fin")]
async fn psc_end(w: &mut MssWorld) -> StepResult {
    w.end_psc_session()
}

#[given(expr = "l'opérateur refusera la prochaine authentification")]
#[when(expr = "l'opérateur refusera la prochaine authentification")]
async fn refuse_next(w: &mut MssWorld) -> StepResult {
    w.refuse_next_authentication()
}

#[when(expr = "l'opérateur met fin aux sessions en cours")]
async fn operator_end(w: &mut MssWorld) -> StepResult {
    w.end_operator_sessions()
}

#[then(expr = "le système ferme ses sessions IMAP et SMTP dans le délai de session")]
async fn closed(w: &mut MssWorld, step: &Step) -> StepResult {
    let delay = w.session_delay();
    w.await_sessions_closed(delay).await;
    w.judge_session(&super::text(step), SessionRule::PscSessionEnd(delay))
}

#[then(expr = "le système rouvre sa session et s'authentifie de nouveau dans le délai de session")]
async fn reopened(w: &mut MssWorld, step: &Step) -> StepResult {
    let delay = w.session_delay();
    w.await_reopened(delay, false).await;
    w.judge_session(&super::text(step), SessionRule::Reopened(delay))
}

#[then(
    expr = "l'échec d'authentification est signalé et les autres actions du système fonctionnent"
)]
async fn contained(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_session(&super::text(step), SessionRule::AuthErrorContained)
}

#[when(expr = "le système redémarre")]
async fn restart(w: &mut MssWorld) -> StepResult {
    w.restart().await
}

#[then(expr = "aucun jeton Pro Santé Connect n'est écrit dans le dossier de données du système")]
async fn no_token_on_disk(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_token_storage(&super::text(step)).await
}

#[given(expr = "des Access Tokens Pro Santé Connect valables {int} secondes")]
async fn short_tokens(w: &mut MssWorld, seconds: u64) -> StepResult {
    w.short_access_tokens(seconds)
}

#[when(expr = "l'Access Token de la session tenue a expiré")]
async fn token_expired(w: &mut MssWorld) -> StepResult {
    w.await_held_token_expiry().await
}

#[then(
    expr = "le système rafraîchit son Access Token puis rouvre sa session dans le délai de session"
)]
async fn reopened_after_expiry(w: &mut MssWorld, step: &Step) -> StepResult {
    let delay = w.session_delay();
    w.await_reopened(delay, true).await;
    w.judge_session(&super::text(step), SessionRule::ReopenedAfterExpiry(delay))
}

#[given(
    expr = "le système configuré pour la BAL {string} avec une nouvelle session Pro Santé Connect"
)]
async fn configured_fresh(w: &mut MssWorld, address: String) -> StepResult {
    w.configure_fresh(&address).await
}

#[then(expr = "le testeur atteste : {string}")]
async fn attested(w: &mut MssWorld, step: &Step, statement: String) -> StepResult {
    w.attest(&super::text(step), &statement).await
}
