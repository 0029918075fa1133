//! Writes simple PDF/A-1b documents (lines of text on A4 pages) with `lopdf`: the XMP
//! `pdfaid` identification, a document ID, no encryption, and one embedded font.
//!
//! The font is a Type 3 font — glyphs are PDF drawing procedures inside the file, so it is
//! embedded by construction without shipping a font program — whose glyphs are plain boxes.
//! Its encoding names every glyph with the Adobe standard names, so text extraction (ours,
//! `pdftotext`, a screen reader) reads the real characters. The pages are meant for machines
//! and for checking by eye that the right lines are there, not for typographic beauty. No ICC
//! output intent is included (gray only), which a strict PDF/A validator would note.

use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Document, Object, Stream, StringFormat, dictionary};

/// The characters the font has, with their WinAnsi code and glyph name.
const GLYPHS: &[(char, u8, &str)] = &[
    (' ', 32, "space"),
    ('!', 33, "exclam"),
    ('"', 34, "quotedbl"),
    ('#', 35, "numbersign"),
    ('$', 36, "dollar"),
    ('%', 37, "percent"),
    ('&', 38, "ampersand"),
    ('\'', 39, "quotesingle"),
    ('(', 40, "parenleft"),
    (')', 41, "parenright"),
    ('*', 42, "asterisk"),
    ('+', 43, "plus"),
    (',', 44, "comma"),
    ('-', 45, "hyphen"),
    ('.', 46, "period"),
    ('/', 47, "slash"),
    ('0', 48, "zero"),
    ('1', 49, "one"),
    ('2', 50, "two"),
    ('3', 51, "three"),
    ('4', 52, "four"),
    ('5', 53, "five"),
    ('6', 54, "six"),
    ('7', 55, "seven"),
    ('8', 56, "eight"),
    ('9', 57, "nine"),
    (':', 58, "colon"),
    (';', 59, "semicolon"),
    ('<', 60, "less"),
    ('=', 61, "equal"),
    ('>', 62, "greater"),
    ('?', 63, "question"),
    ('@', 64, "at"),
    ('[', 91, "bracketleft"),
    ('\\', 92, "backslash"),
    (']', 93, "bracketright"),
    ('^', 94, "asciicircum"),
    ('_', 95, "underscore"),
    ('`', 96, "grave"),
    ('{', 123, "braceleft"),
    ('|', 124, "bar"),
    ('}', 125, "braceright"),
    ('~', 126, "asciitilde"),
    ('€', 128, "Euro"),
    ('’', 146, "quoteright"),
    ('–', 150, "endash"),
    ('—', 151, "emdash"),
    ('Œ', 140, "OE"),
    ('œ', 156, "oe"),
    ('«', 171, "guillemotleft"),
    ('»', 187, "guillemotright"),
    ('°', 176, "degree"),
    ('À', 192, "Agrave"),
    ('Â', 194, "Acircumflex"),
    ('Ç', 199, "Ccedilla"),
    ('È', 200, "Egrave"),
    ('É', 201, "Eacute"),
    ('Ê', 202, "Ecircumflex"),
    ('Ë', 203, "Edieresis"),
    ('Î', 206, "Icircumflex"),
    ('Ï', 207, "Idieresis"),
    ('Ô', 212, "Ocircumflex"),
    ('Ù', 217, "Ugrave"),
    ('Û', 219, "Ucircumflex"),
    ('Ü', 220, "Udieresis"),
    ('à', 224, "agrave"),
    ('â', 226, "acircumflex"),
    ('ç', 231, "ccedilla"),
    ('è', 232, "egrave"),
    ('é', 233, "eacute"),
    ('ê', 234, "ecircumflex"),
    ('ë', 235, "edieresis"),
    ('î', 238, "icircumflex"),
    ('ï', 239, "idieresis"),
    ('ô', 244, "ocircumflex"),
    ('ù', 249, "ugrave"),
    ('û', 251, "ucircumflex"),
    ('ü', 252, "udieresis"),
    ('ÿ', 255, "ydieresis"),
];

/// The glyph name of an ASCII letter is the letter itself.
fn glyph(c: char) -> Option<(u8, String)> {
    if c.is_ascii_alphabetic() {
        return Some((c as u8, c.to_string()));
    }
    GLYPHS
        .iter()
        .find(|(g, _, _)| *g == c)
        .map(|(_, code, name)| (*code, (*name).to_owned()))
}

/// Every glyph of the font: (code, name).
fn all_glyphs() -> Vec<(u8, String)> {
    let mut all: Vec<(u8, String)> = ('A'..='Z')
        .chain('a'..='z')
        .map(|c| (c as u8, c.to_string()))
        .collect();
    all.extend(
        GLYPHS
            .iter()
            .map(|(_, code, name)| (*code, (*name).to_owned())),
    );
    all.sort();
    all
}

/// A line of text in the font's encoding (characters it lacks become `?`).
fn encode(line: &str) -> Vec<u8> {
    line.chars()
        .map(|c| glyph(c).map_or(b'?', |(code, _)| code))
        .collect()
}

/// Lines cut at `width` characters, on spaces when possible.
fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for word in line.split(' ') {
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
        while current.chars().count() > width {
            let head: String = current.chars().take(width).collect();
            current = current.chars().skip(width).collect();
            out.push(head);
        }
    }
    out.push(current);
    out
}

