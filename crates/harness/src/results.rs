//! The results model: what each scenario judged (typed findings, never panic strings), and the
//! verdict of each requirement.
//!
//! Precedence when a requirement has several scenarios: a failure wins; then a harness error
//! (the bench could not judge: fix it before trusting a pass); then a pass, stated for the
//! families actually exercised; otherwise `non testé` with the reasons.

use catalog::{Catalogue, Family, Level, Method};
use serde::Serialize;

/// Outcome of one scenario.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioStatus {
    /// Every judging step passed.
    Passed,
    /// A judging step failed: the SUT does not conform.
    Failed,
    /// The scenario could not judge (an action the driver lacks, nothing observed).
    #[default]
    NotTested,
    /// The bench failed (set-up, an undefined step, a broken driver): not the SUT's fault.
    HarnessError,
}

impl ScenarioStatus {
    /// French label.
    pub fn label(self) -> &'static str {
        match self {
            ScenarioStatus::Passed => "réussi",
            ScenarioStatus::Failed => "en échec",
            ScenarioStatus::NotTested => "non testé",
            ScenarioStatus::HarnessError => "erreur du banc",
        }
    }

    /// A one-character mark for terminals.
    pub fn mark(self) -> &'static str {
        match self {
            ScenarioStatus::Passed => "✔",
            ScenarioStatus::Failed => "✘",
            ScenarioStatus::NotTested => "○",
            ScenarioStatus::HarnessError => "⚠",
        }
    }
}

/// What one judging step concluded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepFinding {
    /// The Gherkin step that judged (or `campagne` for run-wide checks).
    pub step: String,
    /// Requirement ID.
    pub requirement: String,
    /// The rule's verdict.
    pub verdict: rules::Verdict,
    /// Explanation (French).
    pub detail: String,
    /// What shows it (transcript lines…).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// Where a requirement has a strict and a conceptual reading (ECO.1.1.3: suites offered
    /// vs negotiated), the conceptual one, shown beside the verdict; the verdict is strict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conceptual: Option<Conceptual>,
}

/// The conceptual reading of a finding whose verdict follows the letter of the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conceptual {
    /// Its verdict.
    pub verdict: rules::Verdict,
    /// Explanation (French).
    pub detail: String,
}

impl StepFinding {
    /// A finding of a rule, attributed to a step.
    pub fn from_rule(step: &str, finding: rules::Finding) -> Self {
        StepFinding {
            step: step.to_owned(),
            requirement: finding.requirement.to_owned(),
            verdict: finding.verdict,
            detail: finding.detail,
            evidence: finding.evidence,
            conceptual: None,
        }
    }

    /// The same, with the conceptual reading of the requirement beside it.
    pub fn with_conceptual(mut self, conceptual: rules::Finding) -> Self {
        self.conceptual = Some(Conceptual {
            verdict: conceptual.verdict,
            detail: conceptual.detail,
        });
        self
    }
}

/// One action asked of the SUT through its driver, and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionRecord {
    /// The action (`send`, `sync`…).
    pub action: String,
    /// Whether the driver reported success.
    pub ok: bool,
    /// What happened (French).
    pub outcome: String,
}

/// What became of one Gherkin step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Ran; if it judged, the SUT conformed (or it could not judge: see the findings).
    Passed,
    /// It judged the SUT non-conformant (its findings say why).
    Failed,
    /// It ran but could not judge (nothing observed, an action the driver lacks).
    NotJudged,
    /// The bench failed in it (an error, a broken driver).
    Error,
    /// No step definition matched its text.
    Undefined,
    /// Never ran: an earlier step failed in the bench or had no definition.
    Skipped,
}

