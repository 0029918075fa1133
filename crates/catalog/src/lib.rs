//! The requirement catalogue of the Référentiel socle MSSanté #2.
//!
//! [`Catalogue::embedded`] is the catalogue shipped with the harness
//! (`scenarios/requirements.yaml`); [`Catalogue::from_yaml`] loads another copy and validates it.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The catalogue file shipped with the harness.
pub const EMBEDDED_YAML: &str = include_str!("../../../scenarios/requirements.yaml");

/// Why a catalogue could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The YAML does not parse or does not have the expected shape.
    #[error("requirement catalogue is not valid YAML: {0}")]
    Yaml(String),
    /// An entry breaks a rule of the catalogue (bad ID, duplicate, no family...).
    #[error("requirement catalogue entry {id}: {problem}")]
    Invalid {
        /// The offending requirement ID, as written.
        id: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// Whether a requirement is mandatory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Level {
    /// Mandatory ("DOIT").
    #[serde(rename = "DOIT")]
    Doit,
    /// Optional ("PEUT"): reported as informational.
    #[serde(rename = "PEUT")]
    Peut,
}

/// The two families of MSSanté clients defined by the référentiel (§1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Family {
    /// Clients of personal and organisational mailboxes (Pro Santé Connect), §6.1.1.
    #[serde(rename = "PER_ORG")]
    PerOrg,
    /// Clients of application mailboxes (ORG AUTH_CLI certificate), §6.1.2.
    #[serde(rename = "APP")]
    App,
}

impl Family {
    /// The tag used in feature files and reports (`PER_ORG`, `APP`).
    pub fn tag(self) -> &'static str {
        match self {
            Family::PerOrg => "PER_ORG",
            Family::App => "APP",
        }
    }

    /// Parses a tag as written in feature files.
    pub fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            "PER_ORG" => Some(Family::PerOrg),
            "APP" => Some(Family::App),
            _ => None,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// How the harness verifies a requirement (see VERIFICATION.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Provoked and observed with nobody involved.
    Automated,
    /// Automated when the SUT driver implements the action, otherwise interactive.
    Driver,
    /// A tester acts in the SUT while the harness watches.
    Interactive,
    /// Not observable on the wire: the tester declares, with evidence.
    Attestation,
    /// Optional (PEUT): observed and reported, never failed.
    Informational,
    /// The source text is incomplete: kept in the catalogue, not verifiable.
    Incomplete,
}

impl Method {
    /// The tag used in feature files (`@automated`...).
    pub fn tag(self) -> &'static str {
        match self {
            Method::Automated => "automated",
            Method::Driver => "driver",
            Method::Interactive => "interactive",
            Method::Attestation => "attestation",
            Method::Informational => "informational",
            Method::Incomplete => "incomplete",
        }
    }
}

/// One `ECO.x.y.z` requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Identifier, e.g. `ECO.1.0.1`.
    pub id: String,
    /// Short French title written for reports.
    pub title: String,
    /// DOIT or PEUT.
    pub level: Level,
    /// Families of clients the requirement applies to.
    pub families: Vec<Family>,
    /// How it is verified.
    pub method: Method,
    /// Section of the référentiel.
    pub section: String,
    /// French text, as published.
    pub text: String,
    /// Reading chosen where the référentiel is ambiguous or incomplete.
    #[serde(default)]
    pub note: Option<String>,
}

impl Requirement {
    /// Whether the requirement applies to a client of the given family.
    pub fn applies_to(&self, family: Family) -> bool {
        self.families.contains(&family)
    }

    /// The numeric parts of the ID, for sorting in the référentiel's order of chapters.
    pub fn sort_key(&self) -> Vec<u32> {
        id_parts(&self.id).unwrap_or_default()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    requirements: Vec<Requirement>,
}

/// The whole catalogue, in the order of the file.
#[derive(Debug, Clone)]
pub struct Catalogue {
    requirements: Vec<Requirement>,
}

impl Catalogue {
    /// The catalogue embedded at build time. It is validated by this crate's tests, so a failure
    /// here is a build defect.
    pub fn embedded() -> Self {
        match Self::from_yaml(EMBEDDED_YAML) {
            Ok(catalogue) => catalogue,
            Err(error) => panic!("embedded requirement catalogue is invalid: {error}"),
        }
    }

    /// Parses and validates a catalogue.
    pub fn from_yaml(yaml: &str) -> Result<Self, Error> {
        let file: File = serde_saphyr::from_str(yaml).map_err(|e| Error::Yaml(e.to_string()))?;
        let mut seen = BTreeSet::new();
        for requirement in &file.requirements {
            let invalid = |problem: &str| Error::Invalid {
                id: requirement.id.clone(),
                problem: problem.to_owned(),
            };
            if id_parts(&requirement.id).is_none() {
                return Err(invalid("the ID must read ECO.<n>.<n>.<n>"));
            }
            if !seen.insert(requirement.id.clone()) {
                return Err(invalid("the ID appears twice"));
            }
            if requirement.families.is_empty() {
                return Err(invalid("no family of clients is given"));
            }
            if requirement.title.trim().is_empty() || requirement.text.trim().is_empty() {
                return Err(invalid("the title and the text must not be empty"));
            }
            if requirement.level == Level::Peut && requirement.method != Method::Informational {
                return Err(invalid("a PEUT requirement can only be informational"));
            }
        }
        Ok(Catalogue {
            requirements: file.requirements,
        })
    }

