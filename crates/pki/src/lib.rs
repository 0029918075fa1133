//! The fake IGC Santé.
//!
//! The real IGC Santé issues the operators' server certificates from its "Elementaire
//! Organisations" range and the structures' ORG AUTH_CLI client certificates. A conformance run
//! needs the same shapes under a CA the harness controls: this crate generates them once per
//! installation into a folder ([`ensure`]) and hands them out as PEM and DER ([`Pki`]).
//!
//! Every name is marked TEST so nobody mistakes the root for the real one; the private keys never
//! leave the folder (which is git-ignored).

mod files;
pub mod hostile;
pub mod inspect;
pub mod ocsp;

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

pub use files::FileNames;

/// Common name of the fake root, mirroring "AC RACINE IGC-SANTE ELEMENTAIRE".
pub const ROOT_CN: &str = "TEST AC RACINE IGC-SANTE ELEMENTAIRE";
/// Common name of the fake sub-CA, mirroring "AC IGC-SANTE ELEMENTAIRE ORGANISATIONS".
pub const ORGANISATIONS_CN: &str = "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS";
/// Organisation written in the CA names, so the fake tree is recognisable at a glance.
pub const CA_ORGANISATION: &str = "MSS HARNESS - FAUSSE IGC SANTE DE TEST";
/// Common name of every ORG AUTH_CLI certificate (référentiel §2.1.1.4.2 and the API LPS slides).
pub const AUTH_CLI_CN: &str = "Authentification MSS";

/// Version of the folder layout; a folder written by another version is regenerated whole.
const FORMAT: u32 = 1;
/// Leaves are reissued when they expire within this margin.
pub(crate) const LEAF_MARGIN: Duration = Duration::days(30);
/// CRLs are reissued when their nextUpdate is within this margin.
const CRL_MARGIN: Duration = Duration::days(7);
/// CAs are reissued (and must be trusted again) when they expire within this margin.
const CA_MARGIN: Duration = Duration::days(365);

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing the certificate folder failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Key or certificate generation failed.
    #[error("generating {what}: {source}")]
    Generate {
        /// The item being generated.
        what: String,
        /// The underlying error.
        #[source]
        source: rcgen::Error,
    },
    /// A file of the folder does not hold what it should.
    #[error("{path}: {problem}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
}

type Result<T, E = Error> = std::result::Result<T, E>;

/// An organisation (structure) identified by its IdNatStruc, as written in ORG AUTH_CLI
/// certificates: `CN=Authentification MSS, OU=<IdNatStruc>, O=<name>, ST=<department>, C=FR`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Structure {
    /// National structure identifier (IdNatStruc), written in the OU.
    pub id_nat_struc: String,
    /// Name of the structure, written in the O.
    pub name: String,
    /// Département, written in the ST as `<name> (<number>)`, e.g. `Paris (75)`.
    pub department: String,
}

/// What the certificates must say: the operator's names and the structures that get a client
/// certificate. A change of profile reissues the leaves but keeps the CAs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// DNS names of the operator's server certificate.
    pub server_dns_names: Vec<String>,
    /// IP addresses of the operator's server certificate.
    pub server_ips: Vec<IpAddr>,
    /// Organisation written in the operator's server certificate.
    pub server_organisation: String,
    /// Base URL of the CRL distribution points written in the certificates.
    pub crl_base_url: String,
    /// URL of the OCSP responder written in the leaves' Authority Information Access (none if
    /// empty). Defaulted so an older folder keeps its CAs and only reissues its leaves.
    #[serde(default)]
    pub ocsp_url: String,
    /// Structures that receive an ORG AUTH_CLI client certificate.
    pub structures: Vec<Structure>,
}

/// A certificate in both encodings.
#[derive(Clone, PartialEq, Eq)]
pub struct Cert {
    /// PEM text (one `CERTIFICATE` block).
    pub pem: String,
    /// DER bytes.
    pub der: Vec<u8>,
}

