//! SMTP submission (RFC 5321, 3207, 4954, 6409) on the API LPS entry points.
//!
//! The session is a typed transition: it runs in clear until STARTTLS, then the TCP stream is
//! handed to the TLS layer and a new session loop runs inside TLS. Nothing read in clear after
//! STARTTLS survives the upgrade (it is journaled as an injection and dropped).
//!
//! ```text
//! S: 220 <host> ESMTP
//! C: EHLO lps            S: 250-... STARTTLS (no AUTH in clear)
//! C: STARTTLS            S: 220 2.0.0 Ready to start TLS
//!    -- TLS --
//! C: EHLO lps            S: 250-... AUTH XOAUTH2 (Pro Santé Connect) | AUTH PLAIN (application)
//! C: AUTH XOAUTH2 <b64>  S: 235 2.7.0 | 334 <b64 JSON error> / C: (empty) / S: 535 5.7.8
//! C: MAIL FROM:<bal>  RCPT TO:<...>  DATA ... .   S: 250 2.0.0 Ok: queued as <id>
//! ```

use std::sync::Arc;

use smtp_proto::request::receiver::DataReceiver;
use smtp_proto::{AUTH_PLAIN, AUTH_XOAUTH2, Request};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::auth::{self, Authenticated, Refusal};
use crate::conn::{Conn, Read, TooLong, line_text};
use crate::journal::{ClientCertificate, ConnJournal, EntryPoint, EventKind};
use crate::sasl;
use crate::server::{SessionEnd, Shared};

/// Longest command line accepted (AUTH lines carry a JWT of a few kilobytes).
const MAX_LINE: usize = 16 * 1024;
/// Errors tolerated before the operator hangs up.
const MAX_ERRORS: u32 = 20;

/// The replies of the session, in one place.
mod reply {
    pub const STARTTLS_READY: &str = "220 2.0.0 Ready to start TLS";
    pub const TLS_ALREADY: &str = "503 5.5.1 TLS already active";
    pub const TLS_REQUIRED: &str = "530 5.7.0 Must issue a STARTTLS command first";
    pub const AUTH_REQUIRED: &str = "530 5.7.0 Authentication required";
    pub const AUTH_ALREADY: &str = "503 5.5.1 Already authenticated";
    pub const AUTH_IN_TRANSACTION: &str = "503 5.5.1 AUTH not permitted during a mail transaction";
    pub const AUTH_OK: &str = "235 2.7.0 Authentication successful";
    pub const AUTH_INVALID: &str = "535 5.7.8 Authentication credentials invalid";
    pub const AUTH_CANCELLED: &str = "501 5.0.0 Authentication cancelled";
    pub const AUTH_BAD_BASE64: &str = "501 5.5.2 Invalid base64 in SASL response";
    pub const MECHANISM_UNSUPPORTED: &str = "504 5.5.4 Unrecognized authentication type";
    pub const CONTINUE: &str = "334 ";
    pub const NESTED_MAIL: &str = "503 5.5.1 Nested MAIL command";
    pub const NEED_MAIL: &str = "503 5.5.1 Need MAIL command";
    pub const NEED_RCPT: &str = "503 5.5.1 Need RCPT command";
    pub const SENDER_NOT_OWNED: &str = "553 5.7.1 Sender address is not the authenticated mailbox";
    pub const SENDER_OK: &str = "250 2.1.0 Ok";
    pub const RCPT_OK: &str = "250 2.1.5 Ok";
    pub const RCPT_UNKNOWN: &str = "550 5.1.1 Recipient address rejected: User unknown";
    pub const TOO_MANY_RCPT: &str = "452 4.5.3 Too many recipients";
    pub const TOO_BIG: &str = "552 5.3.4 Message size exceeds fixed maximum message size";
    pub const DATA_GO: &str = "354 Start mail input; end with <CRLF>.<CRLF>";
    pub const STORE_FAILED: &str = "451 4.3.0 Error: could not store the message";
    pub const OK: &str = "250 2.0.0 Ok";
    pub const BYE: &str = "221 2.0.0 Bye";
    pub const VRFY: &str = "252 2.5.2 Cannot VRFY user";
    pub const NOT_IMPLEMENTED: &str = "502 5.5.1 Command not implemented";
    pub const UNKNOWN_COMMAND: &str = "500 5.5.1 Unknown command";
    pub const LINE_TOO_LONG: &str = "500 5.5.6 Line too long";
    pub const TOO_MANY_ERRORS: &str = "421 4.7.0 Too many errors, closing connection";
    pub const IDLE: &str = "421 4.4.2 Idle timeout, closing connection";
    pub const FROM_NOT_OWNED: &str =
        "550 5.7.1 From header does not name the authenticated mailbox";
    pub const COMMAND_TIMEOUT: &str = "421 4.4.2 Command not received in time, closing connection";
    pub const SHUTDOWN: &str = "421 4.3.2 Service shutting down";
    pub const FAULT_CLOSE: &str = "421 4.4.2 Session closed by the operator";
    pub const FAULT_RCPT: &str = "550 5.1.1 Recipient address rejected: User unknown";
}

