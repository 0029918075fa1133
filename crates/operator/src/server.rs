//! Starting and stopping the operator: listeners, shared state, the handle tests and the harness
//! hold.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::directory::Directory;
use crate::faults::Faults;
use crate::journal::{ClosedBy, ConnJournal, EntryPoint, EventKind, Journal, Service};
use crate::psc::{Psc, TokenError};
use crate::store::Store;
use crate::tls::{TlsContext, TlsProfile};
use crate::{imap, smtp};

/// Errors of the operator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OperatorError {
    /// A listener could not be bound.
    #[error("binding the {listener} listener on {addr}: {source}")]
    Bind {
        /// Which listener (`SMTP psc`, `HTTPS`...).
        listener: String,
        /// Requested address.
        addr: SocketAddr,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The data folder or the journal file could not be opened.
    #[error("data folder {path}: {source}")]
    Data {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The TLS configuration could not be built from the certificates.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsConfigError),
    /// The fake PSC key is unusable.
    #[error(transparent)]
    PscKey(#[from] crate::psc::KeyError),
    /// A token could not be issued.
    #[error("issuing a token: {0}")]
    Token(#[from] TokenError),
    /// An unknown professional or BAL was named.
    #[error("{0}")]
    Unknown(String),
}

/// Addresses the four listeners bind to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen {
    /// SMTP, Pro Santé Connect entry point.
    pub psc_smtp: SocketAddr,
    /// IMAP, Pro Santé Connect entry point.
    pub psc_imap: SocketAddr,
    /// SMTP, application entry point.
    pub app_smtp: SocketAddr,
    /// IMAP, application entry point.
    pub app_imap: SocketAddr,
    /// Plain HTTP: CRL distribution points, control API.
    pub http: SocketAddr,
    /// HTTPS: autoconfiguration, Pro Santé Connect.
    pub https: SocketAddr,
    /// UDP: the DNS responder for the operator's names (none: no responder).
    pub dns: Option<SocketAddr>,
}

impl Listen {
    /// Four ephemeral ports on the loopback: what tests and scenarios use.
    pub fn ephemeral() -> Self {
        let any = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
        Listen {
            psc_smtp: any,
            psc_imap: any,
            app_smtp: any,
            app_imap: any,
            http: any,
            https: any,
            dns: Some(any),
        }
    }

    /// The référentiel's ports (587, 143) on two addresses, one per entry point, like the two
    /// front hosts of a real operator; HTTP (80) and HTTPS (443) on the first.
    pub fn standard(psc: IpAddr, app: IpAddr) -> Self {
        Listen {
            psc_smtp: SocketAddr::new(psc, 587),
            psc_imap: SocketAddr::new(psc, 143),
            app_smtp: SocketAddr::new(app, 587),
            app_imap: SocketAddr::new(app, 143),
            http: SocketAddr::new(psc, 80),
            https: SocketAddr::new(psc, 443),
            dns: Some(SocketAddr::new(psc, 53)),
        }
    }
}

/// Limits and timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message accepted (Mon espace santé accepts 25 MB).
    pub max_message_size: u64,
    /// Most recipients per message.
    pub max_recipients: usize,
    /// Most simultaneous connections per listener; past it, a client is told so (`421`,
    /// `* BYE`) and disconnected.
    pub max_connections: usize,
    /// Most simultaneous connections per listener from one client address.
    pub max_connections_per_address: usize,
    /// An SMTP client, or an IMAP client not yet authenticated, silent for this long is
    /// disconnected.
    pub idle_timeout: Duration,
    /// An authenticated IMAP client (IDLE included) silent for this long is disconnected:
    /// RFC 3501 §5.4 asks for at least 30 minutes.
    pub imap_idle_timeout: Duration,
    /// A command must arrive whole within this time of its first byte (slow clients holding
    /// connections are disconnected).
    pub command_timeout: Duration,
    /// Most simultaneous connections on the HTTP and HTTPS ports, each.
    pub max_http_connections: usize,
    /// An HTTP(S) connection is closed after this long (the journal's long poll waits 60 s
    /// at most).
    pub http_connection_lifetime: Duration,
    /// A TLS handshake taking longer fails.
    pub handshake_timeout: Duration,
    /// Journal events held in memory (older ones only in the journal file).
    pub journal_events: usize,
    /// Size past which the journal file is rotated.
    pub journal_file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: 25 * 1024 * 1024,
            max_recipients: 100,
            max_connections: 256,
            max_connections_per_address: 64,
            idle_timeout: Duration::from_secs(300),
            imap_idle_timeout: Duration::from_secs(31 * 60),
            command_timeout: Duration::from_secs(60),
            max_http_connections: 256,
            http_connection_lifetime: Duration::from_secs(90),
            handshake_timeout: Duration::from_secs(30),
            journal_events: crate::journal::DEFAULT_CAPACITY,
            journal_file_bytes: crate::journal::DEFAULT_MAX_FILE_BYTES,
        }
    }
}

