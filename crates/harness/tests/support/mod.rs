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

pub fn config() -> harness::RunConfig {
    harness::RunConfig::reference(features(), certs())
}
