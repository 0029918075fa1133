//! The state of one scenario and what its steps do: provoke (operator, driver actions),
//! collect (wait for the effect in the journal), judge (ask `rules`, keep the typed finding).
//! Step definitions (in `steps/`) are one line each calling a method here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use catalog::Family;
use evidence::{EventKind, SessionEvidence};
use operator::directory::{Bal, BalFamily};
use operator::{EntryPoint, OperatorConfig, OperatorHandle, Service};

mod inbox;
mod patients;
mod traces;
pub use inbox::{Delivery, ListingRule};
pub use patients::PatientRule;
pub use traces::TraceRule;

use crate::context::{RunContext, SharedDriver};
use crate::driver::types::{
    AccountSpec, AddressSpec, AddressType, AttachmentSpec, BalKind, CertificateSpec, ConnectToSpec,
    MessageSpec, PscSpec, ServerSpec, TrustSpec,
};
use crate::driver::{Action, DriverError};
use crate::results::{ActionRecord, StepFinding};

/// Why a scenario stopped before its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The SUT could not be asked (its driver lacks the action): `non testé`.
    NotTested(String),
    /// The bench failed: `erreur du banc`.
    HarnessError(String),
}

/// What a step returns: `Err` stops the scenario (the reason is in [`MssWorld::stop`]).
pub type StepResult = Result<(), String>;

/// The session rules a step can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRule {
    /// ECO.1.0.1, SMTP with STARTTLS.
    Smtp,
    /// ECO.1.0.2, IMAP with STARTTLS.
    Imap,
    /// ECO.1.0.1, nothing in clear over SMTP when the operator offers no STARTTLS.
    SmtpNoStartTls,
    /// ECO.1.0.2, nothing in clear over IMAP when the operator offers no STARTTLS.
    ImapNoStartTls,
    /// ECO.1.1.2 (informational), the TLS version negotiated.
    Tls13,
    /// ECO.1.1.3, suites and key exchange groups.
    Suites,
    /// ECO.1.1.1, a server offering only TLS 1.0 or 1.1 abandoned.
    OldTlsRefused,
    /// ECO.1.1.1, a server offering only TLS 1.2 used.
    Tls12Works,
    /// ECO.1.1.3, a server imposing a forbidden suite or a weak group abandoned.
    WeakCryptoRefused,
    /// ECO.1.1.5, a certificate out of its dates abandoned.
    CertificateDatesRefused,
    /// ECO.1.1.10, a certificate of another authority abandoned.
    CertificateAuthorityRefused,
    /// ECO.1.1.6, a revoked certificate abandoned.
    RevokedCertificateRefused,
    /// ECO.1.1.7, the last CRL kept when its distribution point fails.
    CrlKept,
    /// ECO.1.1.9, servers found by autoconfiguration and tested.
    Autoconfigured,
    /// ECO.1.2.3, the system kept working after a refused authentication.
    AuthErrorContained,
    /// ECO.1.2.6, sessions ended with the Pro Santé Connect session, within the delay.
    PscSessionEnd(Duration),
    /// ECO.1.2.7, sessions reopened after the operator ended them, within the delay.
    Reopened(Duration),
    /// ECO.1.2.7, the same with the access token expired: refreshed first.
    ReopenedAfterExpiry(Duration),
    /// ECO.1.2.1, XOAUTH2 with a Pro Santé Connect token.
    Xoauth2,
    /// ECO.1.3.1, ORG AUTH_CLI certificate then PLAIN.
    Certificate,
}

/// The message rules a step can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageRule {
    /// ECO.2.2.1, Message-ID.
    MessageId,
    /// ECO.2.4.3, X-MSS-NIL.
    Nil,
    /// ECO.2.2.3, UTF-8 text parts.
    Utf8,
    /// ECO.2.2.4, a text body, or text then HTML.
    Body,
    /// ECO.2.2.5, an application BAL's Reply-To and automatic-message mention.
    AppReplyTo,
    /// ECO.2.2.7, a meaningful sender label.
    SenderLabel,
    /// ECO.2.2.8, `X-MSS-MES: FIN` exactly when asked, to a patient.
    EndOfExchanges,
    /// ECO.2.3.1, `Return-Receipt-To` when asked.
    Dsn,
    /// ECO.2.3.2, `Disposition-Notification-To` when asked.
    Mdn,
    /// ECO.2.1.1, one patient, the IHE_XDM archive and a PDF per document.
    Xdm,
    /// ECO.2.1.3, the subject of a message carrying documents.
    DocumentSubject,
    /// ECO.2.1.5, each PDF a PDF/A-1 with the document's content.
    Pdfa,
    /// ECO.2.1.6, the PDFs' file names.
    PdfName,
    /// ECO.2.4.1, X-MSS-CODECDA.
    CodeCda,
    /// ECO.2.4.2, X-MSS-INS.
    Ins,
    /// ECO.2.2.2, a reply's Message-ID, In-Reply-To and References.
    Reply,
}

impl MessageRule {
    /// The requirement it judges.
    fn id(self) -> &'static str {
        match self {
            MessageRule::MessageId => rules::eco_2_2_1::ID,
            MessageRule::Nil => rules::eco_2_4_3::ID,
            MessageRule::Utf8 => rules::eco_2_2_3::ID,
            MessageRule::Body => rules::eco_2_2_4::ID,
            MessageRule::AppReplyTo => rules::eco_2_2_5::ID,
            MessageRule::SenderLabel => rules::eco_2_2_7::ID,
            MessageRule::EndOfExchanges => rules::eco_2_2_8::ID,
            MessageRule::Dsn => rules::eco_2_3_1::ID,
            MessageRule::Mdn => rules::eco_2_3_2::ID,
            MessageRule::Xdm => rules::eco_2_1_1::ID,
            MessageRule::DocumentSubject => rules::eco_2_1_3::ID,
            MessageRule::Pdfa => rules::eco_2_1_5::ID,
            MessageRule::PdfName => rules::eco_2_1_6::ID,
            MessageRule::CodeCda => rules::eco_2_4_1::ID,
            MessageRule::Ins => rules::eco_2_4_2::ID,
            MessageRule::Reply => rules::eco_2_2_2::ID,
        }
    }

    /// Its rule, on one message.
    fn check(self, message: &rules::Message<'_>, context: &rules::Context) -> rules::Finding {
        let check = match self {
            MessageRule::MessageId => rules::eco_2_2_1::check,
            MessageRule::Nil => rules::eco_2_4_3::check,
            MessageRule::Utf8 => rules::eco_2_2_3::check,
            MessageRule::Body => rules::eco_2_2_4::check,
            MessageRule::AppReplyTo => rules::eco_2_2_5::check,
            MessageRule::SenderLabel => rules::eco_2_2_7::check,
            MessageRule::EndOfExchanges => rules::eco_2_2_8::check,
            MessageRule::Dsn => rules::eco_2_3_1::check,
            MessageRule::Mdn => rules::eco_2_3_2::check,
            MessageRule::Xdm => rules::eco_2_1_1::check,
            MessageRule::DocumentSubject => rules::eco_2_1_3::check,
            MessageRule::Pdfa => rules::eco_2_1_5::check,
            MessageRule::PdfName => rules::eco_2_1_6::check,
            MessageRule::CodeCda => rules::eco_2_4_1::check,
            MessageRule::Ins => rules::eco_2_4_2::check,
            MessageRule::Reply => rules::eco_2_2_2::check,
        };
        check(message, context)
    }
}

