//! SMTP submission as the référentiel prescribes (ECO.1.0.1, ECO.1.2.1, ECO.1.3.1): EHLO,
//! STARTTLS, EHLO again inside TLS, AUTH (XOAUTH2 or PLAIN after the certificate), MAIL, RCPT,
//! DATA, QUIT. Replies are read with `smtp-proto`.

use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use smtp_proto::{EXT_START_TLS, EhloResponse};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use crate::account::{Account, Credentials, Defect, Defects};
use crate::compose::Composed;
use crate::error::ClientError;
use crate::revocation::Revocation;
use crate::{net, sasl};

/// Longest reply accepted.
const MAX_REPLY: usize = 64 * 1024;

struct Wire<S> {
    stream: S,
    buf: Vec<u8>,
    timeout: Duration,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Wire<S> {
    /// Reads one complete reply (all its lines).
    async fn reply(&mut self, step: &'static str) -> Result<String, ClientError> {
        loop {
            if let Some(end) = complete_reply(&self.buf) {
                let bytes: Vec<u8> = self.buf.drain(..end).collect();
                return Ok(String::from_utf8_lossy(&bytes).into_owned());
            }
            if self.buf.len() > MAX_REPLY {
                return Err(ClientError::Protocol {
                    step,
                    detail: "réponse trop longue".into(),
                });
            }
            self.buf.reserve(4096);
            match tokio::time::timeout(self.timeout, self.stream.read_buf(&mut self.buf)).await {
                Err(_) => return Err(ClientError::Timeout { step }),
                Ok(Err(source)) => return Err(ClientError::Io { step, source }),
                Ok(Ok(0)) => return Err(ClientError::Closed { step }),
                Ok(Ok(_)) => {}
            }
        }
    }

    async fn send(&mut self, step: &'static str, bytes: &[u8]) -> Result<(), ClientError> {
        net::write(&mut self.stream, bytes, self.timeout, step).await
    }

    /// Sends a command and expects a reply of the given class (2, 3).
    async fn command(
        &mut self,
        step: &'static str,
        line: &str,
        class: u8,
    ) -> Result<String, ClientError> {
        self.send(step, format!("{line}\r\n").as_bytes()).await?;
        let reply = self.reply(step).await?;
        if reply.as_bytes().first() == Some(&(b'0' + class)) {
            Ok(reply)
        } else {
            Err(ClientError::Unexpected {
                step,
                reply: reply.trim_end().to_owned(),
            })
        }
    }
}

/// Length of the first complete reply in `buf` (up to and including the last line's LF).
fn complete_reply(buf: &[u8]) -> Option<usize> {
    let mut start = 0;
    while let Some(pos) = buf[start..].iter().position(|&b| b == b'\n') {
        let line = &buf[start..start + pos + 1];
        let last = line.len() < 4 || line[3] != b'-';
        start += pos + 1;
        if last {
            return Some(start);
        }
    }
    None
}

fn parse_ehlo(step: &'static str, reply: &str) -> Result<EhloResponse<String>, ClientError> {
    EhloResponse::parse(&mut reply.as_bytes().iter()).map_err(|e| ClientError::Protocol {
        step,
        detail: format!("{e:?}"),
    })
}

/// Dot-stuffs a message and ends it with CRLF.CRLF.
fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    let mut at_line_start = true;
    for &b in message {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// The AUTH command line for the account's credentials.
fn auth_line(account: &Account, defects: &Defects) -> String {
    let xoauth2 = matches!(account.credentials, Credentials::Xoauth2 { .. });
    let user = sasl::sasl_user(&account.address, defects, xoauth2);
    match &account.credentials {
        Credentials::Xoauth2 { token } if defects.contains(&Defect::PlainInsteadOfXoauth2) => {
            format!(
                "AUTH PLAIN {}",
                sasl::base64(format!("\0{user}\0{}", token.0).as_bytes())
            )
        }
        Credentials::Xoauth2 { token } => {
            let raw = sasl::xoauth2(
                &user,
                &token.0,
                defects.contains(&Defect::Xoauth2BadSeparators),
            );
            format!("AUTH XOAUTH2 {}", sasl::base64(&raw))
        }
        Credentials::Certificate { .. } => {
            format!("AUTH PLAIN {}", sasl::base64(&sasl::plain(&user)))
        }
    }
}

/// Submits a composed message; returns the final reply of DATA.
/// Submits `message`; without one, a connection test: authenticates, then QUIT.
pub(crate) async fn submit(
    account: &Account,
    tls: Arc<ClientConfig>,
    defects: &Defects,
    message: Option<&Composed>,
    timeout: Duration,
    revocation: Option<&Revocation>,
) -> Result<String, ClientError> {
    let mail_from = message.map_or(account.address.as_str(), |m| m.mail_from.as_str());
    let late = defects.contains(&Defect::CredentialBeforeVerify);
    let tcp = net::connect(account.smtp.addr, timeout, "connexion SMTP").await?;
    let mut clear = Wire {
        stream: tcp,
        buf: Vec::new(),
        timeout,
    };
    let greeting = clear.reply("accueil SMTP").await?;
    if !greeting.starts_with("220") {
        return Err(ClientError::Unexpected {
            step: "accueil SMTP",
            reply: greeting.trim_end().to_owned(),
        });
    }
    let ehlo = clear.command("EHLO", "EHLO lps-de-reference", 2).await?;
    if defects.contains(&Defect::SmtpAuthInClear) {
        // The defect: credentials in clear; the reply is ignored and the client carries on.
        clear
            .send(
                "AUTH",
                format!("{}\r\n", auth_line(account, defects)).as_bytes(),
            )
            .await?;
        let _ = clear.reply("AUTH").await?;
    }
    if !parse_ehlo("EHLO", &ehlo)?.has_capability(EXT_START_TLS) {
        let _ = clear.command("QUIT", "QUIT", 2).await;
        return Err(ClientError::NoStartTls);
    }
    if defects.contains(&Defect::StarttlsPipelining) {
        // The defect: a command pipelined behind STARTTLS, before the handshake.
        clear.send("STARTTLS", b"STARTTLS\r\nNOOP\r\n").await?;
        let reply = clear.reply("STARTTLS").await?;
        if !reply.starts_with('2') {
            return Err(ClientError::Unexpected {
                step: "STARTTLS",
                reply: reply.trim_end().to_owned(),
            });
        }
    } else {
        clear.command("STARTTLS", "STARTTLS", 2).await?;
    }
    let stream = net::upgrade(
        clear.stream,
        tls,
        account,
        &account.smtp.host,
        defects,
        timeout,
        revocation.filter(|_| !late),
    )
    .await?;
    let mut wire = Wire {
        stream,
        buf: Vec::new(),
        timeout,
    };
    if !defects.contains(&Defect::NoEhloAfterTls) {
        wire.command("EHLO", "EHLO lps-de-reference", 2).await?;
    }
    if defects.contains(&Defect::CommandBeforeAuth) {
        // The defect: a transaction started before authenticating; the refusal is ignored.
        wire.send(
            "MAIL FROM",
            format!("MAIL FROM:<{mail_from}>\r\n").as_bytes(),
        )
        .await?;
        let _ = wire.reply("MAIL FROM").await?;
    }
    if defects.contains(&Defect::AuthPipelined) {
        // The defect: MAIL FROM in the same write as AUTH, without waiting for the validation.
        wire.send(
            "AUTH",
            format!(
                "{}\r\nMAIL FROM:<{mail_from}>\r\n",
                auth_line(account, defects)
            )
            .as_bytes(),
        )
        .await?;
        let reply = wire.reply("AUTH").await?;
        if !reply.starts_with("235") {
            return Err(ClientError::AuthRefused(reply.trim_end().to_owned()));
        }
        let mail = wire.reply("MAIL FROM").await?;
        if !mail.starts_with('2') {
            return Err(ClientError::Unexpected {
                step: "MAIL FROM",
                reply: mail.trim_end().to_owned(),
            });
        }
        let Some(message) = message else {
            let _ = wire.command("QUIT", "QUIT", 2).await;
            return Ok(reply.trim_end().to_owned());
        };
        for rcpt in &message.rcpt_to {
            wire.command("RCPT TO", &format!("RCPT TO:<{rcpt}>"), 2)
                .await?;
        }
        return finish(wire, message).await;
    }
    wire.send(
        "AUTH",
        format!("{}\r\n", auth_line(account, defects)).as_bytes(),
    )
    .await?;
    let reply = wire.reply("AUTH").await?;
    if reply.starts_with("334") {
        // XOAUTH2 error challenge: acknowledge it with an empty line, then read the refusal.
        wire.send("AUTH", b"\r\n").await?;
        let refusal = wire.reply("AUTH").await?;
        return Err(ClientError::AuthRefused(refusal.trim_end().to_owned()));
    }
    if !reply.starts_with("235") {
        return Err(ClientError::AuthRefused(reply.trim_end().to_owned()));
    }
    if late && let Some(revocation) = revocation {
        // The defect: the credential went first; the status is checked only now.
        net::check_revocation(&wire.stream, revocation, &account.smtp.host).await?;
    }
    let Some(message) = message else {
        let _ = wire.command("QUIT", "QUIT", 2).await;
        return Ok(reply.trim_end().to_owned());
    };
    wire.command("MAIL FROM", &format!("MAIL FROM:<{mail_from}>"), 2)
        .await?;
    for rcpt in &message.rcpt_to {
        wire.command("RCPT TO", &format!("RCPT TO:<{rcpt}>"), 2)
            .await?;
    }
    finish(wire, message).await
}

/// DATA, the message, QUIT.
async fn finish<S: AsyncRead + AsyncWrite + Unpin>(
    mut wire: Wire<S>,
    message: &Composed,
) -> Result<String, ClientError> {
    wire.command("DATA", "DATA", 3).await?;
    wire.send("DATA", &dot_stuff(&message.bytes)).await?;
    let done = wire.reply("fin de DATA").await?;
    if !done.starts_with('2') {
        return Err(ClientError::Unexpected {
            step: "fin de DATA",
            reply: done.trim_end().to_owned(),
        });
    }
    let _ = wire.command("QUIT", "QUIT", 2).await;
    Ok(done.trim_end().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_framed() {
        assert_eq!(complete_reply(b"250-a\r\n250 b\r\nX"), Some(14));
        assert_eq!(complete_reply(b"250-a\r\n250"), None);
        assert_eq!(complete_reply(b"220 ok\r\n"), Some(8));
    }

    #[test]
    fn dots_are_stuffed() {
        assert_eq!(dot_stuff(b".a\r\nb\r\n..c"), b"..a\r\nb\r\n...c\r\n.\r\n");
    }
}
