//! ECO.1.1.5 — the client checks the validity period of the operator's server certificate.
//!
//! Reading taken (VERIFICATION.md §1): while the operator presents an expired certificate, or
//! one not valid yet (otherwise correct: right chain, right name), the client abandons every
//! connection before any credential or command after STARTTLS (see [`crate::transport`]).

use crate::Finding;
use crate::session::{Expectation, SessionEvidence};
use crate::transport;

/// The requirement.
pub const ID: &str = "ECO.1.1.5";

/// The operator's profiles with a certificate outside its validity period.
pub const PROFILES: [&str; 2] = ["certificate-expire", "certificate-pas-encore-valide"];

/// The client abandons connections to a server whose certificate is out of its dates.
pub fn check_refusal(evidence: &SessionEvidence, expected: &Expectation) -> Finding {
    transport::abandoned(
        ID,
        evidence,
        expected,
        &PROFILES,
        "un certificat expiré ou pas encore valide",
    )
}
