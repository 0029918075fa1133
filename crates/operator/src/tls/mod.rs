//! TLS for the API LPS listeners.
//!
//! * The "good" profile: TLS 1.2 restricted to the ECO.1.1.3 suites rustls implements
//!   (0xC030, 0xC02F), TLS 1.3 (allowed by ECO.1.1.2), ECDHE on P-256/P-384 only (X25519 is left
//!   out so no reading of "≥ 256 bits" can fault the operator), server certificate from the fake
//!   Elementaire Organisations CA.
//! * The ClientHello is read and summarised before the handshake with `tls-parser`, so the
//!   journal shows what the client offered whatever TLS stack answers.
//! * On the application entry point a client certificate is requested but not required at TLS
//!   level: it is judged after the handshake, so a SUT with a wrong certificate gets a clear
//!   SMTP/IMAP reply and the journal says exactly what was wrong with it.

pub mod weak;

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::DistinguishedName;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, aws_lc_rs};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::journal::{
    CertificateSummary, ClientCertificate, ClientHelloSummary, ConnJournal, EntryPoint, EventKind,
    Suite,
};

/// Why the TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[error("TLS configuration: {0}")]
pub struct TlsConfigError(String);

fn config_error(e: impl std::fmt::Display) -> TlsConfigError {
    TlsConfigError(e.to_string())
}

/// The TLS behaviour of the operator, switchable at run time. Each profile is a real
/// handshake the client sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "profile", content = "detail")]
pub enum TlsProfile {
    /// TLS 1.2 (ECO.1.1.3 suites) and 1.3, the Elementaire Organisations server certificate.
    Good,
    /// Only TLS 1.2: a client must still connect (ECO.1.1.1).
    Tls12Only,
    /// TLS 1.2 with only a suite outside the ECO.1.1.3 list (ECDHE-RSA-CHACHA20-POLY1305).
    OffListSuite,
    /// The good protocol settings with a hostile server certificate.
    Certificate(pki::hostile::Flaw),
    /// STARTTLS is neither advertised nor accepted: the client must not go on in clear.
    NoStartTls,
    /// A weakness rustls will not serve, served by OpenSSL.
    Weak(weak::Weakness),
}

impl TlsProfile {
    /// Every profile this operator can serve.
    pub fn all() -> Vec<TlsProfile> {
        let mut all = vec![
            TlsProfile::Good,
            TlsProfile::Tls12Only,
            TlsProfile::OffListSuite,
            TlsProfile::NoStartTls,
        ];
        all.extend(pki::hostile::Flaw::SERVER.map(TlsProfile::Certificate));
        all.extend(weak::Weakness::ALL.map(TlsProfile::Weak));
        all
    }

    /// Its name on command lines and in the control API (`good`, `certificate-expire`...).
    pub fn name(self) -> String {
        match self {
            TlsProfile::Good => "good".into(),
            TlsProfile::Tls12Only => "tls12-only".into(),
            TlsProfile::OffListSuite => "off-list-suite".into(),
            TlsProfile::NoStartTls => "no-starttls".into(),
            TlsProfile::Certificate(flaw) => format!("certificate-{}", flaw.state()),
            TlsProfile::Weak(w) => w.name().into(),
        }
    }

    /// Parses [`TlsProfile::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::all().into_iter().find(|p| p.name() == name)
    }
}

/// The crypto provider of the good profile.
fn good_provider() -> CryptoProvider {
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

/// Server configurations and the client certificate judge, built once per operator.
pub struct TlsContext {
    pki: Arc<pki::Pki>,
    provider: Arc<CryptoProvider>,
    request_certificate: Arc<RequestAnyCertificate>,
    configs: std::sync::Mutex<HashMap<(TlsProfile, EntryPoint), Arc<ServerConfig>>>,
    weak_configs: std::sync::Mutex<HashMap<(weak::Weakness, EntryPoint), openssl::ssl::SslContext>>,
    sound_openssl_configs: std::sync::Mutex<HashMap<(bool, EntryPoint), openssl::ssl::SslContext>>,
    judge: Arc<dyn ClientCertVerifier>,
    organisations: CertificateDer<'static>,
    /// Subject of the Elementaire Organisations CA: the only issuer of ORG AUTH_CLI certificates.
    organisations_subject: String,
}

impl std::fmt::Debug for TlsContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsContext")
    }
}

