//! The operator's directory (`scenarios/directory.yaml`): structures, professionals known to the
//! fake Pro Santé Connect, mailboxes (BAL) and patients.
//!
//! It answers the questions authentication asks: may this professional open this BAL, does this
//! certificate's structure own this application BAL.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The directory shipped with the harness.
pub const EMBEDDED_YAML: &str = include_str!("../../../scenarios/directory.yaml");

/// Why a directory could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DirectoryError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The YAML does not parse or does not have the expected shape.
    #[error("directory is not valid YAML: {0}")]
    Yaml(String),
    /// An entry is inconsistent with the others.
    #[error("directory: {0}")]
    Invalid(String),
}

/// The operator's own names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorInfo {
    /// Mail domain of the operator's BALs.
    pub domain: String,
    /// Display name.
    pub name: String,
    /// Host name of the Pro Santé Connect entry point.
    pub psc_host: String,
    /// Host name of the application (certificate) entry point.
    pub authcli_host: String,
    /// Host name of the autoconfiguration service.
    pub autoconfig_host: String,
}

/// A structure (legal entity) identified by its IdNatStruc.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Structure {
    /// National structure identifier.
    pub id_nat_struc: String,
    /// Name.
    pub name: String,
    /// Département, `<name> (<number>)`.
    pub department: String,
}

/// A professional known to the fake Pro Santé Connect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Professional {
    /// National identifier (`8` + RPPS), the `preferred_username` of PSC tokens.
    pub id: String,
    /// Title ("Dr"...), optional.
    #[serde(default)]
    pub title: Option<String>,
    /// First name.
    pub first_name: String,
    /// Last name, upper case.
    pub last_name: String,
    /// Functional entity (service), optional.
    #[serde(default)]
    pub entity: Option<String>,
}

impl Professional {
    /// The sender label the référentiel asks for (ECO.2.2.7): `[<Titre> ]<Prénom> <NOM>[ <Entité>]`.
    pub fn display_name(&self) -> String {
        let mut parts = Vec::new();
        if let Some(t) = &self.title {
            parts.push(t.as_str());
        }
        parts.push(&self.first_name);
        parts.push(&self.last_name);
        if let Some(e) = &self.entity {
            parts.push(e.as_str());
        }
        parts.join(" ")
    }
}

/// Family of a mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BalFamily {
    /// Personal mailbox of one professional.
    #[serde(rename = "PER")]
    Personal,
    /// Organisational mailbox shared by professionals of a structure.
    #[serde(rename = "ORG")]
    Organisational,
    /// Application mailbox used by software, authenticated by certificate.
    #[serde(rename = "APP")]
    Application,
}

/// A mailbox (BAL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bal {
    /// Address.
    pub address: String,
    /// Family.
    pub family: BalFamily,
    /// Owner of a personal BAL (professional ID).
    #[serde(default)]
    pub owner: Option<String>,
    /// Structure owning an organisational or application BAL.
    #[serde(default)]
    pub structure: Option<String>,
    /// Professionals entitled to an organisational BAL.
    #[serde(default)]
    pub members: Vec<String>,
    /// Sender label of an organisational or application BAL.
    #[serde(default)]
    pub label: Option<String>,
    /// Personal or organisational BAL to name in Reply-To (application BALs, ECO.2.2.5).
    #[serde(default)]
    pub reply_to: Option<String>,
}

/// State of a patient's Mon espace santé mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MesState {
    /// Open: messages are delivered.
    Open,
    /// Closed by the patient: messages bounce.
    Closed,
    /// Never created or opposed: messages bounce.
    Absent,
}

/// A patient (usager).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patient {
    /// INS matricule (NIR or NIA with its key, 15 characters).
    pub ins: String,
    /// OID of the INS.
    pub oid: String,
    /// Birth name.
    pub birth_name: String,
    /// First names, in order.
    pub first_names: Vec<String>,
    /// Birth date, `YYYY-MM-DD`.
    pub birth_date: String,
    /// Sex, `F` or `M`.
    pub sex: String,
    /// Whether the identity is qualified.
    pub qualified: bool,
    /// State of the Mon espace santé mailbox.
    pub mes: MesState,
}

/// The whole directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    /// The operator's names.
    pub operator: OperatorInfo,
    /// Structures.
    pub structures: Vec<Structure>,
    /// Professionals.
    pub professionals: Vec<Professional>,
    /// Mailboxes.
    pub bals: Vec<Bal>,
    /// Patients.
    #[serde(default)]
    pub patients: Vec<Patient>,
}

