//! SUT profiles (`scenarios/sut/*.yaml`): which driver reaches an editor's software, how each
//! action is run, where the operator listens for it. Documented in `scenarios/sut/README.md`.
//!
//! ```yaml
//! name: Mon LPS
//! driver: command                 # command | http | manual
//! families: [PER_ORG, APP]        # what the SUT claims to support
//! timeout: 30                     # seconds, per action unless the action says otherwise
//! command:
//!   workdir: .
//!   actions:
//!     configure: { run: [mon-lps, configure] }
//!     send:      { run: [mon-lps, send], timeout: 60 }
//!     sync:      { run: [mon-lps, sync] }
//! ```
//!
//! Every problem is reported in French with the profile's path and, where the YAML parser
//! knows it, the line.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::Action;

/// Why a profile cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("profil {path} : {message}")]
pub struct ProfileError {
    /// The profile file.
    pub path: String,
    /// What is wrong (French), with the line when known.
    pub message: String,
}

/// Which driver the profile uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DriverKind {
    /// A command line per action.
    Command,
    /// An HTTP endpoint per action.
    Http,
    /// A tester at a terminal.
    Manual,
}

/// One action of the command driver.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandAction {
    /// Program and arguments; the request is written to its standard input as JSON.
    pub run: Vec<String>,
    /// Seconds before the action is abandoned (and the process killed).
    #[serde(default)]
    pub timeout: Option<f64>,
}

/// The actions a command profile implements; the others are `Unsupported`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct CommandActions {
    pub configure: Option<CommandAction>,
    pub test_connection: Option<CommandAction>,
    pub send: Option<CommandAction>,
    pub sync: Option<CommandAction>,
    pub reply: Option<CommandAction>,
    pub open: Option<CommandAction>,
    pub list_inbox: Option<CommandAction>,
    pub write_to_patient: Option<CommandAction>,
    pub export_traces: Option<CommandAction>,
    pub restart: Option<CommandAction>,
}

impl CommandActions {
    /// The command of an action, if the profile has one.
    pub fn get(&self, action: Action) -> Option<&CommandAction> {
        match action {
            Action::Configure => self.configure.as_ref(),
            Action::TestConnection => self.test_connection.as_ref(),
            Action::Send => self.send.as_ref(),
            Action::Sync => self.sync.as_ref(),
            Action::Reply => self.reply.as_ref(),
            Action::Open => self.open.as_ref(),
            Action::ListInbox => self.list_inbox.as_ref(),
            Action::WriteToPatient => self.write_to_patient.as_ref(),
            Action::ExportTraces => self.export_traces.as_ref(),
            Action::Restart => self.restart.as_ref(),
        }
    }
}

/// The command driver's settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandSettings {
    /// Folder the commands run in; relative program paths are resolved against it (default:
    /// the folder the harness runs in).
    #[serde(default)]
    pub workdir: Option<PathBuf>,
    /// Extra environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The actions.
    pub actions: CommandActions,
}

/// The HTTP driver's settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// Base URL (`http://host:port/prefix`); each action is `POST <base>/<action>`. Absent:
    /// the first line the `start` process prints on its standard output.
    #[serde(default)]
    pub base_url: Option<String>,
    /// The actions the endpoint implements (the others are `Unsupported` without a call).
    pub actions: Vec<String>,
}

/// A process the harness starts before the run and stops after it (the SUT's service).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartSettings {
    /// Program and arguments.
    pub run: Vec<String>,
    /// Folder it runs in (default: the folder the harness runs in).
    #[serde(default)]
    pub workdir: Option<PathBuf>,
    /// Extra environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// Where the shared operator listens for an external SUT. Defaults: high ports an
/// unprivileged CI job may bind, the PSC entry point on 127.0.0.1 and the application entry
/// point on 127.0.0.2 (give it 127.0.0.1 and other ports where 127.0.0.2 does not exist).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OperatorSettings {
    /// Address of the Pro Santé Connect entry point, HTTP(S) and DNS.
    pub psc_address: IpAddr,
    /// Address of the application entry point.
    pub app_address: IpAddr,
    /// SMTP port of the Pro Santé Connect entry point.
    pub smtp_port: u16,
    /// IMAP port of the Pro Santé Connect entry point.
    pub imap_port: u16,
    /// SMTP port of the application entry point (default: `smtp_port`).
    pub app_smtp_port: Option<u16>,
    /// IMAP port of the application entry point (default: `imap_port`).
    pub app_imap_port: Option<u16>,
    /// HTTP port (CRL, OCSP, control API).
    pub http_port: u16,
    /// HTTPS port (autoconfiguration, Pro Santé Connect).
    pub https_port: u16,
    /// UDP port of the DNS responder (none: no responder).
    pub dns_port: Option<u16>,
}

