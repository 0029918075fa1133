//! The receiving side (ECO.2.2.2, ECO.3.1.1 to ECO.3.1.3, ECO.3.1.6): messages delivered into
//! the SUT's BAL, and what the SUT does with them.

use cucumber::gherkin::Step;
use cucumber::{given, then, when};

use crate::world::{Delivery, ListingRule, MssWorld, StepResult};

#[given(
    expr = "un message {string} demandant un accusé de lecture déposé dans sa boîte de réception"
)]
async fn deliver_asking_receipt(w: &mut MssWorld, id: String) -> StepResult {
    w.deliver_as(&id, Delivery::AskingReceipt)
}

#[given(expr = "un message {string} d'un usager déposé dans sa boîte de réception")]
async fn deliver_from_patient(w: &mut MssWorld, id: String) -> StepResult {
    w.deliver_as(&id, Delivery::FromPatient)
}

#[given(expr = "un message {string} porteur de documents déposé dans sa boîte de réception")]
async fn deliver_with_documents(w: &mut MssWorld, id: String) -> StepResult {
    w.deliver_as(&id, Delivery::WithDocuments)
}

#[given(
    expr = "un message {string} porteur des documents d'un usager sous l'objet d'un autre déposé dans sa boîte de réception"
)]
async fn deliver_mismatched(w: &mut MssWorld, id: String) -> StepResult {
    w.deliver_as(&id, Delivery::MismatchedSubject)
}

#[when(expr = "le système répond au message {string}")]
async fn reply(w: &mut MssWorld, id: String) -> StepResult {
    w.reply_to(&id).await
}

#[when(expr = "le système affiche le message {string}")]
async fn open(w: &mut MssWorld, id: String) -> StepResult {
    w.open_message(&id).await
}

#[when(expr = "le système affiche sa boîte de réception")]
async fn list(w: &mut MssWorld) -> StepResult {
    w.list_inbox().await
}

#[then(expr = "la réponse porte son propre Message-ID, In-Reply-To et la chaîne References")]
async fn reply_headers(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_reply(&super::text(step))
}

#[then(expr = "un accusé de lecture RFC 8098 « displayed » est envoyé à l'expéditeur")]
async fn read_receipt(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_read_receipt(&super::text(step))
}

#[then(expr = "la liste distingue le message de l'usager de celui du professionnel")]
async fn patients_told(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_listing(&super::text(step), ListingRule::PatientsTold)
}

#[then(expr = "la liste montre le nom de naissance, le prénom et l'INS de l'usager")]
async fn patient_shown(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_listing(&super::text(step), ListingRule::PatientShown)
}

#[then(expr = "la liste masque le préfixe XDM\\/1.0\\/DDM+ de l'objet")]
async fn prefix_hidden(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_listing(&super::text(step), ListingRule::PrefixHidden)
}

#[then(expr = "le message est classé sous l'usager du patientId de METADATA.XML")]
async fn filed(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_listing(&super::text(step), ListingRule::FiledByPatientId)
}
