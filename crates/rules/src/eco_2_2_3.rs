//! ECO.2.2.3 — « Le système MSSante DOIT utiliser l'encodage UTF-8 pour les parties text du
//! corps des courriels. »
//!
//! Reading: every `text/*` part of the body (not files attached as `text/*`) declares
//! `charset=utf-8` (any case; `utf8` is not the IANA name) and its bytes, once the transfer
//! encoding is undone, are valid UTF-8. A part without `charset` is US-ASCII by RFC 2045, so it
//! fails even when its bytes happen to be ASCII.

use mail_parser::MimeHeaders;
use mail_parser::decoders::{base64::base64_decode, quoted_printable::quoted_printable_decode};

use crate::{Context, Finding, Message, content_type};

/// Requirement ID.
pub const ID: &str = "ECO.2.2.3";

/// The transfer-decoded bytes of a part.
fn decoded(message: &Message<'_>, part: &mail_parser::MessagePart<'_>) -> Result<Vec<u8>, String> {
    let raw = message.raw();
    let start = (part.offset_body as usize).min(raw.len());
    let end = (part.offset_end as usize).clamp(start, raw.len());
    let body = &raw[start..end];
    match part
        .content_transfer_encoding()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("base64") => base64_decode(body).ok_or_else(|| "base64 invalide".to_owned()),
        Some("quoted-printable") => {
            quoted_printable_decode(body).ok_or_else(|| "quoted-printable invalide".to_owned())
        }
        _ => Ok(body.to_vec()),
    }
}

/// Checks a message.
pub fn check(message: &Message<'_>, _context: &Context) -> Finding {
    let parsed = message.parsed();
    let mut body_parts: Vec<u32> = parsed
        .text_body
        .iter()
        .chain(parsed.html_body.iter())
        .copied()
        .collect();
    body_parts.sort_unstable();
    body_parts.dedup();
    let mut problems = Vec::new();
    let mut judged = 0;
    for index in body_parts {
        let Some(part) = parsed.parts.get(index as usize) else {
            continue;
        };
        let ct = content_type(part);
        if !ct.starts_with("text/") {
            continue;
        }
        judged += 1;
        let charset = part.content_type().and_then(|c| c.attribute("charset"));
        match charset {
            None => problems.push(format!(
                "la partie {ct} ne déclare pas de charset (US-ASCII par défaut) : charset=utf-8 attendu"
            )),
            Some(c) if !c.eq_ignore_ascii_case("utf-8") => {
                problems.push(format!("la partie {ct} déclare charset={c} au lieu de utf-8"))
            }
            Some(_) => {}
        }
        match decoded(message, part) {
            Err(e) => problems.push(format!("la partie {ct} ne se décode pas ({e})")),
            Ok(bytes) => {
                if let Err(e) = std::str::from_utf8(&bytes) {
                    problems.push(format!(
                        "la partie {ct} n'est pas de l'UTF-8 valide (octet invalide à la position {})",
                        e.valid_up_to()
                    ));
                }
            }
        }
    }
    if judged == 0 {
        return Finding::not_applicable(ID, "le corps n'a aucune partie text/*");
    }
    Finding::from_problems(
        ID,
        problems,
        format!("{judged} partie(s) texte en UTF-8 déclaré et valide"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    fn f(raw: &[u8]) -> Finding {
        check(&Message::parse(raw).expect("parse"), &Context::default())
    }

    #[test]
    fn charsets() {
        assert_eq!(
            f(b"Content-Type: text/plain; charset=UTF-8\r\n\r\nR\xc3\xa9sultat").verdict,
            Verdict::Pass
        );
        assert_eq!(
            f(b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nR=C3=A9sultat").verdict,
            Verdict::Pass
        );
        let latin1 = f(b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\nR\xe9sultat");
        assert!(latin1.detail.contains("iso-8859-1"), "{}", latin1.detail);
        let lying = f(b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nUulzdWx0YXQ=\r\n");
        assert!(
            lying.detail.contains("pas de l'UTF-8 valide"),
            "{}",
            lying.detail
        );
        let none = f(b"Subject: x\r\n\r\nascii");
        assert!(
            none.detail.contains("ne déclare pas de charset"),
            "{}",
            none.detail
        );
        let alt = f(b"Content-Type: multipart/alternative; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nx\r\n--B\r\nContent-Type: text/html; charset=windows-1252\r\n\r\n<p>x</p>\r\n--B--\r\n");
        assert_eq!(alt.verdict, Verdict::Fail);
        assert!(
            alt.detail.contains("text/html") && alt.detail.contains("windows-1252"),
            "{}",
            alt.detail
        );
    }
}
