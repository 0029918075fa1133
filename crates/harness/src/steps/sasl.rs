//! Authentication on the two entry points (ECO.1.2.1 Pro Santé Connect, ECO.1.3.1 certificate).

use cucumber::then;

use super::checks;
use crate::world::{MssWorld, StepResult};

#[then(expr = "le système s'est authentifié sur SMTP et sur IMAP")]
async fn authenticated_both(w: &mut MssWorld) -> StepResult {
    checks::authenticated_on_both(w).await
}

#[then(
    expr = "chaque authentification a utilisé XOAUTH2 au format exact du référentiel, après STARTTLS"
)]
async fn xoauth2_exact(w: &mut MssWorld) -> StepResult {
    checks::every_auth(w, checks::Expected::Xoauth2).await
}

#[then(expr = "chaque authentification a utilisé PLAIN avec l'adresse de la BAL, après STARTTLS")]
async fn plain_bal(w: &mut MssWorld) -> StepResult {
    checks::every_auth(w, checks::Expected::PlainWithBal).await
}

#[then(expr = "aucune commande n'a précédé le succès de l'authentification")]
async fn nothing_before_auth(w: &mut MssWorld) -> StepResult {
    checks::nothing_before_auth(w).await
}

#[then(
    expr = "chaque session TLS a présenté un certificat ORG AUTH_CLI valide dont l'OU est {string}"
)]
async fn client_certificate(w: &mut MssWorld, ou: String) -> StepResult {
    checks::client_certificate(w, &ou).await
}
