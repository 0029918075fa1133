//! ECO.2.4.3 — « Le système DOIT positionner l'entête SMTP "X-MSS-NIL" dans tous les courriels
//! envoyés. Elle sera renseignée du numéro « référence produit » [...] »
//!
//! Reading: an `X-MSS-NIL` header with a value. Its value is the product reference attributed
//! by the convergence platform; its format is not specified, so only emptiness is judged. The
//! text does not ask for exactly one: a chain of two components (a thick client and its
//! intermediate LPS server) may each write theirs, which is noted, not failed.

use crate::{Context, Finding, Message};

/// Requirement ID.
pub const ID: &str = "ECO.2.4.3";

/// Checks a message.
pub fn check(message: &Message<'_>, _context: &Context) -> Finding {
    let values = message.header_values("X-MSS-NIL");
    let filled: Vec<&str> = values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    match (values.len(), filled.as_slice()) {
        (0, _) => Finding::fail(ID, "l'entête X-MSS-NIL est absent"),
        (_, []) => Finding::fail(ID, "l'entête X-MSS-NIL est vide"),
        (1, [value]) => Finding::pass(ID, format!("X-MSS-NIL vaut « {value} »")),
        (n, filled) => Finding::pass(
            ID,
            format!(
                "{n} entêtes X-MSS-NIL (« {} ») : le texte n'en demande pas un seul",
                filled.join(" », « ")
            ),
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
            Verdict::Pass
        );
        assert_eq!(verdict("X-MSS-NIL:\r\nX-MSS-NIL: \r\n\r\nx"), Verdict::Fail);
    }
}
