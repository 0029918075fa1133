//! The state of one scenario: a fresh operator, the SUT driver, what the SUT did, and the
//! evidence the report will show. Step definitions (in `steps/`) are one line each calling a
//! method here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use client::{Account, Credentials, Endpoint, MessageSpec, Secret, Trust};
use operator::directory::{Bal, BalFamily};
use operator::journal::{ConnId, Event, EventKind};
use operator::{EntryPoint, Operator, OperatorConfig, OperatorHandle, Service};

use crate::context::RunContext;
use crate::driver::{DriverError, SendOutcome, SutDriver, SyncedMessage};

/// Client ID of the LPS at the fake Pro Santé Connect.
pub const LPS_CLIENT_ID: &str = "lps-sous-test";

/// A step's failure: the French explanation shown in the report.
pub type StepResult = Result<(), String>;

/// One scenario's world.
#[derive(cucumber::World, Default)]
pub struct MssWorld {
    pub(crate) ctx: Option<Arc<RunContext>>,
    pub(crate) op: Option<OperatorHandle>,
    pub(crate) data: Option<tempfile::TempDir>,
    pub(crate) driver: Option<Box<dyn SutDriver>>,
    pub(crate) bal: Option<Bal>,
    /// Message-IDs the harness delivered into the SUT's BAL.
    pub(crate) delivered: Vec<String>,
    /// Outcomes of the sends the SUT was asked for.
    pub(crate) sends: Vec<Result<SendOutcome, DriverError>>,
    /// Outcome of the last synchronisation.
    pub(crate) synced: Option<Result<Vec<SyncedMessage>, DriverError>>,
    /// Lines the report shows as evidence.
    pub(crate) evidence: Vec<String>,
    pub(crate) started: Option<Instant>,
}

impl std::fmt::Debug for MssWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MssWorld")
            .field("bal", &self.bal.as_ref().map(|b| &b.address))
            .field("evidence", &self.evidence)
            .finish()
    }
}

fn fail<T>(message: impl Into<String>) -> Result<T, String> {
    Err(message.into())
}

impl MssWorld {
    pub(crate) fn ctx(&self) -> Result<&Arc<RunContext>, String> {
        self.ctx
            .as_ref()
            .ok_or_else(|| "contexte de campagne absent (défaut du harnais)".to_owned())
    }

    pub(crate) fn op(&self) -> Result<&OperatorHandle, String> {
        self.op
            .as_ref()
            .ok_or_else(|| "l'opérateur fictif n'est pas démarré".to_owned())
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.ctx
            .as_ref()
            .map_or(Duration::from_secs(10), |c| c.config.timeout)
    }

    pub(crate) fn note(&mut self, line: impl Into<String>) {
        self.evidence.push(line.into());
    }

    /// Starts a fresh operator on ephemeral ports.
    pub async fn start_operator(&mut self) -> StepResult {
        let ctx = self.ctx()?.clone();
        let data = tempfile::tempdir().map_err(|e| format!("dossier temporaire : {e}"))?;
        let config = OperatorConfig::new(
            ctx.config.directory.clone(),
            ctx.pki.clone(),
            data.path().to_owned(),
        );
        let op = Operator::start(config)
            .await
            .map_err(|e| format!("démarrage de l'opérateur fictif : {e}"))?;
        self.started = Some(Instant::now());
        self.op = Some(op);
        self.data = Some(data);
        self.driver = Some(ctx.driver());
        Ok(())
    }

