//! SEARCH and UID SEARCH (RFC 3501 §6.4.4): every search key of IMAP4rev1.
//!
//! Flags, UIDs, sizes and arrival dates come from the store; header and body keys read the
//! message only when the criteria need it. Strings match case-insensitively as substrings, in
//! the raw header value and in its decoded form (encoded words, quoted-printable and base64
//! bodies), so a search for "Hôpital" finds `=?utf-8?q?H=C3=B4pital?=`.

use std::num::NonZeroU32;

use imap_types::core::{AString, Charset, Tag};
use imap_types::datetime::NaiveDate;
use imap_types::response::{Code, Data};
use imap_types::search::SearchKey;
use imap_types::sequence::SequenceSet;
use mail_parser::{Message, MessageParser, PartType};
use tokio::io::{AsyncRead, AsyncWrite};

use super::{Ranges, Session, State};
use crate::store::{Entry, Flag};

/// Charsets a SEARCH may name.
const CHARSETS: [&str; 2] = ["US-ASCII", "UTF-8"];

/// What one message offers to the criteria.
struct Candidate<'a> {
    entry: &'a Entry,
    seq: u32,
    /// The sequence sets of the criteria, resolved once for the whole mailbox.
    sets: &'a Sets,
    /// The message, when a criterion needs its content.
    content: Option<(&'a [u8], Option<Message<'a>>)>,
}

/// Where a set lives in the criteria: the criteria do not move during a search.
fn address(set: &SequenceSet) -> usize {
    std::ptr::from_ref(set) as usize
}

/// The ranges of every sequence set of a search, keyed by the set's address in the criteria.
#[derive(Debug, Default)]
struct Sets(std::collections::HashMap<usize, Ranges>);

impl Sets {
    /// Resolves every `SequenceSet` and `UID` key of `keys`, nested ones included.
    fn new(keys: &[SearchKey<'_>], largest_seq: u32, largest_uid: u32) -> Self {
        fn walk(key: &SearchKey<'_>, sets: &mut Sets, largest_seq: u32, largest_uid: u32) {
            match key {
                SearchKey::SequenceSet(set) => {
                    sets.0.insert(address(set), Ranges::new(set, largest_seq));
                }
                SearchKey::Uid(set) => {
                    sets.0.insert(address(set), Ranges::new(set, largest_uid));
                }
                SearchKey::And(keys) => {
                    for k in keys.as_ref() {
                        walk(k, sets, largest_seq, largest_uid);
                    }
                }
                SearchKey::Not(k) => walk(k, sets, largest_seq, largest_uid),
                SearchKey::Or(a, b) => {
                    walk(a, sets, largest_seq, largest_uid);
                    walk(b, sets, largest_seq, largest_uid);
                }
                _ => {}
            }
        }
        let mut sets = Sets::default();
        for key in keys {
            walk(key, &mut sets, largest_seq, largest_uid);
        }
        sets
    }

    fn get(&self, set: &SequenceSet) -> &Ranges {
        static NONE: Ranges = Ranges(Vec::new());
        self.0.get(&address(set)).unwrap_or(&NONE)
    }
}

fn text(s: &AString<'_>) -> String {
    let bytes: &[u8] = s.as_ref();
    String::from_utf8_lossy(bytes).to_lowercase()
}

fn date(d: &NaiveDate) -> time::Date {
    let d: &chrono::NaiveDate = d.as_ref();
    use chrono::Datelike;
    time::Date::from_calendar_date(
        d.year(),
        time::Month::try_from(u8::try_from(d.month()).unwrap_or(1)).unwrap_or(time::Month::January),
        u8::try_from(d.day()).unwrap_or(1),
    )
    .unwrap_or(time::Date::MIN)
}

/// Whether any key needs the message's bytes.
fn needs_content(key: &SearchKey<'_>) -> bool {
    match key {
        SearchKey::And(keys) => keys.as_ref().iter().any(needs_content),
        SearchKey::Not(k) => needs_content(k),
        SearchKey::Or(a, b) => needs_content(a) || needs_content(b),
        SearchKey::Bcc(_)
        | SearchKey::Body(_)
        | SearchKey::Cc(_)
        | SearchKey::From(_)
        | SearchKey::Header(..)
        | SearchKey::SentBefore(_)
        | SearchKey::SentOn(_)
        | SearchKey::SentSince(_)
        | SearchKey::Subject(_)
        | SearchKey::Text(_)
        | SearchKey::To(_) => true,
        _ => false,
    }
}

impl Candidate<'_> {
    fn flag(&self, flag: Flag) -> bool {
        self.entry.flags.contains(&flag)
    }

