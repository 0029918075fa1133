//! The IMAP mailbox commands against clients nobody here wrote: Python's `imaplib` (every
//! command of IMAP4rev1 and the extensions advertised), IDLE woken by a delivery, the MOVE
//! fault, `mbsync` (isync) synchronising an application BAL both ways, and `neomutt` sending in
//! batch mode and filing its copy in `Sent` with APPEND.

mod support;

use std::time::Duration;

use operator::Faults;
use operator::journal::{AuthVerdict, EventKind, Service};
use support::*;

const MULTIPART: &str = "From: =?utf-8?q?H=C3=B4pital_A?= <secretariat@hopital-a.mssante.fr>\r\nTo: <marie.martin@operateur-fictif.mssante.fr>\r\nSubject: Compte rendu\r\nDate: Tue, 3 Nov 2026 10:00:00 +0100\r\nMessage-ID: <cr-1@hopital-a>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B1\"\r\n\r\n--B1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nR=C3=A9sultats normaux\r\n--B1\r\nContent-Type: application/pdf; name=\"cr.pdf\"\r\nContent-Disposition: attachment; filename=\"cr.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--B1--\r\n";

const SIMPLE: &str = "From: <paul.durand@operateur-fictif.mssante.fr>\r\nTo: <marie.martin@operateur-fictif.mssante.fr>\r\nSubject: Rappel\r\nMessage-ID: <rappel-2@x>\r\n\r\nA demain\r\n";

/// Every mailbox command through `imaplib`; each step asserts what a client relies on.
const MAILBOXES: &str = r#"
import imaplib, re, ssl, sys
from email.header import decode_header, make_header
host, port, cafile, user, token = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=cafile)
m = imaplib.IMAP4(host, int(port))
m.starttls(ssl_context=ctx)
m.authenticate("XOAUTH2", lambda c: ("user=%s\x01auth=Bearer %s\x01\x01" % (user, token)).encode())
caps = m.capability()[1][0].split()
for cap in (b"IDLE", b"MOVE", b"UIDPLUS", b"ENABLE", b"SPECIAL-USE", b"UNSELECT"):
    assert cap in caps, (cap, caps)

def ok(result, what):
    typ, data = result
    assert typ == "OK", (what, typ, data)
    return data

# LIST with RFC 6154 special uses; LSUB; the root.
listed = ok(m.list(), "LIST")
names = {}
for line in listed:
    attrs, _, name = re.match(rb'\((.*?)\) "(.)" (.*)', line).groups()
    names[name.strip(b'"')] = attrs
assert set(names) == {b"INBOX", b"Sent", b"Drafts", b"Trash"}, names
assert b"\\Sent" in names[b"Sent"] and b"\\Trash" in names[b"Trash"] and b"\\Drafts" in names[b"Drafts"], names
assert len(ok(m.lsub(), "LSUB")) == 4
assert b"\\Noselect" in ok(m.list('""', '""'), "LIST root")[0]
typ, data = m.create("Archives")
assert typ == "NO", data
ok(m.subscribe("Sent"), "SUBSCRIBE")
assert ok(m._simple_command("ENABLE", "CONDSTORE"), "ENABLE") is not None

# STATUS before selecting.
status = ok(m.status("INBOX", "(MESSAGES UNSEEN UIDNEXT UIDVALIDITY RECENT)"), "STATUS")[0]
assert b"MESSAGES 2" in status and b"UNSEEN 2" in status and b"UIDNEXT 3" in status, status
typ, data = m.status("Nowhere", "(MESSAGES)")
assert typ == "NO", data

