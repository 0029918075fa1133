//! ECO.2.3.2 — « Le système DOIT permettre de demander au destinataire un accusé de lecture
//! (MDN) lors de l'émission d'un courriel. » (RFC 8098: `Disposition-Notification-To`)
//!
//! Reading (VERIFICATION.md): the address is the sender's BAL, i.e. the `From` address. When
//! the request is known (scenarios), asked means present; offline an absent header is not
//! applicable and a present one is judged.

use crate::{Context, Finding, Message};

/// Requirement ID.
pub const ID: &str = "ECO.2.3.2";

/// The header this requirement is about.
pub const HEADER: &str = "Disposition-Notification-To";

/// Checks a message.
pub fn check(message: &Message<'_>, context: &Context) -> Finding {
    super::eco_2_3_1::receipt(
        ID,
        HEADER,
        "un accusé de lecture (MDN)",
        context.requests.mdn,
        message,
    )
}