/// The session state that survives the TLS upgrade (RFC 3207 resets the rest).
#[derive(Debug, Default)]
struct State {
    /// Commands answered on this connection, in clear and in TLS (fault `close_after_commands`).
    commands: u32,
    helo: Option<String>,
    auth: Option<Authenticated>,
    tx: Option<Transaction>,
    client_certificate: Option<ClientCertificate>,
    errors: u32,
}

#[derive(Debug)]
struct Transaction {
    from: String,
    /// DSN: what to return (`RET`).
    ret: crate::dsn::Ret,
    /// DSN: envelope identifier (`ENVID`).
    envid: Option<String>,
    rcpts: Vec<Rcpt>,
}

#[derive(Debug)]
struct Rcpt {
    address: String,
    /// DSN `NOTIFY` flags (smtp-proto's `RCPT_NOTIFY_*`).
    notify: u64,
    /// DSN `ORCPT`, without its address type.
    orcpt: Option<String>,
}

enum Step {
    StartTls,
    Close(SessionEnd),
}

struct Ctx<'a> {
    entry: EntryPoint,
    shared: &'a Arc<Shared>,
    journal: &'a ConnJournal,
}

/// Serves one SMTP connection.
pub(crate) async fn session(
    tcp: TcpStream,
    entry: EntryPoint,
    shared: &Arc<Shared>,
    journal: &ConnJournal,
    mut shutdown: watch::Receiver<bool>,
) -> SessionEnd {
    let ctx = Ctx {
        entry,
        shared,
        journal,
    };
    let mut state = State::default();
    let deadline = shared.session_deadline();
    let mut clear = Conn::new(tcp, false);
    clear.command_timeout = Some(shared.limits.command_timeout);
    clear.deadline = deadline;
    clear.ended = Some(shared.ended.subscribe());
    let greeting = format!(
        "220 {} ESMTP Operateur fictif MSSante (harnais de conformite)",
        shared.host(entry)
    );
    if let Err(e) = send(&mut clear, &ctx, &greeting).await {
        return SessionEnd::operator(format!("écriture impossible : {e}"));
    }
    match run(&mut clear, &ctx, &mut state, &mut shutdown).await {
        Step::Close(end) => return end,
        Step::StartTls => {}
    }
    let pending = clear.buf.len();
    let handshake = match shared.starttls(clear.stream, pending, entry, journal).await {
        Ok(h) => h,
        Err(end) => return end,
    };
    // RFC 3207 §4.2: forget everything learnt in clear.
    state = State {
        client_certificate: handshake.client_certificate,
        commands: state.commands,
        ..State::default()
    };
    let mut tls = Conn::new(handshake.stream, true);
    tls.command_timeout = Some(shared.limits.command_timeout);
    tls.deadline = deadline;
    tls.ended = clear.ended.take();
    match run(&mut tls, &ctx, &mut state, &mut shutdown).await {
        Step::Close(end) => end,
        // STARTTLS inside TLS is answered with an error by `run`; it never returns this.
        Step::StartTls => SessionEnd::operator("STARTTLS répété"),
    }
}

async fn send<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    ctx: &Ctx<'_>,
    reply: &str,
) -> std::io::Result<()> {
    ctx.shared.reply_delay().await;
    ctx.journal.reply(conn.tls, reply);
    let mut bytes = reply.replace('\n', "\r\n").into_bytes();
    bytes.extend_from_slice(b"\r\n");
    conn.send(&bytes).await
}

