//! Deterministic faults the operator injects on request, to see how the system under test
//! copes (reconnection after a server-side end of session, refused authentication, slowness,
//! refused recipients, revocation outages). Part of the evidence: every switch is journaled with
//! the faults then in force.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How an HTTP revocation service (CRL distribution point, OCSP responder) fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outage {
    /// Answers `503 Service Unavailable`.
    Unavailable,
    /// Accepts the request and never answers.
    Hang,
}

/// The faults in force. `Faults::default()` is a healthy operator. In JSON, durations are
/// seconds: `{"close_after": 2.5, "refuse_next_auth": 1, "crl": "unavailable"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// End every session (IMAP `BYE`, SMTP `421`) this long after it opened.
    #[serde(with = "opt_secs", skip_serializing_if = "Option::is_none", default)]
    pub close_after: Option<Duration>,
    /// End every session after this many commands (the last one is answered first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_after_commands: Option<u32>,
    /// Refuse this many of the next authentications, however valid.
    #[serde(skip_serializing_if = "is_zero")]
    pub refuse_next_auth: u32,
    /// Refuse access tokens obtained through a refresh grant, as if the operator had not yet
    /// seen the refresh (the client must cope, e.g. refresh again or re-authenticate).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub refuse_refreshed_tokens: bool,
    /// Lifetime of the access tokens the fake Pro Santé Connect issues from now on (its 120 s
    /// otherwise): a scenario makes them expire under a held session (ECO.1.2.7).
    #[serde(with = "opt_secs", skip_serializing_if = "Option::is_none", default)]
    pub psc_access_ttl: Option<Duration>,
    /// Delay every reply by this much.
    #[serde(with = "opt_secs", skip_serializing_if = "Option::is_none", default)]
    pub slow_replies: Option<Duration>,
    /// IMAP MOVE answers `NO` (nothing moves): the client must not lose or duplicate messages.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub move_fails: bool,
    /// Recipients refused at RCPT with `550 5.1.1`.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub refused_recipients: BTreeSet<String>,
    /// The CRL distribution point is down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crl: Option<Outage>,
    /// The OCSP responder is down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ocsp: Option<Outage>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

mod opt_secs {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_f64(d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        let secs: Option<f64> = serde::Deserialize::deserialize(d)?;
        match secs {
            None => Ok(None),
            Some(s) if (0.0..1e9).contains(&s) => Ok(Some(Duration::from_secs_f64(s))),
            Some(s) => Err(serde::de::Error::custom(format!("durée invalide : {s}"))),
        }
    }
}
