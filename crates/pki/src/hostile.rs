//! Certificates a conformant client must refuse (server side) and a conformant operator must
//! refuse (client side), each a real certificate with exactly one thing wrong:
//!
//! | state | what is wrong | requirement |
//! |---|---|---|
//! | `expire` | notAfter in the past | ECO.1.1.5 |
//! | `pas-encore-valide` | notBefore in the future | ECO.1.1.5 |
//! | `revoque` | listed by the Organisations CA's CRL | ECO.1.1.6 |
//! | `autre-nom` | names another host (server only) | host name check |
//! | `personnes` | issued by the Elementaire *Personnes* CA (same root, other range) | ECO.1.1.10 |
//! | `standard` | issued by the IGC Santé *Standard* range (other root) | ECO.1.1.10 |
//! | `commercial` | issued by a foreign "commercial" CA | ECO.1.1.10 |
//!
//! The hostile leaves share one key: what makes them hostile is the certificate, never the key,
//! and one key keeps the first generation fast.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use time::{Duration, OffsetDateTime};

use crate::{Authority, Cert, Credential, Error, PrivateKeyPem, Profile, Result, files};

/// Common name of the Elementaire Personnes sub-CA (another range under the same root).
pub const PERSONNES_CN: &str = "TEST AC IGC-SANTE ELEMENTAIRE PERSONNES";
/// Common name of the root of the Standard range.
pub const STANDARD_ROOT_CN: &str = "TEST AC RACINE IGC-SANTE STANDARD";
/// Common name of the Standard range's Organisations sub-CA.
pub const STANDARD_ORGANISATIONS_CN: &str = "TEST AC IGC-SANTE STANDARD ORGANISATIONS";
/// Common name of the foreign, "commercial" CA.
pub const COMMERCIAL_CN: &str = "TEST AC COMMERCIALE FICTIVE (HORS IGC SANTE)";

/// What is wrong with a hostile certificate (serialised as its state in file names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Flaw {
    /// Expired.
    #[serde(rename = "expire")]
    Expired,
    /// Not valid yet.
    #[serde(rename = "pas-encore-valide")]
    NotYetValid,
    /// Revoked (listed by the CRL).
    #[serde(rename = "revoque")]
    Revoked,
    /// Names another host (server certificates only).
    #[serde(rename = "autre-nom")]
    WrongHost,
    /// Issued by the Elementaire Personnes CA.
    #[serde(rename = "personnes")]
    Personnes,
    /// Issued by the Standard range.
    #[serde(rename = "standard")]
    Standard,
    /// Issued by a foreign CA.
    #[serde(rename = "commercial")]
    Commercial,
}

impl Flaw {
    /// Flaws of server certificates.
    pub const SERVER: [Flaw; 7] = [
        Flaw::Expired,
        Flaw::NotYetValid,
        Flaw::Revoked,
        Flaw::WrongHost,
        Flaw::Personnes,
        Flaw::Standard,
        Flaw::Commercial,
    ];
    /// Flaws of client certificates.
    pub const CLIENT: [Flaw; 5] = [
        Flaw::Expired,
        Flaw::NotYetValid,
        Flaw::Revoked,
        Flaw::Personnes,
        Flaw::Commercial,
    ];

    /// The state in file names (`expire`, `revoque`...).
    pub fn state(self) -> &'static str {
        match self {
            Flaw::Expired => "expire",
            Flaw::NotYetValid => "pas-encore-valide",
            Flaw::Revoked => "revoque",
            Flaw::WrongHost => "autre-nom",
            Flaw::Personnes => "personnes",
            Flaw::Standard => "standard",
            Flaw::Commercial => "commercial",
        }
    }
}

/// The hostile material of the fake IGC Santé.
#[derive(Debug, Clone)]
pub struct Hostile {
    /// "TEST AC IGC-SANTE ELEMENTAIRE PERSONNES", under the Elementaire root.
    pub personnes: Authority,
    /// "TEST AC RACINE IGC-SANTE STANDARD".
    pub standard_root: Authority,
    /// "TEST AC IGC-SANTE STANDARD ORGANISATIONS".
    pub standard_organisations: Authority,
    /// The foreign CA.
    pub commercial: Authority,
    /// Hostile server certificates for the operator's names.
    pub servers: BTreeMap<Flaw, Credential>,
    /// Hostile ORG AUTH_CLI certificates for the first structure of the profile.
    pub clients: BTreeMap<Flaw, Credential>,
}