/// One scenario's world.
#[derive(cucumber::World, Default)]
pub struct MssWorld {
    pub(crate) ctx: Option<Arc<RunContext>>,
    /// The scenario's own operator (reference client); `None` when the run shares one.
    pub(crate) own_operator: Option<OperatorHandle>,
    pub(crate) data: Option<tempfile::TempDir>,
    /// Journal sequence number before the scenario: its evidence comes after.
    pub(crate) mark: u64,
    pub(crate) driver: Option<SharedDriver>,
    pub(crate) bal: Option<Bal>,
    pub(crate) account: Option<AccountSpec>,
    /// Messages the SUT was asked to send (and said it sent).
    pub(crate) submissions: usize,
    /// What the user asked for with each message the SUT was asked to send, in order.
    pub(crate) requests: Vec<rules::Requests>,
    /// Message-IDs the harness delivered into the SUT's BAL.
    pub(crate) delivered: Vec<String>,
    /// What the harness delivered: for the listing rules, and the original of a reply.
    pub(crate) delivered_messages: Vec<(rules::inbox::Delivered, rules::Original)>,
    /// The message the SUT was asked to reply to (ECO.2.2.2).
    pub(crate) original: Option<rules::Original>,
    /// Message-IDs the SUT was asked to display (ECO.3.1.6).
    pub(crate) opened: Vec<String>,
    /// The INBOX as the SUT listed it (ECO.3.1.1 to ECO.3.1.3).
    pub(crate) listing: Option<Vec<rules::inbox::Shown>>,
    /// The patients the SUT was asked to write to (ECO.2.2.6, ECO.3.1.5).
    pub(crate) patients_written: Vec<crate::driver::PatientSpec>,
    /// The traces the SUT exported (ECO.4.1.x), and when.
    pub(crate) traces: Option<Vec<serde_json::Value>>,
    pub(crate) traces_at: Option<time::OffsetDateTime>,
    /// Protocols the SUT was asked to use.
    pub(crate) services: Vec<Service>,
    /// Connections held from an earlier scenario that this one judges.
    pub(crate) kept: std::collections::BTreeSet<u64>,
    pub(crate) findings: Vec<StepFinding>,
    pub(crate) actions: Vec<ActionRecord>,
    pub(crate) stop: Option<Stop>,
    pub(crate) started: Option<Instant>,
    /// The scenario's name (set before its first step).
    pub(crate) scenario: String,
    /// The requirement its tags name (set before its first step).
    pub(crate) requirement: Option<String>,
    /// Its only finding is the tester's attestation.
    pub(crate) attestation_only: bool,
    /// Evidence files testers gave with their attestations, with the statement attested.
    pub(crate) attachments: Vec<(String, crate::driver::EvidenceFile)>,
    /// Stops the replay's journal printer when the scenario ends.
    pub(crate) replay_stop: Option<tokio::sync::watch::Sender<bool>>,
}

impl std::fmt::Debug for MssWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MssWorld")
            .field("bal", &self.bal.as_ref().map(|b| &b.address))
            .field("findings", &self.findings.len())
            .field("stop", &self.stop)
            .finish()
    }
}

impl MssWorld {
    /// Stops the scenario as a bench error.
    fn harness_error<T>(&mut self, why: impl Into<String>) -> Result<T, String> {
        let why = why.into();
        self.stop = Some(Stop::HarnessError(why.clone()));
        Err(why)
    }

    /// Stops the scenario as not tested.
    fn not_tested<T>(&mut self, why: impl Into<String>) -> Result<T, String> {
        let why = why.into();
        self.stop = Some(Stop::NotTested(why.clone()));
        Err(why)
    }

    fn ctx(&self) -> Option<Arc<RunContext>> {
        self.ctx.clone()
    }

    /// The operator of this scenario.
    pub(crate) fn operator(&self) -> Option<&OperatorHandle> {
        self.own_operator.as_ref().or_else(|| {
            self.ctx
                .as_ref()
                .and_then(|c| c.external.as_ref())
                .map(|e| &e.operator)
        })
    }

    /// The « délai de session » of ECO.1.2.6 and 1.2.7 (see [`RunConfig::session_delay`]).
    pub(crate) fn session_delay(&self) -> Duration {
        self.ctx
            .as_ref()
            .map_or(Duration::from_secs(10), |c| c.config.session_delay)
    }

    fn timeout(&self) -> Duration {
        self.ctx
            .as_ref()
            .map_or(Duration::from_secs(10), |c| c.config.timeout)
    }

    /// The family the scenario exercises.
    pub(crate) fn family(&self) -> Option<Family> {
        self.bal.as_ref().map(|b| match b.family {
            BalFamily::Application => Family::App,
            BalFamily::Personal | BalFamily::Organisational => Family::PerOrg,
        })
    }

    /// « un opérateur MSSanté fictif »: a fresh operator for the reference client, the run's
    /// operator reset for an external SUT.
    /// Switches the operator's TLS profile (`tls10-only`, `certificate-expire`…) and ends the
    /// sessions in progress; journaled, so the rules know which connections were made under
    /// it. Reset between scenarios.
    pub fn set_tls_profile(&mut self, name: &str) -> StepResult {
        let Some(profile) = operator::TlsProfile::from_name(name) else {
            return self.harness_error(format!("profil TLS inconnu de l'opérateur : {name}"));
        };
        let Some(op) = self.operator() else {
            return self.harness_error("l'opérateur fictif n'est pas démarré");
        };
        op.set_tls_profile(profile);
        // A system that keeps its connections open (IMAP IDLE) reconnects, under this profile.
        op.end_sessions(&format!("profil TLS {name}"));
        Ok(())
    }

    /// The BAL's authenticated IMAP connections still open (what a client holds in IDLE).
    fn held_imap(&self, evidence: &SessionEvidence) -> Vec<evidence::ConnId> {
        let expected = self.expectation();
        evidence
            .connections_to(Service::Imap)
            .into_iter()
            .filter(|c| expected.entry.is_none_or(|e| e == c.entry))
            .filter(|c| c.closed().is_none())
            // Held: a mailbox selected, and not being left (LOGOUT sent).
            .filter(|c| {
                let verb = |v: &str| {
                    c.events.iter().any(|e| {
                        matches!(&e.kind, EventKind::Command { verb, .. } if verb.eq_ignore_ascii_case(v))
                    })
                };
                (verb("SELECT") || verb("EXAMINE")) && !verb("LOGOUT")
            })
            .filter(|c| {
                c.events.iter().any(|e| {
                    matches!(&e.kind, EventKind::Auth { verdict: evidence::AuthVerdict::Accepted, user: Some(u), .. }
                        if expected.bal.as_deref().is_some_and(|b| rules::session::same_bal(u, b)))
                })
            })
            .map(|c| c.id)
            .collect()
    }

