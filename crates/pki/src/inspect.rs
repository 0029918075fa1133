//! Reading certificates and CRLs back: the summaries the journal and the reports show, and the
//! few fields decisions depend on (OU of an ORG AUTH_CLI certificate, validity dates).

use serde::Serialize;
use time::OffsetDateTime;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::objects::{oid_registry, oid2abbrev};
use x509_parser::x509::X509Name;

/// Why a certificate could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable certificate: {0}")]
pub struct InspectError(pub String);

/// What the journal and the reports say about a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertSummary {
    /// Subject, most specific first (`CN=..., OU=..., O=..., C=FR`).
    pub subject: String,
    /// Issuer, same order.
    pub issuer: String,
    /// Common name of the subject.
    pub subject_cn: Option<String>,
    /// Organisational units of the subject (the IdNatStruc for ORG AUTH_CLI).
    pub subject_ou: Vec<String>,
    /// Common name of the issuer.
    pub issuer_cn: Option<String>,
    /// Serial number, hexadecimal.
    pub serial: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// DNS names of the subjectAltName.
    pub dns_names: Vec<String>,
    /// Whether the certificate is a CA.
    pub is_ca: bool,
    /// Extended key usage serverAuth.
    pub server_auth: bool,
    /// Extended key usage clientAuth.
    pub client_auth: bool,
    /// Size of an RSA key, in bits.
    pub key_bits: Option<usize>,
    /// Signature algorithm, short name.
    pub signature_algorithm: String,
}

/// Summarises a DER certificate.
pub fn summarize(der: &[u8]) -> Result<CertSummary, InspectError> {
    let (_, cert) =
        x509_parser::parse_x509_certificate(der).map_err(|e| InspectError(e.to_string()))?;
    let tbs = &cert.tbs_certificate;
    let mut dns_names = Vec::new();
    let (mut server_auth, mut client_auth) = (false, false);
    for ext in tbs.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                for name in &san.general_names {
                    if let GeneralName::DNSName(dns) = name {
                        dns_names.push((*dns).to_owned());
                    }
                }
            }
            ParsedExtension::ExtendedKeyUsage(eku) => {
                server_auth |= eku.server_auth;
                client_auth |= eku.client_auth;
            }
            _ => {}
        }
    }
    let key_bits = match tbs.subject_pki.parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => Some(rsa.key_size()),
        _ => None,
    };
    let signature_algorithm = oid2abbrev(&cert.signature_algorithm.algorithm, oid_registry())
        .map(str::to_owned)
        .unwrap_or_else(|_| cert.signature_algorithm.algorithm.to_id_string());
    Ok(CertSummary {
        subject: name_to_string(tbs.subject()),
        issuer: name_to_string(tbs.issuer()),
        subject_cn: first(tbs.subject().iter_common_name()),
        subject_ou: tbs
            .subject()
            .iter_organizational_unit()
            .filter_map(|a| a.as_str().ok().map(str::to_owned))
            .collect(),
        issuer_cn: first(tbs.issuer().iter_common_name()),
        serial: tbs.raw_serial_as_string().replace(':', ""),
        not_before: asn1_time(tbs.validity().not_before),
        not_after: asn1_time(tbs.validity().not_after),
        dns_names,
        is_ca: tbs.is_ca(),
        server_auth,
        client_auth,
        key_bits,
        signature_algorithm,
    })
}

/// The DER encoding of a certificate's subject name (what TLS servers send as CA hints).
pub fn subject_der(der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(cert.tbs_certificate.subject().as_raw().to_vec())
}

/// The nextUpdate of a DER CRL, if it parses and has one.
pub fn crl_next_update(der: &[u8]) -> Option<OffsetDateTime> {
    let (_, crl) = x509_parser::parse_x509_crl(der).ok()?;
    crl.next_update().map(asn1_time)
}

/// Serial numbers (hexadecimal, as in [`CertSummary::serial`]) listed by a DER CRL.
pub fn crl_revoked_serials(der: &[u8]) -> Option<Vec<String>> {
    let (_, crl) = x509_parser::parse_x509_crl(der).ok()?;
    Some(
        crl.iter_revoked_certificates()
            .map(|r| r.raw_serial_as_string().replace(':', ""))
            .collect(),
    )
}

fn asn1_time(t: x509_parser::time::ASN1Time) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t.timestamp()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn first<'a>(
    mut it: impl Iterator<Item = &'a x509_parser::x509::AttributeTypeAndValue<'a>>,
) -> Option<String> {
    it.next().and_then(|a| a.as_str().ok().map(str::to_owned))
}

/// Formats a name most specific first, the way the référentiel writes them.
fn name_to_string(name: &X509Name<'_>) -> String {
    let mut parts = Vec::new();
    for rdn in name.iter().collect::<Vec<_>>().into_iter().rev() {
        for attr in rdn.iter() {
            let key = oid2abbrev(attr.attr_type(), oid_registry())
                .map(str::to_owned)
                .unwrap_or_else(|_| attr.attr_type().to_id_string());
            let value = attr
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|_| "<?>".to_owned());
            parts.push(format!("{key}={value}"));
        }
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(summarize(b"not a certificate").is_err());
        assert!(summarize(&[]).is_err());
        assert_eq!(crl_next_update(b"\x30\x03\x02\x01"), None);
    }
}
