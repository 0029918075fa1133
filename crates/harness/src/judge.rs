//! `mss-harness judge`: the judgement of a session recorded by `mss-operator --journal` while a
//! tester used an LPS by hand. The same rules and report formats as a scenario run, for every
//! requirement the recording can show; the rest is `non testé`.
//!
//! Nothing is known of what the tester meant to do: the session rules take each attempt's BAL
//! as given, and a requirement is `conforme` only when something in the recording positively
//! shows it. Connections are judged per entry point (Pro Santé Connect: family PER_ORG;
//! certificate: APP); messages accepted over SMTP are judged with every offline message rule,
//! read from where the operator stored them or from `--spool`.

use std::path::{Path, PathBuf};

use catalog::{Catalogue, Family};
use evidence::{EntryPoint, EventKind, SessionEvidence};
use rules::session::Expectation;

use crate::results::{self, RunResults, ScenarioResult, ScenarioStatus, StepFinding};

/// Why a recording could not be judged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JudgeError {
    /// The journal file cannot be read.
    #[error("{path} : lecture impossible ({source})")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a journal of the operator (or is damaged).
    #[error("{path} : {source}{hint}")]
    Journal {
        /// The file.
        path: String,
        /// What is wrong, with the line.
        source: evidence::ReadError,
        /// What to do about it.
        hint: String,
    },
    /// The journal shows no client connection: nothing to judge.
    #[error(
        "{0} : le journal ne montre aucune connexion d'un client (l'opérateur a-t-il servi le \
         LPS pendant l'enregistrement ?) — rien à juger"
    )]
    Empty(String),
}

/// What to judge.
#[derive(Debug, Clone)]
pub struct JudgeConfig {
    /// The recorded journal (JSON lines).
    pub journal: PathBuf,
    /// Folder holding the accepted messages, when they moved since the recording (the file
    /// names of the journal's paths are looked up there).
    pub spool: Option<PathBuf>,
    /// Families of the LPS; empty: those the recording shows.
    pub families: Vec<Family>,
}

fn family_of(entry: EntryPoint) -> Family {
    match entry {
        EntryPoint::Psc => Family::PerOrg,
        EntryPoint::App => Family::App,
    }
}

fn scenario(
    name: String,
    requirement: &str,
    family: Family,
    findings: Vec<StepFinding>,
) -> ScenarioResult {
    let status = if findings.iter().any(|f| f.verdict == rules::Verdict::Fail) {
        ScenarioStatus::Failed
    } else if findings.iter().any(|f| f.verdict == rules::Verdict::Pass) {
        ScenarioStatus::Passed
    } else {
        ScenarioStatus::NotTested
    };
    let reason = match status {
        ScenarioStatus::Passed => None,
        _ => findings
            .iter()
            .find(|f| f.verdict == rules::Verdict::Fail)
            .or(findings.first())
            .map(|f| f.detail.clone()),
    };
    ScenarioResult {
        feature: "session enregistrée".into(),
        name,
        requirements: vec![requirement.to_owned()],
        families: vec![family],
        family: Some(family),
        status,
        reason,
        findings,
        actions: Vec::new(),
        message_ids: Vec::new(),
        messages: Vec::new(),
        journal: None,
        duration_ms: 0,
        ..ScenarioResult::default()
    }
}

