//! Sending over SMTP (ECO.1.0.1).

use cucumber::gherkin::Step;
use cucumber::{then, when};

use crate::world::{MssWorld, SessionRule, StepResult};

#[when(expr = "le système envoie un message à {string}")]
async fn send_one(w: &mut MssWorld, to: String) -> StepResult {
    w.send(1, &to, false).await
}

#[when(expr = "le système envoie un message HTML à {string}")]
async fn send_html(w: &mut MssWorld, to: String) -> StepResult {
    w.send(1, &to, true).await
}

#[when(expr = "le système envoie un message à {string} avec demande d'accusé de réception")]
async fn send_dsn(w: &mut MssWorld, to: String) -> StepResult {
    let asked = rules::Requests {
        dsn: Some(true),
        ..Default::default()
    };
    w.send_asking(1, &to, false, asked).await
}

#[when(expr = "le système envoie un message à {string} avec demande d'accusé de lecture")]
async fn send_mdn(w: &mut MssWorld, to: String) -> StepResult {
    let asked = rules::Requests {
        mdn: Some(true),
        ..Default::default()
    };
    w.send_asking(1, &to, false, asked).await
}

#[when(expr = "le système envoie un message à {string} qui met fin aux échanges")]
async fn send_fin(w: &mut MssWorld, to: String) -> StepResult {
    let asked = rules::Requests {
        end_exchanges: Some(true),
        ..Default::default()
    };
    w.send_asking(1, &to, false, asked).await
}

#[when(expr = "le système envoie {int} messages à {string}")]
async fn send_many(w: &mut MssWorld, count: usize, to: String) -> StepResult {
    w.send(count, &to, false).await
}

#[then(expr = "l'envoi a suivi SMTP avec STARTTLS, sans donnée en clair")]
async fn smtp_starttls(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_session(&super::text(step), SessionRule::Smtp)
}

#[then(expr = "le système n'a envoyé en clair ni authentification ni commande SMTP")]
async fn smtp_nothing_in_clear(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_session(&super::text(step), SessionRule::SmtpNoStartTls)
}