impl TlsContext {
    /// Prepares the profiles of the fake IGC Santé; the good one is built at once.
    pub fn new(pki: Arc<pki::Pki>) -> Result<Self, TlsConfigError> {
        let provider = Arc::new(good_provider());
        let organisations = CertificateDer::from(pki.organisations.cert.der.clone());
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(pki.root.cert.der.clone()))
            .map_err(config_error)?;
        let judge = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .with_crls([
                CertificateRevocationListDer::from(pki.root_crl.der.clone()),
                CertificateRevocationListDer::from(pki.organisations_crl.der.clone()),
            ])
            .build()
            .map_err(config_error)?;
        let hints = [&pki.organisations.cert.der, &pki.root.cert.der]
            .into_iter()
            .filter_map(|der| pki::inspect::subject_der(der))
            .map(DistinguishedName::from)
            .collect();
        let organisations_subject = pki::inspect::summarize(&pki.organisations.cert.der)
            .map(|s| s.subject)
            .map_err(config_error)?;
        let ctx = TlsContext {
            request_certificate: Arc::new(RequestAnyCertificate {
                hints,
                provider: provider.clone(),
            }),
            pki,
            provider,
            configs: std::sync::Mutex::new(HashMap::new()),
            weak_configs: std::sync::Mutex::new(HashMap::new()),
            sound_openssl_configs: std::sync::Mutex::new(HashMap::new()),
            judge,
            organisations,
            organisations_subject,
        };
        // Fail at start, not at the first client, if the good profile cannot be built.
        ctx.config(EntryPoint::Psc, TlsProfile::Good)?;
        ctx.config(EntryPoint::App, TlsProfile::Good)?;
        Ok(ctx)
    }

    /// The server configuration of a profile on an entry point (built once, then cached).
    fn config(
        &self,
        entry: EntryPoint,
        profile: TlsProfile,
    ) -> Result<Arc<ServerConfig>, TlsConfigError> {
        let mut configs = self.configs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = configs.get(&(profile, entry)) {
            return Ok(c.clone());
        }
        let credential = match profile {
            TlsProfile::Certificate(flaw) => self
                .pki
                .hostile
                .servers
                .get(&flaw)
                .ok_or_else(|| TlsConfigError(format!("no hostile certificate {flaw:?}")))?,
            _ => &self.pki.server,
        };
        let mut chain = vec![CertificateDer::from(credential.cert.der.clone())];
        chain.extend(
            credential
                .intermediates
                .iter()
                .map(|c| CertificateDer::from(c.der.clone())),
        );
        let key = PrivateKeyDer::from_pem_slice(credential.key.expose().as_bytes())
            .map_err(config_error)?;
        let (provider, versions): (
            Arc<CryptoProvider>,
            &[&'static rustls::SupportedProtocolVersion],
        ) = match profile {
            TlsProfile::Tls12Only => (self.provider.clone(), &[&rustls::version::TLS12]),
            TlsProfile::OffListSuite => (
                Arc::new(CryptoProvider {
                    cipher_suites: vec![
                        aws_lc_rs::cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
                    ],
                    ..good_provider()
                }),
                &[&rustls::version::TLS12],
            ),
            _ => (
                self.provider.clone(),
                &[&rustls::version::TLS13, &rustls::version::TLS12],
            ),
        };
        let builder = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .map_err(config_error)?;
        let builder = match entry {
            EntryPoint::Psc => builder.with_no_client_auth(),
            EntryPoint::App => builder.with_client_cert_verifier(self.request_certificate.clone()),
        };
        let config = Arc::new(builder.with_single_cert(chain, key).map_err(config_error)?);
        configs.insert((profile, entry), config.clone());
        Ok(config)
    }

    /// The fake IGC Santé this context serves.
    pub(crate) fn pki(&self) -> &pki::Pki {
        &self.pki
    }

    /// The configuration of the HTTPS services (autoconfig, Pro Santé Connect): the good
    /// profile, HTTP/1.1, no client certificate.
    pub(crate) fn https_config(&self) -> Result<Arc<ServerConfig>, TlsConfigError> {
        let chain = vec![
            CertificateDer::from(self.pki.server.cert.der.clone()),
            self.organisations.clone(),
        ];
        let key = PrivateKeyDer::from_pem_slice(self.pki.server.key.expose().as_bytes())
            .map_err(config_error)?;
        let mut config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(config_error)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(config_error)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// The OpenSSL context serving a sound profile (good, TLS 1.2 only) to a client whose
    /// allowed suites rustls does not implement (built once, then cached).
    fn sound_openssl_config(
        &self,
        entry: EntryPoint,
        profile: TlsProfile,
    ) -> Result<openssl::ssl::SslContext, TlsConfigError> {
        let tls13 = profile == TlsProfile::Good;
        let mut configs = self
            .sound_openssl_configs
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(c) = configs.get(&(tls13, entry)) {
            return Ok(c.clone());
        }
        let ctx = weak::sound_context(&self.pki.server, entry == EntryPoint::App, tls13)?;
        configs.insert((tls13, entry), ctx.clone());
        Ok(ctx)
    }

    /// The OpenSSL context of a weak profile on an entry point (built once, then cached).
    fn weak_config(
        &self,
        entry: EntryPoint,
        weakness: weak::Weakness,
    ) -> Result<openssl::ssl::SslContext, TlsConfigError> {
        let mut configs = self.weak_configs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = configs.get(&(weakness, entry)) {
            return Ok(c.clone());
        }
        let ctx = weak::context(weakness, &self.pki.server, entry == EntryPoint::App)?;
        configs.insert((weakness, entry), ctx.clone());
        Ok(ctx)
    }

    /// Judges a client certificate chain against the fake IGC Santé, with its CRLs.
    fn judge(&self, chain: &[CertificateDer<'_>]) -> Option<ClientCertificate> {
        let end_entity = chain.first()?;
        let summary = match pki::inspect::summarize(end_entity) {
            Ok(s) => certificate_summary(s),
            Err(e) => {
                return Some(ClientCertificate {
                    summary: unreadable_summary(),
                    rejected: Some(format!("certificat client illisible : {e}")),
                });
            }
        };
        // An ORG AUTH_CLI certificate comes from the Elementaire Organisations CA: one from
        // another range may chain to the same root and must still be refused, with that reason.
        if summary.issuer != self.organisations_subject {
            let issuer = summary
                .issuer_cn
                .clone()
                .unwrap_or_else(|| summary.issuer.clone());
            return Some(ClientCertificate {
                summary,
                rejected: Some(format!(
                    "certificat client émis par « {issuer} », pas par l'AC {}",
                    pki::ORGANISATIONS_CN
                )),
            });
        }
        let mut intermediates: Vec<CertificateDer<'_>> = chain[1..].to_vec();
        intermediates.push(self.organisations.clone());
        let rejected = self
            .judge
            .verify_client_cert(end_entity, &intermediates, UnixTime::now())
            .err()
            .map(|e| explain_certificate_error(&e));
        Some(ClientCertificate { summary, rejected })
    }
}

/// What the journal keeps of a certificate.
fn certificate_summary(s: pki::inspect::CertSummary) -> CertificateSummary {
    CertificateSummary {
        subject: s.subject,
        issuer: s.issuer,
        subject_cn: s.subject_cn,
        subject_ou: s.subject_ou,
        issuer_cn: s.issuer_cn,
        serial: s.serial,
        not_before: s.not_before,
        not_after: s.not_after,
        dns_names: s.dns_names,
    }
}

fn unreadable_summary() -> CertificateSummary {
    CertificateSummary {
        subject: "<illisible>".into(),
        issuer: "<illisible>".into(),
        subject_cn: None,
        subject_ou: Vec::new(),
        issuer_cn: None,
        serial: String::new(),
        not_before: time::OffsetDateTime::UNIX_EPOCH,
        not_after: time::OffsetDateTime::UNIX_EPOCH,
        dns_names: Vec::new(),
    }
}

/// French explanation of a certificate verification error, for the reports.
fn explain_certificate_error(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::Expired | C::ExpiredContext { .. } => "certificat client expiré".into(),
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "certificat client pas encore valide".into()
            }
            C::Revoked => "certificat client révoqué (listé par la CRL)".into(),
            C::UnknownIssuer => {
                "certificat client non émis par l'IGC Santé (autorité inconnue)".into()
            }
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                "certificat client sans l'usage « authentification client »".into()
            }
            C::UnknownRevocationStatus => "statut de révocation inconnu".into(),
            C::BadSignature => "signature du certificat client invalide".into(),
            other => format!("certificat client refusé : {other:?}"),
        },
        other => format!("certificat client refusé : {other}"),
    }
}

