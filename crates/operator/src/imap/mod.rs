//! IMAP (RFC 3501 IMAP4rev1) on the API LPS entry points, parsed and serialised with
//! `imap-codec`.
//!
//! ```text
//! S: * OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ...
//! C: a STARTTLS                 S: a OK Begin TLS negotiation now
//!    -- TLS --
//! C: b CAPABILITY               S: * CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR LOGINDISABLED
//! C: c AUTHENTICATE XOAUTH2 <b64>
//!                               S: c OK | + <b64 JSON error> / C: (empty) / S: c NO [AUTHENTICATIONFAILED]
//! C: d SELECT INBOX  e UID FETCH 1:* (FLAGS BODY.PEEK[])  f LOGOUT
//! ```
//!
//! Once authenticated: ENABLE, LIST/LSUB (RFC 6154 special uses), STATUS, SELECT/EXAMINE,
//! FETCH (`fetch.rs`, MIME structure in `mime.rs`), SEARCH (`search.rs`), STORE, APPEND, COPY,
//! MOVE (RFC 6851), EXPUNGE and UID EXPUNGE (RFC 4315 UIDPLUS codes), CLOSE/UNSELECT, IDLE
//! (RFC 2177), NOOP/CHECK (which report other sessions' changes), LOGOUT (`mailbox.rs` holds the
//! mailbox-level commands). CREATE/DELETE/RENAME are refused: every BAL has the same four
//! mailboxes. Other commands get a clear `BAD`.

use std::sync::Arc;

use imap_codec::fragmentizer::{FragmentInfo, Fragmentizer, LiteralAnnouncement};
use imap_codec::{
    AuthenticateDataCodec, CommandCodec, GreetingCodec, ResponseCodec, encode::Encoder,
};
use imap_types::IntoStatic;
use imap_types::auth::{AuthMechanism, AuthenticateData};
use imap_types::command::{Command, CommandBody};
use imap_types::core::{LiteralMode, Tag, Vec1};
use imap_types::mailbox::ListMailbox;
use imap_types::response::{
    Capability, Code, CodeOther, CommandContinuationRequest, Data, Greeting, Response, Status,
};
use imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;

mod fetch;
mod mailbox;
mod mime;
mod search;

use crate::auth::{self, Authenticated, Refusal};
use crate::conn::{Conn, Read, line_text};
use crate::journal::{
    AuthVerdict as Verdict, ClientCertificate, ConnJournal, EntryPoint, EventKind,
};
use crate::sasl;
use crate::server::{SessionEnd, Shared};
use crate::store::Snapshot;

/// Largest literal accepted in a command other than APPEND.
const MAX_COMMAND: u32 = 64 * 1024;
/// Largest message accepted by APPEND: the MES limit of 25 MB, as SMTP's SIZE (advertised as
/// RFC 7889 `APPENDLIMIT`).
pub(crate) const MAX_APPEND: u32 = 25 * 1024 * 1024;

/// The largest literal the command being read may carry: a whole message for APPEND.
fn literal_limit(command_so_far: &[u8]) -> u32 {
    let mut words = command_so_far.split(|&b| b == b' ');
    let _tag = words.next();
    match words.next() {
        Some(verb) if verb.eq_ignore_ascii_case(b"APPEND") => MAX_APPEND,
        _ => MAX_COMMAND,
    }
}
/// Largest line or literal a client may send before it is authenticated, as Dovecot and
/// Postfix bound theirs: an XOAUTH2 response with a Pro Santé Connect token fits many times.
const MAX_PRE_AUTH: u32 = 16 * 1024;

/// Errors tolerated before the operator hangs up.
const MAX_ERRORS: u32 = 20;

#[derive(Debug, Default)]
struct State {
    /// Commands answered on this connection (fault `close_after_commands`).
    commands: u32,
    auth: Option<Authenticated>,
    selected: Option<Selected>,
    client_certificate: Option<ClientCertificate>,
    errors: u32,
}

#[derive(Debug)]
struct Selected {
    /// Canonical name of the mailbox.
    mailbox: &'static str,
    read_only: bool,
    snapshot: Snapshot,
}

enum Step {
    StartTls,
    Close(SessionEnd),
}

/// What a read of one client message produced.
enum Message {
    Bytes(Vec<u8>),
    End(SessionEnd),
}

struct Session<'a, S> {
    conn: Conn<S>,
    frag: Fragmentizer,
    entry: EntryPoint,
    shared: &'a Arc<Shared>,
    journal: &'a ConnJournal,
    shutdown: watch::Receiver<bool>,
    /// Before authentication, lines and literals are capped at [`MAX_PRE_AUTH`].
    authenticated: bool,
}

