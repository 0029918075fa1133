//! Report writers. A run folder holds:
//!
//! ```text
//! index.html    self-contained page: one row per requirement, verdict, scenarios, evidence
//! junit.xml     one testcase per requirement × scenario, named with the ID (for CI)
//! results.json  the whole results model
//! summary.md    the requirement matrix in Markdown
//! journaux/     each scenario's journal, JSON lines
//! messages/     each message the operator accepted from the SUT, as received (.eml)
//! ```

mod html;
mod junit;
mod markdown;

use std::path::Path;

use crate::results::RunResults;

/// Name of the journals folder inside a report folder.
pub const JOURNALS: &str = "journaux";

/// Name of the folder of the messages the SUT sent, as the operator received them.
pub const MESSAGES: &str = "messages";

/// Writes every report of a run into `dir`.
pub fn write_all(results: &RunResults, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("index.html"), html::render(results))?;
    std::fs::write(dir.join("junit.xml"), junit::render(results))?;
    std::fs::write(dir.join("summary.md"), markdown::render(results))?;
    let json = serde_json::to_string_pretty(results).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("results.json"), json)?;
    Ok(())
}

/// Escapes text for XML and HTML, attributes included.
fn esc(text: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(text)
}
