//! Setting the stage: the operator, the SUT's BAL, messages waiting for it.

use cucumber::{given, when};

use crate::world::{MssWorld, StepResult};

#[given(expr = "un opérateur MSSanté fictif")]
async fn operator(w: &mut MssWorld) -> StepResult {
    w.start_operator().await
}

#[given(expr = "le système configuré pour la BAL {string}")]
async fn configured(w: &mut MssWorld, address: String) -> StepResult {
    w.configure(&address).await
}

#[given(expr = "un message {string} déposé dans sa boîte de réception")]
async fn delivered(w: &mut MssWorld, message_id: String) -> StepResult {
    w.deliver(&message_id)
}

#[given(expr = "l'opérateur qui présente le profil TLS {string}")]
async fn tls_profile(w: &mut MssWorld, name: String) -> StepResult {
    w.set_tls_profile(&name)
}

#[when(expr = "l'opérateur présente ensuite le profil TLS {string}")]
async fn tls_profile_then(w: &mut MssWorld, name: String) -> StepResult {
    w.set_tls_profile(&name)
}

#[given(expr = "le répondeur OCSP de l'opérateur en panne")]
async fn ocsp_down(w: &mut MssWorld) -> StepResult {
    w.set_revocation_outage(true, false)
}

#[when(expr = "les points de distribution des CRL tombent aussi en panne")]
async fn crl_down(w: &mut MssWorld) -> StepResult {
    w.set_revocation_outage(false, true)
}
