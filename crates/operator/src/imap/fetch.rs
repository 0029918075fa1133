//! FETCH: the message data items the operator serves, built from the stored message (MIME
//! structure and sections in `mime.rs`). A body item without `.PEEK` sets `\\Seen` (unless the
//! mailbox was EXAMINEd), and the FETCH response then carries the new FLAGS.

use std::collections::BTreeSet;
use std::num::NonZeroU32;
use std::sync::Arc;

use imap_types::IntoStatic;
use imap_types::core::{IString, Literal, NString, Tag, Vec1};
use imap_types::fetch::{
    MacroOrMessageDataItemNames, MessageDataItem, MessageDataItemName, Section,
};
use imap_types::flag::{Flag as ImapFlag, FlagFetch};
use imap_types::response::{Code, CodeOther, Data, Response};
use imap_types::sequence::SequenceSet;
use tokio::io::{AsyncRead, AsyncWrite};

use super::mailbox::flag_names;
use super::{Session, State, mime, resolve};
use crate::journal::EventKind;
use crate::store::{Entry, Flag, FlagUpdate};

/// Items not served (BINARY is not advertised).
fn supported(name: &MessageDataItemName<'_>) -> bool {
    !matches!(
        name,
        MessageDataItemName::Binary { .. } | MessageDataItemName::BinarySize { .. }
    )
}

/// Items whose answer carries message content, which (without `.PEEK`) marks it `\\Seen`.
fn sets_seen(name: &MessageDataItemName<'_>) -> bool {
    matches!(
        name,
        MessageDataItemName::BodyExt { peek: false, .. }
            | MessageDataItemName::Rfc822
            | MessageDataItemName::Rfc822Text
    )
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

/// Messages whose files are read in one trip to the blocking pool.
const FETCH_CHUNK: usize = 256;

/// How much of a message's file the requested items need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Need {
    /// UID, FLAGS, RFC822.SIZE and INTERNALDATE come from the store.
    Nothing,
    /// ENVELOPE and the top-level header sections: the header only.
    Header,
    /// Everything else: the whole message.
    Whole,
}

fn needs(name: &MessageDataItemName<'_>) -> Need {
    match name {
        MessageDataItemName::Uid
        | MessageDataItemName::Flags
        | MessageDataItemName::Rfc822Size
        | MessageDataItemName::InternalDate => Need::Nothing,
        MessageDataItemName::Envelope | MessageDataItemName::Rfc822Header => Need::Header,
        MessageDataItemName::BodyExt {
            section:
                Some(
                    Section::Header(None)
                    | Section::HeaderFields(None, _)
                    | Section::HeaderFieldsNot(None, _),
                ),
            partial: None,
            ..
        } => Need::Header,
        _ => Need::Whole,
    }
}

/// One message as FETCH needs it.
enum Loaded {
    Message {
        index: usize,
        entry: Arc<Entry>,
        content: Vec<u8>,
        newly_seen: bool,
        /// Its flags differ from what the session last told the client.
        flags_changed: bool,
    },
    /// Another session expunged it.
    Gone,
    Failed(std::io::Error),
}

/// Reads a message's header: up to and with the blank line (the whole file if it has none).
fn read_header(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut header = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let n = file.read(&mut chunk)?;
        if n == 0 {
            return Ok(header);
        }
        let from = header.len().saturating_sub(3);
        header.extend_from_slice(&chunk[..n]);
        if let Some(end) = header[from..]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| from + i + 4)
            .or_else(|| {
                let (h, b) = mime::split_header(&header);
                (!b.is_empty() || h.ends_with(b"\n\n")).then_some(h.len())
            })
        {
            header.truncate(end);
            return Ok(header);
        }
    }
}

/// Blocking part of FETCH for a chunk: reads what the items need (following a file another
/// session renamed, noticing one it removed) and sets `\Seen` where the items ask for it.
fn load(
    store: &crate::store::Store,
    bal: &str,
    mailbox: &str,
    entries: Vec<(usize, Arc<Entry>)>,
    need: Need,
    marks_seen: bool,
) -> Vec<Loaded> {
    let read = |entry: &Entry| match need {
        Need::Nothing => Ok(Vec::new()),
        Need::Header => match entry.header.get() {
            Some(header) => Ok(header.to_vec()),
            None => {
                let header = read_header(&entry.path)?;
                entry.header.keep(&header);
                Ok(header)
            }
        },
        Need::Whole => std::fs::read(&entry.path),
    };
    entries
        .into_iter()
        .map(|(index, seen_by_session)| {
            // The message as it is now: another session may have changed its flags (and so
            // renamed its file) or expunged it.
            let Some(mut entry) = store.entry(bal, mailbox, seen_by_session.uid) else {
                return Loaded::Gone;
            };
            let content = match read(&entry) {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Loaded::Gone,
                Err(e) => return Loaded::Failed(e),
            };
            let mut newly_seen = false;
            if marks_seen && !entry.flags.contains(&Flag::Seen) {
                let seen = FlagUpdate::Add(BTreeSet::from([Flag::Seen]));
                match store.set_flags(bal, mailbox, entry.uid, &seen) {
                    Ok(Some(updated)) => {
                        entry = updated;
                        newly_seen = true;
                    }
                    Ok(None) => return Loaded::Gone,
                    Err(e) => tracing::error!(error = %e, "cannot set \\Seen"),
                }
            }
            Loaded::Message {
                index,
                flags_changed: entry.flags != seen_by_session.flags,
                entry,
                content,
                newly_seen,
            }
        })
        .collect()
}

