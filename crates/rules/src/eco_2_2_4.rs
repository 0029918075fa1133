//! ECO.2.2.4 — « Le corps du courriel indiqué dans entête Content-Type du courriel, doit être :
//! soit text/plain, [...] soit multipart/alternative avec 2 parties identiques en termes de
//! contenu rédactionnel : la première en text/plain, la seconde en text/html. »
//!
//! Reading: the body is the top-level part or, when files are attached (`multipart/mixed`), its
//! first part. A `multipart/related` (HTML with its inline images) may wrap the body, at the top
//! level or as the first part of the `multipart/mixed`: its root (the part its `start` parameter
//! names, else its first part) is then judged. A `multipart/alternative` has exactly two parts,
//! `text/plain` then `text/html` (the HTML may sit in a `multipart/related` with its inline
//! images). "Identical editorial content": the plain part and the HTML part's text (markup
//! removed, block elements such as paragraphs, list items and table cells separating words,
//! entities decoded) have the same words, counted as a multiset (their order and layout are
//! free), compared case- and accent-insensitively, once links (`http://`, `https://`,
//! `mailto:`, `www.`, with their angle brackets) and list markers at the start of a line
//! (`1.`, `1)`, `-`, `*`, `•`) are left out of both: a client writes them differently in each
//! version.

use std::collections::BTreeMap;

use mail_parser::{MessagePart, MimeHeaders, PartType};

use crate::{Context, Finding, Message, content_type, text};

/// Requirement ID.
pub const ID: &str = "ECO.2.2.4";

/// Most words shown on each side of a difference.
const SHOWN: usize = 5;

/// HTML elements that separate words (block elements and line breaks: the text extraction only
/// breaks a line at a bare `<br>`, not at `<br class="…">`).
const BLOCK_TAGS: [&str; 19] = [
    "li",
    "td",
    "th",
    "tr",
    "div",
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "table",
    "blockquote",
    "br",
    "dd",
    "dt",
];

/// The tag name at the start of `rest` (just after a `<`, optional `/` skipped), lower case.
fn tag_name(rest: &str) -> String {
    rest.strip_prefix('/')
        .unwrap_or(rest)
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The HTML with a line break (`<br>`) before every block element's opening or closing tag, so
/// that the text extraction (which only breaks lines at `<br>` and `</p>`) does not glue
/// `<li>un</li><li>deux</li>` into one word and list items start lines.
fn separate_blocks(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + html.len() / 8);
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        let (before, tag) = rest.split_at(i);
        out.push_str(before);
        let name = tag_name(&tag[1..]);
        if BLOCK_TAGS.contains(&name.as_str()) {
            out.push_str("<br>");
        }
        out.push('<');
        rest = &tag[1..];
    }
    out.push_str(rest);
    out
}

fn part_text(part: &MessagePart<'_>) -> String {
    match &part.body {
        PartType::Text(t) => t.to_string(),
        PartType::Html(h) => mail_parser::decoders::html::html_to_text(&separate_blocks(h)),
        _ => String::new(),
    }
}

/// Where a link starts in a white-space-free token (at its start or after a non-alphanumeric
/// character such as `<` or `(`), if it holds one.
fn link_start(token: &str) -> Option<usize> {
    let lower = token.to_ascii_lowercase();
    ["https://", "http://", "mailto:", "www."]
        .iter()
        .filter_map(|prefix| {
            lower.match_indices(prefix).map(|(i, _)| i).find(|&i| {
                lower[..i]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric())
            })
        })
        .min()
}

/// A line without its list marker (`1.`, `1)`, `-`, `*`, `•` followed by white space).
fn without_list_marker(line: &str) -> &str {
    let line = line.trim_start();
    let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let after = if digits > 0 {
        line[digits..]
            .strip_prefix('.')
            .or_else(|| line[digits..].strip_prefix(')'))
    } else {
        line.strip_prefix(['-', '*', '•'])
    };
    match after {
        Some(after) if after.is_empty() || after.starts_with(char::is_whitespace) => after,
        _ => line,
    }
}

