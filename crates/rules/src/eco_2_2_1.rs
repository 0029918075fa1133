//! ECO.2.2.1 — « Le système DOIT renseigner l'entête « Message-ID » conformément à la RFC 5322
//! dans tout nouveau courriel produit. »
//!
//! Reading: exactly one `Message-ID` header whose value is an RFC 5322 `msg-id`
//! (`"<" id-left "@" id-right ">"`, id-left a dot-atom-text, id-right a dot-atom-text or a
//! no-fold-literal), and — since the identifier is what conversations are threaded on — not
//! already used by another message of the same run.

use crate::{Context, Finding, Message};

/// Requirement ID.
pub const ID: &str = "ECO.2.2.1";

fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

fn is_dot_atom_text(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|part| !part.is_empty() && part.chars().all(is_atext))
}

fn is_no_fold_literal(s: &str) -> bool {
    s.strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .is_some_and(|inner| {
            inner
                .chars()
                .all(|c| c.is_ascii_graphic() && !matches!(c, '[' | ']' | '\\'))
        })
}

/// The value without the CFWS (white space and comments, RFC 5322 §3.2.2) around it.
fn strip_cfws(value: &str) -> &str {
    let mut v = value.trim();
    loop {
        if let Some(rest) = v.strip_prefix('(') {
            match comment_end(rest) {
                Some(end) => v = rest[end..].trim_start(),
                None => return v,
            }
        } else if v.ends_with(')') {
            match trailing_comment_start(v) {
                Some(start) => v = v[..start].trim_end(),
                None => return v,
            }
        } else {
            return v;
        }
    }
}

/// After an opening parenthesis: the index just past the matching closing one.
fn comment_end(rest: &str) -> Option<usize> {
    let mut depth = 1;
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// For a value ending with `)`: where the comment that closes it starts.
fn trailing_comment_start(v: &str) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in v.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether a header value is one RFC 5322 msg-id (white space and comments around it
/// allowed, as `[CFWS]` in the grammar).
pub fn is_msg_id(value: &str) -> bool {
    let Some(inner) = strip_cfws(value)
        .strip_prefix('<')
        .and_then(|v| v.strip_suffix('>'))
    else {
        return false;
    };
    let Some((left, right)) = inner.rsplit_once('@') else {
        return false;
    };
    is_dot_atom_text(left) && (is_dot_atom_text(right) || is_no_fold_literal(right))
}

/// Checks a message.
pub fn check(message: &Message<'_>, context: &Context) -> Finding {
    let values = message.header_values("Message-ID");
    match values.as_slice() {
        [] => Finding::fail(ID, "l'entête Message-ID est absent"),
        [value] if !is_msg_id(value) => Finding::fail(
            ID,
            format!(
                "Message-ID vaut « {value} », ce qui n'est pas un msg-id RFC 5322 (<gauche@droite>)"
            ),
        ),
        [value] => {
            let id = strip_cfws(value)
                .trim_start_matches('<')
                .trim_end_matches('>');
            match context.seen_message_ids.get(id) {
                Some(other) => Finding::fail(
                    ID,
                    format!("Message-ID « {value} » déjà utilisé par un autre message ({other})"),
                ),
                None => Finding::pass(
                    ID,
                    format!(
                        "Message-ID « {value} » conforme, unique parmi les messages jugés ensemble"
                    ),
                ),
            }
        }
        many => Finding::fail(
            ID,
            format!("{} entêtes Message-ID au lieu d'un seul", many.len()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    fn verdict(raw: &str, ctx: &Context) -> Verdict {
        check(&Message::parse(raw.as_bytes()).expect("parse"), ctx).verdict
    }

    #[test]
    fn msg_id_syntax() {
        for ok in [
            "<a@b>",
            " <a.b-c@d.e> ",
            "<x@[127.0.0.1]>",
            "<1$x@host.fr>",
            "<a@b> (envoyé par le LPS)",
            "(commentaire (imbriqué)) <a@b>",
        ] {
            assert!(is_msg_id(ok), "{ok}");
        }
        for bad in [
            "a@b",
            "<a>",
            "<@b>",
            "<a@>",
            "<a..b@c>",
            "<a b@c>",
            "<a@b",
            "<a@[x\\]>",
            "<a@b> (non fermé",
            "(x) a@b",
        ] {
            assert!(!is_msg_id(bad), "{bad}");
        }
    }

    #[test]
    fn findings() {
        let ctx = Context::default();
        assert_eq!(
            verdict("Message-ID: <a@b.fr>\r\n\r\nx", &ctx),
            Verdict::Pass
        );
        assert_eq!(verdict("Subject: x\r\n\r\nx", &ctx), Verdict::Fail);
        assert_eq!(verdict("Message-ID: a@b.fr\r\n\r\nx", &ctx), Verdict::Fail);
        assert_eq!(
            verdict("Message-ID: <a@b>\r\nMessage-ID: <c@d>\r\n\r\nx", &ctx),
            Verdict::Fail
        );
        let mut seen = Context::default();
        seen.seen_message_ids
            .insert("a@b.fr".into(), "scénario 1".into());
        assert_eq!(
            verdict("Message-ID: <a@b.fr>\r\n\r\nx", &seen),
            Verdict::Fail
        );
    }
}
