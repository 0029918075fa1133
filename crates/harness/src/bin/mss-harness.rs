//! `mss-harness`: runs the conformance scenarios and writes the reports.
//!
//! ```text
//! mss-harness certs                 # generate or reuse the fake IGC Santé
//! mss-harness report                # every scenario against the reference client
//! mss-harness report --mutant no-x-mss-nil --requirement ECO.2.4.3
//! mss-harness mutants               # list the mutants
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
                config.families = families
                    .into_iter()
                    .map(|f| match f {
                        FamilyArg::PerOrg => Family::PerOrg,
                        FamilyArg::App => Family::App,
                    })
                    .collect();
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
