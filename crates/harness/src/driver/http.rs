//! The HTTP driver: each action is `POST <base_url>/<action>` with the request JSON as body;
//! `200` carries the answer (a JSON object), `501` says the SUT does not implement the action,
//! `400` that it did not understand the request (a bench problem), any other status is the
//! SUT's reported failure (`{"error": "…"}` kept as evidence). An
//! endpoint that cannot be reached, or answers something that is not JSON, is a broken driver.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::Request;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper_util::rt::TokioIo;

use super::external::{Transport, TransportFuture};
use super::profile::{Profile, ProfileError, seconds};
use super::{Action, DriverError, answer, error_text};

/// Largest answer read.
const MAX_ANSWER: usize = 4 * 1024 * 1024;

/// Runs a SUT's actions as HTTP calls.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    authority: String,
    prefix: String,
    actions: Vec<Action>,
    timeout: Duration,
    data_dir: Option<std::path::PathBuf>,
}

impl HttpTransport {
    /// The transport of an HTTP profile, at `base_url` (the profile's, or the one the started
    /// process printed).
    pub fn new(profile: &Profile, base_url: &str) -> Result<Self, ProfileError> {
        let error = |message: String| ProfileError {
            path: profile.path.display().to_string(),
            message,
        };
        let http = profile
            .http
            .as_ref()
            .ok_or_else(|| error("driver: http sans section « http: »".into()))?;
        let uri: hyper::Uri = base_url
            .trim()
            .parse()
            .map_err(|e| error(format!("URL de base « {base_url} » invalide : {e}")))?;
        if uri.scheme_str() != Some("http") {
            return Err(error(format!(
                "URL de base « {base_url} » : seul http:// est pris en charge"
            )));
        }
        let authority = uri
            .authority()
            .map(|a| a.to_string())
            .ok_or_else(|| error(format!("URL de base « {base_url} » sans hôte")))?;
        let actions = http
            .actions
            .iter()
            .filter_map(|a| Action::from_name(a))
            .collect();
        Ok(HttpTransport {
            authority,
            prefix: uri.path().trim_end_matches('/').to_owned(),
            actions,
            timeout: seconds(profile.timeout, "timeout").unwrap_or(Duration::from_secs(30)),
            data_dir: profile.data_dir_resolved(),
        })
    }

    async fn post(&self, action: Action, body: Vec<u8>) -> Result<serde_json::Value, DriverError> {
        let broken = |message: String| DriverError::Broken { action, message };
        let tcp = tokio::net::TcpStream::connect(&self.authority)
            .await
            .map_err(|e| {
                broken(format!(
                    "point d'accès http://{} injoignable : {e}",
                    self.authority
                ))
            })?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| broken(format!("HTTP : {e}")))?;
        tokio::spawn(async move {
            // Ends when the exchange is over or the SUT hangs up; nothing to report.
            let _ = connection.await;
        });
        let path = format!("{}/{}", self.prefix, action.name());
        let request = Request::post(path.as_str())
            .header(HOST, &self.authority)
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| broken(format!("requête HTTP : {e}")))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| broken(format!("POST {path} : {e}")))?;
        let status = response.status();
        let bytes = Limited::new(response.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| broken(format!("lecture de la réponse : {e}")))?
            .to_bytes();
        match status.as_u16() {
            200..=299 => answer(action, &bytes),
            501 => Err(DriverError::Unsupported(action)),
            400 => Err(DriverError::Broken {
                action,
                message: format!(
                    "le système n'a pas compris la requête (HTTP 400) : {}",
                    error_text(&bytes)
                ),
            }),
            code => Err(DriverError::Failed {
                action,
                message: format!("HTTP {code} — {}", {
                    let said = error_text(&bytes);
                    if said.is_empty() {
                        "sans message".to_owned()
                    } else {
                        said
                    }
                }),
            }),
        }
    }
}

impl Transport for HttpTransport {
    fn data_dir(&self) -> Option<std::path::PathBuf> {
        self.data_dir.clone()
    }

    fn supports(&self, action: Action) -> bool {
        self.actions.contains(&action)
    }

    fn call(&self, action: Action, body: Vec<u8>) -> TransportFuture<'_> {
        Box::pin(async move {
            match tokio::time::timeout(self.timeout, self.post(action, body)).await {
                Ok(r) => r,
                Err(_) => Err(DriverError::Timeout {
                    action,
                    after: self.timeout,
                }),
            }
        })
    }
}