/// One FETCH item: the data, a label for the journal, and whether it carried body content.
pub(super) fn fetch_item(
    name: &MessageDataItemName<'static>,
    entry: &Entry,
    content: &[u8],
) -> Option<(MessageDataItem<'static>, String, bool)> {
    let size = u32::try_from(entry.size).unwrap_or(u32::MAX);
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
            let (h, _) = mime::split_header(content);
            (
                MessageDataItem::Rfc822Header(literal(h)),
                format!("RFC822.HEADER {{{}}}", h.len()),
                false,
            )
        }
        MessageDataItemName::Rfc822Text => {
            let (_, t) = mime::split_header(content);
            (
                MessageDataItem::Rfc822Text(literal(t)),
                format!("RFC822.TEXT {{{}}}", t.len()),
                true,
            )
        }
        MessageDataItemName::BodyExt {
            section, partial, ..
        } => {
            let bytes = mime::section(content, section.as_ref()).unwrap_or_default();
            let (label, is_body) = section_label(section.as_ref());
            let (origin, slice) = match partial {
                Some((origin, len)) => {
                    let start = (*origin as usize).min(bytes.len());
                    let end = start.saturating_add(len.get() as usize).min(bytes.len());
                    (Some(*origin), &bytes[start..end])
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
        MessageDataItemName::Envelope => (
            MessageDataItem::Envelope(mime::envelope(content)),
            "ENVELOPE".into(),
            false,
        ),
        MessageDataItemName::BodyStructure => (
            MessageDataItem::BodyStructure(mime::body_structure(content, true)),
            "BODYSTRUCTURE".into(),
            false,
        ),
        MessageDataItemName::Body => (
            MessageDataItem::Body(mime::body_structure(content, false)),
            "BODY".into(),
            false,
        ),
        _ => return None,
    })
}