/// File names of the hostile material.
pub(crate) struct HostileFiles {
    dir: PathBuf,
}

impl HostileFiles {
    pub(crate) fn new(dir: &Path) -> Self {
        HostileFiles {
            dir: dir.to_owned(),
        }
    }

    pub(crate) fn ca(&self, name: &str) -> (PathBuf, PathBuf) {
        (
            self.dir.join(format!("{name}.crt.pem")),
            self.dir.join(format!("{name}.key.pem")),
        )
    }

    pub(crate) fn leaf_key(&self) -> PathBuf {
        self.dir.join("hostile-feuilles.key.pem")
    }

    pub(crate) fn server(&self, flaw: Flaw) -> PathBuf {
        self.dir
            .join(format!("operateur-serveur.{}.crt.pem", flaw.state()))
    }

    pub(crate) fn client(&self, flaw: Flaw) -> PathBuf {
        self.dir
            .join(format!("org-auth-cli.{}.crt.pem", flaw.state()))
    }
}

/// The CA branches as names of their files.
const PERSONNES: &str = "ac-elementaire-personnes";
const STANDARD_ROOT: &str = "ac-racine-standard";
const STANDARD_ORGANISATIONS: &str = "ac-standard-organisations";
const COMMERCIAL: &str = "ac-commerciale";

fn issuer_of(cert: &Path, key: &Path) -> Result<Issuer<'static, KeyPair>> {
    crate::load_issuer(cert, key)
}

/// Loads a CA if usable, or generates it with `make`.
fn ca(
    files: &HostileFiles,
    name: &str,
    regenerate: bool,
    now: OffsetDateTime,
    generated: &mut Vec<String>,
    make: impl FnOnce() -> Result<(Cert, KeyPair)>,
) -> Result<(Issuer<'static, KeyPair>, bool)> {
    let (cert, key) = files.ca(name);
    if !regenerate && crate::ca_usable(&cert, &key, now)? {
        return Ok((issuer_of(&cert, &key)?, false));
    }
    let (c, k) = make()?;
    files::write(&cert, &c.pem)?;
    files::write_key(&key, &k.serialize_pem())?;
    generated.push(name.to_owned());
    Ok((issuer_of(&cert, &key)?, true))
}

/// What the hostile generation needs from the main tree.
pub(crate) struct Parents<'a> {
    pub root: &'a Issuer<'static, KeyPair>,
    pub organisations: &'a Issuer<'static, KeyPair>,
    /// The main CAs were just regenerated: everything below must be too.
    pub fresh: bool,
    /// The profile changed: leaves must be reissued.
    pub profile_changed: bool,
}

fn dn(cn: &str, organisation: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "FR");
    dn.push(DnType::OrganizationName, organisation);
    dn.push(DnType::CommonName, cn);
    dn
}

fn validity(flaw: Option<Flaw>, now: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
    let today = crate::today(now);
    match flaw {
        Some(Flaw::Expired) => (today - Duration::days(400), today - Duration::days(30)),
        Some(Flaw::NotYetValid) => (today + Duration::days(3650), today + Duration::days(4745)),
        _ => (today - Duration::days(1), today + Duration::days(3 * 365)),
    }
}

/// Whether a hostile leaf on disk is still what it should be.
fn leaf_ok(path: &Path, flaw: Flaw, now: OffsetDateTime) -> bool {
    let Ok(cert) = files::read_cert(path) else {
        return false;
    };
    let Ok(s) = crate::inspect::summarize(&cert.der) else {
        return false;
    };
    match flaw {
        Flaw::Expired => s.not_after < now,
        Flaw::NotYetValid => s.not_before > now + Duration::days(365),
        _ => s.not_after > now + crate::LEAF_MARGIN,
    }
}