impl Directory {
    /// The directory shipped with the harness.
    pub fn embedded() -> Self {
        match Self::from_yaml(EMBEDDED_YAML) {
            Ok(d) => d,
            Err(e) => panic!("embedded directory is invalid: {e}"),
        }
    }

    /// Reads and validates a directory file.
    pub fn load(path: &Path) -> Result<Self, DirectoryError> {
        let text = std::fs::read_to_string(path).map_err(|source| DirectoryError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_yaml(&text)
    }

    /// Parses and validates a directory.
    pub fn from_yaml(yaml: &str) -> Result<Self, DirectoryError> {
        let dir: Directory =
            serde_saphyr::from_str(yaml).map_err(|e| DirectoryError::Yaml(e.to_string()))?;
        dir.validate()?;
        Ok(dir)
    }

    fn validate(&self) -> Result<(), DirectoryError> {
        let invalid = |m: String| Err(DirectoryError::Invalid(m));
        let mut addresses = BTreeSet::new();
        for bal in &self.bals {
            let address = bal.address.to_ascii_lowercase();
            let Some((local, domain)) = address.split_once('@') else {
                return invalid(format!("BAL {}: not an address", bal.address));
            };
            if local.is_empty() || domain != self.operator.domain.to_ascii_lowercase() {
                return invalid(format!(
                    "BAL {}: must be an address of {}",
                    bal.address, self.operator.domain
                ));
            }
            if !addresses.insert(address.clone()) {
                return invalid(format!("BAL {} appears twice", bal.address));
            }
            match bal.family {
                BalFamily::Personal => {
                    let Some(owner) = &bal.owner else {
                        return invalid(format!("personal BAL {} has no owner", bal.address));
                    };
                    if self.professional(owner).is_none() {
                        return invalid(format!("BAL {}: unknown owner {owner}", bal.address));
                    }
                }
                BalFamily::Organisational | BalFamily::Application => {
                    let Some(s) = &bal.structure else {
                        return invalid(format!("BAL {} has no structure", bal.address));
                    };
                    if self.structure(s).is_none() {
                        return invalid(format!("BAL {}: unknown structure {s}", bal.address));
                    }
                    if bal.label.as_deref().is_none_or(|l| l.trim().is_empty()) {
                        return invalid(format!("BAL {} needs a label", bal.address));
                    }
                }
            }
            for m in &bal.members {
                if self.professional(m).is_none() {
                    return invalid(format!("BAL {}: unknown member {m}", bal.address));
                }
            }
        }
        for p in &self.patients {
            if p.ins.len() != 15 {
                return invalid(format!("patient {}: INS must have 15 characters", p.ins));
            }
        }
        Ok(())
    }

    /// A BAL by address (case-insensitive).
    pub fn bal(&self, address: &str) -> Option<&Bal> {
        self.bals
            .iter()
            .find(|b| b.address.eq_ignore_ascii_case(address))
    }

    /// A professional by national ID.
    pub fn professional(&self, id: &str) -> Option<&Professional> {
        self.professionals.iter().find(|p| p.id == id)
    }

    /// A structure by IdNatStruc.
    pub fn structure(&self, id: &str) -> Option<&Structure> {
        self.structures.iter().find(|s| s.id_nat_struc == id)
    }

    /// Whether the professional may open the BAL with Pro Santé Connect.
    pub fn is_entitled(&self, professional: &str, bal: &Bal) -> bool {
        match bal.family {
            BalFamily::Personal => bal.owner.as_deref() == Some(professional),
            BalFamily::Organisational => bal.members.iter().any(|m| m == professional),
            BalFamily::Application => false,
        }
    }

    /// Whether an address belongs to the operator's domain.
    pub fn is_local(&self, address: &str) -> bool {
        address
            .rsplit_once('@')
            .is_some_and(|(_, d)| d.eq_ignore_ascii_case(&self.operator.domain))
    }

    /// The sender label of a BAL (ECO.2.2.7): the owner's name for a personal BAL, the label
    /// otherwise.
    pub fn display_name(&self, bal: &Bal) -> Option<String> {
        match bal.family {
            BalFamily::Personal => bal
                .owner
                .as_deref()
                .and_then(|o| self.professional(o))
                .map(Professional::display_name),
            _ => bal.label.clone(),
        }
    }

    /// Structures owning an application BAL: each gets an ORG AUTH_CLI certificate.
    pub fn application_structures(&self) -> Vec<&Structure> {
        let mut ids = BTreeSet::new();
        for bal in &self.bals {
            if bal.family == BalFamily::Application
                && let Some(s) = &bal.structure
            {
                ids.insert(s.as_str());
            }
        }
        ids.into_iter()
            .filter_map(|id| self.structure(id))
            .collect()
    }

    /// What the fake IGC Santé must issue for this directory.
    pub fn pki_profile(&self) -> pki::Profile {
        self.pki_profile_at(80)
    }

    /// The certificates' profile for an operator whose plain HTTP listener (CRL distribution
    /// points, OCSP responder) is on `http_port`: the URLs written in the certificates name that
    /// port, so a real client can follow them (`0`, an ephemeral port unknown in advance, and
    /// `80` give port-less URLs).
    pub fn pki_profile_at(&self, http_port: u16) -> pki::Profile {
        let port = match http_port {
            0 | 80 => String::new(),
            p => format!(":{p}"),
        };
        let op = &self.operator;
        pki::Profile {
            server_dns_names: vec![
                op.psc_host.clone(),
                op.authcli_host.clone(),
                op.autoconfig_host.clone(),
                format!("psc.{}", op.domain),
                "localhost".to_owned(),
            ],
            server_ips: vec![
                std::net::IpAddr::from([127, 0, 0, 1]),
                std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            ],
            server_organisation: pki_organisation(&op.name),
            crl_base_url: format!("http://crl.{}{port}/igc-sante", op.domain),
            ocsp_url: format!("http://ocsp.{}{port}/ocsp", op.domain),
            structures: self
                .application_structures()
                .into_iter()
                .map(|s| pki::Structure {
                    id_nat_struc: s.id_nat_struc.clone(),
                    name: s.name.clone(),
                    department: s.department.clone(),
                })
                .collect(),
        }
    }
}

/// Certificates carry the operator's name upper case without diacritics, like the IGC Santé's.
fn pki_organisation(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' => 'E',
            'à' | 'â' => 'A',
            'ç' => 'C',
            'ô' => 'O',
            'î' | 'ï' => 'I',
            'û' | 'ù' => 'U',
            _ => c.to_ascii_uppercase(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_urls_name_the_http_port_in_use() {
        let d = Directory::embedded();
        assert_eq!(
            d.pki_profile().crl_base_url,
            "http://crl.operateur-fictif.mssante.fr/igc-sante"
        );
        let p = d.pki_profile_at(10080);
        assert_eq!(
            p.crl_base_url,
            "http://crl.operateur-fictif.mssante.fr:10080/igc-sante"
        );
        assert_eq!(
            p.ocsp_url,
            "http://ocsp.operateur-fictif.mssante.fr:10080/ocsp"
        );
        assert_eq!(d.pki_profile_at(0), d.pki_profile());
    }

    #[test]
    fn embedded_directory_is_consistent() {
        let d = Directory::from_yaml(EMBEDDED_YAML).expect("valid");
        let marie = d
            .bal("Marie.Martin@operateur-fictif.mssante.fr")
            .expect("bal");
        assert!(d.is_entitled("810000000001", marie));
        assert!(!d.is_entitled("810000000002", marie));
        let org = d
            .bal("cardiologie@operateur-fictif.mssante.fr")
            .expect("org");
        assert!(d.is_entitled("810000000003", org));
        assert_eq!(
            d.display_name(marie).as_deref(),
            Some("Dr Marie MARTIN Service de cardiologie")
        );
        assert_eq!(d.application_structures().len(), 2);
        let profile = d.pki_profile();
        assert_eq!(
            profile.server_organisation,
            "OPERATEUR FICTIF MSSANTE (HARNAIS DE CONFORMITE)"
        );
    }

    #[test]
    fn rejects_inconsistent_entries() {
        let base = EMBEDDED_YAML.to_owned();
        let foreign = base.replacen(
            "address: paul.durand@operateur-fictif.mssante.fr",
            "address: paul.durand@ailleurs.mssante.fr",
            1,
        );
        assert!(matches!(
            Directory::from_yaml(&foreign),
            Err(DirectoryError::Invalid(_))
        ));
        let unknown_owner = base.replacen("owner: \"810000000002\"", "owner: \"899\"", 1);
        assert!(matches!(
            Directory::from_yaml(&unknown_owner),
            Err(DirectoryError::Invalid(_))
        ));
        assert!(matches!(
            Directory::from_yaml("operator: ["),
            Err(DirectoryError::Yaml(_))
        ));
    }
}