impl fmt::Debug for Cert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match inspect::summarize(&self.der) {
            Ok(summary) => write!(f, "Cert({})", summary.subject),
            Err(_) => write!(f, "Cert(<{} unparsable bytes>)", self.der.len()),
        }
    }
}

/// A private key in PKCS#8 PEM. Its `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKeyPem(String);

impl PrivateKeyPem {
    /// The PEM text. Handle with care: it is the key.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PrivateKeyPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKeyPem(<redacted>)")
    }
}

/// A CA of the fake IGC Santé.
#[derive(Debug, Clone)]
pub struct Authority {
    /// Its certificate.
    pub cert: Cert,
    /// Its signing key.
    pub key: PrivateKeyPem,
}

/// An end-entity certificate with its key and the chain up to (not including) the root.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The end-entity certificate.
    pub cert: Cert,
    /// Its private key.
    pub key: PrivateKeyPem,
    /// The issuing sub-CA, to send along in TLS.
    pub intermediates: Vec<Cert>,
}

impl Credential {
    /// End-entity then intermediates, as PEM: what a TLS peer sends.
    pub fn chain_pem(&self) -> String {
        let mut out = self.cert.pem.clone();
        for c in &self.intermediates {
            out.push_str(&c.pem);
        }
        out
    }
}

/// A CRL in both encodings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crl {
    /// PEM text (`X509 CRL`).
    pub pem: String,
    /// DER bytes.
    pub der: Vec<u8>,
}

/// A client certificate of one structure.
#[derive(Debug, Clone)]
pub struct ClientCredential {
    /// The structure named in the certificate.
    pub structure: Structure,
    /// The certificate, its key and chain.
    pub credential: Credential,
}

/// The whole fake IGC Santé as loaded from (or written to) its folder.
#[derive(Debug, Clone)]
pub struct Pki {
    /// The folder the material lives in.
    pub dir: PathBuf,
    /// The profile the leaves were issued for.
    pub profile: Profile,
    /// "TEST AC RACINE IGC-SANTE ELEMENTAIRE".
    pub root: Authority,
    /// "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS".
    pub organisations: Authority,
    /// The operator's server certificate, issued by the Organisations CA.
    pub server: Credential,
    /// One ORG AUTH_CLI certificate per structure of the profile.
    pub clients: Vec<ClientCredential>,
    /// CRL of the root (lists revoked sub-CAs).
    pub root_crl: Crl,
    /// CRL of the Organisations CA (lists revoked leaves).
    pub organisations_crl: Crl,
    /// RSA key the fake Pro Santé Connect signs its access tokens with (not a certificate).
    pub psc_signing_key: PrivateKeyPem,
    /// The matching public key (SPKI PEM), to verify those tokens.
    pub psc_verifying_key: String,
    /// Certificates with one deliberate flaw each, and the CAs of the other ranges.
    pub hostile: hostile::Hostile,
}

impl Pki {
    /// The ORG AUTH_CLI credential of a structure.
    pub fn client_for(&self, id_nat_struc: &str) -> Option<&Credential> {
        self.clients
            .iter()
            .find(|c| c.structure.id_nat_struc == id_nat_struc)
            .map(|c| &c.credential)
    }

    /// DER of every leaf the Elementaire Organisations CA issued (what its OCSP responder
    /// knows).
    pub fn issued_by_organisations(&self) -> Vec<Vec<u8>> {
        let organisations = inspect::summarize(&self.organisations.cert.der)
            .map(|s| s.subject)
            .unwrap_or_default();
        let mut all = vec![self.server.cert.der.clone()];
        all.extend(self.clients.iter().map(|c| c.credential.cert.der.clone()));
        all.extend(
            self.hostile
                .servers
                .values()
                .chain(self.hostile.clients.values())
                .map(|c| c.cert.der.clone()),
        );
        all.retain(|der| inspect::summarize(der).is_ok_and(|s| s.issuer == organisations));
        all
    }

