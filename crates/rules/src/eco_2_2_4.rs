//! ECO.2.2.4 — « Le corps du courriel indiqué dans entête Content-Type du courriel, doit être :
//! soit text/plain, [...] soit multipart/alternative avec 2 parties identiques en termes de
//! contenu rédactionnel : la première en text/plain, la seconde en text/html. »
//!
//! Reading: the body is the top-level part or, when files are attached (`multipart/mixed`), its
//! first part. A `multipart/alternative` has exactly two parts, `text/plain` then `text/html`
//! (the HTML may sit in a `multipart/related` with its inline images). "Identical editorial
//! content": the plain part and the HTML part's text (markup removed, entities decoded) have the
//! same words in the same order, compared case- and accent-insensitively.

use mail_parser::{MessagePart, PartType};

use crate::{Context, Finding, Message, content_type, text};

/// Requirement ID.
pub const ID: &str = "ECO.2.2.4";

fn part_text(part: &MessagePart<'_>) -> String {
    match &part.body {
        PartType::Text(t) => t.to_string(),
        PartType::Html(h) => mail_parser::decoders::html::html_to_text(h),
        _ => String::new(),
    }
}

fn folded_words(s: &str) -> Vec<String> {
    text::words(&text::strip_diacritics(s))
}

/// The first difference between two word sequences, shown with a little context.
fn first_difference(plain: &[String], html: &[String]) -> Option<String> {
    let i = plain.iter().zip(html).position(|(a, b)| a != b);
    let i = match i {
        Some(i) => i,
        None if plain.len() == html.len() => return None,
        None => plain.len().min(html.len()),
    };
    let show = |w: &[String]| {
        let from = i.saturating_sub(3);
        let to = (i + 4).min(w.len());
        if from >= to {
            "(fin)".to_owned()
        } else {
            w[from..to].join(" ")
        }
    };
    Some(format!(
        "au mot {} : texte « {} » / HTML « {} »",
        i + 1,
        show(plain),
        show(html)
    ))
}

fn judge_body(message: &Message<'_>, index: usize, depth: usize) -> Result<String, String> {
    let parts = &message.parsed().parts;
    let Some(part) = parts.get(index) else {
        return Err("corps introuvable".into());
    };
    let ct = content_type(part);
    match (ct.as_str(), &part.body) {
        ("text/plain", _) => Ok("corps text/plain".into()),
        ("multipart/mixed", PartType::Multipart(children)) if depth == 0 => {
            let Some(&first) = children.first() else {
                return Err("multipart/mixed vide".into());
            };
            judge_body(message, first as usize, depth + 1)
                .map(|ok| format!("{ok} (première partie du multipart/mixed)"))
        }
        ("multipart/alternative", PartType::Multipart(children)) => {
            let types: Vec<String> = children
                .iter()
                .filter_map(|&c| parts.get(c as usize))
                .map(content_type)
                .collect();
            if children.len() != 2 {
                return Err(format!(
                    "multipart/alternative à {} parties ({}) au lieu de 2 (text/plain puis text/html)",
                    children.len(),
                    types.join(", ")
                ));
            }
            if types[0] != "text/plain" {
                return Err(format!(
                    "multipart/alternative dont la première partie est {} au lieu de text/plain",
                    types[0]
                ));
            }
            let plain = &parts[children[0] as usize];
            let second = &parts[children[1] as usize];
            let html = match (types[1].as_str(), &second.body) {
                ("text/html", _) => second,
                ("multipart/related", PartType::Multipart(inner))
                    if inner
                        .first()
                        .and_then(|&i| parts.get(i as usize))
                        .is_some_and(|p| content_type(p) == "text/html") =>
                {
                    &parts[inner[0] as usize]
                }
                _ => {
                    return Err(format!(
                        "multipart/alternative dont les parties sont {} au lieu de text/plain puis text/html",
                        types.join(", ")
                    ));
                }
            };
            let a = folded_words(&part_text(plain));
            let b = folded_words(&part_text(html));
            match first_difference(&a, &b) {
                None => Ok(format!(
                    "multipart/alternative text/plain puis text/html, même contenu ({} mots)",
                    a.len()
                )),
                Some(diff) => Err(format!(
                    "les parties text/plain et text/html n'ont pas le même contenu rédactionnel, {diff}"
                )),
            }
        }
        ("text/html", _) => Err(
            "corps en text/html seul : une version text/plain est exigée (multipart/alternative)"
                .into(),
        ),
        (other, _) => Err(format!(
            "le corps est {other} au lieu de text/plain ou multipart/alternative"
        )),
    }
}

/// Checks a message.
pub fn check(message: &Message<'_>, _context: &Context) -> Finding {
    match judge_body(message, 0, 0) {
        Ok(detail) => Finding::pass(ID, detail),
        Err(detail) => Finding::fail(ID, detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    fn f(raw: &str) -> Finding {
        check(
            &Message::parse(raw.as_bytes()).expect("parse"),
            &Context::default(),
        )
    }

    const ALT: &str = "Content-Type: multipart/alternative; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\nle résultat est normal.\r\n--B\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Bonjour,</p><p>le <b>r&eacute;sultat</b> est normal.</p>\r\n--B--\r\n";

    #[test]
    fn structures() {
        assert_eq!(f("Subject: x\r\n\r\nx").verdict, Verdict::Pass);
        assert_eq!(f(ALT).verdict, Verdict::Pass, "{}", f(ALT).detail);
        let mixed = format!(
            "Content-Type: multipart/mixed; boundary=M\r\n\r\n--M\r\n{ALT}\r\n--M\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--M--\r\n"
        );
        assert_eq!(f(&mixed).verdict, Verdict::Pass, "{}", f(&mixed).detail);
        let html_only = f("Content-Type: text/html; charset=utf-8\r\n\r\n<p>x</p>");
        assert!(html_only.detail.contains("text/html seul"));
        let reversed = ALT
            .replacen("text/plain", "text/TMP", 1)
            .replacen("text/html", "text/plain", 1)
            .replacen("text/TMP", "text/html", 1);
        assert!(
            f(&reversed)
                .detail
                .contains("première partie est text/html"),
            "{}",
            f(&reversed).detail
        );
        let different = ALT.replace("est normal.</p>", "est anormal.</p>");
        let d = f(&different);
        assert_eq!(d.verdict, Verdict::Fail);
        assert!(
            d.detail.contains("normal") && d.detail.contains("anormal"),
            "{}",
            d.detail
        );
        let three = ALT.replace(
            "--B--",
            "--B\r\nContent-Type: text/enriched\r\n\r\nx\r\n--B--",
        );
        assert!(
            f(&three).detail.contains("3 parties"),
            "{}",
            f(&three).detail
        );
    }
}
