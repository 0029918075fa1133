//! The text forms a writer needs: INS-RNIV upper case (no diacritics) and truncation counted
//! in characters. The judge has its own (`rules::text`): writer and reader stay independent.

use unicode_normalization::UnicodeNormalization;

/// Upper case without diacritics, ligatures expanded: how INS-RNIV writes a name
/// ("Hélène" → "HELENE", "Lœtitia" → "LOETITIA").
pub fn rniv_upper(s: &str) -> String {
    strip_diacritics(s).to_uppercase()
}

/// Removes diacritics (é → e, Ç → C) and expands the French ligatures (œ → oe, Æ → AE).
pub fn strip_diacritics(s: &str) -> String {
    s.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .fold(String::with_capacity(s.len()), |mut out, c| {
            match c {
                'œ' => out.push_str("oe"),
                'Œ' => out.push_str("OE"),
                'æ' => out.push_str("ae"),
                'Æ' => out.push_str("AE"),
                'ß' => out.push_str("ss"),
                c => out.push(c),
            }
            out
        })
}

/// The first `n` characters (not bytes).
pub fn truncate_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_ins_rniv_writes_them() {
        assert_eq!(rniv_upper("Hélène Muller-Dupré"), "HELENE MULLER-DUPRE");
        assert_eq!(rniv_upper("Lœtitia Ægir"), "LOETITIA AEGIR");
        assert_eq!(strip_diacritics("Çà"), "Ca");
        assert_eq!(truncate_chars("éèà", 2), "éè");
    }
}