    /// Paths of the files in the folder, for tools that take file names (openssl, curl).
    /// Another process may reissue them (another operator port, expiry): a run that hands
    /// files to a system under test gives it a [`Pki::snapshot`] instead.
    pub fn files(&self) -> FileNames {
        FileNames::new(&self.dir)
    }

    /// Writes what a system under test is given as files — the two CA certificates, their
    /// CRLs, each structure's ORG AUTH_CLI certificate and key, the hostile client
    /// certificates (mutants present them) — as loaded in memory, into
    /// `dir` (same names as the folder): the run's own copy, which no concurrent [`ensure`]
    /// can change under it (a CRL reissued for another run does not list this run's revoked
    /// certificate).
    pub fn snapshot(&self, dir: &Path) -> Result<FileNames> {
        files::create_dir(dir)?;
        let names = FileNames::new(dir);
        files::write(&names.root_cert, &self.root.cert.pem)?;
        files::write(&names.organisations_cert, &self.organisations.cert.pem)?;
        files::write(&names.root_crl, &self.root_crl.pem)?;
        files::write(&names.organisations_crl, &self.organisations_crl.pem)?;
        for client in &self.clients {
            let (cert, key) = names.client(&client.structure.id_nat_struc);
            files::write(&cert, &client.credential.cert.pem)?;
            files::write_key(&key, client.credential.key.expose())?;
        }
        // The hostile client certificates (one flaw each) and their shared key.
        let hostile = hostile::HostileFiles::new(dir);
        for (flaw, credential) in &self.hostile.clients {
            files::write(&hostile.client(*flaw), &credential.cert.pem)?;
            files::write_key(&hostile.leaf_key(), credential.key.expose())?;
        }
        Ok(names)
    }
}

/// What [`ensure`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Items generated anew (empty when everything was reused).
    pub generated: Vec<String>,
}

