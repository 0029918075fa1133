//! IMAP synchronisation as the référentiel prescribes (ECO.1.0.2, ECO.1.2.1, ECO.1.3.1):
//! CAPABILITY, STARTTLS, CAPABILITY again, AUTHENTICATE (XOAUTH2 or PLAIN after the certificate),
//! SELECT INBOX, UID FETCH, LOGOUT. Commands are encoded and responses decoded with `imap-codec`.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use imap_codec::fragmentizer::Fragmentizer;
use imap_codec::{CommandCodec, GreetingCodec, ResponseCodec, encode::Encoder};
use imap_types::IntoStatic;
use imap_types::auth::AuthMechanism;
use imap_types::command::{Command, CommandBody};
use imap_types::core::Tag;
use imap_types::fetch::{MacroOrMessageDataItemNames, MessageDataItem, MessageDataItemName};
use imap_types::response::{
    Capability, Code, CommandContinuationRequest, Data, Response, Status, StatusKind,
};
use imap_types::sequence::SequenceSet;
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use crate::account::{Account, Credentials, Defect, Defects};
use crate::error::ClientError;
use crate::revocation::Revocation;
use crate::{net, sasl};

/// Largest server message accepted (a message body fits in one FETCH response).
const MAX_RESPONSE: u32 = 64 * 1024 * 1024;

/// A message read from the INBOX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedMessage {
    /// IMAP UID.
    pub uid: u32,
    /// The raw message.
    pub raw: Vec<u8>,
    /// Its `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// Its subject.
    pub subject: Option<String>,
}

struct Wire<S> {
    stream: S,
    frag: Fragmentizer,
    timeout: Duration,
    next_tag: u32,
    /// Bytes written right behind the next command, without waiting for its reply (defect).
    pipelined: Option<Vec<u8>>,
}

/// The result of one tagged command: untagged data and the final status.
struct Completed {
    data: Vec<Data<'static>>,
    kind: StatusKind,
    text: String,
    code: Option<Code<'static>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Wire<S> {
    fn new(stream: S, timeout: Duration) -> Self {
        Wire {
            stream,
            frag: Fragmentizer::new(MAX_RESPONSE),
            timeout,
            next_tag: 1,
            pipelined: None,
        }
    }

    /// Reads until one complete server message is in the fragmentizer.
    async fn next(&mut self, step: &'static str) -> Result<(), ClientError> {
        self.next_within(step, Some(self.timeout)).await
    }

    /// [`Wire::next`] with its own deadline (`None`: none, as in IDLE).
    async fn next_within(
        &mut self,
        step: &'static str,
        deadline: Option<Duration>,
    ) -> Result<(), ClientError> {
        let mut buf = Vec::with_capacity(16 * 1024);
        loop {
            if self.frag.progress().is_some() {
                if self.frag.is_message_complete() {
                    return Ok(());
                }
                continue;
            }
            buf.clear();
            let read = self.stream.read_buf(&mut buf);
            let read = match deadline {
                Some(d) => match tokio::time::timeout(d, read).await {
                    Err(_) => return Err(ClientError::Timeout { step }),
                    Ok(r) => r,
                },
                None => read.await,
            };
            match read {
                Err(source) => return Err(ClientError::Io { step, source }),
                Ok(0) => return Err(ClientError::Closed { step }),
                Ok(_) => self.frag.enqueue_bytes(&buf),
            }
        }
    }

