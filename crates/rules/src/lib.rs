//! Checks of the messages an MSSanté client sends, one module per requirement.
//!
//! Every check reads the message as sent (raw bytes, parsed by `mail-parser` without
//! normalising away what it must judge) and returns a [`Finding`] whose explanation is French,
//! quoting the offending header.

pub mod eco_2_2_1;
pub mod eco_2_4_3;
mod message;

use std::collections::BTreeMap;

pub use message::{Message, ParseError};
use serde::Serialize;

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The message satisfies the requirement.
    Pass,
    /// It does not.
    Fail,
    /// The requirement does not concern this message.
    NotApplicable,
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
}

impl Finding {
    pub(crate) fn pass(requirement: &'static str, detail: impl Into<String>) -> Self {
        Finding {
            requirement,
            verdict: Verdict::Pass,
            detail: detail.into(),
        }
    }

    pub(crate) fn fail(requirement: &'static str, detail: impl Into<String>) -> Self {
        Finding {
            requirement,
            verdict: Verdict::Fail,
            detail: detail.into(),
        }
    }
}

/// What a check needs to know beyond the message.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Message-IDs already seen in this run, with where they were seen (ECO.2.2.1 uniqueness).
    pub seen_message_ids: BTreeMap<String, String>,
}
