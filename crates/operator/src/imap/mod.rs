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
//! This stage serves INBOX with LIST/LSUB, SELECT/EXAMINE, FETCH (UID, FLAGS, RFC822.SIZE,
//! INTERNALDATE, BODY[]/BODY.PEEK[] with HEADER, TEXT, HEADER.FIELDS and partials, RFC822*),
//! CLOSE/UNSELECT, NOOP, LOGOUT; other commands get a clear `BAD`.

use std::collections::BTreeSet;
use std::num::NonZeroU32;
use std::sync::Arc;

use imap_codec::fragmentizer::{FragmentInfo, Fragmentizer, LiteralAnnouncement};
use imap_codec::{
    AuthenticateDataCodec, CommandCodec, GreetingCodec, ResponseCodec, encode::Encoder,
};
use imap_types::IntoStatic;
use imap_types::auth::{AuthMechanism, AuthenticateData};
use imap_types::command::{Command, CommandBody};
use imap_types::core::{LiteralMode, Tag, Vec1};
use imap_types::fetch::{Macro, MacroOrMessageDataItemNames, MessageDataItem, MessageDataItemName};
use imap_types::flag::{Flag as ImapFlag, FlagNameAttribute, FlagPerm};
use imap_types::mailbox::{ListMailbox, Mailbox};
use imap_types::response::{
    Capability, Code, CodeOther, CommandContinuationRequest, Data, Greeting, Response, Status,
};
use imap_types::sequence::SequenceSet;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;

mod fetch;

use fetch::{fetch_item, flags_of, supported};

use crate::auth::{self, Authenticated, Refusal};
use crate::conn::{Conn, Read, line_text};
use crate::journal::{ClientCertificate, ConnJournal, EntryPoint, EventKind, Verdict};
use crate::sasl;
use crate::server::{SessionEnd, Shared};
use crate::store::{Flag, Snapshot};

