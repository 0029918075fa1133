//! Mailbox-level IMAP commands: LIST/LSUB (with RFC 6154 special uses), STATUS,
//! SELECT/EXAMINE, APPEND, STORE, EXPUNGE (and UID EXPUNGE), CLOSE, COPY/MOVE (with UIDPLUS
//! codes), IDLE, ENABLE.
//!
//! Every BAL has the same four mailboxes (INBOX, Sent, Drafts, Trash); creating others is
//! refused.

use std::collections::BTreeSet;
use std::num::NonZeroU32;

use imap_codec::IdleDoneCodec;
use imap_types::core::{Atom, QuotedChar, Tag, Vec1};
use imap_types::extensions::binary::LiteralOrLiteral8;
use imap_types::extensions::uidplus::{UidElement, UidSet};
use imap_types::flag::{Flag as ImapFlag, FlagNameAttribute, FlagPerm, StoreResponse, StoreType};
use imap_types::mailbox::Mailbox;
use imap_types::response::{Code, CodeOther, CommandContinuationRequest, Data, Response, Status};
use imap_types::sequence::SequenceSet;
use imap_types::status::{StatusDataItem, StatusDataItemName};
use tokio::io::{AsyncRead, AsyncWrite};

use super::fetch::flags_of;
use super::{Message, Selected, Session, State, resolve};
use crate::journal::EventKind;
use crate::server::SessionEnd;
use crate::store::{self, Flag};

/// The name a client gave, as text.
pub(super) fn mailbox_text(mailbox: &Mailbox<'_>) -> String {
    match mailbox {
        Mailbox::Inbox => "INBOX".to_owned(),
        Mailbox::Other(other) => String::from_utf8_lossy(other.as_ref()).into_owned(),
    }
}

