//! Expected results: a file listing the verdicts an editor accepts for now, each with a
//! reason, so that their CI fails only when a verdict changes. Every requirement not listed is
//! expected not to fail (`non conforme` or `erreur du banc` is then a regression). An entry
//! whose requirement now passes is stale: it is reported, so the file can be cleaned.
//!
//! ```yaml
//! # Verdicts accepted for version 5.1 of Mon LPS.
//! ECO.2.2.7:
//!   verdict: non_conforme
//!   reason: libellé de l'expéditeur sans titre, corrigé en 5.2 (ticket 1234)
//! ECO.3.1.4:
//!   verdict: non_teste
//!   reason: pas d'action « list_inbox » dans le pilote avant la 5.2
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::results::{RunResults, Verdict};

/// A verdict as written in a baseline file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expected {
    /// `conforme`.
    Conforme,
    /// `non_conforme`.
    NonConforme,
    /// `non_teste`.
    NonTeste,
    /// `non_applicable`.
    NonApplicable,
    /// `informatif`.
    Informatif,
    /// `erreur_du_banc`.
    ErreurDuBanc,
    /// `atteste`.
    Atteste,
    /// `deroge`.
    Deroge,
}

impl Expected {
    /// As written in the file.
    pub fn label(self) -> &'static str {
        match self {
            Expected::Conforme => "conforme",
            Expected::NonConforme => "non_conforme",
            Expected::NonTeste => "non_teste",
            Expected::NonApplicable => "non_applicable",
            Expected::Informatif => "informatif",
            Expected::ErreurDuBanc => "erreur_du_banc",
            Expected::Atteste => "atteste",
            Expected::Deroge => "deroge",
        }
    }

    fn matches(self, v: Verdict) -> bool {
        matches!(
            (self, v),
            (Expected::Conforme, Verdict::Passed)
                | (Expected::NonConforme, Verdict::Failed)
                | (Expected::NonTeste, Verdict::NotTested)
                | (Expected::NonApplicable, Verdict::NotApplicable)
                | (Expected::Informatif, Verdict::Informational)
                | (Expected::ErreurDuBanc, Verdict::HarnessError)
                | (Expected::Atteste, Verdict::Attested)
                | (Expected::Deroge, Verdict::Waived)
        )
    }
}

/// One accepted verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The verdict accepted for now.
    pub verdict: Expected,
    /// Why (mandatory: a baseline without reasons hides regressions).
    pub reason: String,
}

/// A baseline file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    /// Entries by requirement ID.
    pub entries: BTreeMap<String, Entry>,
}

/// How a run compares with its baseline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// Requirements whose verdict the baseline accepts, with its reason.
    pub accepted: BTreeMap<String, String>,
    /// Verdicts that changed for the worse or differ from the accepted one (CI fails).
    pub regressions: Vec<String>,
    /// Entries whose requirement now passes: remove them.
    pub stale: Vec<String>,
    /// Entries that still hold.
    pub held: Vec<String>,
}

impl Comparison {
    /// The reason the baseline gives for accepting a requirement's verdict, if it does.
    pub fn accepted(&self, id: &str) -> Option<&str> {
        self.accepted.get(id).map(String::as_str)
    }

    /// Whether CI must fail.
    pub fn failed(&self) -> bool {
        !self.regressions.is_empty()
    }
}

impl Baseline {
    /// Reads and checks a baseline file (every ID in the catalogue, every reason given).
    pub fn load(path: &Path) -> Result<Baseline, String> {
        let shown = path.display();
        let text = std::fs::read_to_string(path).map_err(|e| format!("référence {shown} : {e}"))?;
        let entries: BTreeMap<String, Entry> = if text.trim().is_empty() {
            BTreeMap::new()
        } else {
            serde_saphyr::from_str(&text).map_err(|e| {
                format!(
                    "référence {shown} : {}",
                    crate::driver::profile::yaml_error(&e)
                )
            })?
        };
        let catalogue = catalog::Catalogue::embedded();
        for (id, entry) in &entries {
            if catalogue.get(id).is_none() {
                return Err(format!("référence {shown} : exigence inconnue « {id} »"));
            }
            if entry.reason.trim().is_empty() {
                return Err(format!("référence {shown} : {id} sans raison"));
            }
        }
        Ok(Baseline { entries })
    }

