//! `exigences.csv`: one line per requirement, in the layout of the ANS referencing workbooks
//! (Ségur ID, ECO ID, nature EXIGENCE or PRECONISATION, statement, verdict, evidence
//! reference). Semicolon-separated, UTF-8 with a byte-order mark, as spreadsheet software in
//! French expects; fields quoted when needed (RFC 4180).

use std::fmt::Write;

use catalog::Level;

use crate::results::RunResults;

fn field(text: &str) -> String {
    let flat = text.replace(['\r', '\n'], " ");
    if flat.contains([';', '"']) || flat.starts_with(' ') {
        format!("\"{}\"", flat.replace('"', "\"\""))
    } else {
        flat
    }
}

/// The CSV text.
pub fn render(results: &RunResults) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str("ID Ségur;ID ECO;Nature;Énoncé;Verdict;Explication;Référence de la preuve\r\n");
    for r in &results.requirements {
        let nature = match r.level {
            Level::Doit => "EXIGENCE",
            Level::Peut => "PRECONISATION",
        };
        let evidence = if r.scenarios.is_empty() {
            String::new()
        } else {
            format!("index.html#{}", r.id)
        };
        let _ = write!(
            out,
            ";{};{nature};{};{};{};{}\r\n",
            field(&r.id),
            field(&r.text),
            field(r.verdict.label()),
            field(&r.explanation),
            field(&evidence)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn fields_are_quoted_when_needed() {
        assert_eq!(super::field("a;b"), "\"a;b\"");
        assert_eq!(super::field("dit \"oui\""), "\"dit \"\"oui\"\"\"");
        assert_eq!(super::field("ligne\nsuite"), "ligne suite");
        assert_eq!(super::field("simple"), "simple");
    }
}
