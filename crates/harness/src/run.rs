//! Running the scenarios: cucumber over `features/`. Against the reference client, every
//! scenario gets its own operator and scenarios run concurrently; against an external SUT, one
//! operator on the profile's addresses serves the whole run, reset between scenarios, which run
//! one after another. Results are typed: the world's findings and stop reason, merged with what
//! the [`writer`](crate::writer) saw of each step.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use catalog::{Catalogue, Family};
use cucumber::World as _;
use cucumber::event::ScenarioFinished;
use cucumber::gherkin;
use futures::FutureExt as _;
use operator::{Listen, OperatorConfig};
use tokio::io::AsyncBufReadExt as _;

use crate::context::{External, RunConfig, RunContext, SharedDriver, Sut, Tester};
use crate::driver::SutDriver;
use crate::driver::command::CommandTransport;
use crate::driver::external::ExternalDriver;
use crate::driver::http::HttpTransport;
use crate::driver::manual::ManualDriver;
use crate::driver::profile::{DriverKind, Profile, ProfileError, StartSettings, resolve_program};
use crate::results::{
    self, RunResults, ScenarioResult, ScenarioStatus, StepFinding, StepRecord, StepStatus,
};
use crate::world::{MssWorld, Stop};
use crate::writer::{Recorder, ScenarioKey, StepOutcome, StepSeen, key};

/// Why a run could not happen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The fake IGC Santé could not be loaded or generated.
    #[error("IGC Santé fictive : {0}")]
    Pki(#[from] pki::Error),
    /// The features folder is missing.
    #[error("aucun fichier de scénarios dans {0}")]
    NoFeatures(String),
    /// A report or journal could not be written.
    #[error("{path} : {source}")]
    Io {
        /// The path.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The SUT profile is unusable.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// The shared operator could not start (a port already taken…).
    #[error(
        "démarrage de l'opérateur fictif : {0} — un autre processus utilise-t-il ce port ? \
         choisissez-en d'autres dans la section « operator » du profil"
    )]
    Operator(#[from] operator::OperatorError),
    /// The SUT's process could not be started.
    #[error("démarrage du système testé : {0}")]
    SutStart(String),
    /// A requirement asked for is not in the catalogue: the run would judge nothing.
    #[error("exigence inconnue « {id} »{}", suggestion(.closest))]
    UnknownRequirement {
        /// What was asked.
        id: String,
        /// The closest known ID.
        closest: Option<String>,
    },
    /// No scenario's name contains the text asked for.
    #[error("aucun scénario ne contient « {name} »{}", suggestion(.closest))]
    UnknownScenario {
        /// What was asked.
        name: String,
        /// The closest scenario name.
        closest: Option<String>,
    },
    /// A timeout of zero would judge every effect as missing.
    #[error("délai d'attente nul : donnez au moins une seconde")]
    ZeroTimeout,
    /// The selection plays no scenario (a requirement without scenario, a family it does not
    /// concern, a name in no scenario of those requirements).
    #[error("aucun scénario ne correspond à la sélection ({0}) : la campagne ne jugerait rien")]
    NothingSelected(String),
}

fn suggestion(closest: &Option<String>) -> String {
    closest
        .as_ref()
        .map(|c| format!(" ; vouliez-vous dire « {c} » ?"))
        .unwrap_or_default()
}

/// Edit distance between two strings (characters), for suggestions.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == cb {
                previous
            } else {
                1 + previous.min(row[j]).min(current)
            };
            previous = current;
        }
    }
    row[b.len()]
}

/// The candidate closest to `wanted` (case-insensitive), if any.
pub fn closest<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let wanted = wanted.to_lowercase();
    candidates
        .map(|c| (distance(&wanted, &c.to_lowercase()), c))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_owned())
}

/// The scenario name sharing the most words with `wanted` (then the closest in spelling).
pub fn closest_name<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Option<String> {
    let words: Vec<String> = wanted
        .to_lowercase()
        .split_whitespace()
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_owned)
        .collect();
    let wanted = wanted.to_lowercase();
    names
        .map(|n| {
            let lower = n.to_lowercase();
            let shared = words.iter().filter(|w| lower.contains(w.as_str())).count();
            (std::cmp::Reverse(shared), distance(&wanted, &lower), n)
        })
        .min()
        .map(|(_, _, n)| n.to_owned())
}

/// The scenario names of the feature files of a folder (`Scénario:` / `Scenario:` lines).
pub fn scenario_names(features: &std::path::Path) -> Vec<String> {
    let mut names = Vec::new();
    let Ok(entries) = std::fs::read_dir(features) else {
        return names;
    };
    let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    files.sort();
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "feature"))
    {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        for line in text.lines() {
            let line = line.trim();
            for keyword in ["Scénario:", "Scenario:", "Plan du scénario:", "Exemple:"] {
                if let Some(name) = line.strip_prefix(keyword) {
                    names.push(name.trim().to_owned());
                }
            }
        }
    }
    names
}

