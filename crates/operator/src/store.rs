//! The mailbox store: Maildir folders under a data directory, indexed in memory.
//!
//! ```text
//! <data>/spool/{tmp,new}/                 every accepted submission, byte for byte as received
//! <data>/bal/<address>/{tmp,new,cur}/     INBOX of a BAL
//! <data>/bal/<address>/.<Name>/...        its other mailboxes (Maildir++): Sent, Drafts, Trash
//! <data>/bal/<address>[/.<Name>]/uidlist.json   UIDVALIDITY and UIDNEXT
//! ```
//!
//! A message's file is `cur/<unique>,U=<uid>:2,<flags>`: written in `tmp/`, then renamed
//! (atomic) with its UID in the name, so a crash never loses the UID of a stored message; flags
//! live in the Maildir `:2,` suffix. Each mailbox is read from disk once, on first use (files a
//! previous layout left in `new/` or without a UID get one then), and kept in memory afterwards:
//! an index of its messages, a version bumped by every change and a bounded log of the changes,
//! so that an IMAP session learns what changed since its last view without rescanning the
//! folder, and waits (IDLE) on its own mailbox only. The operator is the only writer of its
//! data directory.
//!
//! The methods do blocking file work: async code calls them through [`Store::blocking`].

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::watch;

/// The mailboxes of every BAL, with their RFC 6154 special use.
pub const MAILBOXES: [(&str, Option<&str>); 4] = [
    ("INBOX", None),
    ("Sent", Some("Sent")),
    ("Drafts", Some("Drafts")),
    ("Trash", Some("Trash")),
];

/// The canonical name of a mailbox, if it exists (INBOX is case-insensitive, others exact).
pub fn mailbox_name(name: &str) -> Option<&'static str> {
    if name.eq_ignore_ascii_case("INBOX") {
        return Some("INBOX");
    }
    MAILBOXES.iter().map(|(n, _)| *n).find(|n| *n == name)
}

/// An IMAP system flag stored as a Maildir info letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Flag {
    /// `\Draft` (D).
    Draft,
    /// `\Flagged` (F).
    Flagged,
    /// `\Answered` (R).
    Answered,
    /// `\Seen` (S).
    Seen,
    /// `\Deleted` (T).
    Deleted,
}

impl Flag {
    fn letter(self) -> char {
        match self {
            Flag::Draft => 'D',
            Flag::Flagged => 'F',
            Flag::Answered => 'R',
            Flag::Seen => 'S',
            Flag::Deleted => 'T',
        }
    }

    fn from_letter(c: char) -> Option<Self> {
        Some(match c {
            'D' => Flag::Draft,
            'F' => Flag::Flagged,
            'R' => Flag::Answered,
            'S' => Flag::Seen,
            'T' => Flag::Deleted,
            _ => return None,
        })
    }
}

/// One message of a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// IMAP UID.
    pub uid: u32,
    /// Current path of the file.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Flags.
    pub flags: BTreeSet<Flag>,
    /// When it arrived.
    pub internal_date: OffsetDateTime,
    /// Its header block once read (messages never change), so that FETCH ENVELOPE and header
    /// sections need no file access the next time.
    pub header: HeaderCache,
}

/// A message's header block, read once ([`HEADER_CACHE_MAX`] bytes at most are kept). It takes
/// no part in comparisons of entries.
#[derive(Debug, Clone, Default)]
pub struct HeaderCache(std::sync::OnceLock<Arc<[u8]>>);

/// Header blocks larger than this are not kept in memory.
pub const HEADER_CACHE_MAX: usize = 16 * 1024;

impl HeaderCache {
    /// The header, if already read.
    pub fn get(&self) -> Option<&Arc<[u8]>> {
        self.0.get()
    }

    /// Keeps a header just read (if small enough and not already kept).
    pub fn keep(&self, header: &[u8]) {
        if header.len() <= HEADER_CACHE_MAX {
            let _ = self.0.set(Arc::from(header));
        }
    }
}

impl PartialEq for HeaderCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for HeaderCache {}

/// A mailbox as seen at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// UIDVALIDITY.
    pub uid_validity: u32,
    /// Next UID to be assigned.
    pub uid_next: u32,
    /// Messages in UID order, shared with the store's index (a session's view of a large
    /// mailbox costs a pointer per message).
    pub messages: Vec<Arc<Entry>>,
    /// The mailbox's version when it was taken (see [`Store::changes_since`]).
    pub version: u64,
}

