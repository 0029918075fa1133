//! The receiving side of a scenario: messages the harness delivers into the SUT's BAL (from a
//! professional, asking a read receipt, from a patient, carrying documents), and what the SUT
//! does with them — reply (ECO.2.2.2), display with its read receipt (ECO.3.1.6), list
//! (ECO.3.1.1 to ECO.3.1.3).

use documents::fixtures;
use evidence::EventKind;

use super::{MessageRule, MssWorld, StepResult};
use crate::driver::Action;
use crate::results::StepFinding;

/// What kind of message the harness delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// From a professional, inside a conversation (In-Reply-To and a References chain).
    Professional,
    /// The same, asking for a read receipt (`Disposition-Notification-To`).
    AskingReceipt,
    /// From a patient through Mon espace santé (`Prénom Nom <INS@patient.mssante.fr>`, HTML
    /// alternative, as 002 describes them).
    FromPatient,
    /// From a professional, carrying a document (`XDM/1.0/DDM+…` subject, XDM, PDF).
    WithDocuments,
    /// Carrying the documents of one patient under a subject naming another (ECO.2.1.2).
    MismatchedSubject,
}

/// The professional who writes to the SUT's BAL.
const COLLEAGUE: &str = "paul.durand@operateur-fictif.mssante.fr";

/// The listing judgements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingRule {
    /// ECO.2.1.2.
    FiledByPatientId,
    /// ECO.3.1.1.
    PatientsTold,
    /// ECO.3.1.2.
    PatientShown,
    /// ECO.3.1.3.
    PrefixHidden,
}

impl MssWorld {
    /// « un message … déposé dans sa boîte de réception » and its variants.
    pub fn deliver_as(&mut self, message_id: &str, kind: Delivery) -> StepResult {
        let Some(bal) = self.bal.as_ref().map(|b| b.address.clone()) else {
            return self.harness_error("aucune BAL configurée avant le dépôt");
        };
        let id = message_id.trim_matches(['<', '>']).to_owned();
        let chain = vec![format!("echange-1.{id}"), format!("echange-2.{id}")];
        let mut eml = fixtures::Eml {
            from: (Some("Dr Paul DURAND".into()), COLLEAGUE.into()),
            to: vec![bal],
            subject: "Compte rendu d'échographie".into(),
            message_id: Some(id.clone()),
            headers: vec![("X-MSS-NIL".into(), "MSS-HARNESS/DEPOT".into())],
            text:
                "Bonjour,\r\n\r\nVoici le compte rendu de l'échographie.\r\n\r\nDr Paul DURAND\r\n"
                    .into(),
            html: None,
            files: Vec::new(),
        };
        let mut patient = None;
        let mut patient_id = None;
        match kind {
            Delivery::Professional | Delivery::AskingReceipt => {
                eml.subject = "Re: Compte rendu d'échographie".into();
                eml = eml
                    .with_header("In-Reply-To", &format!("<{}>", chain[1]))
                    .with_header(
                        "References",
                        &chain
                            .iter()
                            .map(|c| format!("<{c}>"))
                            .collect::<Vec<_>>()
                            .join(" "),
                    );
                if kind == Delivery::AskingReceipt {
                    eml = eml.with_header("Disposition-Notification-To", &format!("<{COLLEAGUE}>"));
                }
            }
            Delivery::FromPatient => {
                let p = fixtures::other_patient();
                let ins = p.ins.clone().map(|(m, _)| m).unwrap_or_default();
                let first = p.given.first().cloned().unwrap_or_default();
                let birth = p.birth_name.clone().unwrap_or_default();
                eml.from = (
                    Some(format!("{first} {birth}")),
                    format!("{ins}@patient.mssante.fr"),
                );
                eml.subject = "Question sur mon traitement".into();
                eml.headers.clear();
                eml.text = "Bonjour Docteur,\r\n\r\nDois-je continuer le traitement ?\r\n".into();
                eml.html =
                    Some("<p>Bonjour Docteur,</p><p>Dois-je continuer le traitement ?</p>".into());
                patient = Some(rules::inbox::ShownPatient {
                    birth_name: birth,
                    first_name: first,
                    ins,
                });
            }
            Delivery::WithDocuments | Delivery::MismatchedSubject => {
                let docs = [fixtures::biology_n3()];
                let of = if kind == Delivery::MismatchedSubject {
                    fixtures::other_patient()
                } else {
                    fixtures::patient()
                };
                let with = fixtures::with_documents(&docs, &of);
                eml.subject = documents::build::subject(&docs, &fixtures::patient());
                eml.files = with.files;
                eml.headers = with.headers;
                patient_id = of.ins.map(|(m, _)| m);
            }
        }
        let subject = eml.subject.clone();
        let bytes = fixtures::compose(&eml);
        let Some(op) = self.operator() else {
            return self.harness_error("l'opérateur fictif n'est pas démarré");
        };
        let bal = eml.to[0].clone();
        if let Err(e) = op.deliver(&bal, &bytes) {
            return self.harness_error(format!("dépôt du message : {e}"));
        }
        self.delivered.push(id.clone());
        self.delivered_messages.push((
            rules::inbox::Delivered {
                message_id: id.clone(),
                subject,
                patient,
                patient_id,
            },
            rules::Original {
                message_id: id,
                references: if matches!(kind, Delivery::Professional | Delivery::AskingReceipt) {
                    chain
                } else {
                    Vec::new()
                },
            },
        ));
        Ok(())
    }

