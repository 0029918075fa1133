//! The weak TLS profiles, served by OpenSSL because rustls refuses to be weak (and rightly so).
//! Each is a real handshake a client can complete if it is lax enough; a conformant client
//! aborts it (ECO.1.1.1, ECO.1.1.3).
//!
//! | profile | what the server offers |
//! |---|---|
//! | `tls10-only` | TLS 1.0 only (ECDHE-RSA with AES-CBC-SHA) |
//! | `tls11-only` | TLS 1.1 only |
//! | `dhe-1024` | TLS 1.2, DHE-RSA-AES-GCM (0x009E/0x009F, allowed suites) over a 1024-bit group |
//! | `ecdhe-p224` | TLS 1.2, ECDHE-RSA-AES-GCM (allowed suites) on secp224r1 / secp192r1 only |
//! | `cbc-sha` | TLS 1.2, ECDHE-RSA-AES-CBC-SHA (0xC013/0xC014), outside the ECO.1.1.3 list |

use openssl::dh::Dh;
use openssl::pkey::PKey;
use openssl::ssl::{SslContext, SslContextBuilder, SslMethod, SslVerifyMode, SslVersion};
use openssl::x509::X509;
use serde::Serialize;

use super::TlsConfigError;

/// A weakness of the server's TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Weakness {
    /// Only TLS 1.0.
    Tls10Only,
    /// Only TLS 1.1.
    Tls11Only,
    /// DHE with a 1024-bit group.
    #[serde(rename = "dhe-1024")]
    WeakDh,
    /// ECDHE on curves smaller than 256 bits.
    #[serde(rename = "ecdhe-p224")]
    SmallCurve,
    /// A CBC suite with SHA-1, outside the référentiel's list.
    CbcSha,
}

impl Weakness {
    /// All of them.
    pub const ALL: [Weakness; 5] = [
        Weakness::Tls10Only,
        Weakness::Tls11Only,
        Weakness::WeakDh,
        Weakness::SmallCurve,
        Weakness::CbcSha,
    ];

    /// Name of the profile.
    pub fn name(self) -> &'static str {
        match self {
            Weakness::Tls10Only => "tls10-only",
            Weakness::Tls11Only => "tls11-only",
            Weakness::WeakDh => "dhe-1024",
            Weakness::SmallCurve => "ecdhe-p224",
            Weakness::CbcSha => "cbc-sha",
        }
    }

    /// The key exchange group the server imposes, for the journal.
    pub fn group(self) -> Option<&'static str> {
        match self {
            Weakness::WeakDh => Some("DH 1024 bits (RFC 5114)"),
            Weakness::SmallCurve => Some("secp224r1 ou secp192r1"),
            _ => None,
        }
    }
}

fn err(e: impl std::fmt::Display) -> TlsConfigError {
    TlsConfigError(format!("OpenSSL: {e}"))
}

