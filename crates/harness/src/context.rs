//! What a run is configured with, and the state its scenarios share.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use catalog::Family;
use client::Defects;
use operator::Directory;

use crate::driver::{ReferenceDriver, SutDriver};

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
    /// Defects injected into the reference client (a mutant), empty for the conformant one.
    pub defects: Defects,
    /// Only scenarios whose name contains this text.
    pub name_filter: Option<String>,
    /// Only scenarios tagged with one of these requirement IDs.
    pub requirements: Vec<String>,
    /// Where to write each scenario's journal (none: keep them in memory only).
    pub journals: Option<PathBuf>,
    /// Longest wait for an observable effect (journal events, SUT actions).
    pub timeout: Duration,
    /// Print each scenario's outcome as it finishes.
    pub verbose: bool,
}

impl RunConfig {
    /// The reference client against every scenario, both families.
    pub fn reference(features: PathBuf, certs: PathBuf) -> Self {
        RunConfig {
            features,
            certs,
            directory: Directory::embedded(),
            families: vec![Family::PerOrg, Family::App],
            defects: Defects::new(),
            name_filter: None,
            requirements: Vec::new(),
            journals: None,
            timeout: Duration::from_secs(10),
            verbose: false,
        }
    }

    /// Describes the SUT for reports.
    pub fn sut_description(&self) -> String {
        ReferenceDriver::new(self.defects.clone(), self.timeout).describe()
    }
}

/// State shared by the scenarios of one run.
#[derive(Debug)]
pub struct RunContext {
    /// The configuration.
    pub config: RunConfig,
    /// The fake IGC Santé, loaded once.
    pub pki: Arc<pki::Pki>,
    /// Message-IDs sent so far in the run, with the scenario that sent them (ECO.2.2.1).
    pub message_ids: Mutex<BTreeMap<String, String>>,
}

impl RunContext {
    /// A driver for a new scenario.
    pub fn driver(&self) -> Box<dyn SutDriver> {
        Box::new(ReferenceDriver::new(
            self.config.defects.clone(),
            self.config.timeout,
        ))
    }
}