    fn delivered_original(&mut self, message_id: &str) -> Result<rules::Original, String> {
        let id = message_id.trim_matches(['<', '>']);
        match self
            .delivered_messages
            .iter()
            .find(|(d, _)| d.message_id == id)
        {
            Some((_, o)) => Ok(o.clone()),
            None => self.harness_error(format!("aucun message <{id}> n'a été déposé")),
        }
    }

    /// « le système répond au message … »: waits until the operator accepted the reply.
    pub async fn reply_to(&mut self, message_id: &str) -> StepResult {
        let original = self.delivered_original(message_id)?;
        let already = self.accepted_from_bal(&self.evidence()).len();
        let id = original.message_id.clone();
        self.original = Some(original);
        let outcome = self
            .act(Action::Reply, async |d| {
                d.reply(&id, "Merci, bien reçu. Je vous rappelle demain.")
                    .await
            })
            .await?;
        self.submissions += 1;
        self.requests.push(rules::Requests {
            end_exchanges: Some(false),
            dsn: Some(false),
            mdn: Some(false),
        });
        if outcome.is_ok() {
            self.wait_until(|e| self.accepted_from_bal(e).len() > already)
                .await;
        }
        Ok(())
    }

    /// « la réponse porte … » (ECO.2.2.2).
    pub fn judge_reply(&mut self, step: &str) -> StepResult {
        if self.original.is_none() {
            return self.harness_error("aucune réponse demandée au système");
        }
        self.judge_messages(step, MessageRule::Reply)
    }

    /// « le système affiche le message … »: waits for a read receipt if one was asked.
    pub async fn open_message(&mut self, message_id: &str) -> StepResult {
        let original = self.delivered_original(message_id)?;
        if !self.services.contains(&operator::Service::Imap) {
            self.services.push(operator::Service::Imap);
        }
        let already = self.accepted_from_bal(&self.evidence()).len();
        let id = original.message_id.clone();
        self.opened.push(id.clone());
        let outcome = self.act(Action::Open, async |d| d.open(&id).await).await?;
        if outcome.is_ok() {
            self.wait_until(|e| self.accepted_from_bal(e).len() > already)
                .await;
        }
        Ok(())
    }

