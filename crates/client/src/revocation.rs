//! Whether the operator's server certificate is revoked (ECO.1.1.6), with the last unexpired
//! CRL kept on disk for when the distribution point fails (ECO.1.1.7).
//!
//! Order, like the usual clients: the OCSP responder named in the certificate's Authority
//! Information Access (RFC 6960: SHA-1 CertID, nonce, response signed by the issuing CA or a
//! responder it delegated with `id-kp-OCSPSigning`, `thisUpdate`/`nextUpdate` checked); when it
//! cannot answer `good` or `revoked`, the CRL of the certificate's distribution point,
//! downloaded each time (the référentiel speaks of retrieving "la CRL courante"), checked with
//! webpki (signature by the issuer, `nextUpdate` not passed) and then written to the cache; when
//! the download fails, the cached CRL if it is still valid. With no answer from any of them the
//! status is unknown and the connection is abandoned (hard fail): a certificate whose revocation
//! cannot be checked is not trusted.
//!
//! Only the end-entity certificate is checked: the Elementaire Organisations CA is configured
//! as trusted, like the root.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, ServerName, UnixTime};
use rustls::{CertificateError, RootCertStore};
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};
use yasna::Tag;

use crate::account::ConnectTo;
use crate::http::{self, Fetch, Schemes};

const ID_PKIX_OCSP_BASIC: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 48, 1, 1];
const ID_PKIX_OCSP_NONCE: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 48, 1, 2];
const ID_AD_OCSP: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 48, 1];
const ID_KP_OCSP_SIGNING: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 9];
const SHA1: &[u64] = &[1, 3, 14, 3, 2, 26];
/// Clock skew tolerated on OCSP times.
const SKEW: i64 = 300;
/// Largest OCSP response read.
const MAX_OCSP: usize = 64 * 1024;
/// Largest CRL read.
const MAX_CRL: usize = 16 * 1024 * 1024;

/// How the status was established, for the caller's logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// The OCSP responder said `good`.
    OcspGood,
    /// A CRL downloaded now does not list the certificate.
    CrlDownloaded,
    /// The distribution point failed; the cached CRL, still valid, does not list it.
    CrlCached,
    /// Not checked (a mutant).
    Skipped,
}

/// Why the certificate is not accepted. Texts are French (they reach the reports).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RevocationError {
    /// The certificate is revoked.
    #[error("certificat de l'opérateur révoqué ({0})")]
    Revoked(&'static str),
    /// Its status could not be established.
    #[error("statut de révocation du certificat de l'opérateur inconnu : {0}")]
    Unknown(String),
}