/// Loads the fake IGC Santé from `dir`, generating whatever is missing, near expiry, or issued
/// for another profile. Safe to call concurrently from several threads or processes.
pub fn ensure(dir: &Path, profile: &Profile) -> Result<(Pki, Outcome)> {
    files::create_dir(dir)?;
    let _lock = files::lock(dir)?;
    let names = FileNames::new(dir);
    let now = OffsetDateTime::now_utc();
    let mut outcome = Outcome::default();

    let manifest = files::read_manifest(&names.manifest)?;
    let cas_usable = manifest.as_ref().is_some_and(|m| m.format == FORMAT)
        && ca_usable(&names.root_cert, &names.root_key, now)?
        && ca_usable(&names.organisations_cert, &names.organisations_key, now)?;
    let same_profile = manifest.as_ref().is_some_and(|m| &m.profile == profile);
    let mut crl_number = manifest.as_ref().map_or(0, |m| m.crl_number);

    // The sub-CA names the root's CRL distribution point: when the operator's URLs change
    // (another HTTP port), it is reissued with the same key, so every leaf stays valid and the
    // root a tester installed stays the same.
    let urls_changed = manifest
        .as_ref()
        .is_some_and(|m| m.profile.crl_base_url != profile.crl_base_url);
    let (root_issuer, organisations_issuer) = if cas_usable && urls_changed {
        let root_issuer = load_issuer(&names.root_cert, &names.root_key)?;
        let key = load_key(&names.organisations_key)?;
        let (sub_cert, sub_key, sub_params) =
            organisations_with_key(now, &root_issuer, profile, key)?;
        files::write(&names.organisations_cert, &sub_cert.pem)?;
        outcome.generated.push(format!(
            "{ORGANISATIONS_CN} (même clé, points de distribution {})",
            profile.crl_base_url
        ));
        (root_issuer, Issuer::new(sub_params, sub_key))
    } else if cas_usable {
        (
            load_issuer(&names.root_cert, &names.root_key)?,
            load_issuer(&names.organisations_cert, &names.organisations_key)?,
        )
    } else {
        let (root_cert, root_key, root_params) = generate_root(now)?;
        let root_issuer = Issuer::new(root_params, root_key);
        let (sub_cert, sub_key, sub_params) = generate_organisations(now, &root_issuer, profile)?;
        files::write(&names.root_cert, &root_cert.pem)?;
        files::write_key(&names.root_key, &root_issuer.key().serialize_pem())?;
        files::write(&names.organisations_cert, &sub_cert.pem)?;
        files::write_key(&names.organisations_key, &sub_key.serialize_pem())?;
        outcome.generated.push(ROOT_CN.to_owned());
        outcome.generated.push(ORGANISATIONS_CN.to_owned());
        (root_issuer, Issuer::new(sub_params, sub_key))
    };
    let fresh_cas = !cas_usable;

    // The operator's server certificate.
    if fresh_cas || !same_profile || !leaf_usable(&names.server_cert, &names.server_key, now)? {
        let (cert, key) = generate_server(now, &organisations_issuer, profile)?;
        files::write(&names.server_cert, &cert.pem)?;
        files::write_key(&names.server_key, &key.serialize_pem())?;
        outcome
            .generated
            .push("certificat serveur de l'opérateur".to_owned());
    }

    // One ORG AUTH_CLI certificate per structure.
    for structure in &profile.structures {
        let (cert_path, key_path) = names.client(&structure.id_nat_struc);
        if fresh_cas || !same_profile || !leaf_usable(&cert_path, &key_path, now)? {
            let (cert, key) = generate_client(now, &organisations_issuer, profile, structure)?;
            files::write(&cert_path, &cert.pem)?;
            files::write_key(&key_path, &key.serialize_pem())?;
            outcome.generated.push(format!(
                "certificat ORG AUTH_CLI {}",
                structure.id_nat_struc
            ));
        }
    }

    // Hostile material: other ranges, foreign CA, certificates with one flaw each.
    let revoked = hostile::ensure(
        dir,
        profile,
        &hostile::Parents {
            root: &root_issuer,
            organisations: &organisations_issuer,
            fresh: fresh_cas,
            profile_changed: !same_profile,
        },
        now,
        &mut outcome.generated,
    )?;

    // CRLs: reissued with everything else, or when their nextUpdate is near.
    let reissue_crls = !outcome.generated.is_empty()
        || !crl_usable(&names.root_crl, now)?
        || !crl_usable(&names.organisations_crl, now)?;
    if reissue_crls {
        crl_number += 1;
        let root_crl = generate_crl(now, &root_issuer, crl_number, &[], "root")?;
        let sub_crl = generate_crl(
            now,
            &organisations_issuer,
            crl_number,
            &revoked,
            "organisations",
        )?;
        files::write(&names.root_crl, &root_crl.pem)?;
        files::write(&names.organisations_crl, &sub_crl.pem)?;
        outcome.generated.push("CRL".to_owned());
    }

    // The fake Pro Santé Connect's signing key: long-lived, independent of the profile.
    if !names.psc_key.exists() {
        let key = new_rsa_key("clé de signature Pro Santé Connect")?;
        files::write_key(&names.psc_key, &key.serialize_pem())?;
        outcome
            .generated
            .push("clé de signature Pro Santé Connect".to_owned());
    }

    if !outcome.generated.is_empty() || !same_profile {
        files::write_manifest(
            &names.manifest,
            &files::Manifest {
                format: FORMAT,
                profile: profile.clone(),
                crl_number,
            },
        )?;
    }

    let pki = load(dir, profile)?;
    Ok((pki, outcome))
}

