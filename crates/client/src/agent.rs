//! The long-lived client: what a desktop client, or the intermediate LPS server of seeds/004,
//! keeps between user actions for each BAL.
//!
//! - A personal or organisational BAL lives with its Pro Santé Connect session (ECO.1.2.x): the
//!   agent opens it by OpenID Connect when the BAL is configured, keeps the tokens in memory
//!   only (ECO.1.2.5), refreshes the access token before it expires, and checks the session
//!   (introspection) every `session_check`. When the session ends (refused refresh, inactive
//!   token) it ends the BAL's IMAP and SMTP sessions and forgets the tokens (ECO.1.2.6).
//! - After a synchronisation it keeps an IMAP session open in IDLE, as mail clients do. When the
//!   operator ends it (`* BYE`, closed connection) while the PSC session is valid, it reopens it
//!   by itself (ECO.1.2.7): bounded attempts with a doubling delay, a refresh first when the
//!   access token is due, and never the token the operator just refused again.
//! - A failure of one BAL's sessions is reported to the caller of the next action of that BAL
//!   and disturbs nothing else (ECO.1.2.3).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::account::{Account, Credentials, Defect, Defects};
use crate::error::ClientError;
use crate::psc::{PscClient, PscError, PscSettings, Tokens};
use crate::{Client, FetchedMessage, MessageSpec, Sent, imap, tls};

/// How the agent behaves.
#[derive(Debug, Clone)]
pub struct AgentSettings {
    /// Deliberate defects (none: the reference client).
    pub defects: Defects,
    /// Per-step timeout.
    pub timeout: Duration,
    /// State folder (kept CRLs); `None`: nothing kept.
    pub data_dir: Option<PathBuf>,
    /// How often a held BAL's Pro Santé Connect session is checked.
    pub session_check: Duration,
    /// Reconnection attempts after the operator ended a held session.
    pub reconnect_attempts: u32,
    /// Delay before the first reconnection attempt (doubled each time, at most 30 s).
    pub reconnect_delay: Duration,
    /// The traces of every action (ECO.4.1.x); shared by clones of the settings, so a
    /// restarted agent keeps them, as an application keeps its trace files.
    pub traces: Arc<crate::traces::TraceLog>,
}

impl Default for AgentSettings {
    fn default() -> Self {
        AgentSettings {
            defects: Defects::new(),
            timeout: Duration::from_secs(30),
            data_dir: None,
            session_check: Duration::from_secs(30),
            reconnect_attempts: 6,
            reconnect_delay: Duration::from_millis(500),
            traces: Arc::default(),
        }
    }
}

/// One BAL as the agent keeps it.
#[derive(Debug)]
struct Bal {
    /// The account as configured (its token replaced by the session's when there is one).
    base: Account,
    psc: Option<PscClient>,
    tokens: tokio::sync::Mutex<Option<Tokens>>,
    /// Why the BAL's session ended, once it has.
    ended: std::sync::Mutex<Option<String>>,
    /// Turns true to end the held sessions.
    stop: watch::Sender<bool>,
    /// Whether an IMAP session is held (or being reopened).
    holding: std::sync::atomic::AtomicBool,
    /// The operator refused the last token: the next use refreshes it first.
    refused: std::sync::atomic::AtomicBool,
}

