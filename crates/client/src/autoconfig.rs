//! Autoconfiguration of a BAL from its address alone (ECO.1.1.9): `GET
//! https://autoconfig.<domain>/mail/config-v1.1.xml` (Thunderbird's ConfigFileFormat, as
//! §2.1.1.2.4 of the référentiel shows it), then the IMAP and SMTP servers of the BAL's family:
//! `OAuth2` for a personal or organisational BAL, `TLS-client-cert` for an application BAL,
//! always `STARTTLS`. The host **and the port** come from the document; the caller then runs a
//! connection test.
//!
//! The document is untrusted input fetched from a name derived from an address: HTTPS only
//! under the client's TLS policy, 64 KiB at most, no redirect followed, one deadline, XML read
//! by roxmltree (no DTD, hence no entity expansion), every value checked (host name syntax,
//! port range). `%EMAILLOCALPART%`-style usernames are ignored: the référentiel's
//! authentications name the BAL by its address.

use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;

use crate::account::{ConnectTo, Endpoint, resolve};
use crate::http::{self, Fetch, HttpError, Schemes};

/// Largest document read.
pub const MAX_DOCUMENT: usize = 64 * 1024;

/// Why the autoconfiguration failed. Texts are French (they reach the reports).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AutoconfigError {
    /// The address has no usable domain.
    #[error("adresse « {0} » sans domaine utilisable pour l'autoconfiguration")]
    Address(String),
    /// The document could not be fetched.
    #[error("autoconfiguration : {0}")]
    Fetch(#[from] HttpError),
    /// The document is not well-formed XML or not a `clientConfig`.
    #[error("document d'autoconfiguration invalide : {0}")]
    Document(String),
    /// No server of the BAL's family in the document.
    #[error(
        "le document d'autoconfiguration ne décrit pas de serveur {service} STARTTLS avec l'authentification {authentication}"
    )]
    Missing {
        /// `imap` or `smtp`.
        service: &'static str,
        /// `OAuth2` or `TLS-client-cert`.
        authentication: &'static str,
    },
    /// The host named by the document cannot be resolved.
    #[error("serveur {host} annoncé par l'autoconfiguration introuvable : {reason}")]
    Resolve {
        /// The host.
        host: String,
        /// Why.
        reason: String,
    },
}

/// A server as the document describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Host name.
    pub host: String,
    /// Port.
    pub port: u16,
}

/// The servers of a BAL's family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Servers {
    /// IMAP.
    pub imap: Server,
    /// SMTP submission.
    pub smtp: Server,
}

/// The autoconfiguration URL of an address's domain.
pub fn url(address: &str) -> Result<String, AutoconfigError> {
    let domain = address
        .rsplit_once('@')
        .map(|(_, d)| d.trim().trim_end_matches('.').to_ascii_lowercase())
        .filter(|d| valid_host(d))
        .ok_or_else(|| AutoconfigError::Address(address.to_owned()))?;
    Ok(format!("https://autoconfig.{domain}/mail/config-v1.1.xml"))
}

/// A DNS host name: labels of letters, digits and hyphens, at most 253 characters.
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Reads a document and picks the servers of the family (`certificate`: application BAL).
pub fn parse(document: &str, certificate: bool) -> Result<Servers, AutoconfigError> {
    let bad = |e: String| AutoconfigError::Document(e);
    let xml = roxmltree::Document::parse_with_options(
        document,
        roxmltree::ParsingOptions {
            allow_dtd: false,
            nodes_limit: 10_000,
            ..Default::default()
        },
    )
    .map_err(|e| bad(e.to_string()))?;
    let root = xml.root_element();
    if root.tag_name().name() != "clientConfig" {
        return Err(bad(format!(
            "élément racine « {} » au lieu de « clientConfig »",
            root.tag_name().name()
        )));
    }
    let authentication = if certificate {
        "TLS-client-cert"
    } else {
        "OAuth2"
    };
    let child = |n: roxmltree::Node<'_, '_>, name: &str| -> Option<String> {
        n.children()
            .find(|c| c.has_tag_name(name))
            .and_then(|c| c.text())
            .map(|t| t.trim().to_owned())
    };
    let pick = |tag: &str, kind: &'static str| -> Result<Server, AutoconfigError> {
        let mut problems = Vec::new();
        for n in root
            .descendants()
            .filter(|n| n.has_tag_name(tag) && n.attribute("type") == Some(kind))
        {
            let auths: Vec<String> = n
                .children()
                .filter(|c| c.has_tag_name("authentication"))
                .filter_map(|c| c.text().map(|t| t.trim().to_owned()))
                .collect();
            if !auths.iter().any(|a| a.eq_ignore_ascii_case(authentication)) {
                continue;
            }
            if !child(n, "socketType").is_some_and(|s| s.eq_ignore_ascii_case("STARTTLS")) {
                problems.push("socketType autre que STARTTLS".to_owned());
                continue;
            }
            let host = child(n, "hostname")
                .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
                .unwrap_or_default();
            if !valid_host(&host) {
                problems.push(format!("nom d'hôte invalide « {} »", excerpt(&host)));
                continue;
            }
            let port = child(n, "port").unwrap_or_default();
            match port.parse::<u16>() {
                Ok(port) if port > 0 => return Ok(Server { host, port }),
                _ => problems.push(format!("port invalide « {} »", excerpt(&port))),
            }
        }
        if problems.is_empty() {
            Err(AutoconfigError::Missing {
                service: kind,
                authentication,
            })
        } else {
            Err(bad(format!("serveur {kind} : {}", problems.join(", "))))
        }
    };
    Ok(Servers {
        imap: pick("incomingServer", "imap")?,
        smtp: pick("outgoingServer", "smtp")?,
    })
}

