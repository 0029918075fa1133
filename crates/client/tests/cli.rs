//! `mss-client` from the command line: an account file and a message in the JSON of seeds/000.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use client::{Account, Credentials, Endpoint, Secret, Trust};
use operator::{Directory, EntryPoint, Operator, OperatorConfig, Service};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_a_seed_message_and_fetches_it() {
    let directory = Directory::embedded();
    let certs = std::env::var_os("MSS_CERTS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../certs"));
    let (pki, _) = pki::ensure(&certs, &directory.pki_profile()).expect("pki");
    let data = tempfile::tempdir().expect("tempdir");
    let op = Operator::start(OperatorConfig::new(
        directory,
        Arc::new(pki.clone()),
        data.path().into(),
    ))
    .await
    .expect("operator");
    let account = |address: &str, ps: &str| Account {
        address: address.into(),
        display_name: "Dr Marie MARTIN".into(),
        reply_to: None,
        nil: "CLI/TEST/1".into(),
        smtp: Endpoint {
            host: "mail-psc.operateur-fictif.mssante.fr".into(),
            addr: op.addresses().of(Service::Smtp, EntryPoint::Psc),
        },
        imap: Endpoint {
            host: "mail-psc.operateur-fictif.mssante.fr".into(),
            addr: op.addresses().of(Service::Imap, EntryPoint::Psc),
        },
        credentials: Credentials::Xoauth2 {
            token: Secret(
                op.issue_access_token(ps, "cli", Duration::from_secs(600))
                    .expect("token"),
            ),
        },
        trust: Trust {
            root_pem: pki.root.cert.pem.clone(),
            organisations_pem: pki.organisations.cert.pem.clone(),
        },
        connect_to: ["crl", "ocsp"]
            .map(|h| client::ConnectTo {
                host: format!("{h}.operateur-fictif.mssante.fr"),
                port: None,
                address: op.addresses().http.ip(),
                to_port: Some(op.addresses().http.port()),
            })
            .to_vec(),
    };
    let marie = data.path().join("marie.json");
    let paul = data.path().join("paul.json");
    std::fs::write(
        &marie,
        serde_json::to_string(&account(
            "marie.martin@operateur-fictif.mssante.fr",
            "810000000001",
        ))
        .expect("json"),
    )
    .expect("write");
    std::fs::write(
        &paul,
        serde_json::to_string(&account(
            "paul.durand@operateur-fictif.mssante.fr",
            "810000000002",
        ))
        .expect("json"),
    )
    .expect("write");
    let message = data.path().join("message.json");
    std::fs::write(
        &message,
        r#"{"addresses":[{"email":"paul.durand@operateur-fictif.mssante.fr","name":"Paul","type":"TO"}],
            "headers":{"X-MSS-CODECDA":"34112-3"},"flags":[],"subject":"Compte rendu","priority":"NORMAL",
            "body":"test <b>html</b>","isHtml":true}"#,
    )
    .expect("write");

    let exe = env!("CARGO_BIN_EXE_mss-client");
    let run = move |args: Vec<std::path::PathBuf>| {
        tokio::task::spawn_blocking(move || Command::new(exe).args(args).output().expect("run"))
    };
    let sent = run(vec![
        "--account".into(),
        marie.clone(),
        "send".into(),
        message.clone(),
    ])
    .await
    .expect("join");
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let out: serde_json::Value = serde_json::from_slice(&sent.stdout).expect("json line");
    let id = out["messageId"].as_str().expect("messageId").to_owned();

    let fetched = run(vec!["--account".into(), paul, "fetch".into()])
        .await
        .expect("join");
    assert!(
        fetched.status.success(),
        "{}",
        String::from_utf8_lossy(&fetched.stderr)
    );
    assert!(String::from_utf8_lossy(&fetched.stdout).contains(&id));

    // A bad message file is a one-line error and a non-zero exit, not a panic.
    std::fs::write(&message, "{not json").expect("write");
    let bad = run(vec!["--account".into(), marie, "send".into(), message])
        .await
        .expect("join");
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.starts_with("mss-client: ") && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn the_driver_mode_speaks_the_contract_exit_statuses() {
    use std::io::Write;
    let exe = env!("CARGO_BIN_EXE_mss-client");
    let driver = |input: &str| {
        let mut child = Command::new(exe)
            .arg("driver")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write");
        child.wait_with_output().expect("wait")
    };
    let bad = driver("{not json");
    assert_eq!(bad.status.code(), Some(2), "not understood");
    let answer: serde_json::Value = serde_json::from_slice(&bad.stdout).expect("JSON answer");
    assert!(answer["error"].as_str().is_some_and(|e| !e.is_empty()));
    let unsupported = driver(r#"{"action": "teleport"}"#);
    assert_eq!(unsupported.status.code(), Some(3), "not supported");
    let no_account =
        driver(r#"{"action": "send", "message": {"addresses": [], "subject": "x", "body": "x"}}"#);
    assert_eq!(no_account.status.code(), Some(2), "account missing");
}
