//! The mailbox store: Maildir folders under a data directory.
//!
//! ```text
//! <data>/spool/{tmp,new}/                 every accepted submission, byte for byte as received
//! <data>/bal/<address>/{tmp,new,cur}/     INBOX of a BAL
//! <data>/bal/<address>/.<Name>/...        its other mailboxes (Maildir++): Sent, Drafts, Trash
//! <data>/bal/<address>[/.<Name>]/uidlist.json   UIDVALIDITY, UIDNEXT and the UID of each file
//! ```
//!
//! Files are written in `tmp/` then renamed (atomic); flags live in the Maildir `:2,` suffix.
//! Every change bumps a counter IMAP IDLE waits on.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::io::AsyncWriteExt;
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
}

/// A mailbox as seen at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// UIDVALIDITY.
    pub uid_validity: u32,
    /// Next UID to be assigned.
    pub uid_next: u32,
    /// Messages in UID order.
    pub messages: Vec<Entry>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct UidList {
    uid_validity: u32,
    uid_next: u32,
    /// Base name (without the `:2,` info) → UID.
    uids: BTreeMap<String, u32>,
}

/// The store. One per operator; safe to share between sessions.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    // Serialises UID assignment and renames; each operation is a few file system calls.
    lock: Mutex<()>,
    changes: watch::Sender<u64>,
}

/// A message being received, written to `spool/tmp` and moved to `spool/new` on commit.
#[derive(Debug)]
pub struct SpoolFile {
    file: tokio::fs::File,
    tmp: PathBuf,
    new: PathBuf,
    committed: bool,
}

impl SpoolFile {
    /// Appends bytes.
    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes).await
    }

    /// Makes the message durable and visible; returns its final path.
    pub async fn commit(mut self) -> io::Result<PathBuf> {
        self.file.flush().await?;
        self.file.sync_all().await?;
        tokio::fs::rename(&self.tmp, &self.new).await?;
        self.committed = true;
        Ok(self.new.clone())
    }
}

impl Drop for SpoolFile {
    fn drop(&mut self) {
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

fn write_uidlist(dir: &Path, list: &UidList) -> io::Result<()> {
    let tmp = dir.join("uidlist.json.tmp");
    fs::write(
        &tmp,
        serde_json::to_vec_pretty(list).map_err(io::Error::other)?,
    )?;
    fs::rename(&tmp, dir.join("uidlist.json"))
}

impl Store {
    /// Opens (creating if needed) a store under `root`.
    pub fn open(root: &Path) -> io::Result<Self> {
        for sub in ["spool/tmp", "spool/new", "bal"] {
            fs::create_dir_all(root.join(sub))?;
        }
        Ok(Store {
            root: root.to_owned(),
            lock: Mutex::new(()),
            changes: watch::channel(0).0,
        })
    }

    fn guard(&self) -> MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n += 1);
    }

    /// A receiver that wakes on every change of any mailbox (IMAP IDLE).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// The Maildir of a mailbox of a BAL, created on first use.
    fn maildir(&self, bal: &str, mailbox: &str) -> io::Result<PathBuf> {
        let mut dir = self.root.join("bal").join(bal_folder(bal));
        if mailbox != "INBOX" {
            dir = dir.join(format!(".{mailbox}"));
        }
        for sub in ["tmp", "new", "cur"] {
            fs::create_dir_all(dir.join(sub))?;
        }
        Ok(dir)
    }

    /// Starts receiving a submitted message.
    pub async fn spool(&self) -> io::Result<SpoolFile> {
        let name = unique_name();
        let tmp = self.root.join("spool/tmp").join(&name);
        let new = self.root.join("spool/new").join(&name);
        let file = tokio::fs::File::create(&tmp).await?;
        Ok(SpoolFile {
            file,
            tmp,
            new,
            committed: false,
        })
    }

