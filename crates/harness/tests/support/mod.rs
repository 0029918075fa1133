//! Paths shared by the harness tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn features() -> PathBuf {
    workspace().join("features")
}

pub fn certs() -> PathBuf {
    std::env::var_os("MSS_CERTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("certs"))
}

/// A run of the reference client; nobody answers at the terminal (a developer running the
/// tests at one is not a tester).
pub fn config() -> harness::RunConfig {
    let mut config = harness::RunConfig::reference(features(), certs());
    config.tester = harness::context::Tester::Absent;
    config
}

/// The `mss-client` binary `cargo test --workspace` built beside the test executables, or
/// `None` (with a note) when only this package was built; CI requires it.
pub fn mss_client() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.parent()?;
    let path = dir.join(format!("mss-client{}", std::env::consts::EXE_SUFFIX));
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("MSS_REQUIRE_INTEROP").is_none(),
        "mss-client is not built: run `cargo test --workspace` (or build -p client)"
    );
    eprintln!("mss-client absent ({}): test skipped", path.display());
    None
}

/// A SUT profile from YAML text, with the operator on ephemeral ports (tests run in parallel).
pub fn profile(yaml: &str) -> harness::driver::profile::Profile {
    let mut p = harness::driver::profile::Profile::parse(yaml, Path::new("test.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    p.operator = harness::driver::profile::OperatorSettings::ephemeral();
    p
}

/// The example profile of the repository, adapted to a test: ephemeral ports, the test's
/// `mss-client`, no build step (the test binary already depends on it being built).
pub fn example_profile(name: &str, client: &Path) -> harness::driver::profile::Profile {
    let path = workspace().join("scenarios/sut").join(name);
    let text = std::fs::read_to_string(&path).expect("example profile");
    let text = text.replace("target/debug/mss-client", &client.display().to_string());
    // The state folders, wherever the test runs from.
    let state = workspace().join("target").display().to_string();
    let text = text
        .replace("../../target/mss-client-", &format!("{state}/mss-client-"))
        .replace(" target/mss-client-", &format!(" {state}/mss-client-"));
    let mut p = profile(&text);
    p.prepare = None;
    p.path = path;
    p
}

/// The requirements the harness verifies today: the reference client (and a conformant client
/// on another stack) must pass each.
pub const VERIFIED: [&str; 40] = [
    "ECO.1.0.1",
    "ECO.1.0.2",
    "ECO.1.1.1",
    "ECO.1.1.3",
    "ECO.1.1.5",
    "ECO.1.1.6",
    "ECO.1.1.7",
    "ECO.1.1.9",
    "ECO.1.1.10",
    "ECO.1.2.1",
    "ECO.1.2.3",
    "ECO.1.2.5",
    "ECO.1.2.6",
    "ECO.1.2.7",
    "ECO.1.3.1",
    "ECO.2.1.1",
    "ECO.2.1.2",
    "ECO.2.1.3",
    "ECO.2.1.5",
    "ECO.2.1.6",
    "ECO.2.2.1",
    "ECO.2.2.2",
    "ECO.2.2.3",
    "ECO.2.2.4",
    "ECO.2.2.5",
    "ECO.2.2.6",
    "ECO.2.2.7",
    "ECO.2.2.8",
    "ECO.2.3.1",
    "ECO.2.3.2",
    "ECO.2.4.1",
    "ECO.2.4.2",
    "ECO.2.4.3",
    "ECO.3.1.1",
    "ECO.3.1.2",
    "ECO.3.1.3",
    "ECO.3.1.5",
    "ECO.3.1.6",
    "ECO.4.1.1",
    "ECO.4.1.2",
];

/// The requirements on traces.
pub const TRACES: [&str; 2] = ["ECO.4.1.1", "ECO.4.1.2"];

/// The requirements on health documents (archive, PDFs, subject, X-MSS-CODECDA, X-MSS-INS).
pub const DOCUMENTS: [&str; 6] = [
    "ECO.2.1.1",
    "ECO.2.1.3",
    "ECO.2.1.5",
    "ECO.2.1.6",
    "ECO.2.4.1",
    "ECO.2.4.2",
];

/// [`VERIFIED`] less the Pro Santé Connect session lifecycle (ECO.1.2.5 to ECO.1.2.7), the
/// health documents it would compose and the traces: what the Python LPS of `tests/sut/` shows
/// (it runs no PSC session of its own, holds none between actions, composes no XDM archive
/// nor PDF/A, and does not implement `export_traces`; it replies, displays with its read
/// receipt, lists its INBOX and writes to patients).
pub fn verified_for_python_lps() -> Vec<&'static str> {
    VERIFIED
        .into_iter()
        .filter(|id| !["ECO.1.2.5", "ECO.1.2.6", "ECO.1.2.7"].contains(id))
        .filter(|id| !DOCUMENTS.contains(id) && !TRACES.contains(id))
        .collect()
}
