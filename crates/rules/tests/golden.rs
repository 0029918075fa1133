//! Golden messages: `tests/golden/<family>/<case>.eml` next to the findings expected of it
//! (`<case>.json`). A mismatch writes `<case>.json.failed` beside it, to diff.
//!
//! The messages are written from `documents::fixtures::cases()`; `cargo xtask fixtures` rewrites them
//! (and, with `--bless`, the expected findings, to review with `git diff`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use documents::fixtures;
use rules::{Context, Family, Message, Verdict, check_all};

/// The rules' family of a golden case.
fn family_of(c: &fixtures::Case) -> Family {
    match c.family {
        fixtures::Family::PerOrg => Family::PerOrg,
        fixtures::Family::App => Family::App,
    }
}

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn folder(family: Family) -> &'static str {
    match family {
        Family::PerOrg => "per-org",
        Family::App => "app",
    }
}

fn findings_json(bytes: &[u8], family: Family) -> String {
    let findings = match Message::parse(bytes) {
        Ok(m) => check_all(
            &m,
            &Context {
                family,
                ..Context::default()
            },
        ),
        Err(e) => panic!("golden message unreadable: {e}"),
    };
    let mut json = serde_json::to_string_pretty(&serde_json::json!({ "findings": findings }))
        .expect("serialise");
    json.push('\n');
    json
}

fn bless() -> bool {
    std::env::var_os("MSS_BLESS").is_some()
}

/// Rewrites the golden messages (and with MSS_BLESS=findings, the expected findings).
fn write_all() {
    let cases = fixtures::cases();
    let mut readme = String::from(
        "# Golden messages\n\nWritten by `cargo xtask fixtures` from `documents::fixtures::cases()`; \
         each `.json` holds the findings expected of its `.eml` (`mss-harness check`).\n\n\
         | famille | cas | ce qu'il montre |\n|---|---|---|\n",
    );
    for c in &cases {
        let dir = golden().join(folder(family_of(c)));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(format!("{}.eml", c.name)), &c.bytes).expect("write eml");
        let json = dir.join(format!("{}.json", c.name));
        if std::env::var("MSS_BLESS").as_deref() == Ok("findings") || !json.exists() {
            std::fs::write(&json, findings_json(&c.bytes, family_of(c))).expect("write json");
        }
        readme.push_str(&format!(
            "| {} | `{}` | {} |\n",
            family_of(c).tag(),
            c.name,
            c.about
        ));
    }
    std::fs::write(golden().join("README.md"), readme).expect("readme");
}

fn golden_files() -> Vec<(PathBuf, Family)> {
    let mut files = Vec::new();
    for family in [Family::PerOrg, Family::App] {
        let dir = golden().join(folder(family));
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "eml") {
                files.push((path, family));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn golden_findings() {
    if bless() {
        write_all();
    }
    let files = golden_files();
    assert!(
        files.len() >= 40,
        "the golden folder lost its files: {}",
        files.len()
    );
    let mut mismatches = Vec::new();
    for (eml, family) in &files {
        let bytes = std::fs::read(eml).expect("read eml");
        let actual = findings_json(&bytes, *family);
        let expected_path = eml.with_extension("json");
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        let failed = eml.with_extension("json.failed");
        if actual == expected {
            let _ = std::fs::remove_file(&failed);
        } else {
            std::fs::write(&failed, &actual).expect("write .failed");
            mismatches.push(failed.display().to_string());
        }
    }
    assert!(
        mismatches.is_empty(),
        "findings differ from the golden files (see, and diff against the .json):\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn golden_messages_are_what_the_generator_writes() {
    if bless() {
        return;
    }
    for c in fixtures::cases() {
        let path = golden()
            .join(folder(family_of(&c)))
            .join(format!("{}.eml", c.name));
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == c.bytes,
            "{} differs from what documents::fixtures writes: run `cargo xtask fixtures`",
            path.display()
        );
    }
}

#[test]
fn every_requirement_has_a_failing_golden_case() {
    if bless() {
        return;
    }
    let mut failing = BTreeSet::new();
    let mut passing = BTreeSet::new();
    for (eml, _) in golden_files() {
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(eml.with_extension("json")).unwrap_or_default(),
        )
        .unwrap_or_default();
        for f in json["findings"].as_array().into_iter().flatten() {
            let id = f["requirement"].as_str().unwrap_or_default().to_owned();
            match f["verdict"].as_str() {
                Some("fail") => failing.insert(id),
                Some("pass") => passing.insert(id),
                _ => false,
            };
        }
    }
    for (id, _) in rules::OFFLINE {
        assert!(failing.contains(id), "no golden message fails {id}");
        assert!(passing.contains(id), "no golden message passes {id}");
    }
}

#[test]
fn conformant_golden_messages_fail_nothing() {
    if bless() {
        return;
    }
    for (eml, family) in golden_files() {
        let name = eml.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        if !name.starts_with("conforme") {
            continue;
        }
        let bytes = std::fs::read(&eml).expect("read");
        let m = Message::parse(&bytes).expect("parse");
        let fails: Vec<String> = check_all(
            &m,
            &Context {
                family,
                ..Context::default()
            },
        )
        .into_iter()
        .filter(|f| f.verdict == Verdict::Fail)
        .map(|f| format!("{}: {}", f.requirement, f.detail))
        .collect();
        assert!(fails.is_empty(), "{name}: {fails:#?}");
    }
}