/// The text without links and list markers, each line kept.
fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.lines() {
        for token in without_list_marker(line).split_whitespace() {
            let kept = match link_start(token) {
                Some(i) => token[..i].trim_end_matches(['<', '(']),
                None => token,
            };
            out.push_str(kept);
            out.push(' ');
        }
        out.push('\n');
    }
    out
}

fn folded_words(s: &str) -> Vec<String> {
    text::words(&text::strip_diacritics(&normalise(s)))
}

/// How many times each word occurs.
fn counts(words: &[String]) -> BTreeMap<&str, usize> {
    let mut counts = BTreeMap::new();
    for w in words {
        *counts.entry(w.as_str()).or_insert(0) += 1;
    }
    counts
}

/// The words `a` has more often than `b`, in alphabetical order.
fn surplus<'w>(a: &BTreeMap<&'w str, usize>, b: &BTreeMap<&'w str, usize>) -> Vec<&'w str> {
    a.iter()
        .filter(|(w, n)| b.get(*w).copied().unwrap_or(0) < **n)
        .map(|(w, _)| *w)
        .collect()
}

/// Up to [`SHOWN`] words, quoted, with how many more there are.
fn show(words: &[&str]) -> String {
    let mut shown = words
        .iter()
        .take(SHOWN)
        .map(|w| text::quote(w))
        .collect::<Vec<_>>()
        .join(", ");
    if words.len() > SHOWN {
        shown.push_str(&format!(" et {} autre(s)", words.len() - SHOWN));
    }
    shown
}

/// The difference between two texts' words, counted as multisets.
fn word_difference(plain: &[String], html: &[String]) -> Option<String> {
    let (p, h) = (counts(plain), counts(html));
    let only_plain = surplus(&p, &h);
    let only_html = surplus(&h, &p);
    let mut sides = Vec::new();
    if !only_plain.is_empty() {
        sides.push(format!(
            "mots seulement dans le texte : {}",
            show(&only_plain)
        ));
    }
    if !only_html.is_empty() {
        sides.push(format!(
            "mots seulement dans le HTML : {}",
            show(&only_html)
        ));
    }
    (!sides.is_empty()).then(|| sides.join(" ; "))
}

/// The root of a `multipart/related`: the child its `start` parameter names (by Content-ID),
/// else its first child.
fn related_root(message: &Message<'_>, part: &MessagePart<'_>, children: &[u32]) -> Option<usize> {
    let parts = &message.parsed().parts;
    let bare = |id: &str| {
        id.trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_owned()
    };
    let start = part
        .content_type()
        .and_then(|ct| ct.attribute("start"))
        .map(bare);
    let named = start.and_then(|start| {
        children.iter().find(|&&c| {
            parts
                .get(c as usize)
                .and_then(|p| p.content_id())
                .is_some_and(|id| bare(id) == start)
        })
    });
    named.or(children.first()).map(|&c| c as usize)
}

/// Where the body sits: which containers may still wrap it.
#[derive(Debug, Clone, Copy)]
struct Allowed {
    /// A `multipart/mixed` (top level only).
    mixed: bool,
    /// A `multipart/related` (top level or first part of the mixed, not nested).
    related: bool,
}

