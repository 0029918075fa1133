//! The reference client's TLS policy:
//!
//! * offers only the ECO.1.1.3 suites it can do (0xC030, 0xC02F) and TLS 1.3 (ECO.1.1.2), with
//!   ECDHE on P-384/P-256 (≥ 256 bits);
//! * trusts only the IGC Santé root it is given, and only server certificates issued by the
//!   Elementaire Organisations CA (ECO.1.1.10), checking validity dates (ECO.1.1.5) and the host
//!   name;
//! * presents the ORG AUTH_CLI certificate on the application entry point (ECO.1.3.1).

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, aws_lc_rs};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::account::{Credentials, Defect, Defects, Trust};

/// Why the TLS policy could not be built.
#[derive(Debug, thiserror::Error)]
#[error("TLS configuration: {0}")]
pub struct TlsPolicyError(pub String);

fn err(e: impl std::fmt::Display) -> TlsPolicyError {
    TlsPolicyError(e.to_string())
}

/// The suites and groups the référentiel allows (and rustls implements).
pub fn provider() -> CryptoProvider {
    use aws_lc_rs::cipher_suite as cs;
    use aws_lc_rs::kx_group as kx;
    CryptoProvider {
        cipher_suites: vec![
            cs::TLS13_AES_256_GCM_SHA384,
            cs::TLS13_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ],
        kx_groups: vec![kx::SECP384R1, kx::SECP256R1],
        ..aws_lc_rs::default_provider()
    }
}

fn one_cert(pem: &str, what: &str) -> Result<CertificateDer<'static>, TlsPolicyError> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| TlsPolicyError(format!("{what}: {e}")))
}

/// Accepts a server certificate only if the standard checks pass *and* its issuer is the
/// Elementaire Organisations CA.
#[derive(Debug)]
struct ElementaireOrganisationsOnly {
    inner: Arc<WebPkiServerVerifier>,
    organisations: CertificateDer<'static>,
    /// Mutant: builds the chain with whatever intermediates the server sends (another range of
    /// the IGC Santé root is then accepted).
    any_range: bool,
    /// Mutant: accepts a certificate out of its validity period.
    ignore_dates: bool,
    /// Mutant: accepts a certificate of any issuer (name and dates still checked).
    any_ca: bool,
}

impl ServerCertVerifier for ElementaireOrganisationsOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // Only the Organisations CA may be the intermediate: ignore any other the server sends,
        // so a chain through another range of the root cannot be built.
        let only = [self.organisations.clone()];
        let chain: &[CertificateDer<'_>] = if self.any_range { intermediates } else { &only };
        match self
            .inner
            .verify_server_cert(end_entity, chain, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Expired
                | rustls::CertificateError::ExpiredContext { .. }
                | rustls::CertificateError::NotValidYet
                | rustls::CertificateError::NotValidYetContext { .. },
            )) if self.ignore_dates => Ok(ServerCertVerified::assertion()),
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer | rustls::CertificateError::BadSignature,
            )) if self.any_ca => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// TLS 1.3 (ECO.1.1.2) and 1.2 (ECO.1.1.1).
static VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];
/// The `tls13-only` mutant's.
static TLS13_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];

/// Builds the client configuration for an account; `defects` are the mutants' (none by
/// default): TLS ones are `OffersChacha20`, `TrustsOtherRange`, `IgnoresCertificateDates`.
pub fn client_config(
    trust: &Trust,
    credentials: &Credentials,
    present_certificate: bool,
    defects: &Defects,
) -> Result<Arc<ClientConfig>, TlsPolicyError> {
    let mut provider = provider();
    if defects.contains(&Defect::OffersChacha20) {
        provider
            .cipher_suites
            .push(aws_lc_rs::cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256);
    }
    let provider = Arc::new(provider);
    let mut roots = RootCertStore::empty();
    roots
        .add(one_cert(&trust.root_pem, "IGC Santé root")?)
        .map_err(err)?;
    // Revocation is checked after the handshake, from the URLs in the certificate
    // (`revocation`): the handshake itself checks the chain, the dates and the name.
    let builder = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone());
    let inner = builder.build().map_err(err)?;
    let verifier = Arc::new(ElementaireOrganisationsOnly {
        inner,
        organisations: one_cert(&trust.organisations_pem, "Elementaire Organisations CA")?,
        any_range: defects.contains(&Defect::TrustsOtherRange),
        ignore_dates: defects.contains(&Defect::IgnoresCertificateDates),
        any_ca: defects.contains(&Defect::TrustsAnyCa),
    });
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(if defects.contains(&Defect::Tls13Only) {
            TLS13_ONLY
        } else {
            VERSIONS
        })
        .map_err(err)?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match credentials {
        Credentials::Certificate { chain_pem, key_pem } if present_certificate => {
            let chain = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| TlsPolicyError(format!("client certificate: {e}")))?;
            let key = PrivateKeyDer::from_pem_slice(key_pem.0.as_bytes())
                .map_err(|e| TlsPolicyError(format!("client key: {e}")))?;
            builder.with_client_auth_cert(chain, key).map_err(err)?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}
