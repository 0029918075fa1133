//! ECO.2.2.2 — « Le système DOIT renseigner les entêtes « Message-ID », « in-Reply-To » et
//! « References » conformément à la RFC 5322 dans toute réponse à un courriel. »
//!
//! Reading (RFC 5322 §3.6.4): the reply has its own valid Message-ID, different from the
//! original's; `In-Reply-To` is the original's Message-ID; `References` is the original's
//! References (or, lacking them, nothing) followed by the original's Message-ID. Only a scenario
//! knows the original ([`crate::Context::original`]): offline, this check is not run.

use crate::eco_2_2_1::is_msg_id;
use crate::{Context, Finding, Message};

/// Requirement ID.
pub const ID: &str = "ECO.2.2.2";

/// The msg-ids of a header value, without angle brackets.
pub fn msg_ids(value: &str) -> Vec<String> {
    value
        .split('<')
        .skip(1)
        .filter_map(|s| s.split_once('>').map(|(id, _)| id.trim().to_owned()))
        .collect()
}

/// Checks a reply.
pub fn check(message: &Message<'_>, context: &Context) -> Finding {
    let Some(original) = &context.original else {
        return Finding::not_applicable(ID, "le message n'est pas une réponse connue");
    };
    let mut problems = Vec::new();
    let own = message.header_values("Message-ID");
    match own.as_slice() {
        [id] if is_msg_id(id) => {
            if msg_ids(id).first() == Some(&original.message_id) {
                problems.push(format!(
                    "la réponse reprend le Message-ID de l'original « {id} »"
                ));
            }
        }
        [id] => problems.push(format!("Message-ID « {id} » invalide")),
        [] => problems.push("Message-ID absent".into()),
        _ => problems.push("plusieurs entêtes Message-ID".into()),
    }
    let expected = format!("<{}>", original.message_id);
    match message.header_values("In-Reply-To").as_slice() {
        [value] if msg_ids(value) == vec![original.message_id.clone()] => {}
        [value] => problems.push(format!(
            "In-Reply-To vaut « {value} » au lieu de « {expected} »"
        )),
        [] => problems.push(format!("In-Reply-To absent (attendu : « {expected} »)")),
        _ => problems.push("plusieurs entêtes In-Reply-To".into()),
    }
    let mut wanted = original.references.clone();
    wanted.push(original.message_id.clone());
    let shown = wanted
        .iter()
        .map(|r| format!("<{r}>"))
        .collect::<Vec<_>>()
        .join(" ");
    match message.header_values("References").as_slice() {
        [value] if msg_ids(value) == wanted => {}
        [value] => problems.push(format!(
            "References vaut « {value} » au lieu de « {shown} »"
        )),
        [] => problems.push(format!("References absent (attendu : « {shown} »)")),
        _ => problems.push("plusieurs entêtes References".into()),
    }
    Finding::from_problems(
        ID,
        problems,
        format!("réponse chaînée à « {expected} » (In-Reply-To et References conformes)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Original, Verdict};

    fn verdict(raw: &str) -> Finding {
        let ctx = Context {
            original: Some(Original {
                message_id: "o@x".into(),
                references: vec!["r@x".into()],
            }),
            ..Context::default()
        };
        check(&Message::parse(raw.as_bytes()).expect("parse"), &ctx)
    }

    #[test]
    fn threading() {
        let ok = "Message-ID: <n@y>\r\nIn-Reply-To: <o@x>\r\nReferences: <r@x>\r\n <o@x>\r\n\r\nx";
        assert_eq!(verdict(ok).verdict, Verdict::Pass);
        for (bad, why) in [
            (
                "Message-ID: <n@y>\r\nReferences: <r@x> <o@x>\r\n\r\nx",
                "In-Reply-To absent",
            ),
            (
                "Message-ID: <n@y>\r\nIn-Reply-To: <o@x>\r\nReferences: <o@x>\r\n\r\nx",
                "References vaut",
            ),
            (
                "Message-ID: <o@x>\r\nIn-Reply-To: <o@x>\r\nReferences: <r@x> <o@x>\r\n\r\nx",
                "reprend",
            ),
            (
                "In-Reply-To: <o@x>\r\nReferences: <r@x> <o@x>\r\n\r\nx",
                "Message-ID absent",
            ),
        ] {
            let f = verdict(bad);
            assert_eq!(f.verdict, Verdict::Fail, "{bad}");
            assert!(f.detail.contains(why), "{}", f.detail);
        }
        let f = check(
            &Message::parse(b"Subject: x\r\n\r\nx").expect("parse"),
            &Context::default(),
        );
        assert_eq!(f.verdict, Verdict::NotApplicable);
    }
}