/// Refuses, before anything starts, what would make a run judge nothing (a false green in
/// CI): an unknown requirement, a name no scenario has, a zero timeout.
pub fn validate(config: &RunConfig) -> Result<(), RunError> {
    let catalogue = catalog::Catalogue::embedded();
    for id in &config.requirements {
        if catalogue.get(id).is_none() {
            return Err(RunError::UnknownRequirement {
                id: id.clone(),
                closest: closest(id, catalogue.iter().map(|r| r.id.as_str())),
            });
        }
    }
    if let Some(name) = &config.name_filter {
        let names = scenario_names(&config.features);
        if !names.is_empty() && !names.iter().any(|n| n.contains(name.as_str())) {
            return Err(RunError::UnknownScenario {
                name: name.clone(),
                closest: closest_name(name, names.iter().map(String::as_str)),
            });
        }
    }
    if config.timeout.is_zero() {
        return Err(RunError::ZeroTimeout);
    }
    // A selection that plays nothing would write an empty report and exit 0: a false green.
    if Selection::of(config).count(&config.features) == Some(0) {
        let mut asked = Vec::new();
        if !config.requirements.is_empty() {
            asked.push(format!("exigences {}", config.requirements.join(", ")));
        }
        if let Some(name) = &config.name_filter {
            asked.push(format!("nom contenant « {name} »"));
        }
        asked.push(format!(
            "familles {}",
            config
                .families
                .iter()
                .map(|f| f.tag())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return Err(RunError::NothingSelected(asked.join(", ")));
    }
    Ok(())
}

/// Which scenarios a run plays: its families, name filter and requirements.
#[derive(Debug, Clone)]
struct Selection {
    families: Vec<Family>,
    name_filter: Option<String>,
    wanted: Vec<String>,
}

impl Selection {
    fn of(config: &RunConfig) -> Self {
        Selection {
            families: config.families.clone(),
            name_filter: config.name_filter.clone(),
            wanted: config.requirements.clone(),
        }
    }

    /// Whether a scenario of this name and these tags (its feature's included) is played.
    fn selects(&self, name: &str, all: &[&String]) -> bool {
        let scenario_families = family_tags(all.iter().copied());
        let family_ok = scenario_families.is_empty()
            || scenario_families.iter().any(|f| self.families.contains(f));
        let name_ok = self
            .name_filter
            .as_ref()
            .is_none_or(|n| name.contains(n.as_str()));
        let requirement_ok = self.wanted.is_empty()
            || requirement_tags(all.iter().copied())
                .iter()
                .any(|r| self.wanted.contains(r));
        family_ok && name_ok && requirement_ok
    }

    /// How many scenarios of the feature files it plays (`None` if they cannot be read).
    fn count(&self, features: &Path) -> Option<usize> {
        let all = feature_tags(features).ok()?;
        Some(
            all.iter()
                .filter(|(_, name, tags)| {
                    let tags: Vec<&String> = tags.iter().collect();
                    self.selects(name, &tags)
                })
                .count(),
        )
    }
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

/// How cucumber saw a scenario end.
#[derive(Debug, Clone)]
enum Ending {
    Passed,
    StepSkipped,
    StepFailed,
    BeforeHookFailed,
}

/// What the scenario hook kept of a scenario.
#[derive(Debug)]
struct Collected {
    result: ScenarioResult,
    stop: Option<Stop>,
    ending: Ending,
}

/// The SUT's own process (a profile's `start`), stopped when dropped.
#[derive(Debug)]
struct SutProcess {
    child: tokio::process::Child,
    /// The first line it printed (the base URL of an HTTP driver).
    first_line: Option<String>,
}

impl SutProcess {
    /// Stops the process (it may already have ended).
    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }

    async fn start(
        settings: &StartSettings,
        wait: Duration,
        log: Option<&Path>,
    ) -> Result<SutProcess, RunError> {
        let program = resolve_program(&settings.run[0], settings.workdir.as_deref())
            .map_err(RunError::SutStart)?;
        let mut command = tokio::process::Command::new(&program);
        command
            .args(&settings.run[1..])
            .envs(&settings.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        match log.map(std::fs::File::create) {
            Some(Ok(file)) => {
                command.stderr(file);
            }
            _ => {
                command.stderr(Stdio::null());
            }
        }
        if let Some(dir) = &settings.workdir {
            command.current_dir(dir);
        }
        let mut child = command
            .spawn()
            .map_err(|e| RunError::SutStart(format!("{} : {e}", program.display())))?;
        let Some(stdout) = child.stdout.take() else {
            return Ok(SutProcess {
                child,
                first_line: None,
            });
        };
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let first = match tokio::time::timeout(wait, lines.next_line()).await {
            Ok(Ok(Some(line))) => Some(line.trim().to_owned()),
            Ok(Ok(None)) | Ok(Err(_)) => {
                let status = child.try_wait().ok().flatten();
                return Err(RunError::SutStart(format!(
                    "{} s'est arrêté sans rien écrire ({})",
                    program.display(),
                    status.map_or("état inconnu".to_owned(), |s| s.to_string())
                )));
            }
            Err(_) => None,
        };
        // Keep reading so the process never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(SutProcess {
            child,
            first_line: first,
        })
    }
}

/// Runs a profile's `prepare` command to its end.
async fn prepare_sut(prepare: &StartSettings) -> Result<(), RunError> {
    let program =
        resolve_program(&prepare.run[0], prepare.workdir.as_deref()).map_err(RunError::SutStart)?;
    let mut command = tokio::process::Command::new(&program);
    command.args(&prepare.run[1..]).stdin(Stdio::null());
    if let Some(dir) = &prepare.workdir {
        command.current_dir(dir);
    }
    let output = command
        .output()
        .await
        .map_err(|e| RunError::SutStart(format!("prepare : {} : {e}", program.display())))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(RunError::SutStart(format!(
            "prepare « {} » a échoué ({}) : {}",
            prepare.run.join(" "),
            output.status,
            crate::driver::excerpt(&String::from_utf8_lossy(&output.stderr))
        )))
    }
}