    async fn greeting(&mut self) -> Result<Vec<Capability<'static>>, ClientError> {
        let step = "accueil IMAP";
        self.next(step).await?;
        let greeting = self
            .frag
            .decode_message(&GreetingCodec::default())
            .map_err(|e| ClientError::Protocol {
                step,
                detail: format!("{e:?}"),
            })?
            .into_static();
        Ok(match greeting.code {
            Some(Code::Capability(caps)) => caps.into_inner(),
            _ => Vec::new(),
        })
    }

    async fn write(&mut self, step: &'static str, bytes: &[u8]) -> Result<(), ClientError> {
        net::write(&mut self.stream, bytes, self.timeout, step).await
    }

    /// Runs one command; `on_continue` answers continuation requests with a line to send.
    async fn run(
        &mut self,
        step: &'static str,
        body: CommandBody<'_>,
        on_continue: &mut (dyn FnMut(&CommandContinuationRequest<'_>) -> Vec<u8> + Send),
    ) -> Result<Completed, ClientError> {
        let tag_text = format!("A{:04}", self.next_tag);
        self.next_tag += 1;
        let command = Command::new(tag_text.as_str(), body).map_err(|e| ClientError::Protocol {
            step,
            detail: format!("{e:?}"),
        })?;
        let mut bytes = CommandCodec::default().encode(&command).dump();
        if let Some(extra) = self.pipelined.take() {
            bytes.extend_from_slice(&extra);
        }
        self.write(step, &bytes).await?;
        let tag = Tag::try_from(tag_text.as_str()).map_err(|e| ClientError::Protocol {
            step,
            detail: format!("{e:?}"),
        })?;
        let mut data = Vec::new();
        loop {
            self.next(step).await?;
            let response = self
                .frag
                .decode_message(&ResponseCodec::default())
                .map_err(|e| ClientError::Protocol {
                    step,
                    detail: format!("{e:?}"),
                })?
                .into_static();
            match response {
                Response::Data(d) => data.push(d),
                Response::CommandContinuationRequest(cont) => {
                    let mut line = on_continue(&cont);
                    line.extend_from_slice(b"\r\n");
                    self.write(step, &line).await?;
                }
                Response::Status(Status::Tagged(tagged)) if tagged.tag == tag => {
                    return Ok(Completed {
                        data,
                        kind: tagged.body.kind,
                        text: tagged.body.text.to_string(),
                        code: tagged.body.code,
                    });
                }
                Response::Status(Status::Bye(bye)) => {
                    return Err(ClientError::Unexpected {
                        step,
                        reply: format!("* BYE {}", bye.text),
                    });
                }
                Response::Status(_) => {}
            }
        }
    }
}

fn capabilities(c: &Completed) -> Vec<Capability<'static>> {
    let mut caps = Vec::new();
    for d in &c.data {
        if let Data::Capability(list) = d {
            caps.extend(list.as_ref().iter().cloned());
        }
    }
    if let Some(Code::Capability(list)) = &c.code {
        caps.extend(list.as_ref().iter().cloned());
    }
    caps
}

fn expect_ok(step: &'static str, c: &Completed) -> Result<(), ClientError> {
    if c.kind == StatusKind::Ok {
        Ok(())
    } else {
        Err(ClientError::Unexpected {
            step,
            reply: format!("{:?} {}", c.kind, c.text),
        })
    }
}

fn no_continuation(_: &CommandContinuationRequest<'_>) -> Vec<u8> {
    // A continuation nobody asked for: cancel.
    b"*".to_vec()
}

/// Connects, reads the greeting and asks for the capabilities, in clear (before STARTTLS).
async fn open_clear(
    account: &Account,
    timeout: Duration,
) -> Result<(Wire<tokio::net::TcpStream>, Completed), ClientError> {
    let tcp = net::connect(account.imap.addr, timeout, "connexion IMAP").await?;
    let mut clear = Wire::new(tcp, timeout);
    clear.greeting().await?;
    let caps = clear
        .run("CAPABILITY", CommandBody::Capability, &mut no_continuation)
        .await?;
    Ok((clear, caps))
}

/// Opens the BAL's INBOX and reads every message.
pub(crate) async fn fetch_inbox(
    account: &Account,
    tls: Arc<ClientConfig>,
    defects: &Defects,
    timeout: Duration,
    revocation: Option<&Revocation>,
) -> Result<Vec<FetchedMessage>, ClientError> {
    let (mut clear, caps) = open_clear(account, timeout).await?;
    if defects.contains(&Defect::ImapWithoutStartTls) {
        // The defect: the whole session in clear.
        return session(clear, account, defects, None).await;
    }
    if !capabilities(&caps).contains(&Capability::StartTls) {
        return Err(ClientError::NoStartTls);
    }
    if defects.contains(&Defect::StarttlsPipelining) {
        // The defect: a command pipelined behind STARTTLS, before the handshake.
        clear.pipelined = Some(b"Z1 NOOP\r\n".to_vec());
    }
    let started = clear
        .run("STARTTLS", CommandBody::StartTLS, &mut no_continuation)
        .await?;
    expect_ok("STARTTLS", &started)?;
    let late = defects.contains(&Defect::CredentialBeforeVerify);
    let stream = net::upgrade(
        clear.stream,
        tls,
        account,
        &account.imap.host,
        defects,
        timeout,
        revocation.filter(|_| !late),
    )
    .await?;
    // The defect checks the status only once authenticated: keep what it needs.
    let late_check = match revocation {
        Some(r) if late => stream.peer_certificate().map(|c| (r, c)),
        _ => None,
    };
    let mut wire = Wire::new(stream, timeout);
    wire.next_tag = clear.next_tag;
    session(wire, account, defects, late_check).await
}

async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    mut wire: Wire<S>,
    account: &Account,
    defects: &Defects,
    late_check: Option<(&Revocation, rustls::pki_types::CertificateDer<'static>)>,
) -> Result<Vec<FetchedMessage>, ClientError> {
    authenticate(&mut wire, account, defects, late_check).await?;
    read_inbox(wire).await
}