/// One Gherkin step of a scenario (its background's steps first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepRecord {
    /// The keyword as written (`Étant donné `, `Quand `, `Alors `, `Et `), trailing space kept.
    pub keyword: String,
    /// The text after the keyword.
    pub text: String,
    /// Line in the feature file.
    pub line: usize,
    /// Outcome.
    pub status: StepStatus,
    /// Duration in microseconds.
    pub duration_us: u64,
    /// The step function that matched it, `path:line` in the harness's sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
    /// Why it failed (the findings, or the bench's error), in French.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// An evidence file a tester gave with an attestation, copied into the report folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    /// The statement attested.
    pub statement: String,
    /// Its name inside the report's `preuves/` folder (none when it could not be copied).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Where the tester's file was.
    pub source: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its SHA-256, hexadecimal.
    pub sha256: String,
}

/// One scenario run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScenarioResult {
    /// Feature name.
    pub feature: String,
    /// The feature file, as the run was given it (absent for a recorded session).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Line of the scenario in its feature file (0 for a recorded session).
    pub line: usize,
    /// Every tag that applies to it (the feature's included), `@` removed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Its steps, background first, with what became of each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepRecord>,
    /// When it started, in milliseconds after the run started.
    pub start_ms: u64,
    /// Scenario name.
    pub name: String,
    /// Requirement IDs it verifies (its `@ECO.x.y.z` tags).
    pub requirements: Vec<String>,
    /// Families it applies to (its tags).
    pub families: Vec<Family>,
    /// The family it exercised (that of the BAL the SUT was configured for).
    pub family: Option<Family>,
    /// Outcome.
    pub status: ScenarioStatus,
    /// Why it failed, was not tested, or what the bench could not do.
    pub reason: Option<String>,
    /// What its judging steps concluded.
    pub findings: Vec<StepFinding>,
    /// What was asked of the SUT.
    pub actions: Vec<ActionRecord>,
    /// Message-IDs of the messages the operator accepted from the SUT (run-wide uniqueness).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub message_ids: Vec<String>,
    /// The SHA-256 of each of those messages (hex), in the same order: the same Message-ID on
    /// identical bytes is a retransmission.
    #[serde(skip)]
    pub message_digests: Vec<String>,
    /// File names of those messages, as received, in the messages folder (`messages/`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<String>,
    /// Evidence files testers gave with their attestations.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// File name of the scenario's journal inside the journals folder (`journaux/`).
    pub journal: Option<String>,
    /// Duration in milliseconds.
    pub duration_ms: u64,
}

/// Verdict of a requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Its scenarios passed (for the families the explanation names).
    Passed,
    /// A scenario failed.
    Failed,
    /// The requirement does not concern the SUT's families.
    NotApplicable,
    /// No scenario could verify it in this run; the explanation says why.
    NotTested,
    /// Optional requirement: reported, never failed.
    Informational,
    /// The bench could not judge it (set-up, undefined step, broken driver).
    HarnessError,
    /// Passed on the tester's word alone (what the harness cannot see).
    Attested,
    /// Waived: the editor's waiver file names it, with a reason; never a pass.
    Waived,
}

impl Verdict {
    /// French label for reports.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Passed => "Conforme",
            Verdict::Failed => "Non conforme",
            Verdict::NotApplicable => "Non applicable",
            Verdict::NotTested => "Non testée",
            Verdict::Informational => "Informative",
            Verdict::HarnessError => "Erreur du banc",
            Verdict::Attested => "Attestée",
            Verdict::Waived => "Dérogée",
        }
    }
}

impl RequirementResult {
    /// Failed, a bench error, or scenarios that ran without judging it (fully): what a CI
    /// run must not let through unnoticed.
    pub fn unsettled(&self) -> bool {
        match self.verdict {
            Verdict::Failed | Verdict::HarnessError => true,
            Verdict::NotTested => !self.scenarios.is_empty() && !self.awaiting_attestation,
            Verdict::Passed => self.partial,
            // Attested, waived, informational, not applicable: settled.
            _ => false,
        }
    }
}