    fn write_new(
        &self,
        dir: &Path,
        write: impl FnOnce(&Path) -> io::Result<()>,
    ) -> io::Result<PathBuf> {
        let name = unique_name();
        let tmp = dir.join("tmp").join(&name);
        write(&tmp)?;
        fs::File::open(&tmp)?.sync_all()?;
        let new = dir.join("new").join(&name);
        fs::rename(&tmp, &new)?;
        self.changed();
        Ok(new)
    }

    /// Delivers a copy of a stored message into a BAL's INBOX.
    pub fn deliver(&self, bal: &str, source: &Path) -> io::Result<PathBuf> {
        let dir = self.maildir(bal, "INBOX")?;
        self.write_new(&dir, |tmp| fs::copy(source, tmp).map(|_| ()))
    }

    /// Puts a message given as bytes into a BAL's INBOX (the harness's deliveries).
    pub fn inject(&self, bal: &str, message: &[u8]) -> io::Result<PathBuf> {
        let dir = self.maildir(bal, "INBOX")?;
        self.write_new(&dir, |tmp| fs::write(tmp, message))
    }

    /// Stores a message in a mailbox with its flags and assigns its UID at once (IMAP APPEND,
    /// COPY): returns (UIDVALIDITY, UID).
    fn add(
        &self,
        bal: &str,
        mailbox: &str,
        flags: &BTreeSet<Flag>,
        write: impl FnOnce(&Path) -> io::Result<()>,
    ) -> io::Result<(u32, u32)> {
        let _guard = self.guard();
        let dir = self.maildir(bal, mailbox)?;
        let name = unique_name();
        let tmp = dir.join("tmp").join(&name);
        write(&tmp)?;
        fs::File::open(&tmp)?.sync_all()?;
        fs::rename(
            &tmp,
            dir.join("cur")
                .join(format!("{name}{}", info_suffix(flags))),
        )?;
        let mut list = read_uidlist(&dir)?;
        let uid = list.uid_next;
        list.uids.insert(name, uid);
        list.uid_next += 1;
        write_uidlist(&dir, &list)?;
        self.changed();
        Ok((list.uid_validity, uid))
    }

    /// IMAP APPEND.
    pub fn append(
        &self,
        bal: &str,
        mailbox: &str,
        flags: &BTreeSet<Flag>,
        message: &[u8],
    ) -> io::Result<(u32, u32)> {
        self.add(bal, mailbox, flags, |tmp| fs::write(tmp, message))
    }

    /// IMAP COPY of one message into another mailbox of the same BAL.
    pub fn copy(&self, entry: &Entry, bal: &str, mailbox: &str) -> io::Result<(u32, u32)> {
        self.add(bal, mailbox, &entry.flags, |tmp| {
            fs::copy(&entry.path, tmp).map(|_| ())
        })
    }

