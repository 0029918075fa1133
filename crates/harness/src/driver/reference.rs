//! The reference client in process (optionally a mutant): the `client` crate behind the
//! driver contract. It reads the same [`AccountSpec`] an external SUT gets (trust anchors and
//! certificates from their files), so the contract is exercised even in process.

use std::net::SocketAddr;
use std::time::Duration;

use client::{Account, Client, Credentials, Defects, Endpoint, Secret, Trust};

use super::types::{AccountSpec, ListedMessage, MessageSpec, SendOutcome, ServerSpec};
use super::{Action, DriverError, DriverFuture, SutDriver};

/// The product reference the reference client writes in `X-MSS-NIL`.
pub const NIL: &str = concat!("MSS-HARNESS/REFERENCE/", env!("CARGO_PKG_VERSION"));

/// The reference client in process.
#[derive(Debug, Clone, Default)]
pub struct ReferenceDriver {
    defects: Defects,
    timeout: Option<Duration>,
    client: Option<Client>,
}

fn read(path: &std::path::Path, action: Action) -> Result<String, DriverError> {
    std::fs::read_to_string(path).map_err(|e| DriverError::Broken {
        action,
        message: format!("{} : {e}", path.display()),
    })
}

fn endpoint(s: &ServerSpec) -> Endpoint {
    Endpoint {
        host: s.host.clone(),
        addr: SocketAddr::new(s.address, s.port),
    }
}

/// The reference client's account for an account description.
pub fn account(spec: &AccountSpec) -> Result<Account, DriverError> {
    let action = Action::Configure;
    let credentials = match (&spec.certificate, &spec.psc) {
        (Some(cert), _) => Credentials::Certificate {
            chain_pem: read(&cert.chain, action)?,
            key_pem: Secret(read(&cert.key, action)?),
        },
        (None, Some(psc)) => Credentials::Xoauth2 {
            token: Secret(psc.access_token.clone()),
        },
        (None, None) => {
            return Err(DriverError::Broken {
                action,
                message: format!("ni certificat ni Pro Santé Connect pour {}", spec.address),
            });
        }
    };
    let crls = spec
        .trust
        .crls
        .iter()
        .map(|p| read(p, action))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Account {
        address: spec.address.clone(),
        display_name: spec.display_name.clone(),
        reply_to: spec.reply_to.clone(),
        nil: NIL.to_owned(),
        smtp: endpoint(&spec.smtp),
        imap: endpoint(&spec.imap),
        credentials,
        trust: Trust {
            root_pem: read(&spec.trust.root, action)?,
            organisations_pem: read(&spec.trust.organisations, action)?,
            crls_pem: crls,
        },
    })
}

/// The reference client's message for a message specification: the same JSON.
fn message(spec: &MessageSpec) -> Result<client::MessageSpec, DriverError> {
    let json = serde_json::to_string(spec).map_err(|e| DriverError::Broken {
        action: Action::Send,
        message: e.to_string(),
    })?;
    client::MessageSpec::from_json(&json).map_err(|e| DriverError::Failed {
        action: Action::Send,
        message: format!("message refusé par le client de référence : {e}"),
    })
}

impl ReferenceDriver {
    /// A conformant reference client, or a mutant when `defects` is not empty.
    pub fn new(defects: Defects, timeout: Duration) -> Self {
        ReferenceDriver {
            defects,
            timeout: Some(timeout),
            client: None,
        }
    }

    fn client(&self, action: Action) -> Result<&Client, DriverError> {
        self.client.as_ref().ok_or_else(|| DriverError::Broken {
            action,
            message: "le système n'a pas été configuré".into(),
        })
    }
}

impl SutDriver for ReferenceDriver {
    fn describe(&self) -> String {
        if self.defects.is_empty() {
            "client de référence".to_owned()
        } else {
            let names: Vec<_> = self.defects.iter().map(|d| d.name()).collect();
            format!("client de référence (mutant {})", names.join(", "))
        }
    }

    fn configure<'a>(&'a mut self, spec: &'a AccountSpec) -> DriverFuture<'a, ()> {
        Box::pin(async move {
            let mut client = Client::new(account(spec)?).with_defects(self.defects.clone());
            if let Some(t) = self.timeout {
                client = client.with_timeout(t);
            }
            self.client = Some(client);
            Ok(())
        })
    }

    fn send<'a>(&'a mut self, spec: &'a MessageSpec) -> DriverFuture<'a, SendOutcome> {
        Box::pin(async move {
            let message = message(spec)?;
            let sent = self
                .client(Action::Send)?
                .send(&message)
                .await
                .map_err(|e| DriverError::Failed {
                    action: Action::Send,
                    message: e.to_string(),
                })?;
            Ok(SendOutcome {
                message_id: sent.message_id,
            })
        })
    }

    fn sync(&mut self) -> DriverFuture<'_, Vec<ListedMessage>> {
        Box::pin(async move {
            let messages = self
                .client(Action::Sync)?
                .fetch_inbox()
                .await
                .map_err(|e| DriverError::Failed {
                    action: Action::Sync,
                    message: e.to_string(),
                })?;
            Ok(messages
                .into_iter()
                .map(|m| ListedMessage {
                    message_id: m.message_id,
                    subject: m.subject,
                    from: None,
                })
                .collect())
        })
    }
}