/// Loads a folder written by [`ensure`] without changing it.
pub fn load(dir: &Path, profile: &Profile) -> Result<Pki> {
    let names = FileNames::new(dir);
    let organisations = Authority {
        cert: files::read_cert(&names.organisations_cert)?,
        key: PrivateKeyPem(files::read_string(&names.organisations_key)?),
    };
    let credential = |cert: &Path, key: &Path| -> Result<Credential> {
        Ok(Credential {
            cert: files::read_cert(cert)?,
            key: PrivateKeyPem(files::read_string(key)?),
            intermediates: vec![organisations.cert.clone()],
        })
    };
    let server = credential(&names.server_cert, &names.server_key)?;
    let mut clients = Vec::new();
    for structure in &profile.structures {
        let (cert, key) = names.client(&structure.id_nat_struc);
        clients.push(ClientCredential {
            structure: structure.clone(),
            credential: credential(&cert, &key)?,
        });
    }
    let hostile = hostile::load(dir, profile, &organisations.cert)?;
    Ok(Pki {
        hostile,
        dir: dir.to_owned(),
        profile: profile.clone(),
        root: Authority {
            cert: files::read_cert(&names.root_cert)?,
            key: PrivateKeyPem(files::read_string(&names.root_key)?),
        },
        server,
        clients,
        root_crl: files::read_crl(&names.root_crl)?,
        organisations_crl: files::read_crl(&names.organisations_crl)?,
        psc_verifying_key: public_key_pem(&names.psc_key)?,
        psc_signing_key: PrivateKeyPem(files::read_string(&names.psc_key)?),
        organisations,
    })
}

pub(crate) fn ca_usable(cert: &Path, key: &Path, now: OffsetDateTime) -> Result<bool> {
    usable(cert, key, now + CA_MARGIN)
}

fn leaf_usable(cert: &Path, key: &Path, now: OffsetDateTime) -> Result<bool> {
    usable(cert, key, now + LEAF_MARGIN)
}

/// Whether the certificate exists, parses, has its key beside it and is valid at `until`.
fn usable(cert: &Path, key: &Path, until: OffsetDateTime) -> Result<bool> {
    if !cert.exists() || !key.exists() {
        return Ok(false);
    }
    let Ok(cert) = files::read_cert(cert) else {
        return Ok(false);
    };
    let Ok(summary) = inspect::summarize(&cert.der) else {
        return Ok(false);
    };
    Ok(summary.not_after > until && summary.not_before <= OffsetDateTime::now_utc())
}

fn crl_usable(path: &Path, now: OffsetDateTime) -> Result<bool> {
    if !path.exists() {
        return Ok(false);
    }
    let Ok(crl) = files::read_crl(path) else {
        return Ok(false);
    };
    Ok(inspect::crl_next_update(&crl.der).is_some_and(|next| next > now + CRL_MARGIN))
}

fn load_key(key: &Path) -> Result<KeyPair> {
    let key_pem = files::read_string(key)?;
    KeyPair::from_pem(&key_pem).map_err(|e| Error::Corrupt {
        path: key.to_owned(),
        problem: format!("not a usable private key ({e})"),
    })
}

pub(crate) fn load_issuer(cert: &Path, key: &Path) -> Result<Issuer<'static, KeyPair>> {
    let key = load_key(key)?;
    let cert_pem = files::read_string(cert)?;
    Issuer::from_ca_cert_pem(&cert_pem, key).map_err(|e| Error::Corrupt {
        path: cert.to_owned(),
        problem: format!("not a usable CA certificate ({e})"),
    })
}

fn public_key_pem(key: &Path) -> Result<String> {
    let pem = files::read_string(key)?;
    let pair = KeyPair::from_pem(&pem).map_err(|e| Error::Corrupt {
        path: key.to_owned(),
        problem: format!("not a usable private key ({e})"),
    })?;
    Ok(pair.public_key_pem())
}

pub(crate) fn new_rsa_key(what: &str) -> Result<KeyPair> {
    KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).map_err(|source| Error::Generate {
        what: what.to_owned(),
        source,
    })
}

pub(crate) fn random_serial() -> SerialNumber {
    let mut bytes = uuid::Uuid::new_v4().into_bytes().to_vec();
    // Positive and never starting with a zero byte: a valid DER INTEGER as is.
    bytes[0] = (bytes[0] & 0x7f) | 0x10;
    SerialNumber::from(bytes)
}