/// The operator, process and driver of an external SUT.
async fn start_external(
    config: &RunConfig,
    profile: &Profile,
    pki: &Arc<pki::Pki>,
) -> Result<(External, Option<SutProcess>), RunError> {
    if let Some(prepare) = &profile.prepare {
        prepare_sut(prepare).await?;
        profile.check_programs().map_err(|message| ProfileError {
            path: profile.path.display().to_string(),
            message,
        })?;
    }
    let o = profile.operator;
    let at = |ip, port| std::net::SocketAddr::new(ip, port);
    let listen = Listen {
        psc_smtp: at(o.psc_address, o.smtp_port),
        psc_imap: at(o.psc_address, o.imap_port),
        app_smtp: at(o.app_address, o.app_smtp_port.unwrap_or(o.smtp_port)),
        app_imap: at(o.app_address, o.app_imap_port.unwrap_or(o.imap_port)),
        http: at(o.psc_address, o.http_port),
        https: at(o.psc_address, o.https_port),
        dns: o.dns_port.map(|p| at(o.psc_address, p)),
    };
    let data = tempfile::tempdir().map_err(|source| RunError::Io {
        path: "dossier temporaire".into(),
        source,
    })?;
    let mut operator_config = OperatorConfig::new(
        config.directory.clone(),
        pki.clone(),
        data.path().to_owned(),
    );
    operator_config.listen = listen;
    operator_config.journal_file = config.journals.as_ref().map(|d| d.join("operateur.jsonl"));
    let operator = operator::Operator::start(operator_config).await?;
    let wait = crate::driver::profile::seconds(profile.timeout, "timeout")
        .unwrap_or(Duration::from_secs(30));
    let process = match &profile.start {
        Some(start) => {
            let log = config.journals.as_ref().map(|d| d.join("sut-stderr.log"));
            Some(SutProcess::start(start, wait, log.as_deref()).await?)
        }
        None => None,
    };
    // The person the run may ask: at the terminal, nobody, or scripted answers.
    let tester = |journal: &operator::Journal| match &config.tester {
        Tester::Terminal => ManualDriver::new(journal.clone(), wait),
        Tester::Absent => ManualDriver::new(journal.clone(), wait).with_interactive(false),
        Tester::Scripted(lines) => {
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            ManualDriver::scripted(journal.clone(), wait, &lines)
        }
    };
    let description = profile.describe();
    let driver: Box<dyn SutDriver> = match profile.driver {
        DriverKind::Command => Box::new(ExternalDriver::new(
            description,
            Box::new(
                CommandTransport::new(profile)?
                    .with_start_line(process.as_ref().and_then(|p| p.first_line.clone())),
            ),
        )),
        DriverKind::Http => {
            let base = profile
                .http
                .as_ref()
                .and_then(|h| h.base_url.clone())
                .or_else(|| process.as_ref().and_then(|p| p.first_line.clone()))
                .ok_or_else(|| {
                    RunError::SutStart(format!(
                        "le processus de « start » n'a pas écrit son URL de base \
                         (http://hôte:port) sur la première ligne de sa sortie dans les {} s \
                         (« timeout » du profil) ; donnez-la sinon dans « http.base_url »",
                        wait.as_secs()
                    ))
                })?;
            Box::new(ExternalDriver::new(
                description,
                Box::new(HttpTransport::new(profile, &base)?),
            ))
        }
        DriverKind::Manual => Box::new(tester(operator.journal())),
    };
    let driver: SharedDriver = Arc::new(tokio::sync::Mutex::new(driver));
    // At a terminal, a tester does what the profile's driver cannot.
    let tester = tester(operator.journal());
    let manual: Option<SharedDriver> =
        (profile.driver != DriverKind::Manual && tester.is_interactive()).then(|| {
            Arc::new(tokio::sync::Mutex::new(
                Box::new(tester) as Box<dyn SutDriver>
            ))
        });
    Ok((
        External {
            operator,
            driver,
            data,
            configured: Default::default(),
            manual,
        },
        process,
    ))
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
    validate(&config)?;
    // For an external SUT on fixed ports, the certificates' CRL and OCSP URLs name the
    // operator's HTTP port, so the SUT can check revocation.
    let http_port = match &config.sut {
        Sut::External(profile) => profile.operator.http_port,
        Sut::Reference { .. } => 80,
    };
    let (pki, _) = pki::ensure(&config.certs, &config.directory.pki_profile_at(http_port))?;
    let root_fingerprint = {
        use sha2::Digest;
        sha2::Sha256::digest(&pki.root.cert.der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    let pki = Arc::new(pki);
    let trust_dir = tempfile::tempdir().map_err(|source| RunError::Io {
        path: "dossier temporaire".into(),
        source,
    })?;
    let trust_files = pki.snapshot(trust_dir.path())?;
    if let Some(dir) = &config.journals {
        std::fs::create_dir_all(dir).map_err(|source| RunError::Io {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let (external, process) = match &config.sut {
        Sut::External(profile) => {
            let (external, process) = start_external(&config, profile, &pki).await?;
            (Some(external), process)
        }
        Sut::Reference { .. } => (None, None),
    };
    let shared_operator = external.is_some();
    let sequential = shared_operator || config.sequential;
    let ctx = Arc::new(RunContext {
        config: config.clone(),
        pki,
        trust_files,
        trust_dir,
        external,
    });
    let collected: Arc<Mutex<HashMap<ScenarioKey, Collected>>> = Arc::default();
    let counter = Arc::new(AtomicUsize::new(0));
    let recorder = Recorder {
        replay: config.replay.clone(),
        ..Recorder::default()
    };

    let before_ctx = ctx.clone();
    let after_ctx = ctx.clone();
    let run_started = started;
    let after_collected = collected.clone();
    let selection = Selection::of(&config);
    let selected = move |name: &str, all: &[&String]| selection.selects(name, all);
    // Progress on the terminal: how many scenarios this run will play.
    let total = if config.progress {
        Selection::of(&config).count(&config.features).unwrap_or(0)
    } else {
        0
    };
    let progress = config.progress;
    let selected = std::sync::Arc::new(selected);
    let filter = selected.clone();

    MssWorld::cucumber()
        .with_writer(recorder.clone())
        .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
        .max_concurrent_scenarios(if sequential { Some(1) } else { Some(64) })
        .before(move |_, _, scenario, world| {
            world.ctx = Some(before_ctx.clone());
            world.scenario = scenario.name.clone();
            world.requirement = scenario
                .tags
                .iter()
                .map(|t| t.trim_start_matches('@'))
                .find(|t| t.starts_with("ECO."))
                .map(str::to_owned);
            async {}.boxed_local()
        })
        .after(move |feature, rule, scenario, finished, world| {
            let ctx = after_ctx.clone();
            let collected = after_collected.clone();
            let index = counter.fetch_add(1, Ordering::Relaxed) + 1;
            let all_tags: Vec<String> = tags(feature, rule, scenario).cloned().collect();
            let scenario_key = key(feature, scenario);
            let feature_name = feature.name.clone();
            let feature_uri = feature.path.as_ref().map(|p| p.display().to_string());
            let scenario_line = scenario.position.line;
            let scenario_name = scenario.name.clone();
            if progress {
                use std::io::Write;
                let ids = requirement_tags(all_tags.iter()).join(" ");
                let mut err = std::io::stderr().lock();
                let _ = write!(
                    err,
                    "\r\x1b[K[{index}/{total}] {ids} — {:.1} s",
                    started.elapsed().as_secs_f64()
                );
                let _ = err.flush();
            }
            let ending = match finished {
                ScenarioFinished::StepPassed => Ending::Passed,
                ScenarioFinished::StepSkipped => Ending::StepSkipped,
                ScenarioFinished::StepFailed(..) => Ending::StepFailed,
                ScenarioFinished::BeforeHookFailed(_) => Ending::BeforeHookFailed,
            };
            let mut taken = None;
            let mut kept_messages = Vec::new();
            let mut attachments = Vec::new();
            if let Some(w) = world {
                attachments = keep_attachments(
                    std::mem::take(&mut w.attachments),
                    ctx.config.attachments.as_deref(),
                );
                let journal_events = w.evidence().events().to_vec();
                // Keep what the SUT sent before the operator's folder goes away.
                if let Some(dir) = &ctx.config.messages {
                    kept_messages = keep_messages(&w.accepted_message_paths(), dir);
                }
                if let Some(tx) = w.replay_stop.take() {
                    let _ = tx.send(true);
                }
                if let Some(replay) = &ctx.config.replay {
                    for f in &w.findings {
                        replay.say(&format!(
                            "  {} [{}] {}",
                            f.requirement,
                            match f.verdict {
                                rules::Verdict::Pass => "conforme",
                                rules::Verdict::Fail => "NON CONFORME",
                                rules::Verdict::NotApplicable => "non applicable",
                                rules::Verdict::NotTested => "non testé",
                            },
                            f.detail
                        ));
                    }
                }
                taken = Some((
                    std::mem::take(&mut w.findings),
                    std::mem::take(&mut w.actions),
                    w.stop.take(),
                    w.family(),
                    w.accepted_message_ids(),
                    w.started,
                    w.own_operator.take(),
                    journal_events,
                ));
                if let Some(op) = w.operator() {
                    op.mark(&format!("fin du scénario « {} »", w.scenario));
                }
            }
            async move {
                let (findings, actions, stop, family, message_ids, started, own_operator, events) =
                    taken.unwrap_or_default();
                let mut journal = None;
                if let Some(dir) = &ctx.config.journals
                    && !events.is_empty()
                {
                    let name = format!(
                        "{index:03}-{}.jsonl",
                        slug(&format!("{} {}", all_tags.join(" "), scenario_name))
                    );
                    let text = evidence::to_jsonl(events.iter());
                    if std::fs::write(dir.join(&name), text).is_ok() {
                        journal = Some(name);
                    }
                }
                if let Some(op) = own_operator {
                    op.shutdown().await;
                }
                let start_ms = started
                    .and_then(|s| s.checked_duration_since(run_started))
                    .map_or(0, |d| d.as_millis() as u64);
                let result = ScenarioResult {
                    feature: feature_name,
                    uri: feature_uri,
                    line: scenario_line,
                    tags: all_tags
                        .iter()
                        .map(|t| t.trim_start_matches('@').to_owned())
                        .collect(),
                    steps: Vec::new(),
                    start_ms,
                    name: scenario_name,
                    requirements: requirement_tags(all_tags.iter()),
                    families: family_tags(all_tags.iter()),
                    family,
                    status: ScenarioStatus::Passed,
                    reason: None,
                    findings,
                    actions,
                    message_ids: message_ids.iter().map(|(id, _)| id.clone()).collect(),
                    message_digests: message_ids.into_iter().map(|(_, d)| d).collect(),
                    messages: kept_messages,
                    attachments,
                    journal,
                    duration_ms: started.map_or(0, |s| s.elapsed().as_millis() as u64),
                };
                collected.lock().unwrap_or_else(|p| p.into_inner()).insert(
                    scenario_key,
                    Collected {
                        result,
                        stop,
                        ending,
                    },
                );
            }
            .boxed_local()
        })
        .filter_run(config.features.clone(), move |feature, rule, scenario| {
            let all: Vec<&String> = tags(feature, rule, scenario).collect();
            filter(&scenario.name, &all)
        })
        .await;

    drop(selected);
    if progress {
        eprint!("\r\x1b[K");
    }
    let recorded =
        std::mem::take(&mut *recorder.recorded.lock().unwrap_or_else(|p| p.into_inner()));
    let mut problems: Vec<String> = recorded
        .parse_errors
        .iter()
        .map(|e| format!("fichier de scénarios illisible : {e}"))
        .collect();
    let collected = std::mem::take(&mut *collected.lock().unwrap_or_else(|p| p.into_inner()));
    let mut scenarios: Vec<ScenarioResult> = collected
        .into_iter()
        .map(|(k, c)| settle(c, recorded.steps.get(&k).map(Vec::as_slice).unwrap_or(&[])))
        .collect();
    scenarios.sort_by(|a, b| {
        let key = |s: &ScenarioResult| {
            s.requirements
                .first()
                .and_then(|r| catalog::id_parts(r))
                .unwrap_or_default()
        };
        key(a).cmp(&key(b)).then_with(|| a.name.cmp(&b.name))
    });
    let found = unique_message_ids(&scenarios);
    attach_run_findings(&mut scenarios, found);
    // Every run-wide finding so far belongs to a scenario.
    let run_findings: Vec<StepFinding> = Vec::new();

    if let Ok(ctx) = Arc::try_unwrap(ctx)
        && let Some(external) = ctx.external
    {
        external.operator.shutdown().await;
    } else if shared_operator {
        problems.push("l'opérateur partagé n'a pas pu être arrêté proprement".into());
    }
    if let Some(process) = process {
        process.stop().await;
    }

    let catalogue = Catalogue::embedded();
    let mut requirements =
        results::aggregate(&catalogue, &config.families, &scenarios, &run_findings);
    // A run restricted to some requirements or scenarios says so of the others.
    if !config.requirements.is_empty() || config.name_filter.is_some() {
        for r in requirements.iter_mut().filter(|r| {
            r.verdict == results::Verdict::NotTested
                && r.scenarios.is_empty()
                && r.explanation == results::NO_SCENARIO
        }) {
            r.explanation = "hors de la sélection de cette campagne (--requirement, --name)".into();
        }
    }
    let summary = results::summarize(&requirements, &scenarios);
    let nil = observed_nil(&scenarios, config.messages.as_deref());
    Ok(RunResults {
        harness_version: env!("CARGO_PKG_VERSION").to_owned(),
        sut: config.sut_description(),
        families: config.families.clone(),
        started_at,
        duration_ms: started.elapsed().as_millis() as u64,
        summary,
        requirements,
        scenarios,
        run_findings,
        problems,
        baseline: None,
        stale_waivers: Vec::new(),
        run_info: results::RunInfo {
            driver: match &config.sut {
                Sut::Reference { .. } => "client de référence (en processus)".to_owned(),
                Sut::External(profile) => format!("{:?}", profile.driver).to_lowercase(),
            },
            root_sha256: root_fingerprint,
            commit: None,
            nil,
        },
    })
}

/// The `X-MSS-NIL` values (the software's product reference) of the messages the SUT sent, as
/// kept in `dir`, in order of first appearance: what identifies the SUT in the report's header.
fn observed_nil(scenarios: &[ScenarioResult], dir: Option<&Path>) -> Vec<String> {
    let Some(dir) = dir else {
        return Vec::new();
    };
    let mut seen: Vec<String> = Vec::new();
    for name in scenarios.iter().flat_map(|s| s.messages.iter()) {
        let Ok(bytes) = std::fs::read(dir.join(name)) else {
            continue;
        };
        let Ok(message) = rules::Message::parse(&bytes) else {
            continue;
        };
        for value in message.header_values("X-MSS-NIL") {
            let value = value.trim().to_owned();
            if !value.is_empty() && !seen.contains(&value) {
                seen.push(value);
            }
        }
    }
    seen
}

/// Copies the testers' evidence files into `dir` (named by digest and file name, so two
/// attestations with one file share it).
fn keep_attachments(
    given: Vec<(String, crate::driver::EvidenceFile)>,
    dir: Option<&Path>,
) -> Vec<results::Attachment> {
    given
        .into_iter()
        .map(|(statement, f)| {
            let base = f
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let safe: String = base
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || ".-_".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let name = format!("{}-{safe}", &f.sha256[..f.sha256.len().min(12)]);
            let file = dir.and_then(|d| {
                std::fs::create_dir_all(d).ok()?;
                std::fs::copy(&f.path, d.join(&name)).ok()?;
                Some(name)
            });
            results::Attachment {
                statement,
                file,
                source: f.path.display().to_string(),
                bytes: f.bytes,
                sha256: f.sha256,
            }
        })
        .collect()
}

/// Copies messages into `dir` under their own file names (plus `.eml`, for a browser);
/// returns the names copied.
fn keep_messages(paths: &[PathBuf], dir: &Path) -> Vec<String> {
    if paths.is_empty() || std::fs::create_dir_all(dir).is_err() {
        return Vec::new();
    }
    paths
        .iter()
        .filter_map(|p| {
            let name = format!("{}.eml", p.file_name()?.to_string_lossy());
            std::fs::copy(p, dir.join(&name)).ok().map(|_| name)
        })
        .collect()
}

/// The steps of a scenario as the reports show them: a judging step that found a
/// non-conformity has failed, with its findings as the message.
fn step_records(steps: &[StepSeen], findings: &[StepFinding]) -> Vec<StepRecord> {
    steps
        .iter()
        .map(|s| {
            let sentence = s.sentence();
            let mine: Vec<&StepFinding> = findings.iter().filter(|f| f.step == sentence).collect();
            let failures: Vec<String> = mine
                .iter()
                .filter(|f| f.verdict == rules::Verdict::Fail)
                .map(|f| format!("{} : {}", f.requirement, f.detail))
                .collect();
            let unjudged =
                !mine.is_empty() && mine.iter().all(|f| f.verdict == rules::Verdict::NotTested);
            let (status, message) = match &s.outcome {
                StepOutcome::Failed(e) => (StepStatus::Error, Some(e.clone())),
                StepOutcome::Undefined => (StepStatus::Undefined, None),
                StepOutcome::NotRun => (StepStatus::Skipped, None),
                StepOutcome::Passed if !failures.is_empty() => {
                    (StepStatus::Failed, Some(failures.join("\n")))
                }
                StepOutcome::Passed if unjudged => (
                    StepStatus::NotJudged,
                    Some(
                        mine.iter()
                            .map(|f| format!("{} : {}", f.requirement, f.detail))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    ),
                ),
                StepOutcome::Passed => (StepStatus::Passed, None),
            };
            StepRecord {
                keyword: s.keyword.clone(),
                text: s.text.clone(),
                line: s.line,
                status,
                duration_us: s.duration.as_micros() as u64,
                definition: s.definition.clone(),
                message,
            }
        })
        .collect()
}

/// The status of a scenario from what its steps judged and how it ended.
fn settle(c: Collected, steps: &[StepSeen]) -> ScenarioResult {
    let mut r = c.result;
    r.steps = step_records(steps, &r.findings);
    let first_fail = r
        .findings
        .iter()
        .find(|f| f.verdict == rules::Verdict::Fail)
        .map(|f| format!("{} : {}", f.requirement, f.detail));
    let undefined = steps
        .iter()
        .find(|s| s.outcome == StepOutcome::Undefined)
        .map(StepSeen::sentence);
    let broken = steps.iter().find_map(|s| match &s.outcome {
        StepOutcome::Failed(e) => Some((s.sentence(), e.clone())),
        _ => None,
    });
    // A non-conformity a step found stands even if the bench failed later in the scenario.
    let (status, reason) = match (&c.stop, &c.ending) {
        (Some(Stop::HarnessError(why)), _) if first_fail.is_some() => (
            ScenarioStatus::Failed,
            first_fail.map(|f| format!("{f} (puis erreur du banc : {why})")),
        ),
        (Some(Stop::HarnessError(why)), _) => (ScenarioStatus::HarnessError, Some(why.clone())),
        _ if first_fail.is_some() => (ScenarioStatus::Failed, first_fail),
        (Some(Stop::NotTested(why)), _) => (ScenarioStatus::NotTested, Some(why.clone())),
        (None, Ending::StepSkipped) => (
            ScenarioStatus::HarnessError,
            Some(format!(
                "étape sans définition dans le banc : « {} »",
                undefined.unwrap_or_else(|| "?".into())
            )),
        ),
        (None, Ending::StepFailed) => (
            ScenarioStatus::HarnessError,
            Some(match broken {
                Some((step, e)) => format!("l'étape « {step} » a échoué dans le banc : {e}"),
                None => "une étape a échoué dans le banc".into(),
            }),
        ),
        (None, Ending::BeforeHookFailed) => (
            ScenarioStatus::HarnessError,
            Some("la préparation du scénario a échoué".into()),
        ),
        (None, Ending::Passed) if r.findings.is_empty() => (
            ScenarioStatus::HarnessError,
            Some("aucune étape du scénario ne juge quoi que ce soit (défaut du banc)".into()),
        ),
        (None, Ending::Passed)
            if r.findings
                .iter()
                .all(|f| f.verdict == rules::Verdict::NotTested) =>
        {
            let why: Vec<&str> = r.findings.iter().map(|f| f.detail.as_str()).collect();
            (ScenarioStatus::NotTested, Some(why.join(" ; ")))
        }
        (None, Ending::Passed) => (ScenarioStatus::Passed, None),
    };
    r.status = status;
    r.reason = reason;
    r
}

/// ECO.2.2.1 across the run: a Message-ID the operator accepted in an earlier scenario, as a
/// finding of the scenario that reused it (its index), whose evidence is its own messages.
fn unique_message_ids(scenarios: &[ScenarioResult]) -> Vec<(usize, StepFinding)> {
    let mut first_seen: HashMap<&str, (&str, Option<&str>)> = HashMap::new();
    let mut findings = Vec::new();
    // In the order they ran: the scenario named is the one that used the Message-ID first.
    let mut order: Vec<usize> = (0..scenarios.len()).collect();
    order.sort_by_key(|&i| scenarios[i].start_ms);
    for index in order {
        let s = &scenarios[index];
        let mut within = std::collections::HashSet::new();
        for (i, id) in s.message_ids.iter().enumerate() {
            if !within.insert(id.as_str()) {
                // Repeated inside one scenario: its own ECO.2.2.1 step judges that.
                continue;
            }
            let digest = s
                .message_digests
                .get(i)
                .map(String::as_str)
                .filter(|d| !d.is_empty());
            match first_seen.get(id.as_str()) {
                // The same message again, byte for byte: a retransmission, not a new message.
                Some((_, Some(first))) if Some(*first) == digest => {}
                Some((other, _)) => findings.push((
                    index,
                    StepFinding {
                        step: CAMPAIGN_STEP.into(),
                        requirement: rules::eco_2_2_1::ID.into(),
                        verdict: rules::Verdict::Fail,
                        detail: format!(
                            "le Message-ID <{id}> d'un message de ce scénario avait déjà servi \
                             dans le scénario « {other} » de la campagne"
                        ),
                        evidence: s
                            .messages
                            .iter()
                            .map(|m| format!("message de ce scénario : {m}"))
                            .collect(),
                        conceptual: None,
                    },
                )),
                None => {
                    first_seen.insert(id, (&s.name, digest));
                }
            }
        }
    }
    findings
}

/// The step a run-wide finding is attributed to.
pub const CAMPAIGN_STEP: &str = "campagne : unicité des Message-ID entre scénarios";

/// The keyword of that step when it stands on its own (line 0: in no feature file).
pub const CAMPAIGN_KEYWORD: &str = "Après ";

/// Adds the run-wide findings to their scenarios: one that passed has failed now.
fn attach_run_findings(scenarios: &mut [ScenarioResult], found: Vec<(usize, StepFinding)>) {
    for (index, finding) in found {
        let Some(s) = scenarios.get_mut(index) else {
            continue;
        };
        let text = format!("{} : {}", finding.requirement, finding.detail);
        if s.status == ScenarioStatus::Passed {
            s.status = ScenarioStatus::Failed;
            s.reason = Some(text.clone());
        }
        // The step that judged the requirement in this scenario fails with it; without one,
        // the campaign's check shows as a step of its own after the scenario's (never a step
        // that judged something else).
        let judged = s
            .findings
            .iter()
            .filter(|f| f.requirement == finding.requirement)
            .map(|f| f.step.clone())
            .collect::<Vec<_>>();
        let index = s
            .steps
            .iter()
            .rposition(|st| judged.contains(&format!("{}{}", st.keyword, st.text)));
        match index.and_then(|i| s.steps.get_mut(i)) {
            Some(st) if matches!(st.status, StepStatus::Passed | StepStatus::Failed) => {
                st.status = StepStatus::Failed;
                st.message = Some(match st.message.take() {
                    Some(m) => format!("{m}\n{text}"),
                    None => text,
                });
            }
            Some(_) => {}
            None => s.steps.push(StepRecord {
                keyword: CAMPAIGN_KEYWORD.into(),
                text: CAMPAIGN_STEP.into(),
                line: 0,
                status: StepStatus::Failed,
                duration_us: 0,
                definition: None,
                message: Some(text),
            }),
        }
        s.findings.push(finding);
    }
}

/// Every requirement tag of every feature file, with the file, for consistency checks.
pub fn feature_tags(features: &Path) -> Result<Vec<(String, String, Vec<String>)>, String> {
    let mut out = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(features)
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

#[cfg(test)]
mod campaign_tests {
    use super::*;

    fn sent(name: &str, start_ms: u64, id: &str, digest: &str) -> ScenarioResult {
        ScenarioResult {
            name: name.into(),
            start_ms,
            message_ids: vec![id.into()],
            message_digests: vec![digest.into()],
            ..ScenarioResult::default()
        }
    }

    /// A Message-ID used again on another message is a reuse, named after the scenario that
    /// used it first in time; the same message again, byte for byte, is a retransmission.
    #[test]
    fn reuse_and_retransmission_across_scenarios() {
        let found =
            unique_message_ids(&[sent("B", 20, "x@lps", "d2"), sent("A", 10, "x@lps", "d1")]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, 0, "the later scenario reused it");
        assert!(found[0].1.detail.contains("« A »"), "{}", found[0].1.detail);
        let found =
            unique_message_ids(&[sent("A", 10, "x@lps", "d1"), sent("B", 20, "x@lps", "d1")]);
        assert!(found.is_empty(), "a retransmission is not a reuse");
    }
}

#[cfg(test)]
mod validation_tests {
    use super::*;

    #[test]
    fn suggestions_name_the_closest() {
        assert_eq!(distance("ECO.9.9.9", "ECO.1.1.9"), 2);
        let ids = ["ECO.1.0.1", "ECO.2.4.3", "ECO.1.1.9"];
        assert_eq!(
            closest("eco.2.4.4", ids.into_iter()).as_deref(),
            Some("ECO.2.4.3")
        );
        let features = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../features");
        let mut config = RunConfig::reference(features, "certs".into());
        config.requirements = vec!["ECO.9.9.9".into()];
        let e = validate(&config).expect_err("unknown");
        assert!(e.to_string().contains("« ECO.1.1.9 »"), "{e}");
        config.requirements.clear();
        config.name_filter = Some("aucun scénario n'a ce nom".into());
        assert!(matches!(
            validate(&config),
            Err(RunError::UnknownScenario { .. })
        ));
        config.name_filter = Some("Message-ID".into());
        assert!(validate(&config).is_ok());
        config.timeout = Duration::ZERO;
        assert!(matches!(validate(&config), Err(RunError::ZeroTimeout)));
        config.timeout = Duration::from_secs(5);
        // Selections that play nothing: a name outside the requirement, a requirement without
        // scenario (incomplete text), a family the requirement does not concern.
        config.requirements = vec!["ECO.2.2.1".into()];
        config.name_filter = Some("UTF-8".into());
        assert!(matches!(
            validate(&config),
            Err(RunError::NothingSelected(_))
        ));
        config.name_filter = None;
        config.requirements = vec!["ECO.1.2.2".into()];
        assert!(matches!(
            validate(&config),
            Err(RunError::NothingSelected(_))
        ));
        config.requirements = vec!["ECO.2.2.8".into()];
        config.families = vec![Family::App];
        let e = validate(&config).expect_err("nothing for APP");
        assert!(e.to_string().contains("familles APP"), "{e}");
        let names = ["parties texte en UTF-8", "un Message-ID RFC 5322 unique"];
        assert_eq!(
            closest_name("zzz Message-ID", names.into_iter()).as_deref(),
            Some("un Message-ID RFC 5322 unique")
        );
    }
}