/// The verdict of one requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementResult {
    /// ID.
    pub id: String,
    /// French title.
    pub title: String,
    /// French text.
    pub text: String,
    /// DOIT or PEUT.
    pub level: Level,
    /// Families it applies to.
    pub families: Vec<Family>,
    /// Verification method.
    pub method: Method,
    /// Verdict.
    pub verdict: Verdict,
    /// Why this verdict (French).
    pub explanation: String,
    /// Families for which it passed.
    pub families_passed: Vec<Family>,
    /// Passed, but some of its scenarios could not judge (a family or a case not exercised):
    /// the explanation says which.
    pub partial: bool,
    /// Indexes of its scenarios in [`RunResults::scenarios`].
    pub scenarios: Vec<usize>,
    /// Not tested only because nobody was at the terminal to attest what the harness cannot
    /// see: expected of a run in CI, not a problem of the run.
    pub awaiting_attestation: bool,
    /// Where the requirement has a conceptual reading beside the strict one (the verdict):
    /// what it concludes. Shown side by side; never the verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conceptual: Option<ConceptualResult>,
}

/// The conceptual reading of a requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConceptualResult {
    /// `passed`, `failed` or `not_tested`.
    pub verdict: Verdict,
    /// Why (French).
    pub explanation: String,
}

/// Why a requirement no scenario of the run verified is « non testée ».
pub const NO_SCENARIO: &str = "aucun scénario de cette campagne ne la vérifie encore";

/// Starts the detail of a finding that passed on the tester's word alone.
pub const ATTESTED: &str = "attesté par le testeur";

/// Marks the detail of a finding that waits for a tester's attestation no one could give.
pub const AWAITING_ATTESTATION: &str = "attestation du testeur non recueillie";

/// Counts of verdicts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Requirements passed.
    pub passed: usize,
    /// Requirements failed.
    pub failed: usize,
    /// Requirements not applicable.
    pub not_applicable: usize,
    /// Requirements not tested.
    pub not_tested: usize,
    /// Informational requirements.
    pub informational: usize,
    /// Requirements the bench could not judge.
    pub harness_errors: usize,
    /// Requirements passed on the tester's word.
    pub attested: usize,
    /// Requirements waived.
    pub waived: usize,
    /// Scenarios run.
    pub scenarios: usize,
    /// Scenarios failed.
    pub scenarios_failed: usize,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunResults {
    /// Version of the harness.
    pub harness_version: String,
    /// The system under test.
    pub sut: String,
    /// Its families.
    pub families: Vec<Family>,
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// Duration in milliseconds.
    pub duration_ms: u64,
    /// Verdict counts.
    pub summary: Summary,
    /// One entry per requirement of the catalogue, in its order.
    pub requirements: Vec<RequirementResult>,
    /// Every scenario run.
    pub scenarios: Vec<ScenarioResult>,
    /// Findings of run-wide checks (e.g. a Message-ID used in two scenarios).
    pub run_findings: Vec<StepFinding>,
    /// Problems of the run itself (unreadable feature files…).
    pub problems: Vec<String>,
    /// How the verdicts compare with the expected results given (`--baseline`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<crate::baseline::Comparison>,
    /// Waivers whose requirement passes now: to remove from the waiver file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stale_waivers: Vec<String>,
    /// How the run was made: driver, fake IGC Santé, harness commit.
    #[serde(default)]
    pub run_info: RunInfo,
}

/// How a run was made, for the report's header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunInfo {
    /// The driver (`référence (en processus)`, `command`, `http`, `manual`, `journal enregistré`).
    pub driver: String,
    /// SHA-256 of the fake IGC Santé root certificate (DER), hex with colons.
    pub root_sha256: String,
    /// The harness's git commit, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The `X-MSS-NIL` values of the messages the SUT sent (its product reference).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nil: Vec<String>,
}

/// `n` and the singular or plural of a French noun phrase.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n > 1 { many } else { one })
}