# SELECT, FETCH of the structure and of sections.
assert ok(m.select("INBOX"), "SELECT") == [b"2"]
env = ok(m.fetch("1", "(ENVELOPE)"), "ENVELOPE")[0]
assert b'"Compte rendu"' in env and b'NIL "secretariat" "hopital-a.mssante.fr"' in env, env
name = re.search(rb'\(\("([^"]*)" NIL "secretariat"', env).group(1).decode()
assert str(make_header(decode_header(name))) == "H\u00f4pital A", name
assert b'"<cr-1@hopital-a>"' in env, env
bs = ok(m.fetch("1", "(BODYSTRUCTURE)"), "BODYSTRUCTURE")[0]
assert b'("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 22 1' in bs, bs
assert b'"APPLICATION" "PDF" ("NAME" "cr.pdf") NIL NIL "BASE64" 12' in bs, bs
assert b'("ATTACHMENT" ("FILENAME" "cr.pdf"))' in bs and b'"MIXED" ("BOUNDARY" "B1")' in bs, bs
body = ok(m.fetch("1", "(BODY)"), "BODY")[0]
assert b"ATTACHMENT" not in body, body
part = ok(m.fetch("1", "(BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[2]<0.5>)"), "sections")
flat = b"".join(p if isinstance(p, bytes) else p[0] + p[1] for p in part)
assert b"R=C3=A9sultats normaux" in flat and b"filename=\"cr.pdf\"" in flat and b"JVBER" in flat, flat
assert b"\\Seen" not in ok(m.fetch("1", "(FLAGS)"), "FLAGS")[0], "PEEK must not set \\Seen"
full = ok(m.fetch("2", "FULL"), "FULL")[0]
assert b"ENVELOPE" in full and b"BODY (" in full and b"RFC822.SIZE" in full, full

# SEARCH and UID SEARCH.
assert ok(m.search(None, "ALL"), "SEARCH") == [b"1 2"]
assert ok(m.search(None, "SUBJECT", '"compte"'), "SEARCH SUBJECT") == [b"1"]
assert ok(m.search(None, "FROM", "paul.durand"), "SEARCH FROM") == [b"2"]
assert ok(m.search(None, "BODY", "demain"), "SEARCH BODY") == [b"2"]
assert ok(m.search(None, "HEADER", "Message-ID", "rappel"), "SEARCH HEADER") == [b"2"]
assert ok(m.search(None, "SENTON", "3-Nov-2026"), "SEARCH SENTON") == [b"1"]
assert ok(m.search(None, "NOT", "SUBJECT", "rappel"), "SEARCH NOT") == [b"1"]
assert ok(m.search(None, "OR", "SUBJECT", "rappel", "SUBJECT", "compte"), "OR") == [b"1 2"]
assert ok(m.uid("SEARCH", "UID", "2:*"), "UID SEARCH") == [b"2"]
typ, data = m.search("KOI8-R", "ALL")
assert typ == "NO" and b"BADCHARSET" in data[0], data
ok(m.search("UTF-8", "ALL"), "SEARCH CHARSET UTF-8")

# A non-peek body fetch sets \Seen and says so.
seen = ok(m.fetch("2", "(BODY[TEXT])"), "BODY[TEXT]")
assert any(b"\\Seen" in (p[0] if isinstance(p, tuple) else p) for p in seen), seen
assert ok(m.search(None, "UNSEEN"), "UNSEEN") == [b"1"]

# STORE in its three forms, with and without the answer.
stored = ok(m.store("1", "+FLAGS", "(\\Flagged \\Answered)"), "STORE +FLAGS")[0]
assert b"\\Flagged" in stored and b"\\Answered" in stored, stored
ok(m.store("1", "-FLAGS", "(\\Answered)"), "STORE -FLAGS")
assert ok(m.store("1", "+FLAGS.SILENT", "(\\Seen)"), "SILENT") == [None]
flags = ok(m.uid("FETCH", "1", "(FLAGS)"), "UID FETCH FLAGS")[0]
assert b"\\Flagged" in flags and b"\\Seen" in flags and b"\\Answered" not in flags and b"UID 1" in flags, flags
ok(m.store("1", "FLAGS", "(\\Seen)"), "STORE FLAGS")

