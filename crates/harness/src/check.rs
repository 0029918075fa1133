//! `mss-harness check`: the ECO.2.x message rules on `.eml` files, offline.
//!
//! The output is a contract editors script against; keep it stable:
//!
//! ```text
//! {"files":[{"path":"a.eml","findings":[{"requirement":"ECO.2.4.1","verdict":"pass","detail":"…"}]}]}
//! ```
//!
//! Every requirement of [`rules::OFFLINE`] appears once per file, in catalogue order, with
//! `verdict` one of `pass`, `fail`, `not_applicable`; each file also says the `family` it was
//! judged for (given with `--family`, or that of the sender's BAL in the directory, `PER_ORG`
//! when the sender is unknown). Message-IDs are compared across the files given (ECO.2.2.1). Exit status: 0 without `fail`, 1 with one,
//! 2 on a usage error or an unreadable file (one line on stderr, nothing on stdout).

use std::io::Read;
use std::path::{Path, PathBuf};

use rules::{Context, Family, Finding, Message, Verdict};
use serde::Serialize;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The JSON contract.
    Json,
    /// One line per finding, failures first.
    Text,
}

/// The findings of one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileFindings {
    /// The path as given.
    pub path: String,
    /// The family it was judged for.
    pub family: Family,
    /// One finding per offline requirement.
    pub findings: Vec<Finding>,
}

/// The findings of every file.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// In the order given.
    pub files: Vec<FileFindings>,
}

impl CheckReport {
    /// Whether any finding failed.
    pub fn failed(&self) -> bool {
        self.files
            .iter()
            .flat_map(|f| &f.findings)
            .any(|f| f.verdict == Verdict::Fail)
    }
}

/// Why a file could not be judged.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// Cannot be read.
    #[error("{path} : lecture impossible ({source})")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Larger than a message can be.
    #[error("{path} : fichier de plus de {max} octets, ce n'est pas un message MSSanté")]
    TooLarge {
        /// The file.
        path: String,
        /// The limit.
        max: usize,
    },
    /// Not a message.
    #[error("{path} : {reason}")]
    NotAMessage {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

fn read_limited(path: &Path) -> Result<Vec<u8>, CheckError> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| CheckError::Read {
        path: shown.clone(),
        source,
    })?;
    let mut bytes = Vec::new();
    file.take(rules::MAX_MESSAGE as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| CheckError::Read {
            path: shown.clone(),
            source,
        })?;
    if bytes.len() > rules::MAX_MESSAGE {
        return Err(CheckError::TooLarge {
            path: shown,
            max: rules::MAX_MESSAGE,
        });
    }
    Ok(bytes)
}

/// Judges one message's bytes.
pub fn check_bytes(bytes: &[u8], family: Family) -> Result<Vec<Finding>, String> {
    let message = Message::parse(bytes).map_err(|e| e.to_string())?;
    let context = Context {
        family,
        ..Context::default()
    };
    Ok(rules::check_all(&message, &context))
}

/// The family of the BAL that sent a message, from the directory.
fn sender_family(message: &Message<'_>, directory: &operator::Directory) -> Option<Family> {
    let from = message.parsed().from()?.first()?.address()?.to_owned();
    let bal = directory.bal(&from)?;
    Some(match bal.family {
        operator::directory::BalFamily::Application => Family::App,
        _ => Family::PerOrg,
    })
}

