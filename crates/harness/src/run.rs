//! Running the scenarios: cucumber over `features/`, one fresh operator per scenario, results
//! collected from the scenario hooks.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use catalog::{Catalogue, Family};
use cucumber::event::ScenarioFinished;
use cucumber::gherkin;
use cucumber::writer::{Coloring, Verbosity};
use cucumber::{World as _, WriterExt as _};
use futures::FutureExt as _;

use crate::context::{RunConfig, RunContext};
use crate::results::{self, RunResults, ScenarioResult, ScenarioStatus};
use crate::world::MssWorld;

/// Why a run could not happen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The fake IGC Santé could not be loaded or generated.
    #[error("fake IGC Santé: {0}")]
    Pki(#[from] pki::Error),
    /// The features folder is missing.
    #[error("no feature files in {0}")]
    NoFeatures(String),
    /// A report or journal could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Tags of a scenario, with the feature's and the rule's.
fn tags<'a>(
    feature: &'a gherkin::Feature,
    rule: Option<&'a gherkin::Rule>,
    scenario: &'a gherkin::Scenario,
) -> impl Iterator<Item = &'a String> {
    feature
        .tags
        .iter()
        .chain(rule.into_iter().flat_map(|r| r.tags.iter()))
        .chain(scenario.tags.iter())
}

fn requirement_tags<'a>(tags: impl Iterator<Item = &'a String>) -> Vec<String> {
    tags.filter(|t| catalog::id_parts(t).is_some())
        .cloned()
        .collect()
}

fn family_tags<'a>(tags: impl Iterator<Item = &'a String>) -> Vec<Family> {
    tags.filter_map(|t| Family::from_tag(t)).collect()
}

fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').chars().take(60).collect()
}

/// Text of a panic payload (failed steps panic with their explanation).
fn panic_text(info: &cucumber::event::Info) -> String {
    if let Some(s) = info.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = info.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        "échec sans explication".to_owned()
    }
}

fn describe(finished: &ScenarioFinished) -> (ScenarioStatus, Option<String>) {
    use cucumber::event::StepError;
    match finished {
        ScenarioFinished::StepPassed => (ScenarioStatus::Passed, None),
        ScenarioFinished::StepSkipped => (
            ScenarioStatus::Failed,
            Some("une étape n'a pas de définition dans le harnais (défaut du harnais)".into()),
        ),
        ScenarioFinished::StepFailed(_, _, StepError::Panic(info)) => {
            (ScenarioStatus::Failed, Some(panic_text(info)))
        }
        ScenarioFinished::StepFailed(_, _, other) => {
            (ScenarioStatus::Failed, Some(other.to_string()))
        }
        ScenarioFinished::BeforeHookFailed(info) => (
            ScenarioStatus::Failed,
            Some(format!("préparation du scénario : {}", panic_text(info))),
        ),
    }
}

