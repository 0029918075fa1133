//! Report writers. A run folder holds:
//!
//! ```text
//! index.html      self-contained page: one row per requirement, verdict, scenarios, evidence
//! junit.xml       one testcase per requirement × scenario, named with the ID (for CI)
//! results.json    the whole results model, with its `schema_version`
//! summary.md      the requirement matrix in Markdown
//! exigences.csv   one line per requirement, in the ANS referencing workbooks' layout
//! journaux/       each scenario's journal, JSON lines
//! messages/       each message the operator accepted from the SUT, as received (.eml)
//! preuves/        the evidence files testers gave with their attestations
//! cucumber.json   the classic Cucumber JSON report (features, scenarios, steps)
//! cucumber.ndjson the Cucumber Messages stream (source, pickles, test cases, results)
//! MANIFEST.sha256 the SHA-256 of every file above (`sha256sum -c MANIFEST.sha256`)
//! ```

mod csv;
mod cucumber;
mod html;
mod junit;
mod markdown;

use std::path::Path;

use crate::results::RunResults;

/// Name of the journals folder inside a report folder.
pub const JOURNALS: &str = "journaux";

/// Name of the folder of the messages the SUT sent, as the operator received them.
pub const MESSAGES: &str = "messages";

/// Name of the folder of the evidence files testers gave with their attestations.
pub const ATTACHMENTS: &str = "preuves";

/// Version of the `results.json` layout: raised when a field changes meaning or goes away
/// (new fields keep it).
pub const RESULTS_SCHEMA_VERSION: u32 = 2;

/// Name of the manifest of a report folder.
pub const MANIFEST: &str = "MANIFEST.sha256";

/// Writes every report of a run into `dir`, then its manifest.
pub fn write_all(results: &RunResults, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("index.html"), html::render(results))?;
    std::fs::write(dir.join("junit.xml"), junit::render(results))?;
    std::fs::write(dir.join("summary.md"), markdown::render(results))?;
    std::fs::write(dir.join("exigences.csv"), csv::render(results))?;
    let sources = cucumber::sources(results);
    std::fs::write(
        dir.join("cucumber.json"),
        cucumber::render_json(results, &sources),
    )?;
    std::fs::write(
        dir.join("cucumber.ndjson"),
        cucumber::render_ndjson(results, &sources),
    )?;
    let mut json = serde_json::to_value(results).map_err(std::io::Error::other)?;
    if let Some(object) = json.as_object_mut() {
        object.insert("schema_version".into(), RESULTS_SCHEMA_VERSION.into());
    }
    let json = serde_json::to_string_pretty(&json).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("results.json"), json)?;
    write_manifest(dir)
}

/// Writes `MANIFEST.sha256` (`sha256sum` format) over every file of the folder, sorted.
pub fn write_manifest(dir: &Path) -> std::io::Result<()> {
    use sha2::Digest;
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n != MANIFEST) {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut out = String::new();
    for path in files {
        let digest = sha2::Sha256::digest(std::fs::read(&path)?);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let relative = path.strip_prefix(dir).unwrap_or(&path);
        out.push_str(&format!("{hex}  {}\n", relative.display()));
    }
    std::fs::write(dir.join(MANIFEST), out)
}

/// Copies a report folder over `latest` (removed first).
pub fn refresh_latest(from: &Path, latest: &Path) -> std::io::Result<()> {
    if latest.exists() {
        std::fs::remove_dir_all(latest)?;
    }
    let mut stack = vec![(from.to_path_buf(), latest.to_path_buf())];
    while let Some((src, dst)) = stack.pop() {
        std::fs::create_dir_all(&dst)?;
        for entry in std::fs::read_dir(&src)? {
            let path = entry?.path();
            let target = dst.join(path.file_name().unwrap_or_default());
            if path.is_dir() {
                stack.push((path, target));
            } else {
                std::fs::copy(&path, &target)?;
            }
        }
    }
    Ok(())
}

/// A folder name for a run: `<date>_<time>-<sut>` (letters, digits and dashes only).
pub fn run_folder_name(started_at: &str, sut: &str) -> String {
    let stamp: String = started_at
        .chars()
        .take(16)
        .map(|c| if c.is_ascii_digit() { c } else { '-' })
        .collect();
    let slug: String = rules::text::fold(sut)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    format!("{stamp}-{}", slug.chars().take(48).collect::<String>())
}

/// Escapes text for XML and HTML, attributes included.
fn esc(text: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn run_folders_are_named_by_date_and_sut() {
        assert_eq!(
            super::run_folder_name(
                "2026-12-02T01:55:12Z",
                "client de référence (mutant no-xdm)"
            ),
            "2026-12-02-01-55-client-de-reference-mutant-no-xdm"
        );
    }
}