/// Largest command (with its literals) accepted.
const MAX_COMMAND: u32 = 64 * 1024;
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
        conn: Conn::new(tcp, false),
        frag: Fragmentizer::new(MAX_COMMAND),
        entry,
        shared,
        journal,
        shutdown,
    };
    clear.conn.deadline = deadline;
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
    let pending = clear.conn.buf.len() + clear.frag.message_bytes().len();
    let Session { conn, shutdown, .. } = clear;
    let handshake = match shared.starttls(conn.stream, pending, entry, journal).await {
        Ok(h) => h,
        Err(end) => return end,
    };
    let mut state = State {
        client_certificate: handshake.client_certificate,
        commands: state.commands,
        ..State::default()
    };
    let mut tls = Session {
        conn: Conn::new(handshake.stream, true),
        frag: Fragmentizer::new(MAX_COMMAND),
        entry,
        shared,
        journal,
        shutdown,
    };
    tls.conn.deadline = deadline;
    match tls.run(&mut state).await {
        Step::Close(end) => end,
        Step::StartTls => SessionEnd::operator("STARTTLS répété"),
    }
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
                    if length <= MAX_COMMAND {
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
                        let tag = self.frag.decode_tag().map(IntoStatic::into_static);
                        self.frag.skip_message();
                        if !self.bad(tag.as_ref(), "Literal too large").await {
                            return Message::End(SessionEnd::operator("écriture impossible"));
                        }
                    }
                }
                Some(_) => {
                    if self.frag.is_message_complete() {
                        return Message::Bytes(self.frag.message_bytes().to_vec());
                    }
                }
                None => {
                    let idle = self.shared.limits.idle_timeout;
                    match self.conn.fill(idle, &mut self.shutdown).await {
                        Read::Data => {
                            let bytes = std::mem::take(&mut self.conn.buf);
                            self.frag.enqueue_bytes(&bytes);
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
            CommandBody::Noop => self.ok(&tag, None, "NOOP completed").await,
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
                reference,
                mailbox_wildcard,
            }
            | CommandBody::Lsub {
                reference,
                mailbox_wildcard,
            } => {
                let _ = reference;
                let pattern = list_pattern(&mailbox_wildcard);
                let mut ok = true;
                if pattern.is_empty() {
                    ok = self
                        .data(Data::List {
                            items: vec![FlagNameAttribute::Noselect],
                            delimiter: Some(imap_types::core::QuotedChar::unvalidated('/')),
                            mailbox: Mailbox::try_from("").unwrap_or(Mailbox::Inbox),
                        })
                        .await;
                } else if matches_inbox(&pattern) {
                    ok = self
                        .data(Data::List {
                            items: vec![],
                            delimiter: Some(imap_types::core::QuotedChar::unvalidated('/')),
                            mailbox: Mailbox::Inbox,
                        })
                        .await;
                }
                ok && self.ok(&tag, None, "LIST completed").await
            }
            CommandBody::Select { mailbox, .. } => self.select(state, &tag, &mailbox, false).await,
            CommandBody::Examine { mailbox, .. } => self.select(state, &tag, &mailbox, true).await,
            CommandBody::Close | CommandBody::Unselect => {
                if state.selected.take().is_some() {
                    self.ok(&tag, None, "Mailbox closed").await
                } else {
                    self.no(&tag, None, "No mailbox selected").await
                }
            }
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
            .record(attempt.event(self.journal.service(), true));
        let failed = || Code::Other(CodeOther::unvalidated(&b"AUTHENTICATIONFAILED"[..]));
        let ok = match attempt.result {
            Ok(authenticated) => {
                state.auth = Some(authenticated);
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

    async fn select(
        &mut self,
        state: &mut State,
        tag: &Tag<'static>,
        mailbox: &Mailbox<'static>,
        read_only: bool,
    ) -> bool {
        state.selected = None;
        if *mailbox != Mailbox::Inbox {
            return self
                .no(
                    tag,
                    Some(Code::Other(CodeOther::unvalidated(&b"NONEXISTENT"[..]))),
                    "Only INBOX exists",
                )
                .await;
        }
        let Some(auth) = &state.auth else {
            return self.no(tag, None, "Authenticate first").await;
        };
        let snapshot = match self.shared.store.snapshot(&auth.bal, "INBOX") {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot read mailbox");
                return self.no(tag, None, "Mailbox unavailable").await;
            }
        };
        let exists = u32::try_from(snapshot.messages.len()).unwrap_or(u32::MAX);
        let flags = vec![
            ImapFlag::Answered,
            ImapFlag::Flagged,
            ImapFlag::Deleted,
            ImapFlag::Seen,
            ImapFlag::Draft,
        ];
        let perm = flags.iter().cloned().map(FlagPerm::Flag).collect();
        let mut ok = self.data(Data::Flags(flags)).await
            && self.data(Data::Exists(exists)).await
            && self.data(Data::Recent(0)).await;
        for (code, text) in [
            (Code::PermanentFlags(perm), "Limited"),
            (
                Code::uidvalidity(snapshot.uid_validity).unwrap_or(Code::ReadWrite),
                "UIDs valid",
            ),
            (
                Code::uidnext(snapshot.uid_next).unwrap_or(Code::ReadWrite),
                "Predicted next UID",
            ),
        ] {
            ok = ok && self.status(Status::ok(None, Some(code), text)).await;
        }
        state.selected = Some(Selected {
            read_only,
            snapshot,
        });
        let (code, text) = if read_only {
            (Code::ReadOnly, "EXAMINE completed")
        } else {
            (Code::ReadWrite, "SELECT completed")
        };
        ok && self.ok(tag, Some(code), text).await
    }

    async fn fetch(
        &mut self,
        state: &mut State,
        tag: &Tag<'static>,
        set: &SequenceSet,
        names: MacroOrMessageDataItemNames<'static>,
        uid: bool,
    ) -> bool {
        let Some(selected) = state.selected.as_mut() else {
            return self.no(tag, None, "No mailbox selected").await;
        };
        let mut names = match names {
            MacroOrMessageDataItemNames::Macro(Macro::Fast) => vec![
                MessageDataItemName::Flags,
                MessageDataItemName::InternalDate,
                MessageDataItemName::Rfc822Size,
            ],
            MacroOrMessageDataItemNames::Macro(other) => {
                let text = format!("FETCH {other:?} is not supported by this operator yet");
                return self.bad(Some(tag), &text).await;
            }
            MacroOrMessageDataItemNames::MessageDataItemNames(names) => names,
        };
        if let Some(unsupported) = names.iter().find(|n| !supported(n)) {
            let text = format!("FETCH {unsupported:?} is not supported by this operator yet");
            return self.bad(Some(tag), &text).await;
        }
        if uid && !names.contains(&MessageDataItemName::Uid) {
            names.insert(0, MessageDataItemName::Uid);
        }
        let targets = resolve(set, &selected.snapshot, uid);
        let Some(bal) = state.auth.as_ref().map(|a| a.bal.clone()) else {
            return self.no(tag, None, "Authenticate first").await;
        };
        for index in targets {
            let Some(entry) = selected.snapshot.messages.get(index).cloned() else {
                continue;
            };
            let content = match tokio::fs::read(&entry.path).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read message");
                    return self.no(tag, None, "Message unavailable").await;
                }
            };
            let mut entry = entry;
            let sets_seen = !selected.read_only
                && names.iter().any(|n| {
                    matches!(
                        n,
                        MessageDataItemName::BodyExt { peek: false, .. }
                            | MessageDataItemName::Rfc822
                            | MessageDataItemName::Rfc822Text
                    )
                });
            if sets_seen && !entry.flags.contains(&Flag::Seen) {
                let mut flags = entry.flags.clone();
                flags.insert(Flag::Seen);
                if let Ok(path) = self.shared.store.set_flags(&entry, &flags) {
                    entry.path = path;
                    entry.flags = flags;
                    selected.snapshot.messages[index] = entry.clone();
                }
            }
            let mut items = Vec::new();
            let mut shown = Vec::new();
            let mut body = false;
            for name in &names {
                if let Some((item, label, is_body)) = fetch_item(name, &entry, &content) {
                    items.push(item);
                    shown.push(label);
                    body |= is_body;
                }
            }
            if sets_seen && !names.contains(&MessageDataItemName::Flags) {
                items.push(MessageDataItem::Flags(flags_of(&entry.flags)));
                shown.push("FLAGS".to_owned());
            }
            let seq = NonZeroU32::new(u32::try_from(index + 1).unwrap_or(u32::MAX))
                .unwrap_or(NonZeroU32::MIN);
            let Ok(items) = Vec1::try_from(items) else {
                continue;
            };
            let line = format!("* {seq} FETCH ({})", shown.join(" "));
            if !self
                .write(&Response::Data(Data::Fetch { seq, items }), Some(line))
                .await
            {
                return false;
            }
            self.journal.record(EventKind::MessageFetched {
                bal: bal.clone(),
                uid: entry.uid,
                message_id: crate::smtp::header_value(&content, "Message-ID"),
                body,
            });
        }
        self.ok(tag, None, "FETCH completed").await
    }
}

