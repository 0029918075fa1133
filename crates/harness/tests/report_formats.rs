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

/// A Python with `jsonschema` (Debian's `python3-jsonschema` for /usr/bin/python3).
fn python_with_jsonschema() -> Option<&'static str> {
    let found = ["python3", "/usr/bin/python3"].into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import jsonschema"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("MSS_REQUIRE_INTEROP").is_none(),
            "python3-jsonschema is required in CI"
        );
    }
    found
}

fn check_folder(dir: &Path) {
    for file in [
        "index.html",
        "junit.xml",
        "results.json",
        "summary.md",
        "exigences.csv",
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
}