/// Reads the next line, replying and closing on timeout, overflow or shutdown.
async fn next_line<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    ctx: &Ctx<'_>,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Result<Vec<u8>, TooLong>, SessionEnd> {
    loop {
        if let Some(line) = conn.take_line(MAX_LINE) {
            return Ok(line);
        }
        match conn.fill(ctx.shared.limits.idle_timeout, shutdown).await {
            Read::Data => {}
            Read::Closed => return Err(SessionEnd::client()),
            Read::Idle => {
                let _ = send(conn, ctx, reply::IDLE).await;
                return Err(SessionEnd::operator("délai d'inactivité dépassé"));
            }
            Read::Shutdown => {
                let _ = send(conn, ctx, reply::SHUTDOWN).await;
                return Err(SessionEnd::operator("arrêt de l'opérateur"));
            }
            Read::Deadline => return Err(fault_close(conn, ctx, "durée de session écoulée").await),
            Read::Ended => {
                return Err(
                    fault_close(conn, ctx, "sessions en cours fermées par l'opérateur").await,
                );
            }
            Read::Slow => {
                let _ = send(conn, ctx, reply::COMMAND_TIMEOUT).await;
                return Err(SessionEnd::operator(
                    "commande reçue trop lentement (octet par octet ?)",
                ));
            }
            Read::Failed(e) => return Err(SessionEnd::operator(format!("lecture : {e}"))),
        }
    }
}

/// Ends the session on an injected fault: `421`, journaled.
async fn fault_close<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    ctx: &Ctx<'_>,
    why: &str,
) -> SessionEnd {
    let fault = format!("défaut injecté : fin de session par l'opérateur ({why})");
    ctx.journal.record(EventKind::FaultInjected {
        fault: fault.clone(),
    });
    let _ = send(conn, ctx, reply::FAULT_CLOSE).await;
    SessionEnd::operator(fault)
}

/// What the journal shows of a command line: AUTH responses are masked.
fn redact(line: &str) -> (String, String) {
    let verb = line
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    if verb == "AUTH" {
        let mut parts = line.split_whitespace();
        let _ = parts.next();
        let mechanism = parts.next().unwrap_or_default();
        let shown = match parts.next() {
            Some(initial) => format!(
                "AUTH {mechanism} [réponse initiale masquée, {} caractères]",
                initial.len()
            ),
            None => format!("AUTH {mechanism}"),
        };
        return (verb, shown);
    }
    if crate::sasl::looks_like_sasl(line) {
        // Probably a SASL response sent after a refused AUTH: never journal credentials.
        return (
            String::new(),
            format!("[ligne base64 masquée, {} caractères]", line.trim().len()),
        );
    }
    (verb, line.to_owned())
}

