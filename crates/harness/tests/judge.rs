//! `mss-harness judge` on sessions recorded while real tools nobody here wrote (Python's
//! smtplib and imaplib, curl) talked to the operator: each gets the verdicts it deserves. The
//! recording is the operator's JSON-lines journal file, as `mss-operator --journal` writes it.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use harness::Verdict;
use harness::judge::{JudgeConfig, judge};
use operator::{Directory, Operator, OperatorConfig, OperatorHandle};

const MARIE: &str = "marie.martin@operateur-fictif.mssante.fr";
const PAUL: &str = "paul.durand@operateur-fictif.mssante.fr";

struct Recording {
    op: OperatorHandle,
    root: PathBuf,
    journal: PathBuf,
    _data: tempfile::TempDir,
}

async fn record() -> Recording {
    let directory = Directory::embedded();
    let (pki, _) = pki::ensure(&support::certs(), &directory.pki_profile()).expect("IGC");
    let root = pki.files().root_cert;
    let data = tempfile::tempdir().expect("tempdir");
    let journal = data.path().join("journal.jsonl");
    let mut config = OperatorConfig::new(directory, Arc::new(pki), data.path().join("store"));
    config.journal_file = Some(journal.clone());
    let op = Operator::start(config).await.expect("operator");
    Recording {
        op,
        root,
        journal,
        _data: data,
    }
}

impl Recording {
    fn token(&self) -> String {
        self.op
            .issue_access_token("810000000001", "outil-tiers", Duration::from_secs(600))
            .expect("token")
    }

    /// Stops the operator (the journal file is complete) and judges it.
    async fn judge(self) -> harness::RunResults {
        let journal = self.journal.clone();
        self.op.shutdown().await;
        judge(&JudgeConfig {
            journal,
            spool: None,
            families: Vec::new(),
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }
}

fn have(tool: &str) -> bool {
    let found = Command::new(tool).arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("MSS_REQUIRE_INTEROP").is_none(),
            "{tool} is required (installed by .ci/run)"
        );
        eprintln!("SKIPPED: {tool} is not installed");
    }
    found
}

async fn python(script: &str, args: Vec<String>) -> String {
    let script = script.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg("-c")
            .arg(script)
            .args(args)
            .output()
            .expect("python3")
    })
    .await
    .expect("task");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const SMTPLIB: &str = r#"
import smtplib, ssl, sys, base64
host, port, cafile, user, token, rcpt, clear = sys.argv[1:8]
xoauth2 = "user=%s\x01auth=Bearer %s\x01\x01" % (user, token)
s = smtplib.SMTP(host, int(port), local_hostname="python-lps")
s.ehlo()
if clear == "clear":
    # Credentials before STARTTLS: refused by the operator, then the proper way.
    code, _ = s.docmd("AUTH", "XOAUTH2 " + base64.b64encode(xoauth2.encode()).decode())
    assert code == 530, code
s.starttls(context=ssl.create_default_context(cafile=cafile))
s.ehlo()
s.auth("XOAUTH2", lambda challenge=None: xoauth2)
msg = "From: Dr Marie MARTIN <%s>\r\nTo: <%s>\r\nSubject: smtplib\r\nMessage-ID: <py-%s@lps>\r\nX-MSS-NIL: PY-1\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour\r\n" % (user, rcpt, clear)
s.sendmail(user, [rcpt], msg.encode())
s.quit()
"#;

const IMAPLIB: &str = r#"
import imaplib, ssl, sys
host, port, cafile, user, token = sys.argv[1:6]
m = imaplib.IMAP4(host, int(port))
m.starttls(ssl_context=ssl.create_default_context(cafile=cafile))
m.authenticate("XOAUTH2", lambda c: ("user=%s\x01auth=Bearer %s\x01\x01" % (user, token)).encode())
m.select("INBOX")
typ, data = m.fetch("1", "(RFC822)")
assert typ == "OK", data
m.logout()
"#;

