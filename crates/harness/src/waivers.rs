//! Waivers: the editor's list of requirements it does not meet yet, each with a reason. A
//! waived requirement is reported « dérogée » in every format — never as passed — and does not
//! fail the run; a waiver whose requirement passes now is reported as stale.
//!
//! ```yaml
//! ECO.1.1.9:
//!   reason: "autoconfiguration livrée en version 5.2 (ticket LPS-1234)"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::results::{RunResults, Verdict, summarize};

/// One waiver.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    /// Why (mandatory).
    pub reason: String,
}

/// A waiver file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Waivers {
    /// Waivers by requirement ID.
    pub entries: BTreeMap<String, Waiver>,
}

impl Waivers {
    /// Reads and checks a waiver file: YAML, every ID in the catalogue, every reason given.
    pub fn load(path: &Path) -> Result<Waivers, String> {
        let shown = path.display();
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("dérogations {shown} : {e}"))?;
        Waivers::parse(&text).map_err(|e| format!("dérogations {shown} : {e}"))
    }

    /// Parses a waiver file's text.
    pub fn parse(text: &str) -> Result<Waivers, String> {
        let entries: BTreeMap<String, Waiver> = if text.trim().is_empty() {
            BTreeMap::new()
        } else {
            serde_saphyr::from_str(text).map_err(|e| crate::driver::profile::yaml_error(&e))?
        };
        let catalogue = catalog::Catalogue::embedded();
        for (id, waiver) in &entries {
            if catalogue.get(id).is_none() {
                let closest = crate::run::closest(id, catalogue.iter().map(|r| r.id.as_str()));
                return Err(format!(
                    "exigence inconnue « {id} »{}",
                    closest
                        .map(|c| format!(" ; vouliez-vous dire « {c} » ?"))
                        .unwrap_or_default()
                ));
            }
            if waiver.reason.trim().is_empty() {
                return Err(format!("{id} sans raison (« reason » est obligatoire)"));
            }
        }
        Ok(Waivers { entries })
    }

    /// Applies the waivers to a run: waived requirements become « dérogée » with the reason and
    /// what was observed; those that pass now are listed as stale and keep their verdict.
    pub fn apply(&self, results: &mut RunResults) {
        for r in &mut results.requirements {
            let Some(waiver) = self.entries.get(&r.id) else {
                continue;
            };
            if matches!(r.verdict, Verdict::Passed | Verdict::Attested) {
                results.stale_waivers.push(format!(
                    "{} : dérogation périmée, l'exigence est {} (retirez-la du fichier)",
                    r.id,
                    r.verdict.label().to_lowercase()
                ));
                continue;
            }
            r.explanation = format!(
                "dérogation : {} (constat : {} — {})",
                waiver.reason,
                r.verdict.label().to_lowercase(),
                r.explanation
            );
            r.verdict = Verdict::Waived;
            r.partial = false;
            r.awaiting_attestation = false;
        }
        results.summary = summarize(&results.requirements, &results.scenarios);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiver_file_is_checked() {
        let w = Waivers::parse("ECO.1.1.9:\n  reason: livré en 5.2\n").expect("parses");
        assert_eq!(w.entries["ECO.1.1.9"].reason, "livré en 5.2");
        let e = Waivers::parse("ECO.1.1.99:\n  reason: x\n").expect_err("unknown");
        assert!(e.contains("ECO.1.1.9"), "{e}");
        let e = Waivers::parse("ECO.1.1.9:\n  reason: ''\n").expect_err("no reason");
        assert!(e.contains("sans raison"), "{e}");
        let e = Waivers::parse("ECO.1.1.9: [\n").expect_err("bad YAML");
        assert!(e.starts_with("ligne 1, colonne"), "{e}");
        let e = Waivers::parse("ECO.1.1.9:\n  raison: x\n").expect_err("unknown field");
        assert!(
            e.starts_with("ligne 2, colonne 3") && e.contains("raison"),
            "{e}"
        );
        assert!(Waivers::parse("").expect("empty").entries.is_empty());
    }
}