/// Loads the hostile material, generating what is missing or stale. Returns the serials (hex)
/// the Organisations CRL must list.
pub(crate) fn ensure(
    dir: &Path,
    profile: &Profile,
    parents: &Parents<'_>,
    now: OffsetDateTime,
    generated: &mut Vec<String>,
) -> Result<Vec<Vec<u8>>> {
    let files = HostileFiles::new(dir);
    let regenerate = parents.fresh;
    let ca_params = |cn: &str, pathlen: Option<u8>| {
        let mut p = CertificateParams::default();
        p.distinguished_name = crate::ca_name(cn);
        p.serial_number = Some(crate::random_serial());
        p.not_before = crate::today(now) - Duration::days(1);
        p.not_after = crate::today(now) + Duration::days(15 * 365);
        p.is_ca = rcgen::IsCa::Ca(match pathlen {
            Some(n) => rcgen::BasicConstraints::Constrained(n),
            None => rcgen::BasicConstraints::Unconstrained,
        });
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        p.use_authority_key_identifier_extension = pathlen.is_some();
        p
    };
    let (personnes, p_new) = ca(&files, PERSONNES, regenerate, now, generated, || {
        let key = crate::new_rsa_key(PERSONNES_CN)?;
        let cert = crate::sign(
            PERSONNES_CN,
            &ca_params(PERSONNES_CN, Some(0)),
            &key,
            |p, k| p.signed_by(k, parents.root),
        )?;
        Ok((cert, key))
    })?;
    let (standard_root, s_new) = ca(&files, STANDARD_ROOT, regenerate, now, generated, || {
        let key = crate::new_rsa_key(STANDARD_ROOT_CN)?;
        let cert = crate::sign(
            STANDARD_ROOT_CN,
            &ca_params(STANDARD_ROOT_CN, None),
            &key,
            |p, k| p.self_signed(k),
        )?;
        Ok((cert, key))
    })?;
    let (standard_org, so_new) = ca(
        &files,
        STANDARD_ORGANISATIONS,
        regenerate || s_new,
        now,
        generated,
        || {
            let key = crate::new_rsa_key(STANDARD_ORGANISATIONS_CN)?;
            let cert = crate::sign(
                STANDARD_ORGANISATIONS_CN,
                &ca_params(STANDARD_ORGANISATIONS_CN, Some(0)),
                &key,
                |p, k| p.signed_by(k, &standard_root),
            )?;
            Ok((cert, key))
        },
    )?;
    let (commercial, c_new) = ca(&files, COMMERCIAL, regenerate, now, generated, || {
        let key = crate::new_rsa_key(COMMERCIAL_CN)?;
        let mut params = ca_params(COMMERCIAL_CN, None);
        params.distinguished_name = dn(COMMERCIAL_CN, "FAUX CERTIFICATEUR COMMERCIAL");
        let cert = crate::sign(COMMERCIAL_CN, &params, &key, |p, k| p.self_signed(k))?;
        Ok((cert, key))
    })?;
    let any_new_ca = p_new || so_new || c_new;

    let key_path = files.leaf_key();
    let leaf_key = match files::read_string(&key_path)
        .ok()
        .and_then(|pem| KeyPair::from_pem(&pem).ok())
    {
        Some(k) => k,
        None => {
            let k = crate::new_rsa_key("clé des certificats hostiles")?;
            files::write_key(&key_path, &k.serialize_pem())?;
            k
        }
    };

    let mut revoked = Vec::new();
    let reissue_all = regenerate || any_new_ca || parents.profile_changed;
    for flaw in Flaw::SERVER {
        let path = files.server(flaw);
        if reissue_all || !leaf_ok(&path, flaw, now) {
            let issuer = pick(
                flaw,
                parents.organisations,
                &personnes,
                &standard_org,
                &commercial,
            );
            let cert = server(profile, flaw, now, &leaf_key, issuer)?;
            files::write(&path, &cert.pem)?;
            generated.push(format!("certificat serveur hostile « {} »", flaw.state()));
        }
        if flaw == Flaw::Revoked {
            revoked.push(serial_of(&path)?);
        }
    }
    if let Some(structure) = profile.structures.first() {
        for flaw in Flaw::CLIENT {
            let path = files.client(flaw);
            if reissue_all || !leaf_ok(&path, flaw, now) {
                let issuer = pick(
                    flaw,
                    parents.organisations,
                    &personnes,
                    &standard_org,
                    &commercial,
                );
                let cert = client(profile, structure, flaw, now, &leaf_key, issuer)?;
                files::write(&path, &cert.pem)?;
                generated.push(format!("certificat client hostile « {} »", flaw.state()));
            }
            if flaw == Flaw::Revoked {
                revoked.push(serial_of(&path)?);
            }
        }
    }
    Ok(revoked)
}

fn pick<'a>(
    flaw: Flaw,
    organisations: &'a Issuer<'static, KeyPair>,
    personnes: &'a Issuer<'static, KeyPair>,
    standard: &'a Issuer<'static, KeyPair>,
    commercial: &'a Issuer<'static, KeyPair>,
) -> &'a Issuer<'static, KeyPair> {
    match flaw {
        Flaw::Personnes => personnes,
        Flaw::Standard => standard,
        Flaw::Commercial => commercial,
        _ => organisations,
    }
}

