//! Judging the TLS negotiations the system started (ECO.1.1.x).

use cucumber::{gherkin::Step, then};

use crate::world::{MssWorld, SessionRule, StepResult};

#[then(expr = "le système n'a offert et négocié que les suites et groupes autorisés")]
async fn suites(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_session(&super::text(step), SessionRule::Suites)
}