/// One change to a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A message arrived (delivered, appended, copied).
    Added(Arc<Entry>),
    /// A message's flags changed.
    Flags(Arc<Entry>),
    /// A message was removed.
    Expunged(u32),
}

/// A change of flags (IMAP STORE, or `\\Seen` set by FETCH).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagUpdate {
    /// `FLAGS`.
    Replace(BTreeSet<Flag>),
    /// `+FLAGS`.
    Add(BTreeSet<Flag>),
    /// `-FLAGS`.
    Remove(BTreeSet<Flag>),
}

impl FlagUpdate {
    /// The flags after the update.
    pub fn apply(&self, current: &BTreeSet<Flag>) -> BTreeSet<Flag> {
        match self {
            FlagUpdate::Replace(f) => f.clone(),
            FlagUpdate::Add(f) => current.union(f).copied().collect(),
            FlagUpdate::Remove(f) => current.difference(f).copied().collect(),
        }
    }
}

/// What changed in a mailbox since a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changes {
    /// The changes, oldest first, and the version they lead to.
    Since {
        /// The mailbox's version now.
        version: u64,
        /// What changed after the version asked about.
        changes: Vec<Change>,
    },
    /// The log no longer reaches that far back (or the mailbox is not loaded): take a
    /// [`Store::snapshot`].
    TooOld,
}

/// Changes kept per mailbox for sessions catching up; one further behind resynchronises.
const LOG_LENGTH: usize = 4096;

#[derive(Debug, Default, Serialize, Deserialize)]
struct UidList {
    uid_validity: u32,
    uid_next: u32,
    /// Base name (without the `:2,` info) → UID: the layout before UIDs were in file names,
    /// read once and then dropped.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    uids: BTreeMap<String, u32>,
}

/// A mailbox in memory: whole once a session opened it, its counters only before.
#[derive(Debug)]
struct Index {
    /// Whether `messages` holds every message (false: only the counters are known).
    complete: bool,
    uid_validity: u32,
    uid_next: u32,
    messages: BTreeMap<u32, Arc<Entry>>,
    version: u64,
    /// (version the change led to, change), oldest first.
    log: VecDeque<(u64, Change)>,
}

impl Index {
    fn record(&mut self, change: Change) {
        self.version += 1;
        if self.log.len() == LOG_LENGTH {
            self.log.pop_front();
        }
        self.log.push_back((self.version, change));
    }
}

/// One mailbox of one BAL: its folder, its index once loaded, and its version for IDLE.
#[derive(Debug)]
struct Mailbox {
    dir: PathBuf,
    index: Mutex<Option<Index>>,
    version: watch::Sender<u64>,
}

impl Mailbox {
    fn lock(&self) -> MutexGuard<'_, Option<Index>> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The index, read from disk on first use.
    fn loaded<'g>(
        &self,
        guard: &'g mut MutexGuard<'_, Option<Index>>,
    ) -> io::Result<&'g mut Index> {
        if !guard.as_ref().is_some_and(|i| i.complete) {
            **guard = Some(load(&self.dir)?);
        }
        Ok(guard.as_mut().expect("just loaded"))
    }

    fn notify(&self, version: u64) {
        self.version.send_replace(version);
    }
}

/// The store. One per operator; cheap to clone, safe to share between sessions.
#[derive(Debug, Clone)]
pub struct Store(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    mailboxes: Mutex<HashMap<(String, String), Arc<Mailbox>>>,
}

/// A message being received: held in memory up to [`SPOOL_IN_MEMORY`], then written to
/// `spool/tmp`; on commit, made durable (fsync) and moved to `spool/new`.
#[derive(Debug)]
pub struct SpoolFile {
    buffer: Vec<u8>,
    file: Option<std::fs::File>,
    tmp: PathBuf,
    new: PathBuf,
    committed: bool,
}

/// Messages up to this size are written to disk in one go at commit (one trip to the blocking
/// pool); larger ones are streamed to their file as they arrive, so memory stays bounded.
pub const SPOOL_IN_MEMORY: usize = 1024 * 1024;

