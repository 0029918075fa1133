//! Replay of one scenario (or a requirement's scenarios), step by step: each step printed as it
//! starts, the operator's journal events as they arrive, what the harness is waiting for, and —
//! on a terminal — a pause before each action asked of the system under test (Enter to go on,
//! `q` to stop). Without a terminal on stdin, nothing pauses.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// How a replay interacts.
#[derive(Debug, Default)]
pub struct Replay {
    /// Pause before each action (stdin is a terminal).
    pub interactive: bool,
    /// The tester asked to stop.
    stopped: AtomicBool,
}

impl Replay {
    /// A replay that pauses when stdin is a terminal.
    pub fn new() -> Arc<Replay> {
        Arc::new(Replay {
            interactive: std::io::stdin().is_terminal(),
            stopped: AtomicBool::new(false),
        })
    }

    /// A replay that never pauses.
    pub fn unattended() -> Arc<Replay> {
        Arc::new(Replay::default())
    }

    /// Whether the tester asked to stop.
    pub fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Prints a line of the replay.
    pub fn say(&self, line: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    /// Lets the writer print the step events already sent (it runs when the steps yield), so
    /// that what follows comes after the « Étape : » line of its step.
    pub async fn settle(&self) {
        for _ in 0..8 {
            tokio::task::yield_now().await;
        }
    }

    /// Before an action: says what comes and, on a terminal, waits for Enter (`q`: stop).
    pub async fn pause(self: &Arc<Self>, what: &str) {
        self.settle().await;
        self.say(&format!("  → {what}"));
        if !self.interactive || self.stopped() {
            return;
        }
        self.say("    [Entrée] continuer · [q] arrêter");
        let me = self.clone();
        let answer = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            match std::io::stdin().lock().read_line(&mut line) {
                Ok(0) | Err(_) => None,
                Ok(_) => Some(line),
            }
        })
        .await
        .ok()
        .flatten();
        match answer {
            None => {}
            Some(line) if line.trim().eq_ignore_ascii_case("q") => {
                me.stopped.store(true, Ordering::SeqCst);
                me.say("    arrêt demandé : les étapes suivantes ne seront pas jouées");
            }
            Some(_) => {}
        }
    }
}

/// Prints the journal of an operator as it grows, until the journal is dropped or `stop`.
pub fn follow_journal(
    replay: Arc<Replay>,
    journal: operator::journal::Journal,
    from: u64,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        let mut seen = from;
        loop {
            // Stopped, or the scenario (and its sender) is gone.
            if *stop.borrow() || stop.has_changed().is_err() {
                return;
            }
            let wait = journal.wait_for(seen, std::time::Duration::from_millis(500), |_| true);
            let _ = wait.await;
            for e in journal.since(seen) {
                if let Some(line) = evidence::describe(e.conn.unwrap_or_default(), &e) {
                    replay.say(&format!("    journal │ {line}"));
                }
                seen = seen.max(e.seq);
            }
        }
    });
}