/// What the operator enforces like a real one (switch off to observe a client's behaviour
/// without refusing it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// A submitted message's `From:` must name the authenticated BAL (`550 5.7.1` otherwise,
    /// journaled): MSSanté operators refuse to send on behalf of another mailbox.
    pub from_must_be_authenticated_bal: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            from_must_be_authenticated_bal: true,
        }
    }
}

/// Everything the operator needs to start.
#[derive(Debug, Clone)]
pub struct OperatorConfig {
    /// BALs, professionals, structures, patients.
    pub directory: Directory,
    /// The fake IGC Santé.
    pub pki: Arc<pki::Pki>,
    /// Where mailboxes are stored.
    pub data_dir: PathBuf,
    /// Listener addresses.
    pub listen: Listen,
    /// Optional copy of the journal as JSON lines.
    pub journal_file: Option<PathBuf>,
    /// Limits and timeouts.
    pub limits: Limits,
    /// What is enforced like a real operator.
    pub policy: Policy,
}

impl OperatorConfig {
    /// A configuration with ephemeral ports and default limits.
    pub fn new(directory: Directory, pki: Arc<pki::Pki>, data_dir: PathBuf) -> Self {
        OperatorConfig {
            directory,
            pki,
            data_dir,
            listen: Listen::ephemeral(),
            journal_file: None,
            limits: Limits::default(),
            policy: Policy::default(),
        }
    }
}

/// State shared by every session of one operator.
#[derive(Debug)]
pub struct Shared {
    /// Where the listeners are, once bound (the autoconfiguration advertises them).
    pub(crate) addresses: std::sync::OnceLock<Addresses>,
    /// Fires when the operator stops (for requests that would otherwise wait forever).
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Hashes of the access tokens refused so far, to flag a client that retries one.
    pub(crate) refused_tokens: std::sync::Mutex<std::collections::HashSet<u64>>,
    /// The last tokens the fake Pro Santé Connect issued (access, refresh, ID), the canaries a
    /// harness looks for in an LPS's files (ECO.1.2.5).
    pub(crate) issued_tokens: std::sync::Mutex<std::collections::VecDeque<String>>,
    /// Behaviour switched at run time.
    pub(crate) settings: std::sync::RwLock<Settings>,
    pub(crate) directory: Directory,
    pub(crate) psc: Psc,
    /// Sessions of the fake Pro Santé Connect.
    pub(crate) psc_sessions: std::sync::Mutex<crate::psc::Sessions>,
    pub(crate) tls: TlsContext,
    pub(crate) store: Store,
    pub(crate) journal: Journal,
    pub(crate) limits: Limits,
    pub(crate) policy: Policy,
    /// Bumped to end every SMTP and IMAP session in progress.
    pub(crate) ended: watch::Sender<u64>,
    /// The patients' operator (Mon espace santé).
    pub(crate) mes: crate::mes::Mes,
}

/// What can be switched while the operator runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    pub tls_profile: TlsProfile,
    pub faults: Faults,
}

impl Shared {
    /// The current TLS profile.
    pub(crate) fn tls_profile(&self) -> TlsProfile {
        self.settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .tls_profile
    }

    /// Ends a professional's PSC sessions, journaled.
    pub(crate) fn end_psc_sessions(&self, professional: &str, by: &str) -> usize {
        let n = Psc::end_sessions_of(
            &mut self.psc_sessions.lock().unwrap_or_else(|p| p.into_inner()),
            professional,
        );
        self.journal.record(
            None,
            EventKind::PscSessionEnded {
                professional: professional.to_owned(),
                sessions: n,
                by: by.to_owned(),
            },
        );
        n
    }

