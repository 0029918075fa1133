//! The harness's driver contract, as the reference client implements it: a JSON request
//! `{"action": "send", "account": {…}, "message": {…}}` in, a JSON answer out. `mss-client
//! driver` reads the request on its standard input; `mss-client serve` takes it as the body of
//! `POST /<action>`. The contract is documented in the project's `scenarios/sut/README.md`;
//! this module reads it with its own types (the judged never shares the judge's code).
//!
//! Actions: `configure` (reads the account and its files, opens the Pro Santé Connect session
//! when the account names the provider; when the account names no servers,
//! autoconfigures them from the address and runs the connection test, ECO.1.1.9),
//! `test_connection`, `send` (`message` in the JSON of seeds/000), `sync` (the INBOX),
//! `reply` and `open` (`messageId`; a reply's `text`), `list_inbox` (what the user sees),
//! `export_traces` (every connection, authentication, send and fetch of the BAL),
//! `write_to_patient` (`patient`: its INS, names and whether the identity is qualified),
//! `restart` (every BAL forgotten, as a new process would start). Any other
//! action is [`DriverFailure::Unsupported`].

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::agent::Agent;
use crate::psc::{Flow, PscSettings};
use crate::{
    Account, Client, ConnectTo, Credentials, Defect, Defects, Endpoint, MessageSpec, Secret, Trust,
};

/// A server of the operator, as the contract describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct ContractServer {
    /// Host name (certificate, SNI).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Address to connect to.
    pub address: IpAddr,
}

/// Files of the trust anchors. The contract's `crls` are not read: the reference client
/// fetches CRLs from the certificates' distribution points (ECO.1.1.6).
#[derive(Debug, Clone, Deserialize)]
pub struct ContractTrust {
    /// Root CA, PEM.
    pub root: PathBuf,
    /// Elementaire Organisations CA, PEM.
    pub organisations: PathBuf,
}

/// The application BAL's certificate files.
#[derive(Debug, Clone, Deserialize)]
pub struct ContractCertificate {
    /// Chain, PEM.
    pub chain: PathBuf,
    /// Key, PEM.
    pub key: PathBuf,
}

/// Pro Santé Connect settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractPsc {
    /// An access token for the professional (used only without `issuer`).
    pub access_token: String,
    /// OpenID Connect issuer: with it, the client opens its own session.
    #[serde(default)]
    pub issuer: Option<String>,
    /// Client ID at the provider.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The professional's national ID (`login_hint`).
    #[serde(default)]
    pub professional: Option<String>,
}

impl ContractPsc {
    /// The OpenID Connect settings, when the contract gives them all.
    pub fn settings(&self) -> Option<PscSettings> {
        Some(PscSettings {
            issuer: self.issuer.clone()?,
            client_id: self.client_id.clone()?,
            professional: self.professional.clone()?,
            flow: Flow::Code,
        })
    }
}

/// The account of the contract.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractAccount {
    /// BAL address.
    pub address: String,
    /// Sender label.
    #[serde(default)]
    pub display_name: String,
    /// Reply-To BAL of an application BAL.
    #[serde(default)]
    pub reply_to: Option<String>,
    /// SMTP server; absent: autoconfiguration from the address.
    #[serde(default)]
    pub smtp: Option<ContractServer>,
    /// IMAP server; absent: autoconfiguration from the address.
    #[serde(default)]
    pub imap: Option<ContractServer>,
    /// Host names reached without the DNS (test benches).
    #[serde(default)]
    pub connect_to: Vec<ConnectTo>,
    /// Trust anchors.
    pub trust: ContractTrust,
    /// Certificate (application BAL).
    #[serde(default)]
    pub certificate: Option<ContractCertificate>,
    /// Pro Santé Connect (personal or organisational BAL).
    #[serde(default)]
    pub psc: Option<ContractPsc>,
}

/// A request of the contract.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// The action.
    pub action: String,
    /// The account.
    pub account: Option<ContractAccount>,
    /// The message to send.
    #[serde(default)]
    pub message: Option<MessageSpec>,
    /// The message to reply to or open.
    #[serde(default)]
    pub message_id: Option<String>,
    /// The text of a reply.
    #[serde(default)]
    pub text: Option<String>,
    /// The patient to write to.
    #[serde(default)]
    pub patient: Option<crate::inbox::PatientRecord>,
}