impl Default for OperatorSettings {
    fn default() -> Self {
        OperatorSettings {
            psc_address: IpAddr::from([127, 0, 0, 1]),
            app_address: IpAddr::from([127, 0, 0, 2]),
            smtp_port: 10587,
            imap_port: 10143,
            app_smtp_port: None,
            app_imap_port: None,
            http_port: 10080,
            https_port: 10443,
            dns_port: Some(10053),
        }
    }
}

impl OperatorSettings {
    /// Every listener on an ephemeral port of the loopback (what tests use).
    pub fn ephemeral() -> Self {
        OperatorSettings {
            psc_address: IpAddr::from([127, 0, 0, 1]),
            app_address: IpAddr::from([127, 0, 0, 1]),
            smtp_port: 0,
            imap_port: 0,
            app_smtp_port: None,
            app_imap_port: None,
            http_port: 0,
            https_port: 0,
            dns_port: Some(0),
        }
    }
}

/// Settings of the fake Pro Santé Connect for the SUT.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PscSettings {
    /// The client ID the SUT uses (the fake PSC accepts any; it appears in tokens as `azp`).
    #[serde(default = "default_client_id")]
    pub client_id: String,
}

fn default_client_id() -> String {
    "lps-sous-test".to_owned()
}

impl Default for PscSettings {
    fn default() -> Self {
        PscSettings {
            client_id: default_client_id(),
        }
    }
}

/// A SUT profile.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The SUT's name, for reports.
    pub name: String,
    /// Its version, for reports.
    #[serde(default)]
    pub version: Option<String>,
    /// Which driver.
    pub driver: DriverKind,
    /// Families the SUT supports (`PER_ORG`, `APP`); both by default.
    #[serde(default)]
    pub families: Vec<String>,
    /// Default seconds per action.
    #[serde(default = "default_timeout")]
    pub timeout: f64,
    /// Seconds to wait for an observable effect after an action (a message reaching the
    /// operator, a fetch); default: `timeout`.
    #[serde(default)]
    pub effect_timeout: Option<f64>,
    /// Seconds the SUT has to close its sessions after the end of its Pro Santé Connect
    /// session (ECO.1.2.6) and to reopen those the operator ended (ECO.1.2.7); default 10.
    #[serde(default)]
    pub session_delay: Option<f64>,
    /// The command driver's settings.
    #[serde(default)]
    pub command: Option<CommandSettings>,
    /// The HTTP driver's settings.
    #[serde(default)]
    pub http: Option<HttpSettings>,
    /// A command to run once before anything else (build the SUT…); the run stops if it
    /// fails.
    #[serde(default)]
    pub prepare: Option<StartSettings>,
    /// A process to start before the run.
    #[serde(default)]
    pub start: Option<StartSettings>,
    /// Where the operator listens.
    #[serde(default)]
    pub operator: OperatorSettings,
    /// The fake Pro Santé Connect's settings for the SUT.
    #[serde(default)]
    pub psc: PscSettings,
    /// The folder where the SUT keeps its data (profile, cache, database): ECO.1.2.5 checks no
    /// Pro Santé Connect token is written there. Relative to the profile's folder.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// Where the profile was read from (not in the YAML).
    #[serde(skip)]
    pub path: PathBuf,
}

fn default_timeout() -> f64 {
    30.0
}

/// The longest session delay a profile may give (ECO.1.2.6, 1.2.7), in seconds.
pub const MAX_SESSION_DELAY: f64 = 30.0;

/// A duration in seconds from a profile, within (0, 86400].
pub fn seconds(value: f64, what: &str) -> Result<Duration, String> {
    if value.is_finite() && value > 0.0 && value <= 86_400.0 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(format!(
            "{what} : durée invalide {value} (secondes, entre 0 et 86400)"
        ))
    }
}

impl Profile {
    /// The SUT's data folder, relative paths taken from the profile's folder.
    pub fn data_dir_resolved(&self) -> Option<PathBuf> {
        let dir = self.data_dir.as_ref()?;
        Some(if dir.is_absolute() {
            dir.clone()
        } else {
            self.path
                .parent()
                .map_or_else(|| dir.clone(), |p| p.join(dir))
        })
    }