/// The offset of Paris time at a UTC instant: UTC+2 from the last Sunday of March at 01:00
/// UTC to the last Sunday of October at 01:00 UTC (EU summer time), UTC+1 otherwise.
fn paris_offset(t: time::OffsetDateTime) -> time::UtcOffset {
    let t = t.to_offset(time::UtcOffset::UTC);
    let last_sunday = |month: time::Month| {
        let days = time::util::days_in_month(month, t.year());
        let last = time::Date::from_calendar_date(t.year(), month, days).ok()?;
        let back = last.weekday().number_days_from_sunday();
        Some(
            (last - time::Duration::days(i64::from(back)))
                .with_hms(1, 0, 0)
                .ok()?
                .assume_utc(),
        )
    };
    let summer = match (
        last_sunday(time::Month::March),
        last_sunday(time::Month::October),
    ) {
        (Some(start), Some(end)) => t >= start && t < end,
        _ => false,
    };
    time::UtcOffset::from_hms(if summer { 2 } else { 1 }, 0, 0).unwrap_or(time::UtcOffset::UTC)
}

/// An RFC 3339 instant in French, in Paris time: `mercredi 2 décembre 2026 à 02 h 55 (heure de
/// Paris)`.
pub fn french_date(rfc3339: &str) -> String {
    let Ok(t) =
        time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
    else {
        return rfc3339.to_owned();
    };
    let t = t.to_offset(paris_offset(t));
    const DAYS: [&str; 7] = [
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    ];
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    format!(
        "{} {}{} {} {} à {:02} h {:02} (heure de Paris)",
        DAYS[t.weekday().number_days_from_monday() as usize],
        t.day(),
        if t.day() == 1 { "er" } else { "" },
        MONTHS[usize::from(u8::from(t.month())) - 1],
        t.year(),
        t.hour(),
        t.minute()
    )
}

impl Summary {
    /// The counts in one French sentence.
    pub fn sentence(&self) -> String {
        let mut extra = String::new();
        if self.attested > 0 {
            extra.push_str(&format!(
                ", {}",
                plural(self.attested, "attestée", "attestées")
            ));
        }
        if self.waived > 0 {
            extra.push_str(&format!(", {}", plural(self.waived, "dérogée", "dérogées")));
        }
        format!(
            "{}, {}, {}, {}, {}, {} en erreur du banc{extra} — {}, {} en échec",
            plural(self.passed, "conforme", "conformes"),
            plural(self.failed, "non conforme", "non conformes"),
            plural(self.not_tested, "non testée", "non testées"),
            plural(self.not_applicable, "non applicable", "non applicables"),
            plural(self.informational, "informative", "informatives"),
            self.harness_errors,
            plural(self.scenarios, "scénario", "scénarios"),
            self.scenarios_failed
        )
    }
}

impl RunResults {
    /// Whether the SUT failed a requirement, or a requirement whose scenarios ran could not
    /// be (fully) judged, or the bench could not judge one, or the run had a problem. With
    /// expected results, only a change from them counts.
    pub fn failed(&self) -> bool {
        if !self.problems.is_empty() {
            return true;
        }
        match &self.baseline {
            Some(c) => c.failed(),
            None => self.requirements.iter().any(RequirementResult::unsettled),
        }
    }

    /// The verdict of one requirement.
    pub fn verdict(&self, id: &str) -> Option<Verdict> {
        self.requirements
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.verdict)
    }
}

/// What one scenario says about one requirement.
enum Contribution {
    Fail(String),
    Error(String),
    NotTested(String),
    /// The rule found the requirement does not concern this system (e.g. ECO.1.1.7 for a
    /// client checking revocation by OCSP only), with the evidence.
    NotApplicable(String),
    /// A pass, for this family; `true` when it rests on the tester's word alone.
    Pass(Option<Family>, bool),
}