/// Why an action did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriverFailure {
    /// The reference client does not implement this action.
    #[error("action « {0} » non prise en charge par mss-client")]
    Unsupported(String),
    /// The request is malformed.
    #[error("requête invalide : {0}")]
    BadRequest(String),
    /// The client tried and failed.
    #[error("{0}")]
    Failed(String),
}

fn read(path: &std::path::Path) -> Result<String, DriverFailure> {
    std::fs::read_to_string(path)
        .map_err(|e| DriverFailure::BadRequest(format!("{} : {e}", path.display())))
}

/// The client's product reference (`X-MSS-NIL`).
pub const NIL: &str = concat!("MSS-CLIENT/", env!("CARGO_PKG_VERSION"));

/// The client's account for a contract account (reads the PEM files it names); servers the
/// contract leaves out are autoconfigured from the address (ECO.1.1.9).
pub async fn account(
    contract: &ContractAccount,
    nil: &str,
    defects: &Defects,
    timeout: Duration,
) -> Result<Account, DriverFailure> {
    let credentials = match (&contract.certificate, &contract.psc) {
        (Some(c), _) => Credentials::Certificate {
            chain_pem: read(&c.chain)?,
            key_pem: Secret(read(&c.key)?),
        },
        (None, Some(p)) => Credentials::Xoauth2 {
            token: Secret(p.access_token.clone()),
        },
        (None, None) => {
            return Err(DriverFailure::BadRequest(
                "le compte n'a ni certificat ni Pro Santé Connect".into(),
            ));
        }
    };
    let trust = Trust {
        root_pem: read(&contract.trust.root)?,
        organisations_pem: read(&contract.trust.organisations)?,
    };
    let endpoint = |s: &ContractServer| Endpoint {
        host: s.host.clone(),
        addr: SocketAddr::new(s.address, s.port),
    };
    let (smtp, imap) = match (&contract.smtp, &contract.imap) {
        (Some(smtp), Some(imap)) => (endpoint(smtp), endpoint(imap)),
        _ => Client::autoconfigure(
            &contract.address,
            &credentials,
            &trust,
            &contract.connect_to,
            defects,
            timeout,
        )
        .await
        .map_err(|e| DriverFailure::Failed(e.to_string()))?,
    };
    Ok(Account {
        address: contract.address.clone(),
        display_name: contract.display_name.clone(),
        reply_to: contract.reply_to.clone(),
        nil: nil.to_owned(),
        smtp,
        imap,
        credentials,
        trust,
        connect_to: contract.connect_to.clone(),
    })
}

/// The certificate files a certificate mutant presents instead of the account's own, from the
/// same folder of the fake IGC Santé: another structure's, or a hostile client certificate.
fn mutant_certificate(contract: &ContractAccount, defects: &Defects) -> ContractAccount {
    let mut contract = contract.clone();
    let Some(cert) = contract.certificate.as_mut() else {
        return contract;
    };
    let dir = cert.chain.parent().map(PathBuf::from).unwrap_or_default();
    let hostile = |state: &str| {
        (
            dir.join(format!("org-auth-cli.{state}.crt.pem")),
            dir.join("hostile-feuilles.key.pem"),
        )
    };
    let replacement = if defects.contains(&Defect::ExpiredClientCertificate) {
        Some(hostile("expire"))
    } else if defects.contains(&Defect::PersonnesClientCertificate) {
        Some(hostile("personnes"))
    } else if defects.contains(&Defect::RevokedClientCertificate) {
        Some(hostile("revoque"))
    } else if defects.contains(&Defect::CommercialClientCertificate) {
        Some(hostile("commercial"))
    } else if defects.contains(&Defect::OtherStructureCertificate) {
        // Another structure's ORG AUTH_CLI certificate (`org-auth-cli-<IdNatStruc>.crt.pem`).
        std::fs::read_dir(&dir).ok().and_then(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p != &cert.chain)
                .find(|p| {
                    p.file_name().is_some_and(|n| {
                        let n = n.to_string_lossy();
                        n.starts_with("org-auth-cli-") && n.ends_with(".crt.pem")
                    })
                })
                .map(|chain| {
                    let key = chain.with_file_name(
                        chain
                            .file_name()
                            .map(|n| n.to_string_lossy().replace(".crt.pem", ".key.pem"))
                            .unwrap_or_default(),
                    );
                    (chain, key)
                })
        })
    } else {
        None
    };
    if let Some((chain, key)) = replacement {
        cert.chain = chain;
        cert.key = key;
    }
    contract
}