    /// The account the SUT gets for a BAL of the directory.
    fn account_for(&self, bal: &Bal) -> Result<Account, String> {
        let ctx = self.ctx()?;
        let op = self.op()?;
        let dir = op.directory();
        let (entry, credentials) = match bal.family {
            BalFamily::Application => {
                let structure = bal.structure.as_deref().unwrap_or_default();
                let cred = ctx.pki.client_for(structure).ok_or_else(|| {
                    format!("pas de certificat ORG AUTH_CLI pour la structure {structure}")
                })?;
                (
                    EntryPoint::App,
                    Credentials::Certificate {
                        chain_pem: cred.chain_pem(),
                        key_pem: Secret(cred.key.expose().to_owned()),
                    },
                )
            }
            BalFamily::Personal | BalFamily::Organisational => {
                let ps = match bal.family {
                    BalFamily::Personal => bal.owner.clone(),
                    _ => bal.members.first().cloned(),
                }
                .ok_or_else(|| format!("aucun professionnel habilité sur {}", bal.address))?;
                let token = op
                    .issue_access_token(&ps, LPS_CLIENT_ID, Duration::from_secs(3600))
                    .map_err(|e| e.to_string())?;
                (
                    EntryPoint::Psc,
                    Credentials::Xoauth2 {
                        token: Secret(token),
                    },
                )
            }
        };
        let host = match entry {
            EntryPoint::Psc => dir.operator.psc_host.clone(),
            EntryPoint::App => dir.operator.authcli_host.clone(),
        };
        let addresses = op.addresses();
        Ok(Account {
            address: bal.address.clone(),
            display_name: dir.display_name(bal).unwrap_or_default(),
            reply_to: bal.reply_to.clone(),
            nil: format!("MSS-HARNESS/REFERENCE/{}", env!("CARGO_PKG_VERSION")),
            smtp: Endpoint {
                host: host.clone(),
                addr: addresses.of(Service::Smtp, entry),
            },
            imap: Endpoint {
                host,
                addr: addresses.of(Service::Imap, entry),
            },
            credentials,
            trust: Trust {
                root_pem: ctx.pki.root.cert.pem.clone(),
                organisations_pem: ctx.pki.organisations.cert.pem.clone(),
                crls_pem: vec![
                    ctx.pki.root_crl.pem.clone(),
                    ctx.pki.organisations_crl.pem.clone(),
                ],
            },
        })
    }

    /// Configures the SUT for a BAL of the directory.
    pub async fn configure(&mut self, address: &str) -> StepResult {
        let bal = self
            .op()?
            .directory()
            .bal(address)
            .cloned()
            .ok_or_else(|| format!("la BAL {address} n'est pas dans l'annuaire"))?;
        let account = self.account_for(&bal)?;
        let driver = self
            .driver
            .as_mut()
            .ok_or_else(|| "aucun pilote de SUT".to_owned())?;
        driver
            .configure(&account)
            .await
            .map_err(|e| format!("configuration de la BAL {address} : {e}"))?;
        self.bal = Some(bal);
        Ok(())
    }

    /// Puts a message into the SUT's BAL, as if another professional had sent it.
    pub fn deliver(&mut self, message_id: &str) -> StepResult {
        let bal = self
            .bal
            .as_ref()
            .ok_or_else(|| "aucune BAL configurée".to_owned())?
            .address
            .clone();
        let message = format!(
            "From: Dr Paul DURAND <paul.durand@operateur-fictif.mssante.fr>\r\n\
             To: <{bal}>\r\n\
             Subject: =?utf-8?q?Compte_rendu_d=27=C3=A9chographie?=\r\n\
             Message-ID: <{message_id}>\r\n\
             Date: Sat, 21 Nov 2026 09:00:00 +0100\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: 8bit\r\n\
             X-MSS-NIL: MSS-HARNESS/DEPOT\r\n\r\n\
             Bonjour, voici le compte rendu de l'échographie.\r\n"
        );
        self.op()?
            .deliver(&bal, message.as_bytes())
            .map_err(|e| format!("dépôt du message : {e}"))?;
        self.delivered.push(message_id.to_owned());
        Ok(())
    }

    /// Asks the SUT to send `count` messages with accented text.
    pub async fn send(&mut self, count: usize, to: &str) -> StepResult {
        for i in 1..=count {
            let spec = MessageSpec {
                addresses: vec![client::spec::AddressSpec {
                    email: to.to_owned(),
                    name: None,
                    kind: client::spec::AddressType::To,
                }],
                subject: format!("Compte rendu de consultation n°{i} — été"),
                body: "Bonjour,\nVoici le compte rendu de la consultation de jeudi.\nBien cordialement."
                    .to_owned(),
                ..MessageSpec::default()
            };
            let driver = self
                .driver
                .as_mut()
                .ok_or_else(|| "aucun pilote de SUT".to_owned())?;
            let outcome = driver.send(&spec).await;
            self.sends.push(outcome);
        }
        Ok(())
    }

    /// Asks the SUT to synchronise its INBOX.
    pub async fn sync(&mut self) -> StepResult {
        let driver = self
            .driver
            .as_mut()
            .ok_or_else(|| "aucun pilote de SUT".to_owned())?;
        self.synced = Some(driver.sync().await);
        Ok(())
    }

    /// Every event so far.
    pub(crate) fn events(&self) -> Result<Vec<Arc<Event>>, String> {
        Ok(self.op()?.journal().snapshot())
    }

    /// Events of one connection.
    pub(crate) fn conn_events(&self, conn: ConnId) -> Result<Vec<Arc<Event>>, String> {
        Ok(self
            .events()?
            .into_iter()
            .filter(|e| e.conn == Some(conn))
            .collect())
    }

