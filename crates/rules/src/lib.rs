//! Every judgement of the harness, one module per requirement: checks of the messages an
//! MSSanté client sends (ECO.2.x, pure functions over the raw bytes) and session rules (ECO.1.x,
//! pure functions over the operator's evidence, see [`session`]).
//!
//! Every check reads the message as sent (raw bytes, parsed by `mail-parser` without
//! normalising away what it must judge) and returns a [`Finding`] whose explanation is French,
//! naming the offending header, part or file. [`check_all`] runs every check an offline reader
//! can run (the `mss-harness check` command); scenarios call the modules with what they know
//! in the [`Context`] (what the user asked for, the sender's kind, the original of a reply).
//!
//! Where the référentiel is ambiguous, each module's doc comment says which reading it takes.

pub mod eco_1_0_1;
pub mod eco_1_0_2;
pub mod eco_1_1_1;
pub mod eco_1_1_10;
pub mod eco_1_1_2;
pub mod eco_1_1_3;
pub mod eco_1_1_5;
pub mod eco_1_1_6;
pub mod eco_1_1_7;
pub mod eco_1_1_9;
pub mod eco_1_2_1;
pub mod eco_1_2_3;
pub mod eco_1_2_5;
pub mod eco_1_2_6;
pub mod eco_1_2_7;
pub mod eco_1_3_1;
pub mod eco_2_1_1;
pub mod eco_2_1_3;
pub mod eco_2_1_5;
pub mod eco_2_1_6;
pub mod eco_2_2_1;
pub mod eco_2_2_2;
pub mod eco_2_2_3;
pub mod eco_2_2_4;
pub mod eco_2_2_5;
pub mod eco_2_2_6;
pub mod eco_2_2_7;
pub mod eco_2_2_8;
pub mod eco_2_3_1;
pub mod eco_2_3_2;
pub mod eco_2_4_1;
pub mod eco_2_4_2;
pub mod eco_2_4_3;
pub mod eco_3_1_5;
pub mod eco_3_1_6;
pub mod health;
pub mod inbox;
pub mod ins;
mod message;
pub mod session;
pub mod text;
pub mod traces;
mod transport;

use std::collections::BTreeMap;

pub use catalog::Family;
pub use message::{Attachment, MAX_MESSAGE, Mailbox, Message, ParseError, content_type};
use serde::Serialize;

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The message satisfies the requirement.
    Pass,
    /// It does not.
    Fail,
    /// The requirement does not concern this message (or this family).
    NotApplicable,
    /// Nothing the requirement judges was observed (no connection, nothing sent or fetched):
    /// the explanation says what was missing. Never a pass.
    NotTested,
}

/// The verdict of one requirement on one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Requirement ID.
    pub requirement: &'static str,
    /// Verdict.
    pub verdict: Verdict,
    /// Explanation (French).
    pub detail: String,
    /// What shows it: transcript lines of the offending connection, header lines…
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

impl Finding {
    pub(crate) fn pass(requirement: &'static str, detail: impl Into<String>) -> Self {
        Finding {
            requirement,
            verdict: Verdict::Pass,
            detail: detail.into(),
            evidence: Vec::new(),
        }
    }

    pub(crate) fn fail(requirement: &'static str, detail: impl Into<String>) -> Self {
        Finding {
            requirement,
            verdict: Verdict::Fail,
            detail: detail.into(),
            evidence: Vec::new(),
        }
    }

    pub(crate) fn not_applicable(requirement: &'static str, detail: impl Into<String>) -> Self {
        Finding {
            requirement,
            verdict: Verdict::NotApplicable,
            detail: detail.into(),
            evidence: Vec::new(),
        }
    }

    pub(crate) fn not_tested(requirement: &'static str, detail: impl Into<String>) -> Self {
        Finding {
            requirement,
            verdict: Verdict::NotTested,
            detail: detail.into(),
            evidence: Vec::new(),
        }
    }

    /// The same finding with lines of evidence.
    pub(crate) fn with_evidence(mut self, evidence: Vec<String>) -> Self {
        self.evidence = evidence;
        self
    }

    /// A failure when `problems` is not empty (joined with « ; »), else a pass.
    pub(crate) fn from_problems(
        requirement: &'static str,
        problems: Vec<String>,
        pass: impl Into<String>,
    ) -> Self {
        if problems.is_empty() {
            Finding::pass(requirement, pass)
        } else {
            Finding::fail(requirement, problems.join(" ; "))
        }
    }
}

/// The kind of BAL that sent a message (ECO.2.2.7 asks a different label of each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderKind {
    /// A professional's own BAL: `[Titre ]Prénom NOM[ Entité]`.
    Personal,
    /// A service's BAL: an entity label.
    Organisational,
    /// An application's BAL: an entity label.
    Application,
}

/// What the user asked the system under test to do with a message (scenarios know; an offline
/// reader does not: `None`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requests {
    /// End the patient's right to reply (`X-MSS-MES: FIN`, ECO.2.2.8).
    pub end_exchanges: Option<bool>,
    /// A delivery status notification (`Return-Receipt-To`, ECO.2.3.1).
    pub dsn: Option<bool>,
    /// A read receipt (`Disposition-Notification-To`, ECO.2.3.2).
    pub mdn: Option<bool>,
}

