//! A system under test nobody here wrote the protocol code of: `tests/sut/python-lps.py`, an LPS
//! on Python's standard library (OpenSSL, smtplib, imaplib, email), driven through the command
//! contract. It is right but different from the reference client (another TLS stack, another
//! MIME layout, AUTHENTICATE with a continuation, an IMAP connection left open in IDLE): every
//! requirement it meets must pass.

mod support;

use std::time::Duration;

use harness::Verdict;

fn have_python() -> bool {
    let found = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok();
    if !found {
        assert!(
            std::env::var_os("MSS_REQUIRE_INTEROP").is_none(),
            "python3 is required (installed by .ci/run)"
        );
        eprintln!("SKIPPED: python3 is not installed");
    }
    found
}

fn script() -> std::path::PathBuf {
    support::workspace().join("crates/harness/tests/sut/python-lps.py")
}

/// Every scenario passed, and so did every requirement verified today (of `ids`).
fn assert_all_pass(results: &harness::RunResults, ids: &[&str]) {
    for s in &results.scenarios {
        assert_eq!(
            s.status,
            harness::results::ScenarioStatus::Passed,
            "{}: {:?} {:?}",
            s.name,
            s.reason,
            s.actions
        );
    }
    for id in ids {
        assert_eq!(results.verdict(id), Some(Verdict::Passed), "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_lived_lps_reusing_its_imap_connections_passes() {
    if !have_python() {
        return;
    }
    // Served over HTTP, it keeps one IMAP connection per BAL open across scenarios: a later
    // scenario's synchronisation runs on a connection opened (and authenticated) before it.
    let profile = support::profile(&format!(
        "name: python-lps (HTTP)\ndriver: http\ntimeout: 20\nstart:\n  run: [python3, {}, serve]\nhttp:\n  actions: [configure, send, sync, reply, open, write_to_patient, list_inbox]\n",
        script().display()
    ));
    let journals = tempfile::tempdir().expect("tempdir");
    let mut config = support::config().with_profile(profile);
    config.timeout = Duration::from_secs(10);
    config.journals = Some(journals.path().to_owned());
    // The IMAP scenarios of one BAL follow each other (a scenario switching the operator's TLS
    // profile ends every session, so its neighbours could not share a connection).
    let ids = ["ECO.1.0.2", "ECO.1.2.1", "ECO.1.3.1"];
    config.requirements = ids.iter().map(|id| id.to_string()).collect();
    let results = harness::run(config).await.expect("run");
    assert_all_pass(&results, &ids);
    // Some IMAP connection served two scenarios: judged in both with its whole history.
    let mut seen: std::collections::BTreeMap<u64, usize> = Default::default();
    for s in &results.scenarios {
        let Some(name) = &s.journal else { continue };
        let text = std::fs::read_to_string(journals.path().join(name)).expect("journal");
        let evidence = evidence::SessionEvidence::new(evidence::read_jsonl(&text).expect("read"));
        for c in evidence.connections_to(evidence::Service::Imap) {
            *seen.entry(c.id).or_default() += 1;
        }
    }
    assert!(
        seen.values().any(|n| *n >= 2),
        "no IMAP connection reused: {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_lps_on_pythons_standard_library_passes() {
    if !have_python() {
        return;
    }
    let script = script();
    let run = format!("[python3, {}]", script.display());
    let profile = support::profile(&format!(
        "name: python-lps\ndriver: command\ntimeout: 20\ncommand:\n  actions:\n    configure: {{ run: {run} }}\n    send: {{ run: {run} }}\n    sync: {{ run: {run} }}\n    reply: {{ run: {run} }}\n    open: {{ run: {run} }}\n    write_to_patient: {{ run: {run} }}\n    list_inbox: {{ run: {run} }}\n"
    ));
    let journals = tempfile::tempdir().expect("tempdir");
    let mut config = support::config().with_profile(profile);
    config.timeout = Duration::from_secs(10);
    config.journals = Some(journals.path().to_owned());
    // It runs no Pro Santé Connect session of its own (it uses the token it is given): the
    // session lifecycle (ECO.1.2.6, 1.2.7) is not its to show; nor are health documents.
    config.requirements = support::verified_for_python_lps()
        .iter()
        .map(|id| id.to_string())
        .collect();
    let results = harness::run(config).await.expect("run");
    // It checks revocation with installed CRL files and downloads none: it still connects
    // while the distribution points fail, and refuses the revoked certificate (ECO.1.1.7).
    assert_all_pass(&results, &support::verified_for_python_lps());
    // It was judged while its IMAP connection was still open in IDLE.
    let scenario = results
        .scenarios
        .iter()
        .find(|s| {
            s.requirements.iter().any(|r| r == "ECO.1.0.2")
                && s.name.contains("STARTTLS avant tout le reste")
        })
        .expect("IMAP scenario");
    let name = scenario.journal.as_ref().expect("journal");
    let text = std::fs::read_to_string(journals.path().join(name)).expect("journal");
    let events = evidence::read_jsonl(&text).expect("events");
    let evidence = evidence::SessionEvidence::new(events);
    let imap = evidence.connections_to(evidence::Service::Imap);
    assert!(
        imap.iter().any(|c| c.closed().is_none()
            && c.commands().iter().any(|e| matches!(
                &e.kind,
                evidence::EventKind::Command { verb, .. } if verb == "IDLE"
            ))),
        "an IMAP connection left in IDLE: {:#?}",
        imap.iter().map(|c| c.transcript(30)).collect::<Vec<_>>()
    );
}

/// An LPS that implements only some of the allowed suites, none of which the operator's main
/// TLS stack (rustls) knows: DHE with AES-GCM, or ECDHE with AES-CBC-SHA384, TLS 1.2 only. It
/// is conformant and must be served (the operator falls back on OpenSSL) and judged so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_lps_with_only_the_less_common_allowed_suites_passes() {
    if !have_python() {
        return;
    }
    let script = script();
    let run = format!("[python3, {}]", script.display());
    for ciphers in ["DHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA256"] {
        let profile = support::profile(&format!(
            "name: python-lps {ciphers}\ndriver: command\ntimeout: 20\ncommand:\n  env: {{ PYTHON_LPS_TLS12_CIPHERS: {ciphers} }}\n  actions:\n    configure: {{ run: {run} }}\n    send: {{ run: {run} }}\n    sync: {{ run: {run} }}\n"
        ));
        let mut config = support::config().with_profile(profile);
        config.timeout = Duration::from_secs(10);
        let ids = [
            "ECO.1.0.1",
            "ECO.1.0.2",
            "ECO.1.1.3",
            "ECO.1.2.1",
            "ECO.1.3.1",
        ];
        config.requirements = ids.iter().map(|id| id.to_string()).collect();
        let results = harness::run(config).await.expect("run");
        assert_all_pass(&results, &ids);
    }
}