    /// Switches the TLS profile, journaled.
    pub(crate) fn set_tls_profile(&self, profile: TlsProfile) {
        self.settings
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .tls_profile = profile;
        self.journal.record(
            None,
            EventKind::TlsProfileChanged {
                profile: profile.name(),
            },
        );
    }

    /// Replaces the faults, journaled.
    pub(crate) fn set_faults(&self, faults: Faults) {
        self.settings
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .faults = faults.clone();
        self.journal
            .record(None, EventKind::FaultsChanged { faults });
    }

    /// Puts a message into a BAL's INBOX, as if delivered by another operator, journaled.
    pub(crate) fn deliver(&self, bal: &str, message: &[u8]) -> Result<PathBuf, OperatorError> {
        let known = self
            .directory
            .bal(bal)
            .ok_or_else(|| OperatorError::Unknown(format!("BAL inconnue {bal}")))?;
        let path = self
            .store
            .inject(&known.address, message)
            .map_err(|source| OperatorError::Data {
                path: PathBuf::from(&known.address),
                source,
            })?;
        self.journal.record(
            None,
            EventKind::MessageInjected {
                bal: known.address.clone(),
                message_id: crate::smtp::header_value(message, "Message-ID"),
                path: path.display().to_string(),
            },
        );
        Ok(path)
    }

    /// Back to a healthy, empty operator between two scenarios of one SUT: good TLS profile,
    /// no fault, every BAL's mailboxes emptied (UIDs keep growing, as after an expunge),
    /// the memory of refused tokens cleared. Journaled with a marker.
    pub(crate) fn reset(&self, label: &str) -> Result<(), OperatorError> {
        self.set_tls_profile(TlsProfile::Good);
        self.set_faults(Faults::default());
        self.refused_tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.mes.reset(&self.directory);
        for bal in &self.directory.bals {
            for (mailbox, _) in crate::store::MAILBOXES {
                let data = |source| OperatorError::Data {
                    path: PathBuf::from(&bal.address),
                    source,
                };
                self.store.clear(&bal.address, mailbox).map_err(data)?;
            }
        }
        self.journal.record(
            None,
            EventKind::Marker {
                text: label.to_owned(),
            },
        );
        Ok(())
    }

    /// See [`OperatorHandle::mes`]: returns where something was sent.
    pub(crate) fn mes_act(
        &self,
        action: MesAction,
    ) -> Result<Option<String>, crate::mes::MesError> {
        let (ins, name, message_id, result) = match &action {
            MesAction::Open { ins, message_id } => (
                ins,
                "open",
                Some(message_id.clone()),
                self.mes.open(ins, message_id),
            ),
            MesAction::Reply {
                ins,
                message_id,
                text,
            } => (
                ins,
                "reply",
                Some(message_id.clone()),
                self.mes.reply(ins, message_id, text).map(Some),
            ),
            MesAction::State { ins, state } => (
                ins,
                "state",
                None,
                self.mes.set_state(ins, *state).map(|()| None),
            ),
        };
        let (sent_to, outcome) = match &result {
            Ok(Some(out)) => {
                let delivered = self.directory.bal(&out.to).is_some()
                    && self.deliver(&out.to, &out.message).is_ok();
                (
                    Some(out.to.clone()),
                    if delivered {
                        format!("envoyé à {}", out.to)
                    } else {
                        format!("adressé à {} (hors de cet opérateur, non remis)", out.to)
                    },
                )
            }
            Ok(None) => (
                None,
                match &action {
                    MesAction::State { state, .. } => format!("espace {state:?}"),
                    _ => "rien à envoyer (aucun accusé demandé, ou déjà envoyé)".to_owned(),
                },
            ),
            Err(e) => (None, format!("refusé : {e}")),
        };
        self.journal.record(
            None,
            EventKind::MesPatient {
                ins: ins.clone(),
                action: name.to_owned(),
                message_id,
                sent_to: sent_to.clone(),
                outcome,
            },
        );
        result.map(|_| sent_to)
    }

    /// The faults in force.
    pub(crate) fn faults(&self) -> Faults {
        self.settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .faults
            .clone()
    }