    /// « le système garde une session IMAP ouverte »: waits for it; without one, the
    /// scenario's session rules have nothing to judge.
    pub async fn await_held_session(&mut self) -> StepResult {
        // A long-lived system may hold its session since an earlier scenario.
        if let Some(op) = self.operator() {
            let all = SessionEvidence::new(
                op.journal()
                    .snapshot()
                    .iter()
                    .map(|e| (**e).clone())
                    .collect(),
            );
            let earlier = self.held_imap(&all);
            self.kept.extend(earlier);
        }
        self.wait_until(|e| !self.held_imap(e).is_empty()).await;
        if self.held_imap(&self.evidence()).is_empty() {
            return self.not_tested(
                "le système ne garde aucune session IMAP authentifiée ouverte après sa \
                 synchronisation (IDLE) : rien à fermer ni à rouvrir",
            );
        }
        Ok(())
    }

    /// « le système configuré pour la BAL … avec une nouvelle session Pro Santé Connect »: the
    /// professional's earlier sessions end first, so a long-lived system opens a new one (with
    /// the tokens the scenario set up).
    pub async fn configure_fresh(&mut self, address: &str) -> StepResult {
        let Some(op) = self.operator() else {
            return self.harness_error("l'opérateur fictif n'est pas démarré");
        };
        let Some(bal) = op.directory().bal(address).cloned() else {
            return self.harness_error(format!("la BAL {address} n'est pas dans l'annuaire"));
        };
        if let Some(professional) = bal.owner.clone().or_else(|| bal.members.first().cloned()) {
            op.end_psc_sessions(&professional);
        }
        self.configure(address).await
    }

    /// « la session Pro Santé Connect du professionnel prend fin »: at the fake PSC, every
    /// session of the BAL's professional (its refresh tokens become invalid).
    pub fn end_psc_session(&mut self) -> StepResult {
        let Some(op) = self.operator() else {
            return self.harness_error("l'opérateur fictif n'est pas démarré");
        };
        let Some(professional) = self
            .account
            .as_ref()
            .and_then(|a| a.psc.as_ref())
            .map(|p| p.professional.clone())
        else {
            return self.harness_error("la BAL configurée n'a pas de session Pro Santé Connect");
        };
        op.end_psc_sessions(&professional);
        Ok(())
    }

    /// « le système redémarre » (driver `restart`).
    pub async fn restart(&mut self) -> StepResult {
        // A restart the SUT reports as failed is judged on what its folder holds.
        let _outcome = self
            .act(Action::Restart, async |d| d.restart().await)
            .await?;
        Ok(())
    }

    /// ECO.1.2.5: looks for every token the fake PSC issued in the SUT's data folder.
    pub async fn judge_token_storage(&mut self, step: &str) -> StepResult {
        let folder = match &self.driver {
            Some(d) => d.lock().await.data_dir(),
            None => None,
        };
        let canaries = self
            .operator()
            .map(|op| op.issued_tokens())
            .unwrap_or_default();
        let scan = match folder {
            Some(dir) => tokio::task::spawn_blocking(move || scan_folder(&dir, &canaries))
                .await
                .unwrap_or_default(),
            None => rules::eco_1_2_5::Scan {
                canaries: canaries.len(),
                ..Default::default()
            },
        };
        let finding = rules::eco_1_2_5::check(&scan);
        let finding = self.with_failed_actions(StepFinding::from_rule(step, finding));
        self.findings.push(finding);
        Ok(())
    }

    /// « le testeur atteste : "…" »: a tester (an interactive manual run, or a tester at the
    /// terminal beside another driver) attests what the harness cannot observe. The answer
    /// joins the scenario's last finding: « non » fails it, « oui » adds the attestation and
    /// its evidence file; without a tester the finding stands alone and says so.
    pub async fn attest(&mut self, step: &str, statement: &str) -> StepResult {
        if self.findings.is_empty() {
            // What the harness cannot see at all: the tester's word is the finding.
            let Some(requirement) = self.requirement.clone() else {
                return self.not_tested(format!(
                    "« {step} » : aucun constat automatique à compléter par l'attestation"
                ));
            };
            self.findings.push(StepFinding {
                step: step.to_owned(),
                requirement,
                verdict: rules::Verdict::NotTested,
                detail: format!("attestation du testeur requise : « {statement} »"),
                evidence: Vec::new(),
                conceptual: None,
            });
            self.attestation_only = true;
        }
        let manual = self
            .ctx
            .as_ref()
            .and_then(|c| c.external.as_ref())
            .and_then(|e| e.manual.clone());
        let mut answer = None;
        for driver in [manual, self.driver.clone()].into_iter().flatten() {
            let mut guard = driver.lock().await;
            if let Ok(Some(a)) = guard.attest(statement).await {
                answer = Some(a);
                break;
            }
        }
        if let Some(f) = answer.as_ref().and_then(|a| a.evidence.as_ref()) {
            self.attachments.push((statement.to_owned(), f.clone()));
        }
        let Some(finding) = self.findings.last_mut() else {
            return Ok(());
        };
        match answer {
            None if self.attestation_only => {
                finding.detail = format!(
                    "{} : « {statement} » ; aucun testeur au terminal (à rejouer en \
                     interactif, ou pilote « manual »)",
                    crate::results::AWAITING_ATTESTATION
                );
            }
            None => finding.evidence.push(format!(
                "attestation « {statement} » non recueillie : aucun testeur au terminal \
                 (constat automatique seul)"
            )),
            Some(a) => {
                let file = a.evidence.as_ref().map_or_else(
                    || "sans fichier de preuve".to_owned(),
                    |f| {
                        format!(
                            "preuve {} ({} octets, SHA-256 {})",
                            f.path.display(),
                            f.bytes,
                            f.sha256
                        )
                    },
                );
                if a.confirmed && self.attestation_only {
                    finding.verdict = rules::Verdict::Pass;
                    finding.detail = format!("attesté par le testeur : « {statement} » — {file}");
                } else if a.confirmed {
                    finding
                        .evidence
                        .push(format!("attesté par le testeur : « {statement} » — {file}"));
                } else {
                    let automatic = std::mem::take(&mut finding.detail);
                    finding.verdict = rules::Verdict::Fail;
                    finding.detail = format!(
                        "le testeur n'atteste pas « {statement} » — {file} (constat automatique : \
                         {automatic})"
                    );
                }
            }
        }
        Ok(())
    }

    /// « l'opérateur refusera la prochaine authentification », however valid.
    pub fn refuse_next_authentication(&mut self) -> StepResult {
        let Some(op) = self.operator() else {
            return self.harness_error("l'opérateur fictif n'est pas démarré");
        };
        let mut faults = op.faults();
        faults.refuse_next_auth += 1;
        op.set_faults(faults);
        Ok(())
    }

