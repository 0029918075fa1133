//! Every scenario against the reference client: everything it verifies passes, the six
//! requirements of the walking skeleton among them, and the reports say so.

mod support;

use harness::results::ScenarioStatus;
use harness::{Verdict, report};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_client_passes_every_scenario() {
    let results = harness::run(support::config()).await.expect("run");
    assert!(results.problems.is_empty(), "{:?}", results.problems);
    let failed: Vec<_> = results
        .scenarios
        .iter()
        .filter(|s| s.status != ScenarioStatus::Passed)
        // What only a tester can attest waits for one (none in a test run).
        .filter(|s| {
            !(s.status == ScenarioStatus::NotTested
                && !s.findings.is_empty()
                && s.findings
                    .iter()
                    .all(|f| f.detail.contains(harness::results::AWAITING_ATTESTATION)))
        })
        .map(|s| format!("{}: {}", s.name, s.reason.as_deref().unwrap_or("")))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    for id in support::VERIFIED {
        let r = results.requirements.iter().find(|r| r.id == id).expect(id);
        assert_eq!(r.verdict, Verdict::Passed, "{id}: {}", r.explanation);
        assert!(!r.scenarios.is_empty(), "{id} has scenarios");
        for &i in &r.scenarios {
            let s = &results.scenarios[i];
            assert!(
                s.findings.iter().any(|f| f.requirement == id
                    && f.verdict == rules::Verdict::Pass
                    && !f.detail.is_empty()),
                "{id} shows what passed"
            );
        }
    }
    assert!(!results.failed());

    let dir = tempfile::tempdir().expect("tempdir");
    report::write_all(&results, dir.path()).expect("reports");
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).expect("junit");
    let mut reader = quick_xml::Reader::from_str(&junit);
    let mut testcases = Vec::new();
    loop {
        match reader.read_event().expect("junit.xml is well-formed XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)
                if e.name().0 == "testcase" =>
            {
                let name = e
                    .try_get_attribute("name")
                    .expect("attr")
                    .expect("name")
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .expect("value")
                    .into_owned();
                testcases.push(name);
            }
            _ => {}
        }
    }
    for id in support::VERIFIED {
        assert!(
            testcases.iter().any(|t| t.starts_with(&format!("{id} — "))),
            "junit testcase for {id}"
        );
    }
    assert!(
        !junit.contains("<failure"),
        "no failure for the reference client"
    );
    let html = std::fs::read_to_string(dir.path().join("index.html")).expect("html");
    assert!(html.contains("id=\"ECO.1.3.1\"") && html.contains("Conforme"));
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("results.json")).expect("json"),
    )
    .expect("valid JSON");
    assert_eq!(json["requirements"].as_array().map(Vec::len), Some(47));
}
