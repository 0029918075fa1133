//! The OCSP responder of the Elementaire Organisations CA (RFC 6960), as DER in and DER out.
//!
//! Requests and responses are read and written with `yasna` (already used by rcgen to write
//! certificates) rather than the stale `x509-ocsp` stack; `openssl ocsp` is the proof that the
//! result is right. Responses are signed by the CA itself (no delegated responder), name it by
//! its subject, include its certificate, and echo the request's nonce.
//!
//! A certificate the CA issued is `good`, or `revoked` when its CRL lists it; any other serial
//! is `unknown`, and so is a request about another issuer.

use std::collections::BTreeSet;

use rcgen::{KeyPair, SigningKey};
use time::{Duration, OffsetDateTime};
use yasna::models::{GeneralizedTime, ObjectIdentifier};
use yasna::{ASN1Error, ASN1ErrorKind, Tag};

use crate::Pki;

const ID_PKIX_OCSP_BASIC: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 48, 1, 1];
const ID_PKIX_OCSP_NONCE: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 48, 1, 2];
const SHA1: &[u64] = &[1, 3, 14, 3, 2, 26];
const SHA256: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 1];
const SHA256_WITH_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 11];

/// `OCSPResponseStatus` values used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseStatus {
    /// 0: the response carries statuses.
    Successful = 0,
    /// 1: the request could not be read.
    MalformedRequest = 1,
    /// 2: the responder failed.
    InternalError = 2,
}

/// The status of one certificate in a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertStatus {
    /// Issued and not revoked.
    Good,
    /// Listed by the CRL.
    Revoked,
    /// Not known to this responder.
    Unknown,
}

/// What a response said, for the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The response, DER.
    pub der: Vec<u8>,
    /// Overall status.
    pub status: ResponseStatus,
    /// Serial (hexadecimal) and status of each certificate asked about.
    pub certificates: Vec<(String, CertStatus)>,
}

struct CertId {
    der: Vec<u8>,
    hash: Vec<u64>,
    name_hash: Vec<u8>,
    key_hash: Vec<u8>,
    serial: Vec<u8>,
}

struct Request {
    ids: Vec<CertId>,
    nonce: Option<Vec<u8>>,
}

fn strip(serial: &[u8]) -> &[u8] {
    let start = serial.iter().position(|&b| b != 0).unwrap_or(serial.len());
    &serial[start..]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_cert_id(der: &[u8]) -> Result<CertId, ASN1Error> {
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
            Ok(CertId {
                der: der.to_vec(),
                hash: hash.components().to_vec(),
                name_hash,
                key_hash,
                serial,
            })
        })
    })
}

/// Finds the nonce extension in `requestExtensions` and returns the whole Extension, DER.
fn nonce(extensions: &[u8]) -> Result<Option<Vec<u8>>, ASN1Error> {
    yasna::parse_der(extensions, |r| {
        let mut found = None;
        r.read_sequence_of(|r| {
            let der = r.read_der()?;
            let is_nonce = yasna::parse_der(&der, |r| {
                r.read_sequence(|r| {
                    let oid = r.next().read_oid()?;
                    r.read_optional(|r| r.read_bool())?;
                    r.next().read_bytes()?;
                    Ok(oid.components().as_slice() == ID_PKIX_OCSP_NONCE)
                })
            })?;
            if is_nonce {
                found = Some(der);
            }
            Ok(())
        })?;
        Ok(found)
    })
}

fn parse_request(der: &[u8]) -> Result<Request, ASN1Error> {
    let (ids, extensions) = yasna::parse_der(der, |r| {
        r.read_sequence(|r| {
            let tbs = r.next().read_sequence(|r| {
                r.read_optional(|r| r.read_tagged(Tag::context(0), |r| r.read_der()))?;
                r.read_optional(|r| r.read_tagged(Tag::context(1), |r| r.read_der()))?;
                let mut ids = Vec::new();
                r.next().read_sequence_of(|r| {
                    let id = r.read_sequence(|r| {
                        let id = r.next().read_der()?;
                        r.read_optional(|r| r.read_tagged(Tag::context(0), |r| r.read_der()))?;
                        Ok(id)
                    })?;
                    ids.push(id);
                    Ok(())
                })?;
                let extensions =
                    r.read_optional(|r| r.read_tagged(Tag::context(2), |r| r.read_der()))?;
                Ok((ids, extensions))
            })?;
            r.read_optional(|r| r.read_tagged(Tag::context(0), |r| r.read_der()))?;
            Ok(tbs)
        })
    })?;
    if ids.is_empty() {
        return Err(ASN1Error::new(ASN1ErrorKind::Invalid));
    }
    Ok(Request {
        ids: ids
            .iter()
            .map(|d| parse_cert_id(d))
            .collect::<Result<_, _>>()?,
        nonce: match extensions {
            Some(e) => nonce(&e)?,
            None => None,
        },
    })
}

fn digest(oid: &[u64], data: &[u8]) -> Option<Vec<u8>> {
    use aws_lc_rs::digest;
    let algorithm = if oid == SHA1 {
        &digest::SHA1_FOR_LEGACY_USE_ONLY
    } else if oid == SHA256 {
        &digest::SHA256
    } else {
        return None;
    };
    Some(digest::digest(algorithm, data).as_ref().to_vec())
}

/// Builds a response with no body (malformed request, internal error).
fn bare(status: ResponseStatus) -> Answer {
    Answer {
        der: yasna::construct_der(|w| w.write_sequence(|w| w.next().write_enum(status as i64))),
        status,
        certificates: Vec::new(),
    }
}