/// Requests a client certificate, accepts any at TLS level (the handshake signature is still
/// verified), and leaves the judgement to [`TlsContext::judge`].
#[derive(Debug)]
struct RequestAnyCertificate {
    hints: Vec<DistinguishedName>,
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for RequestAnyCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A stream that first replays bytes already read (the ClientHello) then reads the inner one.
#[derive(Debug)]
pub struct Replay<S> {
    prefix: Vec<u8>,
    pos: usize,
    inner: S,
}

impl<S: AsyncRead + Unpin> AsyncRead for Replay<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.pos < self.prefix.len() {
            let n = (self.prefix.len() - self.pos).min(buf.remaining());
            let start = self.pos;
            buf.put_slice(&self.prefix[start..start + n]);
            self.pos += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Replay<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The TLS stream of an upgraded connection, whichever TLS stack serves the profile.
#[derive(Debug)]
pub enum Upgraded {
    /// rustls: the good profile and the hostile certificates.
    Rustls(Pin<Box<TlsStream<Replay<TcpStream>>>>),
    /// OpenSSL: the weak profiles.
    OpenSsl(Pin<Box<tokio_openssl::SslStream<Replay<TcpStream>>>>),
}

impl AsyncRead for Upgraded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Upgraded::Rustls(s) => s.as_mut().poll_read(cx, buf),
            Upgraded::OpenSsl(s) => s.as_mut().poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Upgraded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Upgraded::Rustls(s) => s.as_mut().poll_write(cx, buf),
            Upgraded::OpenSsl(s) => s.as_mut().poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Upgraded::Rustls(s) => s.as_mut().poll_flush(cx),
            Upgraded::OpenSsl(s) => s.as_mut().poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Upgraded::Rustls(s) => s.as_mut().poll_shutdown(cx),
            Upgraded::OpenSsl(s) => s.as_mut().poll_shutdown(cx),
        }
    }
}

