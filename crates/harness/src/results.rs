//! The results model: what each scenario did, and the verdict of each requirement.

use catalog::{Catalogue, Family, Level, Method};
use serde::Serialize;

/// Outcome of one scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioStatus {
    /// Every step passed.
    Passed,
    /// A step failed.
    Failed,
}

/// One scenario run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScenarioResult {
    /// Feature (file) name.
    pub feature: String,
    /// Scenario name.
    pub name: String,
    /// Requirement IDs it verifies (its `@ECO.x.y.z` tags).
    pub requirements: Vec<String>,
    /// Families it applies to.
    pub families: Vec<Family>,
    /// Outcome.
    pub status: ScenarioStatus,
    /// Why it failed, with the journal lines that show it.
    pub failure: Option<String>,
    /// What the checks observed.
    pub evidence: Vec<String>,
    /// File name of the scenario's journal inside the journals folder (`journaux/`).
    pub journal: Option<String>,
    /// Duration in milliseconds.
    pub duration_ms: u64,
}

/// Verdict of a requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every scenario passed.
    Passed,
    /// A scenario failed.
    Failed,
    /// The requirement does not concern the SUT's families.
    NotApplicable,
    /// No scenario could verify it in this run.
    NotTested,
    /// Optional requirement: reported, never failed.
    Informational,
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
    /// Indexes of its scenarios in [`RunResults::scenarios`].
    pub scenarios: Vec<usize>,
}

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
    /// Problems of the run itself (unreadable feature files...).
    pub problems: Vec<String>,
}

impl Summary {
    /// The counts in one French sentence.
    pub fn sentence(&self) -> String {
        format!(
            "{} conformes, {} non conformes, {} non testées, {} non applicables, {} informatives — {} scénarios, {} en échec",
            self.passed,
            self.failed,
            self.not_tested,
            self.not_applicable,
            self.informational,
            self.scenarios,
            self.scenarios_failed
        )
    }
}

impl RunResults {
    /// Whether the SUT failed a requirement or the run had a problem.
    pub fn failed(&self) -> bool {
        self.summary.failed > 0 || !self.problems.is_empty()
    }
}

/// Computes each requirement's verdict from the scenarios.
pub fn aggregate(
    catalogue: &Catalogue,
    families: &[Family],
    scenarios: &[ScenarioResult],
) -> Vec<RequirementResult> {
    catalogue
        .iter()
        .map(|r| {
            let mine: Vec<usize> = scenarios
                .iter()
                .enumerate()
                .filter(|(_, s)| s.requirements.contains(&r.id))
                .map(|(i, _)| i)
                .collect();
            let failed: Vec<&ScenarioResult> = mine
                .iter()
                .map(|&i| &scenarios[i])
                .filter(|s| s.status == ScenarioStatus::Failed)
                .collect();
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
                let seen = if mine.is_empty() {
                    "non observée dans cette campagne".to_owned()
                } else if failed.is_empty() {
                    "observée".to_owned()
                } else {
                    "non observée".to_owned()
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
            } else if mine.is_empty() {
                (
                    Verdict::NotTested,
                    "aucun scénario de cette campagne ne la vérifie encore".to_owned(),
                )
            } else if !failed.is_empty() {
                (
                    Verdict::Failed,
                    format!(
                        "{} scénario(s) sur {} en échec : {}",
                        failed.len(),
                        mine.len(),
                        failed
                            .iter()
                            .map(|s| s.name.as_str())
                            .collect::<Vec<_>>()
                            .join(" ; ")
                    ),
                )
            } else {
                (
                    Verdict::Passed,
                    format!("{} scénario(s) réussi(s)", mine.len()),
                )
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
                scenarios: mine,
            }
        })
        .collect()
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
mod tests {
    use super::*;

    fn scenario(req: &str, status: ScenarioStatus) -> ScenarioResult {
        ScenarioResult {
            feature: "f".into(),
            name: format!("{req} {status:?}"),
            requirements: vec![req.into()],
            families: vec![Family::PerOrg],
            status,
            failure: None,
            evidence: vec![],
            journal: None,
            duration_ms: 1,
        }
    }

    fn verdict_of(results: &[RequirementResult], id: &str) -> Verdict {
        results.iter().find(|r| r.id == id).expect(id).verdict
    }

    #[test]
    fn verdicts() {
        let catalogue = Catalogue::embedded();
        let scenarios = vec![
            scenario("ECO.1.0.1", ScenarioStatus::Passed),
            scenario("ECO.1.0.2", ScenarioStatus::Passed),
            scenario("ECO.1.0.2", ScenarioStatus::Failed),
            scenario("ECO.1.1.2", ScenarioStatus::Failed),
        ];
        let per_org = aggregate(&catalogue, &[Family::PerOrg], &scenarios);
        assert_eq!(verdict_of(&per_org, "ECO.1.0.1"), Verdict::Passed);
        assert_eq!(verdict_of(&per_org, "ECO.1.0.2"), Verdict::Failed);
        assert_eq!(verdict_of(&per_org, "ECO.1.3.1"), Verdict::NotApplicable);
        assert_eq!(verdict_of(&per_org, "ECO.1.2.2"), Verdict::NotTested);
        assert_eq!(verdict_of(&per_org, "ECO.2.1.1"), Verdict::NotTested);
        assert_eq!(verdict_of(&per_org, "ECO.1.1.2"), Verdict::Informational);
        let summary = summarize(&per_org, &scenarios);
        assert_eq!(summary.failed, 1);
        assert_eq!(summary.scenarios_failed, 2);
    }
}