    /// Looks a requirement up by ID.
    pub fn get(&self, id: &str) -> Option<&Requirement> {
        self.requirements.iter().find(|r| r.id == id)
    }

    /// All requirements, in the file's order.
    pub fn iter(&self) -> impl Iterator<Item = &Requirement> {
        self.requirements.iter()
    }

    /// Number of requirements.
    pub fn len(&self) -> usize {
        self.requirements.len()
    }

    /// Whether the catalogue is empty.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }
}

/// Splits `ECO.a.b.c` into `[a, b, c]`; `None` when the ID is not of that shape.
pub fn id_parts(id: &str) -> Option<Vec<u32>> {
    let rest = id.strip_prefix("ECO.")?;
    let parts: Vec<u32> = rest
        .split('.')
        .map(|p| {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                p.parse().ok()
            }
        })
        .collect::<Option<_>>()?;
    (parts.len() == 3).then_some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalogue_is_valid_and_complete() {
        let catalogue = Catalogue::from_yaml(EMBEDDED_YAML).expect("embedded catalogue");
        // Every ID of the annex tables (§6.1.1, §6.1.2), the PEUT ones of the body text, and the
        // two IDs whose text is cut from the source.
        for id in [
            "ECO.1.0.1",
            "ECO.1.0.2",
            "ECO.1.1.1",
            "ECO.1.1.2",
            "ECO.1.1.3",
            "ECO.1.1.10",
            "ECO.1.1.5",
            "ECO.1.1.6",
            "ECO.1.1.7",
            "ECO.1.1.9",
            "ECO.1.2.1",
            "ECO.1.2.2",
            "ECO.1.2.3",
            "ECO.1.2.4",
            "ECO.1.2.5",
            "ECO.1.2.6",
            "ECO.1.2.7",
            "ECO.1.3.1",
            "ECO.2.1.1",
            "ECO.2.1.2",
            "ECO.2.1.3",
            "ECO.2.1.5",
            "ECO.2.1.6",
            "ECO.2.2.1",
            "ECO.2.2.2",
            "ECO.2.2.3",
            "ECO.2.2.4",
            "ECO.2.2.5",
            "ECO.2.2.6",
            "ECO.2.2.7",
            "ECO.2.2.8",
            "ECO.2.3.1",
            "ECO.2.3.2",
            "ECO.2.4.1",
            "ECO.2.4.2",
            "ECO.2.4.3",
            "ECO.3.1.1",
            "ECO.3.1.2",
            "ECO.3.1.3",
            "ECO.3.1.4",
            "ECO.3.1.5",
            "ECO.3.1.6",
            "ECO.3.2.1",
            "ECO.3.2.2",
            "ECO.3.2.3",
            "ECO.4.1.1",
            "ECO.4.1.2",
        ] {
            assert!(
                catalogue.get(id).is_some(),
                "{id} missing from the catalogue"
            );
        }
        assert_eq!(catalogue.len(), 47);
        // ECO.2.1.4 is cited by an older note but is not in v1.0.
        assert!(catalogue.get("ECO.2.1.4").is_none());
    }

    #[test]
    fn families_follow_the_annex() {
        let catalogue = Catalogue::embedded();
        let app_only = catalogue.get("ECO.1.3.1").expect("ECO.1.3.1");
        assert_eq!(app_only.families, vec![Family::App]);
        for id in ["ECO.1.2.1", "ECO.1.2.6", "ECO.3.1.1"] {
            let r = catalogue.get(id).expect(id);
            assert!(
                r.applies_to(Family::PerOrg) && !r.applies_to(Family::App),
                "{id}"
            );
        }
        for r in catalogue.iter().filter(|r| r.level == Level::Peut) {
            assert_eq!(r.method, Method::Informational, "{}", r.id);
        }
    }

    #[test]
    fn rejects_malformed_entries() {
        let bad_id = "requirements:\n  - {id: ECO.1.x, title: t, level: DOIT, families: [APP], method: automated, section: s, text: t}\n";
        assert!(matches!(
            Catalogue::from_yaml(bad_id),
            Err(Error::Invalid { .. })
        ));
        let twice = "requirements:\n  - {id: ECO.1.0.1, title: t, level: DOIT, families: [APP], method: automated, section: s, text: t}\n  - {id: ECO.1.0.1, title: t, level: DOIT, families: [APP], method: automated, section: s, text: t}\n";
        assert!(matches!(
            Catalogue::from_yaml(twice),
            Err(Error::Invalid { .. })
        ));
        let no_family = "requirements:\n  - {id: ECO.1.0.1, title: t, level: DOIT, families: [], method: automated, section: s, text: t}\n";
        assert!(matches!(
            Catalogue::from_yaml(no_family),
            Err(Error::Invalid { .. })
        ));
        let unknown_field = "requirements:\n  - {id: ECO.1.0.1, titel: t}\n";
        assert!(matches!(
            Catalogue::from_yaml(unknown_field),
            Err(Error::Yaml(_))
        ));
        assert!(matches!(
            Catalogue::from_yaml("requirements: ["),
            Err(Error::Yaml(_))
        ));
    }

    #[test]
    fn id_parts_parses_only_eco_ids() {
        assert_eq!(id_parts("ECO.1.1.10"), Some(vec![1, 1, 10]));
        assert_eq!(id_parts("ECO.1.1"), None);
        assert_eq!(id_parts("ECO.1..1"), None);
        assert_eq!(id_parts("SC.MSS/CONF.01"), None);
    }
}
