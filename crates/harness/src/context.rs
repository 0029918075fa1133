//! What a run is configured with, and the state its scenarios share.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use catalog::Family;
use client::Defects;
use operator::{Directory, OperatorHandle};

use crate::driver::SutDriver;
use crate::driver::profile::Profile;
use crate::driver::reference::ReferenceDriver;

/// Which system is under test.
#[derive(Debug, Clone)]
pub enum Sut {
    /// The reference client in process; a mutant when `defects` is not empty. Every scenario
    /// gets its own operator on ephemeral ports, and scenarios run concurrently.
    Reference {
        /// Defects injected.
        defects: Defects,
    },
    /// An external SUT described by a profile. One operator on the profile's addresses for the
    /// whole run, reset between scenarios, which run one after another.
    External(Box<Profile>),
}

/// How to run the scenarios.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Folder of the `.feature` files.
    pub features: PathBuf,
    /// Folder of the fake IGC Santé.
    pub certs: PathBuf,
    /// The operator's directory.
    pub directory: Directory,
    /// Families of the SUT: scenarios of other families are not run.
    pub families: Vec<Family>,
    /// The system under test.
    pub sut: Sut,
    /// Only scenarios whose name contains this text.
    pub name_filter: Option<String>,
    /// Only scenarios tagged with one of these requirement IDs.
    pub requirements: Vec<String>,
    /// Where to write each scenario's journal (none: keep them in memory only).
    pub journals: Option<PathBuf>,
    /// Where to copy the messages the operator accepted from the SUT, as received (none:
    /// not kept). Their file names are the operator's, so `judge --spool` finds them.
    pub messages: Option<PathBuf>,
    /// Where to copy the evidence files testers give with their attestations (none: they are
    /// named by path and digest only).
    pub attachments: Option<PathBuf>,
    /// Longest wait for an observable effect of an action (a message reaching the operator).
    pub timeout: Duration,
    /// How long the system has to close its sessions when the Pro Santé Connect session ends
    /// (ECO.1.2.6) and to reopen them when the operator ends them (ECO.1.2.7): the « délai de
    /// session » of the scenarios. 3 s for the reference client (it takes well under one); a
    /// profile's `session_delay`, else 10 s, for an external system.
    pub session_delay: Duration,
    /// Who answers what the harness asks a person (actions a profile lacks, attestations).
    pub tester: Tester,
    /// Print each scenario's outcome as it finishes.
    pub verbose: bool,
    /// Show progress on the terminal (scenario n/N, its requirement, elapsed time).
    pub progress: bool,
    /// Replay step by step (`mss-harness replay`): steps, journal and pauses on the terminal.
    pub replay: Option<std::sync::Arc<crate::replay::Replay>>,
    /// One scenario at a time, even against the reference client.
    pub sequential: bool,
}

impl RunConfig {
    /// The reference client against every scenario, both families.
    pub fn reference(features: PathBuf, certs: PathBuf) -> Self {
        RunConfig {
            features,
            certs,
            directory: Directory::embedded(),
            families: vec![Family::PerOrg, Family::App],
            sut: Sut::Reference {
                defects: Defects::new(),
            },
            name_filter: None,
            requirements: Vec::new(),
            journals: None,
            messages: None,
            attachments: None,
            timeout: Duration::from_secs(10),
            session_delay: Duration::from_secs(3),
            tester: Tester::Terminal,
            verbose: false,
            progress: false,
            replay: None,
            sequential: false,
        }
    }

    /// The same run against an external SUT described by a profile (its families and
    /// effect timeout apply).
    pub fn with_profile(mut self, profile: Profile) -> Self {
        self.families = profile.families();
        if let Some(t) = profile
            .effect_timeout
            .or(Some(profile.timeout))
            .and_then(|t| crate::driver::profile::seconds(t, "timeout").ok())
        {
            self.timeout = t;
        }
        self.session_delay = profile
            .session_delay
            .and_then(|t| crate::driver::profile::seconds(t, "session_delay").ok())
            .unwrap_or(Duration::from_secs(10));
        self.sut = Sut::External(Box::new(profile));
        self
    }

    /// The reference client with one more defect.
    pub fn with_defect(mut self, defect: client::Defect) -> Self {
        if let Sut::Reference { defects } = &mut self.sut {
            defects.insert(defect);
        }
        self
    }

    /// Describes the SUT for reports.
    pub fn sut_description(&self) -> String {
        match &self.sut {
            Sut::Reference { defects } => ReferenceDriver::describe(defects),
            Sut::External(profile) => profile.describe(),
        }
    }
}

/// A driver shared by the steps of a scenario (and, for an external SUT, by the whole run).
pub type SharedDriver = Arc<tokio::sync::Mutex<Box<dyn SutDriver>>>;

/// The operator and driver of an external SUT, alive for the whole run.
#[derive(Debug)]
pub struct External {
    /// The operator, on the profile's addresses.
    pub operator: OperatorHandle,
    /// The driver.
    pub driver: SharedDriver,
    /// Its data folder.
    pub data: tempfile::TempDir,
    /// The BALs the SUT was configured for so far: a long-lived SUT may keep using them.
    pub configured: std::sync::Mutex<Vec<String>>,
    /// In an interactive run, the tester performs the actions the profile lacks.
    pub manual: Option<SharedDriver>,
}

/// Who answers the harness's questions to a person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Tester {
    /// A tester at the terminal, when standard input and error are both terminals.
    #[default]
    Terminal,
    /// Nobody, even at a terminal (automated runs, tests).
    Absent,
    /// These lines, in order, as if typed (replaying a session's answers; tests).
    Scripted(Vec<String>),
}

/// State shared by the scenarios of one run.
#[derive(Debug)]
pub struct RunContext {
    /// The configuration.
    pub config: RunConfig,
    /// The fake IGC Santé, loaded once.
    pub pki: Arc<pki::Pki>,
    /// The run's own copy of the files a SUT is given (CA certificates, CRLs, client
    /// certificates): another run reissuing the shared folder cannot change them mid-run.
    pub trust_files: pki::FileNames,
    /// The folder of [`RunContext::trust_files`], removed with the run.
    pub trust_dir: tempfile::TempDir,
    /// The external SUT's operator and driver; `None` for the reference client.
    pub external: Option<External>,
}

impl RunContext {
    /// A driver for a new scenario: the run's own for an external SUT, a fresh reference
    /// client otherwise (`None` if an external SUT has no driver: a bench defect).
    pub fn driver(&self) -> Option<SharedDriver> {
        match (&self.external, &self.config.sut) {
            (Some(external), _) => Some(external.driver.clone()),
            (None, Sut::Reference { defects }) => Some(Arc::new(tokio::sync::Mutex::new(
                Box::new(ReferenceDriver::new(defects.clone(), self.config.timeout)),
            ))),
            (None, Sut::External(_)) => None,
        }
    }
}