fn contributions(id: &str, s: &ScenarioResult) -> Vec<Contribution> {
    let label = |text: &str| format!("« {} » : {text}", s.name);
    match s.status {
        ScenarioStatus::HarnessError => {
            return vec![Contribution::Error(label(
                s.reason.as_deref().unwrap_or("erreur du banc"),
            ))];
        }
        ScenarioStatus::NotTested if !s.findings.iter().any(|f| f.requirement == id) => {
            return vec![Contribution::NotTested(label(
                s.reason.as_deref().unwrap_or("non testé"),
            ))];
        }
        _ => {}
    }
    let mine: Vec<&StepFinding> = s.findings.iter().filter(|f| f.requirement == id).collect();
    if mine.is_empty() {
        return vec![Contribution::Error(label(&format!(
            "aucune étape du scénario ne juge {id} (défaut du banc)"
        )))];
    }
    mine.into_iter()
        .map(|f| match f.verdict {
            rules::Verdict::Fail => Contribution::Fail(label(&f.detail)),
            rules::Verdict::NotTested => Contribution::NotTested(label(&f.detail)),
            // Never a pass by itself; the requirement is « non applicable » when every
            // scenario of it says so.
            rules::Verdict::NotApplicable => Contribution::NotApplicable(label(&f.detail)),
            rules::Verdict::Pass => Contribution::Pass(s.family, f.detail.starts_with(ATTESTED)),
        })
        .collect()
}

/// Computes each requirement's verdict from the scenarios and the run-wide findings.
pub fn aggregate(
    catalogue: &Catalogue,
    families: &[Family],
    scenarios: &[ScenarioResult],
    run_findings: &[StepFinding],
) -> Vec<RequirementResult> {
    catalogue
        .iter()
        .map(|r| {
            // Its scenarios, and any other that found it failed (a Message-ID reused by a
            // scenario of another requirement): a failure is never left out.
            let mine: Vec<usize> = scenarios
                .iter()
                .enumerate()
                .filter(|(_, s)| {
                    s.requirements.contains(&r.id)
                        || s.findings
                            .iter()
                            .any(|f| f.requirement == r.id && f.verdict == rules::Verdict::Fail)
                })
                .map(|(i, _)| i)
                .collect();
            let mut fails = Vec::new();
            let mut errors = Vec::new();
            let mut not_tested = Vec::new();
            let mut not_applicable = Vec::new();
            let mut passed_families: Vec<Family> = Vec::new();
            let mut passes = 0;
            let mut attested_passes = 0;
            for &i in &mine {
                for c in contributions(&r.id, &scenarios[i]) {
                    match c {
                        Contribution::Fail(t) => fails.push(t),
                        Contribution::Error(t) => errors.push(t),
                        Contribution::NotTested(t) => not_tested.push(t),
                        Contribution::NotApplicable(t) => not_applicable.push(t),
                        Contribution::Pass(f, attested) => {
                            passes += 1;
                            if attested {
                                attested_passes += 1;
                            }
                            if let Some(f) = f
                                && !passed_families.contains(&f)
                            {
                                passed_families.push(f);
                            }
                        }
                    }
                }
            }
            for f in run_findings.iter().filter(|f| f.requirement == r.id) {
                if f.verdict == rules::Verdict::Fail {
                    fails.push(format!("campagne : {}", f.detail));
                }
            }
            let applies = r.families.iter().any(|f| families.contains(f));
            let (verdict, explanation) = if !applies {
                (
                    Verdict::NotApplicable,
                    format!(
                        "concerne la famille {} ; le système testé relève de {}",
                        join(&r.families),
                        join(families)
                    ),
                )
            } else if r.level == Level::Peut {
                let seen = if passes > 0 {
                    "observée"
                } else if mine.is_empty() {
                    "non observée dans cette campagne"
                } else {
                    "non observée"
                };
                (
                    Verdict::Informational,
                    format!("exigence facultative (PEUT) : {seen}"),
                )
            } else if r.method == Method::Incomplete {
                (
                    Verdict::NotTested,
                    "texte incomplet dans le référentiel source : non vérifiable".to_owned(),
                )
            } else if mine.is_empty() && fails.is_empty() {
                (Verdict::NotTested, NO_SCENARIO.to_owned())
            } else if !fails.is_empty() {
                (Verdict::Failed, fails.join(" ; "))
            } else if !errors.is_empty() {
                (Verdict::HarnessError, errors.join(" ; "))
            } else if passes > 0 {
                let mut text = format!(
                    "conforme pour {} ({})",
                    if passed_families.is_empty() {
                        "les scénarios joués".to_owned()
                    } else {
                        join(&passed_families)
                    },
                    plural(passes, "vérification réussie", "vérifications réussies")
                );
                let missing: Vec<Family> = r
                    .families
                    .iter()
                    .filter(|f| families.contains(f) && !passed_families.contains(f))
                    .copied()
                    .collect();
                if !missing.is_empty() {
                    text.push_str(&format!(" ; non exercée pour {}", join(&missing)));
                }
                if !not_tested.is_empty() {
                    text.push_str(&format!(" ; non testé : {}", not_tested.join(" ; ")));
                }
                if attested_passes == passes {
                    // What the scenarios could not judge stays in sight beside the attestation.
                    let rest = text
                        .split_once(" ; ")
                        .map(|(_, rest)| format!(" ; {rest}"))
                        .unwrap_or_default();
                    (
                        Verdict::Attested,
                        format!(
                            "attestée par le testeur ({}){rest}",
                            plural(passes, "attestation", "attestations")
                        ),
                    )
                } else {
                    (Verdict::Passed, text)
                }
            } else if not_tested.is_empty() && !not_applicable.is_empty() {
                (Verdict::NotApplicable, not_applicable.join(" ; "))
            } else {
                not_tested.extend(not_applicable);
                (Verdict::NotTested, not_tested.join(" ; "))
            };
            RequirementResult {
                id: r.id.clone(),
                title: r.title.clone(),
                text: r.text.clone(),
                level: r.level,
                families: r.families.clone(),
                method: r.method,
                verdict,
                explanation,
                awaiting_attestation: verdict == Verdict::NotTested
                    && !not_tested.is_empty()
                    && not_tested.iter().all(|t| t.contains(AWAITING_ATTESTATION)),
                partial: matches!(verdict, Verdict::Passed | Verdict::Attested)
                    && (!not_tested.is_empty()
                        || r.families.iter().any(|f| {
                            families.contains(f)
                                && !passed_families.contains(f)
                                && mine.iter().any(|&i| scenarios[i].families.contains(f))
                        })),
                families_passed: if verdict == Verdict::Passed {
                    passed_families
                } else {
                    Vec::new()
                },
                conceptual: conceptual_view(&r.id, &mine, scenarios),
                scenarios: mine,
            }
        })
        .collect()
}

