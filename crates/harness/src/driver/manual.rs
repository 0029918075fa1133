//! The manual driver: a tester at a terminal drives the SUT. Each action prints what to do in
//! the SUT, then waits for its effect to show in the operator's journal, with a visible
//! countdown. Without a terminal (CI, a pipe), every action is `Unsupported`: the scenarios
//! are `non testé`, never `conforme`.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use operator::Journal;
use operator::journal::{Event, EventKind};

use super::types::{AccountSpec, AddressType, ListedMessage, MessageSpec, SendOutcome};
use super::{Action, Attestation, DriverError, DriverFuture, EvidenceFile, SutDriver};

/// A tester at a terminal.
#[derive(Debug, Clone)]
pub struct ManualDriver {
    journal: Journal,
    timeout: Duration,
    interactive: bool,
    /// Lines typed in advance (tests); standard input when `None`.
    script: Option<std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<String>>>>,
}

/// The lines typed at the terminal, read by one thread for the whole process: a question that
/// times out leaves no read pending that would take the answer to the next one, and the
/// thread never holds up the end of the run.
fn terminal_lines() -> &'static tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<String>> {
    static LINES: std::sync::OnceLock<
        tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<String>>,
    > = std::sync::OnceLock::new();
    LINES.get_or_init(|| {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let _ = std::thread::Builder::new()
            .name("terminal".into())
            .spawn(move || {
                let stdin = std::io::stdin();
                let mut line = String::new();
                loop {
                    line.clear();
                    match stdin.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {
                            if tx.send(line.clone()).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        tokio::sync::Mutex::new(rx)
    })
}

/// How long a tester has to answer an attestation.
const ATTESTATION_WAIT: Duration = Duration::from_secs(15 * 60);

impl ManualDriver {
    /// A manual driver waiting up to `timeout` for each effect; interactive only when both
    /// standard input and standard error are terminals.
    pub fn new(journal: Journal, timeout: Duration) -> Self {
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        ManualDriver {
            journal,
            timeout,
            interactive,
            script: None,
        }
    }

    /// An interactive driver whose tester types `lines`, in order (tests).
    pub fn scripted(journal: Journal, timeout: Duration, lines: &[&str]) -> Self {
        ManualDriver {
            journal,
            timeout,
            interactive: true,
            script: Some(std::sync::Arc::new(std::sync::Mutex::new(
                lines.iter().map(|l| (*l).to_owned()).collect(),
            ))),
        }
    }

    /// One line from the tester, within `wait`; `None` at the end of input or past `wait`.
    /// Lines typed before the question are dropped (an Enter pressed while the harness was
    /// waiting is not the answer to what it asks next).
    async fn read_line(&self, wait: Duration) -> Option<String> {
        if let Some(script) = &self.script {
            let line = script.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
            if let Some(l) = &line {
                eprintln!("{l}");
            }
            return line;
        }
        let mut lines = terminal_lines().lock().await;
        while lines.try_recv().is_ok() {}
        match tokio::time::timeout(wait, lines.recv()).await {
            Ok(line) => line.map(|l| l.trim().to_owned()),
            Err(_) => None,
        }
    }

    /// Whether a tester can be asked.
    pub fn is_interactive(&self) -> bool {
        self.interactive
    }

    /// The same driver, interactive or not whatever the terminal says (tests).
    pub fn with_interactive(mut self, interactive: bool) -> Self {
        self.interactive = interactive;
        self
    }

    fn ask(&self, action: Action, lines: &[String]) -> Result<u64, DriverError> {
        if !self.interactive {
            return Err(DriverError::Unavailable {
                action,
                reason: "pilote manuel sans terminal : aucun testeur à qui le demander".into(),
            });
        }
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "\n── action manuelle : {action} ──");
        for line in lines {
            let _ = writeln!(err, "   {line}");
        }
        let _ = err.flush();
        Ok(self.journal.len() as u64)
    }

    /// Waits for an event after `mark`, showing a countdown.
    async fn wait(
        &self,
        action: Action,
        mark: u64,
        pred: impl Fn(&Event) -> bool,
    ) -> Result<std::sync::Arc<Event>, DriverError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                eprintln!();
                return Err(DriverError::Timeout {
                    action,
                    after: self.timeout,
                });
            }
            eprint!(
                "\r   en attente de l'effet dans le journal : {:>4} s ",
                left.as_secs()
            );
            let _ = std::io::stderr().flush();
            let slice = left.min(Duration::from_secs(1));
            if let Ok(event) = self.journal.wait_for(mark, slice, &pred).await {
                eprintln!("\r   observé : {:<60}", summary(&event));
                return Ok(event);
            }
        }
    }

    /// Waits for the tester to say a task is done (a person's pace: the attestation wait, not
    /// an action's timeout); an unanswered wait is the action's timeout, never a « done ».
    async fn press_enter(&self, action: Action) -> Result<(), DriverError> {
        eprint!("   Appuyez sur Entrée quand c'est fait. ");
        let _ = std::io::stderr().flush();
        match self.read_line(ATTESTATION_WAIT).await {
            Some(_) => Ok(()),
            None => Err(DriverError::Timeout {
                action,
                after: ATTESTATION_WAIT,
            }),
        }
    }

    /// Asks the tester whether `statement` holds (o/n), then for an optional evidence file.
    async fn ask_attestation(&self, statement: &str) -> Option<Attestation> {
        if !self.interactive {
            return None;
        }
        eprintln!("\n── attestation du testeur ──");
        eprintln!("   {statement}");
        let confirmed = loop {
            eprint!("   L'attestez-vous ? [o/n] ");
            let _ = std::io::stderr().flush();
            match self
                .read_line(ATTESTATION_WAIT)
                .await?
                .to_lowercase()
                .as_str()
            {
                "o" | "oui" => break true,
                "n" | "non" => break false,
                _ => eprintln!("   Répondez « o » (oui) ou « n » (non)."),
            }
        };
        let mut evidence = None;
        for _ in 0..3 {
            eprint!("   Fichier de preuve (chemin ; Entrée pour aucun) : ");
            let _ = std::io::stderr().flush();
            let line = self.read_line(ATTESTATION_WAIT).await.unwrap_or_default();
            if line.is_empty() {
                break;
            }
            // A path dragged into a terminal often comes quoted.
            let path = line.trim_matches(|c| c == '\'' || c == '"');
            match EvidenceFile::read(std::path::Path::new(path)) {
                Ok(file) => {
                    evidence = Some(file);
                    break;
                }
                Err(e) => eprintln!("   {e}"),
            }
        }
        Some(Attestation {
            confirmed,
            evidence,
        })
    }
}