# APPEND to Sent with APPENDUID; append to the selected mailbox reports EXISTS.
typ, data = m.append("Sent", "(\\Seen)", None, b"From: <%s>\r\nSubject: envoye\r\nMessage-ID: <sent-1@lps>\r\n\r\ncopie\r\n" % user.encode())
assert typ == "OK" and re.search(rb"APPENDUID \d+ 1\]", data[0]), data
typ, data = m.append("Archives", None, None, b"Subject: x\r\n\r\ny\r\n")
assert typ == "NO" and b"TRYCREATE" in data[0], data
ok(m.append("INBOX", None, None, b"Subject: third\r\nMessage-ID: <third@x>\r\n\r\n3\r\n"), "APPEND INBOX")
assert m.response("EXISTS")[1][-1] == b"3", m.untagged_responses

# COPY with COPYUID; MOVE with COPYUID and the expunge of the source.
typ, data = m.copy("1", "Drafts")
assert typ == "OK" and b"COPYUID" in data[0], data
typ, data = m._simple_command("MOVE", "2", "Trash")
assert typ == "OK", data
moved = m.untagged_responses
assert b"2" in moved.get("EXPUNGE", []), moved
assert any(b"COPYUID" in r for r in moved.get("OK", [])), moved
m.untagged_responses.clear()
assert ok(m.search(None, "ALL"), "after MOVE") == [b"1 2"]

# UID EXPUNGE removes only the named UIDs among the \Deleted ones.
ok(m.store("1:2", "+FLAGS", "(\\Deleted)"), "mark deleted")
ok(m.uid("EXPUNGE", "3"), "UID EXPUNGE")
assert m.untagged_responses.pop("EXPUNGE") == [b"2"], m.untagged_responses
assert ok(m.search(None, "ALL"), "after UID EXPUNGE") == [b"1"]
assert ok(m.expunge(), "EXPUNGE") == [b"1"]
empty = ok(m.search(None, "ALL"), "after EXPUNGE")
assert empty == [b""], empty

# EXAMINE is read-only; CLOSE expunges silently; UNSELECT does not.
ok(m.select("Trash", readonly=True), "EXAMINE")
typ, data = m.store("1", "+FLAGS", "(\\Deleted)")
assert typ == "NO", data
ok(m.select("Drafts"), "SELECT Drafts")
ok(m.store("1", "+FLAGS", "(\\Deleted)"), "delete draft")
ok(m.unselect(), "UNSELECT")
ok(m.select("Drafts"), "SELECT Drafts again")
ok(m.close(), "CLOSE")
status = ok(m.status("Drafts", "(MESSAGES)"), "STATUS Drafts")[0]
assert b"MESSAGES 0" in status, status
status = ok(m.status("Sent", "(MESSAGES)"), "STATUS Sent")[0]
assert b"MESSAGES 1" in status, status
# A message well over a command's size (a sent copy with attachments), then one over APPENDLIMIT.
assert b"APPENDLIMIT=26214400" in m.capability()[1][0]
big = b"Subject: big\r\n\r\n" + b"x" * 76 * 14000 + b"\r\n"
typ, data = m.append("Sent", None, None, big)
assert typ == "OK" and re.search(rb"APPENDUID \d+ 2\]", data[0]), data
typ, data = m.append("Sent", None, None, b"x" * (26214400 + 1))
assert typ == "NO" and b"TOOBIG" in data[0], data
ok(m.noop(), "NOOP")
m.logout()
print("MAILBOXES OK")
"#;

