//! FETCH: the message data items the operator serves, built from the stored message.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::num::NonZeroU32;

use imap_types::core::{IString, Literal, NString};
use imap_types::fetch::{MessageDataItem, MessageDataItemName, Section};
use imap_types::flag::{Flag as ImapFlag, FlagFetch};

use crate::store::{Entry, Flag};

pub(super) fn supported(name: &MessageDataItemName<'_>) -> bool {
    match name {
        MessageDataItemName::Uid
        | MessageDataItemName::Flags
        | MessageDataItemName::Rfc822Size
        | MessageDataItemName::InternalDate
        | MessageDataItemName::Rfc822
        | MessageDataItemName::Rfc822Header
        | MessageDataItemName::Rfc822Text => true,
        MessageDataItemName::BodyExt { section, .. } => matches!(
            section,
            None | Some(Section::Header(None))
                | Some(Section::Text(None))
                | Some(Section::HeaderFields(None, _))
                | Some(Section::HeaderFieldsNot(None, _))
        ),
        _ => false,
    }
}

pub(super) fn flags_of(flags: &BTreeSet<Flag>) -> Vec<FlagFetch<'static>> {
    flags
        .iter()
        .map(|f| {
            FlagFetch::Flag(match f {
                Flag::Draft => ImapFlag::Draft,
                Flag::Flagged => ImapFlag::Flagged,
                Flag::Answered => ImapFlag::Answered,
                Flag::Seen => ImapFlag::Seen,
                Flag::Deleted => ImapFlag::Deleted,
            })
        })
        .collect()
}

fn literal(bytes: &[u8]) -> NString<'static> {
    match Literal::try_from(bytes.to_vec()) {
        Ok(l) => NString(Some(IString::Literal(l))),
        // Bytes IMAP cannot carry in a literal (NUL): answer NIL rather than break the stream.
        Err(_) => NString(None),
    }
}

fn split_header(content: &[u8]) -> (&[u8], &[u8]) {
    match content.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => content.split_at(i + 4),
        None => match content.windows(2).position(|w| w == b"\n\n") {
            Some(i) => content.split_at(i + 2),
            None => (content, &[]),
        },
    }
}

/// Header fields (with their continuation lines) whose name is, or is not, in `names`.
fn header_fields(header: &[u8], names: &[String], keep: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut keeping = false;
    for line in header.split_inclusive(|&b| b == b'\n') {
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        if !line.starts_with(b" ") && !line.starts_with(b"\t") {
            let name = line
                .split(|&b| b == b':')
                .next()
                .map(|n| String::from_utf8_lossy(n).trim().to_ascii_lowercase())
                .unwrap_or_default();
            keeping = names.contains(&name) == keep;
        }
        if keeping {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// One FETCH item: the data, a label for the journal, and whether it carried body content.
pub(super) fn fetch_item(
    name: &MessageDataItemName<'static>,
    entry: &Entry,
    content: &[u8],
) -> Option<(MessageDataItem<'static>, String, bool)> {
    let size = u32::try_from(content.len()).unwrap_or(u32::MAX);
    Some(match name {
        MessageDataItemName::Uid => (
            MessageDataItem::Uid(NonZeroU32::new(entry.uid)?),
            format!("UID {}", entry.uid),
            false,
        ),
        MessageDataItemName::Flags => (
            MessageDataItem::Flags(flags_of(&entry.flags)),
            "FLAGS".into(),
            false,
        ),
        MessageDataItemName::Rfc822Size => (
            MessageDataItem::Rfc822Size(size),
            format!("RFC822.SIZE {size}"),
            false,
        ),
        MessageDataItemName::InternalDate => {
            let t = chrono::DateTime::from_timestamp(entry.internal_date.unix_timestamp(), 0)?;
            let date = imap_types::datetime::DateTime::try_from(t.fixed_offset()).ok()?;
            (
                MessageDataItem::InternalDate(date),
                "INTERNALDATE".into(),
                false,
            )
        }
        MessageDataItemName::Rfc822 => (
            MessageDataItem::Rfc822(literal(content)),
            format!("RFC822 {{{size}}}"),
            true,
        ),
        MessageDataItemName::Rfc822Header => {
            let (h, _) = split_header(content);
            (
                MessageDataItem::Rfc822Header(literal(h)),
                format!("RFC822.HEADER {{{}}}", h.len()),
                false,
            )
        }
        MessageDataItemName::Rfc822Text => {
            let (_, t) = split_header(content);
            (
                MessageDataItem::Rfc822Text(literal(t)),
                format!("RFC822.TEXT {{{}}}", t.len()),
                true,
            )
        }
        MessageDataItemName::BodyExt {
            section, partial, ..
        } => {
            let (header, text) = split_header(content);
            let (bytes, label, is_body): (Cow<'_, [u8]>, &str, bool) = match section {
                None => (Cow::Borrowed(content), "", true),
                Some(Section::Header(None)) => (Cow::Borrowed(header), "HEADER", false),
                Some(Section::Text(None)) => (Cow::Borrowed(text), "TEXT", true),
                Some(Section::HeaderFields(None, fields)) => {
                    let names: Vec<String> = fields
                        .as_ref()
                        .iter()
                        .map(|f| String::from_utf8_lossy(f.as_ref()).to_ascii_lowercase())
                        .collect();
                    (
                        Cow::Owned(header_fields(header, &names, true)),
                        "HEADER.FIELDS",
                        false,
                    )
                }
                Some(Section::HeaderFieldsNot(None, fields)) => {
                    let names: Vec<String> = fields
                        .as_ref()
                        .iter()
                        .map(|f| String::from_utf8_lossy(f.as_ref()).to_ascii_lowercase())
                        .collect();
                    (
                        Cow::Owned(header_fields(header, &names, false)),
                        "HEADER.FIELDS.NOT",
                        false,
                    )
                }
                _ => return None,
            };
            let (origin, slice) = match partial {
                Some((start, len)) => {
                    let start = (*start as usize).min(bytes.len());
                    let end = start.saturating_add(len.get() as usize).min(bytes.len());
                    (Some(start as u32), &bytes[start..end])
                }
                None => (None, &bytes[..]),
            };
            (
                MessageDataItem::BodyExt {
                    section: section.clone(),
                    origin,
                    data: literal(slice),
                },
                format!("BODY[{label}] {{{}}}", slice.len()),
                is_body,
            )
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_field_selection() {
        let h = b"From: a\r\nSubject: x\r\n y\r\nTo: b\r\n\r\n";
        assert_eq!(
            header_fields(h, &["subject".into()], true),
            b"Subject: x\r\n y\r\n\r\n"
        );
        assert_eq!(
            header_fields(h, &["subject".into()], false),
            b"From: a\r\nTo: b\r\n\r\n"
        );
    }
}