fn list_pattern(wildcard: &ListMailbox<'_>) -> String {
    let bytes: &[u8] = match wildcard {
        ListMailbox::Token(t) => t.as_ref(),
        ListMailbox::String(s) => s.as_ref(),
    };
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether a LIST pattern matches "INBOX" (`*` and `%` match anything here: one level).
fn matches_inbox(pattern: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*' | b'%'), _) => go(&p[1..], s) || (!s.is_empty() && go(p, &s[1..])),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => go(&p[1..], &s[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), b"INBOX")
}

/// Indexes (0-based) of the messages a sequence set names.
fn resolve(set: &SequenceSet, snapshot: &Snapshot, uid: bool) -> Vec<usize> {
    let messages = &snapshot.messages;
    if messages.is_empty() {
        return Vec::new();
    }
    if uid {
        let largest = messages.last().map_or(1, |m| m.uid).max(1);
        let Some(largest) = NonZeroU32::new(largest) else {
            return Vec::new();
        };
        let wanted: BTreeSet<u32> = set.iter(largest).map(NonZeroU32::get).collect();
        messages
            .iter()
            .enumerate()
            .filter(|(_, m)| wanted.contains(&m.uid))
            .map(|(i, _)| i)
            .collect()
    } else {
        let Some(largest) = NonZeroU32::new(u32::try_from(messages.len()).unwrap_or(u32::MAX))
        else {
            return Vec::new();
        };
        set.iter(largest)
            .map(|n| n.get() as usize - 1)
            .filter(|&i| i < messages.len())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_patterns() {
        for p in ["*", "%", "INBOX", "inbox", "IN*", "*X"] {
            assert!(matches_inbox(p), "{p}");
        }
        for p in ["Sent", "INBOX/x", "X*"] {
            assert!(!matches_inbox(p), "{p}");
        }
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
