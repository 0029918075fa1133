//! Buffered reading and writing of one connection, with the idle timeout and the shutdown
//! signal folded in. Used by both protocols, in clear and inside TLS.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

/// What a read produced.
#[derive(Debug)]
pub(crate) enum Read {
    /// Bytes were appended to the buffer.
    Data,
    /// The client closed the connection.
    Closed,
    /// The client stayed silent longer than the idle timeout.
    Idle,
    /// The operator is shutting down.
    Shutdown,
    /// The session reached the end the operator set for it (injected fault).
    Deadline,
    /// The operator ended every session (a scenario changed its TLS profile, or asked for it).
    Ended,
    /// A command started arriving and did not complete within the command timeout (a client
    /// trickling bytes to hold the connection).
    Slow,
    /// The connection failed.
    Failed(io::Error),
}

/// A line longer than the limit.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TooLong;

/// One connection: its stream, the bytes read but not consumed, and whether it is in TLS.
#[derive(Debug)]
pub(crate) struct Conn<S> {
    pub stream: S,
    pub buf: Vec<u8>,
    pub tls: bool,
    /// The rest of an overlong line is still arriving: drop it up to its end.
    skipping: bool,
    /// When the operator ends the session whatever happens (injected fault).
    pub deadline: Option<tokio::time::Instant>,
    /// How long a command may take to arrive once its first byte did (`None`: no limit, as
    /// while a message body is transferred).
    pub command_timeout: Option<Duration>,
    /// When the command being received started to arrive.
    pending_since: Option<tokio::time::Instant>,
    /// Wakes when the operator ends every session (`OperatorHandle::end_sessions`).
    pub ended: Option<watch::Receiver<u64>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    pub fn new(stream: S, tls: bool) -> Self {
        Conn {
            stream,
            buf: Vec::with_capacity(8192),
            tls,
            skipping: false,
            deadline: None,
            command_timeout: None,
            pending_since: None,
            ended: None,
        }
    }

    /// A connection whose commands must each arrive within `timeout` of their first byte.
    pub fn with_command_timeout(stream: S, tls: bool, timeout: Duration) -> Self {
        let mut conn = Conn::new(stream, tls);
        conn.command_timeout = Some(timeout);
        conn
    }

    /// A command was taken whole: the next one's clock starts with its first byte (or now,
    /// when bytes of it are already buffered).
    pub fn command_done(&mut self) {
        self.pending_since = (!self.buf.is_empty()).then(tokio::time::Instant::now);
    }

    /// Suspends the command deadline (a message body on its way), or restores it.
    pub fn transfer(&mut self, on: bool, command_timeout: Option<Duration>) {
        self.command_timeout = if on { None } else { command_timeout };
        self.pending_since = None;
    }