    /// « des Access Tokens Pro Santé Connect valables N secondes »: from now on.
    pub fn short_access_tokens(&mut self, seconds: u64) -> StepResult {
        let Some(op) = self.operator() else {
            return self.harness_error("l'opérateur fictif n'est pas démarré");
        };
        let mut faults = op.faults();
        faults.psc_access_ttl = Some(Duration::from_secs(seconds.max(1)));
        op.set_faults(faults);
        Ok(())
    }

    /// « l'Access Token de la session tenue a expiré »: waits for the expiry of the token the
    /// held session authenticated with. This wait is the scenario's subject (time must pass),
    /// not a synchronisation; it is bounded by the effect timeout.
    pub async fn await_held_token_expiry(&mut self) -> StepResult {
        let evidence = self.evidence();
        let held = self.held_imap(&evidence);
        let exp = held
            .iter()
            .filter_map(|id| evidence.connection(*id))
            .flat_map(|c| c.events)
            .filter_map(|e| match &e.kind {
                EventKind::Auth {
                    token: Some(t),
                    verdict: evidence::AuthVerdict::Accepted,
                    ..
                } => Some(t.exp),
                _ => None,
            })
            .max();
        let Some(exp) = exp else {
            return self.not_tested("la session tenue ne s'est pas authentifiée par un jeton PSC");
        };
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let wait = Duration::from_secs((exp - now + 1).max(0) as u64);
        if wait > self.timeout() {
            return self.not_tested(format!(
                "le jeton de la session tenue expire dans {} s, au-delà du délai du banc",
                wait.as_secs()
            ));
        }
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// « l'opérateur met fin aux sessions en cours » (IMAP `BYE`, SMTP `421`).
    pub fn end_operator_sessions(&mut self) -> StepResult {
        let Some(op) = self.operator() else {
            return self.harness_error("l'opérateur fictif n'est pas démarré");
        };
        op.end_sessions("scénario de reconnexion");
        Ok(())
    }

    /// Waits, at most `delay`, until ECO.1.2.6's rule is satisfied (every session held when the
    /// PSC session ended is closed): the same condition the judgement uses.
    pub async fn await_sessions_closed(&mut self, delay: Duration) {
        let expected = self.expectation();
        self.wait_within(delay, |e| {
            rules::eco_1_2_6::check(e, &expected, delay).verdict == rules::Verdict::Pass
        })
        .await;
    }

    /// Waits, at most `delay`, until ECO.1.2.7's rule (`after_expiry`: its expired-token
    /// variant) is satisfied: what the operator ended is open again.
    pub async fn await_reopened(&mut self, delay: Duration, after_expiry: bool) {
        let expected = self.expectation();
        self.wait_within(delay, |e| {
            let finding = if after_expiry {
                rules::eco_1_2_7::check_after_expiry(e, &expected, delay)
            } else {
                rules::eco_1_2_7::check(e, &expected, delay)
            };
            finding.verdict == rules::Verdict::Pass
        })
        .await;
    }

    /// Puts the OCSP responder and/or the CRL distribution points out of service (503), on top
    /// of the faults in force.
    pub fn set_revocation_outage(&mut self, ocsp: bool, crl: bool) -> StepResult {
        let Some(op) = self.operator() else {
            return self.harness_error("l'opérateur fictif n'est pas démarré");
        };
        let mut faults = op.faults();
        if ocsp {
            faults.ocsp = Some(evidence::faults::Outage::Unavailable);
        }
        if crl {
            faults.crl = Some(evidence::faults::Outage::Unavailable);
        }
        op.set_faults(faults);
        // A system that keeps its sessions open (IMAP IDLE, a reused SMTP session) opens new
        // ones, which check revocation again.
        op.end_sessions("panne des services de révocation");
        Ok(())
    }

    pub async fn start_operator(&mut self) -> StepResult {
        let scenario = self.scenario.clone();
        let Some(ctx) = self.ctx() else {
            return self.harness_error("contexte de campagne absent");
        };
        self.started = Some(Instant::now());
        if let Some(external) = &ctx.external {
            if let Err(e) = external
                .operator
                .reset(&format!("début du scénario « {scenario} »"))
            {
                return self.harness_error(format!("remise à zéro de l'opérateur : {e}"));
            }
            self.mark = external.operator.journal().len() as u64;
        } else {
            let data = match tempfile::tempdir() {
                Ok(d) => d,
                Err(e) => return self.harness_error(format!("dossier temporaire : {e}")),
            };
            let config = OperatorConfig::new(
                ctx.config.directory.clone(),
                ctx.pki.clone(),
                data.path().to_owned(),
            );
            match operator::Operator::start(config).await {
                Ok(op) => {
                    self.own_operator = Some(op);
                    self.data = Some(data);
                }
                Err(e) => {
                    return self.harness_error(format!("démarrage de l'opérateur fictif : {e}"));
                }
            }
        }
        match ctx.driver() {
            Some(d) => self.driver = Some(d),
            None => return self.harness_error("aucun pilote pour le système testé"),
        }
        if let (Some(replay), Some(op)) = (ctx.config.replay.clone(), self.operator()) {
            replay.say(&format!("Scénario : {scenario}"));
            let (tx, rx) = tokio::sync::watch::channel(false);
            crate::replay::follow_journal(replay, op.journal().clone(), self.mark, rx);
            self.replay_stop = Some(tx);
        }
        Ok(())
    }

    /// The account description of a BAL of the directory, for the operator as it is bound.
    /// With `autoconfig`, the servers are left out: the SUT finds them from the address.
    fn account_for(&self, bal: &Bal) -> Result<AccountSpec, String> {
        let ctx = self.ctx().ok_or("contexte de campagne absent")?;
        let op = self
            .operator()
            .ok_or("l'opérateur fictif n'est pas démarré")?;
        let dir = op.directory();
        let addresses = op.addresses();
        let files = ctx.trust_files.clone();
        let kind = match bal.family {
            BalFamily::Personal => BalKind::Per,
            BalFamily::Organisational => BalKind::Org,
            BalFamily::Application => BalKind::App,
        };
        let entry = if kind == BalKind::App {
            EntryPoint::App
        } else {
            EntryPoint::Psc
        };
        let host = match entry {
            EntryPoint::Psc => dir.operator.psc_host.clone(),
            EntryPoint::App => dir.operator.authcli_host.clone(),
        };
        let server = |service| {
            let addr = addresses.of(service, entry);
            ServerSpec {
                host: host.clone(),
                port: addr.port(),
                address: addr.ip(),
            }
        };
        let (certificate, psc) = match kind {
            BalKind::App => {
                let structure = bal.structure.as_deref().unwrap_or_default();
                let (chain, key) = files.client(structure);
                if !chain.is_file() {
                    return Err(format!(
                        "pas de certificat ORG AUTH_CLI pour la structure {structure}"
                    ));
                }
                (Some(CertificateSpec { chain, key }), None)
            }
            BalKind::Per | BalKind::Org => {
                let professional = match kind {
                    BalKind::Per => bal.owner.clone(),
                    _ => bal.members.first().cloned(),
                }
                .ok_or_else(|| format!("aucun professionnel habilité sur {}", bal.address))?;
                let client_id = match &ctx.config.sut {
                    crate::context::Sut::External(p) => p.psc.client_id.clone(),
                    crate::context::Sut::Reference { .. } => crate::LPS_CLIENT_ID.to_owned(),
                };
                let token = op
                    .issue_access_token(&professional, &client_id, Duration::from_secs(3600))
                    .map_err(|e| e.to_string())?;
                (
                    None,
                    Some(PscSpec {
                        issuer: op.psc_issuer(),
                        client_id,
                        professional,
                        access_token: token,
                    }),
                )
            }
        };
        Ok(AccountSpec {
            address: bal.address.clone(),
            kind,
            display_name: dir.display_name(bal).unwrap_or_default(),
            reply_to: bal.reply_to.clone(),
            smtp: Some(server(Service::Smtp)),
            imap: Some(server(Service::Imap)),
            autoconfig: op.autoconfig_url(),
            connect_to: connect_to(&dir.operator, &addresses),
            trust: TrustSpec {
                root: files.root_cert.clone(),
                organisations: files.organisations_cert.clone(),
                crls: vec![files.root_crl.clone(), files.organisations_crl.clone()],
            },
            certificate,
            psc,
        })
    }

    async fn act<T>(
        &mut self,
        action: Action,
        run: impl AsyncFn(&mut dyn crate::driver::SutDriver) -> Result<T, DriverError>,
    ) -> Result<Result<T, DriverError>, String> {
        let Some(driver) = self.driver.clone() else {
            return self.harness_error("aucun pilote de SUT");
        };
        if let Some(replay) = self.ctx.as_ref().and_then(|c| c.config.replay.clone()) {
            replay
                .pause(&format!(
                    "action demandée au système : « {} »",
                    action.name()
                ))
                .await;
            if replay.stopped() {
                return self.not_tested("rejeu interrompu par le testeur");
            }
        }
        let mut guard = driver.lock().await;
        let mut outcome = run(&mut **guard).await;
        drop(guard);
        // An action the profile lacks, in an interactive run: the tester does it.
        if matches!(outcome, Err(DriverError::Unsupported(_)))
            && action != Action::Configure
            && let Some(manual) = self
                .ctx
                .as_ref()
                .and_then(|c| c.external.as_ref())
                .and_then(|e| e.manual.clone())
        {
            let mut guard = manual.lock().await;
            outcome = run(&mut **guard).await;
        }
        let (ok, text) = match &outcome {
            Ok(_) => (true, "réussie".to_owned()),
            Err(e) => (false, e.to_string()),
        };
        self.actions.push(ActionRecord {
            action: action.name().to_owned(),
            ok,
            outcome: text,
        });
        match outcome {
            Err(DriverError::Unsupported(a)) => self.not_tested(format!(
                "le pilote du système ne sait pas faire l'action « {a} »"
            )),
            Err(DriverError::Unavailable { action, reason }) => {
                self.not_tested(format!("action « {action} » impossible : {reason}"))
            }
            Err(e @ DriverError::Broken { .. }) => self.harness_error(e.to_string()),
            other => Ok(other),
        }
    }

    /// « le système configuré pour la BAL … ».
    pub async fn configure(&mut self, address: &str) -> StepResult {
        let account = self.take_account(address, false)?;
        let outcome = match self
            .act(Action::Configure, async |d| d.configure(&account).await)
            .await
        {
            Ok(o) => o,
            // A driver that cannot configure: the SUT was configured out of band.
            Err(_) if matches!(self.stop, Some(Stop::NotTested(_))) => {
                self.stop = None;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        match outcome {
            Ok(()) => Ok(()),
            // The SUT could not take its account: nothing can be judged, and it is not a
            // non-conformity of the requirement.
            Err(e) => self.not_tested(format!(
                "le système n'a pas pris sa configuration pour la BAL {address} : {e}"
            )),
        }
    }

    /// The account of a BAL of the directory, which becomes the scenario's (and, for a
    /// long-lived SUT, one it was configured for); without its servers when `autoconfig`.
    fn take_account(&mut self, address: &str, autoconfig: bool) -> Result<AccountSpec, String> {
        let Some(op) = self.operator() else {
            return self.harness_error("l'opérateur fictif n'est pas démarré");
        };
        let Some(bal) = op.directory().bal(address).cloned() else {
            return self.harness_error(format!("la BAL {address} n'est pas dans l'annuaire"));
        };
        let mut account = match self.account_for(&bal) {
            Ok(a) => a,
            Err(e) => return self.harness_error(format!("compte de la BAL {address} : {e}")),
        };
        if autoconfig {
            account.smtp = None;
            account.imap = None;
        }
        if let Some(external) = self.ctx.as_ref().and_then(|c| c.external.as_ref()) {
            let mut configured = external
                .configured
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if !configured.contains(&bal.address) {
                configured.push(bal.address.clone());
            }
        }
        self.bal = Some(bal);
        self.account = Some(account.clone());
        Ok(account)
    }

    /// « le système configure la BAL … à partir de sa seule adresse » (ECO.1.1.9): the account
    /// without its servers; the SUT autoconfigures and runs its connection test. A failure is
    /// judged on what the operator saw.
    pub async fn configure_by_autoconfig(&mut self, address: &str) -> StepResult {
        let account = self.take_account(address, true)?;
        for service in [Service::Smtp, Service::Imap] {
            if !self.services.contains(&service) {
                self.services.push(service);
            }
        }
        // A failure the SUT reports is judged on what the operator saw (the rule says what
        // was missing); the action's outcome is kept for the report.
        let _outcome = self
            .act(Action::Configure, async |d| d.configure(&account).await)
            .await?;
        // A connection test may run after the answer: wait (bounded) for one of this BAL.
        let expected = self.expectation();
        self.wait_until(|e| {
            e.connections().iter().any(|c| {
                expected.entry.is_none_or(|x| x == c.entry)
                    && c.tls_established().is_some()
                    && c.events.iter().any(|ev| {
                        matches!(&ev.kind, EventKind::Auth { user: Some(u), .. }
                            if expected.bal.as_deref().is_some_and(|b| rules::session::same_bal(u, b)))
                    })
            })
        })
        .await;
        Ok(())
    }

    /// « un message … déposé dans sa boîte de réception »: as if another professional had
    /// sent it.
    pub fn deliver(&mut self, message_id: &str) -> StepResult {
        self.deliver_as(message_id, Delivery::Professional)
    }

    /// « le système envoie N messages à … » (`html`: « un message HTML »); then waits until the
    /// operator accepted them. The text is French with accents (ECO.2.2.3 judges its encoding).
    pub async fn send(&mut self, count: usize, to: &str, html: bool) -> StepResult {
        self.send_asking(count, to, html, rules::Requests::default())
            .await
    }

    /// [`MssWorld::send`] with what the user asks for: receipts (ECO.2.3.x), the end of the
    /// exchanges with a patient (ECO.2.2.8). Unasked requests are recorded as « not asked ».
    pub async fn send_asking(
        &mut self,
        count: usize,
        to: &str,
        html: bool,
        asked: rules::Requests,
    ) -> StepResult {
        let asked = rules::Requests {
            end_exchanges: Some(asked.end_exchanges.unwrap_or(false)),
            dsn: Some(asked.dsn.unwrap_or(false)),
            mdn: Some(asked.mdn.unwrap_or(false)),
        };
        let specs = (1..=count)
            .map(|i| MessageSpec {
                addresses: vec![AddressSpec {
                    email: to.to_owned(),
                    name: None,
                    kind: AddressType::To,
                }],
                subject: format!("Compte rendu de consultation n°{i} — été"),
                body: if html {
                    "<p>Bonjour,</p><p>Voici le compte rendu de la consultation de jeudi : \
                     <b>état stable</b>, à revoir dans un mois.</p><p>Bien cordialement.</p>"
                        .to_owned()
                } else {
                    "Bonjour,\nVoici le compte rendu de la consultation de jeudi : état stable, \
                     à revoir dans un mois.\nBien cordialement."
                        .to_owned()
                },
                is_html: html,
                request_dsn: asked.dsn == Some(true),
                request_mdn: asked.mdn == Some(true),
                end_exchanges: asked.end_exchanges == Some(true),
                ..MessageSpec::default()
            })
            .collect();
        self.send_specs(specs, asked).await
    }

    /// « le système envoie les documents de santé "<lot>" à … »: the CDA documents of one
    /// patient, attached as the user would attach them; the SUT composes the rest (archive,
    /// PDFs, subject, X-MSS-CODECDA and X-MSS-INS).
    pub async fn send_documents(&mut self, set: &str, to: &str) -> StepResult {
        use documents::fixtures;
        let (docs, patient) = match set {
            "compte rendu N3 et lettre N1" => (
                vec![fixtures::biology_n3(), fixtures::letter_n1()],
                fixtures::patient(),
            ),
            "lettre N1" => (vec![fixtures::letter_n1()], fixtures::patient()),
            "compte rendu N3 sans nom de naissance" => (
                vec![fixtures::biology_n3()],
                fixtures::patient_without_birth_name(),
            ),
            other => {
                return self.harness_error(format!(
                    "lot de documents inconnu « {other} » (connus : « compte rendu N3 et lettre \
                     N1 », « lettre N1 », « compte rendu N3 sans nom de naissance »)"
                ));
            }
        };
        let attachments = docs
            .iter()
            .enumerate()
            .map(|(i, d)| AttachmentSpec {
                content_type: "text/xml".into(),
                file: base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    documents::build::cda(d, &patient),
                ),
                file_name: format!("CDA-{}.xml", i + 1),
            })
            .collect();
        let spec = MessageSpec {
            attachments,
            addresses: vec![AddressSpec {
                email: to.to_owned(),
                name: None,
                kind: AddressType::To,
            }],
            subject: "Documents de santé".into(),
            body: "Bonjour,\nVeuillez trouver ci-joint les documents de la patiente.\nBien \
                   cordialement."
                .into(),
            ..MessageSpec::default()
        };
        self.send_specs(vec![spec], rules::Requests::default())
            .await
    }

    /// Asks the SUT to send each message in turn, then waits until the operator accepted what
    /// the SUT says it sent.
    async fn send_specs(&mut self, specs: Vec<MessageSpec>, asked: rules::Requests) -> StepResult {
        let asked = rules::Requests {
            end_exchanges: Some(asked.end_exchanges.unwrap_or(false)),
            dsn: Some(asked.dsn.unwrap_or(false)),
            mdn: Some(asked.mdn.unwrap_or(false)),
        };
        if !self.services.contains(&Service::Smtp) {
            self.services.push(Service::Smtp);
        }
        let already = self.accepted_from_bal(&self.evidence()).len();
        let mut reported_sent = 0;
        for spec in specs {
            self.requests.push(asked);
            let outcome = self
                .act(Action::Send, async |d| d.send(&spec).await)
                .await?;
            self.submissions += 1;
            if outcome.is_ok() {
                reported_sent += 1;
            } else {
                // The SUT reports a failure: no point asking for more; the rules judge what
                // the operator saw.
                break;
            }
        }
        // Wait for what the SUT says it sent (it may queue it); a failure is judged as is.
        if reported_sent > 0 {
            self.wait_until(|evidence| {
                self.accepted_from_bal(evidence).len() >= already + reported_sent
            })
            .await;
        }
        Ok(())
    }

    /// « le système synchronise sa boîte de réception »; then waits until every delivered
    /// message was fetched.
    pub async fn sync(&mut self) -> StepResult {
        if !self.services.contains(&Service::Imap) {
            self.services.push(Service::Imap);
        }
        if self
            .act(Action::Sync, async |d| d.sync().await)
            .await?
            .is_err()
        {
            return Ok(());
        }
        let delivered = self.delivered.clone();
        self.wait_until(|evidence| delivered.iter().all(|id| !evidence.fetched(id).is_empty()))
            .await;
        Ok(())
    }

    /// Waits (on the journal, no sleep) until `done` holds for the scenario's evidence, or the
    /// effect timeout; what was observed is judged either way.
    async fn wait_until(&self, done: impl Fn(&SessionEvidence) -> bool) {
        self.wait_within(self.timeout(), done).await
    }

    /// [`MssWorld::wait_until`] with its own bound.
    async fn wait_within(&self, bound: Duration, done: impl Fn(&SessionEvidence) -> bool) {
        let Some(op) = self.operator() else { return };
        if let Some(replay) = self.ctx.as_ref().and_then(|c| c.config.replay.as_ref()) {
            replay.settle().await;
            replay.say(&format!(
                "  … en attente de l'effet sur l'opérateur (au plus {} s)",
                bound.as_secs()
            ));
        }
        let journal = op.journal();
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            if done(&self.evidence()) {
                return;
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let seen = journal.len() as u64;
            if left.is_zero() || journal.wait_for(seen, left, |_| true).await.is_err() {
                return;
            }
        }
    }

    /// Everything the operator journaled since the scenario started, with the whole history
    /// of the connections active in it: a client that keeps its connection open from one
    /// scenario to the next (IMAP IDLE) is judged on how that connection was opened too.
    pub(crate) fn evidence(&self) -> SessionEvidence {
        let Some(op) = self.operator() else {
            return SessionEvidence::default();
        };
        let recent = op.journal().since(self.mark);
        // Connections the client used in this scenario: it sent something on them. A
        // connection of another scenario that only received notifications (an IDLE kept open
        // while the operator was reset) did no work here.
        let mut active: std::collections::BTreeSet<u64> = recent
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    EventKind::Command { .. }
                        | EventKind::ConnectionOpened { .. }
                        | EventKind::InjectionDiscarded { .. }
                        | EventKind::TlsClientHello(_)
                )
            })
            .filter_map(|e| e.conn)
            .collect();
        // Sessions held from an earlier scenario that this one judges (ECO.1.2.6, 1.2.7).
        active.extend(self.kept.iter().copied());
        let mut events: Vec<evidence::Event> = Vec::new();
        if self.mark > 0 && !active.is_empty() {
            // Only what builds the connection's state: what it delivered or fetched before
            // belongs to the earlier scenario.
            events.extend(
                op.journal()
                    .snapshot()
                    .iter()
                    .take_while(|e| e.seq <= self.mark)
                    .filter(|e| e.conn.is_some_and(|c| active.contains(&c)))
                    .filter(|e| {
                        matches!(
                            e.kind,
                            EventKind::ConnectionOpened { .. }
                                | EventKind::Command { .. }
                                | EventKind::Reply { .. }
                                | EventKind::TlsClientHello(_)
                                | EventKind::TlsEstablished { .. }
                                | EventKind::TlsFailed { .. }
                                | EventKind::InjectionDiscarded { .. }
                                | EventKind::Auth { .. }
                                | EventKind::FaultInjected { .. }
                        )
                    })
                    .map(|e| (**e).clone()),
            );
        }
        events.extend(
            recent
                .iter()
                .filter(|e| e.conn.is_none_or(|c| active.contains(&c)))
                .map(|e| (**e).clone()),
        );
        SessionEvidence::new(events)
    }

    fn expectation(&self) -> rules::session::Expectation {
        let bal = self.bal.as_ref().map(|b| b.address.clone());
        let other_bals = self
            .ctx
            .as_ref()
            .and_then(|c| c.external.as_ref())
            .map(|e| {
                e.configured
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .iter()
                    .filter(|b| Some(*b) != bal.as_ref())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let entry = self.bal.as_ref().map(|b| match b.family {
            BalFamily::Application => EntryPoint::App,
            _ => EntryPoint::Psc,
        });
        rules::session::Expectation {
            bal,
            entry,
            other_bals,
            structure: self.bal.as_ref().and_then(|b| b.structure.clone()),
            submissions: self.submissions,
            delivered: self.delivered.clone(),
            services: self.services.clone(),
        }
    }

    /// A judging step: asks a session rule about the scenario's evidence.
    pub fn judge_session(&mut self, step: &str, rule: SessionRule) -> StepResult {
        let evidence = self.evidence();
        let expected = self.expectation();
        let finding = match rule {
            SessionRule::Smtp => rules::eco_1_0_1::check(&evidence, &expected),
            SessionRule::Imap => rules::eco_1_0_2::check(&evidence, &expected),
            SessionRule::SmtpNoStartTls => {
                rules::eco_1_0_1::check_no_starttls(&evidence, &expected)
            }
            SessionRule::ImapNoStartTls => {
                rules::eco_1_0_2::check_no_starttls(&evidence, &expected)
            }
            SessionRule::Tls13 => rules::eco_1_1_2::check(&evidence, &expected),
            SessionRule::Suites => rules::eco_1_1_3::check(&evidence, &expected),
            SessionRule::OldTlsRefused => rules::eco_1_1_1::check_refusal(&evidence, &expected),
            SessionRule::Tls12Works => rules::eco_1_1_1::check_tls12(&evidence, &expected),
            SessionRule::WeakCryptoRefused => rules::eco_1_1_3::check_refusal(&evidence, &expected),
            SessionRule::CertificateDatesRefused => {
                rules::eco_1_1_5::check_refusal(&evidence, &expected)
            }
            SessionRule::CertificateAuthorityRefused => {
                rules::eco_1_1_10::check_refusal(&evidence, &expected)
            }
            SessionRule::RevokedCertificateRefused => {
                rules::eco_1_1_6::check_refusal(&evidence, &expected)
            }
            SessionRule::CrlKept => rules::eco_1_1_7::check(&evidence, &expected),
            SessionRule::Autoconfigured => rules::eco_1_1_9::check(&evidence, &expected),
            SessionRule::AuthErrorContained => {
                let first_failure = self.actions.iter().position(|a| !a.ok);
                let actions = rules::eco_1_2_3::Actions {
                    failure_reported: first_failure.is_some(),
                    later: first_failure
                        .map(|i| {
                            self.actions[i + 1..]
                                .iter()
                                .map(|a| (a.action.clone(), a.ok, a.outcome.clone()))
                                .collect()
                        })
                        .unwrap_or_default(),
                };
                rules::eco_1_2_3::check(&evidence, &expected, &actions)
            }
            SessionRule::PscSessionEnd(delay) => {
                rules::eco_1_2_6::check(&evidence, &expected, delay)
            }
            SessionRule::Reopened(delay) => rules::eco_1_2_7::check(&evidence, &expected, delay),
            SessionRule::ReopenedAfterExpiry(delay) => {
                rules::eco_1_2_7::check_after_expiry(&evidence, &expected, delay)
            }
            SessionRule::Xoauth2 => rules::eco_1_2_1::check(&evidence, &expected),
            SessionRule::Certificate => rules::eco_1_3_1::check(&evidence, &expected),
        };
        let mut finding = self.with_failed_actions(StepFinding::from_rule(step, finding));
        if let SessionRule::Suites = rule {
            finding =
                finding.with_conceptual(rules::eco_1_1_3::check_conceptual(&evidence, &expected));
        }
        if let SessionRule::PscSessionEnd(delay)
        | SessionRule::Reopened(delay)
        | SessionRule::ReopenedAfterExpiry(delay) = rule
        {
            finding.evidence.push(format!(
                "délai de session appliqué : {} s",
                delay.as_secs_f32()
            ));
        }
        self.findings.push(finding);
        Ok(())
    }

    /// A finding that judged nothing says what the SUT reported of its actions.
    fn with_failed_actions(&self, mut finding: StepFinding) -> StepFinding {
        if finding.verdict == rules::Verdict::NotTested {
            let failed: Vec<String> = self
                .actions
                .iter()
                .filter(|a| !a.ok)
                .map(|a| format!("action « {} » : {}", a.action, a.outcome))
                .collect();
            if !failed.is_empty() {
                finding.detail = format!("{} ({})", finding.detail, failed.join(" ; "));
            }
        }
        finding
    }

    /// A judging step: asks a message rule about every message the operator accepted from
    /// the SUT in this scenario, as received.
    pub fn judge_messages(&mut self, step: &str, rule: MessageRule) -> StepResult {
        let id = rule.id();
        // What the harness knows of the sender: its kind of BAL, the BAL named for replies.
        let sender = self.bal.as_ref().map(|b| match b.family {
            BalFamily::Personal => rules::SenderKind::Personal,
            BalFamily::Organisational => rules::SenderKind::Organisational,
            BalFamily::Application => rules::SenderKind::Application,
        });
        let reply_to = self.bal.as_ref().and_then(|b| b.reply_to.clone());
        let evidence = self.evidence();
        let accepted = self.accepted_from_bal(&evidence);
        if accepted.is_empty() {
            let finding = self.with_failed_actions(StepFinding {
                step: step.to_owned(),
                requirement: id.to_owned(),
                verdict: rules::Verdict::NotTested,
                detail: "l'opérateur n'a accepté aucun message du système : rien à juger".into(),
                evidence: Vec::new(),
                conceptual: None,
            });
            self.findings.push(finding);
            return Ok(());
        }
        let family = self.family().unwrap_or(Family::PerOrg);
        let mut seen = std::collections::BTreeMap::new();
        // A message accepted twice byte for byte (a retransmission after a lost reply) is one
        // message: judged once, never a reused Message-ID.
        let mut digests: Vec<([u8; 32], usize)> = Vec::new();
        let mut retransmissions = Vec::new();
        let first_finding = self.findings.len();
        for (index, event) in accepted.iter().enumerate() {
            let EventKind::MessageAccepted { path, rcpt_to, .. } = &event.kind else {
                continue;
            };
            let bytes = match std::fs::read(path) {
                Ok(b) => b,
                Err(e) => {
                    return self.harness_error(format!("lecture du message reçu {path} : {e}"));
                }
            };
            let digest: [u8; 32] = {
                use sha2::Digest;
                sha2::Sha256::digest(&bytes).into()
            };
            if let Some((_, first)) = digests.iter().find(|(d, _)| *d == digest) {
                retransmissions.push(format!(
                    "message n°{} : retransmission à l'identique du message n°{} (même \
                     contenu), jugée avec lui",
                    index + 1,
                    first + 1
                ));
                continue;
            }
            digests.push((digest, index));
            let finding = match rules::Message::parse(&bytes) {
                Err(e) => rules::Finding {
                    requirement: id,
                    verdict: rules::Verdict::Fail,
                    detail: format!("message illisible : {e}"),
                    evidence: Vec::new(),
                },
                Ok(message) => {
                    let context = rules::Context {
                        family,
                        seen_message_ids: seen.clone(),
                        sender,
                        reply_to: reply_to.clone(),
                        // Messages are accepted in the order they were asked for.
                        requests: self.requests.get(index).copied().unwrap_or_default(),
                        original: self.original.clone(),
                        envelope_recipients: rcpt_to.clone(),
                        ..rules::Context::default()
                    };
                    let finding = rule.check(&message, &context);
                    if let Some(mid) = message.parsed().message_id() {
                        seen.entry(mid.to_owned())
                            .or_insert_with(|| format!("message n°{} de ce scénario", index + 1));
                    }
                    finding
                }
            };
            let mut finding = StepFinding::from_rule(step, finding);
            finding.detail = format!("message n°{} : {}", index + 1, finding.detail);
            self.findings.push(finding);
        }
        if let Some(f) = self.findings.get_mut(first_finding) {
            f.evidence.extend(retransmissions);
        }
        Ok(())
    }

    /// The messages the operator accepted in this scenario from the configured BAL.
    pub(crate) fn accepted_from_bal<'e>(
        &self,
        evidence: &'e SessionEvidence,
    ) -> Vec<&'e evidence::Event> {
        let bal = self.bal.as_ref().map(|b| b.address.to_ascii_lowercase());
        evidence
            .accepted_messages()
            .into_iter()
            .filter(|e| match (&bal, &e.kind) {
                (Some(bal), EventKind::MessageAccepted { mail_from, .. }) => {
                    mail_from.to_ascii_lowercase() == *bal
                }
                (None, _) => true,
                _ => false,
            })
            .collect()
    }

    /// Where the operator stored the messages it accepted in this scenario.
    pub(crate) fn accepted_message_paths(&self) -> Vec<std::path::PathBuf> {
        let evidence = self.evidence();
        self.accepted_from_bal(&evidence)
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::MessageAccepted { path, .. } => Some(std::path::PathBuf::from(path)),
                _ => None,
            })
            .collect()
    }

    /// Message-IDs of the messages the operator accepted in this scenario, each with the
    /// SHA-256 of the message as received (hex; empty if it could not be read): a Message-ID
    /// seen again on identical bytes is a retransmission, not a reuse.
    pub(crate) fn accepted_message_ids(&self) -> Vec<(String, String)> {
        let evidence = self.evidence();
        self.accepted_from_bal(&evidence)
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::MessageAccepted {
                    message_id, path, ..
                } => message_id.as_deref().map(|m| {
                    use sha2::Digest;
                    let digest = std::fs::read(path)
                        .map(|b| {
                            sha2::Sha256::digest(&b)
                                .iter()
                                .map(|x| format!("{x:02x}"))
                                .collect()
                        })
                        .unwrap_or_default();
                    (evidence::strip_brackets(m).to_owned(), digest)
                }),
                _ => None,
            })
            .collect()
    }
}

