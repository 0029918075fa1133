//! ECO.2.4.3 — « Le système DOIT positionner l'entête SMTP "X-MSS-NIL" dans tous les courriels
//! envoyés. Elle sera renseignée du numéro « référence produit » [...] »
//!
//! Reading: exactly one `X-MSS-NIL` header, not empty. Its value is the product reference
//! attributed by the convergence platform; its format is not specified, so only emptiness is
//! judged.

use crate::{Context, Finding, Message};

/// Requirement ID.
pub const ID: &str = "ECO.2.4.3";

/// Checks a message.
pub fn check(message: &Message<'_>, _context: &Context) -> Finding {
    let values = message.header_values("X-MSS-NIL");
    match values.as_slice() {
        [] => Finding::fail(ID, "l'entête X-MSS-NIL est absent"),
        [value] if value.is_empty() => Finding::fail(ID, "l'entête X-MSS-NIL est vide"),
        [value] => Finding::pass(ID, format!("X-MSS-NIL vaut « {value} »")),
        many => Finding::fail(
            ID,
            format!("{} entêtes X-MSS-NIL au lieu d'un seul", many.len()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    fn verdict(raw: &str) -> Verdict {
        check(
            &Message::parse(raw.as_bytes()).expect("parse"),
            &Context::default(),
        )
        .verdict
    }

    #[test]
    fn findings() {
        assert_eq!(verdict("X-MSS-NIL: DEV935997\r\n\r\nx"), Verdict::Pass);
        assert_eq!(verdict("x-mss-nil: a/b/c\r\n\r\nx"), Verdict::Pass);
        assert_eq!(verdict("Subject: x\r\n\r\nx"), Verdict::Fail);
        assert_eq!(verdict("X-MSS-NIL:   \r\n\r\nx"), Verdict::Fail);
        assert_eq!(
            verdict("X-MSS-NIL: a\r\nX-MSS-NIL: b\r\n\r\nx"),
            Verdict::Fail
        );
    }
}