pub(crate) fn ca_name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "FR");
    dn.push(DnType::OrganizationName, CA_ORGANISATION);
    dn.push(DnType::OrganizationalUnitName, "IGC-SANTE TEST");
    dn.push(DnType::CommonName, cn);
    dn
}

fn crl_point(profile: &Profile, file: &str) -> CrlDistributionPoint {
    CrlDistributionPoint {
        uris: vec![format!(
            "{}/{}",
            profile.crl_base_url.trim_end_matches('/'),
            file
        )],
    }
}

/// Midnight today, so certificates issued on the same day look alike.
pub(crate) fn today(now: OffsetDateTime) -> OffsetDateTime {
    now.replace_time(time::Time::MIDNIGHT)
}

pub(crate) fn sign<F>(
    what: &str,
    params: &CertificateParams,
    key: &KeyPair,
    issuer: F,
) -> Result<Cert>
where
    F: FnOnce(&CertificateParams, &KeyPair) -> Result<rcgen::Certificate, rcgen::Error>,
{
    let cert = issuer(params, key).map_err(|source| Error::Generate {
        what: what.to_owned(),
        source,
    })?;
    Ok(Cert {
        pem: cert.pem(),
        der: cert.der().to_vec(),
    })
}

fn generate_root(now: OffsetDateTime) -> Result<(Cert, KeyPair, CertificateParams)> {
    let key = new_rsa_key(ROOT_CN)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = ca_name(ROOT_CN);
    params.serial_number = Some(random_serial());
    params.not_before = today(now) - Duration::days(1);
    params.not_after = today(now) + Duration::days(20 * 365);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.key_identifier_method = KeyIdMethod::Sha256;
    let cert = sign(ROOT_CN, &params, &key, |p, k| p.self_signed(k))?;
    Ok((cert, key, params))
}

fn generate_organisations(
    now: OffsetDateTime,
    root: &Issuer<'_, KeyPair>,
    profile: &Profile,
) -> Result<(Cert, KeyPair, CertificateParams)> {
    organisations_with_key(now, root, profile, new_rsa_key(ORGANISATIONS_CN)?)
}

/// The Elementaire Organisations CA certificate for a key (new, or the one it already has).
fn organisations_with_key(
    now: OffsetDateTime,
    root: &Issuer<'_, KeyPair>,
    profile: &Profile,
    key: KeyPair,
) -> Result<(Cert, KeyPair, CertificateParams)> {
    let mut params = CertificateParams::default();
    params.distinguished_name = ca_name(ORGANISATIONS_CN);
    params.serial_number = Some(random_serial());
    params.not_before = today(now) - Duration::days(1);
    params.not_after = today(now) + Duration::days(15 * 365);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.use_authority_key_identifier_extension = true;
    params.crl_distribution_points = vec![crl_point(profile, files::ROOT_CRL_URL_NAME)];
    let cert = sign(ORGANISATIONS_CN, &params, &key, |p, k| p.signed_by(k, root))?;
    Ok((cert, key, params))
}

fn generate_server(
    now: OffsetDateTime,
    issuer: &Issuer<'_, KeyPair>,
    profile: &Profile,
) -> Result<(Cert, KeyPair)> {
    let what = "certificat serveur de l'opérateur";
    let key = new_rsa_key(what)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "FR");
    dn.push(
        DnType::OrganizationName,
        profile.server_organisation.as_str(),
    );
    if let Some(first) = profile.server_dns_names.first() {
        dn.push(DnType::CommonName, first.as_str());
    }
    params.distinguished_name = dn;
    params.serial_number = Some(random_serial());
    params.not_before = today(now) - Duration::days(1);
    params.not_after = today(now) + Duration::days(3 * 365);
    for name in &profile.server_dns_names {
        let name = name.as_str().try_into().map_err(|source| Error::Generate {
            what: format!("nom DNS {name}"),
            source,
        })?;
        params.subject_alt_names.push(SanType::DnsName(name));
    }
    for ip in &profile.server_ips {
        params.subject_alt_names.push(SanType::IpAddress(*ip));
    }
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.crl_distribution_points = vec![crl_point(profile, files::ORGANISATIONS_CRL_URL_NAME)];
    add_aia(&mut params, profile);
    let cert = sign(what, &params, &key, |p, k| p.signed_by(k, issuer))?;
    Ok((cert, key))
}