    /// Reads and checks a profile file.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError {
            path: path.display().to_string(),
            message: format!("lecture impossible : {e}"),
        })?;
        Profile::parse(&text, path)
    }

    /// Parses and checks a profile's text.
    pub fn parse(text: &str, path: &Path) -> Result<Profile, ProfileError> {
        let error = |message: String| ProfileError {
            path: path.display().to_string(),
            message,
        };
        let mut profile: Profile =
            serde_saphyr::from_str(text).map_err(|e| error(yaml_error(&e)))?;
        profile.path = path.to_owned();
        profile.check().map_err(error)?;
        Ok(profile)
    }

    fn check(&self) -> Result<(), String> {
        seconds(self.timeout, "timeout")?;
        if let Some(t) = self.session_delay {
            seconds(t, "session_delay")?;
            // ECO.1.2.6 says « dès que »: a delay a system chose for itself must stay short.
            if t > MAX_SESSION_DELAY {
                return Err(format!(
                    "session_delay : {t} s, au plus {MAX_SESSION_DELAY} s (ECO.1.2.6 : « dès \
                     que » la session Pro Santé Connect prend fin)"
                ));
            }
        }
        if let Some(t) = self.effect_timeout {
            seconds(t, "effect_timeout")?;
        }
        for f in &self.families {
            if catalog::Family::from_tag(&format!("@{f}")).is_none()
                && catalog::Family::from_tag(f).is_none()
            {
                return Err(format!("famille inconnue « {f} » (connues : PER_ORG, APP)"));
            }
        }
        match self.driver {
            DriverKind::Command => {
                let Some(command) = &self.command else {
                    return Err("driver: command sans section « command: »".into());
                };
                let mut any = false;
                for action in Action::ALL {
                    if let Some(a) = command.actions.get(action) {
                        any = true;
                        if a.run.is_empty() || a.run[0].trim().is_empty() {
                            return Err(format!("action {action} : « run » est vide"));
                        }
                        if let Some(t) = a.timeout {
                            seconds(t, &format!("action {action}, timeout"))?;
                        }
                    }
                }
                if !any {
                    return Err("aucune action dans « command.actions »".into());
                }
            }
            DriverKind::Http => {
                let Some(http) = &self.http else {
                    return Err("driver: http sans section « http: »".into());
                };
                for name in &http.actions {
                    if Action::from_name(name).is_none() {
                        let known: Vec<_> = Action::ALL.iter().map(|a| a.name()).collect();
                        return Err(format!(
                            "action inconnue « {name} » dans http.actions (connues : {})",
                            known.join(", ")
                        ));
                    }
                }
                match &http.base_url {
                    Some(url) if !url.starts_with("http://") => {
                        return Err(format!(
                            "http.base_url « {url} » : seul http:// est pris en charge (le SUT \
                             écoute en local pendant la campagne)"
                        ));
                    }
                    None if self.start.is_none() => {
                        return Err(
                            "http.base_url absent : donnez-le, ou une section « start: » dont \
                             le processus l'écrit sur sa première ligne de sortie"
                                .into(),
                        );
                    }
                    _ => {}
                }
            }
            DriverKind::Manual => {}
        }
        for (what, settings) in [("prepare", &self.prepare), ("start", &self.start)] {
            if settings.as_ref().is_some_and(|s| s.run.is_empty()) {
                return Err(format!("{what}.run est vide"));
            }
        }
        if let Some(prepare) = &self.prepare {
            resolve_program(&prepare.run[0], prepare.workdir.as_deref())
                .map_err(|e| format!("prepare : {e}"))?;
        } else {
            // Without a build step, the programs must exist now.
            self.check_programs()?;
        }
        Ok(())
    }

    /// Checks that every program the profile runs exists (after `prepare`).
    pub fn check_programs(&self) -> Result<(), String> {
        if let Some(command) = &self.command {
            for action in Action::ALL {
                if let Some(a) = command.actions.get(action) {
                    resolve_program(&a.run[0], command.workdir.as_deref())
                        .map_err(|e| format!("action {action} : {e}"))?;
                }
            }
        }
        if let Some(start) = &self.start {
            resolve_program(&start.run[0], start.workdir.as_deref())
                .map_err(|e| format!("start : {e}"))?;
        }
        Ok(())
    }

    /// The families the SUT claims.
    pub fn families(&self) -> Vec<catalog::Family> {
        let mut out: Vec<catalog::Family> = self
            .families
            .iter()
            .filter_map(|f| {
                catalog::Family::from_tag(&format!("@{f}")).or_else(|| catalog::Family::from_tag(f))
            })
            .collect();
        if out.is_empty() {
            out = vec![catalog::Family::PerOrg, catalog::Family::App];
        }
        out
    }

    /// A description for reports.
    pub fn describe(&self) -> String {
        let kind = match self.driver {
            DriverKind::Command => "commande",
            DriverKind::Http => "HTTP",
            DriverKind::Manual => "manuel",
        };
        match &self.version {
            Some(v) => format!("{} {v} (pilote {kind})", self.name),
            None => format!("{} (pilote {kind})", self.name),
        }
    }
}