/// CAPABILITY again, then AUTHENTICATE (XOAUTH2, or PLAIN after the certificate).
async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    wire: &mut Wire<S>,
    account: &Account,
    defects: &Defects,
    late_check: Option<(&Revocation, rustls::pki_types::CertificateDer<'static>)>,
) -> Result<(), ClientError> {
    // RFC 3501 §6.2.1: capabilities must be asked again after STARTTLS.
    let caps = wire
        .run("CAPABILITY", CommandBody::Capability, &mut no_continuation)
        .await?;
    let caps = capabilities(&caps);
    if defects.contains(&Defect::CommandBeforeAuth) {
        // The defect: the mailbox opened before authenticating; the refusal is ignored.
        let select = CommandBody::select("INBOX").map_err(|e| ClientError::Protocol {
            step: "SELECT",
            detail: format!("{e:?}"),
        })?;
        let _ = wire.run("SELECT", select, &mut no_continuation).await?;
    }
    let xoauth2 = matches!(account.credentials, Credentials::Xoauth2 { .. });
    let user = sasl::sasl_user(&account.address, defects, xoauth2);
    let (mechanism, raw) = match &account.credentials {
        Credentials::Xoauth2 { token } if defects.contains(&Defect::PlainInsteadOfXoauth2) => (
            AuthMechanism::Plain,
            format!("\0{user}\0{}", token.0).into_bytes(),
        ),
        Credentials::Xoauth2 { token } => (
            AuthMechanism::XOAuth2,
            sasl::xoauth2(
                &user,
                &token.0,
                defects.contains(&Defect::Xoauth2BadSeparators),
            ),
        ),
        Credentials::Certificate { .. } => (AuthMechanism::Plain, sasl::plain(&user)),
    };
    let sasl_ir = caps.contains(&Capability::SaslIr);
    let body = if sasl_ir {
        CommandBody::authenticate_with_ir(mechanism, raw.clone())
    } else {
        CommandBody::authenticate(mechanism)
    };
    let mut sent_response = sasl_ir;
    let mut on_continue = |_: &CommandContinuationRequest<'_>| {
        if sent_response {
            // An error challenge after our response: acknowledge it with an empty line.
            Vec::new()
        } else {
            sent_response = true;
            sasl::base64(&raw).into_bytes()
        }
    };
    let auth = wire.run("AUTHENTICATE", body, &mut on_continue).await?;
    if auth.kind != StatusKind::Ok {
        return Err(ClientError::AuthRefused(format!(
            "{:?} {}",
            auth.kind, auth.text
        )));
    }
    if let Some((revocation, ee)) = late_check {
        revocation.check(&ee, &account.imap.host).await?;
    }
    Ok(())
}

/// SELECT INBOX, every message, LOGOUT.
async fn read_inbox<S: AsyncRead + AsyncWrite + Unpin>(
    mut wire: Wire<S>,
) -> Result<Vec<FetchedMessage>, ClientError> {
    let select = CommandBody::select("INBOX").map_err(|e| ClientError::Protocol {
        step: "SELECT",
        detail: format!("{e:?}"),
    })?;
    let selected = wire.run("SELECT", select, &mut no_continuation).await?;
    expect_ok("SELECT", &selected)?;
    let exists = selected
        .data
        .iter()
        .find_map(|d| match d {
            Data::Exists(n) => Some(*n),
            _ => None,
        })
        .unwrap_or(0);

    let mut messages = Vec::new();
    if exists > 0 {
        let set = SequenceSet::try_from("1:*").map_err(|e| ClientError::Protocol {
            step: "FETCH",
            detail: format!("{e:?}"),
        })?;
        let items = MacroOrMessageDataItemNames::MessageDataItemNames(vec![
            MessageDataItemName::Uid,
            MessageDataItemName::Flags,
            MessageDataItemName::BodyExt {
                section: None,
                partial: None,
                peek: true,
            },
        ]);
        let fetch = CommandBody::Fetch {
            sequence_set: set,
            macro_or_item_names: items,
            uid: true,
        };
        let fetched = wire.run("UID FETCH", fetch, &mut no_continuation).await?;
        expect_ok("UID FETCH", &fetched)?;
        for d in fetched.data {
            let Data::Fetch { items, .. } = d else {
                continue;
            };
            let mut uid = None;
            let mut raw = None;
            for item in items.into_iter() {
                match item {
                    MessageDataItem::Uid(u) => uid = Some(NonZeroU32::get(u)),
                    MessageDataItem::BodyExt { data, .. } => {
                        raw = data.0.map(|s| s.as_ref().to_vec());
                    }
                    _ => {}
                }
            }
            if let (Some(uid), Some(raw)) = (uid, raw) {
                let parsed = mail_parser::MessageParser::default().parse_headers(&raw);
                let message_id = parsed
                    .as_ref()
                    .and_then(|m| m.message_id())
                    .map(str::to_owned);
                let subject = parsed.as_ref().and_then(|m| m.subject()).map(str::to_owned);
                messages.push(FetchedMessage {
                    uid,
                    message_id,
                    subject,
                    raw,
                });
            }
        }
    }
    let _ = wire
        .run("LOGOUT", CommandBody::Logout, &mut no_continuation)
        .await;
    Ok(messages)
}

