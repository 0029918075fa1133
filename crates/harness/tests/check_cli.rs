//! The `mss-harness check` contract, as an editor's CI script sees it: JSON on stdout with every
//! offline requirement once per file, exit 0 / 1 / 2, a one-line error on unreadable input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../rules/tests/golden")
        .join(name)
}

fn check(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mss-harness"))
        .arg("check")
        .args(args)
        .output()
        .expect("mss-harness runs")
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn conformant_message_exits_zero_with_the_json_contract() {
    let file = path(&golden("per-org/conforme-n3.eml"));
    let out = check(&[&file]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let files = json["files"].as_array().expect("files");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["path"], file.as_str());
    let findings = files[0]["findings"].as_array().expect("findings");
    let ids: Vec<&str> = findings
        .iter()
        .filter_map(|f| f["requirement"].as_str())
        .collect();
    let expected: Vec<&str> = rules::OFFLINE.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        ids, expected,
        "every offline requirement once, in catalogue order"
    );
    for f in findings {
        assert!(
            matches!(f["verdict"].as_str(), Some("pass" | "not_applicable")),
            "{f}"
        );
        assert!(f["detail"].as_str().is_some_and(|d| !d.is_empty()), "{f}");
    }
    assert!(out.stderr.is_empty());
}

#[test]
fn a_failure_exits_one_and_names_the_requirement() {
    let good = path(&golden("per-org/conforme-simple.eml"));
    let bad = path(&golden("per-org/2.4.1-code-faux.eml"));
    let out = check(&[&good, &bad]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let failing: Vec<(String, String)> = json["files"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| {
            let path = f["path"].as_str().unwrap_or_default().to_owned();
            f["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|x| x["verdict"] == "fail")
                .map(move |x| {
                    (
                        path.clone(),
                        x["requirement"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(failing, vec![(bad.clone(), "ECO.2.4.1".to_owned())]);
}

#[test]
fn text_format_puts_failures_first_without_colour_in_a_pipe() {
    let bad = path(&golden("per-org/2.2.7-nom-minuscule.eml"));
    let out = check(&["--format", "text", &bad]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let first = text.lines().next().unwrap_or_default();
    assert!(first.starts_with("ÉCHEC ECO.2.2.7"), "{text}");
    assert!(first.contains("MARTIN"), "{first}");
    assert!(!text.contains('\x1b'), "no colour when not on a terminal");
}

#[test]
fn family_app_judges_the_application_requirements() {
    let app = path(&golden("app/2.2.5-sans-mention.eml"));
    let out = check(&["--family", "app", &app]);
    assert_eq!(out.status.code(), Some(1));
    let per_org = check(&["--family", "per-org", &app]);
    assert_eq!(
        per_org.status.code(),
        Some(0),
        "ECO.2.2.5 is not applicable to PER_ORG"
    );
    // Without --family, the sender's BAL in the directory says: application.
    let inferred = check(&[&app]);
    assert_eq!(inferred.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&inferred.stdout).expect("JSON");
    assert_eq!(json["files"][0]["family"], "APP");
}

#[test]
fn message_ids_are_compared_across_files() {
    let good = path(&golden("per-org/conforme-simple.eml"));
    let out = check(&[&good]);
    assert_eq!(out.status.code(), Some(0));
    // The same message twice: the second reuses the first's Message-ID.
    let out = check(&[&good, &good]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let verdict = |file: usize| {
        json["files"][file]["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["requirement"] == "ECO.2.2.1"))
            .map(|f| f["verdict"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(verdict(0).as_deref(), Some("pass"));
    assert_eq!(verdict(1).as_deref(), Some("fail"));
}

#[test]
fn unreadable_input_and_usage_errors_exit_two_with_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = path(&dir.path().join("absent.eml"));
    let out = check(&[&missing]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing on stdout");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("absent.eml"), "{err}");

    let garbage = dir.path().join("garbage.eml");
    std::fs::write(&garbage, [0u8, 1, 2, 3, 0xff]).expect("write");
    let out = check(&[&path(&garbage)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("n'est pas un message"));

    assert_eq!(check(&[]).status.code(), Some(2), "no file");
    assert_eq!(
        check(&["--family", "patient", &missing]).status.code(),
        Some(2)
    );
    assert_eq!(check(&["--format", "xml", &missing]).status.code(), Some(2));
}