fn summary(event: &Event) -> String {
    match &event.kind {
        EventKind::MessageAccepted {
            message_id,
            subject,
            ..
        } => format!(
            "message accepté « {} » ({})",
            subject.as_deref().unwrap_or(""),
            message_id.as_deref().unwrap_or("sans Message-ID")
        ),
        EventKind::MessageFetched { message_id, .. } => format!(
            "message lu ({})",
            message_id.as_deref().unwrap_or("sans Message-ID")
        ),
        _ => format!("événement n°{}", event.seq),
    }
}

impl SutDriver for ManualDriver {
    fn describe(&self) -> String {
        "testeur (pilote manuel)".to_owned()
    }

    fn configure<'a>(&'a mut self, account: &'a AccountSpec) -> DriverFuture<'a, ()> {
        Box::pin(async move {
            let mut lines = vec![format!(
                "Configurez le système pour la BAL {}.",
                account.address
            )];
            match (&account.smtp, &account.imap) {
                (Some(smtp), Some(imap)) => {
                    lines.push(format!(
                        "SMTP : {}:{} (adresse {}), STARTTLS",
                        smtp.host, smtp.port, smtp.address
                    ));
                    lines.push(format!(
                        "IMAP : {}:{} (adresse {}), STARTTLS",
                        imap.host, imap.port, imap.address
                    ));
                }
                _ => lines.push(
                    "Utilisez l'autoconfiguration du système à partir de la seule adresse \
                     (ECO.1.1.9), puis son test de connexion."
                        .to_owned(),
                ),
            }
            lines.push(format!(
                "Racine de confiance : {}",
                account.trust.root.display()
            ));
            if let Some(c) = &account.certificate {
                lines.push(format!(
                    "Certificat ORG AUTH_CLI : {} (clé {})",
                    c.chain.display(),
                    c.key.display()
                ));
            }
            if let Some(p) = &account.psc {
                lines.push(format!(
                    "Pro Santé Connect : {} (client {}, professionnel {})",
                    p.issuer, p.client_id, p.professional
                ));
            }
            self.ask(Action::Configure, &lines)?;
            self.press_enter(Action::Configure).await
        })
    }

