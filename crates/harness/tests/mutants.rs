//! Every mutant of the reference client must be rejected by the scenarios of the requirements
//! it breaks: a check no mutant can fail is a defect.

mod support;

use harness::Verdict;
use harness::mutants::{MUTANTS, Mutant};

async fn run_against(mutant: &Mutant) -> harness::RunResults {
    let mut config = support::config().with_defect(mutant.defect);
    // A mutant often never produces the awaited effect: do not wait the default 10 s for it.
    config.timeout = std::time::Duration::from_secs(3);
    harness::run(config).await.expect("run")
}

fn verdict(results: &harness::RunResults, id: &str) -> Verdict {
    results.verdict(id).expect(id)
}

async fn check(name: &str, still_passing: &[&str]) {
    let mutant = MUTANTS.iter().find(|m| m.name() == name).expect(name);
    let results = run_against(mutant).await;
    for id in mutant.fails {
        assert_eq!(
            verdict(&results, id),
            Verdict::Failed,
            "mutant {name} must fail {id}"
        );
    }
    for id in still_passing {
        assert_eq!(
            verdict(&results, id),
            Verdict::Passed,
            "mutant {name} must not disturb {id}"
        );
    }
    assert_eq!(
        results.summary.harness_errors, 0,
        "no bench error against {name}"
    );
    assert!(results.failed(), "the run exits non-zero against {name}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_auth_in_clear() {
    // Refused, then STARTTLS and a correct authentication: still a failure of every
    // requirement that says « après STARTTLS ».
    check(
        "smtp-auth-in-clear",
        &["ECO.1.0.2", "ECO.2.2.1", "ECO.2.4.3"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_without_starttls() {
    check(
        "imap-without-starttls",
        &["ECO.1.0.1", "ECO.2.2.1", "ECO.2.4.3"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_pipelining() {
    check(
        "starttls-pipelining",
        &["ECO.1.2.1", "ECO.1.3.1", "ECO.2.2.1", "ECO.2.4.3"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xoauth2_bad_separators() {
    check("xoauth2-bad-separators", &["ECO.1.3.1"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xoauth2_wrong_user() {
    // The operator accepts it (the professional may open that BAL): the rule does not.
    check("xoauth2-wrong-user", &["ECO.1.3.1"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_instead_of_xoauth2() {
    check("plain-instead-of-xoauth2", &["ECO.1.3.1"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_before_auth() {
    check(
        "command-before-auth",
        &["ECO.1.0.1", "ECO.1.0.2", "ECO.2.2.1", "ECO.2.4.3"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_pipelined() {
    check(
        "auth-pipelined",
        &["ECO.1.0.1", "ECO.1.0.2", "ECO.2.2.1", "ECO.2.4.3"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_ehlo_after_tls() {
    check(
        "no-ehlo-after-tls",
        &[
            "ECO.1.0.2",
            "ECO.1.2.1",
            "ECO.1.3.1",
            "ECO.2.2.1",
            "ECO.2.4.3",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_client_certificate() {
    check("no-client-certificate", &["ECO.1.2.1"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_wrong_login() {
    check("plain-wrong-login", &["ECO.1.2.1"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_message_id() {
    check(
        "no-message-id",
        &[
            "ECO.1.0.1",
            "ECO.1.0.2",
            "ECO.1.2.1",
            "ECO.1.3.1",
            "ECO.2.4.3",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_message_id() {
    check(
        "reused-message-id",
        &[
            "ECO.1.0.1",
            "ECO.1.0.2",
            "ECO.1.2.1",
            "ECO.1.3.1",
            "ECO.2.4.3",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_x_mss_nil() {
    check(
        "no-x-mss-nil",
        &[
            "ECO.1.0.1",
            "ECO.1.0.2",
            "ECO.1.2.1",
            "ECO.1.3.1",
            "ECO.2.2.1",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offers_chacha20() {
    // Offered only: the operator still negotiates an allowed suite, and the rest passes.
    check(
        "offers-chacha20",
        &[
            "ECO.1.1.1",
            "ECO.1.1.5",
            "ECO.1.1.10",
            "ECO.1.0.1",
            "ECO.1.0.2",
            "ECO.1.2.1",
            "ECO.1.3.1",
            "ECO.2.2.1",
            "ECO.2.4.3",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusts_other_range() {
    check(
        "trusts-other-range",
        &[
            "ECO.1.0.1",
            "ECO.1.1.1",
            "ECO.1.1.3",
            "ECO.1.1.5",
            "ECO.2.2.1",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignores_certificate_dates() {
    check(
        "ignores-certificate-dates",
        &[
            "ECO.1.0.1",
            "ECO.1.1.1",
            "ECO.1.1.3",
            "ECO.1.1.10",
            "ECO.2.2.1",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_structure_certificate() {
    check("other-structure-certificate", &["ECO.1.2.1", "ECO.1.1.3"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_client_certificate() {
    check("expired-client-certificate", &["ECO.1.2.1", "ECO.1.1.3"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personnes_client_certificate() {
    check("personnes-client-certificate", &["ECO.1.2.1", "ECO.1.1.3"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_client_certificate() {
    check("revoked-client-certificate", &["ECO.1.2.1", "ECO.1.1.3"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commercial_client_certificate() {
    check("commercial-client-certificate", &["ECO.1.2.1", "ECO.1.1.3"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls13_only() {
    check(
        "tls13-only",
        &[
            "ECO.1.0.1",
            "ECO.1.0.2",
            "ECO.1.1.3",
            "ECO.1.1.5",
            "ECO.1.1.10",
            "ECO.1.2.1",
        ],
    )
    .await;
}

#[test]
fn every_mutant_has_a_test() {
    let source = include_str!("mutants.rs");
    for m in MUTANTS {
        assert!(
            source.matches(&format!("\"{}\"", m.name())).count() >= 1,
            "mutant {} is not tested",
            m.name()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_revocation_check() {
    check(
        "no-revocation-check",
        &[
            "ECO.1.1.5",
            "ECO.1.1.9",
            "ECO.1.2.1",
            "ECO.1.3.1",
            "ECO.2.2.1",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_before_verify() {
    // It aborts in the end, but only once its credential has left it.
    check(
        "credential-before-verify",
        &["ECO.1.1.9", "ECO.1.2.1", "ECO.2.2.1"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drops_crl_cache() {
    check(
        "drops-crl-cache",
        &["ECO.1.1.6", "ECO.1.1.9", "ECO.1.2.1", "ECO.2.2.1"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_coded_ports() {
    check(
        "hard-coded-ports",
        &["ECO.1.1.6", "ECO.1.1.7", "ECO.1.2.1", "ECO.2.2.1"],
    )
    .await;
}

// The OpenSSL mutants keep the rest of the policy: trust, dates, revocation, authentication.
const OPENSSL_UNDISTURBED: &[&str] = &[
    "ECO.1.0.1",
    "ECO.1.1.5",
    "ECO.1.1.6",
    "ECO.1.1.10",
    "ECO.1.2.1",
    "ECO.1.3.1",
    "ECO.2.2.1",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allows_tls10() {
    check("allows-tls10", OPENSSL_UNDISTURBED).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offers_cbc_sha() {
    check(
        "offers-cbc-sha",
        &[&["ECO.1.1.1"], OPENSSL_UNDISTURBED].concat(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offers_p224() {
    check(
        "offers-p224",
        &[&["ECO.1.1.1"], OPENSSL_UNDISTURBED].concat(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepts_weak_dhe() {
    // Its offer is the référentiel's own list: only the negotiated group betrays it.
    check(
        "accepts-weak-dhe",
        &[&["ECO.1.1.1"], OPENSSL_UNDISTURBED].concat(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusts_any_ca() {
    check(
        "trusts-any-ca",
        &[
            "ECO.1.1.5",
            "ECO.1.1.6",
            "ECO.1.2.1",
            "ECO.1.3.1",
            "ECO.2.2.1",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignores_psc_session_end() {
    check(
        "ignores-psc-session-end",
        &["ECO.1.2.7", "ECO.1.2.1", "ECO.1.0.2"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn does_not_reconnect() {
    check(
        "does-not-reconnect",
        &["ECO.1.2.6", "ECO.1.2.1", "ECO.1.0.2"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_refused_token() {
    check(
        "retries-refused-token",
        &["ECO.1.2.6", "ECO.1.2.1", "ECO.1.0.2"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_refresh() {
    check("no-refresh", &["ECO.1.2.6", "ECO.1.2.1", "ECO.1.0.2"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soft_fail_revocation() {
    // It checks revocation while the responders answer: only the outage betrays it.
    check(
        "soft-fail-revocation",
        &["ECO.1.1.6", "ECO.1.1.9", "ECO.1.2.1", "ECO.2.2.1"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_professional_token() {
    check("other-professional-token", &["ECO.1.3.1", "ECO.1.1.10"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashes_on_auth_error() {
    check(
        "crashes-on-auth-error",
        &["ECO.1.2.1", "ECO.1.2.6", "ECO.1.2.7", "ECO.1.0.2"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_token_to_disk() {
    check(
        "writes-token-to-disk",
        &["ECO.1.2.1", "ECO.1.2.6", "ECO.1.2.7", "ECO.2.2.1"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latin1_text() {
    check("latin1-text", &["ECO.2.2.4", "ECO.2.4.3"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_only() {
    check("html-only", &["ECO.2.2.3", "ECO.2.4.3"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_reply_to() {
    check("no-reply-to", &["ECO.2.2.3", "ECO.2.2.7", "ECO.2.4.3"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_sender_label() {
    check("no-sender-label", &["ECO.2.2.3", "ECO.2.2.5", "ECO.2.4.3"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignores_dsn_request() {
    check("ignores-dsn-request", &["ECO.2.3.2", "ECO.2.2.8"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignores_mdn_request() {
    check("ignores-mdn-request", &["ECO.2.3.1", "ECO.2.2.8"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fin_in_subject() {
    check("fin-in-subject", &["ECO.2.3.1", "ECO.2.3.2"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_xdm() {
    check("no-xdm", &["ECO.2.2.1", "ECO.2.4.3"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codecda_first_document_only() {
    check(
        "codecda-first-document-only",
        &["ECO.2.1.1", "ECO.2.1.3", "ECO.2.4.2"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ins_o_without_birth_name() {
    check("ins-o-without-birth-name", &["ECO.2.1.1", "ECO.2.4.1"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subject_not_truncated() {
    check("subject-not-truncated", &["ECO.2.1.1", "ECO.2.1.6"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdf_without_narrative() {
    check("pdf-without-narrative", &["ECO.2.1.1", "ECO.2.1.6"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdf_named_freely() {
    check("pdf-named-freely", &["ECO.2.1.1", "ECO.2.1.5"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_references() {
    check("no-references", &["ECO.2.2.1", "ECO.3.1.6"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_parent_only() {
    check("references-parent-only", &["ECO.2.2.1"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_read_receipt() {
    check("no-read-receipt", &["ECO.2.2.2", "ECO.3.1.1"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patients_unmarked() {
    check("patients-unmarked", &["ECO.3.1.3"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patient_without_ins() {
    check("patient-without-ins", &["ECO.3.1.1", "ECO.3.1.3"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shows_xdm_prefix() {
    check("shows-xdm-prefix", &["ECO.3.1.1", "ECO.3.1.2"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_without_response() {
    check("trace-without-response", &["ECO.4.1.1", "ECO.2.2.1"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_fetch_traces() {
    check("no-fetch-traces", &["ECO.4.1.2", "ECO.3.1.1"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_to_unqualified_patient() {
    check("writes-to-unqualified-patient", &["ECO.3.1.5", "ECO.2.2.1"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patient_address_without_key() {
    check("patient-address-without-key", &["ECO.2.2.1", "ECO.4.1.1"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_by_subject() {
    check("files-by-subject", &["ECO.3.1.3", "ECO.3.1.1"]).await;
}
