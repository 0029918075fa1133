//! The INS (Identifiant National de Santé): its matricule is a NIR or a NIA (13 characters) and
//! a two-digit control key, `97 - (n mod 97)`, where Corsican departments 2A and 2B count as 19
//! and 18. Its OIDs: 1.2.250.1.213.1.4.8 (NIR) and .9 (NIA), .10 and .11 for test identities.

/// The OIDs of the INS (production NIR and NIA, then the test NIR and NIA).
pub const INS_OIDS: [&str; 4] = [
    "1.2.250.1.213.1.4.8",
    "1.2.250.1.213.1.4.9",
    "1.2.250.1.213.1.4.10",
    "1.2.250.1.213.1.4.11",
];

/// Whether an OID is one of the INS's.
pub fn is_ins_oid(oid: &str) -> bool {
    INS_OIDS.contains(&oid.trim())
}

/// Why a 15-character matricule is not valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsError {
    /// Not 15 characters.
    Length(usize),
    /// A character other than a digit (or 2A/2B at the department).
    Characters,
    /// Sex digit other than 1, 2 (NIR), 3, 4 (provisional), 7, 8 (NIA).
    Sex(char),
    /// The key does not match.
    Key {
        /// The key written.
        written: u32,
        /// The key computed from the 13 characters.
        expected: u32,
    },
}

impl std::fmt::Display for InsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InsError::Length(n) => write!(f, "{n} caractères au lieu de 15"),
            InsError::Characters => {
                f.write_str("caractères invalides (chiffres attendus, 2A/2B pour la Corse)")
            }
            InsError::Sex(c) => write!(f, "premier caractère « {c} » invalide"),
            InsError::Key { written, expected } => write!(
                f,
                "clé de contrôle {written:02} incorrecte (attendue : {expected:02})"
            ),
        }
    }
}

/// The control key of a 13-character NIR or NIA: `97 - (n mod 97)`, with 2A → 19 and 2B → 18.
pub fn control_key(nir13: &str) -> Option<u32> {
    if nir13.len() != 13 || !nir13.is_ascii() {
        return None;
    }
    let upper = nir13.to_ascii_uppercase();
    let digits = match &upper[5..7] {
        "2A" => format!("{}19{}", &upper[..5], &upper[7..]),
        "2B" => format!("{}18{}", &upper[..5], &upper[7..]),
        _ => upper,
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(97 - u32::try_from(n % 97).ok()?)
}

/// Checks a 15-character INS matricule (NIR or NIA and key).
pub fn check_matricule(matricule: &str) -> Result<(), InsError> {
    let m = matricule.trim();
    let len = m.chars().count();
    if len != 15 {
        return Err(InsError::Length(len));
    }
    if !m.is_ascii() {
        return Err(InsError::Characters);
    }
    let sex = m.chars().next().unwrap_or('0');
    if !matches!(sex, '1' | '2' | '3' | '4' | '7' | '8') {
        return Err(InsError::Sex(sex));
    }
    let expected = control_key(&m[..13]).ok_or(InsError::Characters)?;
    let written: u32 = m[13..].parse().map_err(|_| InsError::Characters)?;
    if written != expected {
        return Err(InsError::Key { written, expected });
    }
    Ok(())
}

/// Splits an ebRIM/HL7 v2 CX patient identifier `matricule^^^&OID&ISO^NH` into (matricule, OID).
pub fn parse_cx(cx: &str) -> Option<(String, String)> {
    let mut fields = cx.trim().split('^');
    let id = fields.next()?.trim().to_owned();
    let authority = fields.nth(2)?;
    let oid = authority.split('&').nth(1)?.trim().to_owned();
    (!id.is_empty() && !oid.is_empty()).then_some((id, oid))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A matricule with its key, for tests.
    fn with_key(nir13: &str) -> String {
        format!("{nir13}{:02}", control_key(nir13).expect("13 digits"))
    }

    #[test]
    fn keys() {
        // 97 - (1780578058111 mod 97)
        let n: u64 = 1_780_578_058_111;
        assert_eq!(control_key("1780578058111"), Some(97 - (n % 97) as u32));
        assert!(check_matricule(&with_key("1780578058111")).is_ok());
        assert!(check_matricule(&with_key("2850799123456")).is_ok());
        // Corsica: 2A counts as 19, 2B as 18.
        let corse = with_key("180052A123456");
        let as_digits: u64 = 1_800_519_123_456;
        assert_eq!(&corse[13..], format!("{:02}", 97 - as_digits % 97));
        assert!(check_matricule(&corse).is_ok());
        assert!(check_matricule(&with_key("180052B123456")).is_ok());
        assert_ne!(control_key("180052A123456"), control_key("180052B123456"));
        // NIA.
        assert!(check_matricule(&with_key("7991299123456")).is_ok());
    }

    #[test]
    fn errors() {
        let good = with_key("1780578058111");
        let mut bad_key = good[..13].to_owned();
        let key: u32 = good[13..].parse().expect("key");
        bad_key.push_str(&format!("{:02}", (key % 97) + 1));
        assert!(matches!(
            check_matricule(&bad_key),
            Err(InsError::Key { .. })
        ));
        assert_eq!(check_matricule("12345"), Err(InsError::Length(5)));
        assert_eq!(
            check_matricule("17805780581X1 2"),
            Err(InsError::Characters)
        );
        assert!(matches!(
            check_matricule(&format!("5{}", &good[1..])),
            Err(InsError::Sex('5'))
        ));
        assert_eq!(
            check_matricule("1780578058111é1"),
            Err(InsError::Characters)
        );
    }

    #[test]
    fn cx() {
        assert_eq!(
            parse_cx("178057805811184^^^&1.2.250.1.213.1.4.8&ISO^NH"),
            Some(("178057805811184".into(), "1.2.250.1.213.1.4.8".into()))
        );
        assert_eq!(parse_cx("x"), None);
        assert!(is_ins_oid("1.2.250.1.213.1.4.10") && !is_ins_oid("1.2.250.1.213.1.4.2"));
    }
}