/// Names the OCSP responder in a leaf, when the profile has one.
pub(crate) fn add_aia(params: &mut CertificateParams, profile: &Profile) {
    if !profile.ocsp_url.is_empty() {
        params
            .custom_extensions
            .push(ocsp::aia_extension(&profile.ocsp_url));
    }
}

fn generate_client(
    now: OffsetDateTime,
    issuer: &Issuer<'_, KeyPair>,
    profile: &Profile,
    structure: &Structure,
) -> Result<(Cert, KeyPair)> {
    let what = format!("certificat ORG AUTH_CLI {}", structure.id_nat_struc);
    let key = new_rsa_key(&what)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "FR");
    dn.push(DnType::StateOrProvinceName, structure.department.as_str());
    dn.push(DnType::OrganizationName, structure.name.as_str());
    dn.push(
        DnType::OrganizationalUnitName,
        structure.id_nat_struc.as_str(),
    );
    dn.push(DnType::CommonName, AUTH_CLI_CN);
    params.distinguished_name = dn;
    params.serial_number = Some(random_serial());
    params.not_before = today(now) - Duration::days(1);
    params.not_after = today(now) + Duration::days(3 * 365);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    params.crl_distribution_points = vec![crl_point(profile, files::ORGANISATIONS_CRL_URL_NAME)];
    add_aia(&mut params, profile);
    let cert = sign(&what, &params, &key, |p, k| p.signed_by(k, issuer))?;
    Ok((cert, key))
}