/// The conceptual reading of a requirement across its scenarios, where its findings carry one.
fn conceptual_view(
    id: &str,
    mine: &[usize],
    scenarios: &[ScenarioResult],
) -> Option<ConceptualResult> {
    let views: Vec<(&str, &Conceptual)> = mine
        .iter()
        .flat_map(|&i| {
            let s = &scenarios[i];
            s.findings
                .iter()
                .filter(|f| f.requirement == id)
                .filter_map(move |f| f.conceptual.as_ref().map(|c| (s.name.as_str(), c)))
        })
        .collect();
    if views.is_empty() {
        return None;
    }
    let of = |v: rules::Verdict| -> Vec<String> {
        views
            .iter()
            .filter(|(_, c)| c.verdict == v)
            .map(|(name, c)| format!("« {name} » : {}", c.detail))
            .collect()
    };
    let (verdict, lines) = if !of(rules::Verdict::Fail).is_empty() {
        (Verdict::Failed, of(rules::Verdict::Fail))
    } else if !of(rules::Verdict::Pass).is_empty() {
        (Verdict::Passed, of(rules::Verdict::Pass))
    } else {
        (Verdict::NotTested, of(rules::Verdict::NotTested))
    };
    Some(ConceptualResult {
        verdict,
        explanation: lines.join(" ; "),
    })
}