    /// Connections of a protocol, in order of opening.
    pub(crate) fn connections(&self, service: Service) -> Result<Vec<ConnId>, String> {
        Ok(self
            .events()?
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::ConnectionOpened { service: s, .. } if s == service => e.conn,
                _ => None,
            })
            .collect())
    }

    /// Waits until the SUT's connections are all closed, so checks see complete sessions.
    pub(crate) async fn settle(&self) -> StepResult {
        let op = self.op()?;
        let journal = op.journal();
        let opened =
            self.connections(Service::Smtp)?.len() + self.connections(Service::Imap)?.len();
        let closed = |j: &operator::Journal| {
            j.snapshot()
                .iter()
                .filter(|e| matches!(e.kind, EventKind::ConnectionClosed { .. }))
                .count()
        };
        let deadline = tokio::time::Instant::now() + self.timeout();
        while closed(journal) < opened {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let seen = journal.len() as u64;
            if journal
                .wait_for(seen, left, |e| {
                    matches!(e.kind, EventKind::ConnectionClosed { .. })
                })
                .await
                .is_err()
            {
                return fail(format!(
                    "le système n'a pas fermé ses connexions dans les {} s",
                    self.timeout().as_secs()
                ));
            }
        }
        Ok(())
    }

    /// A readable transcript of one connection (credentials are already masked).
    pub(crate) fn transcript(&self, conn: ConnId) -> Vec<String> {
        let Ok(events) = self.conn_events(conn) else {
            return Vec::new();
        };
        let mut lines = Vec::new();
        for e in events {
            let line = match &e.kind {
                EventKind::ConnectionOpened {
                    service,
                    entry,
                    peer,
                } => format!(
                    "[{conn}] connexion {} ({}) depuis {peer}",
                    service,
                    match entry {
                        EntryPoint::Psc => "point d'entrée Pro Santé Connect",
                        EntryPoint::App => "point d'entrée BAL applicatives",
                    }
                ),
                EventKind::Command { tls, line, .. } => {
                    format!("[{conn}] C{}: {line}", if *tls { "🔒" } else { " (clair)" })
                }
                EventKind::Reply { tls, line, .. } => format!(
                    "[{conn}] S{}: {}",
                    if *tls { "🔒" } else { " (clair)" },
                    line.lines().next().unwrap_or_default()
                ),
                EventKind::TlsClientHello(h) => format!(
                    "[{conn}] ClientHello : versions {}, suites {}",
                    h.versions.join(" "),
                    h.cipher_suites
                        .iter()
                        .map(|s| format!("0x{:04X}", s.code))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                EventKind::TlsEstablished {
                    version,
                    cipher_suite,
                    group,
                    client_certificate,
                } => format!(
                    "[{conn}] TLS établi : {version} {} {}{}",
                    cipher_suite.name,
                    group.as_deref().unwrap_or(""),
                    client_certificate
                        .as_ref()
                        .map(|c| format!(", certificat client {}", c.summary.subject))
                        .unwrap_or_default()
                ),
                EventKind::TlsFailed { error } => format!("[{conn}] échec TLS : {error}"),
                EventKind::Auth {
                    mechanism,
                    user,
                    verdict,
                    reason,
                    ..
                } => format!(
                    "[{conn}] authentification {mechanism} {} : {}{}",
                    user.as_deref().unwrap_or("?"),
                    match verdict {
                        operator::journal::AuthVerdict::Accepted => "acceptée",
                        operator::journal::AuthVerdict::Refused => "refusée",
                    },
                    reason
                        .as_deref()
                        .map(|r| format!(" — {r}"))
                        .unwrap_or_default()
                ),
                EventKind::MessageAccepted {
                    message_id, size, ..
                } => format!(
                    "[{conn}] message accepté ({size} octets, Message-ID {})",
                    message_id.as_deref().unwrap_or("absent")
                ),
                EventKind::ConnectionClosed { by, reason } => format!(
                    "[{conn}] fermeture par {}{}",
                    match by {
                        operator::journal::ClosedBy::Client => "le client",
                        operator::journal::ClosedBy::Operator => "l'opérateur",
                    },
                    reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                ),
                _ => continue,
            };
            lines.push(line);
        }
        lines
    }

    /// The messages the operator accepted from the SUT in this scenario, as received.
    pub(crate) fn accepted_messages(&self) -> Result<Vec<Vec<u8>>, String> {
        let mut out = Vec::new();
        for e in self.events()? {
            if let EventKind::MessageAccepted { path, .. } = &e.kind {
                let bytes =
                    std::fs::read(path).map_err(|err| format!("lecture de {path} : {err}"))?;
                out.push(bytes);
            }
        }
        Ok(out)
    }
}