/// Serves one IMAP connection.
pub(crate) async fn session(
    tcp: TcpStream,
    entry: EntryPoint,
    shared: &Arc<Shared>,
    journal: &ConnJournal,
    shutdown: watch::Receiver<bool>,
) -> SessionEnd {
    let mut state = State::default();
    let deadline = shared.session_deadline();
    let mut clear = Session {
        conn: Conn::with_command_timeout(tcp, false, shared.limits.command_timeout),
        frag: Fragmentizer::new(MAX_APPEND + MAX_COMMAND),
        entry,
        shared,
        journal,
        shutdown,
        authenticated: false,
    };
    clear.conn.deadline = deadline;
    clear.conn.ended = Some(shared.ended.subscribe());
    let greeting = match Greeting::ok(
        Some(Code::Capability(clear.capabilities(&state))),
        "Operateur fictif MSSante (harnais de conformite) pret",
    ) {
        Ok(g) => g,
        Err(e) => return SessionEnd::operator(format!("greeting: {e}")),
    };
    let bytes = GreetingCodec::default().encode(&greeting).dump();
    journal.reply(false, &line_text(&bytes));
    if let Err(e) = clear.conn.send(&bytes).await {
        return SessionEnd::operator(format!("écriture : {e}"));
    }
    match clear.run(&mut state).await {
        Step::Close(end) => return end,
        Step::StartTls => {}
    }
    let pending = clear.conn.buf.len() + bytes_after_current_message(&mut clear.frag);
    let Session {
        conn: Conn { stream, ended, .. },
        shutdown,
        ..
    } = clear;
    let handshake = match shared.starttls(stream, pending, entry, journal).await {
        Ok(h) => h,
        Err(end) => return end,
    };
    let mut state = State {
        client_certificate: handshake.client_certificate,
        commands: state.commands,
        ..State::default()
    };
    let mut tls = Session {
        conn: Conn::with_command_timeout(handshake.stream, true, shared.limits.command_timeout),
        frag: Fragmentizer::new(MAX_APPEND + MAX_COMMAND),
        entry,
        shared,
        journal,
        shutdown,
        authenticated: false,
    };
    tls.conn.deadline = deadline;
    tls.conn.ended = ended;
    match tls.run(&mut state).await {
        Step::Close(end) => end,
        Step::StartTls => SessionEnd::operator("STARTTLS répété"),
    }
}

/// How many bytes the fragmentizer holds beyond the message just decoded (the STARTTLS
/// command): what the client sent before the TLS handshake. Consumes them.
fn bytes_after_current_message(frag: &mut Fragmentizer) -> usize {
    let mut total = 0;
    let mut in_message = 0;
    while let Some(info) = frag.progress() {
        let n = frag.fragment_bytes(info).len();
        total += n;
        in_message += n;
        if frag.is_message_complete() {
            in_message = 0;
        }
    }
    // An unfinished line sits in the message buffer without a fragment yet.
    total + frag.message_bytes().len().saturating_sub(in_message)
}