    /// Compares a run with the baseline.
    pub fn compare(&self, results: &RunResults) -> Comparison {
        let mut c = Comparison::default();
        for r in &results.requirements {
            match self.entries.get(&r.id) {
                None => {
                    if r.unsettled() {
                        c.regressions.push(format!(
                            "{} : {}{} (absente de la référence) — {}",
                            r.id,
                            r.verdict.label(),
                            if r.partial { " en partie" } else { "" },
                            r.explanation
                        ));
                    }
                }
                Some(entry) if entry.verdict.matches(r.verdict) => {
                    c.accepted.insert(r.id.clone(), entry.reason.clone());
                    c.held.push(format!(
                        "{} : {} — {}",
                        r.id,
                        r.verdict.label(),
                        entry.reason
                    ));
                }
                Some(entry) if r.verdict == Verdict::Passed => {
                    c.stale.push(format!(
                        "{} : conforme désormais (la référence attendait {} : {})",
                        r.id,
                        entry.verdict.label(),
                        entry.reason
                    ));
                }
                Some(entry) => c.regressions.push(format!(
                    "{} : {} au lieu de {} attendu ({}) — {}",
                    r.id,
                    r.verdict.label(),
                    entry.verdict.label(),
                    entry.reason,
                    r.explanation
                )),
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::RequirementResult;

    fn results(verdicts: &[(&str, Verdict)]) -> RunResults {
        let catalogue = catalog::Catalogue::embedded();
        RunResults {
            harness_version: String::new(),
            sut: String::new(),
            families: vec![],
            started_at: String::new(),
            duration_ms: 0,
            summary: Default::default(),
            requirements: verdicts
                .iter()
                .map(|(id, v)| {
                    let r = catalogue.get(id).expect(id);
                    RequirementResult {
                        id: r.id.clone(),
                        title: r.title.clone(),
                        text: String::new(),
                        level: r.level,
                        families: r.families.clone(),
                        method: r.method,
                        verdict: *v,
                        explanation: "…".into(),
                        families_passed: vec![],
                        partial: false,
                        awaiting_attestation: false,
                        conceptual: None,
                        scenarios: if *v == Verdict::NotTested && *id == "ECO.1.0.2" {
                            vec![0]
                        } else {
                            vec![]
                        },
                    }
                })
                .collect(),
            scenarios: vec![],
            run_findings: vec![],
            problems: vec![],
            baseline: None,
            stale_waivers: Vec::new(),
            run_info: Default::default(),
        }
    }

    fn baseline(yaml: &str) -> Result<Baseline, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("attendus.yaml");
        std::fs::write(&path, yaml).expect("write");
        Baseline::load(&path)
    }

    #[test]
    fn ci_fails_only_on_a_change() {
        let b = baseline(
            "ECO.2.2.7:\n  verdict: non_conforme\n  reason: corrigé en 5.2\nECO.2.4.3:\n  verdict: non_conforme\n  reason: en cours\n",
        )
        .expect("baseline");
        let r = results(&[
            ("ECO.2.2.7", Verdict::Failed),
            ("ECO.2.4.3", Verdict::Passed),
            ("ECO.1.0.1", Verdict::Passed),
            ("ECO.1.1.1", Verdict::NotTested),
        ]);
        let c = b.compare(&r);
        assert!(!c.failed(), "{c:?}");
        // A requirement whose scenarios ran but judged nothing is a change.
        let r = results(&[("ECO.1.0.2", Verdict::NotTested)]);
        assert!(b.compare(&r).failed(), "conforme turned non testé");
        assert_eq!(c.held.len(), 1);
        assert!(c.stale[0].starts_with("ECO.2.4.3"), "{c:?}");
        let r = results(&[
            ("ECO.2.2.7", Verdict::Failed),
            ("ECO.1.0.1", Verdict::Failed),
        ]);
        let c = b.compare(&r);
        assert!(c.failed());
        assert!(c.regressions[0].starts_with("ECO.1.0.1"), "{c:?}");
        let r = results(&[("ECO.2.2.7", Verdict::NotTested)]);
        assert!(b.compare(&r).failed(), "a changed verdict is a regression");
    }

    #[test]
    fn a_bad_baseline_is_refused() {
        assert!(
            baseline("ECO.9.9.9:\n  verdict: conforme\n  reason: x\n")
                .expect_err("unknown")
                .contains("ECO.9.9.9")
        );
        assert!(
            baseline("ECO.2.2.7:\n  verdict: non_conforme\n  reason: ''\n")
                .expect_err("no reason")
                .contains("sans raison")
        );
        assert!(baseline("ECO.2.2.7:\n  verdict: rouge\n  reason: x\n").is_err());
        assert!(baseline("").expect("empty").entries.is_empty());
    }
}