async fn imaplib(f: &Fixture, script: &str) -> Output {
    let addr = f.op.addresses().psc_imap;
    python(f, script, addr, BAL_MARIE, f.token(PS_MARIE), &[]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imaplib_drives_every_mailbox_command() {
    if !have("python3") {
        return;
    }
    let f = start().await;
    f.op.deliver(BAL_MARIE, MULTIPART.as_bytes())
        .expect("deliver");
    f.op.deliver(BAL_MARIE, SIMPLE.as_bytes()).expect("deliver");
    let out = imaplib(&f, MAILBOXES).await;
    assert!(
        out.ok && out.stdout.contains("MAILBOXES OK"),
        "{}",
        out.all()
    );

    let journal = f.op.journal().snapshot();
    let kinds: Vec<&EventKind> = journal.iter().map(|e| &e.kind).collect();
    assert!(kinds.iter().any(|k| matches!(k,
        EventKind::MessageAppended { mailbox, message_id: Some(id), uid: 1, .. }
            if mailbox == "Sent" && id == "sent-1@lps")));
    assert!(kinds.iter().any(|k| matches!(k,
        EventKind::MessagesCopied { from, to, moved: true, uids, .. }
            if from == "INBOX" && to == "Trash" && uids == &vec![(2, 1)])));
    assert!(kinds.iter().any(|k| matches!(k,
        EventKind::MessagesCopied { to, moved: false, .. } if to == "Drafts")));
    let expunged: Vec<(&str, u32)> = kinds
        .iter()
        .filter_map(|k| match k {
            EventKind::MessageExpunged { mailbox, uid, .. } => Some((mailbox.as_str(), *uid)),
            _ => None,
        })
        .collect();
    assert_eq!(
        expunged,
        vec![("INBOX", 2), ("INBOX", 3), ("INBOX", 1), ("Drafts", 1)],
        "MOVE, UID EXPUNGE 3, EXPUNGE, CLOSE"
    );
    assert!(kinds.iter().any(|k| matches!(k,
        EventKind::FlagsChanged { mailbox, uid: 2, flags, .. }
            if mailbox == "INBOX" && flags == &vec!["\\Seen".to_owned()])));
    // Fetches name the mailbox and tell metadata from content.
    assert!(kinds.iter().any(|k| matches!(k,
        EventKind::MessageFetched { mailbox, body: false, message_id: Some(id), .. }
            if mailbox == "INBOX" && id == "cr-1@hopital-a")));
}

/// IDLE until the operator reports the delivery, then DONE (imaplib has no IDLE before 3.14).
const IDLE: &str = r#"
import imaplib, ssl, sys
host, port, cafile, user, token = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=cafile)
m = imaplib.IMAP4(host, int(port))
m.starttls(ssl_context=ctx)
m.authenticate("XOAUTH2", lambda c: ("user=%s\x01auth=Bearer %s\x01\x01" % (user, token)).encode())
assert m.select("INBOX")[1] == [b"0"]
tag = m._new_tag()
m.send(tag + b" IDLE\r\n")
assert m.readline().startswith(b"+"), "continuation"
line = m.readline()
assert line == b"* 1 EXISTS\r\n", line
m.send(b"DONE\r\n")
line = m.readline()
assert line.startswith(tag + b" OK"), line
typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
assert b"idle-1@x" in data[0][1], data
m.logout()
print("IDLE OK")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_reports_a_delivery_at_once() {
    if !have("python3") {
        return;
    }
    let f = start().await;
    let journal = f.op.journal();
    let client = {
        let addr = f.op.addresses().psc_imap;
        let args = python_args(&f, IDLE, addr, BAL_MARIE, f.token(PS_MARIE), &[]);
        tokio::spawn(async move { run("python3", args, None).await })
    };
    journal
        .wait_for(
            0,
            Duration::from_secs(30),
            |e| matches!(&e.kind, EventKind::Command { verb, .. } if verb == "IDLE"),
        )
        .await
        .expect("the client is idling");
    f.op.deliver(
        BAL_MARIE,
        b"Subject: idle\r\nMessage-ID: <idle-1@x>\r\n\r\nx\r\n",
    )
    .expect("deliver");
    let out = client.await.expect("client task");
    assert!(out.ok && out.stdout.contains("IDLE OK"), "{}", out.all());
}

/// Two sessions of one BAL: what the second does in INBOX (flags, expunge, append) reaches the
/// first, idling, as FETCH/EXPUNGE/EXISTS; what it does in Sent does not wake it.
const IDLE_TWO_SESSIONS: &str = r#"
import imaplib, ssl, sys, socket
host, port, cafile, user, token = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=cafile)
def login():
    m = imaplib.IMAP4(host, int(port))
    m.starttls(ssl_context=ctx)
    m.authenticate("XOAUTH2", lambda c: ("user=%s\x01auth=Bearer %s\x01\x01" % (user, token)).encode())
    return m
