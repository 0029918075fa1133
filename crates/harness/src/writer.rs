//! A cucumber `Writer` that records what happened to each step (passed, skipped because no
//! definition matched, failed with the bench's own panic) and the feature files that did not
//! parse. The scenario hooks record what the steps judged; the run merges both, so a verdict
//! never comes from a re-parsed panic string.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cucumber::event::{Cucumber, Feature, RetryableScenario, Rule, Scenario, Step, StepError};
use cucumber::{Event, World, gherkin, parser};

/// Identifies a scenario: its feature file and the line it starts on.
pub(crate) type ScenarioKey = (String, usize);

/// The key of a scenario.
pub(crate) fn key(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> ScenarioKey {
    (
        feature
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| feature.name.clone()),
        scenario.position.line,
    )
}

/// What happened to one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StepOutcome {
    Passed,
    /// No step definition matched the text.
    Undefined,
    /// The step returned an error or panicked; the text of the error.
    Failed(String),
}

/// What the writer saw.
#[derive(Debug, Default)]
pub(crate) struct Recorded {
    /// Feature files that could not be read.
    pub parse_errors: Vec<String>,
    /// Steps of each scenario, in order.
    pub steps: HashMap<ScenarioKey, Vec<(String, StepOutcome)>>,
}

/// The writer; clones share what was recorded.
#[derive(Debug, Clone, Default)]
pub(crate) struct Recorder {
    pub recorded: Arc<Mutex<Recorded>>,
    /// A replay prints each step as it starts.
    pub replay: Option<Arc<crate::replay::Replay>>,
}

fn error_text(e: &StepError) -> String {
    match e {
        StepError::Panic(info) => {
            if let Some(s) = info.downcast_ref::<String>() {
                s.clone()
            } else if let Some(s) = info.downcast_ref::<&str>() {
                (*s).to_owned()
            } else {
                "panique sans message".to_owned()
            }
        }
        other => other.to_string(),
    }
}

impl Recorder {
    fn record<W>(
        &self,
        feature: &gherkin::Feature,
        scenario: &gherkin::Scenario,
        ev: &RetryableScenario<W>,
    ) {
        let (step, event) = match &ev.event {
            Scenario::Step(step, event) | Scenario::Background(step, event) => (step, event),
            _ => return,
        };
        let outcome = match event {
            Step::Started => {
                if let Some(replay) = &self.replay {
                    replay.say(&format!("Étape : {}{}", step.keyword, step.value));
                }
                return;
            }
            Step::Passed(..) => StepOutcome::Passed,
            Step::Skipped => StepOutcome::Undefined,
            Step::Failed(_, _, _, e) => StepOutcome::Failed(error_text(e)),
        };
        let text = format!("{}{}", step.keyword, step.value);
        self.recorded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .steps
            .entry(key(feature, scenario))
            .or_default()
            .push((text, outcome));
    }
}

impl<W: World> cucumber::Writer<W> for Recorder {
    type Cli = cucumber::cli::Empty;

    async fn handle_event(&mut self, event: parser::Result<Event<Cucumber<W>>>, _cli: &Self::Cli) {
        match event {
            Err(e) => self
                .recorded
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .parse_errors
                .push(e.to_string()),
            Ok(event) => {
                if let Cucumber::Feature(
                    feature,
                    Feature::Scenario(scenario, ev)
                    | Feature::Rule(_, Rule::Scenario(scenario, ev)),
                ) = &event.value
                {
                    self.record(feature, scenario, ev);
                }
            }
        }
    }
}

// The recorder keys everything by scenario: the order events arrive in does not matter.
impl cucumber::writer::Normalized for Recorder {}
