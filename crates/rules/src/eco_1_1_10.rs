//! ECO.1.1.10 — the client trusts the operator's server certificate only when it chains to the
//! IGC Santé **Elementaire Organisations** CA.
//!
//! Reading taken (VERIFICATION.md §1): while the operator presents a certificate (right host
//! name, valid dates) issued by another range of the IGC Santé (Elementaire Personnes,
//! Standard) or by a commercial CA, the client abandons every connection before any credential
//! or command after STARTTLS (see [`crate::transport`]).

use crate::Finding;
use crate::session::{Expectation, SessionEvidence};
use crate::transport;

/// The requirement.
pub const ID: &str = "ECO.1.1.10";

/// The operator's profiles with a certificate of another authority.
pub const PROFILES: [&str; 3] = [
    "certificate-personnes",
    "certificate-standard",
    "certificate-commercial",
];

/// The client abandons connections to a server whose certificate another authority issued.
pub fn check_refusal(evidence: &SessionEvidence, expected: &Expectation) -> Finding {
    transport::abandoned(
        ID,
        evidence,
        expected,
        &PROFILES,
        "un certificat d'une autre autorité que l'AC Elementaire Organisations",
    )
}