    /// Removes a message (IMAP EXPUNGE).
    pub fn remove(&self, entry: &Entry) -> io::Result<()> {
        let _guard = self.guard();
        match fs::remove_file(&entry.path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        self.changed();
        Ok(())
    }

    /// A mailbox of a BAL: new messages move to `cur/` and get their UIDs.
    pub fn snapshot(&self, bal: &str, mailbox: &str) -> io::Result<Snapshot> {
        let _guard = self.guard();
        let dir = self.maildir(bal, mailbox)?;
        let mut list = read_uidlist(&dir)?;
        let mut changed = !dir.join("uidlist.json").exists();

        // Move new/ to cur/ in arrival order, assigning UIDs.
        let mut arrivals: Vec<(std::time::SystemTime, String)> = Vec::new();
        for entry in fs::read_dir(dir.join("new"))? {
            let entry = entry?;
            let modified = entry.metadata()?.modified()?;
            arrivals.push((modified, entry.file_name().to_string_lossy().into_owned()));
        }
        arrivals.sort();
        for (_, name) in arrivals {
            let base = base_name(&name).to_owned();
            fs::rename(
                dir.join("new").join(&name),
                dir.join("cur").join(format!("{base}:2,")),
            )?;
            if !list.uids.contains_key(&base) {
                list.uids.insert(base, list.uid_next);
                list.uid_next += 1;
            }
            changed = true;
        }

        let mut messages = Vec::new();
        let mut present = BTreeSet::new();
        for entry in fs::read_dir(dir.join("cur"))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let base = base_name(&name).to_owned();
            let uid = match list.uids.get(&base) {
                Some(uid) => *uid,
                None => {
                    let uid = list.uid_next;
                    list.uids.insert(base.clone(), uid);
                    list.uid_next += 1;
                    changed = true;
                    uid
                }
            };
            present.insert(base);
            let meta = entry.metadata()?;
            messages.push(Entry {
                uid,
                path: entry.path(),
                size: meta.len(),
                flags: parse_flags(&name),
                internal_date: meta
                    .modified()
                    .map(OffsetDateTime::from)
                    .unwrap_or_else(|_| OffsetDateTime::now_utc()),
            });
        }
        let before = list.uids.len();
        list.uids.retain(|base, _| present.contains(base));
        changed |= list.uids.len() != before;
        messages.sort_by_key(|m| m.uid);

        if changed {
            write_uidlist(&dir, &list)?;
        }
        Ok(Snapshot {
            uid_validity: list.uid_validity,
            uid_next: list.uid_next,
            messages,
        })
    }

    /// Replaces the flags of a message; returns its new path.
    pub fn set_flags(&self, entry: &Entry, flags: &BTreeSet<Flag>) -> io::Result<PathBuf> {
        let _guard = self.guard();
        let name = entry
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target =
            entry
                .path
                .with_file_name(format!("{}{}", base_name(&name), info_suffix(flags)));
        if target != entry.path {
            fs::rename(&entry.path, &target)?;
        }
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn spool_commit_and_abort() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let mut file = store.spool().await.expect("spool");
        file.write(b"Subject: a\r\n\r\nbody\r\n")
            .await
            .expect("write");
        let path = file.commit().await.expect("commit");
        assert!(path.starts_with(dir.path().join("spool/new")));
        assert_eq!(
            fs::read(&path).expect("read"),
            b"Subject: a\r\n\r\nbody\r\n"
        );

        let aborted = store.spool().await.expect("spool");
        drop(aborted);
        assert_eq!(
            fs::read_dir(dir.path().join("spool/tmp"))
                .expect("tmp")
                .count(),
            0
        );
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
        store.set_flags(&second.messages[0], &seen).expect("flags");
        let third = store.snapshot("a@x.fr", "INBOX").expect("snapshot");
        assert_eq!(third.messages[0].flags, seen);
        assert_eq!(third.messages[0].uid, 1);
        assert!(third.messages[0].path.to_string_lossy().ends_with(":2,RS"));
    }

    #[test]
    fn append_copy_remove_across_mailboxes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let changes = store.subscribe();
        let (validity, uid) = store
            .append("a@x.fr", "Sent", &BTreeSet::from([Flag::Seen]), b"sent")
            .expect("append");
        assert_eq!(uid, 1);
        assert!(changes.has_changed().expect("watch"));
        let sent = store.snapshot("a@x.fr", "Sent").expect("sent");
        assert_eq!(sent.uid_validity, validity);
        assert_eq!(sent.messages[0].flags, BTreeSet::from([Flag::Seen]));
        let (_, copied) = store
            .copy(&sent.messages[0], "a@x.fr", "Trash")
            .expect("copy");
        assert_eq!(copied, 1);
        store.remove(&sent.messages[0]).expect("remove");
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
    fn odd_addresses_stay_inside_the_store() {
        assert_eq!(bal_folder("../../etc@x"), "_.._.._etc@x");
        assert_eq!(bal_folder("A/B@x"), "a_b@x");
    }
}
