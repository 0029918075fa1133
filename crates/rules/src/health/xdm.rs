//! The `IHE_XDM.ZIP` archive (IHE ITI XDM): read with bounds — entry count, sizes, compression
//! ratio, names that escape the archive — then its layout: `INDEX.HTM` and `README.TXT` at the
//! root, `IHE_XDM/SUBSET01/METADATA.XML`, and the documents METADATA.XML references.
//!
//! Names are compared case-insensitively (the profile writes them in upper case, as ISO 9660
//! media did); problems are reported, not silently repaired.

use std::io::Read;

use super::cda::{self, Cda, CdaError};
use super::metadata::{self, DocumentEntry, Metadata};

/// Most entries an archive may have.
pub const MAX_ENTRIES: usize = 1000;
/// Largest entry, uncompressed.
pub const MAX_ENTRY: u64 = 40 * 1024 * 1024;
/// Largest archive content, uncompressed.
pub const MAX_TOTAL: u64 = 100 * 1024 * 1024;
/// Highest compression ratio accepted for an entry over 1 MiB (a zip bomb has thousands).
pub const MAX_RATIO: u64 = 200;

/// Why an archive was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XdmError {
    /// Not a ZIP archive, or a damaged one.
    #[error("l'archive n'est pas un ZIP lisible : {0}")]
    NotZip(String),
    /// Over [`MAX_ENTRIES`].
    #[error("l'archive compte {0} fichiers, au-delà de la limite de {MAX_ENTRIES}")]
    TooManyEntries(usize),
    /// A name that would leave the folder it is extracted to.
    #[error("le fichier « {0} » sort de l'archive (chemin absolu ou « .. ») : archive refusée")]
    Traversal(String),
    /// An encrypted entry.
    #[error("le fichier « {0} » est chiffré")]
    Encrypted(String),
    /// Expands far more than any document does.
    #[error(
        "le fichier « {name} » se décompresse {ratio} fois (bombe de décompression) : archive refusée"
    )]
    Bomb {
        /// Entry name.
        name: String,
        /// Uncompressed / compressed.
        ratio: u64,
    },
    /// Over [`MAX_ENTRY`] or, in total, [`MAX_TOTAL`].
    #[error("le contenu décompressé dépasse la limite ({0})")]
    TooLarge(String),
    /// An entry that cannot be decompressed.
    #[error("le fichier « {0} » ne se décompresse pas : {1}")]
    Entry(String, String),
}

/// The files of an archive, in archive order (directories left out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Archive {
    /// (name as stored, content).
    pub files: Vec<(String, Vec<u8>)>,
}

impl Archive {
    /// The file with this name, compared case-insensitively.
    pub fn get(&self, name: &str) -> Option<(&str, &[u8])> {
        self.files
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(n, c)| (n.as_str(), c.as_slice()))
    }
}

fn escapes(name: &str) -> bool {
    name.starts_with('/')
        || name.starts_with('\\')
        || name.contains('\\')
        || name.as_bytes().get(1) == Some(&b':')
        || name.split('/').any(|part| part == "..")
}

/// Reads a ZIP archive within the bounds above.
pub fn read_archive(bytes: &[u8]) -> Result<Archive, XdmError> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| XdmError::NotZip(e.to_string()))?;
    if zip.len() > MAX_ENTRIES {
        return Err(XdmError::TooManyEntries(zip.len()));
    }
    let mut total = 0u64;
    let mut files = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| XdmError::NotZip(e.to_string()))?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if escapes(&name) {
            return Err(XdmError::Traversal(name));
        }
        if entry.encrypted() {
            return Err(XdmError::Encrypted(name));
        }
        if entry.is_dir() {
            continue;
        }
        let declared = entry.size();
        if declared > MAX_ENTRY {
            return Err(XdmError::TooLarge(format!(
                "« {name} » : {declared} octets"
            )));
        }
        // Never trust the declared size: read at most one byte past the limit.
        let mut content = Vec::new();
        (&mut entry)
            .take(MAX_ENTRY + 1)
            .read_to_end(&mut content)
            .map_err(|e| XdmError::Entry(name.clone(), e.to_string()))?;
        let size = content.len() as u64;
        if size > MAX_ENTRY {
            return Err(XdmError::TooLarge(format!(
                "« {name} » : plus de {MAX_ENTRY} octets"
            )));
        }
        let compressed = entry.compressed_size().max(1);
        if size > 1024 * 1024 && size / compressed > MAX_RATIO {
            return Err(XdmError::Bomb {
                name,
                ratio: size / compressed,
            });
        }
        total += size;
        if total > MAX_TOTAL {
            return Err(XdmError::TooLarge(format!(
                "plus de {MAX_TOTAL} octets au total"
            )));
        }
        files.push((name, content));
    }
    Ok(Archive { files })
}

/// One CDA document of the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XdmDocument {
    /// Its path in the archive.
    pub path: String,
    /// What it says, or why it is not a CDA.
    pub cda: Result<Cda, CdaError>,
    /// Its entry in METADATA.XML, when it has one.
    pub entry: Option<DocumentEntry>,
}