/// The message a reply answers (ECO.2.2.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Original {
    /// Its Message-ID, without angle brackets.
    pub message_id: String,
    /// Its References, without angle brackets, in order.
    pub references: Vec<String>,
}

/// What a check needs to know beyond the message.
#[derive(Debug, Clone)]
pub struct Context {
    /// The family of the system under test: requirements outside it are not applicable.
    pub family: Family,
    /// Message-IDs already seen in this run, with where they were seen (ECO.2.2.1 uniqueness).
    pub seen_message_ids: BTreeMap<String, String>,
    /// The domain of patient addresses; its sub-domains (`recette.patient.mssante.fr`) count.
    pub patient_domain: String,
    /// The sender's kind of BAL, when known.
    pub sender: Option<SenderKind>,
    /// For an application BAL: the personal or organisational BAL configured for replies.
    pub reply_to: Option<String>,
    /// What the user asked for.
    pub requests: Requests,
    /// For a reply: the message it answers.
    pub original: Option<Original>,
    /// SMTP envelope recipients (RCPT TO) when known: a patient may be one without appearing in
    /// To, Cc or Bcc (ECO.2.2.8).
    pub envelope_recipients: Vec<String>,
    /// The MSSanté domains: a Reply-To in one of them (or a sub-domain) is an MSSanté BAL
    /// (ECO.2.2.5, offline).
    pub mssante_domains: Vec<String>,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            family: Family::PerOrg,
            seen_message_ids: BTreeMap::new(),
            patient_domain: "patient.mssante.fr".into(),
            sender: None,
            reply_to: None,
            requests: Requests::default(),
            original: None,
            envelope_recipients: Vec::new(),
            mssante_domains: vec!["mssante.fr".into()],
        }
    }
}

impl Context {
    /// Whether an address is a patient's (Mon espace santé).
    pub fn is_patient_address(&self, address: &str) -> bool {
        let domain = address
            .rsplit_once('@')
            .map(|(_, d)| d.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let patient = self.patient_domain.to_ascii_lowercase();
        domain == patient || domain.ends_with(&format!(".{patient}"))
    }
}

/// The documents a rule about health documents judges, or the finding when there are none to
/// judge: not applicable without an XDM archive, a failure (`what` : why) when the
/// archive cannot be read or holds no CDA.
pub(crate) fn documents_to_judge<'m>(
    message: &'m Message<'_>,
    id: &'static str,
    what: &str,
) -> Result<Vec<health::Document<'m>>, Finding> {
    let health = message.health();
    if !health.carries_documents() {
        return Err(Finding::not_applicable(id, "aucune archive IHE_XDM jointe"));
    }
    health
        .documents()
        .map_err(|e| Finding::fail(id, format!("{what} : {e}")))
}

/// A check of one requirement.
pub type Check = fn(&Message<'_>, &Context) -> Finding;

/// The requirements an offline reader can judge on a message alone, in catalogue order.
/// ECO.2.2.2 (needs the original) and ECO.2.1.2 (receiving side) are left out.
pub const OFFLINE: [(&str, Check); 16] = [
    (eco_2_1_1::ID, eco_2_1_1::check),
    (eco_2_1_3::ID, eco_2_1_3::check),
    (eco_2_1_5::ID, eco_2_1_5::check),
    (eco_2_1_6::ID, eco_2_1_6::check),
    (eco_2_2_1::ID, eco_2_2_1::check),
    (eco_2_2_3::ID, eco_2_2_3::check),
    (eco_2_2_4::ID, eco_2_2_4::check),
    (eco_2_2_5::ID, eco_2_2_5::check),
    (eco_2_2_6::ID, eco_2_2_6::check),
    (eco_2_2_7::ID, eco_2_2_7::check),
    (eco_2_2_8::ID, eco_2_2_8::check),
    (eco_2_3_1::ID, eco_2_3_1::check),
    (eco_2_3_2::ID, eco_2_3_2::check),
    (eco_2_4_1::ID, eco_2_4_1::check),
    (eco_2_4_2::ID, eco_2_4_2::check),
    (eco_2_4_3::ID, eco_2_4_3::check),
];

/// Runs one requirement's check, or says it does not apply to the context's family.
pub fn check_one(
    id: &'static str,
    check: Check,
    message: &Message<'_>,
    context: &Context,
) -> Finding {
    static CATALOGUE: std::sync::OnceLock<catalog::Catalogue> = std::sync::OnceLock::new();
    let applies = CATALOGUE
        .get_or_init(catalog::Catalogue::embedded)
        .get(id)
        .is_none_or(|r| r.applies_to(context.family));
    if applies {
        check(message, context)
    } else {
        Finding::not_applicable(
            id,
            format!(
                "exigence non applicable à la famille {}",
                context.family.tag()
            ),
        )
    }
}

/// Every offline check on one message, in catalogue order.
pub fn check_all(message: &Message<'_>, context: &Context) -> Vec<Finding> {
    OFFLINE
        .iter()
        .map(|(id, check)| check_one(id, *check, message, context))
        .collect()
}
