//! The client's HTTP(S) fetches: the autoconfiguration document (ECO.1.1.9), OCSP responses
//! and CRLs (ECO.1.1.6/1.1.7). Hardened like every fetch a mail client makes on an address it
//! was given: one request, one overall deadline, a size cap (checked on the declared length and
//! while reading), no redirect followed, HTTPS under the client's TLS policy, and a typed error
//! for each way it can fail. HTTP/1.1 with hyper; no connection reuse (a few requests per
//! session).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, StatusCode, Uri, header};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::account::{ConnectTo, resolve};

/// Why a fetch failed. Texts are French (they reach the reports).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The URL cannot be read.
    #[error("URL invalide « {url} » : {reason}")]
    BadUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The scheme is not allowed for this fetch (HTTPS required, or not HTTP(S) at all).
    #[error("schéma refusé pour « {url} » : {allowed} exigé")]
    Scheme {
        /// The URL.
        url: String,
        /// What is allowed.
        allowed: &'static str,
    },
    /// The host name could not be resolved or the connection opened.
    #[error("{url} injoignable : {reason}")]
    Unreachable {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The TLS handshake failed (certificate refused…).
    #[error("{url} : négociation TLS refusée : {reason}")]
    Tls {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// Nothing complete within the deadline.
    #[error("{url} : pas de réponse complète en {} s", .after.as_secs_f32())]
    Timeout {
        /// The URL.
        url: String,
        /// The deadline.
        after: Duration,
    },
    /// The server answered a redirection; it is not followed.
    #[error("{url} : redirection {status} vers « {location} » refusée")]
    Redirect {
        /// The URL.
        url: String,
        /// Status.
        status: u16,
        /// Where it pointed.
        location: String,
    },
    /// The server answered an error.
    #[error("{url} : réponse HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// Status.
        status: u16,
    },
    /// The answer is larger than allowed.
    #[error("{url} : réponse de plus de {max} octets refusée")]
    TooLarge {
        /// The URL.
        url: String,
        /// The cap.
        max: usize,
    },
    /// The exchange broke (not HTTP, connection closed…).
    #[error("{url} : échange HTTP rompu : {reason}")]
    Protocol {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
}

/// Which schemes a fetch accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Schemes {
    /// HTTPS only (autoconfiguration).
    HttpsOnly,
    /// HTTP or HTTPS (OCSP, CRL: their answers are signed).
    Any,
}

/// One fetch.
#[derive(Debug)]
pub(crate) struct Fetch<'a> {
    /// Absolute URL.
    pub url: &'a str,
    /// Allowed schemes.
    pub schemes: Schemes,
    /// POST body and its type; GET when `None`.
    pub post: Option<(&'static str, Vec<u8>)>,
    /// Largest answer accepted.
    pub max: usize,
    /// Deadline of the whole exchange.
    pub timeout: Duration,
    /// TLS policy for HTTPS.
    pub tls: Option<Arc<ClientConfig>>,
    /// Host names reached without the DNS.
    pub connect_to: &'a [ConnectTo],
}

/// What came back.
#[derive(Debug)]
pub(crate) struct Fetched {
    /// The status (200 from [`fetch`]).
    pub status: u16,
    /// The body.
    pub body: Bytes,
}