impl Bal {
    fn ended(&self) -> Option<String> {
        self.ended.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Ends the BAL's sessions: held IMAP logged out, tokens forgotten.
    async fn end(&self, reason: String) {
        {
            let mut ended = self.ended.lock().unwrap_or_else(|p| p.into_inner());
            if ended.is_none() {
                *ended = Some(reason);
            }
        }
        let _ = self.stop.send_replace(true);
        *self.tokens.lock().await = None;
    }

    /// The account with a usable access token: refreshed first when `force` (the operator
    /// refused the last one) or when it is due.
    async fn account(&self, defects: &Defects, force: bool) -> Result<Account, ClientError> {
        if let Some(reason) = self.ended() {
            return Err(PscError::SessionEnded(reason).into());
        }
        let Some(psc) = &self.psc else {
            return Ok(self.base.clone());
        };
        let mut guard = self.tokens.lock().await;
        let Some(current) = guard.clone() else {
            return Err(PscError::SessionEnded("jetons oubliés".into()).into());
        };
        let was_refused = self
            .refused
            .swap(false, std::sync::atomic::Ordering::SeqCst);
        let force = force || was_refused;
        let refresh = !defects.contains(&Defect::NoRefresh) && (force || current.due());
        let tokens = if refresh {
            match psc.refresh(&current).await {
                Ok(next) => {
                    *guard = Some(next.clone());
                    next
                }
                Err(PscError::SessionEnded(reason)) => {
                    drop(guard);
                    if !defects.contains(&Defect::IgnoresPscSessionEnd) {
                        self.end(reason.clone()).await;
                    }
                    return Err(PscError::SessionEnded(reason).into());
                }
                // Asked because the last token was refused: it is not sent again, and the next
                // use asks again.
                Err(e) if force => {
                    if was_refused {
                        self.refused
                            .store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                    return Err(e.into());
                }
                // A refresh ahead of time that failed: the current token is still valid.
                Err(_) => current,
            }
        } else {
            current
        };
        let mut account = self.base.clone();
        account.credentials = Credentials::Xoauth2 {
            token: tokens.access,
        };
        Ok(account)
    }
}

/// The long-lived client of several BALs.
#[derive(Debug)]
pub struct Agent {
    settings: AgentSettings,
    nil: String,
    /// The configured BALs; locked only to look up or replace one, never across a network
    /// exchange (one BAL's slow Pro Santé Connect never holds up another's actions).
    bals: std::sync::Mutex<HashMap<String, Arc<Bal>>>,
    /// One configuration at a time per BAL.
    configuring: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Counts [`Agent::forget_all`] calls: a configuration that straddles one is dropped.
    generation: std::sync::atomic::AtomicU64,
    /// The `crashes-on-auth-error` mutant's broken state.
    broken: std::sync::atomic::AtomicBool,
}

impl Drop for Agent {
    fn drop(&mut self) {
        // Held sessions end with the agent (LOGOUT), not when the operator goes away.
        for bal in self.bals_map().values() {
            let _ = bal.stop.send_replace(true);
        }
    }
}

impl Agent {
    /// An agent writing `nil` in `X-MSS-NIL`.
    pub fn new(settings: AgentSettings, nil: impl Into<String>) -> Self {
        Agent {
            settings,
            nil: nil.into(),
            bals: std::sync::Mutex::new(HashMap::new()),
            configuring: std::sync::Mutex::new(HashMap::new()),
            generation: std::sync::atomic::AtomicU64::new(0),
            broken: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// An action's outcome, through the `crashes-on-auth-error` mutant's defect: after a
    /// refused authentication it stops working altogether.
    fn outcome<T>(&self, bal: &Bal, result: Result<T, ClientError>) -> Result<T, ClientError> {
        if matches!(result, Err(ClientError::AuthRefused(_)))
            && !self.settings.defects.contains(&Defect::RetriesRefusedToken)
        {
            // Never the refused token again.
            bal.refused.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        if !self.settings.defects.contains(&Defect::CrashesOnAuthError) {
            return result;
        }
        if self.broken.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ClientError::Unexpected {
                step: "client",
                reply: "client hors service depuis un échec d'authentification".into(),
            });
        }
        if matches!(result, Err(ClientError::AuthRefused(_))) {
            self.broken.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        result
    }

    /// Its settings.
    pub fn settings(&self) -> &AgentSettings {
        &self.settings
    }

    /// The product reference it writes.
    pub fn nil(&self) -> &str {
        &self.nil
    }

    fn client(&self, account: Account) -> Client {
        client_of(&self.settings, account)
    }

    /// Configures a BAL. With `psc`, opens its Pro Santé Connect session (the given token is
    /// then not used). A BAL configured again the same way keeps its session while it lasts.
    pub async fn configure(
        self: &Arc<Self>,
        account: Account,
        psc: Option<PscSettings>,
    ) -> Result<(), ClientError> {
        let gate = self
            .configuring
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(account.address.clone())
            .or_default()
            .clone();
        let _configuring = gate.lock().await;
        let generation = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        let existing = self.bals_map().get(&account.address).cloned();
        if let Some(existing) = &existing
            && existing.ended().is_none()
            && existing.psc.as_ref().map(|p| p.settings()) == psc.as_ref()
            && same_servers(&existing.base, &account)
            && still_active(existing).await
        {
            // Unless a restart forgot it while its session was checked.
            return if self.generation.load(std::sync::atomic::Ordering::SeqCst) == generation {
                Ok(())
            } else {
                Err(ClientError::NotConfigured(account.address))
            };
        }
        if let Some(old) = self.bals_map().remove(&account.address) {
            let _ = old.stop.send_replace(true);
        }
        let psc = match psc {
            Some(settings) => {
                let tls = tls::client_config(
                    &account.trust,
                    &account.credentials,
                    false,
                    &Defects::new(),
                )?;
                Some(PscClient::new(
                    settings,
                    tls,
                    account.connect_to.clone(),
                    self.settings.timeout,
                ))
            }
            None => None,
        };
        let tokens = match &psc {
            Some(p) => Some(p.login().await?),
            None => None,
        };
        if let (Some(t), Some(dir)) = (&tokens, &self.settings.data_dir)
            && self.settings.defects.contains(&Defect::WritesTokenToDisk)
        {
            // The defect: the token "remembered" on disk (ECO.1.2.5 forbids it).
            let _ = std::fs::create_dir_all(dir);
            let _ = std::fs::write(
                dir.join("session.json"),
                format!("{{\"access_token\": \"{}\"}}", t.access.0),
            );
        }
        let (stop, _) = watch::channel(false);
        let bal = Arc::new(Bal {
            base: account.clone(),
            psc,
            tokens: tokio::sync::Mutex::new(tokens),
            ended: std::sync::Mutex::new(None),
            stop,
            holding: std::sync::atomic::AtomicBool::new(false),
            refused: std::sync::atomic::AtomicBool::new(false),
        });
        {
            let mut bals = self.bals_map();
            if self.generation.load(std::sync::atomic::Ordering::SeqCst) != generation {
                // Restarted meanwhile: nothing configured before a restart survives it.
                let _ = bal.stop.send_replace(true);
                return Err(ClientError::NotConfigured(account.address));
            }
            if let Some(old) = bals.insert(account.address.clone(), bal.clone()) {
                let _ = old.stop.send_replace(true);
            }
        }
        if bal.psc.is_some() {
            tokio::spawn(watch_session(
                Arc::downgrade(&bal),
                self.settings.session_check,
                self.settings.defects.clone(),
            ));
        }
        Ok(())
    }

    /// The configured BALs (a short lock: never held across an `.await`).
    fn bals_map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Bal>>> {
        self.bals.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn bal(&self, address: &str) -> Result<Arc<Bal>, ClientError> {
        self.bals_map()
            .get(address)
            .cloned()
            .ok_or_else(|| ClientError::NotConfigured(address.to_owned()))
    }

    /// Forgets every BAL (their sessions end): what a restart leaves of the process memory.
    pub async fn forget_all(&self) {
        let mut bals = self.bals_map();
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        for bal in bals.values() {
            let _ = bal.stop.send_replace(true);
        }
        bals.clear();
    }

    /// Sends a message from a configured BAL.
    pub async fn send(&self, address: &str, spec: &MessageSpec) -> Result<Sent, ClientError> {
        let bal = self.bal(address).await?;
        let account = bal.account(&self.settings.defects, false).await?;
        let sent = self.client(account).send(spec).await;
        self.outcome(&bal, sent)
    }

    /// Synchronises a configured BAL's INBOX, then keeps an IMAP session open in IDLE.
    pub async fn sync(&self, address: &str) -> Result<Vec<FetchedMessage>, ClientError> {
        let bal = self.bal(address).await?;
        let account = bal.account(&self.settings.defects, false).await?;
        let messages = self.outcome(&bal, self.client(account).fetch_inbox().await)?;
        self.hold(&bal);
        Ok(messages)
    }

    /// Replies from a configured BAL to a message of its INBOX.
    pub async fn reply(
        &self,
        address: &str,
        message_id: &str,
        text: &str,
    ) -> Result<Sent, ClientError> {
        let bal = self.bal(address).await?;
        let account = bal.account(&self.settings.defects, false).await?;
        let sent = self.client(account).reply(message_id, text).await;
        self.outcome(&bal, sent)
    }

    /// Displays a message of a configured BAL's INBOX (read receipt when asked).
    pub async fn open(&self, address: &str, message_id: &str) -> Result<Option<Sent>, ClientError> {
        let bal = self.bal(address).await?;
        let account = bal.account(&self.settings.defects, false).await?;
        let opened = self.client(account).open(message_id).await;
        self.outcome(&bal, opened)
    }

    /// Writes from a configured BAL to a patient.
    pub async fn write_to_patient(
        &self,
        address: &str,
        patient: &crate::inbox::PatientRecord,
    ) -> Result<Sent, ClientError> {
        let bal = self.bal(address).await?;
        let account = bal.account(&self.settings.defects, false).await?;
        let sent = self.client(account).write_to_patient(patient).await;
        self.outcome(&bal, sent)
    }

    /// A configured BAL's INBOX as the user sees it.
    pub async fn list_inbox(
        &self,
        address: &str,
    ) -> Result<Vec<crate::inbox::Listed>, ClientError> {
        let bal = self.bal(address).await?;
        let account = bal.account(&self.settings.defects, false).await?;
        let listed = self.client(account).list_inbox().await;
        self.outcome(&bal, listed)
    }

    /// The traces of a BAL, oldest first (ECO.4.1.x).
    pub fn export_traces(&self, address: &str) -> Vec<crate::traces::Trace> {
        self.settings.traces.export(address)
    }

    /// The connection test of a configured BAL.
    pub async fn test_connection(&self, address: &str) -> Result<(), ClientError> {
        let bal = self.bal(address).await?;
        let account = bal.account(&self.settings.defects, false).await?;
        let tested = self.client(account).test_connection().await;
        self.outcome(&bal, tested)
    }

    /// Starts holding an IMAP session for the BAL, unless one is held already.
    fn hold(&self, bal: &Arc<Bal>) {
        if bal.holding.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let settings = self.settings.clone();
        let nil = self.nil.clone();
        let bal = bal.clone();
        tokio::spawn(async move {
            held_session(&bal, &settings, &nil).await;
            bal.holding
                .store(false, std::sync::atomic::Ordering::SeqCst);
        });
    }
}

/// Whether a kept BAL's PSC session is still on (introspection; an unreachable provider or an
/// expired access token is not taken for its end).
async fn still_active(bal: &Bal) -> bool {
    let Some(psc) = &bal.psc else { return true };
    let Some(tokens) = bal.tokens.lock().await.clone() else {
        return false;
    };
    if tokens.remaining().is_zero() {
        return true;
    }
    !matches!(psc.active(&tokens).await, Ok(false))
}

fn same_servers(a: &Account, b: &Account) -> bool {
    a.smtp == b.smtp && a.imap == b.imap && a.trust == b.trust && a.connect_to == b.connect_to
}

/// The reference client for one account, as the agent's settings make it.
fn client_of(settings: &AgentSettings, account: Account) -> Client {
    let client = Client::new(account)
        .with_defects(settings.defects.clone())
        .with_timeout(settings.timeout)
        .with_traces(settings.traces.clone());
    match &settings.data_dir {
        Some(dir) => client.with_data_dir(dir),
        None => client,
    }
}

/// The delay before reconnection attempt `failures` (1, 2…): doubling, at most 30 s.
fn backoff(settings: &AgentSettings, failures: u32) -> Duration {
    settings
        .reconnect_delay
        .saturating_mul(1 << failures.saturating_sub(1).min(6))
        .min(Duration::from_secs(30))
}

/// How long a held session must have lasted for its end to count as a new outage.
const STABLE: Duration = Duration::from_secs(5);

/// Keeps the BAL's IMAP session open, reopening it when the operator ends it.
async fn held_session(bal: &Arc<Bal>, settings: &AgentSettings, nil: &str) {
    let mut stop = bal.stop.subscribe();
    let mut failures = 0u32;
    let mut force_refresh = false;
    loop {
        if *stop.borrow() || bal.ended().is_some() {
            return;
        }
        let account = match bal.account(&settings.defects, force_refresh).await {
            Ok(a) => a,
            // The session ended: nothing to reopen.
            Err(ClientError::Psc(PscError::SessionEnded(_))) => return,
            // The provider is unreachable for now: try again later, within the bound.
            Err(_) => {
                failures += 1;
                if failures > settings.reconnect_attempts {
                    return;
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff(settings, failures)) => {}
                    _ = stop.changed() => return,
                }
                continue;
            }
        };
        let mut client_account = account;
        client_account.nil = nil.to_owned();
        let client = client_of(settings, client_account);
        let started = tokio::time::Instant::now();
        let outcome = client.hold_inbox(&mut stop).await;
        force_refresh = false;
        match outcome {
            Ok(imap::Held::Ended) => return,
            Ok(imap::Held::ByServer(_)) => {
                if settings.defects.contains(&Defect::DoesNotReconnect) {
                    return;
                }
                // A session that lasted: a new outage starts counting from zero. One the server
                // ends at once, again and again, counts as a failure (no reconnection storm).
                if started.elapsed() >= STABLE {
                    failures = 0;
                } else {
                    failures += 1;
                }
            }
            Err(ClientError::AuthRefused(_)) => {
                failures += 1;
                // Never the refused token again: a fresh one, or nothing.
                force_refresh = !settings.defects.contains(&Defect::RetriesRefusedToken);
            }
            Err(_) if settings.defects.contains(&Defect::DoesNotReconnect) => return,
            Err(_) => failures += 1,
        }
        if failures > settings.reconnect_attempts {
            return;
        }
        if failures > 0 {
            tokio::select! {
                _ = tokio::time::sleep(backoff(settings, failures)) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

/// Checks the BAL's Pro Santé Connect session every `every`; ends the BAL when it is over.
async fn watch_session(bal: std::sync::Weak<Bal>, every: Duration, defects: Defects) {
    loop {
        tokio::time::sleep(every).await;
        let Some(bal) = bal.upgrade() else { return };
        if bal.ended().is_some() || *bal.stop.borrow() {
            return;
        }
        let Some(psc) = &bal.psc else { return };
        // Refreshes hold the tokens' lock: with rotation, two refreshes in parallel would spend
        // the same refresh token, and the second would look like the end of the session.
        let over = {
            let mut guard = bal.tokens.lock().await;
            let Some(current) = guard.clone() else { return };
            if current.due() && !defects.contains(&Defect::NoRefresh) {
                match psc.refresh(&current).await {
                    Ok(next) => {
                        *guard = Some(next);
                        None
                    }
                    Err(PscError::SessionEnded(reason)) => Some(reason),
                    Err(_) => None,
                }
            } else {
                drop(guard);
                let inactive = matches!(psc.active(&current).await, Ok(false));
                // An expired token is inactive too: that is not the end of the session; nor is
                // a token a refresh replaced meanwhile.
                let still_current = bal
                    .tokens
                    .lock()
                    .await
                    .as_ref()
                    .is_some_and(|t| t.access == current.access);
                (inactive && still_current && !current.remaining().is_zero())
                    .then(|| "jeton inactif à l'introspection".to_owned())
            }
        };
        if let Some(reason) = over
            && !defects.contains(&Defect::IgnoresPscSessionEnd)
        {
            bal.end(reason).await;
            return;
        }
    }
}
