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

/// How long IDLE gathers changes before it reports them: a client hears of a delivery within
/// this delay, and a session costs at most a few reports a second however busy its mailbox.
const IDLE_BATCH: std::time::Duration = std::time::Duration::from_millis(100);

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
        let bal = self.bal(state);
        let snapshot = match self
            .shared
            .store
            .blocking(move |s| s.snapshot(&bal, name))
            .await
        {
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
        let bal = self.bal(state);
        let snapshot = match self
            .shared
            .store
            .blocking(move |s| s.snapshot(&bal, name))
            .await
        {
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
        let bytes: Vec<u8> = match message {
            LiteralOrLiteral8::Literal(l) => l.data().to_vec(),
            LiteralOrLiteral8::Literal8(l) => l.data.to_vec(),
        };
        let (bal, flags) = (self.bal(state), store_flags(flags));
        let message_id = crate::smtp::header_value(&bytes, "Message-ID");
        match self
            .shared
            .store
            .blocking(move |s| s.append(&bal, name, &flags, &bytes))
            .await
        {
            Ok((uid_validity, uid)) => {
                self.journal.record(EventKind::MessageAppended {
                    bal: self.bal(state),
                    mailbox: name.to_owned(),
                    uid,
                    message_id,
                });
                let code = Code::AppendUid {
                    uid_validity: nz(uid_validity),
                    uid: nz(uid),
                };
                let selected = state.selected.as_ref().is_some_and(|s| s.mailbox == name);
                (!selected || self.refresh(state).await)
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
        let update = match kind {
            StoreType::Replace => store::FlagUpdate::Replace(change),
            StoreType::Add => store::FlagUpdate::Add(change),
            StoreType::Remove => store::FlagUpdate::Remove(change),
        };
        let targets: Vec<(usize, u32)> = resolve(set, &selected.snapshot, uid)
            .into_iter()
            .filter_map(|index| Some((index, selected.snapshot.messages.get(index)?.uid)))
            .collect();
        let mailbox = selected.mailbox;
        let uids: Vec<u32> = targets.iter().map(|(_, u)| *u).collect();
        let owner = bal.clone();
        // Applied to each message's current flags, under the store's lock: a change another
        // session made meanwhile is kept.
        let stored = self
            .shared
            .store
            .blocking(move |s| {
                uids.iter()
                    .map(|&uid| s.set_flags(&owner, mailbox, uid, &update))
                    .collect::<std::io::Result<Vec<_>>>()
            })
            .await;
        let stored = match stored {
            Ok(stored) => stored,
            Err(e) => {
                tracing::error!(error = %e, "cannot store flags");
                return self.no(tag, None, "Cannot store the flags").await;
            }
        };
        let mut answers = Vec::new();
        for ((index, _), updated) in targets.into_iter().zip(stored) {
            // A message another session expunged meanwhile is left for the next refresh.
            let Some(updated) = updated else { continue };
            let known = &mut selected.snapshot.messages[index];
            if updated.flags != known.flags {
                self.journal.record(EventKind::FlagsChanged {
                    bal: bal.clone(),
                    mailbox: mailbox.to_owned(),
                    uid: updated.uid,
                    flags: flag_names(&updated.flags),
                });
            }
            *known = updated.clone();
            answers.push((index, updated));
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
        let mailbox = selected.mailbox;
        let uids: Vec<u32> = doomed
            .iter()
            .map(|&i| selected.snapshot.messages[i].uid)
            .collect();
        let owner = bal.clone();
        let removed: BTreeSet<u32> = self
            .shared
            .store
            .blocking(move |s| {
                Ok(uids
                    .into_iter()
                    .filter(|&uid| match s.remove(&owner, mailbox, uid) {
                        Ok(()) => true,
                        Err(e) => {
                            tracing::error!(error = %e, uid, "expunge failed");
                            false
                        }
                    })
                    .collect())
            })
            .await
            .unwrap_or_default();
        // Highest sequence numbers first: the others keep their numbers as they go. A message
        // the store could not remove stays, and is not reported.
        for &index in doomed.iter().rev() {
            if !removed.contains(&selected.snapshot.messages[index].uid) {
                continue;
            }
            let entry = selected.snapshot.messages.remove(index);
            self.journal.record(EventKind::MessageExpunged {
                bal: bal.clone(),
                mailbox: mailbox.to_owned(),
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
        let wanted: Vec<u32> = resolve(set, &selected.snapshot, uid)
            .into_iter()
            .filter_map(|i| Some(selected.snapshot.messages.get(i)?.uid))
            .collect();
        let (owner, from) = (bal.clone(), selected.mailbox);
        // Each message as it is now in the store (another session may have renamed its file);
        // one expunged meanwhile is skipped.
        let copied = self
            .shared
            .store
            .blocking(move |s| {
                let mut copied = Vec::new();
                for uid in wanted {
                    if let Some((validity, new_uid)) = s.copy(&owner, from, uid, target)? {
                        copied.push((uid, validity, new_uid));
                    }
                }
                Ok(copied)
            })
            .await;
        let copied = match copied {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "copy failed");
                return self.no(tag, None, "Cannot copy the messages").await;
            }
        };
        let validity = copied.first().map_or(0, |(_, v, _)| *v);
        let sources: Vec<u32> = copied.iter().map(|(u, _, _)| *u).collect();
        let destinations: Vec<u32> = copied.iter().map(|(_, _, u)| *u).collect();
        let Some(selected) = state.selected.as_ref() else {
            return self.no(tag, None, "No mailbox selected").await;
        };
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
            return (!into_selected || self.refresh(state).await)
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
                    std::sync::Arc::make_mut(m).flags.insert(Flag::Deleted);
                }
            }
        }
        self.expunge(state, Some(&moved), false).await && self.ok(tag, None, "MOVE completed").await
    }

    /// IDLE: reports the selected mailbox's changes until the client says DONE.
    pub(super) async fn idle(
        &mut self,
        state: &mut State,
        tag: &Tag<'static>,
    ) -> Result<bool, SessionEnd> {
        // Only the selected mailbox's changes wake this session.
        let bal = self.bal(state);
        let (mut changes, mut watching) = match state.selected.as_ref() {
            Some(selected) => (self.shared.store.watch(&bal, selected.mailbox), true),
            None => (tokio::sync::watch::channel(0).1, false),
        };
        let Ok(cont) = CommandContinuationRequest::basic(None, "idling") else {
            return Ok(false);
        };
        if !self
            .write(&Response::CommandContinuationRequest(cont), None)
            .await
        {
            return Ok(false);
        }
        // A burst of changes (a busy INBOX takes hundreds of deliveries a second) is reported
        // once per IDLE_BATCH, not once per change.
        // Changes made since the session's last view (during its last command) come first.
        let mut due: Option<tokio::time::Instant> = watching.then(tokio::time::Instant::now);
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
                changed = changes.changed(), if watching && due.is_none() => {
                    if changed.is_err() {
                        // The store is gone (operator shutting down): wait for DONE only.
                        watching = false;
                        continue;
                    }
                    due = Some(tokio::time::Instant::now() + IDLE_BATCH);
                }
                () = tokio::time::sleep_until(due.unwrap_or_else(tokio::time::Instant::now)), if due.is_some() => {
                    due = None;
                    changes.mark_unchanged();
                    if !self.refresh(state).await {
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// Reports what other sessions (or deliveries) changed in the selected mailbox since this
    /// session's last view: removed messages (`EXPUNGE`), changed flags (`FETCH (FLAGS …)`),
    /// new messages (`EXISTS`). Only the changes are read (from the store's log, in memory); a
    /// session too far behind takes a whole snapshot instead. Never called during FETCH, STORE
    /// or SEARCH (RFC 3501 §7.4.1). Returns false when writing failed.
    pub(super) async fn refresh(&mut self, state: &mut State) -> bool {
        let bal = self.bal(state);
        let Some(selected) = state.selected.as_mut() else {
            return true;
        };
        let mailbox = selected.mailbox;
        let changes =
            match self
                .shared
                .store
                .changes_since(&bal, mailbox, selected.snapshot.version)
            {
                store::Changes::Since { version, changes } => {
                    selected.snapshot.version = version;
                    changes
                }
                store::Changes::TooOld => {
                    let owner = bal.clone();
                    match self
                        .shared
                        .store
                        .blocking(move |s| s.snapshot(&owner, mailbox))
                        .await
                    {
                        Ok(fresh) => resync(selected, fresh),
                        Err(e) => {
                            tracing::error!(error = %e, "cannot read mailbox");
                            return true;
                        }
                    }
                }
            };
        let view = &mut selected.snapshot.messages;
        // Messages the client has been told about (the first `announced` of the view).
        let mut announced = view.len();
        let mut responses = Vec::new();
        for change in changes {
            match change {
                store::Change::Added(entry) => {
                    // UIDs only grow: one not above the last is known already, or gone.
                    if view.last().is_none_or(|last| last.uid < entry.uid) {
                        selected.snapshot.uid_next = selected.snapshot.uid_next.max(entry.uid + 1);
                        view.push(entry);
                    }
                }
                store::Change::Flags(entry) => {
                    let Ok(index) = view.binary_search_by_key(&entry.uid, |m| m.uid) else {
                        continue;
                    };
                    if index < announced
                        && entry.flags != view[index].flags
                        && let Ok(items) =
                            Vec1::try_from(vec![imap_types::fetch::MessageDataItem::Flags(
                                flags_of(&entry.flags),
                            )])
                    {
                        let seq = nz(u32::try_from(index + 1).unwrap_or(u32::MAX));
                        responses.push(Data::Fetch { seq, items });
                    }
                    view[index] = entry;
                }
                store::Change::Expunged(uid) => {
                    let Ok(index) = view.binary_search_by_key(&uid, |m| m.uid) else {
                        continue;
                    };
                    view.remove(index);
                    if index < announced {
                        announced -= 1;
                        responses.push(Data::Expunge(nz(
                            u32::try_from(index + 1).unwrap_or(u32::MAX)
                        )));
                    }
                }
            }
        }
        if view.len() > announced {
            responses.push(Data::Exists(u32::try_from(view.len()).unwrap_or(u32::MAX)));
        }
        for data in responses {
            if !self.data(data).await {
                return false;
            }
        }
        true
    }
}

/// The changes that lead a session's view to a fresh snapshot (when the store's log no longer
/// reaches back to its view): expunges, flag changes, additions, in that order.
fn resync(selected: &mut Selected, fresh: store::Snapshot) -> Vec<store::Change> {
    let now: std::collections::BTreeMap<u32, &std::sync::Arc<store::Entry>> =
        fresh.messages.iter().map(|m| (m.uid, m)).collect();
    let mut changes: Vec<store::Change> = selected
        .snapshot
        .messages
        .iter()
        .filter(|m| !now.contains_key(&m.uid))
        .map(|m| store::Change::Expunged(m.uid))
        .collect();
    let last = selected.snapshot.messages.last().map_or(0, |m| m.uid);
    for m in &fresh.messages {
        if m.uid > last {
            changes.push(store::Change::Added(m.clone()));
        } else {
            changes.push(store::Change::Flags(m.clone()));
        }
    }
    selected.snapshot.version = fresh.version;
    selected.snapshot.uid_validity = fresh.uid_validity;
    selected.snapshot.uid_next = fresh.uid_next;
    changes
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
