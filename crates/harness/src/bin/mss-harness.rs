//! `mss-harness`: runs the conformance scenarios and writes the reports.
//!
//! ```text
//! mss-harness certs                 # generate or reuse the fake IGC Santé
//! mss-harness report                # every scenario against the reference client
//! mss-harness report --mutant no-x-mss-nil --requirement ECO.2.4.3
//! mss-harness report --sut scenarios/sut/mss-client-command.yaml   # an external SUT
//! mss-harness mutants               # list the mutants
//! mss-harness check [--family per-org|app] [--format json|text] FILE.eml...
//! mss-harness judge --journal journal.jsonl [--spool DIR] [--family per-org|app]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use catalog::Family;
use clap::{Parser, Subcommand, ValueEnum};
use harness::driver::profile::Profile;
use harness::{RunConfig, mutants, report};
use operator::Directory;

/// The MSSanté API LPS conformance harness.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

/// Where a run finds its scenarios, certificates and directory.
#[derive(Debug, clap::Args)]
struct BenchArgs {
    /// Folder of the feature files.
    #[arg(long, default_value = "features")]
    features: PathBuf,
    /// Folder of the certificates.
    #[arg(long, default_value = "certs")]
    certs: PathBuf,
    /// The operator's directory.
    #[arg(long, default_value = "scenarios/directory.yaml")]
    directory: PathBuf,
}

impl BenchArgs {
    /// The run configuration for the reference client, with this bench.
    fn config(self) -> Result<RunConfig, String> {
        let mut config = RunConfig::reference(self.features, self.certs);
        config.directory = Directory::load(&self.directory).map_err(|e| e.to_string())?;
        Ok(config)
    }
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
        /// Report folder (default: `reports/<date>-<sut>/`, copied to `reports/latest/`).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        bench: BenchArgs,
        /// Families of the system under test (both by default).
        #[arg(long = "family", value_enum)]
        families: Vec<FamilyArg>,
        /// Run against a mutant of the reference client instead.
        #[arg(long, conflicts_with = "sut")]
        mutant: Option<String>,
        /// Run against an external SUT described by this profile (`scenarios/sut/*.yaml`).
        #[arg(long)]
        sut: Option<PathBuf>,
        /// Only the scenarios of these requirements (repeatable).
        #[arg(long = "requirement")]
        requirements: Vec<String>,
        /// Only the scenarios whose name contains this text.
        #[arg(long)]
        name: Option<String>,
        /// Longest wait for an effect of an action on the operator (a message reaching it), in
        /// seconds (default: 10 for the reference client; for an external SUT, the profile's
        /// `effect_timeout`, else its `timeout`).
        #[arg(long)]
        timeout: Option<u64>,
        /// Do not print each scenario.
        #[arg(long)]
        quiet: bool,
        /// Expected results (YAML): the run fails only when a verdict differs from them.
        #[arg(long)]
        baseline: Option<PathBuf>,
        /// Waivers (YAML: requirement ID → reason): reported « dérogée », never as passed.
        #[arg(long)]
        waivers: Option<PathBuf>,
    },
    /// Replays one requirement's scenarios (or the scenarios whose name contains the text)
    /// step by step: steps, journal events, pauses before each action on a terminal.
    Replay {
        /// `ECO.x.y.z`, or part of a scenario's name.
        target: String,
        /// An external SUT (profile); default: the reference client.
        #[arg(long)]
        sut: Option<PathBuf>,
        /// Report folder (default: `reports/rejeu-<cible>-<date>/`).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        bench: BenchArgs,
        /// Longest wait for an effect, in seconds.
        #[arg(long)]
        timeout: Option<u64>,
    },
    /// Lists the mutants of the reference client.
    Mutants,
    /// Writes the requirement coverage table (`--check`: only says whether it is up to date).
    Coverage {
        /// Folder of the feature files.
        #[arg(long, default_value = "features")]
        features: PathBuf,
        /// Fail (exit 1) when the committed table differs instead of writing it.
        #[arg(long)]
        check: bool,
    },
    /// Judges .eml files against the ECO.2.x message rules (exit 0: conformant, 1: a
    /// requirement fails, 2: usage error or unreadable file).
    Check {
        /// Family of the sending system (default: that of the sender's BAL in the directory).
        #[arg(long, value_enum)]
        family: Option<FamilyArg>,
        /// The operator's directory.
        #[arg(long, default_value = "scenarios/directory.yaml")]
        directory: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "json")]
        format: FormatArg,
        /// The messages.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Judges a session recorded by `mss-operator --journal` and writes the same reports as a
    /// run (exit 0: nothing fails, 1: a requirement fails, 2: unreadable journal).
    Judge {
        /// The recorded journal (JSON lines).
        #[arg(long)]
        journal: PathBuf,
        /// Folder of the accepted messages, if they moved since the recording.
        #[arg(long)]
        spool: Option<PathBuf>,
        /// Families of the LPS (default: those the recording shows).
        #[arg(long = "family", value_enum)]
        families: Vec<FamilyArg>,
        /// Report folder.
        #[arg(long, default_value = "reports/judge")]
        out: PathBuf,
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

/// The harness's git commit, when it runs from a clone with git installed.
fn commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
}