fn ehlo_reply(ctx: &Ctx<'_>, tls: bool, state: &State) -> String {
    let host = ctx.shared.host(ctx.entry);
    let mut lines = vec![host.to_owned(), "PIPELINING".to_owned()];
    lines.push(format!("SIZE {}", ctx.shared.limits.max_message_size));
    lines.push("8BITMIME".to_owned());
    lines.push("ENHANCEDSTATUSCODES".to_owned());
    if tls {
        lines.push("SMTPUTF8".to_owned());
        lines.push("DSN".to_owned());
        if state.auth.is_none() {
            lines.push(
                match ctx.entry {
                    EntryPoint::Psc => "AUTH XOAUTH2",
                    EntryPoint::App => "AUTH PLAIN",
                }
                .to_owned(),
            );
        }
    } else if ctx.shared.tls_profile() != crate::tls::TlsProfile::NoStartTls {
        lines.push("STARTTLS".to_owned());
    }
    let last = lines.len() - 1;
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| format!("250{}{l}", if i == last { ' ' } else { '-' }))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn run<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    ctx: &Ctx<'_>,
    state: &mut State,
    shutdown: &mut watch::Receiver<bool>,
) -> Step {
    loop {
        if state.errors >= MAX_ERRORS {
            let _ = send(conn, ctx, reply::TOO_MANY_ERRORS).await;
            return Step::Close(SessionEnd::operator("trop d'erreurs"));
        }
        let line = match next_line(conn, ctx, shutdown).await {
            Ok(Ok(line)) => line,
            Ok(Err(TooLong)) => {
                state.errors += 1;
                ctx.journal
                    .command(conn.tls, "", "[ligne trop longue, ignorée]");
                if send(conn, ctx, reply::LINE_TOO_LONG).await.is_err() {
                    return Step::Close(SessionEnd::operator("écriture impossible"));
                }
                continue;
            }
            Err(end) => return Step::Close(end),
        };
        let text = line_text(&line);
        let (verb, shown) = redact(&text);
        ctx.journal.command(conn.tls, &verb, &shown);

        let outcome = match Request::parse(&mut line.iter()) {
            Ok(request) => handle(conn, ctx, state, shutdown, request).await,
            Err(e) => {
                state.errors += 1;
                let reply = match e {
                    smtp_proto::Error::UnknownCommand => reply::UNKNOWN_COMMAND.to_owned(),
                    smtp_proto::Error::SyntaxError { syntax } => {
                        format!("501 5.5.2 Syntax error, expected: {syntax}")
                    }
                    smtp_proto::Error::InvalidSenderAddress => {
                        "501 5.1.7 Invalid sender address".to_owned()
                    }
                    smtp_proto::Error::InvalidRecipientAddress => {
                        "501 5.1.3 Invalid recipient address".to_owned()
                    }
                    smtp_proto::Error::InvalidParameter { param } => {
                        format!("501 5.5.4 Invalid parameter: {param}")
                    }
                    smtp_proto::Error::UnsupportedParameter { param } => {
                        format!("555 5.5.4 Unsupported parameter: {param}")
                    }
                    _ => reply::UNKNOWN_COMMAND.to_owned(),
                };
                Flow::Reply(reply)
            }
        };
        let flow = match outcome {
            Flow::Reply(r) => send(conn, ctx, &r).await.map(|()| None),
            Flow::Then(r, step) => send(conn, ctx, &r).await.map(|()| Some(step)),
            Flow::Done(step) => Ok(Some(step)),
        };
        match flow {
            Ok(None) => {}
            Ok(Some(step)) => return step,
            Err(e) => return Step::Close(SessionEnd::operator(format!("écriture : {e}"))),
        }
        state.commands += 1;
        if let Some(limit) = ctx.shared.faults().close_after_commands
            && state.commands >= limit
        {
            let why = format!("{limit} commandes traitées");
            return Step::Close(fault_close(conn, ctx, &why).await);
        }
    }
}

enum Flow {
    /// Send this reply and go on.
    Reply(String),
    /// Send this reply, then take the step.
    Then(String, Step),
    /// The handler already replied; take the step.
    Done(Step),
}