/// How a held IMAP session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Held {
    /// The client ended it (LOGOUT sent), as asked.
    Ended,
    /// The server ended it (`* BYE`, or the connection closed): the reason.
    ByServer(String),
}

/// Keeps an authenticated IMAP session open in IDLE on the INBOX, as a desktop client does,
/// until `stop` turns true (then DONE, LOGOUT) or the server ends it. `ready` is told once the
/// session is authenticated and idling.
pub(crate) async fn hold(
    account: &Account,
    tls: Arc<ClientConfig>,
    defects: &Defects,
    timeout: Duration,
    revocation: Option<&Revocation>,
    stop: &mut tokio::sync::watch::Receiver<bool>,
    ready: &(dyn Fn() + Sync),
) -> Result<Held, ClientError> {
    let (mut clear, caps) = open_clear(account, timeout).await?;
    if !capabilities(&caps).contains(&Capability::StartTls) {
        return Err(ClientError::NoStartTls);
    }
    let started = clear
        .run("STARTTLS", CommandBody::StartTLS, &mut no_continuation)
        .await?;
    expect_ok("STARTTLS", &started)?;
    let stream = net::upgrade(
        clear.stream,
        tls,
        account,
        &account.imap.host,
        defects,
        timeout,
        revocation,
    )
    .await?;
    let mut wire = Wire::new(stream, timeout);
    wire.next_tag = clear.next_tag;
    authenticate(&mut wire, account, defects, None).await?;
    ready();
    let select = CommandBody::select("INBOX").map_err(|e| ClientError::Protocol {
        step: "SELECT",
        detail: format!("{e:?}"),
    })?;
    let selected = match wire.run("SELECT", select, &mut no_continuation).await {
        // The operator may end the session at any moment, SELECT included.
        Err(ClientError::Unexpected { reply, .. }) if reply.starts_with("* BYE") => {
            return Ok(Held::ByServer(reply));
        }
        Err(ClientError::Closed { .. }) => {
            return Ok(Held::ByServer("connexion fermée par le serveur".into()));
        }
        other => other?,
    };
    expect_ok("SELECT", &selected)?;
    loop {
        // IDLE until the server says something, then again (RFC 2177); DONE when asked to stop.
        let tag_text = format!("A{:04}", wire.next_tag);
        wire.next_tag += 1;
        let command = Command::new(tag_text.as_str(), CommandBody::Idle).map_err(|e| {
            ClientError::Protocol {
                step: "IDLE",
                detail: format!("{e:?}"),
            }
        })?;
        let bytes = CommandCodec::default().encode(&command).dump();
        wire.write("IDLE", &bytes).await?;
        let mut idling = false;
        let mut stopping = false;
        loop {
            if (stopping || *stop.borrow()) && idling {
                wire.write("DONE", b"DONE\r\n").await?;
                // The tagged answer to IDLE, then LOGOUT; the server may close first.
                let _ = wire.next("DONE").await;
                let _ = wire
                    .run("LOGOUT", CommandBody::Logout, &mut no_continuation)
                    .await;
                return Ok(Held::Ended);
            }
            let read = tokio::select! {
                r = wire.next_within("IDLE", if idling { None } else { Some(timeout) }) => r,
                changed = stop.changed(), if idling => {
                    // The owner gone counts as being asked to stop.
                    stopping |= changed.is_err();
                    continue;
                }
            };
            if let Err(e) = read {
                return match e {
                    ClientError::Closed { .. } => {
                        Ok(Held::ByServer("connexion fermée par le serveur".into()))
                    }
                    other => Err(other),
                };
            }
            let response = wire
                .frag
                .decode_message(&ResponseCodec::default())
                .map_err(|e| ClientError::Protocol {
                    step: "IDLE",
                    detail: format!("{e:?}"),
                })?
                .into_static();
            match response {
                Response::CommandContinuationRequest(_) => idling = true,
                Response::Status(Status::Bye(bye)) => {
                    return Ok(Held::ByServer(format!("* BYE {}", bye.text)));
                }
                Response::Status(Status::Tagged(t)) => {
                    if t.body.kind != StatusKind::Ok {
                        return Ok(Held::ByServer(format!("IDLE refusé : {}", t.body.text)));
                    }
                    break;
                }
                _ => {}
            }
        }
    }
}
