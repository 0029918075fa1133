//! Golden journals: `tests/golden/journals/<case>.jsonl`, a session the operator recorded
//! (from the reference client, a mutant of it, or edited by hand to show one behaviour), next
//! to `<case>.json`: what the harness knew (`expectation`) and the findings every session rule
//! must give. A mismatch writes `<case>.json.failed` beside it; `MSS_BLESS=journals` rewrites
//! the expected findings, to review with `git diff`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rules::session::{Expectation, SessionEvidence};
use rules::{Finding, Verdict};

fn folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/journals")
}

/// Every session rule; ECO.1.1.9 only on the `autoconfig-*` cases (the others were not asked to
/// autoconfigure, and would all fail it).
fn judge(evidence: &SessionEvidence, expected: &Expectation, autoconfig: bool) -> Vec<Finding> {
    let mut findings = vec![
        rules::eco_1_0_1::check(evidence, expected),
        rules::eco_1_0_2::check(evidence, expected),
        rules::eco_1_0_1::check_no_starttls(evidence, expected),
        rules::eco_1_0_2::check_no_starttls(evidence, expected),
        rules::eco_1_1_1::check_refusal(evidence, expected),
        rules::eco_1_1_1::check_tls12(evidence, expected),
        rules::eco_1_1_2::check(evidence, expected),
        rules::eco_1_1_3::check(evidence, expected),
        rules::eco_1_1_3::check_refusal(evidence, expected),
        rules::eco_1_1_5::check_refusal(evidence, expected),
        rules::eco_1_1_10::check_refusal(evidence, expected),
        rules::eco_1_1_6::check_refusal(evidence, expected),
        rules::eco_1_1_7::check(evidence, expected),
        rules::eco_1_2_1::check(evidence, expected),
        rules::eco_1_2_6::check(evidence, expected, Duration::from_secs(10)),
        rules::eco_1_2_7::check(evidence, expected, Duration::from_secs(10)),
        rules::eco_1_3_1::check(evidence, expected),
    ];
    if autoconfig {
        findings.push(rules::eco_1_1_9::check(evidence, expected));
    }
    findings
}

fn summary(findings: &[Finding]) -> serde_json::Value {
    serde_json::Value::Array(
        findings
            .iter()
            .map(|f| {
                serde_json::json!({
                    "requirement": f.requirement,
                    "verdict": f.verdict,
                    "detail": f.detail,
                })
            })
            .collect(),
    )
}

#[test]
fn every_golden_journal_gives_its_findings() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(folder())
        .expect("golden journals")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 16,
        "the golden folder is not empty: {}",
        cases.len()
    );
    let bless = std::env::var("MSS_BLESS").as_deref() == Ok("journals");
    let mut mismatches = Vec::new();
    for journal in &cases {
        let expected_path = journal.with_extension("json");
        let text = std::fs::read_to_string(journal).expect("journal");
        let events =
            evidence::read_jsonl(&text).unwrap_or_else(|e| panic!("{}: {e}", journal.display()));
        let golden: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(&expected_path)
                .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display())),
        )
        .expect("golden JSON");
        let expectation: Expectation =
            serde_json::from_value(golden["expectation"].clone()).expect("expectation");
        let autoconfig = journal
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("autoconfig"));
        let findings = judge(&SessionEvidence::new(events), &expectation, autoconfig);
        let got = summary(&findings);
        if got != golden["findings"] {
            let out = serde_json::json!({ "expectation": golden["expectation"], "findings": got });
            let text = serde_json::to_string_pretty(&out).expect("json") + "\n";
            if bless {
                std::fs::write(&expected_path, text).expect("bless");
            } else {
                std::fs::write(journal.with_extension("json.failed"), text).expect("failed");
                mismatches.push(journal.display().to_string());
            }
        } else {
            let _ = std::fs::remove_file(journal.with_extension("json.failed"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "findings differ (see .json.failed): {mismatches:#?}"
    );
}

/// Each rule has a conformant and a failing recording among the goldens.
#[test]
fn every_session_rule_has_a_passing_and_a_failing_journal() {
    let mut seen: std::collections::BTreeMap<String, (bool, bool)> = Default::default();
    for entry in std::fs::read_dir(folder()).expect("golden journals") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let golden: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        for f in golden["findings"].as_array().into_iter().flatten() {
            let id = f["requirement"].as_str().unwrap_or_default().to_owned();
            let e = seen.entry(id).or_default();
            match f["verdict"].as_str() {
                Some("pass") => e.0 = true,
                Some("fail") => e.1 = true,
                _ => {}
            }
        }
    }
    for id in [
        "ECO.1.0.1",
        "ECO.1.0.2",
        "ECO.1.1.6",
        "ECO.1.1.7",
        "ECO.1.1.9",
        "ECO.1.2.1",
        "ECO.1.2.6",
        "ECO.1.2.7",
        "ECO.1.3.1",
    ] {
        assert_eq!(seen.get(id), Some(&(true, true)), "{id}: a pass and a fail");
    }
    // The verdicts are typed: the golden files never hold anything else.
    let _ = Verdict::NotTested;
}