/// Answers a DER OCSP request on behalf of the Elementaire Organisations CA.
pub fn respond(pki: &Pki, request: &[u8], now: OffsetDateTime) -> Answer {
    let Ok(request) = parse_request(request) else {
        return bare(ResponseStatus::MalformedRequest);
    };
    let Ok((_, ca)) = x509_parser::parse_x509_certificate(&pki.organisations.cert.der) else {
        return bare(ResponseStatus::InternalError);
    };
    let ca_name = ca.tbs_certificate.subject().as_raw();
    let ca_key = ca
        .tbs_certificate
        .subject_pki
        .subject_public_key
        .data
        .as_ref();
    let revoked: BTreeSet<String> = crate::inspect::crl_revoked_serials(&pki.organisations_crl.der)
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.trim_start_matches('0').to_owned())
        .collect();
    let issued: BTreeSet<String> = pki
        .issued_by_organisations()
        .iter()
        .filter_map(|der| crate::inspect::summarize(der).ok())
        .map(|s| s.serial.trim_start_matches('0').to_owned())
        .collect();

    let mut certificates = Vec::new();
    let produced = GeneralizedTime::from_datetime(now.replace_nanosecond(0).unwrap_or(now));
    let this_update = GeneralizedTime::from_datetime(
        (now - Duration::minutes(1))
            .replace_nanosecond(0)
            .unwrap_or(now),
    );
    let next_update = GeneralizedTime::from_datetime(
        (now + Duration::days(1))
            .replace_nanosecond(0)
            .unwrap_or(now),
    );
    let revocation_time = GeneralizedTime::from_datetime(
        (now - Duration::days(1))
            .replace_nanosecond(0)
            .unwrap_or(now),
    );
    for id in &request.ids {
        let ours = digest(&id.hash, ca_name).as_deref() == Some(&id.name_hash[..])
            && digest(&id.hash, ca_key).as_deref() == Some(&id.key_hash[..]);
        let serial = hex(strip(&id.serial));
        let status = if !ours {
            CertStatus::Unknown
        } else if revoked.contains(&serial) {
            CertStatus::Revoked
        } else if issued.contains(&serial) {
            CertStatus::Good
        } else {
            CertStatus::Unknown
        };
        certificates.push((serial, status));
    }

    let tbs = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next()
                .write_tagged(Tag::context(1), |w| w.write_der(ca_name));
            w.next().write_generalized_time(&produced);
            w.next().write_sequence(|w| {
                for (id, (_, status)) in request.ids.iter().zip(&certificates) {
                    w.next().write_sequence(|w| {
                        w.next().write_der(&id.der);
                        match status {
                            CertStatus::Good => w
                                .next()
                                .write_tagged_implicit(Tag::context(0), |w| w.write_null()),
                            CertStatus::Revoked => {
                                w.next().write_tagged_implicit(Tag::context(1), |w| {
                                    w.write_sequence(|w| {
                                        w.next().write_generalized_time(&revocation_time);
                                    })
                                })
                            }
                            CertStatus::Unknown => w
                                .next()
                                .write_tagged_implicit(Tag::context(2), |w| w.write_null()),
                        }
                        w.next().write_generalized_time(&this_update);
                        w.next().write_tagged(Tag::context(0), |w| {
                            w.write_generalized_time(&next_update)
                        });
                    });
                }
            });
            if let Some(nonce) = &request.nonce {
                w.next().write_tagged(Tag::context(1), |w| {
                    w.write_sequence(|w| w.next().write_der(nonce))
                });
            }
        })
    });
    let Ok(key) = KeyPair::from_pem(pki.organisations.key.expose()) else {
        return bare(ResponseStatus::InternalError);
    };
    let Ok(signature) = key.sign(&tbs) else {
        return bare(ResponseStatus::InternalError);
    };
    let basic = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_der(&tbs);
            w.next().write_sequence(|w| {
                w.next()
                    .write_oid(&ObjectIdentifier::from_slice(SHA256_WITH_RSA));
                w.next().write_null();
            });
            w.next().write_bitvec_bytes(&signature, signature.len() * 8);
            w.next().write_tagged(Tag::context(0), |w| {
                w.write_sequence(|w| w.next().write_der(&pki.organisations.cert.der))
            });
        })
    });
    let der = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_enum(ResponseStatus::Successful as i64);
            w.next().write_tagged(Tag::context(0), |w| {
                w.write_sequence(|w| {
                    w.next()
                        .write_oid(&ObjectIdentifier::from_slice(ID_PKIX_OCSP_BASIC));
                    w.next().write_bytes(&basic);
                })
            });
        })
    });
    Answer {
        der,
        status: ResponseStatus::Successful,
        certificates,
    }
}

/// The DER content of an Authority Information Access extension naming an OCSP responder.
pub(crate) fn aia_extension(url: &str) -> rcgen::CustomExtension {
    let content = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_sequence(|w| {
                w.next()
                    .write_oid(&ObjectIdentifier::from_slice(&[1, 3, 6, 1, 5, 5, 7, 48, 1]));
                w.next()
                    .write_tagged_implicit(Tag::context(6), |w| w.write_ia5_string(url));
            })
        })
    });
    rcgen::CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_a_malformed_request_not_a_panic() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (pki, _) = crate::ensure(dir.path(), &crate::tests::profile()).expect("pki");
        for bad in [
            &b""[..],
            b"\x30\x00",
            b"\x30\x03\x30\x01\x00",
            b"not der at all",
        ] {
            let answer = respond(&pki, bad, OffsetDateTime::now_utc());
            assert_eq!(answer.status, ResponseStatus::MalformedRequest, "{bad:?}");
            assert_eq!(answer.der, vec![0x30, 0x03, 0x0a, 0x01, 0x01]);
        }
    }
}