fn excerpt(text: &str) -> String {
    text.chars().take(60).collect()
}

/// Fetches and reads the document of `address`'s domain.
pub async fn discover(
    address: &str,
    certificate: bool,
    tls: Arc<ClientConfig>,
    connect_to: &[ConnectTo],
    timeout: Duration,
) -> Result<Servers, AutoconfigError> {
    let url = url(address)?;
    let fetched = http::fetch(Fetch {
        url: &url,
        schemes: Schemes::HttpsOnly,
        post: None,
        max: MAX_DOCUMENT,
        timeout,
        tls: Some(tls),
        connect_to,
    })
    .await?;
    let text = std::str::from_utf8(&fetched.body)
        .map_err(|_| AutoconfigError::Document("document qui n'est pas en UTF-8".into()))?;
    parse(text, certificate)
}

/// Where to connect for a server of the document.
pub async fn endpoint(
    server: &Server,
    connect_to: &[ConnectTo],
) -> Result<Endpoint, AutoconfigError> {
    let addr = resolve(connect_to, &server.host, server.port)
        .await
        .map_err(|e| AutoconfigError::Resolve {
            host: server.host.clone(),
            reason: e.to_string(),
        })?;
    Ok(Endpoint {
        host: server.host.clone(),
        addr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"<?xml version="1.0"?>
<clientConfig version="1.1">
  <emailProvider id="operateur.mssante.fr ">
    <domain>operateur.mssante.fr</domain>
    <incomingServer type="imap">
      <hostname>mail-psc.operateur.mssante.fr</hostname>
      <port>1143</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>OAuth2</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>mail-psc.operateur.mssante.fr</hostname>
      <port>1587</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>OAuth2</authentication>
    </outgoingServer>
    <incomingServer type="imap">
      <hostname>mail-authcli.operateur.mssante.fr</hostname>
      <port>2143</port>
      <socketType>STARTTLS</socketType>
      <authentication>TLS-client-cert</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>mail-authcli.operateur.mssante.fr</hostname>
      <port>2587</port>
      <socketType>STARTTLS</socketType>
      <authentication>TLS-client-cert</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>"#;

    #[test]
    fn the_url_comes_from_the_domain() {
        assert_eq!(
            url("Marie.Martin@Operateur.MSSante.fr").expect("url"),
            "https://autoconfig.operateur.mssante.fr/mail/config-v1.1.xml"
        );
        for bad in ["sans-arobase", "x@", "x@a/b.fr", "x@evil.fr:8080", "x@a..b"] {
            assert!(url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn each_family_gets_its_entry_point_and_ports() {
        let per = parse(SEED, false).expect("per");
        assert_eq!(
            per.imap,
            Server {
                host: "mail-psc.operateur.mssante.fr".into(),
                port: 1143
            }
        );
        assert_eq!(per.smtp.port, 1587);
        let app = parse(SEED, true).expect("app");
        assert_eq!(
            app.smtp,
            Server {
                host: "mail-authcli.operateur.mssante.fr".into(),
                port: 2587
            }
        );
        assert_eq!(app.imap.port, 2143);
    }

    #[test]
    fn hostile_documents_are_clear_errors() {
        let cases = [
            ("<clientConfig", "mal formé"),
            (
                "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><clientConfig/>",
                "DTD",
            ),
            ("<html/>", "racine"),
            ("<clientConfig/>", "manque"),
        ];
        for (doc, what) in cases {
            let e = parse(doc, false).expect_err(what);
            assert!(!e.to_string().is_empty(), "{what}");
        }
        let ssl = SEED.replace(
            "<socketType>STARTTLS</socketType>",
            "<socketType>SSL</socketType>",
        );
        assert!(
            parse(&ssl, false)
                .expect_err("refused")
                .to_string()
                .contains("STARTTLS")
        );
        let port = SEED.replace("<port>1143</port>", "<port>99999</port>");
        assert!(
            parse(&port, false)
                .expect_err("refused")
                .to_string()
                .contains("port invalide")
        );
        let host = SEED.replace(
            "<hostname>mail-psc.operateur.mssante.fr</hostname>\n      <port>1143",
            "<hostname>evil host/</hostname>\n      <port>1143",
        );
        assert!(
            parse(&host, false)
                .expect_err("refused")
                .to_string()
                .contains("nom d'hôte")
        );
        let many = format!("<clientConfig>{}</clientConfig>", "<a/>".repeat(20_000));
        assert!(parse(&many, false).is_err(), "node limit");
    }
}
