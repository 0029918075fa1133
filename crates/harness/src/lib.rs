//! The MSSanté conformance harness: Gherkin scenarios (`features/`, French) that check the
//! requirements `ECO.x.y.z` of the Référentiel socle MSSanté #2 against a system under test,
//! through the mock operator's journal; SUT drivers; mutants; per-requirement reports; the
//! offline judgement of a recorded session.
//!
//! The harness contains no protocol code and no judgement: it provokes (operator profiles and
//! faults, driver actions), collects the operator's evidence, and asks `rules`.

pub mod baseline;
pub mod check;
pub mod context;
pub mod coverage;
pub mod driver;
pub mod judge;
pub mod mutants;
pub mod replay;
pub mod report;
pub mod results;
pub mod run;
mod steps;
pub mod waivers;
pub mod world;
mod writer;

pub use context::{RunConfig, RunContext, Sut};
pub use results::{RunResults, Verdict};
pub use run::run;

/// Client ID of the reference LPS at the fake Pro Santé Connect.
pub const LPS_CLIENT_ID: &str = "lps-sous-test";

/// Generates (or reuses) the fake IGC Santé for a directory; returns what was generated.
pub fn certs(
    dir: &std::path::Path,
    directory: &operator::Directory,
) -> Result<(pki::Pki, Vec<String>), pki::Error> {
    let (pki, outcome) = pki::ensure(dir, &directory.pki_profile())?;
    Ok((pki, outcome.generated))
}