/// An XDM archive, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xdm {
    /// The files.
    pub archive: Archive,
    /// METADATA.XML, or why it could not be used.
    pub metadata: Result<Metadata, String>,
    /// The documents (every XML file of the submission set but METADATA.XML).
    pub documents: Vec<XdmDocument>,
    /// What the layout lacks (French, one line each).
    pub layout_problems: Vec<String>,
}

const METADATA: &str = "IHE_XDM/SUBSET01/METADATA.XML";
const SUBSET: &str = "IHE_XDM/SUBSET01/";

impl Xdm {
    /// The layout and documents of a read archive.
    pub fn from_archive(archive: Archive) -> Xdm {
        let mut problems = Vec::new();
        for required in ["INDEX.HTM", "README.TXT"] {
            if archive.get(required).is_none() {
                problems.push(format!(
                    "le fichier {required} manque à la racine de l'archive"
                ));
            }
        }
        let metadata = match archive.get(METADATA) {
            Some((_, bytes)) => {
                metadata::parse(bytes).map_err(|e| format!("METADATA.XML illisible : {e}"))
            }
            None => Err(format!("{METADATA} manque")),
        };
        if let Err(e) = &metadata {
            problems.push(e.clone());
        }
        let in_subset = |name: &str| {
            name.len() > SUBSET.len()
                && name[..SUBSET.len()].eq_ignore_ascii_case(SUBSET)
                && !name[SUBSET.len()..].contains('/')
        };
        let mut documents = Vec::new();
        for (name, content) in &archive.files {
            if !in_subset(name)
                || name.eq_ignore_ascii_case(METADATA)
                || !name.to_ascii_uppercase().ends_with(".XML")
            {
                continue;
            }
            let file = &name[SUBSET.len()..];
            let entry = metadata.as_ref().ok().and_then(|m| {
                m.documents
                    .iter()
                    .find(|d| {
                        d.uri
                            .as_deref()
                            .is_some_and(|u| u.eq_ignore_ascii_case(file))
                    })
                    .cloned()
            });
            if metadata.is_ok() && entry.is_none() {
                problems.push(format!("{name} n'est pas décrit dans METADATA.XML"));
            }
            documents.push(XdmDocument {
                path: name.clone(),
                cda: cda::parse(content),
                entry,
            });
        }
        if let Ok(m) = &metadata {
            for d in &m.documents {
                match &d.uri {
                    None => problems.push("une entrée de METADATA.XML n'a pas de slot URI".into()),
                    Some(uri) if archive.get(&format!("{SUBSET}{uri}")).is_none() => {
                        problems.push(format!("METADATA.XML référence {uri}, absent de {SUBSET}"))
                    }
                    Some(_) => {}
                }
            }
        }
        if documents.is_empty() {
            problems.push(format!("aucun document CDA dans {SUBSET}"));
        }
        Xdm {
            archive,
            metadata,
            documents,
            layout_problems: problems,
        }
    }

    /// The documents that are CDA R2.
    pub fn cdas(&self) -> impl Iterator<Item = (&str, &Cda)> {
        self.documents
            .iter()
            .filter_map(|d| d.cda.as_ref().ok().map(|c| (d.path.as_str(), c)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, content) in files {
            w.start_file(*name, SimpleFileOptions::default())
                .expect("start");
            w.write_all(content).expect("write");
        }
        w.finish().expect("finish").into_inner()
    }

    #[test]
    fn bounds() {
        assert!(matches!(
            read_archive(b"not a zip"),
            Err(XdmError::NotZip(_))
        ));
        for evil in [
            "../../etc/passwd",
            "/etc/passwd",
            "a/../../b",
            "C:/x",
            "a\\..\\b",
        ] {
            let z = zip_of(&[(evil, b"x")]);
            assert!(
                matches!(read_archive(&z), Err(XdmError::Traversal(_))),
                "{evil}"
            );
        }
        let bomb = zip_of(&[("IHE_XDM/SUBSET01/DOC.XML", &vec![b'A'; 20 * 1024 * 1024])]);
        assert!(bomb.len() < 100 * 1024, "{}", bomb.len());
        assert!(matches!(read_archive(&bomb), Err(XdmError::Bomb { .. })));
        let names: Vec<String> = (0..=MAX_ENTRIES).map(|i| format!("f{i}")).collect();
        let many: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        assert!(matches!(
            read_archive(&zip_of(&many)),
            Err(XdmError::TooManyEntries(_))
        ));
    }

    #[test]
    fn layout_problems_are_named() {
        let z = zip_of(&[
            ("README.TXT", b"x"),
            ("IHE_XDM/SUBSET01/DOC0001.XML", b"<x/>"),
        ]);
        let xdm = Xdm::from_archive(read_archive(&z).expect("read"));
        let all = xdm.layout_problems.join("\n");
        assert!(all.contains("INDEX.HTM"), "{all}");
        assert!(all.contains("METADATA.XML manque"), "{all}");
        assert_eq!(xdm.documents.len(), 1);
        assert!(xdm.documents[0].cda.is_err());
    }
}