/// What the check needs.
#[derive(Debug, Clone)]
pub(crate) struct Revocation {
    /// IGC Santé root, DER.
    pub root: CertificateDer<'static>,
    /// The Elementaire Organisations CA, DER (the only issuer accepted).
    pub issuer: CertificateDer<'static>,
    /// Host names reached without the DNS.
    pub connect_to: Vec<ConnectTo>,
    /// Folder of the CRL cache (`None`: no cache).
    pub cache: Option<PathBuf>,
    /// Deadline of each fetch.
    pub timeout: Duration,
    /// Mutants that accept an unknown status (they trust what they cannot check).
    pub soft_fail: bool,
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The OCSP and CRL URLs of a certificate (HTTP(S) only; LDAP and others are ignored).
fn urls(cert: &X509Certificate<'_>) -> (Vec<String>, Vec<String>) {
    let mut ocsp = Vec::new();
    let mut crl = Vec::new();
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::AuthorityInfoAccess(aia) => {
                for d in &aia.accessdescs {
                    if d.access_method
                        .iter()
                        .is_some_and(|i| i.eq(ID_AD_OCSP.iter().copied()))
                        && let GeneralName::URI(u) = d.access_location
                    {
                        ocsp.push(u.to_string());
                    }
                }
            }
            ParsedExtension::CRLDistributionPoints(points) => {
                for p in points.iter() {
                    if let Some(DistributionPointName::FullName(names)) = &p.distribution_point {
                        for n in names {
                            if let GeneralName::URI(u) = n {
                                crl.push(u.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let web = |u: &String| u.starts_with("http://") || u.starts_with("https://");
    ocsp.retain(web);
    crl.retain(web);
    (ocsp, crl)
}

impl Revocation {
    /// Checks the end-entity certificate `ee` presented for `host`.
    pub async fn check(
        &self,
        ee: &CertificateDer<'_>,
        host: &str,
    ) -> Result<Checked, RevocationError> {
        match self.status(ee, host).await {
            Err(RevocationError::Unknown(_)) if self.soft_fail => Ok(Checked::Skipped),
            other => other,
        }
    }

    async fn status(
        &self,
        ee: &CertificateDer<'_>,
        host: &str,
    ) -> Result<Checked, RevocationError> {
        let (_, cert) = X509Certificate::from_der(ee)
            .map_err(|e| RevocationError::Unknown(format!("certificat illisible : {e}")))?;
        let (_, issuer) = X509Certificate::from_der(&self.issuer)
            .map_err(|e| RevocationError::Unknown(format!("AC illisible : {e}")))?;
        let (ocsp_urls, crl_urls) = urls(&cert);
        let mut reasons: Vec<String> = Vec::new();
        for url in &ocsp_urls {
            match self.ocsp(url, &cert, &issuer).await {
                Ok(OcspStatus::Good) => return Ok(Checked::OcspGood),
                Ok(OcspStatus::Revoked) => return Err(RevocationError::Revoked("OCSP")),
                Ok(OcspStatus::Unknown) => reasons.push(format!("OCSP {url} : statut inconnu")),
                Err(e) => reasons.push(format!("OCSP : {e}")),
            }
        }
        if ocsp_urls.is_empty() {
            reasons.push("pas de répondeur OCSP dans le certificat".into());
        }
        for url in &crl_urls {
            match self.crl(url, ee, host).await {
                Ok(checked) => return Ok(checked),
                Err(RevocationError::Revoked(how)) => return Err(RevocationError::Revoked(how)),
                Err(RevocationError::Unknown(e)) => reasons.push(e),
            }
        }
        if crl_urls.is_empty() {
            reasons.push("pas de point de distribution de CRL dans le certificat".into());
        }
        Err(RevocationError::Unknown(reasons.join(" ; ")))
    }

    async fn ocsp(
        &self,
        url: &str,
        cert: &X509Certificate<'_>,
        issuer: &X509Certificate<'_>,
    ) -> Result<OcspStatus, String> {
        let id = CertId::of(cert, issuer);
        let nonce: [u8; 16] = *uuid::Uuid::new_v4().as_bytes();
        let request = id.request(&nonce);
        let fetched = http::fetch(Fetch {
            url,
            schemes: Schemes::Any,
            post: Some(("application/ocsp-request", request)),
            max: MAX_OCSP,
            timeout: self.timeout,
            tls: None,
            connect_to: &self.connect_to,
        })
        .await
        .map_err(|e| e.to_string())?;
        read_response(&fetched.body, &id, &nonce, issuer, now_secs())
    }

    /// Downloads the CRL (or falls back on the cache) and judges the certificate with it.
    async fn crl(
        &self,
        url: &str,
        ee: &CertificateDer<'_>,
        host: &str,
    ) -> Result<Checked, RevocationError> {
        let cached = self.cache.as_ref().map(|dir| cache_file(dir, url));
        let download = http::fetch(Fetch {
            url,
            schemes: Schemes::Any,
            post: None,
            max: MAX_CRL,
            timeout: self.timeout,
            tls: None,
            connect_to: &self.connect_to,
        })
        .await;
        let failure = match download {
            Ok(fetched) => match crl_der(&fetched.body) {
                Ok(der) => match self.judge(ee, host, &der) {
                    Ok(()) => {
                        if let Some(path) = &cached {
                            // A cache that cannot be written is not a reason to refuse now.
                            let _ = store(path, &der);
                        }
                        return Ok(Checked::CrlDownloaded);
                    }
                    Err(e @ RevocationError::Revoked(_)) => {
                        if let Some(path) = &cached {
                            let _ = store(path, &der);
                        }
                        return Err(e);
                    }
                    Err(RevocationError::Unknown(e)) => format!("CRL {url} inutilisable : {e}"),
                },
                Err(e) => format!("CRL {url} illisible : {e}"),
            },
            Err(e) => format!("CRL : {e}"),
        };
        let Some(path) = cached else {
            return Err(RevocationError::Unknown(format!(
                "{failure} ; aucune CRL conservée"
            )));
        };
        let der = match std::fs::read(&path) {
            Ok(der) => der,
            Err(_) => {
                return Err(RevocationError::Unknown(format!(
                    "{failure} ; aucune CRL conservée"
                )));
            }
        };
        match self.judge(ee, host, &der) {
            Ok(()) => Ok(Checked::CrlCached),
            Err(RevocationError::Unknown(e)) => Err(RevocationError::Unknown(format!(
                "{failure} ; CRL conservée inutilisable : {e}"
            ))),
            Err(e) => Err(e),
        }
    }

    /// Judges `ee` with one CRL through webpki: signed by the issuer, not expired.
    fn judge(
        &self,
        ee: &CertificateDer<'_>,
        host: &str,
        crl: &[u8],
    ) -> Result<(), RevocationError> {
        let unknown = |e: String| RevocationError::Unknown(e);
        let mut roots = RootCertStore::empty();
        roots
            .add(self.root.clone())
            .map_err(|e| unknown(e.to_string()))?;
        let verifier = WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(crate::tls::provider()),
        )
        .with_crls([CertificateRevocationListDer::from(crl.to_vec())])
        .only_check_end_entity_revocation()
        .enforce_revocation_expiration()
        .build()
        .map_err(|e| unknown(e.to_string()))?;
        let name = ServerName::try_from(host.to_owned()).map_err(|e| unknown(e.to_string()))?;
        use rustls::client::danger::ServerCertVerifier;
        match verifier.verify_server_cert(
            ee,
            std::slice::from_ref(&self.issuer),
            &name,
            &[],
            UnixTime::now(),
        ) {
            Ok(_) => Ok(()),
            Err(rustls::Error::InvalidCertificate(CertificateError::Revoked)) => {
                Err(RevocationError::Revoked("CRL"))
            }
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ExpiredRevocationList
                | CertificateError::ExpiredRevocationListContext { .. },
            )) => Err(unknown("CRL expirée".into())),
            Err(e) => Err(unknown(e.to_string())),
        }
    }
}

/// A CRL as DER, from a DER or PEM download.
fn crl_der(body: &[u8]) -> Result<Vec<u8>, String> {
    if body.starts_with(b"-----BEGIN") {
        use rustls::pki_types::pem::PemObject;
        CertificateRevocationListDer::from_pem_slice(body)
            .map(|c| c.as_ref().to_vec())
            .map_err(|e| e.to_string())
    } else if body.first() == Some(&0x30) {
        Ok(body.to_vec())
    } else {
        Err("ni DER ni PEM".into())
    }
}

/// The cache file of a distribution point.
fn cache_file(dir: &Path, url: &str) -> PathBuf {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, url.as_bytes());
    let name: String = digest.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    dir.join("crl").join(format!("{name}.crl"))
}

/// Writes the CRL atomically (a reader never sees half a file).
fn store(path: &Path, der: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&tmp, der)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OcspStatus {
    Good,
    Revoked,
    Unknown,
}

/// The RFC 6960 CertID of a certificate (SHA-1, like every responder understands).
#[derive(Debug, Clone, PartialEq, Eq)]
struct CertId {
    name_hash: Vec<u8>,
    key_hash: Vec<u8>,
    serial: Vec<u8>,
}

fn sha1(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, data)
        .as_ref()
        .to_vec()
}

fn strip(serial: &[u8]) -> Vec<u8> {
    let start = serial.iter().position(|&b| b != 0).unwrap_or(serial.len());
    serial[start..].to_vec()
}

impl CertId {
    fn of(cert: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> CertId {
        CertId {
            name_hash: sha1(issuer.subject().as_raw()),
            key_hash: sha1(&issuer.public_key().subject_public_key.data),
            serial: strip(cert.raw_serial()),
        }
    }

    fn write(&self, w: yasna::DERWriter<'_>) {
        w.write_sequence(|w| {
            w.next().write_sequence(|w| {
                w.next()
                    .write_oid(&yasna::models::ObjectIdentifier::from_slice(SHA1));
                w.next().write_null();
            });
            w.next().write_bytes(&self.name_hash);
            w.next().write_bytes(&self.key_hash);
            w.next().write_bigint_bytes(&self.serial, true);
        })
    }

    fn request(&self, nonce: &[u8]) -> Vec<u8> {
        yasna::construct_der(|w| {
            w.write_sequence(|w| {
                w.next().write_sequence(|w| {
                    w.next().write_sequence_of(|w| {
                        w.next().write_sequence(|w| self.write(w.next()));
                    });
                    w.next().write_tagged(Tag::context(2), |w| {
                        w.write_sequence_of(|w| {
                            w.next().write_sequence(|w| {
                                w.next()
                                    .write_oid(&yasna::models::ObjectIdentifier::from_slice(
                                        ID_PKIX_OCSP_NONCE,
                                    ));
                                let inner = yasna::construct_der(|w| w.write_bytes(nonce));
                                w.next().write_bytes(&inner);
                            });
                        });
                    });
                });
            })
        })
    }

    fn read(der: &[u8]) -> Result<(Vec<u64>, CertId), yasna::ASN1Error> {
        yasna::parse_der(der, |r| {
            r.read_sequence(|r| {
                let hash = r.next().read_sequence(|r| {
                    let oid = r.next().read_oid()?;
                    r.read_optional(|r| r.read_null())?;
                    Ok(oid)
                })?;
                let name_hash = r.next().read_bytes()?;
                let key_hash = r.next().read_bytes()?;
                let (serial, _) = r.next().read_bigint_bytes()?;
                Ok((
                    hash.components().to_vec(),
                    CertId {
                        name_hash,
                        key_hash,
                        serial: strip(&serial),
                    },
                ))
            })
        })
    }
}

struct Single {
    id: Vec<u8>,
    status: OcspStatus,
    this_update: i64,
    next_update: Option<i64>,
}

struct Basic {
    tbs: Vec<u8>,
    algorithm: Vec<u64>,
    signature: Vec<u8>,
    certs: Vec<Vec<u8>>,
    responses: Vec<Single>,
    nonce: Option<Vec<u8>>,
}

fn time(t: yasna::models::GeneralizedTime) -> i64 {
    t.datetime().unix_timestamp()
}

fn read_extensions_nonce(der: &[u8]) -> Result<Option<Vec<u8>>, yasna::ASN1Error> {
    yasna::parse_der(der, |r| {
        let mut found = None;
        r.read_sequence_of(|r| {
            r.read_sequence(|r| {
                let oid = r.next().read_oid()?;
                r.read_optional(|r| r.read_bool())?;
                let value = r.next().read_bytes()?;
                if oid.components().as_slice() == ID_PKIX_OCSP_NONCE {
                    // The value is an OCTET STRING holding the nonce; some responders put the
                    // bare bytes.
                    found = Some(yasna::parse_der(&value, |r| r.read_bytes()).unwrap_or(value));
                }
                Ok(())
            })
        })?;
        Ok(found)
    })
}

fn read_basic(der: &[u8]) -> Result<Basic, yasna::ASN1Error> {
    let (tbs, algorithm, signature, certs) = yasna::parse_der(der, |r| {
        r.read_sequence(|r| {
            let tbs = r.next().read_der()?;
            let algorithm = r.next().read_sequence(|r| {
                let oid = r.next().read_oid()?;
                r.read_optional(|r| r.read_der())?;
                Ok(oid.components().to_vec())
            })?;
            let (signature, _) = r.next().read_bitvec_bytes()?;
            let certs = r
                .read_optional(|r| {
                    r.read_tagged(Tag::context(0), |r| r.collect_sequence_of(|r| r.read_der()))
                })?
                .unwrap_or_default();
            Ok((tbs, algorithm, signature, certs))
        })
    })?;
    let (responses, nonce) = yasna::parse_der(&tbs, |r| {
        r.read_sequence(|r| {
            r.read_optional(|r| r.read_tagged(Tag::context(0), |r| r.read_der()))?;
            r.next().read_der()?; // responderID
            r.next().read_generalized_time()?; // producedAt
            let mut responses = Vec::new();
            r.next().read_sequence_of(|r| {
                let single = r.read_sequence(|r| {
                    let id = r.next().read_der()?;
                    let status = r.next().read_tagged_der()?;
                    let status = match (status.tag().tag_class, status.tag().tag_number) {
                        (yasna::TagClass::ContextSpecific, 0) => OcspStatus::Good,
                        (yasna::TagClass::ContextSpecific, 1) => OcspStatus::Revoked,
                        _ => OcspStatus::Unknown,
                    };
                    let this_update = time(r.next().read_generalized_time()?);
                    let next_update = r.read_optional(|r| {
                        r.read_tagged(Tag::context(0), |r| r.read_generalized_time())
                    })?;
                    r.read_optional(|r| r.read_tagged(Tag::context(1), |r| r.read_der()))?;
                    Ok(Single {
                        id,
                        status,
                        this_update,
                        next_update: next_update.map(time),
                    })
                })?;
                responses.push(single);
                Ok(())
            })?;
            let extensions =
                r.read_optional(|r| r.read_tagged(Tag::context(1), |r| r.read_der()))?;
            let nonce = match extensions {
                Some(e) => read_extensions_nonce(&e)?,
                None => None,
            };
            Ok((responses, nonce))
        })
    })?;
    Ok(Basic {
        tbs,
        algorithm,
        signature,
        certs,
        responses,
        nonce,
    })
}

/// Verifies `signature` over `message` by the key of `signer`, for the signature algorithm OID.
fn verify(
    signer: &X509Certificate<'_>,
    algorithm: &[u64],
    message: &[u8],
    signature: &[u8],
) -> bool {
    use aws_lc_rs::signature as sig;
    let alg: &dyn sig::VerificationAlgorithm = match algorithm {
        [1, 2, 840, 113549, 1, 1, 11] => &sig::RSA_PKCS1_2048_8192_SHA256,
        [1, 2, 840, 113549, 1, 1, 12] => &sig::RSA_PKCS1_2048_8192_SHA384,
        [1, 2, 840, 113549, 1, 1, 13] => &sig::RSA_PKCS1_2048_8192_SHA512,
        [1, 2, 840, 10045, 4, 3, 2] => &sig::ECDSA_P256_SHA256_ASN1,
        [1, 2, 840, 10045, 4, 3, 3] => &sig::ECDSA_P384_SHA384_ASN1,
        _ => return false,
    };
    let key = &signer.public_key().subject_public_key.data;
    sig::UnparsedPublicKey::new(alg, key.as_ref())
        .verify(message, signature)
        .is_ok()
}

/// A responder certificate delegated by `issuer` (signed by it, `id-kp-OCSPSigning`, in its
/// validity period).
fn delegated<'a>(
    der: &'a [u8],
    issuer: &X509Certificate<'_>,
    now: i64,
) -> Option<X509Certificate<'a>> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let oid: Vec<u64> = cert.signature_algorithm.algorithm.iter()?.collect();
    if !verify(
        issuer,
        &oid,
        cert.tbs_certificate.as_ref(),
        &cert.signature_value.data,
    ) {
        return None;
    }
    let ocsp_signing = cert
        .extensions()
        .iter()
        .any(|e| match e.parsed_extension() {
            ParsedExtension::ExtendedKeyUsage(eku) => {
                eku.ocsp_signing
                    || eku.other.iter().any(|o| {
                        o.iter()
                            .is_some_and(|i| i.eq(ID_KP_OCSP_SIGNING.iter().copied()))
                    })
            }
            _ => false,
        });
    let v = cert.validity();
    (ocsp_signing && v.not_before.timestamp() <= now && now <= v.not_after.timestamp())
        .then_some(cert)
}

/// Reads and checks an OCSP response about `id`.
fn read_response(
    der: &[u8],
    id: &CertId,
    nonce: &[u8],
    issuer: &X509Certificate<'_>,
    now: i64,
) -> Result<OcspStatus, String> {
    let (status, bytes) = yasna::parse_der(der, |r| {
        r.read_sequence(|r| {
            let status = r.next().read_enum()?;
            let bytes = r.read_optional(|r| {
                r.read_tagged(Tag::context(0), |r| {
                    r.read_sequence(|r| {
                        let oid = r.next().read_oid()?;
                        let response = r.next().read_bytes()?;
                        Ok((oid.components().to_vec(), response))
                    })
                })
            })?;
            Ok((status, bytes))
        })
    })
    .map_err(|e| format!("réponse OCSP illisible ({e})"))?;
    if status != 0 {
        return Err(format!(
            "répondeur OCSP en erreur (responseStatus {status})"
        ));
    }
    let Some((kind, bytes)) = bytes else {
        return Err("réponse OCSP sans contenu".into());
    };
    if kind != ID_PKIX_OCSP_BASIC {
        return Err("réponse OCSP d'un type inconnu".into());
    }
    let basic = read_basic(&bytes).map_err(|e| format!("réponse OCSP illisible ({e})"))?;
    let signed = verify(issuer, &basic.algorithm, &basic.tbs, &basic.signature)
        || basic.certs.iter().any(|c| {
            delegated(c, issuer, now)
                .is_some_and(|d| verify(&d, &basic.algorithm, &basic.tbs, &basic.signature))
        });
    if !signed {
        return Err(
            "réponse OCSP dont la signature n'est ni de l'AC ni d'un répondeur délégué".into(),
        );
    }
    if let Some(echoed) = &basic.nonce
        && echoed.as_slice() != nonce
    {
        return Err("réponse OCSP avec un autre nonce (rejouée ?)".into());
    }
    let single = basic
        .responses
        .iter()
        .find(|s| CertId::read(&s.id).is_ok_and(|(hash, other)| hash == SHA1 && &other == id))
        .ok_or("réponse OCSP qui ne porte pas sur ce certificat")?;
    if single.this_update > now + SKEW {
        return Err("réponse OCSP datée du futur".into());
    }
    if single.next_update.is_some_and(|n| n < now - SKEW) {
        return Err("réponse OCSP périmée".into());
    }
    Ok(single.status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pki() -> pki::Pki {
        let certs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../certs");
        let certs = std::env::var_os("MSS_CERTS_DIR").map_or(certs, PathBuf::from);
        pki::ensure(&certs, &operator::Directory::embedded().pki_profile())
            .expect("pki")
            .0
    }

    /// The fake IGC Santé's responder answers a request of ours; our reader checks the answer.
    #[test]
    fn ocsp_answers_are_checked_for_signature_nonce_subject_and_freshness() {
        let pki = pki();
        let (_, leaf) = X509Certificate::from_der(&pki.server.cert.der).expect("leaf");
        let (_, issuer) = X509Certificate::from_der(&pki.organisations.cert.der).expect("ca");
        let id = CertId::of(&leaf, &issuer);
        let nonce = [7u8; 16];
        let now = time::OffsetDateTime::now_utc();
        let der = pki::ocsp::respond(&pki, &id.request(&nonce), now).der;
        let at = now.unix_timestamp();
        assert_eq!(
            read_response(&der, &id, &nonce, &issuer, at),
            Ok(OcspStatus::Good)
        );
        let e = read_response(&der, &id, &[8u8; 16], &issuer, at).expect_err("nonce");
        assert!(e.contains("nonce"), "{e}");
        let e = read_response(&der, &id, &nonce, &issuer, at - 86_400).expect_err("future");
        assert!(e.contains("futur"), "{e}");
        let e = read_response(&der, &id, &nonce, &issuer, at + 365 * 86_400).expect_err("stale");
        assert!(e.contains("périmée"), "{e}");
        let other = CertId {
            serial: vec![1, 2, 3],
            ..id.clone()
        };
        let e = read_response(&der, &other, &nonce, &issuer, at).expect_err("other certificate");
        assert!(e.contains("ne porte pas"), "{e}");
        // Signed by someone else: the root is not the responder of the Organisations CA.
        let (_, root) = X509Certificate::from_der(&pki.root.cert.der).expect("root");
        let e = read_response(&der, &id, &nonce, &root, at).expect_err("signer");
        assert!(e.contains("signature"), "{e}");
        // Truncations and garbage never panic.
        for n in (0..der.len()).step_by(7) {
            let _ = read_response(&der[..n], &id, &nonce, &issuer, at);
        }
    }

    #[test]
    fn the_certificate_names_its_responder_and_distribution_point() {
        let pki = pki();
        let (_, leaf) = X509Certificate::from_der(&pki.server.cert.der).expect("leaf");
        let (ocsp, crl) = urls(&leaf);
        assert_eq!(ocsp, ["http://ocsp.operateur-fictif.mssante.fr/ocsp"]);
        assert_eq!(crl.len(), 1, "{crl:?}");
        assert!(
            crl[0].starts_with("http://crl.operateur-fictif.mssante.fr/"),
            "{crl:?}"
        );
    }
}
