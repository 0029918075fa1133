//! ECO.2.2.5 — « Un courriel envoyé depuis une BAL applicative doit : contenir une mention à la
//! fin du message précisant que le message a été généré automatiquement et en indiquant une
//! adresse de BAL MSSanté personnelle ou organisationnelle permettant de contacter l'émetteur,
//! positionner un entête « Reply-To » contenant l'adresse de cette BAL. »
//!
//! Reading: exactly one `Reply-To` address; when the configured BAL is known (scenarios) it is
//! that one, otherwise it must be an MSSanté address (`…mssante.fr`) other than the sending
//! application BAL. "At the end of the message": among the last five non-empty lines of the text
//! body (the HTML's text when there is no plain part), one names that address and the mention says
//! the message was generated automatically ("automatique…", accents and case ignored).

use crate::{Context, Family, Finding, Message, text};

/// Requirement ID.
pub const ID: &str = "ECO.2.2.5";

/// How many non-empty lines count as "the end of the message".
pub const END_LINES: usize = 5;

fn body_text(message: &Message<'_>) -> Option<String> {
    let parsed = message.parsed();
    parsed.body_text(0).map(|t| t.into_owned()).or_else(|| {
        parsed
            .body_html(0)
            .map(|h| mail_parser::decoders::html::html_to_text(&h))
    })
}

fn is_mssante(address: &str) -> bool {
    address.rsplit_once('@').is_some_and(|(_, d)| {
        let d = d.to_ascii_lowercase();
        d == "mssante.fr" || d.ends_with(".mssante.fr")
    })
}

/// Checks a message.
pub fn check(message: &Message<'_>, context: &Context) -> Finding {
    if context.family != Family::App {
        return Finding::not_applicable(ID, "exigence propre aux BAL applicatives");
    }
    let mut problems = Vec::new();
    let from = message
        .mailboxes("From")
        .into_iter()
        .find_map(|m| m.address)
        .unwrap_or_default();
    let reply_to: Vec<String> = message
        .mailboxes("Reply-To")
        .into_iter()
        .filter_map(|m| m.address)
        .collect();
    let address = match reply_to.as_slice() {
        [] => {
            problems.push("l'entête Reply-To est absent".to_owned());
            None
        }
        [one] => {
            match &context.reply_to {
                Some(expected) if !expected.eq_ignore_ascii_case(one) => problems.push(format!(
                    "Reply-To vaut « {one} » au lieu de la BAL paramétrée « {expected} »"
                )),
                Some(_) => {}
                None if !is_mssante(one) => problems.push(format!(
                    "Reply-To « {one} » n'est pas une adresse MSSanté"
                )),
                None if one.eq_ignore_ascii_case(&from) => problems.push(format!(
                    "Reply-To « {one} » est la BAL applicative elle-même, pas une BAL personnelle ou organisationnelle"
                )),
                None => {}
            }
            Some(one.clone())
        }
        many => {
            problems.push(format!(
                "Reply-To contient {} adresses au lieu d'une",
                many.len()
            ));
            None
        }
    };
    let body = body_text(message).unwrap_or_default();
    let lines: Vec<&str> = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let end = &lines[lines.len().saturating_sub(END_LINES)..];
    let end_text = end.join("\n");
    let automatic = text::fold(&end_text).contains("automatique");
    let names_address = address.as_deref().is_some_and(|a| {
        end_text
            .to_ascii_lowercase()
            .contains(&a.to_ascii_lowercase())
    });
    if !automatic {
        problems.push(format!(
            "la fin du message ne mentionne pas qu'il a été généré automatiquement (dernières lignes : « {} »)",
            end.join(" / ")
        ));
    }
    if address.is_some() && !names_address {
        problems.push(format!(
            "la mention de fin de message n'indique pas l'adresse « {} » à contacter",
            address.as_deref().unwrap_or_default()
        ));
    }
    Finding::from_problems(
        ID,
        problems,
        format!(
            "Reply-To « {} » et mention de génération automatique en fin de message",
            address.unwrap_or_default()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    fn f(raw: &str, configured: Option<&str>) -> Finding {
        let ctx = Context {
            family: Family::App,
            reply_to: configured.map(str::to_owned),
            ..Context::default()
        };
        check(&Message::parse(raw.as_bytes()).expect("parse"), &ctx)
    }

    const OK: &str = "From: Labo <resultats@labo.mssante.fr>\r\nReply-To: <secretariat@labo.mssante.fr>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nVoici vos résultats.\r\n\r\n--\r\nCe message a été généré automatiquement. Pour nous contacter : secretariat@labo.mssante.fr\r\n";

    #[test]
    fn reply_to_and_mention() {
        assert_eq!(f(OK, None).verdict, Verdict::Pass, "{}", f(OK, None).detail);
        assert_eq!(
            f(OK, Some("secretariat@labo.mssante.fr")).verdict,
            Verdict::Pass
        );
        assert!(
            f(OK, Some("autre@labo.mssante.fr"))
                .detail
                .contains("BAL paramétrée")
        );
        let no_reply = OK.replace("Reply-To: <secretariat@labo.mssante.fr>\r\n", "");
        assert!(f(&no_reply, None).detail.contains("Reply-To est absent"));
        let self_reply = OK.replace("Reply-To: <secretariat@", "Reply-To: <resultats@");
        assert!(
            f(&self_reply, None)
                .detail
                .contains("BAL applicative elle-même")
        );
        let gmail = OK.replace(
            "Reply-To: <secretariat@labo.mssante.fr>",
            "Reply-To: <a@gmail.com>",
        );
        assert!(f(&gmail, None).detail.contains("pas une adresse MSSanté"));
        let no_mention = OK.replace("Ce message a été généré automatiquement. ", "");
        assert!(
            f(&no_mention, None)
                .detail
                .contains("généré automatiquement")
        );
        let mention_first = "From: <resultats@labo.mssante.fr>\r\nReply-To: <secretariat@labo.mssante.fr>\r\n\r\nMessage automatique, contact secretariat@labo.mssante.fr\r\n1\r\n2\r\n3\r\n4\r\n5\r\n";
        assert_eq!(
            f(mention_first, None).verdict,
            Verdict::Fail,
            "the mention must be at the end"
        );
        let ctx = Context::default();
        let per_org = check(&Message::parse(OK.as_bytes()).expect("parse"), &ctx);
        assert_eq!(per_org.verdict, Verdict::NotApplicable);
    }
}
