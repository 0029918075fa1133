//! Connection helpers shared by the SMTP and IMAP sessions: connect, timed writes, the TLS
//! upgrade after STARTTLS. Every step has its own timeout and names itself in errors.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::ClientConfig;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::account::{Account, Defect, Defects};
use crate::error::ClientError;
use crate::revocation::Revocation;

/// A connection inside TLS: rustls for the reference client, OpenSSL for the mutants rustls
/// cannot be ([`crate::weak`]).
#[allow(clippy::large_enum_variant)]
pub(crate) enum Secure {
    /// rustls.
    Rustls(Box<TlsStream<TcpStream>>),
    /// OpenSSL.
    Openssl(Pin<Box<tokio_openssl::SslStream<TcpStream>>>),
}

impl Secure {
    /// The certificate the server presented.
    pub(crate) fn peer_certificate(&self) -> Option<CertificateDer<'static>> {
        match self {
            Secure::Rustls(s) => s
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|c| c.clone().into_owned()),
            Secure::Openssl(s) => s
                .ssl()
                .peer_certificate()
                .and_then(|c| c.to_der().ok())
                .map(CertificateDer::from),
        }
    }
}

impl AsyncRead for Secure {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Secure::Rustls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Secure::Openssl(s) => s.as_mut().poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Secure {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Secure::Rustls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Secure::Openssl(s) => s.as_mut().poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Secure::Rustls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Secure::Openssl(s) => s.as_mut().poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Secure::Rustls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Secure::Openssl(s) => s.as_mut().poll_shutdown(cx),
        }
    }
}

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
#[allow(clippy::too_many_arguments)]
pub(crate) async fn upgrade(
    tcp: TcpStream,
    tls: Arc<ClientConfig>,
    account: &Account,
    host: &str,
    defects: &Defects,
    timeout: Duration,
    revocation: Option<&Revocation>,
) -> Result<Secure, ClientError> {
    let stream = if crate::weak::wanted(defects) {
        Secure::Openssl(
            crate::weak::upgrade(
                tcp,
                &account.trust,
                &account.credentials,
                !defects.contains(&Defect::NoClientCertificate),
                host,
                defects,
                timeout,
            )
            .await?,
        )
    } else {
        Secure::Rustls(Box::new(handshake(tcp, tls, host, timeout).await?))
    };
    if let Some(revocation) = revocation {
        check_revocation(&stream, revocation, host).await?;
    }
    Ok(stream)
}

/// Checks the revocation status of the certificate the server presented on `stream`.
pub(crate) async fn check_revocation(
    stream: &Secure,
    revocation: &Revocation,
    host: &str,
) -> Result<(), ClientError> {
    let ee = stream
        .peer_certificate()
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