/// What the journal shows of a command: credentials masked, literals summarised.
fn redact(bytes: &[u8], body: Option<&CommandBody<'_>>) -> (String, String) {
    let first = line_text(bytes.split(|&b| b == b'\n').next().unwrap_or_default());
    let mut words = first.split_whitespace();
    let tag = words.next().unwrap_or_default().to_owned();
    let verb = match body {
        Some(b) => b.name().to_owned(),
        None => words.next().unwrap_or_default().to_ascii_uppercase(),
    };
    let shown = match body {
        Some(CommandBody::Authenticate {
            mechanism,
            initial_response,
        }) => match initial_response {
            Some(ir) => format!(
                "{tag} AUTHENTICATE {mechanism} [réponse initiale masquée, {} octets]",
                ir.declassify().len()
            ),
            None => format!("{tag} AUTHENTICATE {mechanism}"),
        },
        Some(CommandBody::Login { .. }) => format!("{tag} LOGIN [identifiants masqués]"),
        _ if verb == "LOGIN" || verb == "AUTHENTICATE" => format!("{tag} {verb} [masqué]"),
        None if crate::sasl::looks_like_sasl(&first) => {
            // A SASL response sent when none was asked for (after a refusal): masked.
            return (
                String::new(),
                format!("[ligne base64 masquée, {} caractères]", first.trim().len()),
            );
        }
        _ => {
            let extra = bytes.len().saturating_sub(first.len() + 2);
            if extra > 0 {
                format!("{first} [+{extra} octets de littéraux]")
            } else {
                first
            }
        }
    };
    (verb, shown)
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<'_, S> {
    /// The largest literal the command being read may carry: a few kilobytes before
    /// authentication, a whole message for APPEND after it.
    fn literal_limit(&self) -> u32 {
        if self.authenticated {
            literal_limit(self.frag.message_bytes())
        } else {
            MAX_PRE_AUTH
        }
    }

    fn capabilities(&self, state: &State) -> Vec1<Capability<'static>> {
        let mut caps = vec![Capability::Imap4Rev1];
        if !self.conn.tls {
            if self.shared.tls_profile() != crate::tls::TlsProfile::NoStartTls {
                caps.push(Capability::StartTls);
            }
        } else if state.auth.is_none() {
            caps.push(Capability::Auth(match self.entry {
                EntryPoint::Psc => AuthMechanism::XOAuth2,
                EntryPoint::App => AuthMechanism::Plain,
            }));
            caps.push(Capability::SaslIr);
        }
        caps.push(Capability::LoginDisabled);
        if state.auth.is_some() {
            caps.extend([
                Capability::Enable,
                Capability::Idle,
                Capability::Move,
                Capability::UidPlus,
                Capability::from(imap_types::core::Atom::unvalidated("SPECIAL-USE")),
                Capability::from(imap_types::core::Atom::unvalidated("APPENDLIMIT=26214400")),
            ]);
        }
        caps.push(Capability::Unselect);
        Vec1::unvalidated(caps)
    }

    async fn write(&mut self, response: &Response<'_>, shown: Option<String>) -> bool {
        self.shared.reply_delay().await;
        let bytes = ResponseCodec::default().encode(response).dump();
        let text = shown.unwrap_or_else(|| line_text(&bytes));
        self.journal.reply(self.conn.tls, &text);
        self.conn.send(&bytes).await.is_ok()
    }

    async fn status(&mut self, status: Result<Status<'_>, impl std::fmt::Debug>) -> bool {
        match status {
            Ok(s) => self.write(&Response::Status(s), None).await,
            Err(e) => {
                tracing::error!(?e, "invalid status response");
                false
            }
        }
    }

    async fn ok(&mut self, tag: &Tag<'_>, code: Option<Code<'_>>, text: &str) -> bool {
        self.status(Status::ok(Some(tag.clone()), code, text)).await
    }

    async fn no(&mut self, tag: &Tag<'_>, code: Option<Code<'_>>, text: &str) -> bool {
        self.status(Status::no(Some(tag.clone()), code, text)).await
    }

    async fn bad(&mut self, tag: Option<&Tag<'_>>, text: &str) -> bool {
        self.status(Status::bad(tag.cloned(), None, text)).await
    }

    async fn data(&mut self, data: Data<'_>) -> bool {
        self.write(&Response::Data(data), None).await
    }

    /// Ends the session on an injected fault: `* BYE`, journaled.
    async fn fault_close(&mut self, why: &str) -> SessionEnd {
        let fault = format!("défaut injecté : fin de session par l'opérateur ({why})");
        self.journal.record(EventKind::FaultInjected {
            fault: fault.clone(),
        });
        if let Ok(bye) = Status::bye(None, "Session closed by the operator") {
            self.write(&Response::Status(bye), None).await;
        }
        SessionEnd::operator(fault)
    }

    /// Reads until the fragmentizer holds one complete message; answers synchronising literals.
    async fn next_message(&mut self) -> Message {
        loop {
            match self.frag.progress() {
                Some(FragmentInfo::Line {
                    announcement:
                        Some(LiteralAnnouncement {
                            mode: LiteralMode::Sync,
                            length,
                        }),
                    ..
                }) => {
                    if length <= self.literal_limit() {
                        // The literal may be a whole message: no command deadline for it.
                        self.conn
                            .transfer(true, Some(self.shared.limits.command_timeout));
                        let cont =
                            CommandContinuationRequest::basic(None, "Ready for literal data");
                        if let Ok(cont) = cont
                            && !self
                                .write(&Response::CommandContinuationRequest(cont), None)
                                .await
                        {
                            return Message::End(SessionEnd::operator("écriture impossible"));
                        }
                    } else {
                        let limit = self.literal_limit();
                        let tag = self.frag.decode_tag().map(IntoStatic::into_static);
                        let (verb, shown) = redact(self.frag.message_bytes(), None);
                        let shown = format!("{shown} [littéral de {length} octets refusé]");
                        self.journal.command(self.conn.tls, &verb, &shown);
                        self.frag.skip_message();
                        let written = if limit == MAX_APPEND {
                            // RFC 7889: a message over APPENDLIMIT gets NO [TOOBIG].
                            let code = Code::Other(CodeOther::unvalidated(&b"TOOBIG"[..]));
                            match &tag {
                                Some(tag) => {
                                    self.no(tag, Some(code), "Message larger than APPENDLIMIT")
                                        .await
                                }
                                None => self.bad(None, "Message larger than APPENDLIMIT").await,
                            }
                        } else {
                            self.bad(tag.as_ref(), "Literal too large").await
                        };
                        if !written {
                            return Message::End(SessionEnd::operator("écriture impossible"));
                        }
                    }
                }
                Some(_) => {
                    if self.frag.is_message_complete() {
                        self.conn
                            .transfer(false, Some(self.shared.limits.command_timeout));
                        self.conn.command_done();
                        return Message::Bytes(self.frag.message_bytes().to_vec());
                    }
                }
                None => {
                    // RFC 3501 §5.4: at least 30 minutes once authenticated (IDLE included).
                    let idle = if self.authenticated {
                        self.shared.limits.imap_idle_timeout
                    } else {
                        self.shared.limits.idle_timeout
                    };
                    match self.conn.fill(idle, &mut self.shutdown).await {
                        Read::Data => {
                            let bytes = std::mem::take(&mut self.conn.buf);
                            self.frag.enqueue_bytes(&bytes);
                            if !self.authenticated
                                && self.frag.message_bytes().len() > MAX_PRE_AUTH as usize
                            {
                                // A line that never ends, before authentication: refuse it
                                // and hang up rather than buffer it.
                                self.journal.command(
                                    self.conn.tls,
                                    "",
                                    &format!(
                                        "[ligne de plus de {MAX_PRE_AUTH} octets avant authentification, refusée]"
                                    ),
                                );
                                self.bad(None, "Line too long before authentication").await;
                                if let Ok(bye) = Status::bye(None, "Line too long") {
                                    self.write(&Response::Status(bye), None).await;
                                }
                                return Message::End(SessionEnd::operator(
                                    "ligne trop longue avant authentification",
                                ));
                            }
                        }
                        Read::Closed => return Message::End(SessionEnd::client()),
                        Read::Idle => {
                            if let Ok(bye) = Status::bye(None, "Idle timeout") {
                                self.write(&Response::Status(bye), None).await;
                            }
                            return Message::End(SessionEnd::operator(
                                "délai d'inactivité dépassé",
                            ));
                        }
                        Read::Shutdown => {
                            if let Ok(bye) = Status::bye(None, "Server shutting down") {
                                self.write(&Response::Status(bye), None).await;
                            }
                            return Message::End(SessionEnd::operator("arrêt de l'opérateur"));
                        }
                        Read::Deadline => {
                            return Message::End(
                                self.fault_close("durée de session écoulée").await,
                            );
                        }
                        Read::Ended => {
                            return Message::End(
                                self.fault_close("sessions en cours fermées par l'opérateur")
                                    .await,
                            );
                        }
                        Read::Slow => {
                            if let Ok(bye) = Status::bye(None, "Command not received in time") {
                                self.write(&Response::Status(bye), None).await;
                            }
                            return Message::End(SessionEnd::operator(
                                "commande reçue trop lentement (octet par octet ?)",
                            ));
                        }
                        Read::Failed(e) => {
                            return Message::End(SessionEnd::operator(format!("lecture : {e}")));
                        }
                    }
                }
            }
        }
    }

    async fn run(&mut self, state: &mut State) -> Step {
        loop {
            if state.errors >= MAX_ERRORS {
                if let Ok(bye) = Status::bye(None, "Too many errors") {
                    self.write(&Response::Status(bye), None).await;
                }
                return Step::Close(SessionEnd::operator("trop d'erreurs"));
            }
            let bytes = match self.next_message().await {
                Message::Bytes(b) => b,
                Message::End(end) => return Step::Close(end),
            };
            let decoded = self
                .frag
                .decode_message(&CommandCodec::default())
                .map(IntoStatic::into_static);
            let command = match decoded {
                Ok(command) => {
                    let (verb, shown) = redact(&bytes, Some(&command.body));
                    self.journal.command(self.conn.tls, &verb, &shown);
                    command
                }
                Err(_) => {
                    let (verb, shown) = redact(&bytes, None);
                    self.journal.command(self.conn.tls, &verb, &shown);
                    state.errors += 1;
                    let tag = self.frag.decode_tag().map(IntoStatic::into_static);
                    if !self
                        .bad(tag.as_ref(), "Syntax error: command not understood")
                        .await
                    {
                        return Step::Close(SessionEnd::operator("écriture impossible"));
                    }
                    continue;
                }
            };
            match self.handle(state, command).await {
                Ok(None) => {}
                Ok(Some(step)) => return step,
                Err(end) => return Step::Close(end),
            }
            state.commands += 1;
            if let Some(limit) = self.shared.faults().close_after_commands
                && state.commands >= limit
            {
                let why = format!("{limit} commandes traitées");
                return Step::Close(self.fault_close(&why).await);
            }
        }
    }

    async fn handle(
        &mut self,
        state: &mut State,
        command: Command<'static>,
    ) -> Result<Option<Step>, SessionEnd> {
        let write_failed = || SessionEnd::operator("écriture impossible");
        let tag = command.tag;
        let tls = self.conn.tls;
        let ok = match command.body {
            CommandBody::Capability => {
                let caps = self.capabilities(state);
                self.data(Data::Capability(caps)).await
                    && self.ok(&tag, None, "CAPABILITY completed").await
            }
            CommandBody::Noop | CommandBody::Check => {
                let verb = if matches!(command.body, CommandBody::Noop) {
                    "NOOP completed"
                } else {
                    "CHECK completed"
                };
                self.refresh(state).await && self.ok(&tag, None, verb).await
            }
            CommandBody::Logout => {
                if let Ok(bye) = Status::bye(None, "Logging out") {
                    self.write(&Response::Status(bye), None).await;
                }
                self.ok(&tag, None, "LOGOUT completed").await;
                return Ok(Some(Step::Close(SessionEnd::client())));
            }
            CommandBody::StartTLS if tls => self.bad(Some(&tag), "TLS already active").await,
            CommandBody::StartTLS
                if self.shared.tls_profile() == crate::tls::TlsProfile::NoStartTls =>
            {
                self.bad(Some(&tag), "STARTTLS is not available").await
            }
            CommandBody::StartTLS => {
                return if self.ok(&tag, None, "Begin TLS negotiation now").await {
                    Ok(Some(Step::StartTls))
                } else {
                    Err(write_failed())
                };
            }
            CommandBody::Login { .. } => {
                state.errors += 1;
                self.journal.record(EventKind::Auth {
                    service: self.journal.service(),
                    mechanism: "LOGIN".into(),
                    tls,
                    user: None,
                    format_ok: false,
                    retried_refused_token: false,
                    provoked: false,
                    pipelined: false,
                    authzid: None,
                    token: None,
                    verdict: Verdict::Refused,
                    reason: Some(
                        "commande LOGIN refusée (LOGINDISABLED) : l'API LPS impose AUTHENTICATE"
                            .into(),
                    ),
                });
                self.no(&tag, None, "LOGIN is disabled: use AUTHENTICATE")
                    .await
            }
            CommandBody::Authenticate {
                mechanism,
                initial_response,
            } => {
                return self
                    .authenticate(
                        state,
                        &tag,
                        &mechanism,
                        initial_response.map(|s| s.declassify().to_vec()),
                    )
                    .await
                    .map(|()| None);
            }
            _ if !tls || state.auth.is_none() => {
                state.errors += 1;
                let text = if tls {
                    "Authenticate first"
                } else {
                    "Must issue STARTTLS then AUTHENTICATE first"
                };
                self.no(&tag, None, text).await
            }
            CommandBody::List {
                mailbox_wildcard, ..
            } => {
                self.list(&tag, &list_pattern(&mailbox_wildcard), false)
                    .await
            }
            CommandBody::Lsub {
                mailbox_wildcard, ..
            } => {
                self.list(&tag, &list_pattern(&mailbox_wildcard), true)
                    .await
            }
            CommandBody::Status {
                mailbox,
                item_names,
            } => self.status_cmd(state, &tag, &mailbox, &item_names).await,
            CommandBody::Select { mailbox, .. } => self.select(state, &tag, &mailbox, false).await,
            CommandBody::Examine { mailbox, .. } => self.select(state, &tag, &mailbox, true).await,
            CommandBody::Enable { .. } => {
                // No extension here needs enabling: answer with the empty list (RFC 5161).
                self.data(Data::Enabled {
                    capabilities: Vec::new(),
                })
                .await
                    && self.ok(&tag, None, "ENABLE completed").await
            }
            CommandBody::Subscribe { .. } | CommandBody::Unsubscribe { .. } => {
                self.ok(
                    &tag,
                    None,
                    "Subscriptions are fixed: every mailbox is subscribed",
                )
                .await
            }
            CommandBody::Create { .. }
            | CommandBody::Delete { .. }
            | CommandBody::Rename { .. } => {
                self.no(
                    &tag,
                    Some(Code::Other(CodeOther::unvalidated(&b"CANNOT"[..]))),
                    "The mailboxes of a BAL are fixed (INBOX, Sent, Drafts, Trash)",
                )
                .await
            }
            CommandBody::Append {
                mailbox,
                flags,
                message,
                ..
            } => self.append(state, &tag, &mailbox, &flags, &message).await,
            CommandBody::Idle => {
                if state.selected.is_none() {
                    self.no(&tag, None, "No mailbox selected").await
                } else {
                    self.idle(state, &tag).await?
                }
            }
            _ if state.selected.is_none() => {
                state.errors += 1;
                self.no(&tag, None, "No mailbox selected").await
            }
            CommandBody::Close => {
                let read_write = state.selected.as_ref().is_some_and(|s| !s.read_only);
                let expunged = !read_write || self.expunge(state, None, true).await;
                state.selected = None;
                expunged && self.ok(&tag, None, "CLOSE completed").await
            }
            CommandBody::Unselect => {
                state.selected = None;
                self.ok(&tag, None, "UNSELECT completed").await
            }
            CommandBody::Expunge | CommandBody::ExpungeUid { .. }
                if state.selected.as_ref().is_some_and(|s| s.read_only) =>
            {
                self.no(&tag, None, "Mailbox is read-only (EXAMINE)").await
            }
            CommandBody::Expunge => {
                self.expunge(state, None, false).await
                    && self.ok(&tag, None, "EXPUNGE completed").await
            }
            CommandBody::ExpungeUid { sequence_set } => {
                let uids = state
                    .selected
                    .as_ref()
                    .map(|s| {
                        resolve(&sequence_set, &s.snapshot, true)
                            .into_iter()
                            .filter_map(|i| s.snapshot.messages.get(i).map(|m| m.uid))
                            .collect()
                    })
                    .unwrap_or_default();
                self.expunge(state, Some(&uids), false).await
                    && self.ok(&tag, None, "UID EXPUNGE completed").await
            }
            CommandBody::Store {
                sequence_set,
                kind,
                response,
                flags,
                uid,
                ..
            } => {
                let change = mailbox::FlagChange {
                    kind,
                    response,
                    flags: &flags,
                };
                self.store_cmd(state, &tag, &sequence_set, uid, change)
                    .await
            }
            CommandBody::Copy {
                sequence_set,
                mailbox,
                uid,
            } => {
                self.copy(state, &tag, &sequence_set, &mailbox, uid, false)
                    .await
            }
            CommandBody::Move {
                sequence_set,
                mailbox,
                uid,
            } => {
                self.copy(state, &tag, &sequence_set, &mailbox, uid, true)
                    .await
            }
            CommandBody::Search {
                charset,
                criteria,
                uid,
            } => self.search(state, &tag, charset, &criteria, uid).await,
            CommandBody::Fetch {
                sequence_set,
                macro_or_item_names,
                uid,
                ..
            } => {
                self.fetch(state, &tag, &sequence_set, macro_or_item_names, uid)
                    .await
            }
            other => {
                state.errors += 1;
                let text = format!("{} is not supported by this operator yet", other.name());
                self.bad(Some(&tag), &text).await
            }
        };
        if ok { Ok(None) } else { Err(write_failed()) }
    }

    async fn sasl_continuation(
        &mut self,
        cont: CommandContinuationRequest<'_>,
    ) -> Result<Option<Vec<u8>>, SessionEnd> {
        if !self
            .write(&Response::CommandContinuationRequest(cont), None)
            .await
        {
            return Err(SessionEnd::operator("écriture impossible"));
        }
        let bytes = match self.next_message().await {
            Message::Bytes(b) => b,
            Message::End(end) => return Err(end),
        };
        let text = line_text(&bytes);
        let decoded = self
            .frag
            .decode_message(&AuthenticateDataCodec::default())
            .map(IntoStatic::into_static);
        let shown = if text.is_empty() {
            "[réponse SASL vide]".to_owned()
        } else if text == "*" {
            "*".to_owned()
        } else {
            format!("[réponse SASL masquée, {} caractères]", text.len())
        };
        self.journal.command(self.conn.tls, "", &shown);
        match decoded {
            Ok(AuthenticateData::Continue(data)) => Ok(Some(data.declassify().to_vec())),
            Ok(AuthenticateData::Cancel) => Ok(None),
            Err(_) => Ok(Some(Vec::new())),
        }
    }

    async fn authenticate(
        &mut self,
        state: &mut State,
        tag: &Tag<'static>,
        mechanism: &AuthMechanism<'static>,
        initial: Option<Vec<u8>>,
    ) -> Result<(), SessionEnd> {
        let fail = |ok: bool| {
            if ok {
                Ok(())
            } else {
                Err(SessionEnd::operator("écriture impossible"))
            }
        };
        if !self.conn.tls {
            state.errors += 1;
            let code = Code::Other(CodeOther::unvalidated(&b"PRIVACYREQUIRED"[..]));
            let ok = self
                .no(tag, Some(code), "Must issue STARTTLS before AUTHENTICATE")
                .await;
            return fail(ok);
        }
        if state.auth.is_some() {
            let ok = self.bad(Some(tag), "Already authenticated").await;
            return fail(ok);
        }
        let expected = match self.entry {
            EntryPoint::Psc => AuthMechanism::XOAuth2,
            EntryPoint::App => AuthMechanism::Plain,
        };
        if *mechanism != expected {
            state.errors += 1;
            let ok = self
                .no(tag, None, "Unsupported authentication mechanism")
                .await;
            return fail(ok);
        }
        let raw = match initial {
            Some(raw) => raw,
            None => match self
                .sasl_continuation(CommandContinuationRequest::base64(&b""[..]))
                .await?
            {
                Some(raw) => raw,
                None => {
                    let ok = self.bad(Some(tag), "Authentication cancelled").await;
                    return fail(ok);
                }
            },
        };
        let attempt = match self.entry {
            EntryPoint::Psc => auth::xoauth2(self.shared, &raw),
            EntryPoint::App => {
                auth::plain_with_certificate(self.shared, state.client_certificate.as_ref(), &raw)
            }
        };
        self.journal
            .record(attempt.event(self.journal.service(), true, false));
        let failed = || Code::Other(CodeOther::unvalidated(&b"AUTHENTICATIONFAILED"[..]));
        let ok = match attempt.result {
            Ok(authenticated) => {
                state.auth = Some(authenticated);
                self.authenticated = true;
                let caps = self.capabilities(state);
                self.ok(tag, Some(Code::Capability(caps)), "Authenticated")
                    .await
            }
            Err(Refusal::Credentials(_)) if self.entry == EntryPoint::Psc => {
                state.errors += 1;
                let json = sasl::XOAUTH2_ERROR_JSON.as_bytes().to_vec();
                self.sasl_continuation(CommandContinuationRequest::base64(json))
                    .await?;
                self.no(tag, Some(failed()), "Invalid credentials").await
            }
            Err(_) => {
                state.errors += 1;
                self.no(tag, Some(failed()), "Invalid credentials").await
            }
        };
        fail(ok)
    }
}