a, b = login(), login()
assert a.select("INBOX")[1] == [b"3"]
tag = a._new_tag()
a.send(tag + b" IDLE\r\n")
assert a.readline().startswith(b"+"), "continuation"
b.select("INBOX")
b.append("Sent", "(\\Seen)", None, b"Subject: sent\r\n\r\nx\r\n")
b.store("1", "+FLAGS", "(\\Flagged)")
b.store("2", "+FLAGS", "(\\Deleted)")
b.expunge()
b.append("INBOX", None, None, b"Subject: new\r\nMessage-ID: <new@x>\r\n\r\nx\r\n")
a.sock.settimeout(20)
seen = []
while not any(l.endswith(b"EXISTS\r\n") for l in seen):
    seen.append(a.readline())
a.send(b"DONE\r\n")
line = a.readline()
assert line.startswith(tag + b" OK"), line
print(repr(seen))
assert b"* 1 FETCH (FLAGS (\\Flagged))\r\n" in seen, seen
assert b"* 2 EXPUNGE\r\n" in seen, seen
assert seen[-1] == b"* 3 EXISTS\r\n", seen
typ, data = a.fetch("3", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
assert b"new@x" in data[0][1], data
a.logout(); b.logout()
print("TWO SESSIONS OK")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_reports_another_sessions_changes_of_its_mailbox_only() {
    if !have("python3") {
        return;
    }
    let f = start().await;
    for n in 1..=3 {
        f.op.deliver(
            BAL_MARIE,
            format!("Subject: {n}\r\nMessage-ID: <m{n}@x>\r\n\r\nx\r\n").as_bytes(),
        )
        .expect("deliver");
    }
    let addr = f.op.addresses().psc_imap;
    let args = python_args(
        &f,
        IDLE_TWO_SESSIONS,
        addr,
        BAL_MARIE,
        f.token(PS_MARIE),
        &[],
    );
    let out = run("python3", args, None).await;
    assert!(
        out.ok && out.stdout.contains("TWO SESSIONS OK"),
        "{}",
        out.all()
    );
}

/// Two sessions of one BAL, the first with an outdated view: its FETCH that sets \\Seen, its
/// STORE +FLAGS and its COPY keep (and report) what the second changed meanwhile; an IDLE
/// started after a change reports it at once.
const STALE_VIEW: &str = r#"
import imaplib, ssl, sys
host, port, cafile, user, token = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=cafile)
def login():
    m = imaplib.IMAP4(host, int(port))
    m.starttls(ssl_context=ctx)
    m.authenticate("XOAUTH2", lambda c: ("user=%s\x01auth=Bearer %s\x01\x01" % (user, token)).encode())
    return m
a, b = login(), login()
a.select("INBOX"); b.select("INBOX")
typ, data = a.fetch("1", "(ENVELOPE)")
assert typ == "OK", data
b.store("1", "+FLAGS", "(\\Flagged)")
typ, data = a.fetch("1", "(BODY[HEADER])")
text = b" ".join(d[0] if isinstance(d, tuple) else d for d in data)
assert b"\\Flagged" in text and b"\\Seen" in text, text
typ, data = a.store("1", "+FLAGS", "(\\Answered)")
assert all(f in data[0] for f in (b"\\Flagged", b"\\Seen", b"\\Answered")), data
b.store("1", "-FLAGS", "(\\Answered)")
typ, data = a.copy("1", "Trash")
assert typ == "OK", data
typ, data = b.fetch("1", "(FLAGS)")
assert b"\\Flagged" in data[0] and b"\\Seen" in data[0] and b"\\Answered" not in data[0], data
b.append("INBOX", None, None, b"Subject: before idle\r\n\r\nx\r\n")
tag = a._new_tag()
a.send(tag + b" IDLE\r\n")
assert a.readline().startswith(b"+"), "continuation"
a.sock.settimeout(20)
lines = []
while not lines or not lines[-1].endswith(b"EXISTS\r\n"):
    lines.append(a.readline())
