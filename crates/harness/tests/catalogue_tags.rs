//! The feature files and the requirement catalogue must agree: every scenario verifies known
//! requirements, for families they apply to, with the catalogue's verification method.

mod support;

use catalog::{Catalogue, Family};

#[test]
fn scenario_tags_agree_with_the_catalogue() {
    let catalogue = Catalogue::embedded();
    let scenarios = harness::run::feature_tags(&support::features()).expect("features parse");
    assert!(!scenarios.is_empty(), "the features folder is not empty");
    for (file, name, tags) in &scenarios {
        let ids: Vec<&String> = tags.iter().filter(|t| t.starts_with("ECO.")).collect();
        assert!(!ids.is_empty(), "{file} « {name} » names no requirement");
        let families: Vec<Family> = tags.iter().filter_map(|t| Family::from_tag(t)).collect();
        assert!(!families.is_empty(), "{file} « {name} » names no family");
        let methods: Vec<&String> = tags
            .iter()
            .filter(|t| {
                [
                    "automated",
                    "driver",
                    "interactive",
                    "attestation",
                    "informational",
                ]
                .contains(&t.as_str())
            })
            .collect();
        assert_eq!(
            methods.len(),
            1,
            "{file} « {name} » needs exactly one method tag"
        );
        for id in ids {
            let r = catalogue
                .get(id)
                .unwrap_or_else(|| panic!("{file} « {name} »: {id} is not in the catalogue"));
            for f in &families {
                assert!(
                    r.applies_to(*f),
                    "{file} « {name} »: {id} does not apply to {f}"
                );
            }
            assert_eq!(
                methods[0],
                r.method.tag(),
                "{file} « {name} »: {id} is verified by {:?} in the catalogue",
                r.method
            );
        }
    }
}

#[test]
fn a_broken_feature_file_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("bad.feature"),
        "# language: fr\nCeci n'est pas du Gherkin\n",
    )
    .expect("write");
    assert!(harness::run::feature_tags(dir.path()).is_err());
}

/// The committed coverage table is the one the catalogue, the tags and the mutants give.
#[test]
fn the_coverage_table_is_up_to_date() {
    let text = harness::coverage::render(&support::features()).expect("coverage");
    let path = support::workspace().join(harness::coverage::FILE);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{} is stale: run `cargo xtask coverage`",
        path.display()
    );
}