fn list_pattern(wildcard: &ListMailbox<'_>) -> String {
    let bytes: &[u8] = match wildcard {
        ListMailbox::Token(t) => t.as_ref(),
        ListMailbox::String(s) => s.as_ref(),
    };
    String::from_utf8_lossy(bytes).into_owned()
}

/// A sequence set resolved against a mailbox: sorted, disjoint, inclusive ranges. Building it
/// costs O(r log r) for r ranges and a lookup O(log r), so a set of 400,000 ranges on a large
/// mailbox costs milliseconds, never ranges × messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Ranges(Vec<(u32, u32)>);

impl Ranges {
    /// The ranges of `set`, `*` standing for `largest`.
    pub(super) fn new(set: &SequenceSet, largest: u32) -> Self {
        let value = |s: &SeqOrUid| match s {
            SeqOrUid::Value(v) => v.get(),
            SeqOrUid::Asterisk => largest,
        };
        let mut ranges: Vec<(u32, u32)> = set
            .0
            .as_ref()
            .iter()
            .map(|seq| match seq {
                Sequence::Single(s) => (value(s), value(s)),
                Sequence::Range(a, b) => {
                    let (a, b) = (value(a), value(b));
                    (a.min(b), a.max(b))
                }
            })
            .collect();
        ranges.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        Ranges(merged)
    }

