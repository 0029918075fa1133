//! Writing to patients (ECO.2.2.6, ECO.3.1.5): the SUT is given a patient of its user's files
//! (the directory's patients, with whether the identity is qualified) and writes to them; the
//! harness judges the address the operator received, or that nothing was sent.

use evidence::EventKind;

use super::{MssWorld, StepResult};
use crate::driver::{Action, PatientSpec};
use crate::results::StepFinding;

/// The patient judgements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatientRule {
    /// ECO.3.1.5: `To` built from the qualified INS.
    AddressFromIns,
    /// ECO.2.2.6: patient addresses built on valid INS, none for an unqualified identity.
    QualifiedOnly,
}

impl MssWorld {
    /// « le système écrit à l'usager … » (by INS, from the directory's patients).
    pub async fn write_to_patient(&mut self, ins: &str) -> StepResult {
        let Some(op) = self.operator() else {
            return self.harness_error("l'opérateur fictif n'est pas démarré");
        };
        let Some(p) = op
            .directory()
            .patients
            .iter()
            .find(|p| p.ins == ins)
            .cloned()
        else {
            return self.harness_error(format!("aucun usager d'INS {ins} dans l'annuaire"));
        };
        let patient = PatientSpec {
            ins: p.ins.clone(),
            oid: p.oid.clone(),
            birth_name: p.birth_name.clone(),
            first_names: p.first_names.clone(),
            birth_date: p.birth_date.clone(),
            sex: p.sex.clone(),
            qualified: p.qualified,
        };
        if !self.services.contains(&operator::Service::Smtp) {
            self.services.push(operator::Service::Smtp);
        }
        let already = self.accepted_from_bal(&self.evidence()).len();
        self.patients_written.push(patient.clone());
        let outcome = self
            .act(Action::WriteToPatient, async |d| {
                d.write_to_patient(&patient).await
            })
            .await?;
        if outcome.is_ok() {
            self.wait_until(|e| self.accepted_from_bal(e).len() > already)
                .await;
        }
        Ok(())
    }

    /// Judges what the SUT sent to the patients it was asked to write to.
    pub fn judge_patients(&mut self, step: &str, rule: PatientRule) -> StepResult {
        if self.patients_written.is_empty() {
            return self.harness_error("le système n'a été invité à écrire à aucun usager");
        }
        let evidence = self.evidence();
        let mut raws = Vec::new();
        for event in self.accepted_from_bal(&evidence) {
            if let EventKind::MessageAccepted { path, rcpt_to, .. } = &event.kind {
                match std::fs::read(path) {
                    Ok(b) => raws.push((b, rcpt_to.clone())),
                    Err(e) => {
                        return self.harness_error(format!("lecture du message reçu {path} : {e}"));
                    }
                }
            }
        }
        let messages: Vec<(rules::Message<'_>, Vec<String>)> = raws
            .iter()
            .filter_map(|(r, to)| rules::Message::parse(r).ok().map(|m| (m, to.clone())))
            .collect();
        let patients: Vec<rules::eco_3_1_5::Patient> = self
            .patients_written
            .iter()
            .map(|p| rules::eco_3_1_5::Patient {
                ins: p.ins.clone(),
                qualified: p.qualified,
            })
            .collect();
        let finding = match rule {
            PatientRule::AddressFromIns => rules::eco_3_1_5::check(&messages, &patients),
            PatientRule::QualifiedOnly => rules::eco_2_2_6::check_written(&messages, &patients),
        };
        let finding = self.with_failed_actions(StepFinding::from_rule(step, finding));
        self.findings.push(finding);
        Ok(())
    }
}
