//! Step definitions, one file per domain concept. Each step is one line calling a method of
//! the world: `Étant donné` and `Quand` provoke (operator, driver actions) and collect (wait
//! for the effect in the journal); `Alors` judge by asking `rules`, and record a typed
//! finding. Texts are French, as in the feature files.

mod autoconfig;
mod documents;
mod imap;
mod inbox;
mod messages;
mod operator;
mod patients;
mod psc;
mod sasl;
mod smtp;
mod tls;
mod traces;

/// The text of a step as the report shows it (`Alors …`).
pub(crate) fn text(step: &cucumber::gherkin::Step) -> String {
    format!("{}{}", step.keyword, step.value)
}