    fn token_key(token: &str) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        token.hash(&mut h);
        h.finish()
    }

    /// Remembers tokens issued by the fake Pro Santé Connect (the last 1,000).
    pub(crate) fn remember_issued<'a>(&self, tokens: impl IntoIterator<Item = &'a str>) {
        let mut issued = self.issued_tokens.lock().unwrap_or_else(|p| p.into_inner());
        for t in tokens {
            if issued.len() >= 1000 {
                issued.pop_front();
            }
            issued.push_back(t.to_owned());
        }
    }

    /// Whether this token was already refused.
    pub(crate) fn was_refused(&self, token: &str) -> bool {
        self.refused_tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&Self::token_key(token))
    }

    /// Remembers a refused token.
    pub(crate) fn remember_refused(&self, token: &str) {
        self.refused_tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(Self::token_key(token));
    }

    /// Whether this authentication must be refused by an injected fault (consumes one).
    pub(crate) fn consume_auth_refusal(&self) -> bool {
        let mut settings = self.settings.write().unwrap_or_else(|p| p.into_inner());
        if settings.faults.refuse_next_auth > 0 {
            settings.faults.refuse_next_auth -= 1;
            true
        } else {
            false
        }
    }

    /// When a session opened now must end, if a fault says so.
    pub(crate) fn session_deadline(&self) -> Option<tokio::time::Instant> {
        self.faults()
            .close_after
            .map(|d| tokio::time::Instant::now() + d)
    }

    /// Waits as long as the slow-replies fault says.
    pub(crate) async fn reply_delay(&self) {
        if let Some(d) = self.faults().slow_replies {
            tokio::time::sleep(d).await;
        }
    }

    /// The STARTTLS transition of both protocols: whatever the client sent in clear after
    /// STARTTLS (`pending` bytes) is dropped and journaled — it must never run inside TLS
    /// (STARTTLS command injection, CVE-2011-0411) — then the server side of the handshake.
    pub(crate) async fn starttls(
        &self,
        tcp: TcpStream,
        pending: usize,
        entry: EntryPoint,
        journal: &ConnJournal,
    ) -> Result<crate::tls::Handshake, SessionEnd> {
        if pending > 0 {
            journal.record(EventKind::InjectionDiscarded { bytes: pending });
        }
        crate::tls::accept(
            tcp,
            entry,
            self.tls_profile(),
            &self.tls,
            journal,
            self.limits.handshake_timeout,
        )
        .await
        .ok_or_else(|| SessionEnd::operator("négociation TLS non aboutie"))
    }

    /// Host name the operator gives itself on an entry point.
    pub(crate) fn host(&self, entry: EntryPoint) -> &str {
        match entry {
            EntryPoint::Psc => &self.directory.operator.psc_host,
            EntryPoint::App => &self.directory.operator.authcli_host,
        }
    }
}

/// Addresses the listeners actually bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addresses {
    /// SMTP, Pro Santé Connect entry point.
    pub psc_smtp: SocketAddr,
    /// IMAP, Pro Santé Connect entry point.
    pub psc_imap: SocketAddr,
    /// SMTP, application entry point.
    pub app_smtp: SocketAddr,
    /// IMAP, application entry point.
    pub app_imap: SocketAddr,
    /// Plain HTTP: CRL distribution points, control API.
    pub http: SocketAddr,
    /// HTTPS: autoconfiguration, Pro Santé Connect.
    pub https: SocketAddr,
    /// UDP: the DNS responder, when there is one.
    pub dns: Option<SocketAddr>,
}

impl Addresses {
    /// The address of one listener.
    pub fn of(&self, service: Service, entry: EntryPoint) -> SocketAddr {
        match (service, entry) {
            (Service::Smtp, EntryPoint::Psc) => self.psc_smtp,
            (Service::Imap, EntryPoint::Psc) => self.psc_imap,
            (Service::Smtp, EntryPoint::App) => self.app_smtp,
            (Service::Imap, EntryPoint::App) => self.app_imap,
        }
    }
}

