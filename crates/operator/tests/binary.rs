//! `mss-operator` starts, says where it listens, serves, and reports bad configuration in one line.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn starts_on_ephemeral_ports_and_serves() {
    let data = tempfile::tempdir().expect("tempdir");
    let directory =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/directory.yaml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mss-operator"))
        .args(["--directory"])
        .arg(&directory)
        .arg("--certs")
        .arg(support::certs_dir())
        .arg("--data")
        .arg(data.path())
        .args([
            "--psc-ip",
            "127.0.0.1",
            "--app-ip",
            "127.0.0.1",
            "--smtp-port",
            "0",
            "--imap-port",
            "0",
            "--http-port",
            "0",
            "--https-port",
            "0",
            "--dns-port",
            "0",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut ready = None;
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("line");
        if line.starts_with("prêt") {
            ready = Some(line);
            break;
        }
    }
    let ready = ready.expect("the operator says it is ready");
    let smtp: std::net::SocketAddr = ready
        .split_whitespace()
        .nth(4)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("address in {ready:?}"));
    let stream = std::net::TcpStream::connect(smtp).expect("connect");
    let mut greeting = String::new();
    BufReader::new(stream)
        .read_line(&mut greeting)
        .expect("greeting");
    assert!(
        greeting.starts_with("220 mail-psc.operateur-fictif.mssante.fr"),
        "{greeting}"
    );
    child.kill().expect("kill");
    let _ = child.wait();
}

#[test]
fn a_bad_directory_is_a_one_line_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("directory.yaml");
    std::fs::write(&bad, "operator: [").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_mss-operator"))
        .arg("--directory")
        .arg(&bad)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("mss-operator: ") && err.contains("YAML"),
        "{err}"
    );
}