/// Posts a JSON request to a plain-HTTP service on this machine (the long-lived
/// `mss-client serve` a command-line action forwards to) and returns its status and answer.
pub async fn post_json(
    url: &str,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<(u16, Bytes), HttpError> {
    let fetched = fetch_with_errors(Fetch {
        url,
        schemes: Schemes::Any,
        post: Some(("application/json", body)),
        max: 16 * 1024 * 1024,
        timeout,
        tls: None,
        connect_to: &[],
    })
    .await?;
    Ok((fetched.status, fetched.body))
}

/// Fetches one URL; anything but `200` is an error.
pub(crate) async fn fetch(f: Fetch<'_>) -> Result<Fetched, HttpError> {
    let url = f.url.to_owned();
    let fetched = fetch_with_errors(f).await?;
    if fetched.status != 200 {
        return Err(HttpError::Status {
            url,
            status: fetched.status,
        });
    }
    Ok(fetched)
}

/// Fetches one URL and keeps an error answer (4xx, 5xx) with its body, for protocols that
/// explain their refusals there (OAuth 2.0); redirections are still refused.
pub(crate) async fn fetch_with_errors(f: Fetch<'_>) -> Result<Fetched, HttpError> {
    let url = f.url.to_owned();
    let timeout = f.timeout;
    match tokio::time::timeout(timeout, exchange(f)).await {
        Ok(result) => result,
        Err(_) => Err(HttpError::Timeout {
            url,
            after: timeout,
        }),
    }
}

async fn exchange(f: Fetch<'_>) -> Result<Fetched, HttpError> {
    let url = f.url.to_owned();
    let bad = |reason: String| HttpError::BadUrl {
        url: url.clone(),
        reason,
    };
    let uri: Uri = f.url.parse().map_err(|e| bad(format!("{e}")))?;
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") if f.schemes == Schemes::Any => false,
        _ => {
            return Err(HttpError::Scheme {
                url,
                allowed: match f.schemes {
                    Schemes::HttpsOnly => "https",
                    Schemes::Any => "http ou https",
                },
            });
        }
    };
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| bad("pas de nom d'hôte".into()))?
        .to_owned();
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(bad("identifiants dans l'URL".into()));
    }
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let unreachable = |reason: String| HttpError::Unreachable {
        url: url.clone(),
        reason,
    };
    let addr = resolve(f.connect_to, &host, port)
        .await
        .map_err(|e| unreachable(format!("{host} : {e}")))?;
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| unreachable(format!("{addr} : {e}")))?;
    let _ = tcp.set_nodelay(true);
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or(host.clone());
    let (method, body, content_type) = match f.post {
        Some((kind, body)) => (Method::POST, Bytes::from(body), Some(kind)),
        None => (Method::GET, Bytes::new(), None),
    };
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, authority)
        .header(
            header::USER_AGENT,
            concat!("mss-client/", env!("CARGO_PKG_VERSION")),
        )
        .header(header::CONNECTION, "close");
    if let Some(kind) = content_type {
        request = request.header(header::CONTENT_TYPE, kind);
    }
    let request = request
        .body(Full::new(body))
        .map_err(|e| bad(e.to_string()))?;
    if https {
        let tls = f.tls.ok_or_else(|| HttpError::Tls {
            url: url.clone(),
            reason: "aucune politique TLS".into(),
        })?;
        let name = ServerName::try_from(host.clone()).map_err(|e| bad(e.to_string()))?;
        let stream = TlsConnector::from(tls)
            .connect(name, tcp)
            .await
            .map_err(|e| HttpError::Tls {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        send(&url, stream, request, f.max).await
    } else {
        send(&url, tcp, request, f.max).await
    }
}

async fn send<S>(
    url: &str,
    stream: S,
    request: Request<Full<Bytes>>,
    max: usize,
) -> Result<Fetched, HttpError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let protocol = |reason: String| HttpError::Protocol {
        url: url.to_owned(),
        reason,
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| protocol(e.to_string()))?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    let result = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| protocol(e.to_string()))?;
        let status = response.status();
        if status.is_redirection() {
            return Err(HttpError::Redirect {
                url: url.to_owned(),
                status: status.as_u16(),
                location: response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .unwrap_or("")
                    .chars()
                    .take(200)
                    .collect(),
            });
        }
        if !(status == StatusCode::OK || status.is_client_error() || status.is_server_error()) {
            return Err(HttpError::Status {
                url: url.to_owned(),
                status: status.as_u16(),
            });
        }
        let declared = response
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max as u64) {
            return Err(HttpError::TooLarge {
                url: url.to_owned(),
                max,
            });
        }
        let body = Limited::new(response.into_body(), max)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    HttpError::TooLarge {
                        url: url.to_owned(),
                        max,
                    }
                } else {
                    protocol(e.to_string())
                }
            })?
            .to_bytes();
        Ok(Fetched {
            status: status.as_u16(),
            body,
        })
    }
    .await;
    driver.abort();
    result
}