/// A running operator. Dropping it stops the listeners and closes the sessions.
#[derive(Debug)]
pub struct OperatorHandle {
    shared: Arc<Shared>,
    addresses: Addresses,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

/// Entry point of the crate: binds the listeners and serves until the handle is dropped.
#[derive(Debug)]
pub struct Operator;

impl Operator {
    /// Binds every listener and starts serving. Ready when this returns.
    pub async fn start(config: OperatorConfig) -> Result<OperatorHandle, OperatorError> {
        let data_error = |path: &PathBuf| {
            let path = path.clone();
            move |source| OperatorError::Data { path, source }
        };
        let store = Store::open(&config.data_dir).map_err(data_error(&config.data_dir))?;
        let journal = match &config.journal_file {
            Some(path) => Journal::with_file_limits(
                path,
                config.limits.journal_events,
                config.limits.journal_file_bytes,
            )
            .map_err(data_error(path))?,
            None => Journal::with_capacity(config.limits.journal_events),
        };
        // HTTP(S) first: the URLs the operator publishes (Pro Santé Connect's issuer and
        // endpoints, autoconfiguration) name the port actually bound.
        let (http, http_addr) = bind_listener("HTTP", config.listen.http).await?;
        let (https, https_addr) = bind_listener("HTTPS", config.listen.https).await?;
        let issuer = format!(
            "https://psc.{}{}/auth/realms/esante-wallet",
            config.directory.operator.domain,
            port_suffix(https_addr.port(), 443)
        );
        let (shutdown, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            addresses: std::sync::OnceLock::new(),
            shutdown: shutdown.subscribe(),
            refused_tokens: std::sync::Mutex::new(Default::default()),
            issued_tokens: std::sync::Mutex::new(Default::default()),
            settings: std::sync::RwLock::new(Settings {
                tls_profile: TlsProfile::Good,
                faults: Faults::default(),
            }),
            psc: Psc::new(issuer, &config.pki)?,
            psc_sessions: std::sync::Mutex::new(Default::default()),
            tls: TlsContext::new(config.pki.clone())?,
            mes: crate::mes::Mes::new(&config.directory),
            directory: config.directory,
            store,
            journal,
            limits: config.limits,
            policy: config.policy,
            ended: watch::channel(0).0,
        });

        let mut tasks = JoinSet::new();
        let mut bind = async |service: Service,
                              entry: EntryPoint,
                              addr|
               -> Result<SocketAddr, OperatorError> {
            let name = format!("{service} {entry:?}");
            let (listener, local) = bind_listener(&name, addr).await?;
            shared.journal.record(
                None,
                EventKind::ListenerReady {
                    service,
                    entry,
                    addr: local,
                },
            );
            tasks.spawn(accept_loop(
                listener,
                service,
                entry,
                shared.clone(),
                shutdown.subscribe(),
            ));
            Ok(local)
        };
        let l = config.listen;
        let psc_smtp = bind(Service::Smtp, EntryPoint::Psc, l.psc_smtp).await?;
        let psc_imap = bind(Service::Imap, EntryPoint::Psc, l.psc_imap).await?;
        let app_smtp = bind(Service::Smtp, EntryPoint::App, l.app_smtp).await?;
        let app_imap = bind(Service::Imap, EntryPoint::App, l.app_imap).await?;
        let dns = match l.dns {
            Some(addr) => {
                let socket = tokio::net::UdpSocket::bind(addr).await.map_err(|source| {
                    OperatorError::Bind {
                        listener: "DNS".into(),
                        addr,
                        source,
                    }
                })?;
                let local = socket.local_addr().map_err(|source| OperatorError::Bind {
                    listener: "DNS".into(),
                    addr,
                    source,
                })?;
                Some((socket, local))
            }
            None => None,
        };
        let addresses = Addresses {
            psc_smtp,
            psc_imap,
            app_smtp,
            app_imap,
            http: http_addr,
            https: https_addr,
            dns: dns.as_ref().map(|(_, a)| *a),
        };
        let _ = shared.addresses.set(addresses);
        let https_config = shared.tls.https_config()?;
        if let Some((socket, _)) = dns {
            let names = crate::dns::Names::of(&shared, psc_smtp, app_smtp);
            tasks.spawn(crate::dns::serve(
                socket,
                shared.clone(),
                names,
                shutdown.subscribe(),
            ));
        }
        tasks.spawn(serve_http(http, shared.clone(), shutdown.subscribe()));
        tasks.spawn(serve_https(
            https,
            https_config,
            shared.clone(),
            shutdown.subscribe(),
        ));
        Ok(OperatorHandle {
            shared,
            addresses,
            shutdown,
            tasks,
        })
    }
}