/// The outcome of a successful handshake.
#[derive(Debug)]
pub struct Handshake {
    /// The encrypted stream.
    pub stream: Upgraded,
    /// The client certificate and its judgement, when one was presented.
    pub client_certificate: Option<ClientCertificate>,
}

/// Largest ClientHello we accept (several records at most).
const MAX_HELLO: usize = 64 * 1024;

/// Reads the records holding the ClientHello. Returns the raw bytes and the handshake payload.
async fn read_client_hello(tcp: &mut TcpStream) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let mut raw = Vec::new();
    let mut payload = Vec::new();
    loop {
        let mut header = [0u8; 5];
        tcp.read_exact(&mut header).await?;
        raw.extend_from_slice(&header);
        if header[0] != 0x16 {
            // Not a handshake record: let the TLS stack produce the error.
            return Ok((raw, payload));
        }
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if raw.len() + len > MAX_HELLO {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "ClientHello too large",
            ));
        }
        let mut body = vec![0u8; len];
        tcp.read_exact(&mut body).await?;
        raw.extend_from_slice(&body);
        payload.extend_from_slice(&body);
        if payload.len() >= 4 {
            let needed = 4
                + ((usize::from(payload[1]) << 16)
                    | (usize::from(payload[2]) << 8)
                    | usize::from(payload[3]));
            if payload.len() >= needed {
                return Ok((raw, payload));
            }
        }
    }
}

fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        other => format!("0x{other:04X}"),
    }
}

/// IANA name of a cipher suite.
pub fn suite(code: u16) -> Suite {
    let name = tls_parser::TlsCipherSuite::from_id(code)
        .map(|s| s.name.to_owned())
        .unwrap_or_else(|| match code {
            0x00FF => "TLS_EMPTY_RENEGOTIATION_INFO_SCSV".to_owned(),
            c if c & 0x0F0F == 0x0A0A => "GREASE".to_owned(),
            c => format!("0x{c:04X}"),
        });
    Suite { code, name }
}

fn group_name(g: u16) -> String {
    match g {
        23 => "secp256r1".into(),
        24 => "secp384r1".into(),
        25 => "secp521r1".into(),
        29 => "x25519".into(),
        30 => "x448".into(),
        19 => "secp192r1".into(),
        21 => "secp224r1".into(),
        256 => "ffdhe2048".into(),
        257 => "ffdhe3072".into(),
        258 => "ffdhe4096".into(),
        0x11EC => "X25519MLKEM768".into(),
        g if g & 0x0F0F == 0x0A0A => "GREASE".into(),
        g => format!("0x{g:04X}"),
    }
}

