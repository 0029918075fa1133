//! Text comparisons the référentiel asks for: upper case without diacritics (INS-RNIV), case
//! folding, truncation counted in characters, words.

use unicode_normalization::UnicodeNormalization;

/// Removes diacritics (é → e, Ç → C) and expands the French ligatures (œ → oe, Æ → AE).
pub fn strip_diacritics(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfd() {
        match c {
            'œ' => out.push_str("oe"),
            'Œ' => out.push_str("OE"),
            'æ' => out.push_str("ae"),
            'Æ' => out.push_str("AE"),
            'ß' => out.push_str("ss"),
            c if unicode_normalization::char::is_combining_mark(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Upper case without diacritics: how INS-RNIV writes a name ("Hélène" → "HELENE").
pub fn rniv_upper(s: &str) -> String {
    strip_diacritics(s).to_uppercase()
}

/// Case-folded and diacritic-free, white space collapsed: for comparisons the référentiel's
/// examples show to be case- and accent-insensitive.
pub fn fold(s: &str) -> String {
    collapse(&strip_diacritics(s).to_lowercase())
}

/// Collapses runs of white space into one space and trims.
pub fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first `n` characters (not bytes), as the référentiel truncates labels to 40 characters.
pub fn truncate_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Whether a string has at least one letter and no lower-case letter.
pub fn is_upper(s: &str) -> bool {
    s.chars().any(char::is_alphabetic) && !s.chars().any(char::is_lowercase)
}

/// Whether a string has diacritics or ligatures that INS-RNIV removes.
pub fn has_diacritics(s: &str) -> bool {
    strip_diacritics(s) != s
}

/// Words: maximal runs of letters and digits, lower-cased, diacritics kept.
pub fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Quotes a value for an explanation: « value ».
pub fn quote(s: &str) -> String {
    format!("« {s} »")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_names() {
        assert_eq!(rniv_upper("Hélène"), "HELENE");
        assert_eq!(rniv_upper("Lætitia Cœur"), "LAETITIA COEUR");
        assert_eq!(
            fold("  Lettre de liaison à la sortie  d'un établ "),
            "lettre de liaison a la sortie d'un etabl"
        );
        assert!(is_upper("VIAL-DURAND") && !is_upper("Vial") && !is_upper("--"));
        assert!(has_diacritics("Zoé") && !has_diacritics("ZOE"));
    }

    #[test]
    fn truncation_counts_characters() {
        let label = "Lettre de liaison à la sortie d'un établissement de soins";
        assert_eq!(
            truncate_chars(label, 40),
            "Lettre de liaison à la sortie d'un établ"
        );
        assert_eq!(truncate_chars(label, 40).chars().count(), 40);
        assert_eq!(truncate_chars("court", 40), "court");
    }

    #[test]
    fn words_ignore_punctuation() {
        assert_eq!(
            words("Résultat : 5,2 g/L."),
            vec!["résultat", "5", "2", "g", "l"]
        );
    }
}
