//! Health documents (ECO.2.1.x, ECO.2.4.1, ECO.2.4.2): the system is given the CDA documents
//! of one patient and composes the message; the rules judge it as the operator received it.

use cucumber::gherkin::Step;
use cucumber::{then, when};

use crate::world::{MessageRule, MssWorld, StepResult};

#[when(expr = "le système envoie les documents de santé {string} à {string}")]
async fn send_documents(w: &mut MssWorld, set: String, to: String) -> StepResult {
    w.send_documents(&set, &to).await
}

#[then(
    expr = "chaque message porteur de documents concerne un seul usager et joint l'archive IHE_XDM et un PDF par document"
)]
async fn xdm(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_messages(&super::text(step), MessageRule::Xdm)
}

#[then(expr = "l'objet de chaque message porteur de documents suit le format XDM\\/1.0\\/DDM+")]
async fn subject(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_messages(&super::text(step), MessageRule::DocumentSubject)
}

#[then(expr = "chaque PDF joint est un PDF\\/A-1 fidèle à son document")]
async fn pdfa(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_messages(&super::text(step), MessageRule::Pdfa)
}

#[then(expr = "chaque PDF joint est nommé date_type_NOM_prénom")]
async fn pdf_name(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_messages(&super::text(step), MessageRule::PdfName)
}

#[then(
    expr = "chaque message envoyé porte X-MSS-CODECDA si et seulement s'il joint une archive IHE_XDM, avec les codes de ses documents"
)]
async fn codecda(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_messages(&super::text(step), MessageRule::CodeCda)
}

#[then(
    expr = "chaque message envoyé porte X-MSS-INS si et seulement s'il joint une archive IHE_XDM, à O seulement pour une identité qualifiée"
)]
async fn ins(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_messages(&super::text(step), MessageRule::Ins)
}