/// `:port` when it is not the scheme's default.
pub(crate) fn port_suffix(port: u16, default: u16) -> String {
    if port == default {
        String::new()
    } else {
        format!(":{port}")
    }
}

impl OperatorHandle {
    /// The fake Pro Santé Connect's issuer (its discovery document is under
    /// `/.well-known/openid-configuration`), with the HTTPS port actually bound.
    pub fn psc_issuer(&self) -> String {
        self.shared.psc.issuer().to_owned()
    }

    /// The autoconfiguration document of the operator's domain, with the HTTPS port actually
    /// bound.
    pub fn autoconfig_url(&self) -> String {
        format!(
            "https://{}{}/mail/config-v1.1.xml",
            self.shared.directory.operator.autoconfig_host,
            port_suffix(self.addresses.https.port(), 443)
        )
    }

    /// Where the listeners are.
    pub fn addresses(&self) -> Addresses {
        self.addresses
    }

    /// The journal.
    pub fn journal(&self) -> &Journal {
        &self.shared.journal
    }

    /// The directory.
    pub fn directory(&self) -> &Directory {
        &self.shared.directory
    }

    /// Switches the TLS profile; connections that upgrade from now on see it.
    pub fn set_tls_profile(&self, profile: TlsProfile) {
        self.shared.set_tls_profile(profile);
    }

    /// The current TLS profile.
    pub fn tls_profile(&self) -> TlsProfile {
        self.shared.tls_profile()
    }

