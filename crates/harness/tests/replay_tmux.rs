//! `mss-harness replay` at a real terminal: tmux runs it, the test reads the screen
//! (`capture-pane`) and presses Enter (`send-keys`) at each pause, then `q` on a second run.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().expect("tmux runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn screen(session: &str) -> String {
    tmux(&["capture-pane", "-p", "-S", "-200", "-t", session])
}

/// Polls the screen of a foreign process (tmux gives no event to wait on).
fn wait_screen(session: &str, what: impl Fn(&str) -> bool, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let s = screen(session);
        if what(&s) || Instant::now() > deadline {
            return s;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

struct Session(String);

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .output();
    }
}

fn start(name: &str, target: &str, out: &Path) -> Session {
    let ws = support::workspace();
    let command = format!(
        "cd {} && {} replay {target} --out {}; echo FIN-DU-REJEU $?; sleep 60",
        ws.display(),
        env!("CARGO_BIN_EXE_mss-harness"),
        out.display()
    );
    tmux(&[
        "new-session",
        "-d",
        "-s",
        name,
        "-x",
        "200",
        "-y",
        "50",
        &command,
    ]);
    Session(name.to_owned())
}

#[test]
fn a_requirement_is_replayed_step_by_step_at_a_terminal() {
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(
            std::env::var_os("MSS_REQUIRE_INTEROP").is_none(),
            "tmux is required in CI"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let name = format!("rejeu-{}", std::process::id());
    let session = start(&name, "ECO.2.4.3", &dir.path().join("a"));
    // Enter at each pause until the replay ends.
    let mut pauses = 0;
    let end = loop {
        let s = wait_screen(
            &session.0,
            |s| s.contains("FIN-DU-REJEU") || s.matches("[Entrée] continuer").count() > pauses,
            Duration::from_secs(60),
        );
        if s.contains("FIN-DU-REJEU") {
            break s;
        }
        assert!(
            s.matches("[Entrée] continuer").count() > pauses,
            "no pause nor end:\n{s}"
        );
        pauses += 1;
        tmux(&["send-keys", "-t", &session.0, "Enter"]);
        assert!(pauses < 20, "too many pauses:\n{s}");
    };
    assert!(
        pauses >= 2,
        "one pause per action (configure, send…):\n{end}"
    );
    assert!(end.contains("Étape : Quand le système envoie"), "{end}");
    assert!(end.contains("journal │"), "{end}");
    assert!(end.contains("ECO.2.4.3 : Conforme"), "{end}");
    assert!(end.contains("FIN-DU-REJEU 0"), "{end}");
    assert!(dir.path().join("a/index.html").exists());
    drop(session);

    // `q` at the first pause: the rest is not played, nothing is called conformant.
    let name = format!("rejeu-q-{}", std::process::id());
    let session = start(&name, "ECO.2.4.3", &dir.path().join("b"));
    let s = wait_screen(
        &session.0,
        |s| s.contains("[Entrée] continuer"),
        Duration::from_secs(60),
    );
    assert!(s.contains("[Entrée] continuer"), "{s}");
    tmux(&["send-keys", "-t", &session.0, "q", "Enter"]);
    let end = wait_screen(
        &session.0,
        |s| s.contains("FIN-DU-REJEU"),
        Duration::from_secs(60),
    );
    assert!(end.contains("arrêt demandé"), "{end}");
    assert!(!end.contains("ECO.2.4.3 : Conforme"), "{end}");
}

/// Without a terminal the replay does not pause, and each step is announced before the actions
/// and waits it makes.
#[test]
fn each_step_comes_before_what_it_asks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_mss-harness"))
        .current_dir(support::workspace())
        .args(["replay", "ECO.2.4.3", "--out"])
        .arg(dir.path())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("replay");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("« {needle} » missing:\n{text}"))
    };
    assert!(at("Étape : Étant donné le système configuré") < at("« configure »"));
    assert!(at("Étape : Quand le système envoie") < at("« send »"));
    assert!(at("« send »") < at("Étape : Alors"));
    assert!(
        !text.contains("[Entrée] continuer"),
        "no pause without a terminal"
    );
}