assert b"* 1 FETCH (FLAGS (\\Flagged \\Seen))\r\n" in lines, lines
assert lines[-1] == b"* 2 EXISTS\r\n", lines
a.send(b"DONE\r\n")
assert a.readline().startswith(tag + b" OK")
a.logout(); b.logout()
print("STALE VIEW OK")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_with_an_outdated_view_keeps_and_reports_other_sessions_flags() {
    if !have("python3") {
        return;
    }
    let f = start().await;
    f.op.deliver(
        BAL_MARIE,
        b"Subject: one\r\nMessage-ID: <one@x>\r\n\r\nx\r\n",
    )
    .expect("deliver");
    let addr = f.op.addresses().psc_imap;
    let args = python_args(&f, STALE_VIEW, addr, BAL_MARIE, f.token(PS_MARIE), &[]);
    let out = run("python3", args, None).await;
    assert!(
        out.ok && out.stdout.contains("STALE VIEW OK"),
        "{}",
        out.all()
    );
}

const MOVE_FAILS: &str = r#"
import imaplib, ssl, sys
host, port, cafile, user, token = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=cafile)
m = imaplib.IMAP4(host, int(port))
m.starttls(ssl_context=ctx)
m.authenticate("XOAUTH2", lambda c: ("user=%s\x01auth=Bearer %s\x01\x01" % (user, token)).encode())
m.select("INBOX")
typ, data = m._simple_command("MOVE", "1", "Trash")
assert typ == "NO", (typ, data)
assert m.select("INBOX")[1] == [b"1"], "the message stays in INBOX"
assert b"MESSAGES 0" in m.status("Trash", "(MESSAGES)")[1][0], "and is not copied"
typ, data = m.copy("1", "Trash")
assert typ == "OK", "COPY still works"
m.logout()
print("MOVE FAULT OK")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_fault_refuses_without_losing_or_duplicating() {
    if !have("python3") {
        return;
    }
    let f = start().await;
    f.op.deliver(BAL_MARIE, SIMPLE.as_bytes()).expect("deliver");
    f.op.set_faults(Faults {
        move_fails: true,
        ..Faults::default()
    });
    let out = imaplib(&f, MOVE_FAILS).await;
    assert!(
        out.ok && out.stdout.contains("MOVE FAULT OK"),
        "{}",
        out.all()
    );
    assert!(f.op.journal().snapshot().iter().any(|e| matches!(
        &e.kind,
        EventKind::FaultInjected { fault } if fault.contains("MOVE")
    )));
}