    /// Replaces the faults in force; sessions opened from now on see them (authentication
    /// refusals, slowness and CRL outages apply at once).
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.shared.faults()
    }

    /// Ends every Pro Santé Connect session of a professional (as a PSC logout would): their
    /// refresh tokens stop working and the operator refuses their access tokens. Returns how
    /// many sessions ended.
    pub fn end_psc_sessions(&self, professional: &str) -> usize {
        self.shared.end_psc_sessions(professional, "harnais")
    }

    /// Ends every SMTP and IMAP session in progress (`421 4.4.2` / `* BYE`, journaled as the
    /// operator's doing): clients must reconnect, under the current TLS profile.
    pub fn end_sessions(&self, why: &str) {
        self.shared.journal.record(
            None,
            EventKind::FaultInjected {
                fault: format!("sessions en cours fermées par l'opérateur : {why}"),
            },
        );
        self.shared.ended.send_modify(|n| *n += 1);
    }

    /// Whether the Pro Santé Connect session of a token has ended.
    pub fn psc_session_ended(&self, token: &str) -> bool {
        let Ok(claims) = self.shared.psc.validate(token) else {
            return false;
        };
        let sessions = self
            .shared
            .psc_sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        Psc::session_ended(&sessions, claims.sid.as_deref())
    }

    /// The fake Pro Santé Connect.
    pub fn psc(&self) -> &Psc {
        &self.shared.psc
    }

    /// Issues an access token for a professional of the directory, as PSC would after a
    /// successful authentication of the LPS identified by `client_id`.
    pub fn issue_access_token(
        &self,
        professional: &str,
        client_id: &str,
        ttl: Duration,
    ) -> Result<String, OperatorError> {
        let p = self
            .shared
            .directory
            .professional(professional)
            .ok_or_else(|| {
                OperatorError::Unknown(format!("unknown professional {professional}"))
            })?;
        let mut sessions = self
            .shared
            .psc_sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let token = self
            .shared
            .psc
            .issue_in_session(&mut sessions, p, client_id, ttl)?;
        self.shared.remember_issued([token.as_str()]);
        Ok(token)
    }

    /// The tokens the fake Pro Santé Connect issued lately (at most the last 1,000), oldest
    /// first: the canaries of ECO.1.2.5.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.shared
            .issued_tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// Puts a message into a BAL's INBOX, as if delivered by another operator.
    pub fn deliver(&self, bal: &str, message: &[u8]) -> Result<PathBuf, OperatorError> {
        self.shared.deliver(bal, message)
    }

    /// A patient acts in Mon espace santé (see [`MesAction`]); journaled, and what it sends a
    /// professional of this operator is delivered to their BAL.
    pub fn mes(&self, action: MesAction) -> Result<Option<String>, crate::mes::MesError> {
        self.shared.mes_act(action)
    }

    /// Resets the operator between two scenarios (see the control API's `/api/reset`):
    /// healthy, every mailbox empty, a marker in the journal.
    pub fn reset(&self, label: &str) -> Result<(), OperatorError> {
        self.shared.reset(label)
    }

    /// Writes a marker into the journal (a scenario starts or ends); returns its sequence
    /// number.
    pub fn mark(&self, text: &str) -> u64 {
        self.shared.journal.record(
            None,
            EventKind::Marker {
                text: text.to_owned(),
            },
        )
    }

    /// Stops listening, closes the sessions and waits for them.
    pub async fn shutdown(mut self) {
        self.shutdown.send_replace(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

impl Drop for OperatorHandle {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

async fn bind_listener(
    name: &str,
    addr: SocketAddr,
) -> Result<(TcpListener, SocketAddr), OperatorError> {
    let error = |source| OperatorError::Bind {
        listener: name.to_owned(),
        addr,
        source,
    };
    let listener = TcpListener::bind(addr).await.map_err(error)?;
    let local = listener.local_addr().map_err(error)?;
    Ok((listener, local))
}

/// Plain HTTP: CRLs and the control API.
async fn serve_http(listener: TcpListener, shared: Arc<Shared>, shutdown: watch::Receiver<bool>) {
    let router = crate::http::plain(shared.clone());
    serve_hyper(listener, &shared, shutdown, "HTTP", move |tcp| {
        let router = router.clone();
        async move { Some((hyper_util::rt::TokioIo::new(tcp), router)) }
    })
    .await;
}

/// HTTPS: autoconfiguration and Pro Santé Connect.
async fn serve_https(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let router = crate::http::secure(shared.clone());
    let timeout = shared.limits.handshake_timeout;
    serve_hyper(listener, &shared, shutdown, "HTTPS", move |tcp| {
        let (acceptor, router) = (acceptor.clone(), router.clone());
        async move {
            let tls = tokio::time::timeout(timeout, acceptor.accept(tcp))
                .await
                .ok()?
                .ok()?;
            Some((hyper_util::rt::TokioIo::new(tls), router))
        }
    })
    .await;
}

/// The accept loop of both HTTP listeners: at most `max_http_connections` at once (past it,
/// hung up at once: idle connections must not exhaust descriptors), each closed after
/// `http_connection_lifetime`, backing off on accept errors. `open` turns a TCP connection
/// into what hyper serves (after TLS for HTTPS), or `None` to drop it.
async fn serve_hyper<F, Fut, IO>(
    listener: TcpListener,
    shared: &Shared,
    mut shutdown: watch::Receiver<bool>,
    what: &'static str,
    open: F,
) where
    F: Fn(tokio::net::TcpStream) -> Fut,
    Fut: std::future::Future<Output = Option<(IO, axum::Router)>> + Send + 'static,
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(shared.limits.max_http_connections));
    let lifetime = shared.limits.http_connection_lifetime;
    let mut connections = JoinSet::new();
    let mut backoff = Backoff::default();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => accepted,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => {
                backoff.reset();
                tcp
            }
            Err(e) => {
                backoff.after_error(what, &e).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            drop(tcp);
            continue;
        };
        let opening = open(tcp);
        let mut stop = shutdown.clone();
        connections.spawn(async move {
            let Some((io, router)) = opening.await else {
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(router);
            let builder =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            let connection = builder.serve_connection(io, service);
            tokio::select! {
                _ = connection => {}
                _ = tokio::time::sleep(lifetime) => {}
                _ = stop.changed() => {}
            }
            drop(permit);
        });
        while connections.try_join_next().is_some() {}
    }
    connections.abort_all();
}

/// Accept errors (a connection reset before accept, no file descriptor left) must not stop a
/// listener, nor spin it: wait a little longer after each one in a row.
#[derive(Debug, Default)]
struct Backoff(u32);

impl Backoff {
    async fn after_error(&mut self, what: &str, error: &std::io::Error) {
        self.0 = (self.0 + 1).min(6);
        if self.0 == 1 {
            tracing::warn!(listener = what, %error, "accept failed");
        }
        tokio::time::sleep(Duration::from_millis(10 << self.0)).await;
    }

    fn reset(&mut self) {
        self.0 = 0;
    }
}

/// Connections per client address, released when the session ends.
#[derive(Debug, Default)]
pub(crate) struct PerAddress {
    counts: std::sync::Mutex<std::collections::HashMap<IpAddr, usize>>,
}

/// A connection counted for its address.
#[derive(Debug)]
pub(crate) struct AddressSlot {
    table: Arc<PerAddress>,
    ip: IpAddr,
}

impl PerAddress {
    fn take(table: &Arc<PerAddress>, ip: IpAddr, max: usize) -> Option<AddressSlot> {
        let mut counts = table.counts.lock().unwrap_or_else(|p| p.into_inner());
        let n = counts.entry(ip).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(AddressSlot {
            table: table.clone(),
            ip,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut counts = self.table.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = counts.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// Tells a client it cannot be served now, in its protocol's words, then hangs up.
async fn refuse(mut stream: TcpStream, service: Service) {
    use tokio::io::AsyncWriteExt;
    let words: &[u8] = match service {
        Service::Smtp => b"421 4.7.0 Too many connections, try again later\r\n",
        Service::Imap => b"* BYE Too many connections, try again later\r\n",
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.write_all(words)).await;
}

async fn accept_loop(
    listener: TcpListener,
    service: Service,
    entry: EntryPoint,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(shared.limits.max_connections));
    let per_address = Arc::new(PerAddress::default());
    let mut sessions = JoinSet::new();
    let mut backoff = Backoff::default();
    let mut refusing = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(a) => {
                backoff.reset();
                a
            }
            Err(e) => {
                backoff
                    .after_error(&format!("{service} {entry:?}"), &e)
                    .await;
                continue;
            }
        };
        let permit = slots.clone().try_acquire_owned().ok();
        let slot = PerAddress::take(
            &per_address,
            peer.ip(),
            shared.limits.max_connections_per_address,
        );
        let (Some(permit), Some(slot)) = (permit, slot) else {
            tracing::debug!(?service, ?entry, %peer, "too many connections, refusing");
            // Bounded too: a flood of refusals must not pile up tasks.
            if refusing.len() < 64 {
                refusing.spawn(refuse(stream, service));
            }
            while refusing.try_join_next().is_some() {}
            continue;
        };
        let shared = shared.clone();
        let shutdown = shutdown.clone();
        sessions.spawn(async move {
            serve(stream, peer, service, entry, shared, shutdown).await;
            drop(slot);
            drop(permit);
        });
        // Reap finished sessions so the set does not grow without bound.
        while sessions.try_join_next().is_some() {}
        while refusing.try_join_next().is_some() {}
    }
    // Sessions see the same shutdown signal and close themselves.
    while sessions.join_next().await.is_some() {}
}

async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    service: Service,
    entry: EntryPoint,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let journal = ConnJournal::open(&shared.journal, service, entry, peer);
    let end = match service {
        Service::Smtp => smtp::session(stream, entry, &shared, &journal, shutdown).await,
        Service::Imap => imap::session(stream, entry, &shared, &journal, shutdown).await,
    };
    journal.record(EventKind::ConnectionClosed {
        by: end.by,
        reason: end.reason,
    });
}

/// What a patient does in Mon espace santé (driven by the harness).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MesAction {
    /// Opens (displays) a message: its read receipt goes, if it asked for one.
    Open {
        /// The patient's INS.
        ins: String,
        /// The message.
        message_id: String,
    },
    /// Replies to a message.
    Reply {
        /// The patient's INS.
        ins: String,
        /// The message replied to.
        message_id: String,
        /// The text.
        text: String,
    },
    /// Opens or closes the patient's space.
    State {
        /// The patient's INS.
        ins: String,
        /// The new state.
        state: crate::directory::MesState,
    },
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionEnd {
    pub by: ClosedBy,
    pub reason: Option<String>,
}

impl SessionEnd {
    pub(crate) fn client() -> Self {
        SessionEnd {
            by: ClosedBy::Client,
            reason: None,
        }
    }

    pub(crate) fn operator(reason: impl Into<String>) -> Self {
        SessionEnd {
            by: ClosedBy::Operator,
            reason: Some(reason.into()),
        }
    }
}
