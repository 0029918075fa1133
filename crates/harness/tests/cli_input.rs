//! Bad input on the command line of `mss-harness report` and `replay`, as an editor's CI sees it.

mod support;

use std::process::Command;

/// Bad input to `report` and `replay` is one French line and exit 2, and leaves no folder.
#[test]
fn bad_input_exits_2_and_leaves_no_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (args, said) in [
        (vec!["report", "--requirement", "ECO.9.9.9"], "ECO.1.1.9"),
        (
            vec!["report", "--requirement", "ECO.2.2.1", "--name", "UTF-8"],
            "aucun scénario ne correspond",
        ),
        (vec!["replay", "ECO.9.9.9"], "ECO.1.1.9"),
    ] {
        let out_dir = dir.path().join("rapport");
        let out = Command::new(env!("CARGO_BIN_EXE_mss-harness"))
            .current_dir(support::workspace())
            .args(&args)
            .arg("--out")
            .arg(&out_dir)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("mss-harness");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(said), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(!out_dir.exists(), "{args:?} left a folder");
    }
}