/// Judges files: all of them are read and parsed before anything is reported. `family`
/// `None`: each file's sender's family in the directory (PER_ORG when unknown). Message-IDs
/// are compared across the files, in the order given.
pub fn check_files(
    paths: &[PathBuf],
    family: Option<Family>,
    directory: &operator::Directory,
) -> Result<CheckReport, CheckError> {
    let mut files = Vec::with_capacity(paths.len());
    let mut seen = std::collections::BTreeMap::new();
    for path in paths {
        let shown = path.display().to_string();
        let bytes = read_limited(path)?;
        let message = Message::parse(&bytes).map_err(|e| CheckError::NotAMessage {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        let family = family
            .or_else(|| sender_family(&message, directory))
            .unwrap_or(Family::PerOrg);
        let context = Context {
            family,
            seen_message_ids: seen.clone(),
            ..Context::default()
        };
        let findings = rules::check_all(&message, &context);
        if let Some(id) = message.parsed().message_id() {
            seen.entry(id.to_owned()).or_insert_with(|| shown.clone());
        }
        files.push(FileFindings {
            path: shown,
            family,
            findings,
        });
    }
    Ok(CheckReport { files })
}

/// The JSON contract, one line.
pub fn render_json(report: &CheckReport) -> String {
    serde_json::to_string(report).unwrap_or_else(|_| "{\"files\":[]}".into())
}

fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Fail => 0,
        Verdict::Pass => 1,
        Verdict::NotApplicable => 2,
        Verdict::NotTested => 3,
    }
}

/// One line per finding, failures first (then passes, then not applicable), colours when asked.
pub fn render_text(report: &CheckReport, colour: bool) -> String {
    let mut lines: Vec<(u8, usize, usize, String)> = Vec::new();
    for (fi, file) in report.files.iter().enumerate() {
        for (ri, f) in file.findings.iter().enumerate() {
            let (label, code) = match f.verdict {
                Verdict::Fail => ("ÉCHEC", "31;1"),
                Verdict::Pass => ("OK   ", "32"),
                Verdict::NotApplicable => ("N/A  ", "2"),
                Verdict::NotTested => ("N/T  ", "33"),
            };
            let label = if colour {
                format!("\x1b[{code}m{label}\x1b[0m")
            } else {
                label.to_owned()
            };
            lines.push((
                rank(f.verdict),
                fi,
                ri,
                format!("{label} {} {} : {}", f.requirement, file.path, f.detail),
            ));
        }
    }
    lines.sort_by_key(|(r, fi, ri, _)| (*r, *fi, *ri));
    let fails = lines.iter().filter(|l| l.0 == 0).count();
    let mut out: Vec<String> = lines.into_iter().map(|l| l.3).collect();
    out.push(format!(
        "{} fichier(s), {fails} exigence(s) en échec",
        report.files.len()
    ));
    out.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_offline_requirement_once_per_file() {
        let f = check_bytes(
            b"From: A B <a.b@x.mssante.fr>\r\nSubject: x\r\n\r\nx",
            Family::PerOrg,
        )
        .expect("message");
        let ids: Vec<&str> = f.iter().map(|f| f.requirement).collect();
        let expected: Vec<&str> = rules::OFFLINE.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, expected);
        let app = check_bytes(b"Subject: x\r\n\r\nx", Family::App).expect("message");
        assert!(
            app.iter()
                .any(|f| f.requirement == "ECO.2.2.5" && f.verdict == Verdict::Fail)
        );
        let per_org = check_bytes(b"Subject: x\r\n\r\nx", Family::PerOrg).expect("message");
        assert!(
            per_org
                .iter()
                .any(|f| f.requirement == "ECO.2.2.5" && f.verdict == Verdict::NotApplicable)
        );
        assert!(check_bytes(b"\x00\x01\x02", Family::PerOrg).is_err());
    }

    #[test]
    fn text_puts_failures_first() {
        let report = CheckReport {
            files: vec![FileFindings {
                path: "a.eml".into(),
                family: Family::PerOrg,
                findings: check_bytes(b"Subject: x\r\n\r\nx", Family::PerOrg).expect("message"),
            }],
        };
        let text = render_text(&report, false);
        let first = text.lines().next().unwrap_or_default();
        assert!(first.starts_with("ÉCHEC"), "{text}");
        assert!(text.trim_end().ends_with("exigence(s) en échec"), "{text}");
        assert!(!text.contains('\x1b'));
        assert!(render_text(&report, true).contains("\x1b[31;1m"));
        let json: serde_json::Value = serde_json::from_str(&render_json(&report)).expect("json");
        assert_eq!(json["files"][0]["path"], "a.eml");
        assert_eq!(json["files"][0]["findings"][0]["requirement"], "ECO.2.1.1");
    }
}
