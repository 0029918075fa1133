//! ECO.2.2.8 — « Le système DOIT pouvoir positionner un entête SMTP "X-MSS-MES", dans les
//! messages envoyés vers un usager (Mon espace santé), avec la valeur "FIN" (3 caractères en
//! majuscules), lorsque le professionnel émetteur ne souhaite pas que l'utilisateur puisse lui
//! répondre en retour. »
//!
//! Reading: when asked (scenarios), one `X-MSS-MES: FIN` exactly; when not asked, none. Offline,
//! the request is unknown: an absent header is not applicable, a present one must be exactly
//! `FIN` on a message with a patient recipient (the header means nothing to anyone else).

use crate::{Context, Finding, Message};

/// Requirement ID.
pub const ID: &str = "ECO.2.2.8";

/// Checks a message.
pub fn check(message: &Message<'_>, context: &Context) -> Finding {
    let values = message.header_values("X-MSS-MES");
    let to_patient = message
        .recipients()
        .iter()
        .any(|a| context.is_patient_address(a));
    match (context.requests.end_exchanges, values.as_slice()) {
        (Some(false), []) => Finding::pass(ID, "fin d'échange non demandée, X-MSS-MES absent"),
        (Some(false), [v, ..]) => Finding::fail(
            ID,
            format!("X-MSS-MES « {v} » positionné alors que la fin d'échange n'a pas été demandée"),
        ),
        (Some(true), []) => Finding::fail(ID, "fin d'échange demandée mais X-MSS-MES est absent"),
        (None, []) => Finding::not_applicable(ID, "X-MSS-MES absent (fin d'échange non demandée)"),
        (_, [v]) if v != "FIN" => Finding::fail(
            ID,
            format!("X-MSS-MES vaut « {v} » au lieu de « FIN » (3 majuscules, rien d'autre)"),
        ),
        (_, [_]) if !to_patient => Finding::fail(
            ID,
            "X-MSS-MES: FIN sur un message sans destinataire usager (patient.mssante.fr)",
        ),
        (_, [_]) => Finding::pass(ID, "X-MSS-MES: FIN vers un usager"),
        (_, many) => Finding::fail(
            ID,
            format!("{} entêtes X-MSS-MES au lieu d'un seul", many.len()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Requests, Verdict};

    const PATIENT: &str = "To: 178057805811184@patient.mssante.fr\r\n";

    fn f(headers: &str, asked: Option<bool>) -> Finding {
        let raw = format!("{headers}\r\nx");
        let ctx = Context {
            requests: Requests {
                end_exchanges: asked,
                ..Requests::default()
            },
            ..Context::default()
        };
        check(&Message::parse(raw.as_bytes()).expect("parse"), &ctx)
    }

    #[test]
    fn fin() {
        assert_eq!(
            f(&format!("{PATIENT}X-MSS-MES: FIN\r\n"), None).verdict,
            Verdict::Pass
        );
        assert_eq!(
            f(&format!("{PATIENT}X-MSS-MES: FIN\r\n"), Some(true)).verdict,
            Verdict::Pass
        );
        assert_eq!(f(PATIENT, None).verdict, Verdict::NotApplicable);
        assert_eq!(f(PATIENT, Some(false)).verdict, Verdict::Pass);
        assert!(f(PATIENT, Some(true)).detail.contains("absent"));
        assert!(
            f(&format!("{PATIENT}X-MSS-MES: fin\r\n"), None)
                .detail
                .contains("« fin »")
        );
        assert!(
            f(&format!("{PATIENT}X-MSS-MES: FIN.\r\n"), None)
                .detail
                .contains("« FIN. »")
        );
        assert!(
            f(&format!("{PATIENT}X-MSS-MES: FIN\r\n"), Some(false))
                .detail
                .contains("pas été demandée")
        );
        assert!(
            f("To: dr@h.mssante.fr\r\nX-MSS-MES: FIN\r\n", None)
                .detail
                .contains("sans destinataire usager")
        );
        assert!(
            f(
                &format!("{PATIENT}X-MSS-MES: FIN\r\nX-MSS-MES: FIN\r\n"),
                None
            )
            .detail
            .contains("2 entêtes")
        );
    }
}
