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
