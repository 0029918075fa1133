//! ECO.2.2.8 — « Le système DOIT pouvoir positionner un entête SMTP "X-MSS-MES", dans les
//! messages envoyés vers un usager (Mon espace santé), avec la valeur "FIN" (3 caractères en
//! majuscules), lorsque le professionnel émetteur ne souhaite pas que l'utilisateur puisse lui
//! répondre en retour. »
//!
//! Reading: the header concerns messages with a patient recipient, in To, Cc or Bcc or only in
//! the SMTP envelope (RCPT TO, when known). Whenever present it is one header whose value is
//! exactly `FIN`. On a message with a patient recipient: when asked (scenarios), present; when
//! not asked, absent; offline, the request is unknown and an absent header is not applicable.
//! On a message to professionals only, the requirement is not applicable: a `FIN` there is noted
//! in the explanation, not failed (the header means nothing to a professional).

use crate::{Context, Finding, Message};

/// Requirement ID.
pub const ID: &str = "ECO.2.2.8";

/// Whether a patient is among the recipients: the message's headers or the SMTP envelope.
fn to_patient(message: &Message<'_>, context: &Context) -> bool {
    let envelope = context.envelope_recipients.iter().map(|a| {
        a.trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_owned()
    });
    message
        .recipients()
        .into_iter()
        .chain(envelope)
        .any(|a| context.is_patient_address(&a))
}

/// Checks a message.
pub fn check(message: &Message<'_>, context: &Context) -> Finding {
    let values = message.header_values("X-MSS-MES");
    match values.as_slice() {
        [_, _, ..] => {
            return Finding::fail(
                ID,
                format!("{} entêtes X-MSS-MES au lieu d'un seul", values.len()),
            );
        }
        [v] if v != "FIN" => {
            return Finding::fail(
                ID,
                format!("X-MSS-MES vaut « {v} » au lieu de « FIN » (3 majuscules, rien d'autre)"),
            );
        }
        _ => {}
    }
    let present = !values.is_empty();
    if !to_patient(message, context) {
        return match (context.requests.end_exchanges, present) {
            (None, false) => {
                Finding::not_applicable(ID, "X-MSS-MES absent (fin d'échange non demandée)")
            }
            (Some(_), false) => Finding::not_applicable(
                ID,
                "aucun destinataire usager (patient.mssante.fr) : X-MSS-MES sans objet",
            ),
            (_, true) => Finding::not_applicable(
                ID,
                "X-MSS-MES: FIN noté sur un message adressé uniquement à des professionnels : \
                 l'entête ne concerne que les messages vers un usager",
            ),
        };
    }
    match (context.requests.end_exchanges, present) {
        (Some(false), false) => Finding::pass(ID, "fin d'échange non demandée, X-MSS-MES absent"),
        (Some(false), true) => Finding::fail(
            ID,
            "X-MSS-MES « FIN » positionné alors que la fin d'échange n'a pas été demandée",
        ),
        (Some(true), false) => {
            Finding::fail(ID, "fin d'échange demandée mais X-MSS-MES est absent")
        }
        (None, false) => {
            Finding::not_applicable(ID, "X-MSS-MES absent (fin d'échange non demandée)")
        }
        (_, true) => Finding::pass(ID, "X-MSS-MES: FIN vers un usager"),
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
        let professional = f("To: dr@h.mssante.fr\r\nX-MSS-MES: FIN\r\n", None);
        assert_eq!(professional.verdict, Verdict::NotApplicable);
        assert!(
            professional
                .detail
                .contains("uniquement à des professionnels"),
            "{}",
            professional.detail
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

    fn with_envelope(headers: &str, asked: Option<bool>, envelope: &[&str]) -> Finding {
        let raw = format!("{headers}\r\nx");
        let ctx = Context {
            requests: Requests {
                end_exchanges: asked,
                ..Requests::default()
            },
            envelope_recipients: envelope.iter().map(|a| (*a).to_owned()).collect(),
            ..Context::default()
        };
        check(&Message::parse(raw.as_bytes()).expect("parse"), &ctx)
    }

    #[test]
    fn patient_in_cc_bcc_or_envelope() {
        let cc = "To: dr@h.mssante.fr\r\nCc: 178057805811184@patient.mssante.fr\r\n";
        assert_eq!(
            f(&format!("{cc}X-MSS-MES: FIN\r\n"), None).verdict,
            Verdict::Pass
        );
        let bcc = "To: dr@h.mssante.fr\r\nBcc: 178057805811184@recette.patient.mssante.fr\r\n";
        assert_eq!(f(bcc, Some(true)).verdict, Verdict::Fail);
        let pro = "To: dr@h.mssante.fr\r\n";
        let envelope = ["<178057805811184@patient.mssante.fr>"];
        assert_eq!(
            with_envelope(&format!("{pro}X-MSS-MES: FIN\r\n"), None, &envelope).verdict,
            Verdict::Pass
        );
        assert_eq!(
            with_envelope(pro, Some(true), &envelope).verdict,
            Verdict::Fail
        );
        assert_eq!(
            with_envelope(&format!("{pro}X-MSS-MES: FIN\r\n"), Some(false), &envelope).verdict,
            Verdict::Fail
        );
        assert_eq!(
            with_envelope(pro, Some(false), &envelope).verdict,
            Verdict::Pass
        );
    }

    #[test]
    fn professionals_only() {
        let pro = "To: dr@h.mssante.fr\r\nCc: sec@h.mssante.fr\r\n";
        for asked in [None, Some(true), Some(false)] {
            assert_eq!(f(pro, asked).verdict, Verdict::NotApplicable, "{asked:?}");
            assert_eq!(
                f(&format!("{pro}X-MSS-MES: FIN\r\n"), asked).verdict,
                Verdict::NotApplicable,
                "{asked:?}"
            );
        }
        // The value is judged whoever the recipients are.
        let lower = f(&format!("{pro}X-MSS-MES: fin\r\n"), None);
        assert_eq!(lower.verdict, Verdict::Fail);
        assert!(lower.detail.contains("« fin »"), "{}", lower.detail);
        assert_eq!(
            f(&format!("{pro}X-MSS-MES: Fin\r\n"), Some(true)).verdict,
            Verdict::Fail
        );
        // An envelope of professionals does not make a patient.
        assert_eq!(
            with_envelope(pro, Some(true), &["dr@h.mssante.fr"]).verdict,
            Verdict::NotApplicable
        );
    }
}