/// Whether a report folder can be created and written, in one clear line if not.
fn writable(dir: &std::path::Path) -> Result<(), String> {
    let probe = dir.join(".ecriture");
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&probe, b""))
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| format!("dossier de rapport {} inutilisable : {e}", dir.display()))
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
            directory,
            format,
            files,
        } => {
            let directory = if directory.exists() {
                Directory::load(&directory).map_err(|e| e.to_string())?
            } else {
                Directory::embedded()
            };
            let report = harness::check::check_files(&files, family.map(Family::from), &directory)
                .map_err(|e| e.to_string())?;
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
        Command::Replay {
            target,
            sut,
            out,
            bench,
            timeout,
        } => {
            let mut config = bench.config()?;
            if let Some(path) = sut {
                let profile = Profile::load(&path).map_err(|e| e.to_string())?;
                config = config.with_profile(profile);
            }
            if target.to_ascii_uppercase().starts_with("ECO.") {
                config.requirements = vec![target.to_ascii_uppercase()];
            } else {
                config.name_filter = Some(target.clone());
            }
            if let Some(t) = timeout {
                config.timeout = Duration::from_secs(t);
            }
            let now = time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            let out = out.unwrap_or_else(|| {
                PathBuf::from("reports")
                    .join(format!("rejeu-{}", report::run_folder_name(&now, &target)))
            });
            harness::run::validate(&config).map_err(|e| e.to_string())?;
            writable(&out)?;
            config.journals = Some(out.join(report::JOURNALS));
            config.messages = Some(out.join(report::MESSAGES));
            config.attachments = Some(out.join(report::ATTACHMENTS));
            let replay = harness::replay::Replay::new();
            if replay.interactive {
                println!("Rejeu pas à pas : [Entrée] avant chaque action, [q] pour arrêter.");
            }
            config.replay = Some(replay);
            // One scenario at a time, in the order of the files.
            config.sequential = true;
            let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
            let mut results = runtime
                .block_on(harness::run(config))
                .map_err(|e| e.to_string())?;
            results.run_info.commit = commit();
            report::write_all(&results, &out).map_err(|e| format!("{}: {e}", out.display()))?;
            for r in results
                .requirements
                .iter()
                .filter(|r| !r.scenarios.is_empty())
            {
                println!("{} : {} — {}", r.id, r.verdict.label(), r.explanation);
            }
            println!("rapport : {}", out.join("index.html").display());
            Ok(if results.failed() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Coverage { features, check } => {
            let text = harness::coverage::render(&features)?;
            let path = PathBuf::from(harness::coverage::FILE);
            if check {
                let current = std::fs::read_to_string(&path).unwrap_or_default();
                if current != text {
                    eprintln!(
                        "{} n'est plus à jour : lancez `cargo xtask coverage`",
                        path.display()
                    );
                    return Ok(ExitCode::FAILURE);
                }
                println!("{} à jour", path.display());
                return Ok(ExitCode::SUCCESS);
            }
            std::fs::write(&path, &text).map_err(|e| format!("{} : {e}", path.display()))?;
            println!("écrit : {}", path.display());
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
        Command::Judge {
            journal,
            spool,
            families,
            out,
        } => {
            let config = harness::judge::JudgeConfig {
                journal,
                spool,
                families: families.into_iter().map(Family::from).collect(),
            };
            let results = harness::judge::judge(&config).map_err(|e| e.to_string())?;
            report::write_all(&results, &out).map_err(|e| format!("{}: {e}", out.display()))?;
            for r in &results.requirements {
                if r.verdict != harness::Verdict::NotTested
                    && r.verdict != harness::Verdict::NotApplicable
                {
                    println!("{:<10} {:<15} {}", r.id, r.verdict.label(), r.explanation);
                }
            }
            println!("exigences : {}", results.summary.sentence());
            println!("rapport : {}", out.join("index.html").display());
            Ok(if results.failed() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Report {
            out,
            bench,
            families,
            mutant,
            sut,
            requirements,
            name,
            timeout,
            quiet,
            baseline,
            waivers,
        } => {
            let baseline = baseline
                .map(|p| harness::baseline::Baseline::load(&p))
                .transpose()?;
            let waivers = waivers
                .map(|p| harness::waivers::Waivers::load(&p))
                .transpose()?;
            // The run's own folder, unless one is given; `reports/latest` follows it.
            let label = match (&sut, &mutant) {
                (Some(path), _) => Profile::load(path)
                    .map(|p| p.name)
                    .unwrap_or_else(|_| "sut".into()),
                (None, Some(m)) => format!("client de référence mutant {m}"),
                (None, None) => "client de référence".into(),
            };
            let now = time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            let latest = out.is_none().then(|| PathBuf::from("reports/latest"));
            let out = out.unwrap_or_else(|| {
                PathBuf::from("reports").join(report::run_folder_name(&now, &label))
            });
            let mut config = bench.config()?;
            if let Some(path) = sut {
                let profile = Profile::load(&path).map_err(|e| e.to_string())?;
                config = config.with_profile(profile);
            }
            if !families.is_empty() {
                config.families = families.into_iter().map(Family::from).collect();
            }
            if let Some(name) = mutant {
                let m = mutants::find(&name).ok_or_else(|| {
                    let known: Vec<_> = mutants::MUTANTS.iter().map(|m| m.name()).collect();
                    format!("mutant inconnu « {name} » (connus : {})", known.join(", "))
                })?;
                config = config.with_defect(m.defect);
            }
            config.requirements = requirements;
            config.name_filter = name;
            if let Some(t) = timeout {
                config.timeout = Duration::from_secs(t);
            }
            config.verbose = !quiet;
            config.progress = {
                use std::io::IsTerminal;
                !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
            };
            // Bad input is refused before any folder is made; a report folder that cannot be
            // written fails now, not after the run.
            harness::run::validate(&config).map_err(|e| e.to_string())?;
            writable(&out)?;
            config.journals = Some(out.join(report::JOURNALS));
            config.messages = Some(out.join(report::MESSAGES));
            config.attachments = Some(out.join(report::ATTACHMENTS));
            for folder in [report::JOURNALS, report::MESSAGES, report::ATTACHMENTS] {
                if out.join(folder).exists() {
                    std::fs::remove_dir_all(out.join(folder))
                        .map_err(|e| format!("{}: {e}", out.display()))?;
                }
            }
            let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
            let mut results = runtime
                .block_on(harness::run(config))
                .map_err(|e| e.to_string())?;
            results.run_info.commit = commit();
            if let Some(w) = &waivers {
                w.apply(&mut results);
            }
            results.baseline = baseline.map(|b| b.compare(&results));
            if !quiet {
                for s in &results.scenarios {
                    println!(
                        "{} {} — {} ({} ms)",
                        s.status.mark(),
                        s.requirements.join(" "),
                        s.name,
                        s.duration_ms
                    );
                    if let Some(reason) = &s.reason {
                        println!("    {reason}");
                    }
                }
            }
            report::write_all(&results, &out).map_err(|e| format!("{}: {e}", out.display()))?;
            if let Some(latest) = &latest {
                report::refresh_latest(&out, latest)
                    .map_err(|e| format!("{}: {e}", latest.display()))?;
            }
            println!(
                "exigences : {}, {:.1} s",
                results.summary.sentence(),
                results.duration_ms as f64 / 1000.0
            );
            for p in &results.problems {
                println!("problème : {p}");
            }
            for w in &results.stale_waivers {
                println!("{w}");
            }
            if let Some(c) = &results.baseline {
                println!(
                    "référence : {}, {}",
                    harness::results::plural(c.regressions.len(), "régression", "régressions"),
                    harness::results::plural(c.stale.len(), "entrée périmée", "entrées périmées")
                );
                for r in &c.regressions {
                    println!("  régression : {r}");
                }
                for s in &c.stale {
                    println!("  périmée : {s}");
                }
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
