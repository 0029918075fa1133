//! Deliberately weak TLS handshakes, for the mutants rustls cannot be: TLS 1.0 allowed, CBC-SHA
//! suites or the P-224 curve offered, a 1,024-bit DHE group accepted. They go through OpenSSL
//! (the vendored build the operator's hostile profiles already use) at security level 0, and
//! keep everything else of the reference policy: trust in the Elementaire Organisations CA
//! only, the host name checked, the client certificate presented on the application entry
//! point, the revocation check after the handshake. The reference client never takes this path.

use std::pin::Pin;
use std::time::Duration;

use openssl::pkey::PKey;
use openssl::ssl::{Ssl, SslConnector, SslMethod, SslVerifyMode, SslVersion};
use openssl::x509::X509;
use openssl::x509::verify::X509VerifyFlags;
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

use crate::account::{Credentials, Defect, Defects, Trust};
use crate::error::ClientError;

/// The defects that need OpenSSL.
pub(crate) const DEFECTS: [Defect; 4] = [
    Defect::AllowsTls10,
    Defect::OffersCbcSha,
    Defect::OffersP224,
    Defect::AcceptsWeakDhe,
];

/// Whether `defects` ask for the weak handshake.
pub(crate) fn wanted(defects: &Defects) -> bool {
    DEFECTS.iter().any(|d| defects.contains(d))
}

/// The six suites of ECO.1.1.3, OpenSSL's names.
const ALLOWED: &str = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:\
                       ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA256:\
                       DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256";

fn err(e: impl std::fmt::Display) -> ClientError {
    ClientError::Tls(format!("OpenSSL : {e}"))
}

/// The handshake after STARTTLS, with the mutant's weakness.
pub(crate) async fn upgrade(
    tcp: TcpStream,
    trust: &Trust,
    credentials: &Credentials,
    present_certificate: bool,
    host: &str,
    defects: &Defects,
    timeout: Duration,
) -> Result<Pin<Box<SslStream<TcpStream>>>, ClientError> {
    let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(err)?;
    b.set_security_level(0);
    let mut ciphers = ALLOWED.to_owned();
    let mut min = SslVersion::TLS1_2;
    if defects.contains(&Defect::AllowsTls10) {
        // TLS 1.0 has no AEAD suite: allowing it means the CBC-SHA ones.
        min = SslVersion::TLS1;
        ciphers.push_str(":ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA");
    }
    if defects.contains(&Defect::OffersCbcSha) {
        ciphers.push_str(":ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA");
    }
    b.set_min_proto_version(Some(min)).map_err(err)?;
    b.set_cipher_list(&format!("{ciphers}:@SECLEVEL=0"))
        .map_err(err)?;
    let groups = if defects.contains(&Defect::OffersP224) {
        "P-256:P-384:P-224"
    } else {
        "P-256:P-384"
    };
    b.set_groups_list(groups).map_err(err)?;
    // Trust: the Elementaire Organisations CA as the anchor (a partial chain), nothing else.
    let store = b.cert_store_mut();
    store
        .add_cert(X509::from_pem(trust.organisations_pem.as_bytes()).map_err(err)?)
        .map_err(err)?;
    b.verify_param_mut()
        .set_flags(X509VerifyFlags::PARTIAL_CHAIN)
        .map_err(err)?;
    b.set_verify(SslVerifyMode::PEER);
    if let (Credentials::Certificate { chain_pem, key_pem }, true) =
        (credentials, present_certificate)
    {
        let chain = X509::stack_from_pem(chain_pem.as_bytes()).map_err(err)?;
        let mut chain = chain.into_iter();
        if let Some(leaf) = chain.next() {
            b.set_certificate(&leaf).map_err(err)?;
        }
        for c in chain {
            b.add_extra_chain_cert(c).map_err(err)?;
        }
        let key = PKey::private_key_from_pem(key_pem.0.as_bytes()).map_err(err)?;
        b.set_private_key(&key).map_err(err)?;
    }
    let connector = b.build();
    let mut config = connector.configure().map_err(err)?;
    config.set_verify_hostname(true);
    let ssl: Ssl = config.into_ssl(host).map_err(err)?;
    let mut stream = Box::pin(SslStream::new(ssl, tcp).map_err(err)?);
    match tokio::time::timeout(timeout, stream.as_mut().connect()).await {
        Err(_) => Err(ClientError::Timeout {
            step: "négociation TLS",
        }),
        Ok(Err(e)) => Err(ClientError::Tls(
            e.ssl_error()
                .map(|s| s.to_string())
                .unwrap_or_else(|| e.to_string()),
        )),
        Ok(Ok(())) => Ok(stream),
    }
}
