//! What an MSSanté client writes, kept apart from what judges it: the judge (`rules`) never
//! uses this crate, so a writer's mistake cannot hide behind the same mistake in its reader.
//!
//! - [`build`]: CDA R2 N1 and N3 documents, the ebRIM METADATA.XML, the `IHE_XDM.ZIP` archive,
//!   the PDF/A-1 rendering of each document, its file name (ECO.2.1.6) and the message subject
//!   (ECO.2.1.3) — what the reference client composes with;
//! - [`pdfa`]: simple PDF/A-1b documents;
//! - [`fixtures`]: realistic French material (patients, documents, whole messages, conformant
//!   or breaking one requirement), from which `crates/rules/tests/golden/` is written;
//! - [`remove_header`]: a message without one of its headers (deliberate defects, fixtures).

pub mod build;
pub mod fixtures;
mod headers;
pub mod pdfa;
pub mod text;

pub use headers::remove_header;

/// The INS control key of a 13-character NIR or NIA (`97 − n mod 97`; Corsica's `2A`/`2B`
/// count as `19`/`18`): how a writer completes a matricule.
pub fn ins_control_key(nir13: &str) -> Option<u32> {
    if nir13.len() != 13 || !nir13.is_ascii() {
        return None;
    }
    let upper = nir13.to_ascii_uppercase();
    let digits = match &upper[5..7] {
        "2A" => format!("{}19{}", &upper[..5], &upper[7..]),
        "2B" => format!("{}18{}", &upper[..5], &upper[7..]),
        _ => upper,
    };
    let n: u64 = digits.parse().ok()?;
    Some(97 - u32::try_from(n % 97).ok()?)
}