    /// Reads more bytes into the buffer.
    pub async fn fill(&mut self, idle: Duration, shutdown: &mut watch::Receiver<bool>) -> Read {
        if *shutdown.borrow() {
            return Read::Shutdown;
        }
        // Sessions ended while a command was served end before the next one is read: a client
        // that sends its next command right after the harness ended the sessions must meet the
        // end, never have that command served and the session cut under the one after.
        if let Some(rx) = self.ended.as_mut()
            && rx.has_changed().unwrap_or(false)
        {
            rx.mark_unchanged();
            return Read::Ended;
        }
        self.buf.reserve(8192);
        let deadline = self.deadline;
        let end = async move {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let slow_at = match (self.command_timeout, self.pending_since) {
            (Some(limit), Some(since)) => Some(since + limit),
            _ => None,
        };
        let slow = async move {
            match slow_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let ended = self.ended.as_mut();
        let ended = async move {
            match ended {
                Some(rx) => {
                    if rx.changed().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
                None => std::future::pending().await,
            }
        };
        // Biased: an end already signalled wins over bytes that arrived with it.
        let read = tokio::select! {
            biased;
            _ = shutdown.changed() => Read::Shutdown,
            () = end => Read::Deadline,
            () = ended => Read::Ended,
            () = slow => Read::Slow,
            read = tokio::time::timeout(idle, self.stream.read_buf(&mut self.buf)) => match read {
                Err(_) => Read::Idle,
                Ok(Ok(0)) => Read::Closed,
                Ok(Ok(_)) => Read::Data,
                // A client that drops the TCP connection (no TLS close_notify, a reset) closed
                // it: that is its doing, not the operator's.
                Ok(Err(e))
                    if matches!(
                        e.kind(),
                        io::ErrorKind::UnexpectedEof
                            | io::ErrorKind::ConnectionReset
                            | io::ErrorKind::ConnectionAborted
                            | io::ErrorKind::BrokenPipe
                    ) =>
                {
                    Read::Closed
                }
                Ok(Err(e)) => Read::Failed(e),
            },
        };
        if matches!(read, Read::Data) && self.pending_since.is_none() {
            self.pending_since = Some(tokio::time::Instant::now());
        }
        read
    }

    /// Takes the first complete line (with its CRLF or LF) out of the buffer.
    pub fn take_line(&mut self, max: usize) -> Option<Result<Vec<u8>, TooLong>> {
        if self.skipping {
            match self.buf.iter().position(|&b| b == b'\n') {
                Some(pos) => {
                    self.buf.drain(..=pos);
                    self.skipping = false;
                }
                None => {
                    self.buf.clear();
                    return None;
                }
            }
        }
        match self.buf.iter().position(|&b| b == b'\n') {
            Some(pos) if pos < max => {
                let line = self.buf.drain(..=pos).collect();
                self.command_done();
                Some(Ok(line))
            }
            Some(pos) => {
                self.buf.drain(..=pos);
                Some(Err(TooLong))
            }
            None if self.buf.len() >= max => {
                self.buf.clear();
                self.skipping = true;
                Some(Err(TooLong))
            }
            None => None,
        }
    }

    /// Writes and flushes.
    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }
}

/// A line without its line ending, as text for the journal.
pub(crate) fn line_text(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    String::from_utf8_lossy(line).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_and_bounded() {
        let mut c = Conn::new(tokio::io::empty(), false);
        c.buf.extend_from_slice(b"EHLO a\r\nNOOP\r\nPART");
        assert_eq!(c.take_line(100), Some(Ok(b"EHLO a\r\n".to_vec())));
        assert_eq!(c.take_line(100), Some(Ok(b"NOOP\r\n".to_vec())));
        assert_eq!(c.take_line(100), None);
        assert_eq!(c.buf, b"PART");
        c.buf.extend_from_slice(&[b'x'; 200]);
        assert_eq!(c.take_line(100), Some(Err(TooLong)));
        assert!(c.buf.is_empty());
        // The end of the overlong line is dropped, the next line is intact.
        c.buf.extend_from_slice(b"xxxx\r\nQUIT\r\n");
        assert_eq!(c.take_line(100), Some(Ok(b"QUIT\r\n".to_vec())));
        assert_eq!(line_text(b"A\r\n"), "A");
    }

    /// A command that arrived together with the end of the sessions is never read: the end
    /// wins, every time (the harness switches profiles right before the next action).
    #[tokio::test]
    async fn the_end_of_the_sessions_wins_over_bytes_that_came_with_it() {
        for _ in 0..50 {
            let (mut client, server) = tokio::io::duplex(1024);
            client.write_all(b"NOOP\r\n").await.expect("write");
            let (tx, rx) = watch::channel(0u64);
            let (_stop, mut shutdown) = watch::channel(false);
            let mut conn = Conn::new(server, false);
            conn.ended = Some(rx);
            tx.send_modify(|n| *n += 1);
            let read = conn.fill(Duration::from_secs(5), &mut shutdown).await;
            assert!(matches!(read, Read::Ended), "{read:?}");
            assert!(conn.buf.is_empty());
        }
    }
}
