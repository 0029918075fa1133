//! The offline check's entry point on arbitrary bytes: parse, then every ECO.2.x rule for both
//! families, which reads any attached archive, CDA, METADATA and PDF. Must never panic.
//!
//! `cargo +nightly fuzz run message -- -max_len=200000` (seed it with `crates/rules/tests/golden`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rules::{Context, Family, Message, check_all};

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = Message::parse(data) {
        for family in [Family::PerOrg, Family::App] {
            let context = Context {
                family,
                ..Context::default()
            };
            let _ = check_all(&message, &context);
        }
    }
});
