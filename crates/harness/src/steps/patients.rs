//! Writing to patients (ECO.2.2.6, ECO.3.1.5).

use cucumber::gherkin::Step;
use cucumber::{then, when};

use crate::world::{MssWorld, PatientRule, StepResult};

#[when(expr = "le système écrit à l'usager {string}")]
async fn write(w: &mut MssWorld, ins: String) -> StepResult {
    w.write_to_patient(&ins).await
}

#[then(expr = "le message est adressé à l'INS qualifiée de l'usager")]
async fn from_ins(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_patients(&super::text(step), PatientRule::AddressFromIns)
}

#[then(
    expr = "chaque adresse usager est construite sur une INS valide, et aucune pour une identité non qualifiée"
)]
async fn qualified_only(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_patients(&super::text(step), PatientRule::QualifiedOnly)
}
