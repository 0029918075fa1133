//! Deterministic faults the operator injects on request (end sessions, refuse authentications,
//! slow replies, refused recipients, revocation outages). The types belong to the evidence
//! vocabulary (they are journaled when switched): see [`evidence::faults`].

pub use evidence::faults::{Faults, Outage};