/// How the journal names a section, and whether it is message content (not only headers).
fn section_label(section: Option<&Section<'_>>) -> (String, bool) {
    let part = |p: Option<&imap_types::fetch::Part>| {
        p.map(|p| {
            let n: Vec<String> = p.0.as_ref().iter().map(|n| n.to_string()).collect();
            format!("{}.", n.join("."))
        })
        .unwrap_or_default()
    };
    match section {
        None => (String::new(), true),
        Some(Section::Part(p)) => (part(Some(p)).trim_end_matches('.').to_owned(), true),
        Some(Section::Mime(p)) => (format!("{}MIME", part(Some(p))), false),
        Some(Section::Header(p)) => (format!("{}HEADER", part(p.as_ref())), false),
        Some(Section::HeaderFields(p, _)) => (format!("{}HEADER.FIELDS", part(p.as_ref())), false),
        Some(Section::HeaderFieldsNot(p, _)) => {
            (format!("{}HEADER.FIELDS.NOT", part(p.as_ref())), false)
        }
        Some(Section::Text(p)) => (format!("{}TEXT", part(p.as_ref())), true),
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<'_, S> {
    pub(super) async fn fetch(
        &mut self,
        state: &mut State,
        tag: &Tag<'static>,
        set: &SequenceSet,
        names: MacroOrMessageDataItemNames<'static>,
        uid: bool,
    ) -> bool {
        let Some(selected) = state.selected.as_mut() else {
            return self.no(tag, None, "No mailbox selected").await;
        };
        let mut names: Vec<MessageDataItemName<'static>> = match names {
            MacroOrMessageDataItemNames::Macro(m) => m
                .expand()
                .into_iter()
                .map(IntoStatic::into_static)
                .collect(),
            MacroOrMessageDataItemNames::MessageDataItemNames(names) => names,
        };
        if let Some(unsupported) = names.iter().find(|n| !supported(n)) {
            let text = format!("FETCH {unsupported:?} is not supported (BINARY is not advertised)");
            return self.bad(Some(tag), &text).await;
        }
        if uid && !names.contains(&MessageDataItemName::Uid) {
            names.insert(0, MessageDataItemName::Uid);
        }
        let targets = resolve(set, &selected.snapshot, uid);
        let Some(bal) = state.auth.as_ref().map(|a| a.bal.clone()) else {
            return self.no(tag, None, "Authenticate first").await;
        };
        let mailbox = selected.mailbox;
        let marks_seen = !selected.read_only && names.iter().any(sets_seen);
        let need = names.iter().map(needs).max().unwrap_or(Need::Nothing);
        let mut vanished = false;
        // File work (reads, \Seen renames) goes to the blocking pool a chunk at a time.
        for chunk in targets.chunks(FETCH_CHUNK) {
            let entries: Vec<(usize, Arc<Entry>)> = chunk
                .iter()
                .filter_map(|&i| {
                    let selected = state.selected.as_ref()?;
                    Some((i, selected.snapshot.messages.get(i)?.clone()))
                })
                .collect();
            let owner = bal.clone();
            let loaded = self
                .shared
                .store
                .blocking(move |s| Ok(load(s, &owner, mailbox, entries, need, marks_seen)))
                .await;
            let loaded = match loaded {
                Ok(l) => l,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read messages");
                    return self.no(tag, None, "Message unavailable").await;
                }
            };
            for item in loaded {
                let (index, entry, content, newly_seen, flags_changed) = match item {
                    Loaded::Gone => {
                        vanished = true;
                        continue;
                    }
                    Loaded::Failed(e) => {
                        tracing::error!(error = %e, "cannot read message");
                        return self.no(tag, None, "Message unavailable").await;
                    }
                    Loaded::Message {
                        index,
                        entry,
                        content,
                        newly_seen,
                        flags_changed,
                    } => (index, entry, content, newly_seen, flags_changed),
                };
                if newly_seen {
                    self.journal.record(EventKind::FlagsChanged {
                        bal: bal.clone(),
                        mailbox: mailbox.to_owned(),
                        uid: entry.uid,
                        flags: flag_names(&entry.flags),
                    });
                }
                let mut items = Vec::new();
                let mut shown = Vec::new();
                let mut body = false;
                for name in &names {
                    if let Some((item, label, is_body)) = fetch_item(name, &entry, &content) {
                        items.push(item);
                        shown.push(label);
                        body |= is_body;
                    }
                }
                // New flags (its own \\Seen, or another session's change) travel with the data.
                if flags_changed && !names.contains(&MessageDataItemName::Flags) {
                    items.push(MessageDataItem::Flags(flags_of(&entry.flags)));
                    shown.push("FLAGS".to_owned());
                }
                let seq = NonZeroU32::new(u32::try_from(index + 1).unwrap_or(u32::MAX))
                    .unwrap_or(NonZeroU32::MIN);
                // The ENVELOPE just built names it; otherwise the header is read for it.
                let from_envelope = items.iter().find_map(|item| match item {
                    MessageDataItem::Envelope(e) => Some(e.message_id.0.as_ref().map(|id| {
                        let id: &[u8] = id.as_ref();
                        evidence::strip_brackets(String::from_utf8_lossy(id).trim()).to_owned()
                    })),
                    _ => None,
                });
                let message_id = match from_envelope {
                    Some(id) => id,
                    None if need > Need::Nothing => {
                        crate::smtp::header_value(&content, "Message-ID")
                    }
                    None => None,
                };
                let uid = entry.uid;
                if let Some(slot) = state
                    .selected
                    .as_mut()
                    .and_then(|s| s.snapshot.messages.get_mut(index))
                    && slot.uid == uid
                {
                    *slot = entry;
                }
                let Ok(items) = Vec1::try_from(items) else {
                    continue;
                };
                let line = format!("* {seq} FETCH ({})", shown.join(" "));
                if !self
                    .write(&Response::Data(Data::Fetch { seq, items }), Some(line))
                    .await
                {
                    return false;
                }
                self.journal.record(EventKind::MessageFetched {
                    bal: bal.clone(),
                    mailbox: mailbox.to_owned(),
                    uid,
                    message_id,
                    body,
                });
            }
        }
        if vanished {
            // RFC 2180 §4.1.2: the others were sent; say that some are gone.
            let code = Code::Other(CodeOther::unvalidated(&b"EXPUNGEISSUED"[..]));
            return self
                .no(
                    tag,
                    Some(code),
                    "Some of the requested messages no longer exist",
                )
                .await;
        }
        self.ok(tag, None, "FETCH completed").await
    }
}
