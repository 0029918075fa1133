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
    // A command line per action holds no session between actions: the session lifecycle
    // requirements are not tested through it, and say so; everything else is the same.
    let mut expected = verdicts(&reference);
    for id in ["ECO.1.2.6", "ECO.1.2.7"] {
        expected.insert(id.to_owned(), Verdict::NotTested);
        let r = command.requirements.iter().find(|r| r.id == id).expect(id);
        assert!(
            r.explanation.contains("aucune session IMAP"),
            "{id}: {}",
            r.explanation
        );
    }
    assert_eq!(verdicts(&command), expected, "command profile");
    assert_eq!(verdicts(&http), verdicts(&reference), "HTTP profile");
    assert!(command.sut.contains("mss-client"), "{}", command.sut);
    assert!(!http.failed());
    // The command profile is unsettled only by what it cannot show.
    let unsettled: Vec<&str> = command
        .requirements
        .iter()
        .filter(|r| r.unsettled())
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(unsettled, ["ECO.1.2.6", "ECO.1.2.7"]);
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