async fn handle<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    ctx: &Ctx<'_>,
    state: &mut State,
    shutdown: &mut watch::Receiver<bool>,
    request: Request<std::borrow::Cow<'_, str>>,
) -> Flow {
    let tls = conn.tls;
    match request {
        Request::Ehlo { host } => {
            state.helo = Some(host.into_owned());
            state.tx = None;
            Flow::Reply(ehlo_reply(ctx, tls, state))
        }
        Request::Helo { host } => {
            state.helo = Some(host.into_owned());
            state.tx = None;
            Flow::Reply(format!("250 {}", ctx.shared.host(ctx.entry)))
        }
        Request::StartTls if tls => Flow::Reply(reply::TLS_ALREADY.into()),
        Request::StartTls if ctx.shared.tls_profile() == crate::tls::TlsProfile::NoStartTls => {
            Flow::Reply(reply::NOT_IMPLEMENTED.into())
        }
        Request::StartTls => Flow::Then(reply::STARTTLS_READY.into(), Step::StartTls),
        Request::Auth {
            mechanism,
            initial_response,
        } => {
            if !tls {
                state.errors += 1;
                return Flow::Reply(reply::TLS_REQUIRED.into());
            }
            if state.auth.is_some() {
                return Flow::Reply(reply::AUTH_ALREADY.into());
            }
            if state.tx.is_some() {
                return Flow::Reply(reply::AUTH_IN_TRANSACTION.into());
            }
            let expected = match ctx.entry {
                EntryPoint::Psc => AUTH_XOAUTH2,
                EntryPoint::App => AUTH_PLAIN,
            };
            if mechanism != expected {
                state.errors += 1;
                return Flow::Reply(reply::MECHANISM_UNSUPPORTED.into());
            }
            authenticate(conn, ctx, state, shutdown, initial_response.as_ref()).await
        }
        Request::Mail { from } => {
            if !tls {
                return Flow::Reply(reply::TLS_REQUIRED.into());
            }
            let Some(auth) = &state.auth else {
                return Flow::Reply(reply::AUTH_REQUIRED.into());
            };
            if state.tx.is_some() {
                return Flow::Reply(reply::NESTED_MAIL.into());
            }
            if !from.address.is_empty() && !from.address.eq_ignore_ascii_case(&auth.bal) {
                return Flow::Reply(reply::SENDER_NOT_OWNED.into());
            }
            if from.size as u64 > ctx.shared.limits.max_message_size {
                return Flow::Reply(reply::TOO_BIG.into());
            }
            state.tx = Some(Transaction {
                ret: if from.flags & smtp_proto::MAIL_RET_FULL != 0 {
                    crate::dsn::Ret::Full
                } else {
                    crate::dsn::Ret::Headers
                },
                envid: from.env_id.map(|e| e.into_owned()),
                from: from.address.into_owned(),
                rcpts: Vec::new(),
            });
            Flow::Reply(reply::SENDER_OK.into())
        }
        Request::Rcpt { to } => {
            let Some(tx) = &mut state.tx else {
                return Flow::Reply(reply::NEED_MAIL.into());
            };
            if tx.rcpts.len() >= ctx.shared.limits.max_recipients {
                return Flow::Reply(reply::TOO_MANY_RCPT.into());
            }
            let directory = &ctx.shared.directory;
            if directory.is_local(&to.address) && directory.bal(&to.address).is_none() {
                return Flow::Reply(reply::RCPT_UNKNOWN.into());
            }
            let refused = ctx.shared.faults().refused_recipients;
            if refused.iter().any(|r| r.eq_ignore_ascii_case(&to.address)) {
                ctx.journal.record(EventKind::FaultInjected {
                    fault: format!("défaut injecté : destinataire {} refusé", to.address),
                });
                return Flow::Reply(reply::FAULT_RCPT.into());
            }
            tx.rcpts.push(Rcpt {
                orcpt: to.orcpt.map(|o| {
                    let o = o.into_owned();
                    match o.split_once(';') {
                        Some((_, addr)) => addr.trim().to_owned(),
                        None => o,
                    }
                }),
                notify: to.flags,
                address: to.address.into_owned(),
            });
            Flow::Reply(reply::RCPT_OK.into())
        }
        Request::Data => {
            let ready = state.tx.as_ref().is_some_and(|tx| !tx.rcpts.is_empty());
            if !ready {
                return Flow::Reply(if state.tx.is_none() {
                    reply::NEED_MAIL.into()
                } else {
                    reply::NEED_RCPT.into()
                });
            }
            receive(conn, ctx, state, shutdown).await
        }
        Request::Rset => {
            state.tx = None;
            Flow::Reply(reply::OK.into())
        }
        Request::Noop { .. } => Flow::Reply(reply::OK.into()),
        Request::Quit => Flow::Then(reply::BYE.into(), Step::Close(SessionEnd::client())),
        Request::Vrfy { .. } => Flow::Reply(reply::VRFY.into()),
        _ => Flow::Reply(reply::NOT_IMPLEMENTED.into()),
    }
}

/// Reads one SASL line after a `334` challenge; `None` when the session ended.
async fn sasl_line<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    ctx: &Ctx<'_>,
    shutdown: &mut watch::Receiver<bool>,
    challenge: &str,
) -> Result<String, Flow> {
    if let Err(e) = send(conn, ctx, challenge).await {
        return Err(Flow::Done(Step::Close(SessionEnd::operator(format!(
            "écriture : {e}"
        )))));
    }
    match next_line(conn, ctx, shutdown).await {
        Ok(Ok(line)) => {
            let text = line_text(&line);
            let shown = if text.is_empty() {
                "[réponse SASL vide]".to_owned()
            } else if text == "*" {
                "*".to_owned()
            } else {
                format!("[réponse SASL masquée, {} caractères]", text.len())
            };
            ctx.journal.command(conn.tls, "", &shown);
            Ok(text)
        }
        Ok(Err(TooLong)) => Err(Flow::Reply(reply::LINE_TOO_LONG.into())),
        Err(end) => Err(Flow::Done(Step::Close(end))),
    }
}

