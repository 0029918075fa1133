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
    /// Never ran (an earlier step failed or had no definition).
    NotRun,
}

/// One step of a scenario (its background's first), as the writer saw it.
#[derive(Debug, Clone)]
pub(crate) struct StepSeen {
    /// The keyword as written, its trailing space included (`Étant donné `).
    pub keyword: String,
    /// The text after the keyword.
    pub text: String,
    /// Line in the feature file.
    pub line: usize,
    pub outcome: StepOutcome,
    /// The step function that matched it: `path:line` in the harness's sources.
    pub definition: Option<String>,
    /// When it started, for its duration.
    pub started: Option<std::time::Instant>,
    pub duration: std::time::Duration,
}

impl StepSeen {
    /// Keyword and text, as the feature file reads.
    pub fn sentence(&self) -> String {
        format!("{}{}", self.keyword, self.text)
    }
}

/// What the writer saw.
#[derive(Debug, Default)]
pub(crate) struct Recorded {
    /// Feature files that could not be read.
    pub parse_errors: Vec<String>,
    /// Steps of each scenario (background first), in order.
    pub steps: HashMap<ScenarioKey, Vec<StepSeen>>,
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
            Scenario::Started => {
                // Every step as not run; the events below say what became of each.
                let seen = feature
                    .background
                    .iter()
                    .flat_map(|b| b.steps.iter())
                    .chain(scenario.steps.iter())
                    .map(|s| StepSeen {
                        keyword: s.keyword.clone(),
                        text: s.value.clone(),
                        line: s.position.line,
                        outcome: StepOutcome::NotRun,
                        definition: None,
                        started: None,
                        duration: std::time::Duration::ZERO,
                    })
                    .collect();
                self.recorded
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .steps
                    .insert(key(feature, scenario), seen);
                return;
            }
            _ => return,
        };
        if let (Step::Started, Some(replay)) = (event, &self.replay) {
            replay.say(&format!("Étape : {}{}", step.keyword, step.value));
        }
        let mut recorded = self.recorded.lock().unwrap_or_else(|p| p.into_inner());
        let steps = recorded.steps.entry(key(feature, scenario)).or_default();
        let index = match steps.iter().position(|s| s.line == step.position.line) {
            Some(i) => i,
            None => {
                steps.push(StepSeen {
                    keyword: step.keyword.clone(),
                    text: step.value.clone(),
                    line: step.position.line,
                    outcome: StepOutcome::NotRun,
                    definition: None,
                    started: None,
                    duration: std::time::Duration::ZERO,
                });
                steps.len() - 1
            }
        };
        let seen = &mut steps[index];
        seen.outcome = match event {
            Step::Started => {
                seen.started = Some(std::time::Instant::now());
                return;
            }
            Step::Passed(_, location) => {
                seen.definition = location.map(|l| format!("{}:{}", l.path, l.line));
                StepOutcome::Passed
            }
            Step::Skipped => StepOutcome::Undefined,
            Step::Failed(_, location, _, e) => {
                seen.definition = location.map(|l| format!("{}:{}", l.path, l.line));
                StepOutcome::Failed(error_text(e))
            }
        };
        if let Some(started) = seen.started {
            seen.duration = started.elapsed();
        }
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
