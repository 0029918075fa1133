//! A hostile HTTP(S) server for the client's bad-input tests: it answers every request with
//! what the test picks (any bytes, or silence), in TLS with the operator's certificate or not.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The fake IGC Santé of the tests (the workspace's `certs/`, or `MSS_CERTS_DIR`).
pub fn pki() -> Arc<pki::Pki> {
    let certs = std::env::var_os("MSS_CERTS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../certs"));
    Arc::new(
        pki::ensure(&certs, &operator::Directory::embedded().pki_profile())
            .expect("pki")
            .0,
    )
}

/// What a hostile server does with a request.
#[derive(Clone)]
pub enum Behaviour {
    /// Writes these bytes (a whole HTTP answer, or anything) and closes.
    Answer(Vec<u8>),
    /// Reads the request and never answers.
    Hang,
}

pub fn http(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// A server answering every connection with `pick(request)`, in TLS with the operator's
/// certificate when `tls`.
pub async fn hostile(
    pki: &pki::Pki,
    tls: bool,
    pick: impl Fn(&[u8]) -> Behaviour + Send + Sync + 'static,
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let acceptor = tls.then(|| {
        let chain = CertificateDer::pem_slice_iter(pki.server.chain_pem().as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .expect("chain");
        let key = PrivateKeyDer::from_pem_slice(pki.server.key.expose().as_bytes()).expect("key");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(client::tls::provider()))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server config");
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    });
    let pick = Arc::new(pick);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let pick = pick.clone();
            tokio::spawn(async move {
                match acceptor {
                    Some(a) => {
                        if let Ok(s) = a.accept(tcp).await {
                            serve(s, &*pick).await;
                        }
                    }
                    None => serve(tcp, &*pick).await,
                }
            });
        }
    });
    addr
}

async fn serve<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut s: S,
    pick: &(dyn Fn(&[u8]) -> Behaviour + Send + Sync),
) {
    let mut request = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut first = true;
    // The head, then the body its Content-Length announces.
    loop {
        let Ok(n) = s.read(&mut chunk).await else {
            return;
        };
        if n == 0 {
            return;
        }
        request.extend_from_slice(&chunk[..n]);
        // Not an HTTP request (a TLS ClientHello on a plain port): answer at once.
        if std::mem::take(&mut first) && !request[0].is_ascii_uppercase() {
            break;
        }
        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if request.len() >= end + 4 + length {
                break;
            }
        }
    }
    match pick(&request) {
        Behaviour::Answer(bytes) => {
            let _ = s.write_all(&bytes).await;
            let _ = s.shutdown().await;
        }
        Behaviour::Hang => {
            std::future::pending::<()>().await;
        }
    }
}
