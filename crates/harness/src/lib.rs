//! The MSSanté conformance harness: Gherkin scenarios (`features/`, French) that check the
//! requirements `ECO.x.y.z` of the Référentiel socle MSSanté #2 against a system under test,
//! through the mock operator's journal; SUT drivers; mutants; per-requirement reports.
//!
//! The harness contains no protocol code: it asks `operator` (what the SUT did on the wire) and
//! `client` (the reference SUT), and judges messages with `rules`.

pub mod check;
pub mod context;
pub mod driver;
pub mod mutants;
pub mod report;
pub mod results;
pub mod run;
mod steps;
pub mod world;

pub use context::{RunConfig, RunContext};
pub use results::{RunResults, Verdict};
pub use run::run;

/// Generates (or reuses) the fake IGC Santé for a directory; returns what was generated.
pub fn certs(
    dir: &std::path::Path,
    directory: &operator::Directory,
) -> Result<(pki::Pki, Vec<String>), pki::Error> {
    let (pki, outcome) = pki::ensure(dir, &directory.pki_profile())?;
    Ok((pki, outcome.generated))
}
