//! SASL messages the API LPS accepts, decoded strictly.
//!
//! XOAUTH2 (référentiel ECO.1.2.1): base64 of exactly
//! `user=<BAL>` `\x01` `auth=Bearer <JWT>` `\x01` `\x01`.
//! PLAIN (RFC 4616, ECO.1.3.1): `[authzid] \0 authcid \0 passwd`, the BAL being the authcid.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// A decoded XOAUTH2 initial response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xoauth2 {
    /// The `user=` field: the BAL address.
    pub user: String,
    /// The bearer token.
    pub token: String,
}

/// Why a SASL message was refused. The texts are French: they go into the reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaslError {
    /// Not base64.
    #[error("la réponse SASL n'est pas du base64 valide")]
    Base64,
    /// Not UTF-8 once decoded.
    #[error("la réponse SASL décodée n'est pas de l'UTF-8")]
    Utf8,
    /// The client cancelled (`*`).
    #[error("le client a annulé l'authentification")]
    Cancelled,
    /// XOAUTH2 not of the prescribed form.
    #[error("chaîne XOAUTH2 mal formée : {0}")]
    Xoauth2Form(&'static str),
    /// PLAIN not of the RFC 4616 form.
    #[error("message PLAIN mal formé : {0}")]
    PlainForm(&'static str),
}

/// Decodes a base64 SASL line (`*` means cancel, `=` an empty response).
pub fn decode_base64(line: &str) -> Result<Vec<u8>, SaslError> {
    let line = line.trim();
    if line == "*" {
        return Err(SaslError::Cancelled);
    }
    if line == "=" || line.is_empty() {
        return Ok(Vec::new());
    }
    STANDARD.decode(line).map_err(|_| SaslError::Base64)
}

/// Encodes bytes for a SASL line.
pub fn encode_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Parses an XOAUTH2 response, refusing anything but the exact form of the référentiel.
pub fn parse_xoauth2(raw: &[u8]) -> Result<Xoauth2, SaslError> {
    let text = std::str::from_utf8(raw).map_err(|_| SaslError::Utf8)?;
    let rest = text
        .strip_prefix("user=")
        .ok_or(SaslError::Xoauth2Form("elle doit commencer par « user= »"))?;
    let body = rest.strip_suffix("\x01\x01").ok_or(SaslError::Xoauth2Form(
        "elle doit se terminer par deux caractères ^A (\\x01\\x01)",
    ))?;
    let (user, auth) = body.split_once('\x01').ok_or(SaslError::Xoauth2Form(
        "le champ user doit être suivi de ^A puis « auth=Bearer »",
    ))?;
    let token = auth
        .strip_prefix("auth=Bearer ")
        .ok_or(SaslError::Xoauth2Form(
            "le second champ doit être « auth=Bearer » suivi d'une espace et du jeton",
        ))?;
    if user.is_empty() {
        return Err(SaslError::Xoauth2Form("le champ user est vide"));
    }
    if token.is_empty() {
        return Err(SaslError::Xoauth2Form("le jeton est vide"));
    }
    if token.contains('\x01') || token.contains(' ') {
        return Err(SaslError::Xoauth2Form(
            "le jeton contient des caractères en trop (^A ou espace)",
        ));
    }
    Ok(Xoauth2 {
        user: user.to_owned(),
        token: token.to_owned(),
    })
}

/// Builds an XOAUTH2 response (for tests and tools).
pub fn build_xoauth2(user: &str, token: &str) -> Vec<u8> {
    format!("user={user}\x01auth=Bearer {token}\x01\x01").into_bytes()
}

/// The JSON error a real operator sends in a continuation when a token is refused.
pub const XOAUTH2_ERROR_JSON: &str = r#"{"status":"401","schemes":"bearer","scope":"mail"}"#;

/// A decoded PLAIN response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plain {
    /// Authorisation identity (often empty).
    pub authzid: String,
    /// Authentication identity: the BAL address.
    pub authcid: String,
}

/// Whether a line the server did not expect looks like a SASL response (one long base64
/// token): sent after a refused AUTH, it may carry credentials, so the journal masks it.
pub fn looks_like_sasl(line: &str) -> bool {
    let line = line.trim();
    line.len() >= 8
        && !line.contains(' ')
        && line
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
        && line
            .bytes()
            .any(|b| b.is_ascii_digit() || b == b'=' || b.is_ascii_lowercase())
}

