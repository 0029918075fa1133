//! ECO.2.3.1 — « Le système DOIT permettre de demander un accusé de réception de type DSN lors de
//! l'émission d'un courriel. L'entête ci-dessous doit être positionné dans le message :
//! Return-Receipt-To: <BAL_MSSanté_emetteur> »
//!
//! Reading (VERIFICATION.md): the address is the sender's BAL, i.e. the `From` address. When
//! the request is known (scenarios), asked means present; offline an absent header is not
//! applicable and a present one is judged.

use crate::{Context, Finding, Message};

/// Requirement ID.
pub const ID: &str = "ECO.2.3.1";

/// The header this requirement is about.
pub const HEADER: &str = "Return-Receipt-To";

/// Checks a message.
pub fn check(message: &Message<'_>, context: &Context) -> Finding {
    super::eco_2_3_1::receipt(
        ID,
        HEADER,
        "un accusé de réception DSN",
        context.requests.dsn,
        message,
    )
}

/// The check both receipts share: `header` present when asked, naming the `From` address.
pub(crate) fn receipt(
    id: &'static str,
    header: &str,
    what: &str,
    asked: Option<bool>,
    message: &Message<'_>,
) -> Finding {
    let from = message
        .mailboxes("From")
        .into_iter()
        .find_map(|m| m.address)
        .unwrap_or_default();
    let values = message.mailboxes_of_raw(header);
    let raw = message.header_values(header);
    match (asked, raw.len()) {
        (Some(true), 0) => {
            return Finding::fail(
                id,
                format!("{what} a été demandé mais l'entête {header} est absent"),
            );
        }
        (_, 0) => {
            return Finding::not_applicable(id, format!("{header} absent ({what} non demandé)"));
        }
        (_, n) if n > 1 => {
            return Finding::fail(id, format!("{n} entêtes {header} au lieu d'un seul"));
        }
        _ => {}
    }
    match values.as_slice() {
        [m] if m
            .address
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(&from)) =>
        {
            Finding::pass(id, format!("{header}: <{from}> (BAL de l'émetteur)"))
        }
        [m] => Finding::fail(
            id,
            format!(
                "{header} vaut « {} » au lieu de la BAL de l'émetteur « {from} »",
                m.address.as_deref().unwrap_or(raw[0].as_str())
            ),
        ),
        _ => Finding::fail(
            id,
            format!(
                "{header} vaut « {} » : une seule adresse, celle de l'émetteur, est attendue",
                raw[0]
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Requests, Verdict};

    fn f(id: &'static str, headers: &str, dsn: Option<bool>, mdn: Option<bool>) -> Finding {
        let raw = format!("From: Dr A B <a.b@h.mssante.fr>\r\n{headers}\r\nx");
        let ctx = Context {
            requests: Requests {
                dsn,
                mdn,
                ..Requests::default()
            },
            ..Context::default()
        };
        let m = Message::parse(raw.as_bytes()).expect("parse");
        if id == ID {
            check(&m, &ctx)
        } else {
            crate::eco_2_3_2::check(&m, &ctx)
        }
    }

    #[test]
    fn receipts() {
        assert_eq!(
            f(ID, "Return-Receipt-To: <a.b@h.mssante.fr>\r\n", None, None).verdict,
            Verdict::Pass
        );
        assert_eq!(
            f(
                ID,
                "Return-Receipt-To: A.B@H.MSSANTE.FR\r\n",
                Some(true),
                None
            )
            .verdict,
            Verdict::Pass
        );
        assert_eq!(f(ID, "", None, None).verdict, Verdict::NotApplicable);
        assert!(f(ID, "", Some(true), None).detail.contains("absent"));
        assert!(
            f(
                ID,
                "Return-Receipt-To: <autre@h.mssante.fr>\r\n",
                None,
                None
            )
            .detail
            .contains("autre@h.mssante.fr")
        );
        let m = crate::eco_2_3_2::ID;
        assert_eq!(
            f(
                m,
                "Disposition-Notification-To: Dr A B <a.b@h.mssante.fr>\r\n",
                None,
                None
            )
            .verdict,
            Verdict::Pass
        );
        assert!(
            f(m, "", None, Some(true))
                .detail
                .contains("Disposition-Notification-To est absent")
        );
        assert!(
            f(
                m,
                "Disposition-Notification-To: <a.b@h.mssante.fr>, <c@d.fr>\r\n",
                None,
                None
            )
            .detail
            .contains("une seule adresse")
        );
    }
}
