//! Shared set-up of the operator's integration tests: a fresh operator on ephemeral ports with
//! the installation's fake IGC Santé, and the real tools it is tested against.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use operator::{Directory, Operator, OperatorConfig, OperatorHandle};

/// The fake IGC Santé folder: `MSS_CERTS_DIR`, or the workspace's `certs/`.
pub fn certs_dir() -> PathBuf {
    std::env::var_os("MSS_CERTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../certs"))
}

/// A running operator and the folders it lives in.
pub struct Fixture {
    pub op: OperatorHandle,
    pub pki: Arc<pki::Pki>,
    pub data: tempfile::TempDir,
}

pub const PS_MARIE: &str = "810000000001";
pub const PS_PAUL: &str = "810000000002";
pub const BAL_MARIE: &str = "marie.martin@operateur-fictif.mssante.fr";
pub const BAL_PAUL: &str = "paul.durand@operateur-fictif.mssante.fr";
pub const BAL_APP: &str = "resultats-biologie@operateur-fictif.mssante.fr";
pub const APP_STRUCTURE: &str = "1750000001";
pub const BAL_APP_OTHER: &str = "imagerie-lyon@operateur-fictif.mssante.fr";

pub async fn start() -> Fixture {
    start_with(|_| {}).await
}

/// An operator whose configuration `adjust` changed first.
pub async fn start_with(adjust: impl FnOnce(&mut OperatorConfig)) -> Fixture {
    let directory = Directory::embedded();
    let (pki, _) = pki::ensure(&certs_dir(), &directory.pki_profile()).expect("fake IGC Santé");
    let pki = Arc::new(pki);
    let data = tempfile::tempdir().expect("tempdir");
    let mut config = OperatorConfig::new(directory, pki.clone(), data.path().to_owned());
    adjust(&mut config);
    let op = Operator::start(config).await.expect("operator starts");
    Fixture { op, pki, data }
}

impl Fixture {
    pub fn token(&self, ps: &str) -> String {
        self.op
            .issue_access_token(ps, "lps-de-test", Duration::from_secs(600))
            .expect("token")
    }

    /// Writes the client chain and key of the application structure into the data folder.
    pub fn client_files(&self, structure: &str) -> (PathBuf, PathBuf) {
        let cred = self.pki.client_for(structure).expect("client credential");
        let chain = self
            .data
            .path()
            .join(format!("client-{structure}.chain.pem"));
        let key = self.data.path().join(format!("client-{structure}.key.pem"));
        std::fs::write(&chain, cred.chain_pem()).expect("write chain");
        std::fs::write(&key, cred.key.expose()).expect("write key");
        (chain, key)
    }

    pub fn root(&self) -> PathBuf {
        self.pki.files().root_cert
    }
}

/// Whether a tool is installed. In CI (`MSS_REQUIRE_INTEROP=1`) a missing tool fails the test;
/// elsewhere the test is skipped with a message.
pub fn have(tool: &str) -> bool {
    let found = Command::new(tool).arg("--version").output().is_ok()
        || Command::new(tool).arg("version").output().is_ok();
    if !found {
        if std::env::var_os("MSS_REQUIRE_INTEROP").is_some() {
            panic!("{tool} is required for the interoperability tests (installed by .ci/run)");
        }
        eprintln!("SKIPPED: {tool} is not installed (see .ci/run)");
    }
    found
}

/// Output of a finished tool.
pub struct Output {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn all(&self) -> String {
        format!("--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr)
    }
}

/// Runs a tool without blocking the operator's runtime, with a hard time limit.
pub async fn run(program: &str, args: Vec<String>, stdin: Option<Vec<u8>>) -> Output {
    let program = program.to_owned();
    let task = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = Command::new(&program)
            .args(&args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        if let (Some(mut input), Some(bytes)) = (child.stdin.take(), stdin) {
            let _ = input.write_all(&bytes);
        }
        let out = child.wait_with_output().expect("wait");
        Output {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    });
    tokio::time::timeout(Duration::from_secs(60), task)
        .await
        .expect("tool finished in time")
        .expect("tool task")
}

pub fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Arguments of the tests' Python scripts: `-c SCRIPT host port cafile bal token EXTRA...`.
pub fn python_args(
    f: &Fixture,
    script: &str,
    addr: std::net::SocketAddr,
    bal: &str,
    token: String,
    extra: &[&str],
) -> Vec<String> {
    let mut args = vec![
        "-c".to_owned(),
        script.to_owned(),
        addr.ip().to_string(),
        addr.port().to_string(),
        s(&f.root()),
        bal.to_owned(),
        token,
    ];
    args.extend(extra.iter().map(|e| (*e).to_owned()));
    args
}

/// Runs a Python script with [`python_args`].
pub async fn python(
    f: &Fixture,
    script: &str,
    addr: std::net::SocketAddr,
    bal: &str,
    token: String,
    extra: &[&str],
) -> Output {
    run(
        "python3",
        python_args(f, script, addr, bal, token, extra),
        None,
    )
    .await
}
