//! The report folder of a run, for the reference client and for a mutant: every format is
//! there, `junit.xml` is valid against the JUnit schema (xmllint), `results.json` against its
//! JSON schema (Python's jsonschema), the manifest checks (sha256sum), the CSV has a line per
//! requirement, and the failure's finding reaches every format.

mod support;

use std::path::Path;
use std::process::Command;

fn schemas() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

fn required(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("MSS_REQUIRE_INTEROP").is_none(),
            "{tool} is required in CI"
        );
    }
    found
}

/// The first of `candidates` whose Python imports `module`; in CI (where `.ci/run` installed
/// it) its absence is a failure.
fn python_with(module: &str, candidates: &[String], package: &str) -> Option<String> {
    let found = candidates.iter().find(|p| {
        Command::new(p)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("MSS_REQUIRE_INTEROP").is_none(),
            "{package} is required in CI"
        );
    }
    found.cloned()
}

/// A Python with `jsonschema` (Debian's `python3-jsonschema` for /usr/bin/python3).
fn python_with_jsonschema() -> Option<String> {
    let candidates = ["python3".to_owned(), "/usr/bin/python3".to_owned()];
    python_with("jsonschema", &candidates, "python3-jsonschema")
}

/// A Python with the Cucumber Messages model (`cucumber-messages` 34.2.0 from PyPI, which
/// `.ci/run` installs in a virtual environment named by `MSS_CUCUMBER_PYTHON`).
fn python_with_cucumber_messages() -> Option<String> {
    let candidates: Vec<String> = std::env::var("MSS_CUCUMBER_PYTHON")
        .into_iter()
        .chain(["python3".to_owned()])
        .collect();
    python_with("cucumber_messages", &candidates, "cucumber-messages (PyPI)")
}

const STATUSES: [&str; 5] = ["passed", "failed", "skipped", "undefined", "pending"];

/// `cucumber.json`: the fields Cucumber's JSON readers require, lower-case statuses, and a
/// step per scenario step.
fn check_cucumber_json(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("cucumber.json")).expect("cucumber.json");
    let features: serde_json::Value = serde_json::from_str(&text).expect("cucumber.json parses");
    let features = features.as_array().expect("an array of features");
    assert!(!features.is_empty());
    for f in features {
        for key in ["uri", "id", "keyword", "name", "description"] {
            assert!(f[key].is_string(), "feature.{key}: {f}");
        }
        assert!(f["line"].is_u64() && f["tags"].is_array());
        for e in f["elements"].as_array().expect("elements") {
            for key in ["id", "keyword", "name", "description"] {
                assert!(e[key].is_string(), "element.{key}");
            }
            assert_eq!(e["type"], "scenario");
            assert!(e["line"].is_u64());
            let steps = e["steps"].as_array().expect("steps");
            assert!(!steps.is_empty(), "{}", e["name"]);
            for st in steps {
                assert!(st["keyword"].is_string() && st["name"].is_string() && st["line"].is_u64());
                let status = st["result"]["status"].as_str().expect("status");
                assert!(STATUSES.contains(&status), "{status}");
                assert!(st["result"]["duration"].is_u64());
                if status == "failed" {
                    assert!(st["result"]["error_message"].is_string());
                }
            }
        }
    }
    serde_json::Value::Array(features.clone())
}