/// Parses a PLAIN response. The password is not kept: on the application entry point the
/// client certificate authenticates, PLAIN only names the BAL.
pub fn parse_plain(raw: &[u8]) -> Result<Plain, SaslError> {
    let mut parts = raw.split(|&b| b == 0);
    let (Some(authzid), Some(authcid), Some(_passwd), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::PlainForm(
            "trois champs séparés par NUL attendus : [authzid] NUL login NUL mot de passe",
        ));
    };
    let authzid = std::str::from_utf8(authzid).map_err(|_| SaslError::Utf8)?;
    let authcid = std::str::from_utf8(authcid).map_err(|_| SaslError::Utf8)?;
    if authcid.is_empty() {
        return Err(SaslError::PlainForm(
            "le login (adresse de la BAL) est vide",
        ));
    }
    // RFC 4616 lets a client name an authorisation identity; the référentiel only asks for
    // the BAL in the login (authcid): whatever it is, it is kept for the journal.
    Ok(Plain {
        authzid: authzid.to_owned(),
        authcid: authcid.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stray_sasl_lines_are_recognised() {
        assert!(looks_like_sasl("dXNlcj1tYXJpZQFhdXRoPUJlYXJlciB0AQE="));
        assert!(looks_like_sasl("AG1hcmllAHNlY3JldA=="));
        assert!(!looks_like_sasl("QUIT"));
        assert!(!looks_like_sasl("STARTTLS"));
        assert!(!looks_like_sasl("MAIL FROM:<a@b>"));
        assert!(!looks_like_sasl("a1"));
    }

    #[test]
    fn xoauth2_exact_form_is_accepted() {
        let raw = build_xoauth2("a@b.mssante.fr", "eyJ.x.y");
        assert_eq!(
            parse_xoauth2(&raw),
            Ok(Xoauth2 {
                user: "a@b.mssante.fr".into(),
                token: "eyJ.x.y".into()
            })
        );
    }

    #[test]
    fn xoauth2_variants_are_refused() {
        for bad in [
            "user=a@b\x01auth=Bearer t\x01",     // one ^A at the end
            "user=a@b\x01auth=Bearer t",         // none
            "user=a@b,auth=Bearer t\x01\x01",    // wrong separator
            "User=a@b\x01auth=Bearer t\x01\x01", // case of the fixed string
            "user=a@b\x01auth=bearer t\x01\x01",
            "user=a@b\x01auth=Bearert\x01\x01", // missing space
            "user=\x01auth=Bearer t\x01\x01",
            "user=a@b\x01auth=Bearer \x01\x01",
            "user=a@b\x01auth=Bearer t\x01\x01\x01",
            "n,a=a@b,\x01auth=Bearer t\x01\x01", // OAUTHBEARER's GS2 header
        ] {
            assert!(
                matches!(
                    parse_xoauth2(bad.as_bytes()),
                    Err(SaslError::Xoauth2Form(_))
                ),
                "{bad:?}"
            );
        }
        assert_eq!(parse_xoauth2(&[0xff, 0xfe]), Err(SaslError::Utf8));
    }

    #[test]
    fn base64_lines() {
        assert_eq!(decode_base64("*"), Err(SaslError::Cancelled));
        assert_eq!(decode_base64("="), Ok(vec![]));
        assert_eq!(decode_base64("!!!"), Err(SaslError::Base64));
        assert_eq!(decode_base64(&encode_base64(b"abc")), Ok(b"abc".to_vec()));
    }

    #[test]
    fn plain_names_the_bal() {
        assert_eq!(
            parse_plain(b"\0app@x.fr\0secret").map(|p| p.authcid),
            Ok("app@x.fr".into())
        );
        assert!(parse_plain(b"app@x.fr\0app@x.fr\0").is_ok());
        // RFC 4616 allows an authorisation identity: kept, the login names the BAL.
        let with_authzid = parse_plain(b"1750000001\0app@x.fr\0").expect("authzid allowed");
        assert_eq!(with_authzid.authcid, "app@x.fr");
        assert_eq!(with_authzid.authzid, "1750000001");
        assert!(parse_plain(b"\0\0pw").is_err());
        assert!(parse_plain(b"app@x.fr").is_err());
        assert!(parse_plain(b"a\0b\0c\0d").is_err());
    }
}
