//! `mss-harness`: runs the conformance scenarios and writes the reports.
//!
//! ```text
//! mss-harness certs                 # generate or reuse the fake IGC Santé
//! mss-harness report                # every scenario against the reference client
//! mss-harness report --mutant no-x-mss-nil --requirement ECO.2.4.3
//! mss-harness mutants               # list the mutants
//! mss-harness check [--family per-org|app] [--format json|text] FILE.eml...
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use catalog::Family;
use clap::{Parser, Subcommand, ValueEnum};
use harness::{RunConfig, mutants, report};
use operator::Directory;

/// The MSSanté API LPS conformance harness.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FamilyArg {
    /// Personal and organisational mailboxes (Pro Santé Connect).
    PerOrg,
    /// Application mailboxes (certificate).
    App,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generates (or reuses) the fake IGC Santé.
    Certs {
        /// Folder of the certificates.
        #[arg(long, default_value = "certs")]
        dir: PathBuf,
        /// The operator's directory.
        #[arg(long, default_value = "scenarios/directory.yaml")]
        directory: PathBuf,
    },
    /// Runs the scenarios and writes the reports.
    Report {
        /// Report folder.
        #[arg(long, default_value = "reports/latest")]
        out: PathBuf,
        /// Folder of the feature files.
        #[arg(long, default_value = "features")]
        features: PathBuf,
        /// Folder of the certificates.
        #[arg(long, default_value = "certs")]
        certs: PathBuf,
        /// The operator's directory.
        #[arg(long, default_value = "scenarios/directory.yaml")]
        directory: PathBuf,
        /// Families of the system under test (both by default).
        #[arg(long = "family", value_enum)]
        families: Vec<FamilyArg>,
        /// Run against a mutant of the reference client instead.
        #[arg(long)]
        mutant: Option<String>,
        /// Only the scenarios of these requirements (repeatable).
        #[arg(long = "requirement")]
        requirements: Vec<String>,
        /// Only the scenarios whose name contains this text.
        #[arg(long)]
        name: Option<String>,
        /// Longest wait for an effect of the SUT, in seconds.
        #[arg(long, default_value_t = 10)]
        timeout: u64,
        /// Do not print each scenario.
        #[arg(long)]
        quiet: bool,
    },
    /// Lists the mutants of the reference client.
    Mutants,
    /// Judges .eml files against the ECO.2.x message rules (exit 0: conformant, 1: a
    /// requirement fails, 2: usage error or unreadable file).
    Check {
        /// Family of the sending system.
        #[arg(long, value_enum, default_value = "per-org")]
        family: FamilyArg,
        /// Output format.
        #[arg(long, value_enum, default_value = "json")]
        format: FormatArg,
        /// The messages.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    /// `{"files":[{"path":…,"findings":[…]}]}` on one line.
    Json,
    /// One line per finding, failures first; in colour on a terminal.
    Text,
}

impl From<FamilyArg> for Family {
    fn from(f: FamilyArg) -> Family {
        match f {
            FamilyArg::PerOrg => Family::PerOrg,
            FamilyArg::App => Family::App,
        }
    }
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mss-harness: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<ExitCode, String> {
    match args.command {
        Command::Certs { dir, directory } => {
            let directory = Directory::load(&directory).map_err(|e| e.to_string())?;
            let (pki, generated) = harness::certs(&dir, &directory).map_err(|e| e.to_string())?;
            if generated.is_empty() {
                println!("IGC Santé fictive à jour dans {}", dir.display());
            }
            for g in generated {
                println!("généré : {g}");
            }
            println!(
                "racine à installer dans le système testé : {}",
                pki.files().root_cert.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            family,
            format,
            files,
        } => {
            let report =
                harness::check::check_files(&files, family.into()).map_err(|e| e.to_string())?;
            let text = match format {
                FormatArg::Json => harness::check::render_json(&report) + "\n",
                FormatArg::Text => {
                    use std::io::IsTerminal;
                    let colour =
                        std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
                    harness::check::render_text(&report, colour)
                }
            };
            // A reader that stops early (`| head`) is not an error worth a panic.
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                return Err(format!("écriture impossible : {e}"));
            }
            Ok(if report.failed() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Mutants => {
            for m in mutants::MUTANTS {
                println!(
                    "{:<24} {} (doit faire échouer {})",
                    m.name(),
                    m.description,
                    m.fails.join(", ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report {
            out,
            features,
            certs,
            directory,
            families,
            mutant,
            requirements,
            name,
            timeout,
            quiet,
        } => {
            let mut config = RunConfig::reference(features, certs);
            config.directory = Directory::load(&directory).map_err(|e| e.to_string())?;
            if !families.is_empty() {
                config.families = families.into_iter().map(Family::from).collect();
            }
            if let Some(name) = mutant {
                let m = mutants::find(&name).ok_or_else(|| {
                    let known: Vec<_> = mutants::MUTANTS.iter().map(|m| m.name()).collect();
                    format!("unknown mutant {name:?} (known: {})", known.join(", "))
                })?;
                config.defects.insert(m.defect);
            }
            config.requirements = requirements;
            config.name_filter = name;
            config.timeout = Duration::from_secs(timeout);
            config.verbose = !quiet;
            config.journals = Some(out.join(report::JOURNALS));
            if out.join(report::JOURNALS).exists() {
                std::fs::remove_dir_all(out.join(report::JOURNALS))
                    .map_err(|e| format!("{}: {e}", out.display()))?;
            }
            let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
            let results = runtime
                .block_on(harness::run(config))
                .map_err(|e| e.to_string())?;
            report::write_all(&results, &out).map_err(|e| format!("{}: {e}", out.display()))?;
            println!(
                "exigences : {}, {:.1} s",
                results.summary.sentence(),
                results.duration_ms as f64 / 1000.0
            );
            for p in &results.problems {
                println!("problème : {p}");
            }
            println!("rapport : {}", out.join("index.html").display());
            Ok(if results.failed() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