fn mbsyncrc(f: &Fixture, local: &std::path::Path, chain: &str, key: &str) -> String {
    let a = f.op.addresses();
    format!(
        "IMAPAccount app\nHost localhost\nPort {port}\nUser {BAL_APP}\nPass unused\nSSLType STARTTLS\n\
         CertificateFile {ca}\nClientCertificate {chain}\nClientKey {key}\nAuthMechs PLAIN\n\n\
         IMAPStore remote\nAccount app\n\n\
         MaildirStore local\nPath {local}/\nInbox {local}/INBOX\nSubFolders Verbatim\n\n\
         Channel app\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\nSync All\n\
         Expunge Both\nSyncState *\n",
        port = a.app_imap.port(),
        ca = s(&f.root()),
        local = s(local),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mbsync_synchronises_an_application_bal_both_ways() {
    if !have("mbsync") {
        return;
    }
    let f = start().await;
    f.op.deliver(BAL_APP, MULTIPART.as_bytes())
        .expect("deliver");
    f.op.deliver(BAL_APP, SIMPLE.as_bytes()).expect("deliver");
    let (chain, key) = f.client_files(APP_STRUCTURE);
    let local = f.data.path().join("mbsync");
    std::fs::create_dir_all(&local).expect("mkdir");
    let rc = f.data.path().join("mbsyncrc");
    std::fs::write(&rc, mbsyncrc(&f, &local, &s(&chain), &s(&key))).expect("rc");
    let sync = || run("mbsync", vec!["-c".into(), s(&rc), "-a".into()], None);

    let out = sync().await;
    assert!(out.ok, "first sync: {}", out.all());
    let files = |dir: &str| -> Vec<std::path::PathBuf> {
        ["new", "cur"]
            .iter()
            .flat_map(|sub| {
                std::fs::read_dir(local.join(dir).join(sub))
                    .into_iter()
                    .flatten()
            })
            .map(|e| e.expect("entry").path())
            .collect()
    };
    let inbox = files("INBOX");
    assert_eq!(inbox.len(), 2, "both messages arrived: {inbox:?}");
    for mailbox in ["Sent", "Drafts", "Trash"] {
        assert!(
            local.join(mailbox).is_dir(),
            "{mailbox} was created locally"
        );
    }

    // Locally: read one message, file a sent message; the next sync pushes both.
    let read = &inbox[0];
    let name = read
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let seen = local
        .join("INBOX/cur")
        .join(format!("{}:2,S", name.split(":2,").next().expect("base")));
    std::fs::rename(read, &seen).expect("mark seen");
    std::fs::write(
        local.join("Sent/new/1700000000.local.host"),
        b"From: <resultats-biologie@operateur-fictif.mssante.fr>\r\nSubject: resultat\r\nMessage-ID: <mbsync-sent@lab>\r\n\r\nok\r\n",
    )
    .expect("local sent");
    let mark = f.op.journal().len() as u64;
    let out = sync().await;
    assert!(out.ok, "second sync: {}", out.all());
    let journal = f.op.journal().snapshot();
    let after = || journal.iter().filter(|e| e.seq > mark);
    assert!(
        after().any(|e| matches!(&e.kind,
        EventKind::MessageAppended { mailbox, message_id: Some(id), .. }
            if mailbox == "Sent" && id == "mbsync-sent@lab")),
        "APPEND to Sent"
    );
    assert!(
        after().any(|e| matches!(&e.kind,
        EventKind::FlagsChanged { mailbox, flags, .. }
            if mailbox == "INBOX" && flags.contains(&"\\Seen".to_owned()))),
        "\\Seen pushed"
    );
    // Every session used the certificate entry point with PLAIN, never LOGIN.
    assert!(!journal.iter().any(|e| matches!(&e.kind,
        EventKind::Command { verb, .. } if verb == "LOGIN")));
    assert!(journal.iter().any(|e| matches!(&e.kind,
        EventKind::Auth { service: Service::Imap, mechanism, verdict: AuthVerdict::Accepted, .. }
            if mechanism == "PLAIN")));
}

/// The dialogue the journal recorded, to show why a client failed.
fn commands(journal: &[std::sync::Arc<operator::Event>]) -> Vec<String> {
    journal
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Command { line, .. } => Some(format!("C: {line}")),
            EventKind::Reply { line, .. } => Some(format!("S: {line}")),
            _ => None,
        })
        .collect()
}

