//! Connection helpers shared by the SMTP and IMAP sessions: connect, timed writes, the TLS
//! upgrade after STARTTLS. Every step has its own timeout and names itself in errors.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::error::ClientError;
use crate::revocation::Revocation;

/// Opens a TCP connection.
pub(crate) async fn connect(
    addr: SocketAddr,
    timeout: Duration,
    step: &'static str,
) -> Result<TcpStream, ClientError> {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Err(_) => Err(ClientError::Timeout { step }),
        Ok(Err(source)) => Err(ClientError::Connect { addr, source }),
        Ok(Ok(tcp)) => {
            let _ = tcp.set_nodelay(true);
            Ok(tcp)
        }
    }
}

/// Writes and flushes within the timeout.
pub(crate) async fn write<S: AsyncWrite + Unpin>(
    stream: &mut S,
    bytes: &[u8],
    timeout: Duration,
    step: &'static str,
) -> Result<(), ClientError> {
    let write = async {
        stream.write_all(bytes).await?;
        stream.flush().await
    };
    match tokio::time::timeout(timeout, write).await {
        Err(_) => Err(ClientError::Timeout { step }),
        Ok(Err(source)) => Err(ClientError::Io { step, source }),
        Ok(Ok(())) => Ok(()),
    }
}

/// The client side of the TLS handshake after STARTTLS, checking the server against `host`,
/// then the revocation status of its certificate (`None`: checked later, or never — mutants).
/// On a refusal the connection is dropped before anything is written inside TLS.
pub(crate) async fn upgrade(
    tcp: TcpStream,
    tls: Arc<ClientConfig>,
    host: &str,
    timeout: Duration,
    revocation: Option<&Revocation>,
) -> Result<TlsStream<TcpStream>, ClientError> {
    let stream = handshake(tcp, tls, host, timeout).await?;
    if let Some(revocation) = revocation {
        check_revocation(&stream, revocation, host).await?;
    }
    Ok(stream)
}

/// Checks the revocation status of the certificate the server presented on `stream`.
pub(crate) async fn check_revocation(
    stream: &TlsStream<TcpStream>,
    revocation: &Revocation,
    host: &str,
) -> Result<(), ClientError> {
    let ee = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .cloned()
        .ok_or_else(|| ClientError::Tls("aucun certificat serveur".into()))?;
    revocation.check(&ee, host).await?;
    Ok(())
}

async fn handshake(
    tcp: TcpStream,
    tls: Arc<ClientConfig>,
    host: &str,
    timeout: Duration,
) -> Result<TlsStream<TcpStream>, ClientError> {
    let server_name = ServerName::try_from(host.to_owned())
        .map_err(|e| ClientError::Tls(format!("nom de serveur {host}: {e}")))?;
    match tokio::time::timeout(timeout, TlsConnector::from(tls).connect(server_name, tcp)).await {
        Err(_) => Err(ClientError::Timeout {
            step: "négociation TLS",
        }),
        Ok(Err(e)) => Err(ClientError::Tls(e.to_string())),
        Ok(Ok(s)) => Ok(s),
    }
}
