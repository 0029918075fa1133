//! Traces (ECO.4.1.1, ECO.4.1.2): the SUT exports its traces; the harness compares them with
//! what the operator journaled for it in the scenario.

use std::collections::BTreeSet;

use evidence::{EventKind, Service};

use super::{MssWorld, StepResult};
use crate::driver::Action;
use crate::results::StepFinding;

/// Tolerated difference between the SUT's clock and the operator's.
pub const TRACE_SKEW: time::Duration = time::Duration::seconds(120);

/// The trace judgements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceRule {
    /// ECO.4.1.1: every journaled action traced.
    Complete,
    /// ECO.4.1.2: every trace has its fields, failures included.
    Fields,
}

impl MssWorld {
    /// « le système exporte ses traces ».
    pub async fn export_traces(&mut self) -> StepResult {
        let outcome = self
            .act(Action::ExportTraces, async |d| d.export_traces().await)
            .await?;
        self.traces = Some(outcome.unwrap_or_default());
        self.traces_at = Some(time::OffsetDateTime::now_utc());
        Ok(())
    }

    /// What the operator journaled for the SUT since the scenario started.
    fn journaled(&self) -> (rules::traces::Journaled, Option<time::OffsetDateTime>) {
        let evidence = self.evidence();
        let bal = self.bal.as_ref().map(|b| b.address.to_ascii_lowercase());
        let mut j = rules::traces::Journaled::default();
        let mut fetching = BTreeSet::new();
        let mut deleting = BTreeSet::new();
        let mut start = None;
        let mut last_rcpt = BTreeSet::new();
        for e in evidence.events().iter().filter(|e| e.seq > self.mark) {
            start.get_or_insert(e.at);
            match &e.kind {
                EventKind::ConnectionOpened {
                    service: Service::Smtp | Service::Imap,
                    ..
                } => {
                    j.connections += 1;
                }
                EventKind::Auth { .. } => j.authentications += 1,
                EventKind::MessageAccepted { mail_from, .. }
                    if bal
                        .as_deref()
                        .is_none_or(|b| mail_from.eq_ignore_ascii_case(b)) =>
                {
                    j.sends += 1;
                }
                EventKind::MessageFetched { body: true, .. } => {
                    fetching.insert(e.conn);
                }
                EventKind::MessageExpunged { .. } => {
                    deleting.insert(e.conn);
                }
                EventKind::Command { verb, .. } if verb == "RCPT" => {
                    last_rcpt.insert(e.conn);
                }
                EventKind::Reply { line, .. }
                    if last_rcpt.remove(&e.conn) && line.starts_with('5') =>
                {
                    j.refused.get_or_insert(line.clone());
                }
                EventKind::Reply { .. } => {
                    last_rcpt.remove(&e.conn);
                }
                _ => {}
            }
        }
        j.fetches = fetching.len();
        j.deletes = deleting.len();
        (j, start)
    }

    /// Judges the exported traces.
    pub fn judge_traces(&mut self, step: &str, rule: TraceRule) -> StepResult {
        let id = match rule {
            TraceRule::Complete => rules::traces::ID_4_1_1,
            TraceRule::Fields => rules::traces::ID_4_1_2,
        };
        let Some(traces) = self.traces.clone() else {
            return self.harness_error("le système n'a pas exporté ses traces");
        };
        if self
            .actions
            .iter()
            .any(|a| a.action == "export_traces" && !a.ok)
        {
            let finding = self.with_failed_actions(StepFinding {
                step: step.to_owned(),
                requirement: id.to_owned(),
                verdict: rules::Verdict::Fail,
                detail: "le système n'a pas pu exporter ses traces".into(),
                evidence: Vec::new(),
                conceptual: None,
            });
            self.findings.push(finding);
            return Ok(());
        }
        let (journaled, start) = self.journaled();
        let end = self.traces_at.unwrap_or_else(time::OffsetDateTime::now_utc);
        let mut authors: Vec<String> = self.bal.iter().map(|b| b.address.clone()).collect();
        authors.extend(self.bal.as_ref().and_then(|b| b.owner.clone()));
        let window = rules::traces::Window {
            start: start.unwrap_or(end),
            end,
            skew: TRACE_SKEW,
            authors,
        };
        let finding = match rule {
            TraceRule::Complete => rules::traces::check_4_1_1(&traces, &journaled, &window),
            TraceRule::Fields => rules::traces::check_4_1_2(&traces, &journaled, &window),
        };
        let finding = self.with_failed_actions(StepFinding::from_rule(step, finding));
        self.findings.push(finding);
        Ok(())
    }
}
