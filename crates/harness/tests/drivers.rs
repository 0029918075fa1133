//! The driver contract end to end: the reference client gives the same verdicts in process,
//! as a command line and over HTTP; a mutant behind the command profile fails; a broken or
//! hanging SUT is a bench error or not tested, never `non conforme`, and never hangs the run.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use harness::results::ScenarioStatus;
use harness::{RunResults, Verdict};

fn verdicts(r: &RunResults) -> BTreeMap<String, Verdict> {
    r.requirements
        .iter()
        .map(|x| (x.id.clone(), x.verdict))
        .collect()
}

async fn run_profile(profile: harness::driver::profile::Profile, only: &[&str]) -> RunResults {
    let mut config = support::config().with_profile(profile);
    config.requirements = only.iter().map(|s| s.to_string()).collect();
    config.timeout = Duration::from_secs(5);
    harness::run(config).await.unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_verdicts_in_process_by_command_and_over_http() {
    let Some(client) = support::mss_client() else {
        return;
    };
    let reference = harness::run(support::config()).await.expect("run");
    let command = run_profile(
        support::example_profile("mss-client-command.yaml", &client),
        &[],
    )
    .await;
    let http = run_profile(
        support::example_profile("mss-client-http.yaml", &client),
        &[],
    )
    .await;
    assert_eq!(
        reference.summary.passed,
        support::VERIFIED.len(),
        "{:?}",
        verdicts(&reference)
    );
    // The command lines hand each action to the running client (`start`): its sessions live
    // between actions and the session lifecycle is judged as in process.
    assert_eq!(verdicts(&command), verdicts(&reference), "command profile");
    assert_eq!(verdicts(&http), verdicts(&reference), "HTTP profile");
    assert!(command.sut.contains("mss-client"), "{}", command.sut);
    assert!(!command.failed() && !http.failed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_per_action_is_not_tested_on_the_session_lifecycle() {
    let Some(client) = support::mss_client() else {
        return;
    };
    // No `start`: each action is a process of its own and holds no session between actions.
    let c = client.display();
    let profile = support::profile(&format!(
        "name: sans session\ndriver: command\ncommand:\n  actions:\n    configure: {{ run: [{c}, driver] }}\n    sync: {{ run: [{c}, driver] }}\n    send: {{ run: [{c}, driver] }}\n"
    ));
    let ids = ["ECO.1.2.6", "ECO.1.2.7"];
    let results = run_profile(profile, &ids).await;
    for id in ids {
        let r = results.requirements.iter().find(|r| r.id == id).expect(id);
        assert_eq!(r.verdict, Verdict::NotTested, "{id}: {}", r.explanation);
        assert!(
            r.explanation.contains("aucune session IMAP"),
            "{id}: {}",
            r.explanation
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mutant_behind_the_command_profile_fails_its_requirement() {
    let Some(client) = support::mss_client() else {
        return;
    };
    let c = client.display();
    let profile = support::profile(&format!(
        "name: mutant\ndriver: command\ncommand:\n  actions:\n    send: {{ run: [{c}, driver, --defect, no-x-mss-nil] }}\n    sync: {{ run: [{c}, driver] }}\n"
    ));
    let r = run_profile(profile, &["ECO.2.4.3", "ECO.1.0.1"]).await;
    assert_eq!(r.verdict("ECO.2.4.3"), Some(Verdict::Failed));
    assert_eq!(r.verdict("ECO.1.0.1"), Some(Verdict::Passed));
    assert!(r.failed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_lifecycle_mutants_fail_through_the_command_profile() {
    let Some(client) = support::mss_client() else {
        return;
    };
    // The example profile, its running client given the defect: the command lines forward to
    // it, as an editor's command-line front end talks to its running application.
    for name in [
        "ignores-psc-session-end",
        "does-not-reconnect",
        "retries-refused-token",
        "no-refresh",
        "crashes-on-auth-error",
        "writes-token-to-disk",
    ] {
        let mutant = harness::mutants::MUTANTS
            .iter()
            .find(|m| m.name() == name)
            .expect(name);
        let mut profile = support::example_profile("mss-client-command.yaml", &client);
        let start = profile
            .start
            .as_mut()
            .expect("the example profile starts the client");
        start.run.extend(["--defect".to_owned(), name.to_owned()]);
        // A mutant never closes or reopens: each such scenario waits the whole delay.
        profile.session_delay = Some(3.0);
        let t = std::time::Instant::now();
        let r = run_profile(profile, mutant.fails).await;
        eprintln!("TIMING {name} {:?}", t.elapsed());
        for id in mutant.fails {
            assert_eq!(r.verdict(id), Some(Verdict::Failed), "mutant {name}: {id}");
        }
        assert_eq!(r.summary.harness_errors, 0, "mutant {name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tester_attests_what_the_harness_cannot_see() {
    let Some(client) = support::mss_client() else {
        return;
    };
    let proof = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(proof.path(), b"capture d'ecran").expect("write");
    let run = |answers: Vec<String>| {
        let profile = support::example_profile("mss-client-http.yaml", &client);
        let mut config = support::config().with_profile(profile);
        config.requirements = vec!["ECO.1.2.3".into(), "ECO.1.2.5".into()];
        config.timeout = Duration::from_secs(5);
        config.tester = harness::context::Tester::Scripted(answers);
        harness::run(config)
    };
    let evidence_of = |r: &RunResults, id: &str| -> Vec<String> {
        r.scenarios
            .iter()
            .flat_map(|s| &s.findings)
            .filter(|f| f.requirement == id)
            .flat_map(|f| f.evidence.clone())
            .collect()
    };
    // ECO.1.2.3 attested with a file (a wrong path first: asked again), ECO.1.2.5 without.
    let path = proof.path().display().to_string();
    let yes = run(vec![
        "peut-être".into(),
        "o".into(),
        "/nulle/part".into(),
        path.clone(),
        "oui".into(),
        String::new(),
    ])
    .await
    .expect("run");
    assert_eq!(yes.verdict("ECO.1.2.3"), Some(Verdict::Passed));
    assert_eq!(yes.verdict("ECO.1.2.5"), Some(Verdict::Passed));
    let attested = evidence_of(&yes, "ECO.1.2.3");
    assert!(
        attested
            .iter()
            .any(|e| e.starts_with("attesté par le testeur")
                && e.contains(&path)
                && e.contains("15 octets")),
        "{attested:?}"
    );
    assert!(
        evidence_of(&yes, "ECO.1.2.5")
            .iter()
            .any(|e| e.contains("sans fichier de preuve")),
    );
    // The tester does not attest ECO.1.2.5: it fails, whatever the canaries said.
    let no = run(vec!["o".into(), String::new(), "n".into(), path])
        .await
        .expect("run");
    assert_eq!(no.verdict("ECO.1.2.3"), Some(Verdict::Passed));
    assert_eq!(no.verdict("ECO.1.2.5"), Some(Verdict::Failed));
    let r = no
        .requirements
        .iter()
        .find(|r| r.id == "ECO.1.2.5")
        .expect("1.2.5");
    assert!(r.explanation.contains("n'atteste pas"), "{}", r.explanation);
    // No tester: the automated finding stands and says the attestation is missing.
    let profile = support::example_profile("mss-client-http.yaml", &client);
    let alone = run_profile(profile, &["ECO.1.2.5"]).await;
    assert_eq!(alone.verdict("ECO.1.2.5"), Some(Verdict::Passed));
    assert!(
        evidence_of(&alone, "ECO.1.2.5")
            .iter()
            .any(|e| e.contains("non recueillie"))
    );
}

/// A profile whose send is a shell script (the SUT), for the requirements of X-MSS-NIL only.
async fn with_send_script(script: &str, timeout: &str) -> RunResults {
    let profile = support::profile(&format!(
        "name: faux\ndriver: command\ntimeout: {timeout}\ncommand:\n  actions:\n    send: {{ run: [sh, -c, '{script}'] }}\n"
    ));
    run_profile(profile, &["ECO.2.4.3"]).await
}

fn statuses(r: &RunResults) -> Vec<ScenarioStatus> {
    r.scenarios.iter().map(|s| s.status).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_is_not_json_is_a_bench_error() {
    let r = with_send_script("cat >/dev/null; echo bonjour", "5").await;
    assert_eq!(r.verdict("ECO.2.4.3"), Some(Verdict::HarnessError));
    assert!(
        statuses(&r)
            .iter()
            .all(|s| *s == ScenarioStatus::HarnessError)
    );
    let reason = r.scenarios[0].reason.clone().unwrap_or_default();
    assert!(
        reason.contains("send") && reason.contains("JSON"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sut_that_fails_is_judged_on_what_it_did() {
    // It reports a failure and never reached the operator: nothing to judge, never a pass.
    let r = with_send_script("cat >/dev/null; echo \"pas de réseau\" >&2; exit 1", "5").await;
    assert_eq!(r.verdict("ECO.2.4.3"), Some(Verdict::NotTested));
    let action = &r.scenarios[0].actions;
    assert!(
        action.iter().any(|a| !a.ok
            && a.outcome.contains("pas de réseau")
            && a.outcome.contains("code de sortie 1")),
        "{action:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_sut_is_stopped_at_the_action_timeout() {
    let started = Instant::now();
    let r = with_send_script("sleep 30", "1").await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(r.verdict("ECO.2.4.3"), Some(Verdict::NotTested));
    assert!(
        r.scenarios[0]
            .actions
            .iter()
            .any(|a| a.outcome.contains("sans réponse")),
        "{:?}",
        r.scenarios[0].actions
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_the_sut_lacks_is_not_tested() {
    // Exit status 3: « not supported ».
    let r = with_send_script("cat >/dev/null; exit 3", "5").await;
    assert_eq!(r.verdict("ECO.2.4.3"), Some(Verdict::NotTested));
    assert!(
        r.scenarios[0]
            .reason
            .as_deref()
            .is_some_and(|t| t.contains("send")),
        "{:?}",
        r.scenarios[0].reason
    );
    // An action absent from the profile: the same.
    let profile = support::profile(
        "name: faux\ndriver: command\ncommand:\n  actions:\n    configure: { run: [sh, -c, 'cat >/dev/null'] }\n",
    );
    let r = run_profile(profile, &["ECO.1.0.2"]).await;
    assert_eq!(r.verdict("ECO.1.0.2"), Some(Verdict::NotTested));
    assert!(!r.failed() || r.summary.harness_errors == 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_http_endpoint_is_a_bench_error() {
    // Bind then drop a listener: nothing answers on that port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let profile = support::profile(&format!(
        "name: faux\ndriver: http\nhttp:\n  base_url: http://127.0.0.1:{port}\n  actions: [send]\n"
    ));
    let r = run_profile(profile, &["ECO.2.4.3"]).await;
    assert_eq!(r.verdict("ECO.2.4.3"), Some(Verdict::HarnessError));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sut_gets_the_runs_own_copy_of_the_trust_files() {
    // Another run with another operator port reissues the shared folder (CRLs included): a SUT
    // given those files could read a CRL that does not list this run's revoked certificate.
    let seen = tempfile::tempdir().expect("tempdir");
    let out = seen.path().join("request.json");
    let profile = support::profile(&format!(
        "name: faux\ndriver: command\ncommand:\n  actions:\n    configure: {{ run: [sh, -c, 'cat > {} && cat \"$(sed -n \"s/.*\\\"crls\\\":\\[\\\"\\([^\\\"]*\\)\\\".*/\\1/p\" {})\" > {}.crl'] }}\n",
        out.display(),
        out.display(),
        out.display()
    ));
    let _ = run_profile(profile, &["ECO.1.0.2"]).await;
    let request: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("request")).expect("json");
    let trust = &request["account"]["trust"];
    let certs = std::fs::canonicalize(support::certs()).expect("certs");
    for path in trust["crls"]
        .as_array()
        .expect("crls")
        .iter()
        .chain([&trust["root"], &trust["organisations"]])
    {
        let path = std::path::Path::new(path.as_str().expect("path"));
        assert!(!path.starts_with(&certs), "{}", path.display());
    }
    // The file was there, a CRL, while the SUT ran.
    let crl = std::fs::read_to_string(seen.path().join("request.json.crl")).expect("crl");
    assert!(crl.contains("BEGIN X509 CRL"), "{crl}");
}

/// What the harness cannot see at all (ECO.3.1.4: the Annuaire Santé search) rests on the
/// tester's word: confirmed, denied, or « non testé » when nobody is at the terminal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attestation_alone_is_the_verdict() {
    let Some(client) = support::mss_client() else {
        return;
    };
    let run = |tester: harness::context::Tester| {
        let profile = support::example_profile("mss-client-http.yaml", &client);
        let mut config = support::config().with_profile(profile);
        config.requirements = vec!["ECO.3.1.4".into()];
        config.tester = tester;
        harness::run(config)
    };
    use harness::context::Tester;
    let yes = run(Tester::Scripted(vec!["o".into(), String::new()]))
        .await
        .expect("run");
    assert_eq!(yes.verdict("ECO.3.1.4"), Some(Verdict::Attested));
    // With an evidence file: copied into the report folder, named by its digest, linked from
    // the page and listed in the manifest.
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("capture annuaire.png");
    std::fs::write(&capture, b"\x89PNG capture d'ecran").expect("write");
    let profile = support::example_profile("mss-client-http.yaml", &client);
    let mut config = support::config().with_profile(profile);
    config.requirements = vec!["ECO.3.1.4".into()];
    config.tester = Tester::Scripted(vec!["o".into(), capture.display().to_string()]);
    let report = dir.path().join("rapport");
    config.attachments = Some(report.join(harness::report::ATTACHMENTS));
    let with_file = harness::run(config).await.expect("run");
    assert_eq!(with_file.verdict("ECO.3.1.4"), Some(Verdict::Attested));
    let attached: Vec<_> = with_file
        .scenarios
        .iter()
        .flat_map(|s| s.attachments.iter())
        .collect();
    assert_eq!(attached.len(), 1, "{:#?}", with_file.scenarios);
    let name = attached[0].file.as_deref().expect("copied");
    assert!(name.ends_with("-capture_annuaire.png"), "{name}");
    harness::report::write_all(&with_file, &report).expect("reports");
    assert_eq!(
        std::fs::read(report.join("preuves").join(name)).expect("copy"),
        b"\x89PNG capture d'ecran"
    );
    let html = std::fs::read_to_string(report.join("index.html")).expect("html");
    assert!(html.contains(&format!("href=\"preuves/{name}\"")), "linked");
    let manifest = std::fs::read_to_string(report.join("MANIFEST.sha256")).expect("manifest");
    assert!(manifest.contains(&format!("preuves/{name}")));
    let no = run(Tester::Scripted(vec!["n".into(), String::new()]))
        .await
        .expect("run");
    assert_eq!(no.verdict("ECO.3.1.4"), Some(Verdict::Failed));
    let nobody = run(Tester::Absent).await.expect("run");
    assert_eq!(nobody.verdict("ECO.3.1.4"), Some(Verdict::NotTested));
}

/// A waived requirement is « dérogée », never passed, and does not fail the run; a waiver of a
/// requirement that passes is stale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waivers_are_never_passes_and_go_stale() {
    let waivers = harness::waivers::Waivers::parse("ECO.2.2.1:\n  reason: correctif en 5.2\n")
        .expect("waivers");
    let mut config = support::config().with_defect(client::Defect::NoMessageId);
    config.requirements = vec!["ECO.2.2.1".into()];
    let mut failing = harness::run(config).await.expect("run");
    assert_eq!(failing.verdict("ECO.2.2.1"), Some(Verdict::Failed));
    waivers.apply(&mut failing);
    assert_eq!(failing.verdict("ECO.2.2.1"), Some(Verdict::Waived));
    assert!(!failing.failed(), "a waived failure does not fail the run");
    assert_eq!(failing.summary.waived, 1);
    let dir = tempfile::tempdir().expect("tempdir");
    harness::report::write_all(&failing, dir.path()).expect("reports");
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).expect("junit");
    assert!(junit.contains("dérogation : correctif en 5.2") && !junit.contains("<failure"));
    let mut config = support::config();
    config.requirements = vec!["ECO.2.2.1".into()];
    let mut passing = harness::run(config).await.expect("run");
    waivers.apply(&mut passing);
    assert_eq!(passing.verdict("ECO.2.2.1"), Some(Verdict::Passed));
    assert_eq!(
        passing.stale_waivers.len(),
        1,
        "{:?}",
        passing.stale_waivers
    );
}