    /// « un accusé de lecture … parvient à l'expéditeur » (ECO.3.1.6): judges what the SUT
    /// sent after displaying the messages asking for one.
    pub fn judge_read_receipt(&mut self, step: &str) -> StepResult {
        let Some(opened) = self.opened.last().cloned() else {
            return self.harness_error("aucun message affiché par le système");
        };
        if self.actions.iter().any(|a| a.action == "open" && !a.ok) {
            let finding = self.with_failed_actions(StepFinding {
                step: step.to_owned(),
                requirement: rules::eco_3_1_6::ID.to_owned(),
                verdict: rules::Verdict::Fail,
                detail: format!("le système n'a pas pu afficher le message <{opened}>"),
                evidence: Vec::new(),
                conceptual: None,
            });
            self.findings.push(finding);
            return Ok(());
        }
        let evidence = self.evidence();
        let mut raws = Vec::new();
        for event in self.accepted_from_bal(&evidence) {
            if let EventKind::MessageAccepted { path, .. } = &event.kind {
                match std::fs::read(path) {
                    Ok(b) => raws.push(b),
                    Err(e) => {
                        return self.harness_error(format!("lecture du message reçu {path} : {e}"));
                    }
                }
            }
        }
        let messages: Vec<rules::Message<'_>> = raws
            .iter()
            .filter_map(|r| rules::Message::parse(r).ok())
            .collect();
        let finding = rules::eco_3_1_6::check(&messages, &opened, COLLEAGUE);
        let finding = StepFinding::from_rule(step, finding);
        self.findings.push(finding);
        Ok(())
    }

    /// « le système affiche sa boîte de réception »: keeps the listing for the judging steps.
    pub async fn list_inbox(&mut self) -> StepResult {
        if !self.services.contains(&operator::Service::Imap) {
            self.services.push(operator::Service::Imap);
        }
        let outcome = self
            .act(Action::ListInbox, async |d| d.list_inbox().await)
            .await?;
        self.listing = Some(match outcome {
            Ok(listed) => listed
                .into_iter()
                .map(|l| rules::inbox::Shown {
                    message_id: l.message_id,
                    subject: l.subject,
                    sender_kind: l.sender_kind,
                    filed_under: l.filed_under,
                    patient: l.patient.map(|p| rules::inbox::ShownPatient {
                        birth_name: p.birth_name,
                        first_name: p.first_name,
                        ins: p.ins,
                    }),
                })
                .collect(),
            Err(_) => Vec::new(),
        });
        Ok(())
    }

    /// Judges the listing (ECO.3.1.1 to ECO.3.1.3).
    pub fn judge_listing(&mut self, step: &str, rule: ListingRule) -> StepResult {
        let Some(listing) = self.listing.clone() else {
            return self.harness_error("le système n'a pas affiché sa boîte de réception");
        };
        let delivered: Vec<rules::inbox::Delivered> = self
            .delivered_messages
            .iter()
            .map(|(d, _)| d.clone())
            .collect();
        let finding = if self
            .actions
            .iter()
            .any(|a| a.action == "list_inbox" && !a.ok)
        {
            let id = match rule {
                ListingRule::FiledByPatientId => rules::inbox::ID_2_1_2,
                ListingRule::PatientsTold => rules::inbox::ID_3_1_1,
                ListingRule::PatientShown => rules::inbox::ID_3_1_2,
                ListingRule::PrefixHidden => rules::inbox::ID_3_1_3,
            };
            self.with_failed_actions(StepFinding {
                step: step.to_owned(),
                requirement: id.to_owned(),
                verdict: rules::Verdict::Fail,
                detail: "le système n'a pas pu afficher sa boîte de réception".into(),
                evidence: Vec::new(),
                conceptual: None,
            })
        } else {
            StepFinding::from_rule(
                step,
                match rule {
                    ListingRule::FiledByPatientId => {
                        rules::inbox::check_2_1_2(&listing, &delivered)
                    }
                    ListingRule::PatientsTold => rules::inbox::check_3_1_1(&listing, &delivered),
                    ListingRule::PatientShown => rules::inbox::check_3_1_2(&listing, &delivered),
                    ListingRule::PrefixHidden => rules::inbox::check_3_1_3(&listing, &delivered),
                },
            )
        };
        self.findings.push(finding);
        Ok(())
    }
}
