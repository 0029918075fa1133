//! `cargo xtask <task>`: thin wrappers over the harness binary, run from the workspace root.
//!
//! * `cargo xtask report [ARGS...]` — builds the harness, generates the fake IGC Santé if
//!   missing, runs every scenario against the reference client, writes `reports/<date>-<sut>/` and `reports/latest/`;
//!   exits non-zero when a requirement fails. Extra arguments go to `mss-harness report`.
//! * `cargo xtask replay <ECO-ID | nom de scénario> [--sut profile]` — one requirement's
//!   scenarios step by step (pauses before each action on a terminal), in its own folder.
//! * `cargo xtask certs` — generates (or reuses) the fake IGC Santé in `certs/`.
//! * `cargo xtask mutants` — lists the mutants of the reference client.
//! * `cargo xtask coverage` — rewrites `features/COUVERTURE.md` (requirements × scenarios ×
//!   mutants); the tests fail when it is stale.
//! * `cargo xtask judge --journal FILE` — judges a session recorded by `mss-operator --journal`.
//! * `cargo xtask check FILE.eml…` — the message rules on `.eml` files.
//! * `cargo xtask fixtures [--bless]` — rewrites the golden messages of `crates/rules/tests/golden`
//!   from `documents::fixtures` (`--bless`: their expected findings too).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Whether to build against the system's OpenSSL: `MSS_OPENSSL=system|vendored` decides, else
/// the system's when `pkg-config` finds its development files (or `OPENSSL_DIR` names them).
/// Building OpenSSL from its sources costs about 4 minutes on 2 cores of a first build.
fn system_openssl() -> bool {
    match std::env::var("MSS_OPENSSL").as_deref() {
        Ok("system") => return true,
        Ok("vendored") => return false,
        _ => {}
    }
    std::env::var_os("OPENSSL_DIR").is_some()
        || Command::new("pkg-config")
            .args(["--exists", "openssl"])
            .status()
            .is_ok_and(|s| s.success())
}

fn harness(args: &[String]) -> ExitCode {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace())
        .args(["run", "--package", "harness", "--bin", "mss-harness"]);
    if system_openssl() {
        // The system's libssl: the build skips compiling OpenSSL (cargo test keeps the
        // default, vendored build: both are cached side by side).
        command.arg("--no-default-features");
    }
    let status = command.arg("--").args(args).status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => ExitCode::from(u8::try_from(s.code().unwrap_or(1)).unwrap_or(1)),
        Err(e) => {
            eprintln!("xtask: cannot run cargo: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Rewrites the golden messages of the rules crate from its fixtures (`--bless`: also the
/// expected findings, to review with `git diff`).
fn fixtures(rest: &[String]) -> ExitCode {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let bless = if rest.iter().any(|a| a == "--bless") {
        "findings"
    } else {
        "messages"
    };
    let status = Command::new(cargo)
        .current_dir(workspace())
        .env("MSS_BLESS", bless)
        .args(["test", "--quiet", "--package", "rules", "--test", "golden"])
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => {
            eprintln!(
                "xtask: the golden findings differ; review the .json.failed files, then rerun with --bless"
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("xtask: cannot run cargo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    match task.as_str() {
        "report" => harness(&[vec!["report".to_owned()], rest].concat()),
        "certs" => harness(&[vec!["certs".to_owned()], rest].concat()),
        "mutants" => harness(&["mutants".to_owned()]),
        "coverage" => harness(&[vec!["coverage".to_owned()], rest].concat()),
        "replay" => harness(&[vec!["replay".to_owned()], rest].concat()),
        "judge" => harness(&[vec!["judge".to_owned()], rest].concat()),
        "check" => harness(&[vec!["check".to_owned()], rest].concat()),
        "fixtures" => fixtures(&rest),
        other => {
            if !other.is_empty() {
                eprintln!("xtask : tâche inconnue « {other} »");
            }
            eprintln!(
                "usage: cargo xtask <report|replay|certs|mutants|coverage|judge|check|fixtures> [ARGS...]\n\
                 \n  report    run every scenario against the reference client, write reports/<date>-<sut>/ and reports/latest/\
                 \n  certs     generate or reuse the fake IGC Santé in certs/\
                 \n  mutants   list the mutants of the reference client\
                 \n  coverage  rewrite features/COUVERTURE.md, the requirement coverage table\
                 \n  replay    replay one requirement (ECO.x.y.z) or scenario step by step [--sut profile]\
                 \n  judge     judge a session recorded by mss-operator --journal\
                 \n  check     judge .eml files with the message rules\
                 \n  fixtures  rewrite the rules' golden messages (--bless: and their expected findings)"
            );
            ExitCode::from(2)
        }
    }
}