    fn message(&self) -> Option<(&[u8], &Message<'_>)> {
        match &self.content {
            Some((raw, Some(m))) => Some((raw, m)),
            _ => None,
        }
    }

    /// Whether a header field (any occurrence) contains `needle`, raw or decoded. An empty
    /// needle matches every message that has the field.
    fn header_contains(&self, name: &str, needle: &str) -> bool {
        let Some((raw, message)) = self.message() else {
            return false;
        };
        message
            .headers()
            .iter()
            .filter(|h| h.name.as_str().eq_ignore_ascii_case(name))
            .any(|h| {
                let start = (h.offset_start as usize).min(raw.len());
                let end = (h.offset_end as usize).clamp(start, raw.len());
                let raw_value = String::from_utf8_lossy(&raw[start..end]).to_lowercase();
                raw_value.contains(needle) || decoded(&h.value).to_lowercase().contains(needle)
            })
    }

    /// Whether the body (decoded text parts, or the raw bytes) contains `needle`.
    fn body_contains(&self, needle: &str) -> bool {
        let Some((raw, message)) = self.message() else {
            return false;
        };
        let decoded = message.parts.iter().any(|p| match &p.body {
            PartType::Text(t) | PartType::Html(t) => t.to_lowercase().contains(needle),
            _ => false,
        });
        decoded || {
            let start = message.parts.first().map_or(0, |p| p.offset_body as usize);
            String::from_utf8_lossy(raw.get(start..).unwrap_or_default())
                .to_lowercase()
                .contains(needle)
        }
    }

    fn sent_date(&self) -> Option<time::Date> {
        let (_, message) = self.message()?;
        let d = message.date()?;
        time::Date::from_calendar_date(
            i32::from(d.year),
            time::Month::try_from(d.month).ok()?,
            d.day,
        )
        .ok()
    }

    fn internal_date(&self) -> time::Date {
        self.entry
            .internal_date
            .to_offset(time::UtcOffset::UTC)
            .date()
    }