fn serial_of(path: &Path) -> Result<Vec<u8>> {
    let cert = files::read_cert(path)?;
    let (_, parsed) =
        x509_parser::parse_x509_certificate(&cert.der).map_err(|e| Error::Corrupt {
            path: path.to_owned(),
            problem: e.to_string(),
        })?;
    Ok(parsed.tbs_certificate.raw_serial().to_vec())
}

fn server(
    profile: &Profile,
    flaw: Flaw,
    now: OffsetDateTime,
    key: &KeyPair,
    issuer: &Issuer<'static, KeyPair>,
) -> Result<Cert> {
    let what = format!("certificat serveur hostile {}", flaw.state());
    let mut params = CertificateParams::default();
    let names: Vec<String> = if flaw == Flaw::WrongHost {
        vec!["mail.autre-operateur.mssante.fr".to_owned()]
    } else {
        profile.server_dns_names.clone()
    };
    params.distinguished_name = dn(
        names.first().map_or("serveur", String::as_str),
        &profile.server_organisation,
    );
    params.serial_number = Some(crate::random_serial());
    (params.not_before, params.not_after) = validity(Some(flaw), now);
    for name in &names {
        let ia5 = name.as_str().try_into().map_err(|source| Error::Generate {
            what: format!("nom DNS {name}"),
            source,
        })?;
        params.subject_alt_names.push(SanType::DnsName(ia5));
    }
    if flaw != Flaw::WrongHost {
        for ip in &profile.server_ips {
            params.subject_alt_names.push(SanType::IpAddress(*ip));
        }
    }
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    crate::add_aia(&mut params, profile);
    crate::sign(&what, &params, key, |p, k| p.signed_by(k, issuer))
}

fn client(
    profile: &Profile,
    structure: &crate::Structure,
    flaw: Flaw,
    now: OffsetDateTime,
    key: &KeyPair,
    issuer: &Issuer<'static, KeyPair>,
) -> Result<Cert> {
    let what = format!("certificat client hostile {}", flaw.state());
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "FR");
    dn.push(DnType::StateOrProvinceName, structure.department.as_str());
    dn.push(DnType::OrganizationName, structure.name.as_str());
    dn.push(
        DnType::OrganizationalUnitName,
        structure.id_nat_struc.as_str(),
    );
    dn.push(DnType::CommonName, crate::AUTH_CLI_CN);
    params.distinguished_name = dn;
    params.serial_number = Some(crate::random_serial());
    (params.not_before, params.not_after) = validity(Some(flaw), now);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    crate::add_aia(&mut params, profile);
    crate::sign(&what, &params, key, |p, k| p.signed_by(k, issuer))
}

/// Loads the hostile material written by [`ensure`].
pub(crate) fn load(dir: &Path, profile: &Profile, organisations: &Cert) -> Result<Hostile> {
    let files = HostileFiles::new(dir);
    let authority = |name: &str| -> Result<Authority> {
        let (cert, key) = files.ca(name);
        Ok(Authority {
            cert: files::read_cert(&cert)?,
            key: PrivateKeyPem(files::read_string(&key)?),
        })
    };
    let personnes = authority(PERSONNES)?;
    let standard_root = authority(STANDARD_ROOT)?;
    let standard_organisations = authority(STANDARD_ORGANISATIONS)?;
    let commercial = authority(COMMERCIAL)?;
    let key = PrivateKeyPem(files::read_string(&files.leaf_key())?);
    let intermediate = |flaw: Flaw| -> Vec<Cert> {
        match flaw {
            Flaw::Personnes => vec![personnes.cert.clone()],
            Flaw::Standard => vec![standard_organisations.cert.clone()],
            Flaw::Commercial => vec![],
            _ => vec![organisations.clone()],
        }
    };
    let mut servers = BTreeMap::new();
    for flaw in Flaw::SERVER {
        servers.insert(
            flaw,
            Credential {
                cert: files::read_cert(&files.server(flaw))?,
                key: key.clone(),
                intermediates: intermediate(flaw),
            },
        );
    }
    let mut clients = BTreeMap::new();
    if !profile.structures.is_empty() {
        for flaw in Flaw::CLIENT {
            clients.insert(
                flaw,
                Credential {
                    cert: files::read_cert(&files.client(flaw))?,
                    key: key.clone(),
                    intermediates: intermediate(flaw),
                },
            );
        }
    }
    Ok(Hostile {
        personnes,
        standard_root,
        standard_organisations,
        commercial,
        servers,
        clients,
    })
}