/// Summarises a ClientHello handshake message; `None` if it is not one.
pub fn summarize_client_hello(payload: &[u8]) -> Option<ClientHelloSummary> {
    use tls_parser::{TlsExtension, TlsMessage, TlsMessageHandshake};
    let (_, TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello))) =
        tls_parser::parse_tls_message_handshake(payload).ok()?
    else {
        return None;
    };
    let mut summary = ClientHelloSummary {
        versions: vec![version_name(hello.version.0)],
        cipher_suites: hello.ciphers.iter().map(|c| suite(c.0)).collect(),
        groups: Vec::new(),
        sni: None,
    };
    if let Some(ext) = hello.ext
        && let Ok((_, extensions)) = tls_parser::parse_tls_client_hello_extensions(ext)
    {
        for e in extensions {
            match e {
                TlsExtension::SupportedVersions(v) => {
                    summary.versions = v
                        .iter()
                        .filter(|v| v.0 & 0x0F0F != 0x0A0A)
                        .map(|v| version_name(v.0))
                        .collect();
                }
                TlsExtension::EllipticCurves(groups) => {
                    summary.groups = groups.iter().map(|g| group_name(g.0)).collect();
                }
                TlsExtension::SNI(names) => {
                    summary.sni = names
                        .first()
                        .map(|(_, n)| String::from_utf8_lossy(n).into_owned());
                }
                _ => {}
            }
        }
    }
    Some(summary)
}

/// Whether a sound profile must be served by OpenSSL: the client offers none of what rustls
/// serves (TLS 1.3 under the good profile, 0xC030 or 0xC02F), but some allowed suite rustls
/// does not implement. A conformant client must not be refused for the operator's stack.
fn needs_openssl(hello: &ClientHelloSummary, profile: TlsProfile) -> bool {
    if !matches!(profile, TlsProfile::Good | TlsProfile::Tls12Only) {
        return false;
    }
    let offers = |code: u16| hello.cipher_suites.iter().any(|s| s.code == code);
    let tls13 = profile == TlsProfile::Good && hello.versions.iter().any(|v| v == "TLS 1.3");
    !tls13
        && !offers(0xC030)
        && !offers(0xC02F)
        && weak::OPENSSL_ONLY_SUITES.iter().any(|&c| offers(c))
}

