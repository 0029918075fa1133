//! Health documents carried by a message (référentiel §3.1): the `IHE_XDM.ZIP` archive with its
//! CDA documents and METADATA.XML, and the PDF attachments.

pub mod cda;
pub mod metadata;
pub mod pdf;
pub mod xdm;

use std::sync::OnceLock;

use crate::message::Attachment;
use xdm::{Xdm, XdmError};

/// The conventional name of the archive.
pub const XDM_NAME: &str = "IHE_XDM.ZIP";

/// A ZIP attachment that is (or claims to be) an XDM archive.
#[derive(Debug)]
pub struct XdmAttachment {
    /// Its file name, if it has one.
    pub name: Option<String>,
    /// The archive read, or why not.
    pub xdm: Result<Xdm, XdmError>,
}

/// A PDF attachment.
#[derive(Debug)]
pub struct PdfAttachment {
    /// Its file name, if it has one.
    pub name: Option<String>,
    /// Its bytes, decoded.
    pub content: Vec<u8>,
    info: OnceLock<Result<pdf::PdfInfo, String>>,
}

impl PdfAttachment {
    /// Its PDF/A markers and text, read on first use.
    pub fn info(&self) -> &Result<pdf::PdfInfo, String> {
        self.info.get_or_init(|| pdf::inspect(&self.content))
    }
}

/// The health documents of a message.
#[derive(Debug, Default)]
pub struct Health {
    /// ZIP attachments named `IHE_XDM.ZIP` or holding an `IHE_XDM/` folder.
    pub xdms: Vec<XdmAttachment>,
    /// PDF attachments (by MIME type or `.pdf` name).
    pub pdfs: Vec<PdfAttachment>,
}

fn is_zip(a: &Attachment) -> bool {
    a.name
        .as_deref()
        .is_some_and(|n| n.to_ascii_lowercase().ends_with(".zip"))
        || matches!(
            a.content_type.as_str(),
            "application/zip" | "application/x-zip-compressed" | "application/x-zip"
        )
}

fn is_pdf(a: &Attachment) -> bool {
    a.name
        .as_deref()
        .is_some_and(|n| n.to_ascii_lowercase().ends_with(".pdf"))
        || a.content_type == "application/pdf"
}

impl Health {
    /// Sorts the attachments of a message.
    pub fn of(attachments: &[Attachment]) -> Health {
        let mut health = Health::default();
        for a in attachments {
            if is_zip(a) {
                let named = a
                    .name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(XDM_NAME));
                let read = xdm::read_archive(&a.content);
                let holds_xdm = read.as_ref().is_ok_and(|archive| {
                    archive
                        .files
                        .iter()
                        .any(|(n, _)| n.to_ascii_uppercase().starts_with("IHE_XDM/"))
                });
                if named || holds_xdm {
                    health.xdms.push(XdmAttachment {
                        name: a.name.clone(),
                        xdm: read.map(Xdm::from_archive),
                    });
                }
            } else if is_pdf(a) {
                health.pdfs.push(PdfAttachment {
                    name: a.name.clone(),
                    content: a.content.clone(),
                    info: OnceLock::new(),
                });
            }
        }
        health
    }

    /// Whether the message transmits health documents (an XDM archive is attached).
    pub fn carries_documents(&self) -> bool {
        !self.xdms.is_empty()
    }

    /// The first XDM archive that could be read.
    pub fn xdm(&self) -> Option<&Xdm> {
        self.xdms.iter().find_map(|x| x.xdm.as_ref().ok())
    }

    /// Why the first XDM archive could not be read, if it could not.
    pub fn xdm_error(&self) -> Option<&XdmError> {
        self.xdms.first().and_then(|x| x.xdm.as_ref().err())
    }
}

/// A CDA document of the archive with its METADATA.XML entry.
#[derive(Debug, Clone, Copy)]
pub struct Document<'h> {
    /// Its path in the archive.
    pub path: &'h str,
    /// What it says.
    pub cda: &'h cda::Cda,
    /// Its METADATA.XML entry.
    pub entry: Option<&'h metadata::DocumentEntry>,
}

impl Health {
    /// The CDA documents of the archive, or why there are none to judge (French).
    pub fn documents(&self) -> Result<Vec<Document<'_>>, String> {
        if let Some(e) = self.xdm_error() {
            return Err(format!("l'archive IHE_XDM est illisible ({e})"));
        }
        let Some(xdm) = self.xdm() else {
            return Err("aucune archive IHE_XDM jointe".into());
        };
        let docs: Vec<Document<'_>> = xdm
            .documents
            .iter()
            .filter_map(|d| {
                d.cda.as_ref().ok().map(|cda| Document {
                    path: &d.path,
                    cda,
                    entry: d.entry.as_ref(),
                })
            })
            .collect();
        if docs.is_empty() {
            return Err("l'archive IHE_XDM ne contient aucun document CDA R2 lisible".into());
        }
        Ok(docs)
    }
}
