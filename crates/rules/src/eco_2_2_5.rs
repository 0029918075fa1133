//! ECO.2.2.5 — « Un courriel envoyé depuis une BAL applicative doit : contenir une mention à la
//! fin du message précisant que le message a été généré automatiquement et en indiquant une
//! adresse de BAL MSSanté personnelle ou organisationnelle permettant de contacter l'émetteur,
//! positionner un entête « Reply-To » contenant l'adresse de cette BAL. »
//!
//! Reading: exactly one `Reply-To` address; when the configured BAL is known (scenarios) it is
//! that one, otherwise it must be in one of the MSSanté domains of the context (sub-domains
//! count) or in the sending BAL's own domain, and not the sending application BAL itself.
//!
//! "At the end of the message": after a signature delimiter line (`-- `), or among the last
//! twelve non-empty lines of the text body (the HTML's text when there is no plain part). The
//! mention is judged on its meaning, accents and case ignored: it says the message was generated
//! automatically (a word stemming from "automatique", "automatis…" or "automate", or a verb such
//! as "généré par", "envoyé par", "émis par", "produit par" followed within a few words by
//! "application", "logiciel", "système", "serveur" or "plateforme"), and it names the Reply-To
//! address.

use crate::{Context, Family, Finding, Message, text};

/// Requirement ID.
pub const ID: &str = "ECO.2.2.5";

/// How many non-empty lines count as "the end of the message" (besides what follows a
/// signature delimiter).
pub const END_LINES: usize = 12;

/// How many of the last lines an explanation quotes.
const SHOWN_LINES: usize = 5;

/// How many words after « par » may name the machine ("généré par le système d'information").
const PRODUCER_WINDOW: usize = 6;

/// Stems saying "automatically", folded.
const AUTOMATIC: [&str; 3] = ["automatique", "automatis", "automate"];

/// Verbs (past participles, folded, any agreement) that say who produced the message when
/// followed by « par » and one of [`PRODUCERS`].
const VERBS: [&str; 4] = ["genere", "envoye", "emis", "produit"];

/// Nouns naming a machine that produced the message, folded.
const PRODUCERS: [&str; 6] = [
    "application",
    "logiciel",
    "systeme",
    "serveur",
    "plateforme",
    "plate-forme",
];

fn body_text(message: &Message<'_>) -> Option<String> {
    let parsed = message.parsed();
    parsed.body_text(0).map(|t| t.into_owned()).or_else(|| {
        parsed
            .body_html(0)
            .map(|h| mail_parser::decoders::html::html_to_text(&h))
    })
}

/// The domain of an address, lower case.
fn domain(address: &str) -> Option<String> {
    address
        .rsplit_once('@')
        .map(|(_, d)| d.trim().trim_end_matches('>').to_ascii_lowercase())
        .filter(|d| !d.is_empty())
}

/// Whether an address is in one of the MSSanté domains (or their sub-domains).
fn is_mssante(address: &str, context: &Context) -> bool {
    domain(address).is_some_and(|d| {
        context.mssante_domains.iter().any(|m| {
            let m = m.trim().to_ascii_lowercase();
            !m.is_empty() && (d == m || d.ends_with(&format!(".{m}")))
        })
    })
}

/// Whether a text (folded) says the message was generated automatically.
fn says_automatic(folded: &str) -> bool {
    if AUTOMATIC.iter().any(|stem| folded.contains(stem)) {
        return true;
    }
    let words: Vec<&str> = folded.split_whitespace().collect();
    words.windows(2).enumerate().any(|(i, pair)| {
        VERBS.iter().any(|v| pair[0].starts_with(v))
            && pair[1] == "par"
            && words[i + 2..]
                .iter()
                .take(PRODUCER_WINDOW)
                .any(|w| PRODUCERS.iter().any(|n| w.contains(n)))
    })
}