    /// Whether `n` is named.
    pub(super) fn contains(&self, n: u32) -> bool {
        let i = self.0.partition_point(|&(_, b)| b < n);
        self.0.get(i).is_some_and(|&(a, _)| a <= n)
    }
}

/// Whether a sequence set names `n` (`*` standing for `largest`). Checked range by range, never
/// expanded: `1:4294967295` costs no more than `1:2`.
#[cfg(test)]
pub(super) fn contains(set: &SequenceSet, n: u32, largest: u32) -> bool {
    Ranges::new(set, largest).contains(n)
}

/// Indexes (0-based), ascending, of the messages a sequence set names.
fn resolve(set: &SequenceSet, snapshot: &Snapshot, uid: bool) -> Vec<usize> {
    let messages = &snapshot.messages;
    if uid {
        let ranges = Ranges::new(set, messages.last().map_or(0, |m| m.uid));
        messages
            .iter()
            .enumerate()
            .filter(|(_, m)| ranges.contains(m.uid))
            .map(|(i, _)| i)
            .collect()
    } else {
        // Sequence numbers are 1..=len: walk the ranges, not the messages.
        let len = u32::try_from(messages.len()).unwrap_or(u32::MAX);
        let ranges = Ranges::new(set, len);
        ranges
            .0
            .iter()
            .filter(|&&(a, _)| a <= len)
            .flat_map(|&(a, b)| a.max(1)..=b.min(len))
            .map(|n| n as usize - 1)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_append_may_carry_a_whole_message() {
        assert_eq!(
            literal_limit(b"a1 APPEND Sent (\\Seen) {30000000}\r\n"),
            MAX_APPEND
        );
        assert_eq!(literal_limit(b"a1 append Sent {3}\r\n"), MAX_APPEND);
        assert_eq!(literal_limit(b"a1 SEARCH TEXT {100000}\r\n"), MAX_COMMAND);
        assert_eq!(literal_limit(b""), MAX_COMMAND);
        assert_eq!(MAX_APPEND, 26_214_400, "the APPENDLIMIT advertised");
    }

    #[test]
    fn huge_sequence_sets_are_not_expanded() {
        let set = SequenceSet::try_from("1:4294967295").expect("set");
        assert!(contains(&set, 7, 9));
        let set = SequenceSet::try_from("5:*").expect("set");
        assert!(
            contains(&set, 3, 3),
            "n:* includes the largest even when n > largest"
        );
        assert!(!contains(&set, 2, 3));
        let set = SequenceSet::try_from("2,4:3").expect("set");
        assert!(contains(&set, 3, 10) && !contains(&set, 1, 10));
        let set = SequenceSet::try_from("9:7,1,3,2,20:*,8").expect("set");
        assert_eq!(
            Ranges::new(&set, 15),
            Ranges(vec![(1, 3), (7, 9), (15, 20)])
        );
    }

    #[test]
    fn hundreds_of_thousands_of_ranges_resolve_in_linear_time() {
        // 400,000 disjoint ranges (the shape that used to cost seconds of CPU).
        let text: Vec<String> = (0..400_000u32).map(|i| format!("{}", i * 2 + 1)).collect();
        let set = SequenceSet::try_from(text.join(",").as_str()).expect("set");
        let snapshot = Snapshot {
            uid_validity: 1,
            uid_next: 10_001,
            version: 0,
            messages: (1..=10_000)
                .map(|uid| {
                    Arc::new(crate::store::Entry {
                        uid,
                        path: std::path::PathBuf::new(),
                        size: 0,
                        flags: Default::default(),
                        internal_date: time::OffsetDateTime::UNIX_EPOCH,
                        header: Default::default(),
                    })
                })
                .collect(),
        };
        let by_seq = resolve(&set, &snapshot, false);
        assert_eq!(by_seq.len(), 5_000);
        assert_eq!(by_seq[..3], [0, 2, 4]);
        assert_eq!(resolve(&set, &snapshot, true), by_seq);
        let all = SequenceSet::try_from("1:*").expect("set");
        assert_eq!(resolve(&all, &snapshot, false).len(), 10_000);
        let beyond = SequenceSet::try_from("20000:30000").expect("set");
        assert!(resolve(&beyond, &snapshot, false).is_empty());
    }

    #[test]
    fn credentials_are_masked() {
        let bytes = b"a1 AUTHENTICATE XOAUTH2 dXNlcj1h\r\n";
        let (verb, shown) = redact(bytes, None);
        assert_eq!(verb, "AUTHENTICATE");
        assert!(!shown.contains("dXNlcj1h"), "{shown}");
        let (_, shown) = redact(b"a2 LOGIN user secret\r\n", None);
        assert!(!shown.contains("secret"), "{shown}");
    }
}