/// Where a recorded message is now: as recorded, or by its file name in `spool` (the
/// operator's spool folder or its `new/` and `cur/`, or a report's `messages/` where it has
/// `.eml` appended).
fn message_path(recorded: &str, spool: Option<&Path>) -> PathBuf {
    let Some(dir) = spool else {
        return PathBuf::from(recorded);
    };
    let name = Path::new(recorded)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let candidates = [
        dir.join(&name),
        dir.join("new").join(&name),
        dir.join("cur").join(&name),
        dir.join(format!("{name}.eml")),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .unwrap_or_else(|| dir.join(&name))
}

/// Judges a recorded journal.
pub fn judge(config: &JudgeConfig) -> Result<RunResults, JudgeError> {
    let path = config.journal.display().to_string();
    let text = std::fs::read_to_string(&config.journal).map_err(|source| JudgeError::Read {
        path: path.clone(),
        source,
    })?;
    let events = evidence::read_jsonl(&text).map_err(|source| {
        let hint = match &source {
            evidence::ReadError::Truncated { line } => format!(
                " ; pour juger les {} lignes complètes : head -n {} {path} > complet.jsonl",
                line - 1,
                line - 1
            ),
            _ => String::new(),
        };
        JudgeError::Journal {
            path: path.clone(),
            source,
            hint,
        }
    })?;
    let at = events.first().map(|e| e.at);
    let all = SessionEvidence::new(events);
    let entries = all.entry_points();
    if entries.is_empty() {
        return Err(JudgeError::Empty(path));
    }
    let families = if config.families.is_empty() {
        let mut f: Vec<Family> = entries.iter().map(|e| family_of(*e)).collect();
        f.dedup();
        f
    } else {
        config.families.clone()
    };
    let expected = Expectation::default();
    let mut scenarios = Vec::new();
    for entry in &entries {
        let family = family_of(*entry);
        let evidence = all.restricted_to(*entry);
        let mut session = vec![
            rules::eco_1_0_1::check(&evidence, &expected),
            rules::eco_1_0_2::check(&evidence, &expected),
        ];
        session.push(match entry {
            EntryPoint::Psc => rules::eco_1_2_1::check(&evidence, &expected),
            EntryPoint::App => rules::eco_1_3_1::check(&evidence, &expected),
        });
        session.push(rules::eco_1_1_2::check(&evidence, &expected));
        session.push(rules::eco_1_1_3::check(&evidence, &expected));
        // The operator's profiles a tester switched during the recording (control API): each
        // judged when connections were made under it.
        session.extend(
            [
                rules::eco_1_0_1::check_no_starttls(&evidence, &expected),
                rules::eco_1_0_2::check_no_starttls(&evidence, &expected),
                rules::eco_1_1_1::check_tls12(&evidence, &expected),
                rules::eco_1_1_1::check_refusal(&evidence, &expected),
                rules::eco_1_1_3::check_refusal(&evidence, &expected),
                rules::eco_1_1_5::check_refusal(&evidence, &expected),
                rules::eco_1_1_10::check_refusal(&evidence, &expected),
                rules::eco_1_1_6::check_refusal(&evidence, &expected),
                rules::eco_1_1_7::check(&evidence, &expected),
            ]
            .into_iter()
            .filter(|f| f.verdict != rules::Verdict::NotTested),
        );
        for finding in session {
            let id = finding.requirement;
            let mut step = StepFinding::from_rule("session enregistrée", finding);
            if id == rules::eco_1_1_3::ID && step.verdict != rules::Verdict::NotTested {
                step =
                    step.with_conceptual(rules::eco_1_1_3::check_conceptual(&evidence, &expected));
            }
            scenarios.push(scenario(
                format!("session enregistrée — {id} ({})", family.tag()),
                id,
                family,
                vec![step],
            ));
        }
        // Messages accepted on this entry point, with every offline message rule.
        let mut per_requirement: std::collections::BTreeMap<&'static str, Vec<StepFinding>> =
            Default::default();
        let mut seen = std::collections::BTreeMap::new();
        let mut digests = std::collections::HashSet::new();
        for (index, event) in evidence.accepted_messages().iter().enumerate() {
            let EventKind::MessageAccepted { path: stored, .. } = &event.kind else {
                continue;
            };
            let file = message_path(stored, config.spool.as_deref());
            let label = format!("message n°{} ({})", index + 1, file.display());
            let bytes = match std::fs::read(&file) {
                Ok(b) => b,
                Err(e) => {
                    for (id, _) in rules::OFFLINE {
                        per_requirement.entry(id).or_default().push(StepFinding {
                            step: label.clone(),
                            requirement: id.to_owned(),
                            verdict: rules::Verdict::NotTested,
                            detail: format!(
                                "message indisponible ({e}) : donnez le dossier des messages avec --spool"
                            ),
                            evidence: Vec::new(),
                            conceptual: None,
                        });
                    }
                    continue;
                }
            };
            // The same message accepted again byte for byte (a retransmission after a lost
            // reply) is one message: judged once.
            let digest: [u8; 32] = {
                use sha2::Digest;
                sha2::Sha256::digest(&bytes).into()
            };
            if !digests.insert(digest) {
                continue;
            }
            let context = rules::Context {
                family,
                seen_message_ids: seen.clone(),
                ..rules::Context::default()
            };
            match rules::Message::parse(&bytes) {
                Ok(message) => {
                    for finding in rules::check_all(&message, &context) {
                        let id = finding.requirement;
                        let mut f = StepFinding::from_rule(&label, finding);
                        f.detail = format!("{label} : {}", f.detail);
                        per_requirement.entry(id).or_default().push(f);
                    }
                    if let Some(mid) = message.parsed().message_id() {
                        seen.entry(mid.to_owned()).or_insert_with(|| label.clone());
                    }
                }
                Err(e) => {
                    per_requirement
                        .entry(rules::eco_2_2_1::ID)
                        .or_default()
                        .push(StepFinding {
                            step: label.clone(),
                            requirement: rules::eco_2_2_1::ID.into(),
                            verdict: rules::Verdict::Fail,
                            detail: format!("{label} : message illisible ({e})"),
                            evidence: Vec::new(),
                            conceptual: None,
                        });
                }
            }
        }
        for (id, findings) in per_requirement {
            scenarios.push(scenario(
                format!("session enregistrée — {id} ({}), messages", family.tag()),
                id,
                family,
                findings,
            ));
        }
    }
    let catalogue = Catalogue::embedded();
    let mut requirements = results::aggregate(&catalogue, &families, &scenarios, &[]);
    for r in &mut requirements {
        if r.scenarios.is_empty() && r.verdict == crate::Verdict::NotTested {
            r.explanation = "la session enregistrée ne permet pas de la juger".into();
        }
    }
    let summary = results::summarize(&requirements, &scenarios);
    Ok(RunResults {
        harness_version: env!("CARGO_PKG_VERSION").to_owned(),
        sut: format!(
            "session enregistrée ({})",
            config
                .journal
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or(path)
        ),
        families,
        started_at: at
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default(),
        duration_ms: 0,
        summary,
        requirements,
        scenarios,
        run_findings: Vec::new(),
        problems: Vec::new(),
        baseline: None,
        stale_waivers: Vec::new(),
        run_info: Default::default(),
    })
}