/// The YAML parser's error in one line, its location in French (`ligne 5, colonne 5 : …`).
pub(crate) fn yaml_error(e: &serde_saphyr::Error) -> String {
    let text = e.to_string();
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("YAML invalide")
        .trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // « line 5 column 33: invalid floating point » → « ligne 5, colonne 33 : … »
    if let Some(rest) = first.strip_prefix("line ")
        && let Some((line, rest)) = rest.split_once(" column ")
        && let Some((column, message)) = rest.split_once(':')
    {
        return format!("ligne {line}, colonne {column} : {}", message.trim());
    }
    first.to_owned()
}

/// Whether a file may be run.
fn executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// Finds a program: a path with a `/` relative to `workdir`, a bare name on `PATH`.
pub fn resolve_program(program: &str, workdir: Option<&Path>) -> Result<PathBuf, String> {
    let candidate = Path::new(program);
    if program.contains('/') || program.contains('\\') {
        let full = match workdir {
            Some(w) if candidate.is_relative() => w.join(candidate),
            _ => candidate.to_owned(),
        };
        if !full.is_file() {
            Err(format!("programme introuvable « {} »", full.display()))
        } else if !executable(&full) {
            Err(format!(
                "« {} » n'est pas exécutable (chmod +x, ou lancez-le par son interpréteur : \
                 run: [python3, {}])",
                full.display(),
                full.display()
            ))
        } else {
            Ok(full)
        }
    } else {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file() && executable(p))
            .ok_or_else(|| format!("programme « {program} » introuvable dans le PATH"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Profile, ProfileError> {
        Profile::parse(text, Path::new("essai.yaml"))
    }

    #[test]
    fn a_command_profile_reads() {
        let p = parse(
            "name: essai\ndriver: command\ncommand:\n  actions:\n    send: { run: [sh, -c, 'cat'], timeout: 5 }\n",
        )
        .expect("profile");
        assert_eq!(p.driver, DriverKind::Command);
        let send = p.command.as_ref().and_then(|c| c.actions.get(Action::Send));
        assert_eq!(send.map(|a| a.run.len()), Some(3));
        assert!(
            p.command
                .as_ref()
                .and_then(|c| c.actions.get(Action::Sync))
                .is_none()
        );
        assert_eq!(p.operator.smtp_port, 10587);
        assert_eq!(p.families().len(), 2);
    }

    #[test]
    fn bad_profiles_say_what_is_wrong() {
        let e =
            parse("name: essai\ndriver: command\ncommand:\n  actions:\n    sned: { run: [sh] }\n")
                .expect_err("unknown action");
        assert!(e.to_string().contains("sned"), "{e}");
        assert!(e.to_string().contains("essai.yaml"), "{e}");
        let e = parse("name: essai\ndriver: command\ncommand:\n  actions:\n    send: { run: [pas-un-programme-connu-xyz] }\n")
            .expect_err("missing program");
        assert!(e.to_string().contains("introuvable"), "{e}");
        let e = parse("name: essai\ndriver: http\nhttp:\n  actions: [send]\n").expect_err("no URL");
        assert!(e.to_string().contains("base_url"), "{e}");
        let e = parse("name: [\n").expect_err("not YAML");
        assert!(
            e.to_string().starts_with("profil essai.yaml : ligne 1"),
            "{e}"
        );
        let e = parse("name: x\ndriver: command\ncommand:\n  actions:\n    send: { run: [sh], timeout: trois }\n")
            .expect_err("not a number");
        assert!(e.to_string().contains("ligne 5, colonne"), "{e}");
        let e = parse("name: x\ndriver: telepathy\n").expect_err("unknown driver");
        assert!(e.to_string().contains("telepathy"), "{e}");
        let e = parse("name: x\ndriver: manual\ntimeout: -3\n").expect_err("timeout");
        assert!(e.to_string().contains("durée invalide"), "{e}");
        // A system may not give itself an hour to close its sessions (« dès que »).
        let e = parse("name: x\ndriver: manual\nsession_delay: 3600\n").expect_err("delay");
        assert!(e.to_string().contains("au plus 30 s"), "{e}");
        assert!(parse("name: x\ndriver: manual\nsession_delay: 20\n").is_ok());
    }
}