    fn send<'a>(&'a mut self, message: &'a MessageSpec) -> DriverFuture<'a, SendOutcome> {
        Box::pin(async move {
            let to: Vec<&str> = message
                .addresses
                .iter()
                .filter(|a| a.kind == AddressType::To)
                .map(|a| a.email.as_str())
                .collect();
            let mark = self.ask(
                Action::Send,
                &[
                    format!("Envoyez depuis le système un message à {}", to.join(", ")),
                    format!("sujet : « {} »", message.subject),
                    format!("texte : « {} »", message.body.replace('\n', " ")),
                ],
            )?;
            let subject = message.subject.clone();
            let event = self
                .wait(Action::Send, mark, move |e| {
                    matches!(&e.kind, EventKind::MessageAccepted { subject: Some(s), .. } if *s == subject)
                })
                .await?;
            let message_id = match &event.kind {
                EventKind::MessageAccepted { message_id, .. } => message_id.clone(),
                _ => None,
            };
            Ok(SendOutcome { message_id })
        })
    }

    fn sync(&mut self) -> DriverFuture<'_, Vec<ListedMessage>> {
        Box::pin(async move {
            let mark = self.ask(
                Action::Sync,
                &["Relevez la boîte de réception dans le système.".to_owned()],
            )?;
            self.wait(Action::Sync, mark, |e| {
                matches!(e.kind, EventKind::MessageFetched { .. })
            })
            .await?;
            Ok(Vec::new())
        })
    }

    fn test_connection(&mut self) -> DriverFuture<'_, ()> {
        Box::pin(async move {
            let mark = self.ask(
                Action::TestConnection,
                &["Lancez le test de connexion de la BAL dans le système.".to_owned()],
            )?;
            self.wait(Action::TestConnection, mark, |e| {
                matches!(
                    e.kind,
                    EventKind::Auth {
                        verdict: evidence::AuthVerdict::Accepted,
                        ..
                    } | EventKind::TlsEstablished { .. }
                )
            })
            .await?;
            Ok(())
        })
    }

    fn restart(&mut self) -> DriverFuture<'_, ()> {
        Box::pin(async move {
            self.ask(
                Action::Restart,
                &[
                    "Quittez complètement le système (tous ses processus), puis relancez-le."
                        .to_owned(),
                ],
            )?;
            // Nothing on the wire says a process restarted: the tester says when.
            self.press_enter(Action::Restart).await
        })
    }

    fn attest<'a>(&'a mut self, statement: &'a str) -> DriverFuture<'a, Option<Attestation>> {
        Box::pin(async move { Ok(self.ask_attestation(statement).await) })
    }

    fn open<'a>(&'a mut self, message_id: &'a str) -> DriverFuture<'a, ()> {
        Box::pin(async move {
            let mark = self.ask(
                Action::Open,
                &[format!(
                    "Ouvrez (affichez) le message <{message_id}> dans le système."
                )],
            )?;
            let wanted = message_id.to_owned();
            self.wait(Action::Open, mark, move |e| {
                matches!(&e.kind, EventKind::MessageFetched { message_id: Some(m), body: true, .. }
                    if evidence::strip_brackets(m) == evidence::strip_brackets(&wanted))
            })
            .await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_a_terminal_every_action_is_unsupported() {
        let mut d =
            ManualDriver::new(Journal::new(), Duration::from_secs(1)).with_interactive(false);
        assert!(matches!(
            d.sync().await,
            Err(DriverError::Unavailable {
                action: Action::Sync,
                ..
            })
        ));
        let spec = MessageSpec::default();
        assert!(matches!(
            d.send(&spec).await,
            Err(DriverError::Unavailable {
                action: Action::Send,
                ..
            })
        ));
        assert!(matches!(
            d.restart().await,
            Err(DriverError::Unavailable {
                action: Action::Restart,
                ..
            })
        ));
        assert!(matches!(
            d.test_connection().await,
            Err(DriverError::Unavailable {
                action: Action::TestConnection,
                ..
            })
        ));
    }
}
