//! What ECO.2.1.5 asks of a PDF: the PDF/A-1 markers (XMP `pdfaid:part` = 1, every font
//! embedded, no encryption) and its text, read with `lopdf` within decompression bounds.
//!
//! This is not a full PDF/A validator (veraPDF is one): it checks the markers the référentiel's
//! verification names, which are those an LPS gets wrong in practice.

use lopdf::{Document, LoadOptions, Object};

/// Largest decompressed stream (and page text) read.
pub const MAX_DECOMPRESSED: usize = 32 * 1024 * 1024;

/// What a PDF shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfInfo {
    /// `pdfaid:part` of the XMP metadata, if any.
    pub pdfa_part: Option<String>,
    /// `pdfaid:conformance` (A or B).
    pub pdfa_conformance: Option<String>,
    /// Whether the trailer has `/Encrypt`.
    pub encrypted: bool,
    /// Fonts without an embedded program (their `BaseFont`).
    pub fonts_not_embedded: Vec<String>,
    /// The text of every page, or why it could not be extracted.
    pub text: Result<String, String>,
}

impl PdfInfo {
    /// What keeps it from being PDF/A-1 (French, one item each); empty when nothing does.
    pub fn pdfa1_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        match self.pdfa_part.as_deref() {
            None => problems.push(
                "pas de métadonnées XMP pdfaid:part (ce n'est pas un PDF/A déclaré)".to_owned(),
            ),
            Some("1") => {}
            Some(other) => problems.push(format!(
                "PDF/A-{other} et non PDF/A-1 (pdfaid:part={other})"
            )),
        }
        if self.encrypted {
            problems.push("PDF chiffré".into());
        }
        if !self.fonts_not_embedded.is_empty() {
            problems.push(format!(
                "police(s) non incorporée(s) : {}",
                self.fonts_not_embedded.join(", ")
            ));
        }
        problems
    }
}

/// The value of an XMP property written as an attribute (`pdfaid:part="1"`) or an element
/// (`<pdfaid:part>1</pdfaid:part>`).
fn xmp_property(xmp: &str, name: &str) -> Option<String> {
    let at = xmp.find(name)?;
    let rest = &xmp[at + name.len()..];
    let rest = rest.trim_start();
    let value = if let Some(r) = rest.strip_prefix('=') {
        let r = r.trim_start();
        let quote = r.chars().next()?;
        if quote != '"' && quote != '\'' {
            return None;
        }
        r[1..].split(quote).next()?
    } else if let Some(r) = rest.strip_prefix('>') {
        r.split('<').next()?
    } else {
        return None;
    };
    Some(value.trim().to_owned())
}

fn name_of(dict: &lopdf::Dictionary, key: &[u8]) -> String {
    dict.get(key)
        .and_then(Object::as_name)
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .unwrap_or_else(|_| "?".into())
}

fn deref_dict<'a>(doc: &'a Document, object: &'a Object) -> Option<&'a lopdf::Dictionary> {
    let (_, object) = doc.dereference(object).ok()?;
    match object {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    }
}

fn embedded(doc: &Document, font: &lopdf::Dictionary) -> bool {
    let subtype = font
        .get(b"Subtype")
        .and_then(Object::as_name)
        .unwrap_or_default();
    if subtype == b"Type3" {
        // Glyphs are PDF procedures: always in the file.
        return true;
    }
    let descriptor_owner = if subtype == b"Type0" {
        let first = font
            .get(b"DescendantFonts")
            .ok()
            .and_then(|o| doc.dereference(o).ok())
            .and_then(|(_, o)| o.as_array().ok())
            .and_then(|a| a.first());
        match first.and_then(|f| deref_dict(doc, f)) {
            Some(d) => d,
            None => return false,
        }
    } else {
        font
    };
    let Some(descriptor) = descriptor_owner
        .get(b"FontDescriptor")
        .ok()
        .and_then(|d| deref_dict(doc, d))
    else {
        return false;
    };
    [&b"FontFile"[..], b"FontFile2", b"FontFile3"]
        .iter()
        .any(|k| descriptor.has(k))
}

/// Reads a PDF. `Err` when it is not a PDF lopdf can read at all.
pub fn inspect(bytes: &[u8]) -> Result<PdfInfo, String> {
    if !bytes.starts_with(b"%PDF-") {
        return Err("le fichier ne commence pas par %PDF-".into());
    }
    let options = LoadOptions {
        max_decompressed_size: Some(MAX_DECOMPRESSED),
        ..LoadOptions::default()
    };
    let doc = match Document::load_mem_with_options(bytes, options) {
        Ok(d) => d,
        // An encrypted file lopdf cannot open is still judged: it is encrypted.
        Err(_) if bytes.windows(8).any(|w| w == b"/Encrypt") => {
            return Ok(PdfInfo {
                pdfa_part: None,
                pdfa_conformance: None,
                encrypted: true,
                fonts_not_embedded: Vec::new(),
                text: Err("PDF chiffré".into()),
            });
        }
        Err(e) => return Err(format!("PDF illisible : {e}")),
    };
    let encrypted = doc.is_encrypted() || doc.trailer.has(b"Encrypt");
    let xmp = doc
        .catalog()
        .ok()
        .and_then(|c| c.get(b"Metadata").ok())
        .and_then(|m| doc.dereference(m).ok())
        .and_then(|(_, o)| o.as_stream().ok())
        .and_then(|s| s.get_plain_content_with_limit(MAX_DECOMPRESSED).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let mut fonts_not_embedded = Vec::new();
    for object in doc.objects.values() {
        let dict = match object {
            Object::Dictionary(d) => d,
            Object::Stream(s) => &s.dict,
            _ => continue,
        };
        if dict.get(b"Type").and_then(Object::as_name).ok() != Some(b"Font") {
            continue;
        }
        // Descendant CID fonts are judged through their Type0 parent.
        let subtype = dict
            .get(b"Subtype")
            .and_then(Object::as_name)
            .unwrap_or_default();
        if subtype == b"CIDFontType0" || subtype == b"CIDFontType2" {
            continue;
        }
        if !embedded(&doc, dict) {
            let name = name_of(dict, b"BaseFont");
            if !fonts_not_embedded.contains(&name) {
                fonts_not_embedded.push(name);
            }
        }
    }
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc
        .extract_text_with_limit(&pages, MAX_DECOMPRESSED)
        .map_err(|e| format!("texte illisible : {e}"));
    Ok(PdfInfo {
        pdfa_part: xmp_property(&xmp, "pdfaid:part"),
        pdfa_conformance: xmp_property(&xmp, "pdfaid:conformance"),
        encrypted,
        fonts_not_embedded,
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xmp_forms() {
        assert_eq!(
            xmp_property(
                r#"<rdf:Description pdfaid:part="1" pdfaid:conformance='B'/>"#,
                "pdfaid:part"
            )
            .as_deref(),
            Some("1")
        );
        assert_eq!(
            xmp_property("<pdfaid:part>2</pdfaid:part>", "pdfaid:part").as_deref(),
            Some("2")
        );
        assert_eq!(
            xmp_property(r#"pdfaid:conformance = "A""#, "pdfaid:conformance").as_deref(),
            Some("A")
        );
        assert_eq!(xmp_property("nothing", "pdfaid:part"), None);
    }

    #[test]
    fn not_pdf() {
        assert!(inspect(b"hello").is_err());
        assert!(inspect(b"%PDF-1.4\ngarbage").is_err());
    }
}