/// Runs one request with `agent` (which keeps the BALs' sessions from one request to the
/// next when it lives longer than one request); the answer is the JSON object of the contract.
pub async fn handle(
    request: &[u8],
    agent: &std::sync::Arc<Agent>,
) -> Result<serde_json::Value, DriverFailure> {
    let request: Request =
        serde_json::from_slice(request).map_err(|e| DriverFailure::BadRequest(e.to_string()))?;
    if ![
        "configure",
        "test_connection",
        "send",
        "sync",
        "reply",
        "open",
        "list_inbox",
        "export_traces",
        "write_to_patient",
        "restart",
    ]
    .contains(&request.action.as_str())
    {
        return Err(DriverFailure::Unsupported(request.action.clone()));
    }
    if request.action == "restart" {
        // Nothing survives a restart but the state folder (the kept CRLs).
        agent.forget_all().await;
        return Ok(serde_json::json!({}));
    }
    let contract = request
        .account
        .as_ref()
        .ok_or_else(|| DriverFailure::BadRequest("champ « account » absent".into()))?;
    let settings = agent.settings();
    let contract = mutant_certificate(contract, &settings.defects);
    let autoconfigured = contract.smtp.is_none() || contract.imap.is_none();
    let account = account(&contract, agent.nil(), &settings.defects, settings.timeout).await?;
    let address = account.address.clone();
    let failed = |e: crate::ClientError| DriverFailure::Failed(e.to_string());
    let mut psc = contract.psc.as_ref().and_then(|p| p.settings());
    if settings.defects.contains(&Defect::OtherProfessionalToken)
        && let Some(p) = psc.as_mut()
    {
        // Another professional of the test directory: Paul DURAND, or Marie MARTIN for his.
        p.professional = if p.professional == "810000000002" {
            "810000000001".into()
        } else {
            "810000000002".into()
        };
    }
    agent.configure(account, psc).await.map_err(failed)?;
    match request.action.as_str() {
        "configure" => {
            if autoconfigured {
                // ECO.1.1.9, step 3: a connection test validates what was configured.
                agent.test_connection(&address).await.map_err(failed)?;
            }
            Ok(serde_json::json!({}))
        }
        "test_connection" => {
            agent.test_connection(&address).await.map_err(failed)?;
            Ok(serde_json::json!({}))
        }
        "send" => {
            let message = request
                .message
                .as_ref()
                .ok_or_else(|| DriverFailure::BadRequest("champ « message » absent".into()))?;
            let sent = agent.send(&address, message).await.map_err(failed)?;
            Ok(serde_json::json!({ "messageId": sent.message_id }))
        }
        "reply" | "open" => {
            let message_id = request
                .message_id
                .as_deref()
                .ok_or_else(|| DriverFailure::BadRequest("champ « messageId » absent".into()))?;
            if request.action == "open" {
                agent.open(&address, message_id).await.map_err(failed)?;
                return Ok(serde_json::json!({}));
            }
            let text = request.text.as_deref().unwrap_or_default();
            let sent = agent
                .reply(&address, message_id, text)
                .await
                .map_err(failed)?;
            Ok(serde_json::json!({ "messageId": sent.message_id }))
        }
        "write_to_patient" => {
            let patient = request
                .patient
                .as_ref()
                .ok_or_else(|| DriverFailure::BadRequest("champ « patient » absent".into()))?;
            let sent = agent
                .write_to_patient(&address, patient)
                .await
                .map_err(failed)?;
            Ok(serde_json::json!({ "messageId": sent.message_id }))
        }
        "export_traces" => Ok(serde_json::json!({ "traces": agent.export_traces(&address) })),
        "list_inbox" => {
            let listed = agent.list_inbox(&address).await.map_err(failed)?;
            Ok(serde_json::json!({ "messages": listed }))
        }
        _ => {
            let messages = agent.sync(&address).await.map_err(failed)?;
            let listed: Vec<serde_json::Value> = messages
                .iter()
                .map(|m| serde_json::json!({ "messageId": m.message_id, "subject": m.subject }))
                .collect();
            Ok(serde_json::json!({ "messages": listed }))
        }
    }
}