/// Performs the server side of the handshake after STARTTLS, journaling the ClientHello, the
/// negotiated parameters or the failure. `None` when the handshake did not complete.
pub async fn accept(
    mut tcp: TcpStream,
    entry: EntryPoint,
    profile: TlsProfile,
    ctx: &TlsContext,
    journal: &ConnJournal,
    timeout: Duration,
) -> Option<Handshake> {
    let failed = |error: String| {
        journal.record(EventKind::TlsFailed { error });
        None
    };
    let (raw, payload) = match tokio::time::timeout(timeout, read_client_hello(&mut tcp)).await {
        Err(_) => return failed("délai dépassé avant le ClientHello".into()),
        Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
            return failed("connexion fermée par le client avant le ClientHello".into());
        }
        Ok(Err(e)) => return failed(format!("lecture du ClientHello : {e}")),
        Ok(Ok(read)) => read,
    };
    let (sound_on_openssl, client_groups) = match summarize_client_hello(&payload) {
        Some(summary) => {
            let openssl = needs_openssl(&summary, profile);
            let groups = summary.groups.clone();
            journal.record(EventKind::TlsClientHello(summary));
            (openssl, groups)
        }
        None => return failed("le client n'a pas envoyé de ClientHello TLS".into()),
    };
    let replay = Replay {
        prefix: raw,
        pos: 0,
        inner: tcp,
    };
    let openssl = match profile {
        TlsProfile::Weak(weakness) => Some((ctx.weak_config(entry, weakness), weakness.group())),
        _ if sound_on_openssl => Some((ctx.sound_openssl_config(entry, profile), None)),
        _ => None,
    };
    let (stream, established) = match openssl {
        Some((config, imposed_group)) => {
            let config = match config {
                Ok(c) => c,
                Err(e) => {
                    return failed(format!("profil TLS {} indisponible : {e}", profile.name()));
                }
            };
            let stream = match openssl_accept(&config, replay, timeout).await {
                Ok(s) => s,
                Err(e) => return failed(e),
            };
            let ssl = stream.ssl();
            let version = match ssl.version_str() {
                "TLSv1" => "TLS 1.0".to_owned(),
                "TLSv1.1" => "TLS 1.1".to_owned(),
                "TLSv1.2" => "TLS 1.2".to_owned(),
                "TLSv1.3" => "TLS 1.3".to_owned(),
                other => other.to_owned(),
            };
            let cipher_suite = ssl
                .current_cipher()
                .map(|c| suite(u16::from_be_bytes(c.protocol_id())))
                .unwrap_or_else(|| suite(0));
            let mut chain: Vec<CertificateDer<'static>> = Vec::new();
            if let Some(leaf) = ssl.peer_certificate()
                && let Ok(der) = leaf.to_der()
            {
                chain.push(CertificateDer::from(der));
                if let Some(rest) = ssl.peer_cert_chain() {
                    chain.extend(
                        rest.iter()
                            .filter_map(|c| c.to_der().ok())
                            .map(CertificateDer::from),
                    );
                }
            }
            let client_certificate = ctx.judge(&chain);
            let group = match imposed_group {
                Some(g) => Some(g.to_owned()),
                None if version == "TLS 1.2" => {
                    weak::sound_group(cipher_suite.code, &client_groups)
                }
                // TLS 1.3 on OpenSSL: the same reading, the suite aside.
                None => weak::sound_group(0, &client_groups),
            };
            (
                Upgraded::OpenSsl(stream),
                (version, cipher_suite, group, client_certificate),
            )
        }
        None => {
            let config = match ctx.config(entry, profile) {
                Ok(c) => c,
                Err(e) => {
                    return failed(format!("profil TLS {} indisponible : {e}", profile.name()));
                }
            };
            let acceptor = TlsAcceptor::from(config);
            let stream = match tokio::time::timeout(timeout, acceptor.accept(replay)).await {
                Err(_) => return failed("délai dépassé pendant la négociation TLS".into()),
                Ok(Err(e)) => return failed(e.to_string()),
                Ok(Ok(stream)) => stream,
            };
            let (_, conn) = stream.get_ref();
            let version = conn
                .protocol_version()
                .map(|v| version_name(u16::from(v)))
                .unwrap_or_default();
            let cipher_suite = conn
                .negotiated_cipher_suite()
                .map(|s| suite(u16::from(s.suite())))
                .unwrap_or_else(|| suite(0));
            let group = conn
                .negotiated_key_exchange_group()
                .map(|g| group_name(u16::from(g.name())));
            let client_certificate = conn.peer_certificates().and_then(|c| ctx.judge(c));
            (
                Upgraded::Rustls(Box::pin(stream)),
                (version, cipher_suite, group, client_certificate),
            )
        }
    };
    let (version, cipher_suite, group, client_certificate) = established;
    journal.record(EventKind::TlsEstablished {
        version,
        cipher_suite,
        group,
        client_certificate: client_certificate.clone(),
    });
    Some(Handshake {
        stream,
        client_certificate,
    })
}

/// The server side of an OpenSSL handshake, within the timeout.
async fn openssl_accept(
    config: &openssl::ssl::SslContext,
    stream: Replay<TcpStream>,
    timeout: Duration,
) -> Result<Pin<Box<tokio_openssl::SslStream<Replay<TcpStream>>>>, String> {
    let ssl = openssl::ssl::Ssl::new(config).map_err(|e| e.to_string())?;
    let mut stream =
        Box::pin(tokio_openssl::SslStream::new(ssl, stream).map_err(|e| e.to_string())?);
    match tokio::time::timeout(timeout, stream.as_mut().accept()).await {
        Err(_) => Err("délai dépassé pendant la négociation TLS".into()),
        Ok(Err(e)) => Err(e
            .ssl_error()
            .map(|s| s.to_string())
            .unwrap_or_else(|| e.to_string())),
        Ok(Ok(())) => Ok(stream),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_names_come_from_iana() {
        assert_eq!(suite(0xC030).name, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
        assert_eq!(suite(0x00FF).name, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV");
        assert_eq!(suite(0x1A1A).name, "GREASE");
    }

    #[test]
    fn garbage_is_not_a_client_hello() {
        assert_eq!(summarize_client_hello(b""), None);
        assert_eq!(summarize_client_hello(b"\x01\x00\x00\x02ab"), None);
        assert_eq!(summarize_client_hello(b"EHLO x\r\n"), None);
    }
}