fn args(r: &Recording, addr: std::net::SocketAddr, extra: &[&str]) -> Vec<String> {
    let mut a = vec![
        addr.ip().to_string(),
        addr.port().to_string(),
        r.root.display().to_string(),
        MARIE.to_owned(),
        r.token(),
    ];
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn deliver(r: &Recording) {
    r.op.deliver(
        MARIE,
        b"From: <paul.durand@operateur-fictif.mssante.fr>\r\nTo: <marie.martin@operateur-fictif.mssante.fr>\r\nSubject: pour lecture\r\nMessage-ID: <depot-1@harnais>\r\n\r\nBonjour\r\n",
    )
    .expect("deliver");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_smtplib_and_imaplib_are_conformant_where_they_are() {
    if !have("python3") {
        return;
    }
    let r = record().await;
    let a = r.op.addresses();
    python(SMTPLIB, args(&r, a.psc_smtp, &[PAUL, "tls"])).await;
    deliver(&r);
    python(IMAPLIB, args(&r, a.psc_imap, &[])).await;
    let results = r.judge().await;
    for id in [
        "ECO.1.0.1",
        "ECO.1.0.2",
        "ECO.1.2.1",
        "ECO.2.2.1",
        "ECO.2.4.3",
    ] {
        assert_eq!(results.verdict(id), Some(Verdict::Passed), "{id}");
    }
    // Only the Pro Santé Connect entry point was used: the family is PER_ORG, and the
    // certificate requirement does not concern it.
    assert_eq!(results.verdict("ECO.1.3.1"), Some(Verdict::NotApplicable));
    assert_eq!(results.families, vec![catalog::Family::PerOrg]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_clear_fail_even_when_refused() {
    if !have("python3") {
        return;
    }
    let r = record().await;
    let a = r.op.addresses();
    python(SMTPLIB, args(&r, a.psc_smtp, &[PAUL, "clear"])).await;
    let results = r.judge().await;
    assert_eq!(results.verdict("ECO.1.0.1"), Some(Verdict::Failed));
    assert_eq!(results.verdict("ECO.1.2.1"), Some(Verdict::Failed));
    let failed = results
        .requirements
        .iter()
        .find(|x| x.id == "ECO.1.2.1")
        .expect("1.2.1");
    assert!(
        failed.explanation.contains("en clair"),
        "{}",
        failed.explanation
    );
    // Nothing was fetched: IMAP is not judged.
    assert_eq!(results.verdict("ECO.1.0.2"), Some(Verdict::NotTested));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_submits_properly_but_writes_no_mssante_header() {
    if !have("curl") {
        return;
    }
    let r = record().await;
    let port = r.op.addresses().psc_smtp.port();
    let message = "From: Dr Marie MARTIN <marie.martin@operateur-fictif.mssante.fr>\r\nTo: <paul.durand@operateur-fictif.mssante.fr>\r\nSubject: curl\r\n\r\nBonjour\r\n";
    let token = r.token();
    let root = r.root.display().to_string();
    let out = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = Command::new("curl")
            .args([
                "-sS",
                "--url",
                &format!("smtp://mail-psc.operateur-fictif.mssante.fr:{port}"),
                "--resolve",
                &format!("mail-psc.operateur-fictif.mssante.fr:{port}:127.0.0.1"),
                "--ssl-reqd",
                "--cacert",
                &root,
                "--mail-from",
                MARIE,
                "--mail-rcpt",
                PAUL,
                "--upload-file",
                "-",
                "--user",
                &format!("{MARIE}:"),
                "--oauth2-bearer",
                &token,
                "--sasl-ir",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("curl");
        if let Some(mut input) = child.stdin.take() {
            let _ = input.write_all(message.as_bytes());
        }
        child.wait_with_output().expect("wait")
    })
    .await
    .expect("task");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results = r.judge().await;
    assert_eq!(results.verdict("ECO.1.0.1"), Some(Verdict::Passed));
    assert_eq!(results.verdict("ECO.1.2.1"), Some(Verdict::Passed));
    // curl writes neither a Message-ID nor X-MSS-NIL: the messages say so.
    assert_eq!(results.verdict("ECO.2.2.1"), Some(Verdict::Failed));
    assert_eq!(results.verdict("ECO.2.4.3"), Some(Verdict::Failed));
}

#[test]
fn a_foreign_or_truncated_journal_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let judge_file = |name: &str, text: &str| -> String {
        let path: PathBuf = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        judge(&JudgeConfig {
            journal: path,
            spool: None,
            families: Vec::new(),
        })
        .expect_err("must not judge")
        .to_string()
    };
    let e = judge_file("foreign.jsonl", "{\"name\": \"not a journal\"}\n");
    assert!(e.contains("foreign.jsonl") && e.contains("ligne 1"), "{e}");
    let e = judge_file(
        "cut.jsonl",
        "{\"seq\":1,\"at\":\"2026-11-30T10:00:00Z\",\"type\":\"mark",
    );
    assert!(e.contains("tronquée"), "{e}");
    let e = judge(&JudgeConfig {
        journal: Path::new("/nonexistent/journal.jsonl").to_owned(),
        spool: None,
        families: Vec::new(),
    })
    .expect_err("missing")
    .to_string();
    assert!(e.contains("lecture impossible"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reports_journal_and_messages_judge_again_offline() {
    let out = tempfile::tempdir().expect("tempdir");
    let mut config = support::config();
    config.requirements = vec!["ECO.2.4.3".into()];
    config.journals = Some(out.path().join("journaux"));
    config.messages = Some(out.path().join("messages"));
    let results = harness::run(config).await.expect("run");
    let scenario = &results.scenarios[0];
    assert!(!scenario.messages.is_empty(), "the messages are kept");
    let journal = out
        .path()
        .join("journaux")
        .join(scenario.journal.as_ref().expect("journal"));
    let judged = judge(&JudgeConfig {
        journal,
        spool: Some(out.path().join("messages")),
        families: Vec::new(),
    })
    .expect("judge");
    assert_eq!(judged.verdict("ECO.2.4.3"), Some(Verdict::Passed));
    assert_eq!(judged.verdict("ECO.1.0.1"), Some(Verdict::Passed));
}
