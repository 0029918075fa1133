//! Errors of the reference client. Their texts are French: they end up in scenario verdicts.

use std::net::SocketAddr;

use crate::autoconfig::AutoconfigError;
use crate::compose::ComposeError;
use crate::psc::PscError;
use crate::revocation::RevocationError;
use crate::tls::TlsPolicyError;

/// Why an action of the client failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The TCP connection could not be opened.
    #[error("connexion à {addr} impossible : {source}")]
    Connect {
        /// The address.
        addr: SocketAddr,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A step took too long.
    #[error("{step} : délai dépassé")]
    Timeout {
        /// The step.
        step: &'static str,
    },
    /// The connection failed during a step.
    #[error("{step} : {source}")]
    Io {
        /// The step.
        step: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The server closed the connection.
    #[error("{step} : le serveur a fermé la connexion")]
    Closed {
        /// The step.
        step: &'static str,
    },
    /// The TLS handshake failed (certificate refused, no common suite...).
    #[error("négociation TLS refusée : {0}")]
    Tls(String),
    /// The server does not offer STARTTLS: the client refuses to go on in clear.
    #[error("le serveur ne propose pas STARTTLS : aucun identifiant n'est envoyé en clair")]
    NoStartTls,
    /// The server refused the credentials.
    #[error("authentification refusée : « {0} »")]
    AuthRefused(String),
    /// A reply other than the expected one.
    #[error("{step} : réponse inattendue « {reply} »")]
    Unexpected {
        /// The step.
        step: &'static str,
        /// The reply.
        reply: String,
    },
    /// The server sent something that is not SMTP/IMAP.
    #[error("{step} : réponse illisible ({detail})")]
    Protocol {
        /// The step.
        step: &'static str,
        /// What could not be read.
        detail: String,
    },
    /// The message could not be composed.
    #[error(transparent)]
    Compose(#[from] ComposeError),
    /// The TLS policy could not be built.
    #[error(transparent)]
    Policy(#[from] TlsPolicyError),
    /// The operator's certificate is revoked, or its status unknown: the connection was
    /// abandoned before any credential.
    #[error(transparent)]
    Revocation(#[from] RevocationError),
    /// The autoconfiguration failed.
    #[error(transparent)]
    Autoconfig(#[from] AutoconfigError),
    /// Pro Santé Connect did not give a usable token, or the session ended.
    #[error(transparent)]
    Psc(#[from] PscError),
    /// An action names a BAL that was not configured.
    #[error("la BAL {0} n'est pas configurée")]
    NotConfigured(String),
    /// A patient cannot be written to (identity not qualified, INS invalid).
    #[error(transparent)]
    Patient(#[from] crate::inbox::PatientAddressError),
    /// No message of the INBOX has this Message-ID.
    #[error("aucun message de la boîte de réception n'a le Message-ID <{0}>")]
    NoSuchMessage(String),
}