async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    ctx: &Ctx<'_>,
    state: &mut State,
    shutdown: &mut watch::Receiver<bool>,
    initial: &str,
) -> Flow {
    let encoded = if initial.is_empty() {
        match sasl_line(conn, ctx, shutdown, reply::CONTINUE).await {
            Ok(line) => line,
            Err(flow) => return flow,
        }
    } else {
        initial.to_owned()
    };
    let raw = match sasl::decode_base64(&encoded) {
        Ok(raw) => raw,
        Err(sasl::SaslError::Cancelled) => return Flow::Reply(reply::AUTH_CANCELLED.into()),
        Err(_) => {
            state.errors += 1;
            return Flow::Reply(reply::AUTH_BAD_BASE64.into());
        }
    };
    let attempt = match ctx.entry {
        EntryPoint::Psc => auth::xoauth2(ctx.shared, &raw),
        EntryPoint::App => {
            auth::plain_with_certificate(ctx.shared, state.client_certificate.as_ref(), &raw)
        }
    };
    // Bytes already received past the SASL exchange: the client did not wait for the answer.
    let pipelined = !conn.buf.is_empty();
    ctx.journal
        .record(attempt.event(ctx.journal.service(), conn.tls, pipelined));
    match attempt.result {
        Ok(authenticated) => {
            state.auth = Some(authenticated);
            Flow::Reply(reply::AUTH_OK.into())
        }
        Err(Refusal::Credentials(_)) if ctx.entry == EntryPoint::Psc => {
            // Like real XOAUTH2 servers: the error as a JSON challenge, the client's empty
            // answer, then the final refusal.
            state.errors += 1;
            let challenge = format!(
                "334 {}",
                sasl::encode_base64(sasl::XOAUTH2_ERROR_JSON.as_bytes())
            );
            match sasl_line(conn, ctx, shutdown, &challenge).await {
                Ok(_) => Flow::Reply(reply::AUTH_INVALID.into()),
                Err(flow) => flow,
            }
        }
        Err(_) => {
            state.errors += 1;
            Flow::Reply(reply::AUTH_INVALID.into())
        }
    }
}

/// DATA: the message body, without the command deadline (25 MB may take a while).
async fn receive<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    ctx: &Ctx<'_>,
    state: &mut State,
    shutdown: &mut watch::Receiver<bool>,
) -> Flow {
    let timeout = Some(ctx.shared.limits.command_timeout);
    conn.transfer(true, timeout);
    let flow = receive_body(conn, ctx, state, shutdown).await;
    conn.transfer(false, timeout);
    flow
}

