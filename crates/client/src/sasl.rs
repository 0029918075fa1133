//! The SASL strings the client sends.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// `user=<BAL>^Aauth=Bearer <token>^A^A` (ECO.1.2.1); with the defect, a single final `^A`.
pub fn xoauth2(user: &str, token: &str, bad_separators: bool) -> Vec<u8> {
    let end = if bad_separators { "\x01" } else { "\x01\x01" };
    format!("user={user}\x01auth=Bearer {token}{end}").into_bytes()
}

/// PLAIN naming the BAL (ECO.1.3.1); the certificate authenticates, the password is empty.
pub fn plain(user: &str) -> Vec<u8> {
    format!("\0{user}\0").into_bytes()
}

/// Base64 for a SASL line.
pub fn base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// The BAL named in the SASL exchange (`xoauth2`: XOAUTH2's `user=`, else PLAIN's login): the
/// account's, or with a defect, another one of the same professional (the organisational BAL
/// `cardiologie@` of the domain) for XOAUTH2, or a bare local part for PLAIN.
pub fn sasl_user(address: &str, defects: &crate::Defects, xoauth2: bool) -> String {
    use crate::Defect;
    let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
    if xoauth2 && defects.contains(&Defect::Xoauth2WrongUser) {
        let other = if local == "cardiologie" {
            "marie.martin"
        } else {
            "cardiologie"
        };
        format!("{other}@{domain}")
    } else if !xoauth2 && defects.contains(&Defect::PlainWrongLogin) {
        local.to_owned()
    } else {
        address.to_owned()
    }
}