/// Counts verdicts.
pub fn summarize(requirements: &[RequirementResult], scenarios: &[ScenarioResult]) -> Summary {
    let mut s = Summary {
        scenarios: scenarios.len(),
        scenarios_failed: scenarios
            .iter()
            .filter(|s| s.status == ScenarioStatus::Failed)
            .count(),
        ..Summary::default()
    };
    for r in requirements {
        match r.verdict {
            Verdict::Passed => s.passed += 1,
            Verdict::Failed => s.failed += 1,
            Verdict::NotApplicable => s.not_applicable += 1,
            Verdict::NotTested => s.not_tested += 1,
            Verdict::Informational => s.informational += 1,
            Verdict::HarnessError => s.harness_errors += 1,
            Verdict::Attested => s.attested += 1,
            Verdict::Waived => s.waived += 1,
        }
    }
    s
}

fn join(families: &[Family]) -> String {
    families
        .iter()
        .map(|f| f.tag())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod french_tests {
    #[test]
    fn dates_and_plurals_read_in_french() {
        assert_eq!(
            super::french_date("2026-12-01T09:05:00Z"),
            "mardi 1er décembre 2026 à 10 h 05 (heure de Paris)"
        );
        // Summer time: from the last Sunday of March, 01:00 UTC, to the last of October.
        assert_eq!(
            super::french_date("2026-07-14T22:30:00Z"),
            "mercredi 15 juillet 2026 à 00 h 30 (heure de Paris)"
        );
        assert!(super::french_date("2026-03-29T00:59:00Z").contains("à 01 h 59"));
        assert!(super::french_date("2026-03-29T01:00:00Z").contains("à 03 h 00"));
        assert!(super::french_date("2026-10-25T00:59:00Z").contains("à 02 h 59"));
        assert!(super::french_date("2026-10-25T01:00:00Z").contains("à 02 h 00"));
        assert_eq!(super::plural(1, "scénario", "scénarios"), "1 scénario");
        assert_eq!(super::plural(0, "scénario", "scénarios"), "0 scénario");
        assert_eq!(super::plural(3, "scénario", "scénarios"), "3 scénarios");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(req: &str, verdict: rules::Verdict) -> StepFinding {
        StepFinding {
            step: "Alors …".into(),
            requirement: req.into(),
            verdict,
            detail: "détail".into(),
            evidence: vec![],
            conceptual: None,
        }
    }

    fn scenario(
        req: &str,
        family: Family,
        status: ScenarioStatus,
        findings: Vec<StepFinding>,
    ) -> ScenarioResult {
        ScenarioResult {
            feature: "f".into(),
            name: format!("{req} {status:?} {family:?}"),
            requirements: vec![req.into()],
            families: vec![family],
            family: Some(family),
            status,
            reason: Some("raison".into()),
            findings,
            actions: vec![],
            message_ids: vec![],
            messages: vec![],
            journal: None,
            duration_ms: 1,
            ..ScenarioResult::default()
        }
    }

    fn verdict_of(results: &[RequirementResult], id: &str) -> Verdict {
        results.iter().find(|r| r.id == id).expect(id).verdict
    }

    /// A run-wide failure found in a scenario of another requirement fails its requirement.
    #[test]
    fn a_failure_found_by_a_scenario_of_another_requirement_counts() {
        use rules::Verdict::{Fail, Pass};
        let catalogue = Catalogue::embedded();
        let mut s = scenario(
            "ECO.1.0.1",
            Family::PerOrg,
            ScenarioStatus::Failed,
            vec![finding("ECO.1.0.1", Pass), finding("ECO.2.2.1", Fail)],
        );
        s.name = "envoi SMTP".into();
        let results = aggregate(&catalogue, &[Family::PerOrg], &[s], &[]);
        assert_eq!(verdict_of(&results, "ECO.2.2.1"), Verdict::Failed);
        assert_eq!(verdict_of(&results, "ECO.1.0.1"), Verdict::Passed);
    }

    #[test]
    fn verdicts() {
        use rules::Verdict::{Fail, NotTested, Pass};
        let catalogue = Catalogue::embedded();
        let pass =
            |req: &str, fam| scenario(req, fam, ScenarioStatus::Passed, vec![finding(req, Pass)]);
        let scenarios = vec![
            pass("ECO.1.0.1", Family::PerOrg),
            pass("ECO.1.0.2", Family::PerOrg),
            scenario(
                "ECO.1.0.2",
                Family::App,
                ScenarioStatus::Failed,
                vec![finding("ECO.1.0.2", Fail)],
            ),
            // A harness error never hides behind a pass, never becomes a failure.
            pass("ECO.2.2.1", Family::PerOrg),
            scenario(
                "ECO.2.2.1",
                Family::App,
                ScenarioStatus::HarnessError,
                vec![],
            ),
            // Passed for one family, not tested for the other: conforme for the one exercised.
            pass("ECO.2.4.3", Family::PerOrg),
            scenario("ECO.2.4.3", Family::App, ScenarioStatus::NotTested, vec![]),
            // Only not tested: not tested, never conforme.
            scenario(
                "ECO.1.2.1",
                Family::PerOrg,
                ScenarioStatus::Passed,
                vec![finding("ECO.1.2.1", NotTested)],
            ),
            // A scenario that judges nothing of its requirement is a bench defect.
            scenario(
                "ECO.1.3.1",
                Family::App,
                ScenarioStatus::Passed,
                vec![finding("ECO.1.0.1", Pass)],
            ),
        ];
        let both = [Family::PerOrg, Family::App];
        let r = aggregate(&catalogue, &both, &scenarios, &[]);
        assert_eq!(verdict_of(&r, "ECO.1.0.1"), Verdict::Passed);
        assert_eq!(verdict_of(&r, "ECO.1.0.2"), Verdict::Failed);
        assert_eq!(verdict_of(&r, "ECO.2.2.1"), Verdict::HarnessError);
        assert_eq!(verdict_of(&r, "ECO.2.4.3"), Verdict::Passed);
        let nil = r.iter().find(|r| r.id == "ECO.2.4.3").expect("2.4.3");
        assert_eq!(nil.families_passed, vec![Family::PerOrg]);
        assert!(
            nil.partial && nil.unsettled(),
            "a family not judged is noticed"
        );
        let one = r.iter().find(|r| r.id == "ECO.1.0.1").expect("1.0.1");
        assert!(!one.partial && !one.unsettled());
        let not_tested = r.iter().find(|r| r.id == "ECO.1.2.1").expect("1.2.1");
        assert!(not_tested.unsettled(), "scenarios ran and judged nothing");
        let no_scenario = r.iter().find(|r| r.id == "ECO.2.1.1").expect("2.1.1");
        assert!(!no_scenario.unsettled());
        assert!(
            nil.explanation.contains("non exercée pour APP"),
            "{}",
            nil.explanation
        );
        assert_eq!(verdict_of(&r, "ECO.1.2.1"), Verdict::NotTested);
        assert_eq!(verdict_of(&r, "ECO.1.3.1"), Verdict::HarnessError);
        assert_eq!(verdict_of(&r, "ECO.1.2.2"), Verdict::NotTested);
        assert_eq!(verdict_of(&r, "ECO.2.1.1"), Verdict::NotTested);
        assert_eq!(verdict_of(&r, "ECO.1.1.2"), Verdict::Informational);
        let per_org = aggregate(&catalogue, &[Family::PerOrg], &scenarios, &[]);
        assert_eq!(verdict_of(&per_org, "ECO.1.3.1"), Verdict::NotApplicable);
        // A run-wide finding fails its requirement.
        let run = [finding("ECO.1.0.1", Fail)];
        let r = aggregate(&catalogue, &both, &scenarios, &run);
        assert_eq!(verdict_of(&r, "ECO.1.0.1"), Verdict::Failed);
        let summary = summarize(&r, &scenarios);
        assert_eq!(summary.harness_errors, 2);
        assert_eq!(summary.scenarios_failed, 1);
    }
}