/// The lines that count as the end of the message: what follows the last signature delimiter,
/// and the last [`END_LINES`] non-empty lines.
fn end_lines(body: &str) -> Vec<&str> {
    let lines: Vec<&str> = body
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let last = lines.len().saturating_sub(END_LINES);
    let from = match lines.iter().rposition(|l| l.trim() == "--") {
        Some(delimiter) => (delimiter + 1).min(last),
        None => last,
    };
    lines[from..].iter().map(|l| l.trim()).collect()
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
            let same_domain = domain(one).is_some_and(|d| domain(&from) == Some(d));
            match &context.reply_to {
                Some(expected) if !expected.eq_ignore_ascii_case(one) => problems.push(format!(
                    "Reply-To vaut « {one} » au lieu de la BAL paramétrée « {expected} »"
                )),
                Some(_) => {}
                None if one.eq_ignore_ascii_case(&from) => problems.push(format!(
                    "Reply-To « {one} » est la BAL applicative elle-même, pas une BAL personnelle ou organisationnelle"
                )),
                None if !is_mssante(one, context) && !same_domain => problems.push(format!(
                    "Reply-To « {one} » n'est pas une adresse MSSanté ({}) ni du domaine de la BAL émettrice",
                    context.mssante_domains.join(", ")
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
    let end = end_lines(&body);
    let automatic = says_automatic(&text::fold(&end.join("\n")));
    let names_address = address.as_deref().is_some_and(|a| {
        let a = a.to_ascii_lowercase();
        end.iter().any(|l| l.to_ascii_lowercase().contains(&a))
    });
    if !automatic {
        problems.push(format!(
            "la fin du message ne mentionne pas qu'il a été généré automatiquement (dernières lignes : « {} »)",
            end[end.len().saturating_sub(SHOWN_LINES)..].join(" / ")
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
        let mention_first = "From: <resultats@labo.mssante.fr>\r\nReply-To: <secretariat@labo.mssante.fr>\r\n\r\nMessage automatique, contact secretariat@labo.mssante.fr\r\n1\r\n2\r\n3\r\n4\r\n5\r\n6\r\n7\r\n8\r\n9\r\n10\r\n11\r\n12\r\n";
        assert_eq!(
            f(mention_first, None).verdict,
            Verdict::Fail,
            "the mention must be at the end"
        );
        let ctx = Context::default();
        let per_org = check(&Message::parse(OK.as_bytes()).expect("parse"), &ctx);
        assert_eq!(per_org.verdict, Verdict::NotApplicable);
    }

    fn with_mention(mention: &str) -> String {
        format!(
            "From: Labo <resultats@labo.mssante.fr>\r\nReply-To: <secretariat@labo.mssante.fr>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nVoici vos résultats.\r\n\r\n{mention}\r\n"
        )
    }

    #[test]
    fn mention_judged_on_meaning() {
        for mention in [
            "Message envoyé automatiquement, contact : secretariat@labo.mssante.fr",
            "Envoi automatisé. Contact : secretariat@labo.mssante.fr",
            "Message émis par un automate. Contact : secretariat@labo.mssante.fr",
            "Ce courriel a été généré par l'application du laboratoire.\r\nContact : Secretariat@Labo.mssante.fr",
            "Message produit par\r\nle serveur de résultats ; contact : secretariat@labo.mssante.fr",
            "MESSAGE GÉNÉRÉ PAR LE SYSTÈME D'INFORMATION DU LABORATOIRE ; répondre à secretariat@labo.mssante.fr",
            "Cette note est produite par notre logiciel de résultats ; écrire à secretariat@labo.mssante.fr",
            "Notification envoyée par la plateforme du laboratoire, contact secretariat@labo.mssante.fr",
        ] {
            let d = f(&with_mention(mention), None);
            assert_eq!(d.verdict, Verdict::Pass, "{mention}: {}", d.detail);
        }
        for mention in [
            // A verb without a machine, a machine without a verb.
            "Message envoyé par le Dr MARTIN, contact : secretariat@labo.mssante.fr",
            "Notre application de résultats : secretariat@labo.mssante.fr",
            "Envoyé par le Dr MARTIN de la part du secrétariat, contact : secretariat@labo.mssante.fr ; application",
            // The address is not named.
            "Message généré automatiquement, ne pas répondre.",
        ] {
            let d = f(&with_mention(mention), None);
            assert_eq!(d.verdict, Verdict::Fail, "{mention}: {}", d.detail);
        }
    }

    #[test]
    fn end_of_the_message() {
        let filler: String = (1..=15).map(|i| format!("ligne {i}\r\n")).collect();
        // After the signature delimiter, however long the signature.
        let signature = with_mention(&format!(
            "-- \r\nMessage automatique, contact secretariat@labo.mssante.fr\r\n{filler}"
        ));
        assert_eq!(
            f(&signature, None).verdict,
            Verdict::Pass,
            "{}",
            f(&signature, None).detail
        );
        // Without a delimiter, within the last twelve non-empty lines.
        let close = with_mention(&format!(
            "Message automatique, contact secretariat@labo.mssante.fr\r\n\r\n{}",
            (1..=11)
                .map(|i| format!("ligne {i}\r\n"))
                .collect::<String>()
        ));
        assert_eq!(
            f(&close, None).verdict,
            Verdict::Pass,
            "{}",
            f(&close, None).detail
        );
        let far = with_mention(&format!(
            "Message automatique, contact secretariat@labo.mssante.fr\r\n{filler}"
        ));
        let d = f(&far, None);
        assert_eq!(d.verdict, Verdict::Fail);
        assert!(
            d.detail
                .contains("ligne 11 / ligne 12 / ligne 13 / ligne 14 / ligne 15 »"),
            "{}",
            d.detail
        );
    }

    #[test]
    fn reply_to_domains() {
        let organisation = OK
            .replace(
                "<secretariat@labo.mssante.fr>",
                "<secretariat@chu-exemple.fr>",
            )
            .replace(
                "contacter : secretariat@labo.mssante.fr",
                "contacter : secretariat@chu-exemple.fr",
            );
        // Not an MSSanté domain, not the sender's: refused…
        let d = f(&organisation, None);
        assert!(d.detail.contains("pas une adresse MSSanté"), "{}", d.detail);
        // …unless the context names the domain…
        let ctx = Context {
            family: Family::App,
            mssante_domains: vec!["mssante.fr".into(), "chu-exemple.fr".into()],
            ..Context::default()
        };
        let m = Message::parse(organisation.as_bytes()).expect("parse");
        assert_eq!(
            check(&m, &ctx).verdict,
            Verdict::Pass,
            "{}",
            check(&m, &ctx).detail
        );
        // …or it is the sender's own domain.
        let same_domain =
            organisation.replace("resultats@labo.mssante.fr", "resultats@chu-exemple.fr");
        assert_eq!(
            f(&same_domain, None).verdict,
            Verdict::Pass,
            "{}",
            f(&same_domain, None).detail
        );
        // The application BAL itself stays refused in its own domain.
        let itself =
            same_domain.replace("<secretariat@chu-exemple.fr>", "<resultats@chu-exemple.fr>");
        assert!(
            f(&itself, None)
                .detail
                .contains("BAL applicative elle-même")
        );
        // Sub-domains of an MSSanté domain count.
        let sub = OK
            .replace(
                "<secretariat@labo.mssante.fr>",
                "<secretariat@a.b.mssante.fr>",
            )
            .replace(
                "contacter : secretariat@labo.mssante.fr",
                "contacter : secretariat@a.b.mssante.fr",
            );
        assert_eq!(
            f(&sub, None).verdict,
            Verdict::Pass,
            "{}",
            f(&sub, None).detail
        );
        let lookalike = sub.replace("a.b.mssante.fr", "faux-mssante.fr");
        assert!(
            f(&lookalike, None)
                .detail
                .contains("pas une adresse MSSanté")
        );
    }
}