impl SpoolFile {
    /// Appends bytes.
    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() <= SPOOL_IN_MEMORY {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.buffer);
        let (file, tmp) = (self.file.take(), self.tmp.clone());
        let file = tokio::task::spawn_blocking(move || -> io::Result<fs::File> {
            use std::io::Write;
            let mut file = match file {
                Some(f) => f,
                None => fs::File::create(&tmp)?,
            };
            file.write_all(&pending)?;
            Ok(file)
        })
        .await
        .map_err(io::Error::other)??;
        self.file = Some(file);
        Ok(())
    }

    /// Makes the message durable and visible; returns its final path.
    pub async fn commit(mut self) -> io::Result<PathBuf> {
        let pending = std::mem::take(&mut self.buffer);
        let (file, tmp, new) = (self.file.take(), self.tmp.clone(), self.new.clone());
        tokio::task::spawn_blocking(move || -> io::Result<()> {
            use std::io::Write;
            let mut file = match file {
                Some(f) => f,
                None => fs::File::create(&tmp)?,
            };
            file.write_all(&pending)?;
            file.sync_all()?;
            fs::rename(&tmp, &new)
        })
        .await
        .map_err(io::Error::other)??;
        self.committed = true;
        Ok(self.new.clone())
    }
}

impl Drop for SpoolFile {
    fn drop(&mut self) {
        // Aborted, or its commit failed: no partial file stays behind.
        if !self.committed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

fn unique_name() -> String {
    format!(
        "{}.M{}.mss-operator",
        OffsetDateTime::now_utc().unix_timestamp(),
        uuid::Uuid::new_v4().simple()
    )
}

fn base_name(file_name: &str) -> &str {
    file_name.split_once(":2,").map_or(file_name, |(b, _)| b)
}

/// The UID a file name carries (`…,U=<uid>…`), if any.
fn uid_in_name(base: &str) -> Option<u32> {
    base.split(',')
        .find_map(|field| field.strip_prefix("U="))
        .and_then(|uid| uid.parse().ok())
        .filter(|&uid| uid > 0)
}

fn parse_flags(file_name: &str) -> BTreeSet<Flag> {
    file_name
        .split_once(":2,")
        .map(|(_, info)| info.chars().filter_map(Flag::from_letter).collect())
        .unwrap_or_default()
}

fn info_suffix(flags: &BTreeSet<Flag>) -> String {
    let mut letters: Vec<char> = flags.iter().map(|f| f.letter()).collect();
    letters.sort_unstable();
    format!(":2,{}", letters.into_iter().collect::<String>())
}

/// Folder name of a BAL: the lower-case address with anything unusual replaced.
fn bal_folder(address: &str) -> String {
    let name: String = address
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@.-_+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.starts_with('.') {
        format!("_{name}")
    } else {
        name
    }
}

fn read_uidlist(dir: &Path) -> io::Result<UidList> {
    let mut list: UidList = match fs::read_to_string(dir.join("uidlist.json")) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_default(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => UidList::default(),
        Err(e) => return Err(e),
    };
    if list.uid_validity == 0 {
        list.uid_validity = u32::try_from(OffsetDateTime::now_utc().unix_timestamp())
            .unwrap_or(1)
            .max(1);
        list.uid_next = 1;
    }
    Ok(list)
}

/// Writes UIDVALIDITY and UIDNEXT (a few dozen bytes, whatever the mailbox's size): UIDs of
/// removed messages are never given again, even after a restart.
fn write_uidlist(dir: &Path, uid_validity: u32, uid_next: u32) -> io::Result<()> {
    let list = UidList {
        uid_validity,
        uid_next,
        uids: BTreeMap::new(),
    };
    let tmp = dir.join("uidlist.json.tmp");
    fs::write(&tmp, serde_json::to_vec(&list).map_err(io::Error::other)?)?;
    fs::rename(&tmp, dir.join("uidlist.json"))
}

fn entry_of(path: PathBuf, uid: u32, meta: &fs::Metadata) -> Entry {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Entry {
        uid,
        flags: parse_flags(&name),
        size: meta.len(),
        internal_date: meta
            .modified()
            .map(OffsetDateTime::from)
            .unwrap_or_else(|_| OffsetDateTime::now_utc()),
        path,
        header: HeaderCache::default(),
    }
}

/// Reads a mailbox from disk: files of `cur/` with their UIDs, then those without one (and
/// those of `new/`) in arrival order with new UIDs.
fn load(dir: &Path) -> io::Result<Index> {
    for sub in ["tmp", "new", "cur"] {
        fs::create_dir_all(dir.join(sub))?;
    }
    let list = read_uidlist(dir)?;
    let mut messages = BTreeMap::new();
    let mut unnumbered: Vec<(std::time::SystemTime, PathBuf, String)> = Vec::new();
    for sub in ["cur", "new"] {
        for file in fs::read_dir(dir.join(sub))? {
            let file = file?;
            let name = file.file_name().to_string_lossy().into_owned();
            let meta = file.metadata()?;
            if !meta.is_file() {
                continue;
            }
            let base = base_name(&name);
            let named = uid_in_name(base);
            let uid = match (sub, named) {
                ("cur", Some(uid)) => Some(uid),
                ("cur", None) => list.uids.get(base).copied(),
                _ => None,
            };
            match uid {
                Some(uid) if !messages.contains_key(&uid) => {
                    let mut path = file.path();
                    if named.is_none() {
                        // Numbered by the earlier uidlist: the number goes into the name.
                        let target = dir.join("cur").join(format!(
                            "{base},U={uid}{}",
                            info_suffix(&parse_flags(&name))
                        ));
                        fs::rename(&path, &target)?;
                        path = target;
                    }
                    messages.insert(uid, Arc::new(entry_of(path, uid, &meta)));
                }
                _ => unnumbered.push((meta.modified()?, file.path(), name)),
            }
        }
    }
    unnumbered.sort();
    let mut uid_next = list
        .uid_next
        .max(messages.keys().next_back().map_or(1, |u| u + 1));
    for (_, path, name) in unnumbered {
        let uid = uid_next;
        uid_next += 1;
        let base = base_name(&name);
        let base = base.split(",U=").next().unwrap_or(base);
        let target = dir.join("cur").join(format!(
            "{base},U={uid}{}",
            info_suffix(&parse_flags(&name))
        ));
        fs::rename(&path, &target)?;
        let meta = fs::metadata(&target)?;
        messages.insert(uid, Arc::new(entry_of(target, uid, &meta)));
    }
    write_uidlist(dir, list.uid_validity, uid_next)?;
    Ok(Index {
        complete: true,
        uid_validity: list.uid_validity,
        uid_next,
        messages,
        version: 0,
        log: VecDeque::new(),
    })
}

impl Store {
    /// Opens (creating if needed) a store under `root`.
    pub fn open(root: &Path) -> io::Result<Self> {
        for sub in ["spool/tmp", "spool/new", "bal"] {
            fs::create_dir_all(root.join(sub))?;
        }
        Ok(Store(Arc::new(Inner {
            root: root.to_owned(),
            mailboxes: Mutex::new(HashMap::new()),
        })))
    }

    /// Runs file work of the store on tokio's blocking pool, off the async workers.
    pub async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Store) -> io::Result<T> + Send + 'static,
    ) -> io::Result<T> {
        let store = self.clone();
        match tokio::task::spawn_blocking(move || work(&store)).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(io::Error::other("store work cancelled (operator stopping)")),
        }
    }

    /// The mailbox of a BAL (its index is read on first use).
    fn mailbox(&self, bal: &str, mailbox: &str) -> Arc<Mailbox> {
        let folder = bal_folder(bal);
        let mut map = self.0.mailboxes.lock().unwrap_or_else(|p| p.into_inner());
        map.entry((folder.clone(), mailbox.to_owned()))
            .or_insert_with(|| {
                let mut dir = self.0.root.join("bal").join(folder);
                if mailbox != "INBOX" {
                    dir = dir.join(format!(".{mailbox}"));
                }
                Arc::new(Mailbox {
                    dir,
                    index: Mutex::new(None),
                    version: watch::channel(0).0,
                })
            })
            .clone()
    }

    /// A receiver that wakes when the mailbox changes (IMAP IDLE): its value is the version.
    pub fn watch(&self, bal: &str, mailbox: &str) -> watch::Receiver<u64> {
        self.mailbox(bal, mailbox).version.subscribe()
    }

    /// Starts receiving a submitted message.
    pub fn spool(&self) -> SpoolFile {
        let name = unique_name();
        SpoolFile {
            buffer: Vec::new(),
            file: None,
            tmp: self.0.root.join("spool/tmp").join(&name),
            new: self.0.root.join("spool/new").join(&name),
            committed: false,
        }
    }

    /// Stores a message in a mailbox with its flags: `write` puts it in `tmp/`, durably, outside
    /// the lock; then it is renamed into `cur/` with its UID. Returns (UIDVALIDITY, entry).
    fn add_durable(
        &self,
        bal: &str,
        mailbox: &str,
        flags: &BTreeSet<Flag>,
        write: impl FnOnce(&Path) -> io::Result<()>,
    ) -> io::Result<(u32, Arc<Entry>)> {
        let mb = self.mailbox(bal, mailbox);
        for sub in ["tmp", "new", "cur"] {
            fs::create_dir_all(mb.dir.join(sub))?;
        }
        let name = unique_name();
        let tmp = mb.dir.join("tmp").join(&name);
        if let Err(e) = write(&tmp) {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        let meta = match fs::metadata(&tmp) {
            Ok(m) => m,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        let mut guard = mb.lock();
        // A mailbox no session has opened is not read into memory: its UIDVALIDITY and UIDNEXT
        // come from the uidlist (read once), so memory does not grow with what it receives. A
        // uidlist of the earlier layout (UIDs by file name) is read whole first, so that its
        // numbering goes into the names before the list is rewritten.
        if guard.is_none() {
            let list = read_uidlist(&mb.dir)?;
            *guard = Some(if list.uids.is_empty() {
                Index {
                    complete: false,
                    uid_validity: list.uid_validity,
                    uid_next: list.uid_next.max(1),
                    messages: BTreeMap::new(),
                    version: 0,
                    log: VecDeque::new(),
                }
            } else {
                load(&mb.dir)?
            });
        }
        let index = guard.as_mut().expect("just set");
        let (uid_validity, uid) = (index.uid_validity, index.uid_next);
        // The UID is reserved on disk before the file carries it: never given twice.
        index.uid_next = uid + 1;
        if let Err(e) = write_uidlist(&mb.dir, uid_validity, uid + 1) {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        let target = mb
            .dir
            .join("cur")
            .join(format!("{name},U={uid}{}", info_suffix(flags)));
        if let Err(e) = fs::rename(&tmp, &target) {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        let entry = Arc::new(entry_of(target, uid, &meta));
        if !index.complete {
            return Ok((uid_validity, entry));
        }
        index.messages.insert(uid, entry.clone());
        index.record(Change::Added(entry.clone()));
        let version = index.version;
        drop(guard);
        mb.notify(version);
        Ok((uid_validity, entry))
    }

    /// [`Store::add_durable`] with a `write` that does not sync: the file is synced after it.
    fn add(
        &self,
        bal: &str,
        mailbox: &str,
        flags: &BTreeSet<Flag>,
        write: impl FnOnce(&Path) -> io::Result<()>,
    ) -> io::Result<(u32, Arc<Entry>)> {
        self.add_durable(bal, mailbox, flags, |tmp| {
            write(tmp)?;
            fs::File::open(tmp)?.sync_all()
        })
    }

    /// Delivers a stored (spooled, already durable) message into a BAL's INBOX: a hard link to
    /// the spool file (messages never change; flags are in the name), a copy where linking
    /// fails.
    pub fn deliver(&self, bal: &str, source: &Path) -> io::Result<PathBuf> {
        self.add_durable(bal, "INBOX", &BTreeSet::new(), |tmp| {
            fs::hard_link(source, tmp).or_else(|_| {
                fs::copy(source, tmp)?;
                fs::File::open(tmp)?.sync_all()
            })
        })
        .map(|(_, e)| e.path.clone())
    }

    /// Puts a message given as bytes into a BAL's INBOX (the harness's deliveries).
    pub fn inject(&self, bal: &str, message: &[u8]) -> io::Result<PathBuf> {
        self.add(bal, "INBOX", &BTreeSet::new(), |tmp| {
            fs::write(tmp, message)
        })
        .map(|(_, e)| e.path.clone())
    }

    /// IMAP APPEND: returns (UIDVALIDITY, UID).
    pub fn append(
        &self,
        bal: &str,
        mailbox: &str,
        flags: &BTreeSet<Flag>,
        message: &[u8],
    ) -> io::Result<(u32, u32)> {
        self.add(bal, mailbox, flags, |tmp| fs::write(tmp, message))
            .map(|(v, e)| (v, e.uid))
    }

    /// IMAP COPY of one message into another mailbox of the same BAL.
    ///
    /// Copies message `uid` of mailbox `from` as it is now (another session may have renamed
    /// its file): (UIDVALIDITY, new UID) of `to`, `None` if it is gone.
    pub fn copy(
        &self,
        bal: &str,
        from: &str,
        uid: u32,
        to: &str,
    ) -> io::Result<Option<(u32, u32)>> {
        let Some(entry) = self.entry(bal, from, uid) else {
            return Ok(None);
        };
        self.add(bal, to, &entry.flags, |tmp| {
            fs::copy(&entry.path, tmp).map(|_| ())
        })
        .map(|(v, e)| Some((v, e.uid)))
    }

    /// Removes a message (IMAP EXPUNGE). Removing one already gone is not an error.
    pub fn remove(&self, bal: &str, mailbox: &str, uid: u32) -> io::Result<()> {
        let mb = self.mailbox(bal, mailbox);
        let mut guard = mb.lock();
        let index = mb.loaded(&mut guard)?;
        let Some(entry) = index.messages.get(&uid) else {
            return Ok(());
        };
        match fs::remove_file(&entry.path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        index.messages.remove(&uid);
        index.record(Change::Expunged(uid));
        let version = index.version;
        drop(guard);
        mb.notify(version);
        Ok(())
    }

    /// Removes every message of a mailbox (UIDs keep growing).
    pub fn clear(&self, bal: &str, mailbox: &str) -> io::Result<()> {
        let uids: Vec<u32> = {
            let mb = self.mailbox(bal, mailbox);
            let mut guard = mb.lock();
            mb.loaded(&mut guard)?.messages.keys().copied().collect()
        };
        for uid in uids {
            self.remove(bal, mailbox, uid)?;
        }
        Ok(())
    }

    /// A mailbox of a BAL, whole.
    pub fn snapshot(&self, bal: &str, mailbox: &str) -> io::Result<Snapshot> {
        let mb = self.mailbox(bal, mailbox);
        let mut guard = mb.lock();
        let index = mb.loaded(&mut guard)?;
        Ok(Snapshot {
            uid_validity: index.uid_validity,
            uid_next: index.uid_next,
            messages: index.messages.values().cloned().collect(),
            version: index.version,
        })
    }

    /// What changed in a mailbox after `version`, from memory (never from disk).
    pub fn changes_since(&self, bal: &str, mailbox: &str, version: u64) -> Changes {
        let mb = self.mailbox(bal, mailbox);
        let guard = mb.lock();
        let Some(index) = guard.as_ref().filter(|i| i.complete) else {
            return Changes::TooOld;
        };
        if version > index.version {
            return Changes::TooOld;
        }
        let oldest = index.log.front().map_or(index.version + 1, |(v, _)| *v);
        if version + 1 < oldest && version < index.version {
            return Changes::TooOld;
        }
        Changes::Since {
            version: index.version,
            changes: index
                .log
                .iter()
                .filter(|(v, _)| *v > version)
                .map(|(_, c)| c.clone())
                .collect(),
        }
    }

    /// The current state of one message, if it still exists.
    pub fn entry(&self, bal: &str, mailbox: &str, uid: u32) -> Option<Arc<Entry>> {
        let mb = self.mailbox(bal, mailbox);
        let guard = mb.lock();
        guard.as_ref()?.messages.get(&uid).cloned()
    }

    /// Changes the flags of a message from their current value (not from a session's view,
    /// which another session may have outdated); returns its new state (`None` if it is gone).
    pub fn set_flags(
        &self,
        bal: &str,
        mailbox: &str,
        uid: u32,
        update: &FlagUpdate,
    ) -> io::Result<Option<Arc<Entry>>> {
        let mb = self.mailbox(bal, mailbox);
        let mut guard = mb.lock();
        let index = mb.loaded(&mut guard)?;
        let Some(entry) = index.messages.get_mut(&uid) else {
            return Ok(None);
        };
        let flags = &update.apply(&entry.flags);
        if entry.flags == *flags {
            return Ok(Some(entry.clone()));
        }
        let name = entry
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target =
            entry
                .path
                .with_file_name(format!("{}{}", base_name(&name), info_suffix(flags)));
        fs::rename(&entry.path, &target)?;
        *entry = Arc::new(Entry {
            path: target,
            flags: flags.clone(),
            ..(**entry).clone()
        });
        let entry = entry.clone();
        index.record(Change::Flags(entry.clone()));
        let version = index.version;
        drop(guard);
        mb.notify(version);
        Ok(Some(entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn spool_commit_and_abort() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let tmp_files = || {
            fs::read_dir(dir.path().join("spool/tmp"))
                .expect("tmp")
                .count()
        };
        let mut file = store.spool();
        file.write(b"Subject: a\r\n\r\nbody\r\n")
            .await
            .expect("write");
        assert_eq!(
            tmp_files(),
            0,
            "a small message stays in memory until commit"
        );
        let path = file.commit().await.expect("commit");
        assert!(path.starts_with(dir.path().join("spool/new")));
        assert_eq!(
            fs::read(&path).expect("read"),
            b"Subject: a\r\n\r\nbody\r\n"
        );

        // A large one goes to its file as it arrives, whole at commit.
        let chunk = vec![b'x'; 700 * 1024];
        let mut large = store.spool();
        for _ in 0..3 {
            large.write(&chunk).await.expect("write");
        }
        assert_eq!(tmp_files(), 1, "streamed past {SPOOL_IN_MEMORY} bytes");
        let path = large.commit().await.expect("commit");
        assert_eq!(fs::metadata(&path).expect("meta").len(), 3 * 700 * 1024);

        let mut aborted = store.spool();
        for _ in 0..2 {
            aborted.write(&chunk).await.expect("write");
        }
        drop(aborted);
        assert_eq!(tmp_files(), 0);

        // Delivery links the spooled file; expunging the BAL's copy keeps the spool's.
        let delivered = store.deliver("a@x.fr", &path).expect("deliver");
        assert_eq!(fs::read(&delivered).expect("read").len(), 3 * 700 * 1024);
        store.remove("a@x.fr", "INBOX", 1).expect("remove");
        assert!(path.exists() && !delivered.exists());
    }

    #[test]
    fn uids_are_stable_and_flags_persist() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        store.inject("A@x.fr", b"one").expect("inject");
        let first = store.snapshot("a@x.fr", "INBOX").expect("snapshot");
        assert_eq!(first.messages.len(), 1);
        assert_eq!(first.messages[0].uid, 1);

        store.inject("a@x.fr", b"two").expect("inject");
        let second = store.snapshot("a@x.fr", "INBOX").expect("snapshot");
        assert_eq!(second.uid_validity, first.uid_validity);
        assert_eq!(
            second.messages.iter().map(|m| m.uid).collect::<Vec<_>>(),
            vec![1, 2]
        );

        let seen = BTreeSet::from([Flag::Seen, Flag::Answered]);
        store
            .set_flags("a@x.fr", "INBOX", 1, &FlagUpdate::Replace(seen.clone()))
            .expect("flags")
            .expect("present");
        let third = store.snapshot("a@x.fr", "INBOX").expect("snapshot");
        assert_eq!(third.messages[0].flags, seen);
        assert_eq!(third.messages[0].uid, 1);
        assert!(
            third.messages[0]
                .path
                .to_string_lossy()
                .ends_with(",U=1:2,RS")
        );

        // Another operator on the same data directory (a restart) reads the same mailbox.
        store.remove("a@x.fr", "INBOX", 2).expect("remove");
        let restarted = Store::open(dir.path()).expect("reopen");
        let again = restarted.snapshot("a@x.fr", "INBOX").expect("snapshot");
        assert_eq!(again.uid_validity, first.uid_validity);
        assert_eq!(again.messages.len(), 1);
        assert_eq!(again.messages[0].flags, seen);
        assert_eq!(
            again.uid_next, 3,
            "the UID of a removed message is never given again"
        );
        restarted.inject("a@x.fr", b"three").expect("inject");
        let uids: Vec<u32> = restarted
            .snapshot("a@x.fr", "INBOX")
            .expect("snapshot")
            .messages
            .iter()
            .map(|m| m.uid)
            .collect();
        assert_eq!(uids, [1, 3]);
    }

    #[test]
    fn files_of_an_earlier_layout_get_uids_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let inbox = dir.path().join("bal/a@x.fr");
        for sub in ["tmp", "new", "cur"] {
            fs::create_dir_all(inbox.join(sub)).expect("mkdir");
        }
        fs::write(inbox.join("cur/old-1:2,S"), b"old one").expect("write");
        fs::write(inbox.join("new/dropped-2"), b"dropped").expect("write");
        fs::write(
            inbox.join("uidlist.json"),
            br#"{"uid_validity":77,"uid_next":9,"uids":{"old-1":8}}"#,
        )
        .expect("write");
        let store = Store::open(dir.path()).expect("open");
        let snapshot = store.snapshot("a@x.fr", "INBOX").expect("snapshot");
        assert_eq!(snapshot.uid_validity, 77);
        let seen: Vec<(u32, bool)> = snapshot
            .messages
            .iter()
            .map(|m| (m.uid, m.flags.contains(&Flag::Seen)))
            .collect();
        assert_eq!(seen, [(8, true), (9, false)]);
        assert!(snapshot.messages[1].path.ends_with("cur/dropped-2,U=9:2,"));
        let reopened = Store::open(dir.path()).expect("reopen");
        assert_eq!(
            reopened
                .snapshot("a@x.fr", "INBOX")
                .expect("snapshot")
                .messages,
            snapshot.messages,
            "the numbering survives in the file names"
        );
    }

    #[test]
    fn a_delivery_first_keeps_the_numbering_of_an_earlier_layout() {
        let dir = tempfile::tempdir().expect("tempdir");
        let inbox = dir.path().join("bal/a@x.fr");
        for sub in ["tmp", "new", "cur"] {
            fs::create_dir_all(inbox.join(sub)).expect("mkdir");
        }
        fs::write(inbox.join("cur/old-1:2,S"), b"old one").expect("write");
        fs::write(
            inbox.join("uidlist.json"),
            br#"{"uid_validity":77,"uid_next":9,"uids":{"old-1":8}}"#,
        )
        .expect("write");
        let store = Store::open(dir.path()).expect("open");
        // No session opened the mailbox: the delivery comes first.
        store.inject("a@x.fr", b"new").expect("inject");
        let uids: Vec<u32> = Store::open(dir.path())
            .expect("reopen")
            .snapshot("a@x.fr", "INBOX")
            .expect("snapshot")
            .messages
            .iter()
            .map(|m| m.uid)
            .collect();
        assert_eq!(uids, [8, 9]);
    }

    #[test]
    fn append_copy_remove_across_mailboxes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        // Sessions watch mailboxes they opened (read into memory).
        store.snapshot("a@x.fr", "Sent").expect("sent");
        store.snapshot("a@x.fr", "INBOX").expect("inbox");
        let sent_changes = store.watch("a@x.fr", "Sent");
        let inbox_changes = store.watch("a@x.fr", "INBOX");
        let (validity, uid) = store
            .append("a@x.fr", "Sent", &BTreeSet::from([Flag::Seen]), b"sent")
            .expect("append");
        assert_eq!(uid, 1);
        assert!(sent_changes.has_changed().expect("watch"));
        assert!(
            !inbox_changes.has_changed().expect("watch"),
            "a change of Sent does not wake INBOX"
        );
        let sent = store.snapshot("a@x.fr", "Sent").expect("sent");
        assert_eq!(sent.uid_validity, validity);
        assert_eq!(sent.messages[0].flags, BTreeSet::from([Flag::Seen]));
        let (_, copied) = store
            .copy("a@x.fr", "Sent", 1, "Trash")
            .expect("copy")
            .expect("present");
        assert_eq!(copied, 1);
        store.remove("a@x.fr", "Sent", 1).expect("remove");
        store
            .remove("a@x.fr", "Sent", 1)
            .expect("removing twice is harmless");
        assert!(
            store
                .snapshot("a@x.fr", "Sent")
                .expect("sent")
                .messages
                .is_empty()
        );
        let trash = store.snapshot("a@x.fr", "Trash").expect("trash");
        assert_eq!(fs::read(&trash.messages[0].path).expect("read"), b"sent");
        assert!(
            store
                .snapshot("a@x.fr", "INBOX")
                .expect("inbox")
                .messages
                .is_empty()
        );
        assert_eq!(mailbox_name("inbox"), Some("INBOX"));
        assert_eq!(mailbox_name("sent"), None);
    }

    #[test]
    fn changes_are_given_incrementally_then_too_old() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        assert_eq!(store.changes_since("a@x.fr", "INBOX", 0), Changes::TooOld);
        let start = store.snapshot("a@x.fr", "INBOX").expect("snapshot");
        assert_eq!(
            store.changes_since("a@x.fr", "INBOX", start.version),
            Changes::Since {
                version: start.version,
                changes: vec![]
            }
        );
        store.inject("a@x.fr", b"one").expect("inject");
        store
            .set_flags(
                "a@x.fr",
                "INBOX",
                1,
                &FlagUpdate::Add(BTreeSet::from([Flag::Flagged])),
            )
            .expect("flags");
        store.remove("a@x.fr", "INBOX", 1).expect("remove");
        let Changes::Since { version, changes } =
            store.changes_since("a@x.fr", "INBOX", start.version)
        else {
            panic!("the log reaches back");
        };
        assert_eq!(version, start.version + 3);
        assert!(matches!(&changes[..], [
            Change::Added(a),
            Change::Flags(f),
            Change::Expunged(1)
        ] if a.uid == 1 && f.flags.contains(&Flag::Flagged)));
        for _ in 0..LOG_LENGTH {
            store
                .set_flags("a@x.fr", "INBOX", 99, &FlagUpdate::Replace(BTreeSet::new()))
                .expect("absent");
            store.inject("a@x.fr", b"more").expect("inject");
        }
        assert_eq!(
            store.changes_since("a@x.fr", "INBOX", start.version),
            Changes::TooOld,
            "a session this far behind resynchronises"
        );
    }

    #[test]
    fn odd_addresses_stay_inside_the_store() {
        assert_eq!(bal_folder("../../etc@x"), "_.._.._etc@x");
        assert_eq!(bal_folder("A/B@x"), "a_b@x");
    }
}