/// The operator's host names as the bench binds them (curl's `--connect-to`): the
/// autoconfiguration host on the HTTPS listener, the CRL and OCSP hosts (whatever port the
/// certificates name) on the HTTP listener, each entry point's host on its address.
fn connect_to(
    op: &operator::directory::OperatorInfo,
    addresses: &operator::Addresses,
) -> Vec<ConnectToSpec> {
    let to = |host: String, addr: std::net::SocketAddr, port: bool| ConnectToSpec {
        host,
        port: None,
        address: addr.ip(),
        to_port: port.then_some(addr.port()),
    };
    vec![
        to(op.autoconfig_host.clone(), addresses.https, true),
        // The fake Pro Santé Connect: its issuer names the port it is bound to.
        to(format!("psc.{}", op.domain), addresses.https, false),
        to(format!("crl.{}", op.domain), addresses.http, true),
        to(format!("ocsp.{}", op.domain), addresses.http, true),
        to(op.psc_host.clone(), addresses.psc_smtp, false),
        to(op.authcli_host.clone(), addresses.app_smtp, false),
    ]
}

/// ECO.1.2.5: looks for every canary token, in clear or base64, in the files under `dir`
/// (at most 10,000 files of at most 64 MiB each; more is reported, not read).
fn scan_folder(dir: &std::path::Path, canaries: &[String]) -> rules::eco_1_2_5::Scan {
    let mut scan = rules::eco_1_2_5::Scan {
        folder: Some(dir.display().to_string()),
        canaries: canaries.len(),
        ..Default::default()
    };
    if std::fs::read_dir(dir).is_err() {
        scan.skipped
            .push(format!("{} (dossier illisible)", dir.display()));
        return scan;
    }
    let finders: Vec<(memchr::memmem::Finder<'static>, &str)> = canaries
        .iter()
        .filter(|t| t.len() >= 16)
        .flat_map(|t| rules::eco_1_2_5::forms(t))
        .map(|(f, how)| (memchr::memmem::Finder::new(f.as_bytes()).into_owned(), how))
        .collect();
    let mut stack = vec![dir.to_path_buf()];
    let mut seen = 0usize;
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            scan.skipped
                .push(format!("{} (dossier illisible)", d.display()));
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(path);
                continue;
            }
            seen += 1;
            if seen > 10_000 || meta.len() > 64 * 1024 * 1024 {
                scan.skipped
                    .push(format!("{} (trop grand ou trop nombreux)", path.display()));
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                scan.skipped.push(format!("{} (illisible)", path.display()));
                continue;
            };
            scan.files += 1;
            if let Some((_, how)) = finders.iter().find(|(f, _)| f.find(&bytes).is_some()) {
                scan.hits
                    .push((path.display().to_string(), (*how).to_owned()));
            }
        }
    }
    scan
}