fn xml_escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

const LINE_WIDTH: usize = 90;
const LINES_PER_PAGE: usize = 60;

/// A PDF/A-1b document with this title (XMP `dc:title`) and these lines.
pub fn write(title: &str, lines: &[String]) -> Vec<u8> {
    let mut doc = Document::with_version("1.4");
    let pages_id = doc.new_object_id();

    let box_glyph = doc.add_object(Stream::new(
        Dictionary::new(),
        b"500 0 40 0 460 700 d1 60 0 380 680 re S".to_vec(),
    ));
    let space_glyph = doc.add_object(Stream::new(Dictionary::new(), b"500 0 0 0 0 0 d1".to_vec()));
    let glyphs = all_glyphs();
    let mut char_procs = Dictionary::new();
    let mut differences = Vec::new();
    for (code, name) in &glyphs {
        let proc_id = if name == "space" {
            space_glyph
        } else {
            box_glyph
        };
        char_procs.set(name.as_bytes().to_vec(), Object::Reference(proc_id));
        differences.push(Object::Integer(i64::from(*code)));
        differences.push(Object::Name(name.as_bytes().to_vec()));
    }
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type3",
        "FontBBox" => vec![0.into(), 0.into(), 500.into(), 700.into()],
        "FontMatrix" => vec![0.001.into(), 0.into(), 0.into(), 0.001.into(), 0.into(), 0.into()],
        "CharProcs" => char_procs,
        "Encoding" => dictionary! {
            "Type" => "Encoding",
            "Differences" => differences,
        },
        "FirstChar" => 0,
        "LastChar" => 255,
        "Widths" => vec![Object::Integer(500); 256],
        "Resources" => Dictionary::new(),
    });
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
    });

    let mut wrapped: Vec<String> = Vec::new();
    for line in lines {
        wrapped.extend(wrap(line, LINE_WIDTH));
    }
    if wrapped.is_empty() {
        wrapped.push(String::new());
    }
    let mut kids = Vec::new();
    for chunk in wrapped.chunks(LINES_PER_PAGE) {
        let mut operations = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 10.into()]),
            Operation::new("TL", vec![13.into()]),
            Operation::new("Td", vec![40.into(), 800.into()]),
        ];
        for line in chunk {
            operations.push(Operation::new(
                "Tj",
                vec![Object::String(encode(line), StringFormat::Literal)],
            ));
            operations.push(Operation::new("T*", vec![]));
        }
        operations.push(Operation::new("ET", vec![]));
        let content = Content { operations }.encode().unwrap_or_default();
        let content_id = doc.add_object(Stream::new(Dictionary::new(), content));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        });
        kids.push(Object::Reference(page_id));
    }
    let count = i64::try_from(kids.len()).unwrap_or(1);
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count,
        }),
    );
    let xmp = format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
         <x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n\
         <rdf:Description rdf:about=\"\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\"><pdfaid:part>1</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description>\n\
         <rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li></rdf:Alt></dc:title></rdf:Description>\n\
         </rdf:RDF></x:xmpmeta>\n<?xpacket end=\"w\"?>",
        xml_escape(title)
    );
    let metadata_id = doc.add_object(Stream::new(
        dictionary! { "Type" => "Metadata", "Subtype" => "XML" },
        xmp.into_bytes(),
    ));
    let info_id = doc.add_object(dictionary! {
        "Title" => Object::string_literal(encode(title)),
        "Producer" => Object::string_literal("harnais de conformite MSSante"),
    });
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
        "Metadata" => metadata_id,
    });
    doc.trailer.set("Root", catalog_id);
    doc.trailer.set("Info", info_id);
    // A stable document ID: the same lines give the same file.
    let id: Vec<u8> = {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in title.bytes().chain(lines.iter().flat_map(|l| l.bytes())) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        h.to_be_bytes().repeat(2)
    };
    doc.trailer.set(
        "ID",
        vec![
            Object::String(id.clone(), StringFormat::Hexadecimal),
            Object::String(id, StringFormat::Hexadecimal),
        ],
    );
    let mut out = Vec::new();
    if doc.save_to(&mut out).is_err() {
        out.clear();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rules::health::pdf;

    #[test]
    fn written_pdfs_pass_our_reading() {
        let lines = vec![
            "Compte rendu de consultation".to_owned(),
            "Résultats : hémoglobine 13,5 g/dL — « normal » à 10h15".to_owned(),
            "x".repeat(200),
        ];
        let bytes = write("CR de consultation", &lines);
        let info = pdf::inspect(&bytes).expect("readable");
        assert!(
            info.pdfa1_problems().is_empty(),
            "{:?}",
            info.pdfa1_problems()
        );
        let text = info.text.expect("text");
        assert!(text.contains("hémoglobine 13,5 g/dL"), "{text}");
        assert!(text.contains("« normal » à 10h15"), "{text}");
        assert_eq!(bytes, write("CR de consultation", &lines), "deterministic");
        let many: Vec<String> = (0..150).map(|i| format!("ligne {i}")).collect();
        let info = pdf::inspect(&write("t", &many)).expect("readable");
        assert!(info.text.expect("text").contains("ligne 149"));
    }
}
