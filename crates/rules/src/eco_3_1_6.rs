//! ECO.3.1.6 — « Le système DOIT envoyer un accusé de lecture lorsqu'un courriel reçu en
//! demande un (entête Disposition-Notification-To) et qu'il est affiché. »
//!
//! Reading (RFC 8098): after the client displayed a message carrying
//! `Disposition-Notification-To`, a message reaches that address which is a
//! `multipart/report; report-type=disposition-notification` whose
//! `message/disposition-notification` part names the original in `Original-Message-ID` and has
//! a `Disposition` of type `displayed` (any action and sending modes). Several receipts for one
//! message are accepted (RFC 8098 only says a client SHOULD NOT send more than one).

use mail_parser::MimeHeaders;

use crate::{Finding, Message, content_type};

/// Requirement ID.
pub const ID: &str = "ECO.3.1.6";

/// Whether a message is a read receipt (MDN) at all.
pub fn is_mdn(message: &Message<'_>) -> bool {
    message
        .parsed()
        .root_part()
        .content_type()
        .is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("multipart")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        })
}

/// Judges the receipts the client sent (`receipts`, to `to`) for the message `original`
/// (its Message-ID without angle brackets).
pub fn check(receipts: &[Message<'_>], original: &str, to: &str) -> Finding {
    if receipts.is_empty() {
        return Finding::fail(
            ID,
            format!(
                "aucun accusé de lecture envoyé à {to} après l'affichage du message <{original}>"
            ),
        );
    }
    let mut problems = Vec::new();
    for (i, receipt) in receipts.iter().enumerate() {
        let n = i + 1;
        match judge_one(receipt, original, to) {
            Ok(()) => {
                return Finding::pass(
                    ID,
                    format!(
                        "accusé de lecture RFC 8098 « displayed » envoyé à {to} pour <{original}>"
                    ),
                );
            }
            Err(why) => problems.push(format!("message n°{n} : {why}")),
        }
    }
    Finding::fail(ID, problems.join(" ; "))
}

fn judge_one(receipt: &Message<'_>, original: &str, to: &str) -> Result<(), String> {
    let parsed = receipt.parsed();
    let root = parsed.root_part();
    let ct = root.content_type();
    let report_type = ct
        .and_then(|c| c.attribute("report-type"))
        .unwrap_or_default();
    if !is_mdn(receipt) || !report_type.eq_ignore_ascii_case("disposition-notification") {
        return Err(format!(
            "type « {} » au lieu de multipart/report; report-type=disposition-notification",
            content_type(root)
        ));
    }
    if !receipt
        .recipients()
        .iter()
        .any(|r| r.eq_ignore_ascii_case(to))
    {
        return Err(format!("non adressé à {to} (Disposition-Notification-To)"));
    }
    let part = parsed
        .parts
        .iter()
        .find(|p| content_type(p).eq_ignore_ascii_case("message/disposition-notification"))
        .ok_or("pas de partie message/disposition-notification")?;
    // The part's fields have the syntax of header fields: read them as a header block.
    let raw = &receipt.raw()[part.offset_body as usize..part.offset_end as usize];
    let mut block = raw.to_vec();
    block.extend_from_slice(b"\r\n\r\n");
    let fields = mail_parser::MessageParser::default()
        .parse_headers(&block)
        .ok_or("champs de la notification illisibles")?;
    let original_id = fields.header_raw("Original-Message-ID").map(|v| {
        v.trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_owned()
    });
    match original_id {
        Some(id) if id == original => {}
        Some(id) => {
            return Err(format!(
                "Original-Message-ID <{id}> au lieu de <{original}>"
            ));
        }
        None => return Err("champ Original-Message-ID absent".into()),
    }
    let disposition = fields
        .header_raw("Disposition")
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    let kind = disposition
        .split_once(';')
        .map(|(_, k)| k.trim())
        .unwrap_or_default()
        .split('/')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if kind != "displayed" {
        return Err(format!(
            "Disposition « {disposition} » au lieu d'un type « displayed »"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    fn mdn(disposition: &str, original: &str, ct: &str) -> String {
        format!(
            "From: Dr Marie MARTIN <marie.martin@operateur-fictif.mssante.fr>\r\n\
             To: paul.durand@operateur-fictif.mssante.fr\r\nSubject: Lu\r\nMessage-ID: <r@x>\r\n\
             MIME-Version: 1.0\r\nContent-Type: {ct}; boundary=\"b\"\r\n\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\nAffiché.\r\n\
             --b\r\nContent-Type: message/disposition-notification\r\n\r\n\
             Reporting-UA: x\r\nFinal-Recipient: rfc822;marie.martin@operateur-fictif.mssante.fr\r\n\
             Original-Message-ID: <{original}>\r\nDisposition: {disposition}\r\n\r\n--b--\r\n"
        )
    }

    fn judge(raw: &str) -> Verdict {
        let m = Message::parse(raw.as_bytes()).expect("parses");
        check(&[m], "o@x", "paul.durand@operateur-fictif.mssante.fr").verdict
    }

    #[test]
    fn a_displayed_receipt_passes() {
        let ct = "multipart/report; report-type=disposition-notification";
        assert_eq!(
            judge(&mdn(
                "manual-action/MDN-sent-automatically; displayed",
                "o@x",
                ct
            )),
            Verdict::Pass
        );
        assert_eq!(
            judge(&mdn(
                "automatic-action/MDN-sent-automatically;displayed",
                "o@x",
                ct
            )),
            Verdict::Pass
        );
    }

    #[test]
    fn wrong_receipts_fail() {
        let ct = "multipart/report; report-type=disposition-notification";
        assert_eq!(
            judge(&mdn("manual-action/MDN-sent-manually; deleted", "o@x", ct)),
            Verdict::Fail
        );
        assert_eq!(
            judge(&mdn(
                "manual-action/MDN-sent-manually; displayed",
                "other@x",
                ct
            )),
            Verdict::Fail
        );
        assert_eq!(
            judge(&mdn(
                "manual-action/MDN-sent-manually; displayed",
                "o@x",
                "multipart/mixed"
            )),
            Verdict::Fail
        );
        assert_eq!(
            check(&[], "o@x", "paul.durand@operateur-fictif.mssante.fr").verdict,
            Verdict::Fail
        );
    }
}