async fn receive_body<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    ctx: &Ctx<'_>,
    state: &mut State,
    shutdown: &mut watch::Receiver<bool>,
) -> Flow {
    let Some(tx) = state.tx.take() else {
        return Flow::Reply(reply::NEED_MAIL.into());
    };
    if let Err(e) = send(conn, ctx, reply::DATA_GO).await {
        return Flow::Done(Step::Close(SessionEnd::operator(format!("écriture : {e}"))));
    }
    let limits = ctx.shared.limits;
    let mut spool = Some(ctx.shared.store.spool());
    // The header block, for the journal and the From: policy (bounded).
    let mut head: Vec<u8> = Vec::new();
    let mut head_done = false;
    let mut receiver = DataReceiver::new();
    let mut chunk = Vec::with_capacity(64 * 1024);
    let mut size: u64 = 0;
    let mut too_big = false;
    loop {
        let mut bytes = conn.buf.iter();
        let done = receiver.ingest(&mut bytes, &mut chunk);
        let consumed = conn.buf.len() - bytes.as_slice().len();
        conn.buf.drain(..consumed);
        size += chunk.len() as u64;
        if !head_done {
            let from = head.len().saturating_sub(3);
            head.extend_from_slice(&chunk[..chunk.len().min(MAX_HEAD - head.len())]);
            if let Some(end) = head[from..].windows(4).position(|w| w == b"\r\n\r\n") {
                head.truncate(from + end + 4);
                head_done = true;
            } else if head.len() >= MAX_HEAD {
                head_done = true;
            }
        }
        if size > limits.max_message_size {
            too_big = true;
            spool = None;
        }
        if let Some(file) = spool.as_mut()
            && let Err(e) = file.write(&chunk).await
        {
            tracing::error!(error = %e, "cannot write spool file");
            spool = None;
        }
        chunk.clear();
        if done {
            break;
        }
        match conn.fill(limits.idle_timeout, shutdown).await {
            Read::Data => {}
            // No command deadline while the message is transferred.
            Read::Slow => {}
            Read::Closed => {
                return Flow::Done(Step::Close(SessionEnd::operator(
                    "connexion fermée pendant DATA : message abandonné",
                )));
            }
            Read::Idle => {
                let _ = send(conn, ctx, reply::IDLE).await;
                return Flow::Done(Step::Close(SessionEnd::operator(
                    "délai d'inactivité dépassé pendant DATA",
                )));
            }
            Read::Shutdown => {
                let _ = send(conn, ctx, reply::SHUTDOWN).await;
                return Flow::Done(Step::Close(SessionEnd::operator("arrêt de l'opérateur")));
            }
            Read::Deadline => {
                return Flow::Done(Step::Close(
                    fault_close(conn, ctx, "durée de session écoulée pendant DATA").await,
                ));
            }
            Read::Ended => {
                return Flow::Done(Step::Close(
                    fault_close(conn, ctx, "sessions fermées par l'opérateur pendant DATA").await,
                ));
            }
            Read::Failed(e) => {
                return Flow::Done(Step::Close(SessionEnd::operator(format!(
                    "lecture pendant DATA : {e}"
                ))));
            }
        }
    }
    ctx.journal.command(
        conn.tls,
        "",
        &format!("[contenu du message, {size} octets]"),
    );
    if too_big {
        return Flow::Reply(reply::TOO_BIG.into());
    }
    let Some(spool) = spool else {
        return Flow::Reply(reply::STORE_FAILED.into());
    };
    let path = match spool.commit().await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "cannot commit spool file");
            return Flow::Reply(reply::STORE_FAILED.into());
        }
    };
    if let Some(bal) = state.auth.as_ref().map(|a| a.bal.clone())
        && let Some(reason) = from_mismatch(&head, &bal)
    {
        // Evidence either way; refused like a real operator unless the policy is off.
        let refused = ctx.shared.policy.from_must_be_authenticated_bal;
        ctx.journal.record(EventKind::FromNotOwned {
            mail_from: tx.from.clone(),
            from_header: header_value(&head, "From"),
            reason,
            refused,
        });
        if refused {
            let _ = tokio::fs::remove_file(&path).await;
            return Flow::Reply(reply::FROM_NOT_OWNED.into());
        }
    }
    let directory = &ctx.shared.directory;
    let mut delivered = Vec::new();
    let local: Vec<String> = tx
        .rcpts
        .iter()
        .filter_map(|r| directory.bal(&r.address).map(|b| b.address.clone()))
        .collect();
    // Copies and fsyncs on the blocking pool, one trip for every recipient.
    let source = path.clone();
    let outcome = ctx
        .shared
        .store
        .blocking(move |s| {
            Ok(local
                .into_iter()
                .map(|bal| {
                    let result = s.deliver(&bal, &source);
                    (bal, result)
                })
                .collect::<Vec<_>>())
        })
        .await
        .unwrap_or_default();
    for (bal, result) in outcome {
        match result {
            Ok(_) => delivered.push(bal),
            Err(e) => tracing::error!(error = %e, bal = %bal, "delivery failed"),
        }
    }
    let id = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    send_success_dsn(ctx, &tx, &path).await;
    to_patients(ctx, &tx, &path).await;
    ctx.journal.record(EventKind::MessageAccepted {
        mail_from: tx.from,
        rcpt_to: tx.rcpts.into_iter().map(|r| r.address).collect(),
        size,
        message_id: header_value(&head, "Message-ID"),
        subject: header_value(&head, "Subject"),
        path: path.display().to_string(),
        delivered_to: delivered,
    });
    Flow::Reply(format!("250 2.0.0 Ok: queued as {id}"))
}