fn generate_crl(
    now: OffsetDateTime,
    issuer: &Issuer<'_, KeyPair>,
    number: u64,
    revoked: &[Vec<u8>],
    what: &str,
) -> Result<Crl> {
    let params = CertificateRevocationListParams {
        this_update: now - Duration::minutes(5),
        next_update: now + Duration::days(30),
        crl_number: SerialNumber::from(number),
        issuing_distribution_point: None,
        revoked_certs: revoked
            .iter()
            .map(|serial| rcgen::RevokedCertParams {
                serial_number: SerialNumber::from_slice(serial),
                revocation_time: now - Duration::days(1),
                reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    };
    let crl = params.signed_by(issuer).map_err(|source| Error::Generate {
        what: format!("CRL {what}"),
        source,
    })?;
    let pem = crl.pem().map_err(|source| Error::Generate {
        what: format!("CRL {what}"),
        source,
    })?;
    Ok(Crl {
        pem,
        der: crl.der().to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn profile() -> Profile {
        Profile {
            server_dns_names: vec!["mail-psc.example.mssante.fr".into(), "localhost".into()],
            server_ips: vec!["127.0.0.1".parse().expect("ip")],
            server_organisation: "OPERATEUR FICTIF".into(),
            crl_base_url: "http://crl.example.mssante.fr/".into(),
            ocsp_url: "http://ocsp.example.mssante.fr/ocsp".into(),
            structures: vec![Structure {
                id_nat_struc: "1750000001".into(),
                name: "CENTRE HOSPITALIER FICTIF".into(),
                department: "Paris (75)".into(),
            }],
        }
    }

    fn contains(der: &[u8], text: &str) -> bool {
        der.windows(text.len()).any(|w| w == text.as_bytes())
    }

    #[test]
    fn another_http_port_reissues_the_sub_ca_with_its_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (first, _) = ensure(dir.path(), &profile()).expect("generate");
        let mut moved = profile();
        moved.crl_base_url = "http://crl.example.mssante.fr:10080/".into();
        moved.ocsp_url = "http://ocsp.example.mssante.fr:10080/ocsp".into();
        let (second, outcome) = ensure(dir.path(), &moved).expect("reissue");
        assert!(
            !outcome.generated.iter().any(|g| g == ROOT_CN),
            "{outcome:?}"
        );
        assert_eq!(
            second.root.cert, first.root.cert,
            "the installed root stays"
        );
        assert_ne!(second.organisations.cert, first.organisations.cert);
        assert_eq!(
            second.organisations.key, first.organisations.key,
            "same key"
        );
        assert!(contains(
            &second.organisations.cert.der,
            "crl.example.mssante.fr:10080"
        ));
        assert!(contains(
            &second.server.cert.der,
            "crl.example.mssante.fr:10080"
        ));
        assert!(contains(
            &second.server.cert.der,
            "ocsp.example.mssante.fr:10080"
        ));
        assert!(!contains(&first.server.cert.der, ":10080"));
        // The leaves chain to the reissued sub-CA as to the first one (same key, same name).
        let a = inspect::summarize(&first.organisations.cert.der).expect("first");
        let b = inspect::summarize(&second.organisations.cert.der).expect("second");
        assert_eq!(a.subject, b.subject);
    }

    #[test]
    fn generates_then_reuses_then_reissues_leaves_on_profile_change() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (first, outcome) = ensure(dir.path(), &profile()).expect("generate");
        assert!(outcome.generated.iter().any(|g| g == ROOT_CN));
        let root = inspect::summarize(&first.root.cert.der).expect("root");
        assert_eq!(root.subject_cn.as_deref(), Some(ROOT_CN));
        assert_eq!(root.key_bits, Some(2048));
        assert_eq!(root.signature_algorithm, "sha256WithRSAEncryption");

        let (again, outcome) = ensure(dir.path(), &profile()).expect("reuse");
        assert!(outcome.generated.is_empty(), "{:?}", outcome.generated);
        assert_eq!(again.server.cert, first.server.cert);

        let mut other = profile();
        other
            .server_dns_names
            .push("autoconfig.example.mssante.fr".into());
        let (third, outcome) = ensure(dir.path(), &other).expect("reissue");
        assert!(!outcome.generated.iter().any(|g| g == ROOT_CN), "CAs kept");
        assert_eq!(third.root.cert, first.root.cert);
        assert_ne!(third.server.cert, first.server.cert);
        let server = inspect::summarize(&third.server.cert.der).expect("server");
        assert!(
            server
                .dns_names
                .contains(&"autoconfig.example.mssante.fr".to_owned())
        );
    }

    #[test]
    fn regenerates_a_missing_or_damaged_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (first, _) = ensure(dir.path(), &profile()).expect("generate");
        let names = FileNames::new(dir.path());
        std::fs::write(&names.server_cert, "garbage").expect("damage");
        let (second, outcome) = ensure(dir.path(), &profile()).expect("repair");
        assert!(!outcome.generated.is_empty());
        assert_ne!(second.server.cert, first.server.cert);
        assert_eq!(second.root.cert, first.root.cert);
    }

    #[test]
    fn client_certificate_names_the_structure() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (pki, _) = ensure(dir.path(), &profile()).expect("generate");
        let client = pki.client_for("1750000001").expect("client");
        let s = inspect::summarize(&client.cert.der).expect("parse");
        assert_eq!(
            s.subject,
            "CN=Authentification MSS, OU=1750000001, O=CENTRE HOSPITALIER FICTIF, ST=Paris (75), C=FR"
        );
        assert_eq!(s.issuer_cn.as_deref(), Some(ORGANISATIONS_CN));
        assert!(s.client_auth && !s.server_auth);
    }

    #[test]
    fn keys_are_not_shown_by_debug() {
        let key = PrivateKeyPem("-----BEGIN PRIVATE KEY-----secret".into());
        assert!(!format!("{key:?}").contains("secret"));
    }
}