fn check_folder(dir: &Path) {
    for file in [
        "index.html",
        "junit.xml",
        "results.json",
        "summary.md",
        "exigences.csv",
        "cucumber.json",
        "cucumber.ndjson",
        "MANIFEST.sha256",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    if required("xmllint") {
        let out = Command::new("xmllint")
            .args(["--noout", "--schema"])
            .arg(schemas().join("junit.xsd"))
            .arg(dir.join("junit.xml"))
            .output()
            .expect("xmllint");
        assert!(
            out.status.success(),
            "junit.xml against the JUnit schema: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if let Some(python) = python_with_jsonschema() {
        let out = Command::new(python)
            .args([
                "-c",
                "import json, sys, jsonschema\n\
                 jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))",
            ])
            .arg(dir.join("results.json"))
            .arg(schemas().join("results.schema.json"))
            .output()
            .expect("python");
        assert!(
            out.status.success(),
            "results.json against its schema: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if required("sha256sum") {
        let out = Command::new("sha256sum")
            .args(["--check", "--quiet", "MANIFEST.sha256"])
            .current_dir(dir)
            .output()
            .expect("sha256sum");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    check_cucumber_json(dir);
    // The stream's order: the run starts before any test case, events come in time order
    // (concurrent scenarios on their own workers), and the run finishes last.
    let ndjson = std::fs::read_to_string(dir.join("cucumber.ndjson")).expect("ndjson");
    let envelopes: Vec<serde_json::Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let kind = |e: &serde_json::Value| e.as_object().and_then(|o| o.keys().next().cloned());
    let position = |k: &str| envelopes.iter().position(|e| kind(e).as_deref() == Some(k));
    assert!(position("testRunStarted") < position("testCase"));
    assert_eq!(
        kind(envelopes.last().expect("envelopes")).as_deref(),
        Some("testRunFinished")
    );
    let times: Vec<(i64, i64)> = envelopes
        .iter()
        .filter_map(|e| {
            let (k, v) = e.as_object()?.iter().next()?;
            if !k.starts_with("testCase") && !k.starts_with("testStep") && !k.starts_with("testRun")
            {
                return None;
            }
            let t = &v.get("timestamp")?;
            Some((t["seconds"].as_i64()?, t["nanos"].as_i64()?))
        })
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "timestamps in order"
    );
    if let Some(python) = python_with_cucumber_messages() {
        let out = Command::new(python)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/validate_ndjson.py"))
            .arg(dir.join("cucumber.ndjson"))
            .output()
            .expect("python");
        assert!(
            out.status.success(),
            "cucumber.ndjson against the Cucumber Messages model: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let csv = std::fs::read_to_string(dir.join("exigences.csv")).expect("csv");
    assert_eq!(
        csv.lines().count(),
        catalog::Catalogue::embedded().len() + 1,
        "a line per requirement and the header"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_folders_are_complete_and_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = support::config();
    config.requirements = ["ECO.1.0.1", "ECO.2.2.1", "ECO.2.4.3", "ECO.3.1.4"]
        .map(String::from)
        .to_vec();
    let good = harness::run(config.clone()).await.expect("run");
    harness::report::write_all(&good, &dir.path().join("reference")).expect("reports");
    check_folder(&dir.path().join("reference"));

    let mut mutant = config.with_defect(client::Defect::NoMessageId);
    mutant.requirements = vec!["ECO.2.2.1".into(), "ECO.2.4.3".into()];
    let bad = harness::run(mutant).await.expect("run");
    let out = dir.path().join("mutant");
    harness::report::write_all(&bad, &out).expect("reports");
    check_folder(&out);
    let finding = "l'entête Message-ID est absent";
    for file in [
        "index.html",
        "junit.xml",
        "summary.md",
        "exigences.csv",
        "results.json",
    ] {
        let text = std::fs::read_to_string(out.join(file)).expect(file);
        assert!(
            text.contains(finding)
                || text.contains("l&apos;entête Message-ID est absent")
                || text.contains("l&#39;entête Message-ID est absent"),
            "{file} carries the finding"
        );
    }
    let csv = std::fs::read_to_string(out.join("exigences.csv")).expect("csv");
    assert!(csv.contains(";ECO.2.2.1;EXIGENCE;") && csv.contains(";Non conforme;"));

    // The judging step that found it has failed, with the finding, in both Cucumber formats.
    let features = check_cucumber_json(&out);
    let failed: Vec<&serde_json::Value> = features
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f["elements"].as_array().into_iter().flatten())
        .flat_map(|e| e["steps"].as_array().into_iter().flatten())
        .filter(|st| st["result"]["status"] == "failed")
        .collect();
    assert!(
        failed.iter().any(|st| st["result"]["error_message"]
            .as_str()
            .is_some_and(|m| m.contains(finding))),
        "cucumber.json: a failed step carries the finding"
    );
    let ndjson = std::fs::read_to_string(out.join("cucumber.ndjson")).expect("ndjson");
    assert!(ndjson.lines().any(|l| l.contains("\"testStepFinished\"")
        && l.contains("\"FAILED\"")
        && l.contains("Message-ID est absent")));
    assert!(
        ndjson
            .lines()
            .last()
            .is_some_and(|l| l.contains("\"success\":false"))
    );
    let good_ndjson =
        std::fs::read_to_string(dir.path().join("reference/cucumber.ndjson")).expect("ndjson");
    assert!(!good_ndjson.contains("\"FAILED\""));
}

/// A Message-ID reused from one scenario to the next fails the scenario that reused it, with its
/// own messages as evidence and its judging step failed: not a line of the campaign beside a
/// scenario saying « conforme ».
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_id_reused_across_scenarios_fails_the_scenario_that_reused_it() {
    let mut config = support::config().with_defect(client::Defect::ReusedMessageId);
    config.requirements = vec!["ECO.2.2.1".into()];
    let dir = tempfile::tempdir().expect("tempdir");
    config.messages = Some(dir.path().join("messages"));
    let results = harness::run(config).await.expect("run");
    assert_eq!(
        results.verdict("ECO.2.2.1"),
        Some(harness::results::Verdict::Failed)
    );
    assert!(results.run_findings.is_empty(), "attributed to scenarios");
    let reusing: Vec<_> = results
        .scenarios
        .iter()
        .filter(|s| {
            s.findings
                .iter()
                .any(|f| f.detail.contains("avait déjà servi dans le scénario"))
        })
        .collect();
    assert!(!reusing.is_empty(), "{:#?}", results.scenarios);
    for s in reusing {
        assert_eq!(s.status, harness::results::ScenarioStatus::Failed);
        let f = s
            .findings
            .iter()
            .find(|f| f.detail.contains("avait déjà servi"))
            .expect("finding");
        assert!(!f.evidence.is_empty());
        for line in &f.evidence {
            assert!(
                s.messages.iter().any(|m| line.ends_with(m.as_str())),
                "evidence from this scenario only: {line}"
            );
        }
        assert!(
            s.steps
                .iter()
                .any(|st| st.status == harness::results::StepStatus::Failed
                    && st
                        .message
                        .as_deref()
                        .is_some_and(|m| m.contains("déjà servi"))),
            "the judging step failed: {:#?}",
            s.steps
        );
    }
}

/// ECO.1.1.3 is judged on the suites offered (the verdict) and shown beside it on the suites
/// negotiated: a client offering ChaCha20 but negotiating an allowed suite is « non conforme »
/// strictly and « conforme » conceptually, in results.json and in the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_and_conceptual_readings_of_eco_1_1_3_are_shown_side_by_side() {
    use harness::results::Verdict;
    let mut config = support::config();
    config.requirements = vec!["ECO.1.1.3".into()];
    let good = harness::run(config.clone()).await.expect("run");
    let bad = harness::run(config.with_defect(client::Defect::OffersChacha20))
        .await
        .expect("run");
    let view = |r: &harness::results::RunResults| {
        let req = r
            .requirements
            .iter()
            .find(|q| q.id == "ECO.1.1.3")
            .expect("ECO.1.1.3");
        (req.verdict, req.conceptual.as_ref().map(|c| c.verdict))
    };
    assert_eq!(view(&good), (Verdict::Passed, Some(Verdict::Passed)));
    assert_eq!(view(&bad), (Verdict::Failed, Some(Verdict::Passed)));
    let dir = tempfile::tempdir().expect("tempdir");
    harness::report::write_all(&bad, dir.path()).expect("reports");
    let html = std::fs::read_to_string(dir.path().join("index.html")).expect("html");
    assert!(html.contains("Lecture stricte (le verdict)") && html.contains("lecture conceptuelle"));
}

/// The reuse found by scenarios of other requirements (no ECO.2.2.1 scenario selected) still
/// fails ECO.2.2.1 and the run, shows as the campaign's check after the scenario (not as a
/// step that judged something else), in every format.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_id_reused_by_scenarios_of_other_requirements_fails_the_run() {
    use harness::results::{StepStatus, Verdict};
    let mut config = support::config().with_defect(client::Defect::ReusedMessageId);
    config.requirements = vec!["ECO.1.0.1".into(), "ECO.2.4.3".into()];
    let results = harness::run(config).await.expect("run");
    assert_eq!(results.verdict("ECO.2.2.1"), Some(Verdict::Failed));
    assert!(results.failed(), "a false green otherwise");
    let campaign: Vec<_> = results
        .scenarios
        .iter()
        .flat_map(|s| s.steps.iter())
        .filter(|st| st.text == harness::run::CAMPAIGN_STEP)
        .collect();
    assert!(!campaign.is_empty());
    assert!(campaign.iter().all(|st| st.status == StepStatus::Failed));
    // No step that judged another requirement is blamed.
    for s in &results.scenarios {
        for st in s
            .steps
            .iter()
            .filter(|st| st.text != harness::run::CAMPAIGN_STEP)
        {
            assert!(
                st.message
                    .as_deref()
                    .is_none_or(|m| !m.contains("déjà servi")),
                "{} blamed",
                st.text
            );
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    harness::report::write_all(&results, dir.path()).expect("reports");
    check_folder(dir.path());
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).expect("junit");
    assert!(junit.contains("déjà servi") && junit.contains("<failure"));
    let ndjson = std::fs::read_to_string(dir.path().join("cucumber.ndjson")).expect("ndjson");
    assert!(ndjson.contains("\"hookId\"") && ndjson.contains("\"success\":false"));
    let json = std::fs::read_to_string(dir.path().join("cucumber.json")).expect("json");
    assert!(json.contains("\"after\""));
}