/// Runs the scenarios against the SUT and computes the verdicts.
pub async fn run(config: RunConfig) -> Result<RunResults, RunError> {
    let started = Instant::now();
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    if !config.features.is_dir() {
        return Err(RunError::NoFeatures(config.features.display().to_string()));
    }
    let (pki, _) = pki::ensure(&config.certs, &config.directory.pki_profile())?;
    if let Some(dir) = &config.journals {
        std::fs::create_dir_all(dir).map_err(|source| RunError::Io {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let ctx = Arc::new(RunContext {
        config: config.clone(),
        pki: Arc::new(pki),
        message_ids: Mutex::new(Default::default()),
    });
    let collected: Arc<Mutex<Vec<ScenarioResult>>> = Arc::default();
    let counter = Arc::new(AtomicUsize::new(0));

    let before_ctx = ctx.clone();
    let after_ctx = ctx.clone();
    let after_collected = collected.clone();
    let families = config.families.clone();
    let name_filter = config.name_filter.clone();
    let wanted = config.requirements.clone();

    let writer = cucumber::writer::Basic::new(std::io::sink(), Coloring::Never, Verbosity::Default)
        .summarized();
    let writer = MssWorld::cucumber()
        .with_writer(writer)
        .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
        .before(move |_, _, _, world| {
            world.ctx = Some(before_ctx.clone());
            async {}.boxed_local()
        })
        .after(move |feature, rule, scenario, finished, world| {
            let ctx = after_ctx.clone();
            let collected = after_collected.clone();
            let index = counter.fetch_add(1, Ordering::Relaxed) + 1;
            let all_tags: Vec<String> = tags(feature, rule, scenario).cloned().collect();
            let feature_name = feature.name.clone();
            let scenario_name = scenario.name.clone();
            let (status, failure) = describe(finished);
            let mut evidence = Vec::new();
            let mut op = None;
            let mut started = None;
            if let Some(w) = world {
                evidence = std::mem::take(&mut w.evidence);
                op = w.op.take();
                started = w.started;
            }
            async move {
                let mut journal = None;
                if let Some(op) = op {
                    if let Some(dir) = &ctx.config.journals {
                        let name = format!(
                            "{index:03}-{}.jsonl",
                            slug(&format!("{} {}", all_tags.join(" "), scenario_name))
                        );
                        if op.journal().write_jsonl(&dir.join(&name)).is_ok() {
                            journal = Some(name);
                        }
                    }
                    op.shutdown().await;
                }
                let result = ScenarioResult {
                    feature: feature_name,
                    name: scenario_name,
                    requirements: requirement_tags(all_tags.iter()),
                    families: family_tags(all_tags.iter()),
                    status,
                    failure,
                    evidence,
                    journal,
                    duration_ms: started.map_or(0, |s| s.elapsed().as_millis() as u64),
                };
                if ctx.config.verbose {
                    let mark = match result.status {
                        ScenarioStatus::Passed => "✔",
                        ScenarioStatus::Failed => "✘",
                    };
                    println!(
                        "{mark} {} — {} ({} ms)",
                        result.requirements.join(" "),
                        result.name,
                        result.duration_ms
                    );
                    if let Some(f) = &result.failure {
                        for line in f.lines().take(12) {
                            println!("    {line}");
                        }
                    }
                }
                collected
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(result);
            }
            .boxed_local()
        })
        .filter_run(config.features.clone(), move |feature, rule, scenario| {
            let all: Vec<&String> = tags(feature, rule, scenario).collect();
            let scenario_families = family_tags(all.iter().copied());
            let family_ok = scenario_families.is_empty()
                || scenario_families.iter().any(|f| families.contains(f));
            let name_ok = name_filter
                .as_ref()
                .is_none_or(|n| scenario.name.contains(n.as_str()));
            let requirement_ok = wanted.is_empty()
                || requirement_tags(all.iter().copied())
                    .iter()
                    .any(|r| wanted.contains(r));
            family_ok && name_ok && requirement_ok
        })
        .await;

    let mut problems = Vec::new();
    use cucumber::writer::Stats as _;
    if writer.parsing_errors() > 0 {
        problems.push(format!(
            "{} fichier(s) de scénarios illisible(s) dans {}",
            writer.parsing_errors(),
            config.features.display()
        ));
    }
    if writer.hook_errors() > 0 {
        problems.push(format!("{} erreur(s) de préparation", writer.hook_errors()));
    }
    let mut scenarios = std::mem::take(&mut *collected.lock().unwrap_or_else(|p| p.into_inner()));
    scenarios.sort_by(|a, b| {
        let key = |s: &ScenarioResult| {
            s.requirements
                .first()
                .and_then(|r| catalog::id_parts(r))
                .unwrap_or_default()
        };
        key(a).cmp(&key(b)).then_with(|| a.name.cmp(&b.name))
    });
    let catalogue = Catalogue::embedded();
    let requirements = results::aggregate(&catalogue, &config.families, &scenarios);
    let summary = results::summarize(&requirements, &scenarios);
    Ok(RunResults {
        harness_version: env!("CARGO_PKG_VERSION").to_owned(),
        sut: config.sut_description(),
        families: config.families.clone(),
        started_at,
        duration_ms: started.elapsed().as_millis() as u64,
        summary,
        requirements,
        scenarios,
        problems,
    })
}

/// Every requirement tag of every feature file, with the file, for consistency checks.
pub fn feature_tags(features: &Path) -> Result<Vec<(String, String, Vec<String>)>, String> {
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(features)
        .map_err(|e| format!("{}: {e}", features.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "feature"))
        .collect();
    paths.sort();
    for path in paths {
        let feature = gherkin::Feature::parse_path(&path, gherkin::GherkinEnv::default())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        for scenario in &feature.scenarios {
            let all: Vec<String> = tags(&feature, None, scenario).cloned().collect();
            out.push((path.display().to_string(), scenario.name.clone(), all));
        }
        for rule in &feature.rules {
            for scenario in &rule.scenarios {
                let all: Vec<String> = tags(&feature, Some(rule), scenario).cloned().collect();
                out.push((path.display().to_string(), scenario.name.clone(), all));
            }
        }
    }
    Ok(out)
}