/// The OpenSSL context of a weak profile.
pub(crate) fn context(
    weakness: Weakness,
    credential: &pki::Credential,
    request_client_certificate: bool,
) -> Result<SslContext, TlsConfigError> {
    let mut b = SslContextBuilder::new(SslMethod::tls_server()).map_err(err)?;
    // Level 0: OpenSSL would otherwise refuse TLS 1.0, SHA-1 and small groups itself.
    b.set_security_level(0);
    let cert = X509::from_der(&credential.cert.der).map_err(err)?;
    b.set_certificate(&cert).map_err(err)?;
    for c in &credential.intermediates {
        b.add_extra_chain_cert(X509::from_der(&c.der).map_err(err)?)
            .map_err(err)?;
    }
    let key = PKey::private_key_from_pem(credential.key.expose().as_bytes()).map_err(err)?;
    b.set_private_key(&key).map_err(err)?;
    let (version, ciphers) = match weakness {
        Weakness::Tls10Only => (
            SslVersion::TLS1,
            "ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA",
        ),
        Weakness::Tls11Only => (
            SslVersion::TLS1_1,
            "ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA",
        ),
        Weakness::WeakDh => (
            SslVersion::TLS1_2,
            "DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256",
        ),
        Weakness::SmallCurve => (
            SslVersion::TLS1_2,
            "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256",
        ),
        Weakness::CbcSha => (
            SslVersion::TLS1_2,
            "ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA",
        ),
    };
    b.set_min_proto_version(Some(version)).map_err(err)?;
    b.set_max_proto_version(Some(version)).map_err(err)?;
    b.set_cipher_list(&format!("{ciphers}:@SECLEVEL=0"))
        .map_err(err)?;
    match weakness {
        Weakness::WeakDh => {
            let dh = Dh::get_1024_160().map_err(err)?;
            b.set_tmp_dh(&dh).map_err(err)?;
        }
        Weakness::SmallCurve => b.set_groups_list("secp224r1:prime192v1").map_err(err)?,
        _ => b.set_groups_list("P-256:P-384").map_err(err)?,
    }
    if request_client_certificate {
        // Ask for a certificate, take any: it is judged after the handshake, like with rustls.
        b.set_verify_callback(SslVerifyMode::PEER, |_, _| true);
    }
    Ok(b.build())
}

/// The allowed TLS 1.2 suites rustls does not implement (ECO.1.1.3): 0xC028, 0xC027 (CBC with
/// SHA-384/256) and 0x009F, 0x009E (DHE with AES-GCM).
pub(crate) const OPENSSL_ONLY_SUITES: [u16; 4] = [0xC028, 0xC027, 0x009F, 0x009E];

/// The sound profiles (good, TLS 1.2 only) on OpenSSL, for a client that offers only allowed
/// suites rustls does not implement: all six suites of ECO.1.1.3, ECDHE on P-256/P-384, DHE
/// with a 2,048-bit group; TLS 1.3 too when `tls13`.
pub(crate) fn sound_context(
    credential: &pki::Credential,
    request_client_certificate: bool,
    tls13: bool,
) -> Result<SslContext, TlsConfigError> {
    let mut b = SslContextBuilder::new(SslMethod::tls_server()).map_err(err)?;
    let cert = X509::from_der(&credential.cert.der).map_err(err)?;
    b.set_certificate(&cert).map_err(err)?;
    for c in &credential.intermediates {
        b.add_extra_chain_cert(X509::from_der(&c.der).map_err(err)?)
            .map_err(err)?;
    }
    let key = PKey::private_key_from_pem(credential.key.expose().as_bytes()).map_err(err)?;
    b.set_private_key(&key).map_err(err)?;
    b.set_min_proto_version(Some(SslVersion::TLS1_2))
        .map_err(err)?;
    b.set_max_proto_version(Some(if tls13 {
        SslVersion::TLS1_3
    } else {
        SslVersion::TLS1_2
    }))
    .map_err(err)?;
    b.set_cipher_list(
        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-SHA384:\
         ECDHE-RSA-AES128-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256",
    )
    .map_err(err)?;
    let dh = Dh::get_2048_256().map_err(err)?;
    b.set_tmp_dh(&dh).map_err(err)?;
    b.set_groups_list("P-256:P-384").map_err(err)?;
    if request_client_certificate {
        b.set_verify_callback(SslVerifyMode::PEER, |_, _| true);
    }
    Ok(b.build())
}

/// The key exchange group of a sound OpenSSL connection, as the journal names groups. OpenSSL
/// keeps no ephemeral key once the handshake is over on the server side, so it is told from
/// what was configured: DHE is always the 2,048-bit group; ECDHE takes, in TLS 1.2, the first
/// group of the client's list the server supports (OpenSSL's default without server
/// preference).
pub(crate) fn sound_group(suite: u16, client_groups: &[String]) -> Option<String> {
    if matches!(suite, 0x009F | 0x009E) {
        return Some("DH 2048 bits (RFC 5114)".to_owned());
    }
    client_groups
        .iter()
        .find(|g| *g == "secp256r1" || *g == "secp384r1")
        .cloned()
}