/// Why a message's `From:` names other mailboxes than the authenticated BAL, if it does.
fn from_mismatch(head: &[u8], bal: &str) -> Option<String> {
    let parsed = mail_parser::MessageParser::default().parse_headers(head);
    let from: Vec<String> = parsed
        .as_ref()
        .and_then(|m| m.from())
        .map(|f| {
            f.iter()
                .filter_map(|a| a.address().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    // A missing or unreadable From: is the message rules' business (ECO.2.x), not a claim to
    // write on behalf of someone else.
    if from.is_empty() || from.iter().any(|a| a.eq_ignore_ascii_case(bal)) {
        None
    } else {
        Some(format!(
            "l'entête From nomme {} au lieu de la BAL authentifiée {bal}",
            from.join(", ")
        ))
    }
}

/// Sends the success report a sender asked for with `NOTIFY=SUCCESS` (RFC 3461) into its BAL.
async fn send_success_dsn(ctx: &Ctx<'_>, tx: &Transaction, stored: &std::path::Path) {
    let wanted: Vec<&Rcpt> = tx
        .rcpts
        .iter()
        .filter(|r| r.notify & smtp_proto::RCPT_NOTIFY_SUCCESS != 0)
        .collect();
    let directory = &ctx.shared.directory;
    let Some(sender) = directory.bal(&tx.from) else {
        // Null or foreign sender: nowhere to report to.
        return;
    };
    if wanted.is_empty() {
        return;
    }
    let Ok(original) = tokio::fs::read(stored).await else {
        return;
    };
    let recipients = wanted
        .iter()
        .map(|r| crate::dsn::Recipient {
            address: r.address.clone(),
            original: r.orcpt.clone(),
            action: if directory.is_local(&r.address) {
                "delivered"
            } else {
                "relayed"
            },
        })
        .collect::<Vec<_>>();
    let report = crate::dsn::success_report(&crate::dsn::Report {
        reporting_mta: ctx.shared.host(ctx.entry),
        domain: &directory.operator.domain,
        to: &sender.address,
        envid: tx.envid.as_deref(),
        ret: tx.ret,
        recipients: recipients.clone(),
        original: &original,
    });
    let owner = sender.address.clone();
    if ctx
        .shared
        .store
        .blocking(move |s| s.inject(&owner, &report))
        .await
        .is_ok()
    {
        ctx.journal.record(EventKind::DsnSent {
            to: sender.address.clone(),
            recipients: recipients.into_iter().map(|r| r.address).collect(),
        });
    }
}

/// Hands the message to Mon espace santé for each patient recipient; what it sends back
/// (bounce, report, automatic answer) goes into the sender's BAL.
async fn to_patients(ctx: &Ctx<'_>, tx: &Transaction, stored: &std::path::Path) {
    let patients: Vec<&Rcpt> = tx
        .rcpts
        .iter()
        .filter(|r| crate::mes::Mes::is_patient(&r.address))
        .collect();
    if patients.is_empty() {
        return;
    }
    let Ok(message) = tokio::fs::read(stored).await else {
        return;
    };
    let subject = header_value(&message, "Subject");
    for rcpt in patients {
        let (outcome, back) = ctx.shared.mes.receive(&crate::mes::Incoming {
            sender: &tx.from,
            recipient: &rcpt.address,
            message: &message,
        });
        let mut answered = false;
        if let Some(back) = back
            && ctx.shared.directory.bal(&tx.from).is_some()
        {
            let owner = tx.from.clone();
            answered = ctx
                .shared
                .store
                .blocking(move |s| s.inject(&owner, &back))
                .await
                .is_ok();
        }
        ctx.journal.record(EventKind::MesReceived {
            from: tx.from.clone(),
            to: rcpt.address.clone(),
            subject: subject.clone(),
            outcome: outcome.describe(),
            answered,
        });
    }
}

/// The largest header block kept for the journal and the `From:` policy.
const MAX_HEAD: usize = 256 * 1024;

/// The decoded value of a header of a raw message, if present.
pub(crate) fn header_value(message: &[u8], name: &str) -> Option<String> {
    let parsed = mail_parser::MessageParser::default().parse_headers(message)?;
    match name {
        "Message-ID" => parsed.message_id().map(str::to_owned),
        "Subject" => parsed.subject().map(str::to_owned),
        other => parsed.header_raw(other).map(|v| v.trim().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_lines_are_masked() {
        let (verb, shown) = redact("AUTH XOAUTH2 dXNlcj1hQGIBYXV0aD1CZWFyZXIgdAEB");
        assert_eq!(verb, "AUTH");
        assert!(!shown.contains("dXNlcj1"), "{shown}");
        assert!(shown.starts_with("AUTH XOAUTH2 [réponse initiale masquée"));
        assert_eq!(redact("auth plain").1, "AUTH plain");
        assert_eq!(redact("MAIL FROM:<a@b>").1, "MAIL FROM:<a@b>");
    }

    #[test]
    fn header_values_are_read() {
        let m =
            b"Message-ID: <abc@x>\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nX-MSS-NIL: DEV1\r\n\r\nbody";
        assert_eq!(header_value(m, "Message-ID").as_deref(), Some("abc@x"));
        assert_eq!(header_value(m, "Subject").as_deref(), Some("café"));
        assert_eq!(header_value(m, "X-MSS-NIL").as_deref(), Some("DEV1"));
        assert_eq!(header_value(m, "To"), None);
    }
}