/// The mailbox the name designates, if it exists.
pub(super) fn existing(mailbox: &Mailbox<'_>) -> Option<&'static str> {
    store::mailbox_name(&mailbox_text(mailbox))
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

fn nonexistent() -> Code<'static> {
    Code::Other(CodeOther::unvalidated(&b"NONEXISTENT"[..]))
}

/// System flags of a command (keywords cannot be stored: they are dropped).
pub(super) fn store_flags(flags: &[ImapFlag<'_>]) -> BTreeSet<Flag> {
    flags
        .iter()
        .filter_map(|f| match f {
            ImapFlag::Answered => Some(Flag::Answered),
            ImapFlag::Deleted => Some(Flag::Deleted),
            ImapFlag::Draft => Some(Flag::Draft),
            ImapFlag::Flagged => Some(Flag::Flagged),
            ImapFlag::Seen => Some(Flag::Seen),
            _ => None,
        })
        .collect()
}

/// Whether a LIST pattern matches a mailbox name (`*` and `%` match anything: one level).
pub(super) fn matches(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*' | b'%'), _) => go(&p[1..], s) || (!s.is_empty() && go(p, &s[1..])),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => go(&p[1..], &s[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

fn uid_set(uids: &[u32]) -> Option<UidSet> {
    Vec1::try_from(
        uids.iter()
            .map(|u| UidElement::Single(nz(*u)))
            .collect::<Vec<_>>(),
    )
    .ok()
    .map(UidSet)
}

/// What a STORE asks: how to change the flags, which ones, and whether to answer with them.
pub(super) struct FlagChange<'a> {
    pub kind: StoreType,
    pub response: StoreResponse,
    pub flags: &'a [ImapFlag<'static>],
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<'_, S> {
    fn bal(&self, state: &State) -> String {
        state
            .auth
            .as_ref()
            .map(|a| a.bal.clone())
            .unwrap_or_default()
    }

    /// LIST, or LSUB (every mailbox is subscribed).
    pub(super) async fn list(&mut self, tag: &Tag<'static>, pattern: &str, lsub: bool) -> bool {
        let entry = |items: Vec<FlagNameAttribute<'static>>, mailbox: Mailbox<'static>| {
            let delimiter = Some(QuotedChar::unvalidated('/'));
            if lsub {
                Data::Lsub {
                    items,
                    delimiter,
                    mailbox,
                }
            } else {
                Data::List {
                    items,
                    delimiter,
                    mailbox,
                }
            }
        };
        let done = if lsub {
            "LSUB completed"
        } else {
            "LIST completed"
        };
        if pattern.is_empty() {
            // The hierarchy delimiter and root (RFC 3501 §6.3.8).
            let root = Mailbox::try_from("").unwrap_or(Mailbox::Inbox);
            return self
                .data(entry(vec![FlagNameAttribute::Noselect], root))
                .await
                && self.ok(tag, None, done).await;
        }
        for (name, special) in store::MAILBOXES {
            if !matches(pattern, name) {
                continue;
            }
            let mut items = vec![FlagNameAttribute::from(Atom::unvalidated("HasNoChildren"))];
            if let Some(special) = special
                && let Ok(atom) = Atom::try_from(special)
            {
                items.push(FlagNameAttribute::from(atom));
            }
            let Ok(mailbox) = Mailbox::try_from(name) else {
                continue;
            };
            if !self.data(entry(items, mailbox)).await {
                return false;
            }
        }
        self.ok(tag, None, done).await
    }

    pub(super) async fn status_cmd(
        &mut self,
        state: &State,
        tag: &Tag<'static>,
        mailbox: &Mailbox<'static>,
        names: &[StatusDataItemName],
    ) -> bool {
        let Some(name) = existing(mailbox) else {
            return self.no(tag, Some(nonexistent()), "No such mailbox").await;
        };
        let snapshot = match self.shared.store.snapshot(&self.bal(state), name) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot read mailbox");
                return self.no(tag, None, "Mailbox unavailable").await;
            }
        };
        let count = |f: &dyn Fn(&store::Entry) -> bool| {
            u32::try_from(snapshot.messages.iter().filter(|m| f(m)).count()).unwrap_or(u32::MAX)
        };
        let items: Vec<StatusDataItem> = names
            .iter()
            .filter_map(|n| match n {
                StatusDataItemName::Messages => Some(StatusDataItem::Messages(count(&|_| true))),
                StatusDataItemName::Recent => Some(StatusDataItem::Recent(0)),
                StatusDataItemName::UidNext => Some(StatusDataItem::UidNext(nz(snapshot.uid_next))),
                StatusDataItemName::UidValidity => {
                    Some(StatusDataItem::UidValidity(nz(snapshot.uid_validity)))
                }
                StatusDataItemName::Unseen => Some(StatusDataItem::Unseen(count(&|m| {
                    !m.flags.contains(&Flag::Seen)
                }))),
                _ => None,
            })
            .collect();
        self.data(Data::Status {
            mailbox: mailbox.clone(),
            items: items.into(),
        })
        .await
            && self.ok(tag, None, "STATUS completed").await
    }

    pub(super) async fn select(
        &mut self,
        state: &mut State,
        tag: &Tag<'static>,
        mailbox: &Mailbox<'static>,
        read_only: bool,
    ) -> bool {
        state.selected = None;
        let Some(name) = existing(mailbox) else {
            return self.no(tag, Some(nonexistent()), "No such mailbox").await;
        };
        let snapshot = match self.shared.store.snapshot(&self.bal(state), name) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot read mailbox");
                return self.no(tag, None, "Mailbox unavailable").await;
            }
        };
        let exists = u32::try_from(snapshot.messages.len()).unwrap_or(u32::MAX);
        let flags = vec![
            ImapFlag::Answered,
            ImapFlag::Flagged,
            ImapFlag::Deleted,
            ImapFlag::Seen,
            ImapFlag::Draft,
        ];
        let perm = flags.iter().cloned().map(FlagPerm::Flag).collect();
        let mut ok = self.data(Data::Flags(flags)).await
            && self.data(Data::Exists(exists)).await
            && self.data(Data::Recent(0)).await;
        for (code, text) in [
            (Code::PermanentFlags(perm), "Limited"),
            (Code::UidValidity(nz(snapshot.uid_validity)), "UIDs valid"),
            (Code::UidNext(nz(snapshot.uid_next)), "Predicted next UID"),
        ] {
            ok = ok && self.status(Status::ok(None, Some(code), text)).await;
        }
        state.selected = Some(Selected {
            mailbox: name,
            read_only,
            snapshot,
        });
        let (code, text) = if read_only {
            (Code::ReadOnly, "EXAMINE completed")
        } else {
            (Code::ReadWrite, "SELECT completed")
        };
        ok && self.ok(tag, Some(code), text).await
    }

    pub(super) async fn append(
        &mut self,
        state: &mut State,
        tag: &Tag<'static>,
        mailbox: &Mailbox<'static>,
        flags: &[ImapFlag<'static>],
        message: &LiteralOrLiteral8<'static>,
    ) -> bool {
        let Some(name) = existing(mailbox) else {
            let code = Code::Other(CodeOther::unvalidated(&b"TRYCREATE"[..]));
            return self.no(tag, Some(code), "No such mailbox").await;
        };
        let bytes: &[u8] = match message {
            LiteralOrLiteral8::Literal(l) => l.data(),
            LiteralOrLiteral8::Literal8(l) => &l.data,
        };
        match self
            .shared
            .store
            .append(&self.bal(state), name, &store_flags(flags), bytes)
        {
            Ok((uid_validity, uid)) => {
                self.journal.record(EventKind::MessageAppended {
                    bal: self.bal(state),
                    mailbox: name.to_owned(),
                    uid,
                    message_id: crate::smtp::header_value(bytes, "Message-ID"),
                });
                let code = Code::AppendUid {
                    uid_validity: nz(uid_validity),
                    uid: nz(uid),
                };
                let selected = state.selected.as_ref().is_some_and(|s| s.mailbox == name);
                (!selected || self.refresh(state, true).await)
                    && self.ok(tag, Some(code), "APPEND completed").await
            }
            Err(e) => {
                tracing::error!(error = %e, "append failed");
                self.no(tag, None, "Cannot store the message").await
            }
        }
    }

    pub(super) async fn store_cmd(
        &mut self,
        state: &mut State,
        tag: &Tag<'static>,
        set: &SequenceSet,
        uid: bool,
        change: FlagChange<'_>,
    ) -> bool {
        let FlagChange {
            kind,
            response,
            flags,
        } = change;
        let Some(selected) = state.selected.as_mut() else {
            return self.no(tag, None, "No mailbox selected").await;
        };
        if selected.read_only {
            return self.no(tag, None, "Mailbox is read-only").await;
        }
        let change = store_flags(flags);
        let bal = state
            .auth
            .as_ref()
            .map(|a| a.bal.clone())
            .unwrap_or_default();
        let mut answers = Vec::new();
        for index in resolve(set, &selected.snapshot, uid) {
            let Some(entry) = selected.snapshot.messages.get(index).cloned() else {
                continue;
            };
            let entry_flags = entry.flags.clone();
            let new: BTreeSet<Flag> = match kind {
                StoreType::Replace => change.clone(),
                StoreType::Add => entry.flags.union(&change).copied().collect(),
                StoreType::Remove => entry.flags.difference(&change).copied().collect(),
            };
            match self.shared.store.set_flags(&entry, &new) {
                Ok(path) => {
                    let updated = store::Entry {
                        path,
                        flags: new,
                        ..entry
                    };
                    selected.snapshot.messages[index] = updated.clone();
                    if updated.flags != entry_flags {
                        self.journal.record(EventKind::FlagsChanged {
                            bal: bal.clone(),
                            mailbox: selected.mailbox.to_owned(),
                            uid: updated.uid,
                            flags: flag_names(&updated.flags),
                        });
                    }
                    answers.push((index, updated));
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot store flags");
                    return self.no(tag, None, "Cannot store the flags").await;
                }
            }
        }
        if response == StoreResponse::Answer {
            for (index, entry) in answers {
                let mut items = vec![imap_types::fetch::MessageDataItem::Flags(flags_of(
                    &entry.flags,
                ))];
                if uid {
                    items.push(imap_types::fetch::MessageDataItem::Uid(nz(entry.uid)));
                }
                let seq = nz(u32::try_from(index + 1).unwrap_or(u32::MAX));
                let Ok(items) = Vec1::try_from(items) else {
                    continue;
                };
                if !self.data(Data::Fetch { seq, items }).await {
                    return false;
                }
            }
        }
        self.ok(tag, None, "STORE completed").await
    }

    /// Removes the `\Deleted` messages (of `only`, when given) and reports them. Returns false
    /// when writing failed.
    pub(super) async fn expunge(
        &mut self,
        state: &mut State,
        only: Option<&BTreeSet<u32>>,
        silent: bool,
    ) -> bool {
        let bal = self.bal(state);
        let Some(selected) = state.selected.as_mut() else {
            return true;
        };
        let doomed: Vec<usize> = selected
            .snapshot
            .messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.flags.contains(&Flag::Deleted))
            .filter(|(_, m)| only.is_none_or(|o| o.contains(&m.uid)))
            .map(|(i, _)| i)
            .collect();
        // Highest sequence numbers first: the others keep their numbers as they go.
        for &index in doomed.iter().rev() {
            let entry = selected.snapshot.messages.remove(index);
            if let Err(e) = self.shared.store.remove(&entry) {
                tracing::error!(error = %e, "expunge failed");
            }
            self.journal.record(EventKind::MessageExpunged {
                bal: bal.clone(),
                mailbox: selected.mailbox.to_owned(),
                uid: entry.uid,
            });
            let seq = nz(u32::try_from(index + 1).unwrap_or(u32::MAX));
            if !silent && !self.data(Data::Expunge(seq)).await {
                return false;
            }
        }
        true
    }

    pub(super) async fn copy(
        &mut self,
        state: &mut State,
        tag: &Tag<'static>,
        set: &SequenceSet,
        target: &Mailbox<'static>,
        uid: bool,
        moving: bool,
    ) -> bool {
        let bal = self.bal(state);
        let Some(selected) = state.selected.as_ref() else {
            return self.no(tag, None, "No mailbox selected").await;
        };
        let Some(target) = existing(target) else {
            let code = Code::Other(CodeOther::unvalidated(&b"TRYCREATE"[..]));
            return self.no(tag, Some(code), "No such mailbox").await;
        };
        if moving && self.shared.faults().move_fails {
            self.journal.record(EventKind::FaultInjected {
                fault: "défaut injecté : MOVE refusé".into(),
            });
            return self.no(tag, None, "MOVE failed (fault injected)").await;
        }
        if moving && selected.read_only {
            return self.no(tag, None, "Mailbox is read-only").await;
        }
        let targets = resolve(set, &selected.snapshot, uid);
        let mut sources = Vec::new();
        let mut destinations = Vec::new();
        let mut validity = 0;
        for &index in &targets {
            let Some(entry) = selected.snapshot.messages.get(index) else {
                continue;
            };
            match self.shared.store.copy(entry, &bal, target) {
                Ok((v, new_uid)) => {
                    validity = v;
                    sources.push(entry.uid);
                    destinations.push(new_uid);
                }
                Err(e) => {
                    tracing::error!(error = %e, "copy failed");
                    return self.no(tag, None, "Cannot copy the messages").await;
                }
            }
        }
        self.journal.record(EventKind::MessagesCopied {
            bal: bal.clone(),
            from: selected.mailbox.to_owned(),
            to: target.to_owned(),
            uids: sources
                .iter()
                .copied()
                .zip(destinations.iter().copied())
                .collect(),
            moved: moving,
        });
        let into_selected = selected.mailbox == target;
        let code = match (uid_set(&sources), uid_set(&destinations)) {
            (Some(source), Some(destination)) => Some(Code::CopyUid {
                uid_validity: nz(validity),
                source,
                destination,
            }),
            _ => None,
        };
        if !moving {
            return (!into_selected || self.refresh(state, true).await)
                && self.ok(tag, code, "COPY completed").await;
        }
        // RFC 6851: the COPYUID in an untagged OK, then the expunges, then the tagged OK.
        if let Some(code) = code
            && !self.status(Status::ok(None, Some(code), "Moved")).await
        {
            return false;
        }
        let moved: BTreeSet<u32> = sources.iter().copied().collect();
        if let Some(selected) = state.selected.as_mut() {
            for m in selected.snapshot.messages.iter_mut() {
                if moved.contains(&m.uid) {
                    m.flags.insert(Flag::Deleted);
                }
            }
        }
        self.expunge(state, Some(&moved), false).await && self.ok(tag, None, "MOVE completed").await
    }

    /// IDLE: reports new messages of the selected mailbox until the client says DONE.
    pub(super) async fn idle(
        &mut self,
        state: &mut State,
        tag: &Tag<'static>,
    ) -> Result<bool, SessionEnd> {
        let mut changes = self.shared.store.subscribe();
        let mut watching = true;
        let Ok(cont) = CommandContinuationRequest::basic(None, "idling") else {
            return Ok(false);
        };
        if !self
            .write(&Response::CommandContinuationRequest(cont), None)
            .await
        {
            return Ok(false);
        }
        loop {
            tokio::select! {
                message = self.next_message() => {
                    return match message {
                        Message::End(end) => Err(end),
                        Message::Bytes(_) => {
                            let done = self.frag.decode_message(&IdleDoneCodec::default()).is_ok();
                            self.journal.command(self.conn.tls, "DONE", "DONE");
                            if done {
                                Ok(self.ok(tag, None, "IDLE terminated").await)
                            } else {
                                Ok(self.bad(Some(tag), "Expected DONE").await)
                            }
                        }
                    };
                }
                changed = changes.changed(), if watching => {
                    if changed.is_err() {
                        // The store is gone (operator shutting down): wait for DONE only.
                        watching = false;
                        continue;
                    }
                    if !self.refresh(state, true).await {
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// Re-reads the selected mailbox and reports what other sessions (or deliveries) changed:
    /// new messages (`EXISTS`), changed flags (`FETCH (FLAGS …)`) and, when `expunges` (not
    /// during FETCH, STORE or SEARCH, RFC 3501 §7.4.1), removed ones. Returns false when
    /// writing failed.
    pub(super) async fn refresh(&mut self, state: &mut State, expunges: bool) -> bool {
        let bal = self.bal(state);
        let Some(selected) = state.selected.as_mut() else {
            return true;
        };
        let fresh = match self.shared.store.snapshot(&bal, selected.mailbox) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, "cannot read mailbox");
                return true;
            }
        };
        let mut now: std::collections::BTreeMap<u32, store::Entry> =
            fresh.messages.into_iter().map(|m| (m.uid, m)).collect();
        let mut responses = Vec::new();
        if expunges {
            // Highest sequence numbers first: the others keep their numbers as they go.
            for index in (0..selected.snapshot.messages.len()).rev() {
                if !now.contains_key(&selected.snapshot.messages[index].uid) {
                    selected.snapshot.messages.remove(index);
                    responses.push(Data::Expunge(nz(
                        u32::try_from(index + 1).unwrap_or(u32::MAX)
                    )));
                }
            }
        }
        for (index, known) in selected.snapshot.messages.iter_mut().enumerate() {
            let Some(current) = now.remove(&known.uid) else {
                continue;
            };
            if current.flags != known.flags
                && let Ok(items) = Vec1::try_from(vec![imap_types::fetch::MessageDataItem::Flags(
                    flags_of(&current.flags),
                )])
            {
                let seq = nz(u32::try_from(index + 1).unwrap_or(u32::MAX));
                responses.push(Data::Fetch { seq, items });
            }
            *known = current;
        }
        // What remains is new (UIDs only grow, so appending keeps the UID order).
        let grew = !now.is_empty();
        selected.snapshot.messages.extend(now.into_values());
        selected.snapshot.uid_next = fresh.uid_next;
        if grew {
            let n = u32::try_from(selected.snapshot.messages.len()).unwrap_or(u32::MAX);
            responses.push(Data::Exists(n));
        }
        for data in responses {
            if !self.data(data).await {
                return false;
            }
        }
        true
    }
}

/// Flags as IMAP writes them, for the journal.
pub(super) fn flag_names(flags: &BTreeSet<Flag>) -> Vec<String> {
    flags
        .iter()
        .map(|f| {
            match f {
                Flag::Answered => "\\Answered",
                Flag::Deleted => "\\Deleted",
                Flag::Draft => "\\Draft",
                Flag::Flagged => "\\Flagged",
                Flag::Seen => "\\Seen",
            }
            .to_owned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_patterns() {
        for p in ["*", "%", "INBOX", "inbox", "IN*", "*X"] {
            assert!(matches(p, "INBOX"), "{p}");
        }
        for p in ["Sent", "INBOX/x", "X*"] {
            assert!(!matches(p, "INBOX"), "{p}");
        }
        assert!(matches("S*", "Sent"));
        assert!(matches("%", "Trash"));
    }

    #[test]
    fn only_system_flags_are_kept() {
        let flags = [
            ImapFlag::Seen,
            ImapFlag::Deleted,
            ImapFlag::Keyword(Atom::unvalidated("$Forwarded")),
        ];
        assert_eq!(
            store_flags(&flags),
            BTreeSet::from([Flag::Seen, Flag::Deleted])
        );
    }
}