fn judge_body(message: &Message<'_>, index: usize, allowed: Allowed) -> Result<String, String> {
    let parts = &message.parsed().parts;
    let Some(part) = parts.get(index) else {
        return Err("corps introuvable".into());
    };
    let ct = content_type(part);
    match (ct.as_str(), &part.body) {
        ("text/plain", _) => Ok("corps text/plain".into()),
        ("multipart/mixed", PartType::Multipart(children)) if allowed.mixed => {
            let Some(&first) = children.first() else {
                return Err("multipart/mixed vide".into());
            };
            let inner = Allowed {
                mixed: false,
                related: true,
            };
            judge_body(message, first as usize, inner)
                .map(|ok| format!("{ok} (première partie du multipart/mixed)"))
        }
        ("multipart/related", PartType::Multipart(children)) if allowed.related => {
            let Some(root) = related_root(message, part, children) else {
                return Err("multipart/related vide".into());
            };
            let inner = Allowed {
                mixed: false,
                related: false,
            };
            judge_body(message, root, inner).map(|ok| format!("{ok} (racine du multipart/related)"))
        }
        ("multipart/alternative", PartType::Multipart(children)) => {
            let types: Vec<String> = children
                .iter()
                .filter_map(|&c| parts.get(c as usize))
                .map(content_type)
                .collect();
            if children.len() != 2 || types.len() != 2 {
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
            let (Some(plain), Some(second)) = (
                parts.get(children[0] as usize),
                parts.get(children[1] as usize),
            ) else {
                return Err("multipart/alternative illisible".into());
            };
            let html = match (types[1].as_str(), &second.body) {
                ("text/html", _) => Some(second),
                ("multipart/related", PartType::Multipart(inner)) => {
                    related_root(message, second, inner)
                        .and_then(|i| parts.get(i))
                        .filter(|p| content_type(p) == "text/html")
                }
                _ => None,
            };
            let Some(html) = html else {
                return Err(format!(
                    "multipart/alternative dont les parties sont {} au lieu de text/plain puis text/html",
                    types.join(", ")
                ));
            };
            let a = folded_words(&part_text(plain));
            let b = folded_words(&part_text(html));
            match word_difference(&a, &b) {
                None => Ok(format!(
                    "multipart/alternative text/plain puis text/html, même contenu ({} mots)",
                    a.len()
                )),
                Some(diff) => Err(format!(
                    "les parties text/plain et text/html n'ont pas le même contenu rédactionnel ({diff})"
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
    let top = Allowed {
        mixed: true,
        related: true,
    };
    match judge_body(message, 0, top) {
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

    fn alternative(plain: &str, html: &str) -> String {
        format!(
            "Content-Type: multipart/alternative; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{plain}\r\n--B\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--B--\r\n"
        )
    }

    #[test]
    fn words_are_a_multiset() {
        let moved = alternative(
            "Le résultat est normal.\r\nBonjour,",
            "<p>Bonjour,</p><p>le r&eacute;sultat est normal.</p>",
        );
        assert_eq!(f(&moved).verdict, Verdict::Pass, "{}", f(&moved).detail);
        let extra = alternative(
            "Bonjour,\r\nle résultat est normal, vraiment.",
            "<p>Bonjour,</p><p>le r&eacute;sultat est normal.</p>",
        );
        let e = f(&extra);
        assert_eq!(e.verdict, Verdict::Fail);
        assert!(
            e.detail.contains("seulement dans le texte : « vraiment »")
                && !e.detail.contains("seulement dans le HTML"),
            "{}",
            e.detail
        );
        // A repeated word counts twice.
        let twice = alternative("oui oui", "<p>oui</p>");
        assert_eq!(f(&twice).verdict, Verdict::Fail, "{}", f(&twice).detail);
    }

    #[test]
    fn at_most_five_words_shown_each_side() {
        let many = alternative("a b c d e f g", "<p>h</p>");
        let d = f(&many).detail;
        assert!(
            d.contains("« e »") && !d.contains("« f »") && d.contains("et 2 autre(s)"),
            "{d}"
        );
        assert!(d.contains("seulement dans le HTML : « h »"), "{d}");
    }

    #[test]
    fn block_elements_separate_words() {
        let list = alternative(
            "Examens :\r\n1. glycémie\r\n2) créatinine\r\n- ionogramme\r\n* NFS\r\n• TSH",
            "<p>Examens :</p><ol><li>glyc&eacute;mie</li><li>cr&eacute;atinine</li></ol><ul><li>ionogramme</li><li>NFS</li><li>TSH</li></ul>",
        );
        assert_eq!(f(&list).verdict, Verdict::Pass, "{}", f(&list).detail);
        let table = alternative(
            "un deux\r\ntrois",
            "<table><tr><td>un</td><td>deux</td></tr><tr><th>trois</th></tr></table>",
        );
        assert_eq!(f(&table).verdict, Verdict::Pass, "{}", f(&table).detail);
        let glued = alternative("undeux", "<div>un</div><div>deux</div>");
        assert_eq!(f(&glued).verdict, Verdict::Fail, "{}", f(&glued).detail);
        // Numbers that are not list markers still count.
        let dose = alternative("1.5 mg", "<p>mg</p>");
        assert_eq!(f(&dose).verdict, Verdict::Fail, "{}", f(&dose).detail);
    }

    #[test]
    fn links_are_left_out() {
        let links = alternative(
            "Voir le compte rendu <https://exemple.fr/cr?id=1> ou www.exemple.fr,\r\nécrire à mailto:secretariat@exemple.fr",
            "<p>Voir le <a href=\"https://exemple.fr/cr?id=1\">compte rendu</a> ou <a href=\"http://www.exemple.fr\">ici</a>,</p><p>&eacute;crire &agrave; <a href=\"mailto:secretariat@exemple.fr\">Secrétariat</a></p>",
        );
        let d = f(&links);
        assert_eq!(d.verdict, Verdict::Fail);
        assert!(
            d.detail
                .contains("seulement dans le HTML : « ici », « secretariat »")
                && !d.detail.contains("https")
                && !d.detail.contains("seulement dans le texte"),
            "{}",
            d.detail
        );
        let same = alternative(
            "Résultats : https://exemple.fr/r",
            "<p>R&eacute;sultats : <a href=\"https://exemple.fr/r\">https://exemple.fr/r</a></p>",
        );
        assert_eq!(f(&same).verdict, Verdict::Pass, "{}", f(&same).detail);
    }

    const IMAGE: &str = "--R\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--R--\r\n";

    #[test]
    fn related_wraps_the_body() {
        let top =
            format!("Content-Type: multipart/related; boundary=R\r\n\r\n--R\r\n{ALT}\r\n{IMAGE}");
        assert_eq!(f(&top).verdict, Verdict::Pass, "{}", f(&top).detail);
        let mixed = format!(
            "Content-Type: multipart/mixed; boundary=M\r\n\r\n--M\r\nContent-Type: multipart/related; boundary=R\r\n\r\n--R\r\n{ALT}\r\n{IMAGE}\r\n--M\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--M--\r\n"
        );
        assert_eq!(f(&mixed).verdict, Verdict::Pass, "{}", f(&mixed).detail);
        // The root named by `start`, not the first part.
        let started = format!(
            "Content-Type: multipart/related; boundary=R; start=\"<corps@x>\"\r\n\r\n--R\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\n\r\npng\r\n--R\r\nContent-ID: <corps@x>\r\n{ALT}\r\n--R--\r\n"
        );
        assert_eq!(f(&started).verdict, Verdict::Pass, "{}", f(&started).detail);
        // HTML alone with its images.
        let html_only = f(&format!(
            "Content-Type: multipart/related; boundary=R\r\n\r\n--R\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>x <img src=\"cid:logo@x\"></p>\r\n{IMAGE}"
        ));
        assert_eq!(html_only.verdict, Verdict::Fail);
        assert!(
            html_only.detail.contains("text/html seul"),
            "{}",
            html_only.detail
        );
        // Nested related is not a body.
        let nested =
            format!("Content-Type: multipart/related; boundary=S\r\n\r\n--S\r\n{top}\r\n--S--\r\n");
        assert_eq!(f(&nested).verdict, Verdict::Fail, "{}", f(&nested).detail);
    }
}