    fn matches(&self, key: &SearchKey<'_>) -> bool {
        match key {
            SearchKey::And(keys) => keys.as_ref().iter().all(|k| self.matches(k)),
            SearchKey::Not(k) => !self.matches(k),
            SearchKey::Or(a, b) => self.matches(a) || self.matches(b),
            SearchKey::All => true,
            SearchKey::SequenceSet(set) => self.sets.get(set).contains(self.seq),
            SearchKey::Uid(set) => self.sets.get(set).contains(self.entry.uid),
            SearchKey::Answered => self.flag(Flag::Answered),
            SearchKey::Deleted => self.flag(Flag::Deleted),
            SearchKey::Draft => self.flag(Flag::Draft),
            SearchKey::Flagged => self.flag(Flag::Flagged),
            SearchKey::Seen => self.flag(Flag::Seen),
            SearchKey::Unanswered => !self.flag(Flag::Answered),
            SearchKey::Undeleted => !self.flag(Flag::Deleted),
            SearchKey::Undraft => !self.flag(Flag::Draft),
            SearchKey::Unflagged => !self.flag(Flag::Flagged),
            SearchKey::Unseen => !self.flag(Flag::Seen),
            // No message is \Recent here (RFC 9051 dropped it), so none is NEW and all are OLD.
            SearchKey::Recent | SearchKey::New => false,
            SearchKey::Old => true,
            // Keywords cannot be stored.
            SearchKey::Keyword(_) => false,
            SearchKey::Unkeyword(_) => true,
            SearchKey::Larger(n) => self.entry.size > u64::from(*n),
            SearchKey::Smaller(n) => self.entry.size < u64::from(*n),
            SearchKey::Before(d) => self.internal_date() < date(d),
            SearchKey::On(d) => self.internal_date() == date(d),
            SearchKey::Since(d) => self.internal_date() >= date(d),
            SearchKey::SentBefore(d) => self.sent_date().is_some_and(|s| s < date(d)),
            SearchKey::SentOn(d) => self.sent_date().is_some_and(|s| s == date(d)),
            SearchKey::SentSince(d) => self.sent_date().is_some_and(|s| s >= date(d)),
            SearchKey::Bcc(s) => self.header_contains("Bcc", &text(s)),
            SearchKey::Cc(s) => self.header_contains("Cc", &text(s)),
            SearchKey::From(s) => self.header_contains("From", &text(s)),
            SearchKey::To(s) => self.header_contains("To", &text(s)),
            SearchKey::Subject(s) => self.header_contains("Subject", &text(s)),
            SearchKey::Header(name, s) => {
                let name: &[u8] = name.as_ref();
                self.header_contains(&String::from_utf8_lossy(name), &text(s))
            }
            SearchKey::Body(s) => self.body_contains(&text(s)),
            SearchKey::Text(s) => {
                let needle = text(s);
                let in_header = self.message().is_some_and(|(raw, m)| {
                    let end = m
                        .parts
                        .first()
                        .map_or(raw.len(), |p| p.offset_body as usize);
                    String::from_utf8_lossy(raw.get(..end).unwrap_or(raw))
                        .to_lowercase()
                        .contains(&needle)
                        || m.headers()
                            .iter()
                            .any(|h| decoded(&h.value).to_lowercase().contains(&needle))
                });
                in_header || self.body_contains(&needle)
            }
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }
}

/// A header value as text, decoded (addresses as "name <address>").
fn decoded(value: &mail_parser::HeaderValue<'_>) -> String {
    use mail_parser::{Address, HeaderValue};
    let addr = |a: &mail_parser::Addr<'_>| {
        format!(
            "{} <{}>",
            a.name.as_deref().unwrap_or_default(),
            a.address.as_deref().unwrap_or_default()
        )
    };
    match value {
        HeaderValue::Text(t) => t.to_string(),
        HeaderValue::TextList(l) => l.join(", "),
        HeaderValue::Address(Address::List(l)) => l.iter().map(addr).collect::<Vec<_>>().join(", "),
        HeaderValue::Address(Address::Group(groups)) => groups
            .iter()
            .flat_map(|g| g.addresses.iter().map(addr))
            .collect::<Vec<_>>()
            .join(", "),
        HeaderValue::ContentType(c) => {
            format!(
                "{}/{}",
                c.c_type,
                c.c_subtype.as_deref().unwrap_or_default()
            )
        }
        HeaderValue::DateTime(d) => d.to_rfc822(),
        _ => String::new(),
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<'_, S> {
    /// SEARCH / UID SEARCH: `* SEARCH` with sequence numbers or UIDs, ascending.
    pub(super) async fn search(
        &mut self,
        state: &mut State,
        tag: &Tag<'static>,
        charset: Option<Charset<'static>>,
        criteria: &imap_types::core::Vec1<SearchKey<'static>>,
        uid: bool,
    ) -> bool {
        if let Some(charset) = charset {
            let name = match &charset {
                Charset::Atom(a) => a.as_ref().to_owned(),
                Charset::Quoted(q) => q.as_ref().to_owned(),
            };
            if !CHARSETS.iter().any(|c| c.eq_ignore_ascii_case(&name)) {
                let code = Code::BadCharset {
                    allowed: CHARSETS
                        .iter()
                        .filter_map(|c| Charset::try_from(*c).ok())
                        .collect(),
                };
                return self.no(tag, Some(code), "Unsupported charset").await;
            }
        }
        let bal = state
            .auth
            .as_ref()
            .map(|a| a.bal.clone())
            .unwrap_or_default();
        let Some(selected) = state.selected.as_ref() else {
            return self.no(tag, None, "No mailbox selected").await;
        };
        let keys = criteria.as_ref();
        let read = keys.iter().any(needs_content);
        let largest_seq = u32::try_from(selected.snapshot.messages.len()).unwrap_or(u32::MAX);
        let largest_uid = selected.snapshot.messages.last().map_or(0, |m| m.uid);
        let sets = Sets::new(keys, largest_seq, largest_uid);
        let mut found = Vec::new();
        for (index, entry) in selected.snapshot.messages.iter().enumerate() {
            let seq = u32::try_from(index + 1).unwrap_or(u32::MAX);
            // Read where the message is now (another session may have renamed its file); one
            // removed meanwhile simply does not match.
            let bytes = if read {
                let path = self
                    .shared
                    .store
                    .entry(&bal, selected.mailbox, entry.uid)
                    .map_or_else(|| entry.path.clone(), |current| current.path.clone());
                tokio::fs::read(&path).await.ok()
            } else {
                None
            };
            let candidate = Candidate {
                entry,
                seq,
                sets: &sets,
                content: bytes
                    .as_deref()
                    .map(|b| (b, MessageParser::default().parse(b))),
            };
            if keys.iter().all(|k| candidate.matches(k)) {
                found.push(if uid { entry.uid } else { seq });
            }
        }
        let found: Vec<NonZeroU32> = found.into_iter().filter_map(NonZeroU32::new).collect();
        self.data(Data::Search(found)).await && self.ok(tag, None, "SEARCH completed").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_codec::CommandCodec;
    use imap_codec::decode::Decoder;
    use imap_types::command::CommandBody;
    use std::collections::BTreeSet;
    use time::OffsetDateTime;

    const MESSAGE: &[u8] = b"From: =?utf-8?q?H=C3=B4pital_A?= <secretariat@hopital.mssante.fr>\r\nTo: dr.martin@test.mssante.fr\r\nSubject: Compte rendu\r\nDate: Tue, 3 Nov 2026 10:00:00 +0100\r\nX-MSS-NIL: 1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nR=C3=A9sultats normaux\r\n";

    fn keys(criteria: &str) -> Vec<SearchKey<'static>> {
        let line = format!("a SEARCH {criteria}\r\n");
        let (_, command) = CommandCodec::default()
            .decode(line.as_bytes())
            .unwrap_or_else(|e| panic!("{criteria}: {e:?}"));
        match command.body {
            CommandBody::Search { criteria, .. } => {
                use imap_types::IntoStatic;
                criteria.into_static().into_iter().collect()
            }
            other => panic!("{other:?}"),
        }
    }

    fn matches(criteria: &str, flags: &[Flag]) -> bool {
        let entry = Entry {
            uid: 7,
            path: "unused".into(),
            size: MESSAGE.len() as u64,
            flags: flags.iter().copied().collect::<BTreeSet<_>>(),
            internal_date: OffsetDateTime::from_unix_timestamp(1_794_000_000).expect("date"),
            header: Default::default(),
        };
        let keys = keys(criteria);
        let sets = Sets::new(&keys, 3, 9);
        let candidate = Candidate {
            entry: &entry,
            seq: 2,
            sets: &sets,
            content: Some((MESSAGE, MessageParser::default().parse(MESSAGE))),
        };
        keys.iter().all(|k| candidate.matches(k))
    }

    #[test]
    fn every_kind_of_key() {
        for yes in [
            "ALL",
            "UNSEEN",
            "SEEN FLAGGED",
            "2",
            "1:*",
            "UID 7",
            "UID 5:*",
            "FROM secretariat",
            "CHARSET UTF-8 FROM {8}\r\nhôpital",
            "TO DR.MARTIN",
            "SUBJECT rendu",
            "HEADER X-MSS-NIL \"\"",
            "HEADER X-MSS-NIL 1",
            "CHARSET UTF-8 BODY {10}\r\nrésultats",
            "TEXT compte",
            "TEXT normaux",
            "SENTON 3-Nov-2026",
            "SENTSINCE 1-Nov-2026",
            "SENTBEFORE 4-Nov-2026",
            "LARGER 10 SMALLER 100000",
            "NOT DELETED",
            "OR DELETED FLAGGED",
            "OLD UNKEYWORD $Forwarded",
            "SINCE 1-Jan-2020",
        ] {
            assert!(
                matches(yes, &[Flag::Seen, Flag::Flagged]) || yes == "UNSEEN",
                "{yes}"
            );
        }
        assert!(matches("UNSEEN", &[]));
        for no in [
            "UNSEEN",
            "DELETED",
            "3",
            "UID 1:6",
            "FROM nobody",
            "HEADER X-MSS-MES \"\"",
            "BODY absent",
            "SENTBEFORE 3-Nov-2026",
            "SMALLER 10",
            "NOT SEEN",
            "NEW",
            "RECENT",
            "KEYWORD $Forwarded",
            "BEFORE 1-Jan-2020",
        ] {
            assert!(!matches(no, &[Flag::Seen, Flag::Flagged]), "{no}");
        }
    }
}
