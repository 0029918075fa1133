//! The layout of the certificate folder, and the small I/O helpers that keep it consistent:
//! atomic writes, a lock file, private keys readable by their owner only.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Cert, Crl, Error, Profile, Result};

/// File name of the root's CRL in distribution point URLs.
pub(crate) const ROOT_CRL_URL_NAME: &str = "ac-racine-elementaire.crl";
/// File name of the Organisations CA's CRL in distribution point URLs.
pub(crate) const ORGANISATIONS_CRL_URL_NAME: &str = "ac-elementaire-organisations.crl";

/// Paths of every file of the folder, named by role (and state, for hostile material later).
#[derive(Debug, Clone)]
pub struct FileNames {
    /// The folder.
    pub dir: PathBuf,
    /// What was generated for which profile.
    pub manifest: PathBuf,
    /// Root certificate: what a SUT trusts.
    pub root_cert: PathBuf,
    /// Root key.
    pub root_key: PathBuf,
    /// Root CRL.
    pub root_crl: PathBuf,
    /// Organisations sub-CA certificate.
    pub organisations_cert: PathBuf,
    /// Organisations sub-CA key.
    pub organisations_key: PathBuf,
    /// Organisations sub-CA CRL.
    pub organisations_crl: PathBuf,
    /// Operator server certificate.
    pub server_cert: PathBuf,
    /// Operator server key.
    pub server_key: PathBuf,
    /// Fake Pro Santé Connect signing key.
    pub psc_key: PathBuf,
}

impl FileNames {
    /// The names inside `dir`.
    pub fn new(dir: &Path) -> Self {
        let f = |name: &str| dir.join(name);
        FileNames {
            dir: dir.to_owned(),
            manifest: f("manifest.json"),
            root_cert: f("ac-racine-elementaire.crt.pem"),
            root_key: f("ac-racine-elementaire.key.pem"),
            root_crl: f("ac-racine-elementaire.crl.pem"),
            organisations_cert: f("ac-elementaire-organisations.crt.pem"),
            organisations_key: f("ac-elementaire-organisations.key.pem"),
            organisations_crl: f("ac-elementaire-organisations.crl.pem"),
            server_cert: f("operateur-serveur.crt.pem"),
            server_key: f("operateur-serveur.key.pem"),
            psc_key: f("psc-signature.key.pem"),
        }
    }

    /// Certificate and key of the ORG AUTH_CLI certificate of a structure.
    pub fn client(&self, id_nat_struc: &str) -> (PathBuf, PathBuf) {
        let safe: String = id_nat_struc
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        (
            self.dir.join(format!("org-auth-cli-{safe}.crt.pem")),
            self.dir.join(format!("org-auth-cli-{safe}.key.pem")),
        )
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub format: u32,
    pub profile: Profile,
    pub crl_number: u64,
}

pub(crate) fn create_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|source| Error::Io {
        action: "creating",
        path: dir.to_owned(),
        source,
    })
}

/// Holds an exclusive lock on the folder until dropped.
pub(crate) fn lock(dir: &Path) -> Result<File> {
    let path = dir.join(".lock");
    let file = File::create(&path).map_err(|source| Error::Io {
        action: "creating",
        path: path.clone(),
        source,
    })?;
    file.lock().map_err(|source| Error::Io {
        action: "locking",
        path,
        source,
    })?;
    Ok(file)
}

pub(crate) fn read_string(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|source| Error::Io {
        action: "reading",
        path: path.to_owned(),
        source,
    })
}

fn pem_block(path: &Path, label: &str) -> Result<(String, Vec<u8>)> {
    let text = read_string(path)?;
    let corrupt = |problem: String| Error::Corrupt {
        path: path.to_owned(),
        problem,
    };
    let (_, pem) = x509_parser::pem::parse_x509_pem(text.as_bytes())
        .map_err(|e| corrupt(format!("no PEM block ({e})")))?;
    if pem.label != label {
        return Err(corrupt(format!(
            "expected a {label}, found a {}",
            pem.label
        )));
    }
    Ok((text, pem.contents))
}

pub(crate) fn read_cert(path: &Path) -> Result<Cert> {
    let (pem, der) = pem_block(path, "CERTIFICATE")?;
    x509_parser::parse_x509_certificate(&der).map_err(|e| Error::Corrupt {
        path: path.to_owned(),
        problem: format!("unparsable certificate ({e})"),
    })?;
    Ok(Cert { pem, der })
}

pub(crate) fn read_crl(path: &Path) -> Result<Crl> {
    let (pem, der) = pem_block(path, "X509 CRL")?;
    Ok(Crl { pem, der })
}

pub(crate) fn read_manifest(path: &Path) -> Result<Option<Manifest>> {
    if !path.exists() {
        return Ok(None);
    }
    // A manifest we cannot read is treated as absent: everything is regenerated.
    Ok(serde_json::from_str(&read_string(path)?).ok())
}

pub(crate) fn write_manifest(path: &Path, manifest: &Manifest) -> Result<()> {
    let text = serde_json::to_string_pretty(manifest).map_err(|e| Error::Corrupt {
        path: path.to_owned(),
        problem: e.to_string(),
    })?;
    write(path, &text)
}

/// Writes through a temporary file and a rename, so a reader never sees half a file.
pub(crate) fn write(path: &Path, contents: &str) -> Result<()> {
    write_with_mode(path, contents, 0o644)
}

/// Like [`write`], readable by the owner only.
pub(crate) fn write_key(path: &Path, contents: &str) -> Result<()> {
    write_with_mode(path, contents, 0o600)
}

fn write_with_mode(path: &Path, contents: &str, mode: u32) -> Result<()> {
    let io = |action, source| Error::Io {
        action,
        path: path.to_owned(),
        source,
    };
    let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let result = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|e| io("writing", e))
}