fn neomuttrc(f: &Fixture, token: &str) -> String {
    let a = f.op.addresses();
    format!(
        "set from=\"Dr Marie MARTIN <{BAL_MARIE}>\"\nset use_from=yes\n\
         set smtp_url=\"smtp://{BAL_MARIE}@localhost:{sp}/\"\nset smtp_authenticators=\"xoauth2\"\n\
         set smtp_oauth_refresh_command=\"echo {token}\"\n\
         set folder=\"imap://{BAL_MARIE}@localhost:{ip}/\"\nset spoolfile=\"+INBOX\"\n\
         set record=\"\"\nset copy=no\n\
         set imap_authenticators=\"xoauth2\"\nset imap_oauth_refresh_command=\"echo {token}\"\n\
         set ssl_starttls=yes\nset ssl_force_tls=yes\nset ssl_ca_certificates_file=\"{ca}\"\n\
         set certificate_file=\"{certs}\"\nset header_cache=\"\"\nset message_cachedir=\"\"\n\
         set confirmappend=no\nset confirmcreate=no\nset delete=yes\nset move=no\nset quit=yes\n\
         set mark_old=no\nset wait_key=no\nset beep=no\nset crypt_autosign=no\n\
         set send_charset=\"utf-8\"\n",
        sp = a.psc_smtp.port(),
        ip = a.psc_imap.port(),
        ca = s(&f.root()),
        certs = s(&f.data.path().join("neomutt-certificates")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neomutt_sends_with_xoauth2_in_batch_mode() {
    if !have("neomutt") {
        return;
    }
    let f = start().await;
    let rc = f.data.path().join("neomuttrc");
    std::fs::write(&rc, neomuttrc(&f, &f.token(PS_MARIE))).expect("rc");
    let out = run(
        "neomutt",
        vec![
            "-n".into(),
            "-F".into(),
            s(&rc),
            "-s".into(),
            "Avis neomutt".into(),
            "--".into(),
            BAL_PAUL.into(),
        ],
        Some(b"Bonjour,\nvoici mon avis.\n".to_vec()),
    )
    .await;
    assert!(out.ok, "{}", out.all());
    let journal = f.op.journal().snapshot();
    assert!(
        journal.iter().any(|e| matches!(&e.kind,
            EventKind::MessageAccepted { delivered_to, .. } if delivered_to == &vec![BAL_PAUL.to_owned()])),
        "sent over SMTP with XOAUTH2: {}\n{:#?}",
        out.all(),
        commands(&journal)
    );
}

/// neomutt's interface, driven by pushed keys in a pseudo-terminal (`script`, util-linux):
/// read the first message, copy it to Sent, delete the second, synchronise, quit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neomutt_reads_files_and_deletes_over_imap() {
    if !have("neomutt") || !have("script") {
        return;
    }
    let f = start().await;
    f.op.deliver(BAL_MARIE, MULTIPART.as_bytes())
        .expect("deliver");
    f.op.deliver(BAL_MARIE, SIMPLE.as_bytes()).expect("deliver");
    let rc = f.data.path().join("neomuttrc");
    std::fs::write(&rc, neomuttrc(&f, &f.token(PS_MARIE))).expect("rc");
    let keys = "<display-message><exit><copy-message>=Sent<enter><next-undeleted>\
                <delete-message><sync-mailbox><quit>";
    let command = format!(
        "env TERM=xterm neomutt -n -F '{}' -e 'push \"{keys}\"'",
        s(&rc)
    );
    let out = run(
        "script",
        vec!["-qec".into(), command, "/dev/null".into()],
        None,
    )
    .await;
    let journal = f.op.journal().snapshot();
    let why = || format!("{}\n{:#?}", out.all(), commands(&journal));
    assert!(out.ok, "{}", why());
    let kinds: Vec<&EventKind> = journal.iter().map(|e| &e.kind).collect();
    assert!(
        kinds.iter().any(|k| matches!(k,
            EventKind::MessageFetched { uid: 1, body: true, mailbox, .. } if mailbox == "INBOX")),
        "read: {}",
        why()
    );
    assert!(
        kinds.iter().any(|k| matches!(k,
            EventKind::MessagesCopied { to, uids, moved: false, .. } if to == "Sent" && uids == &vec![(1, 1)])),
        "copied to Sent: {}",
        why()
    );
    assert!(
        kinds.iter().any(|k| matches!(k,
            EventKind::MessageExpunged { uid: 2, mailbox, .. } if mailbox == "INBOX")),
        "deleted: {}",
        why()
    );
}
