//! ECO.1.1.3 — « Le système DOIT uniquement utiliser l'une des suites de chiffrement suivantes,
//! lors de la négociation TLS pour établir une connexion avec l'API LPS d'un Opérateur
//! MSSanté : 0xC030, 0xC02F, 0xC028, 0xC027, 0x009F, 0x009E. Pour l'échange des clés de
//! chiffrement TLS, le système DOIT utiliser : soit le protocole DHE avec un groupe d'au moins
//! 2048 bits, soit le protocole ECDHE avec une courbe d'au moins 256 bits. »
//!
//! Reading taken (VERIFICATION.md §1), on every TLS handshake the client started towards the
//! BAL's entry point:
//! - strict: every TLS 1.2 suite its ClientHello **offers** is one of the six; signalling values
//!   (`TLS_EMPTY_RENEGOTIATION_INFO_SCSV`, `TLS_FALLBACK_SCSV`) and GREASE are not suites and
//!   are ignored; TLS 1.3 suites (0x13xx) are allowed when TLS 1.3 is offered (ECO.1.1.2 asks
//!   for it, and they are all AEAD with ephemeral exchange);
//! - every key exchange group it offers is at least 256 bits for curves (no secp192r1,
//!   secp224r1, sect163…, secp160…) and 2048 bits for finite-field groups;
//! - conceptual: the suite and group **negotiated** are allowed ones.
//!
//! The finding reports both the strict and the conceptual view. No ClientHello observed is
//! `NotTested`, never a pass.
//!
//! [`check_refusal`]: while the operator imposes a suite off the list, DHE with a 1024-bit
//! group or ECDHE on P-224, the client abandons every connection before any credential or
//! command after STARTTLS (see [`crate::transport`]).

use evidence::{ClientHelloSummary, EventKind, Suite};

use crate::Finding;
use crate::session::{Expectation, Problems, SessionEvidence};
use crate::transport;

/// The requirement.
pub const ID: &str = "ECO.1.1.3";

/// The TLS 1.2 suites the référentiel allows.
pub const ALLOWED_TLS12: [u16; 6] = [0xC030, 0xC02F, 0xC028, 0xC027, 0x009F, 0x009E];

/// Signalling cipher suite values: not suites.
const SIGNALLING: [u16; 2] = [0x00FF, 0x5600];

/// The operator's profiles imposing a forbidden suite or a weak group.
pub const WEAK_PROFILES: [&str; 4] = ["off-list-suite", "cbc-sha", "dhe-1024", "ecdhe-p224"];

/// The client abandons connections to a server imposing a forbidden suite or a weak group.
pub fn check_refusal(evidence: &SessionEvidence, expected: &Expectation) -> Finding {
    transport::abandoned(
        ID,
        evidence,
        expected,
        &WEAK_PROFILES,
        "une suite hors liste ou un groupe trop faible",
    )
}

fn grease(code: u16) -> bool {
    code & 0x0F0F == 0x0A0A
}

fn tls13_suite(code: u16) -> bool {
    code >> 8 == 0x13
}

/// Why a suite may not be offered (`None` if it may).
fn suite_problem(suite: &Suite, offers_tls13: bool) -> Option<String> {
    let code = suite.code;
    if SIGNALLING.contains(&code) || grease(code) || ALLOWED_TLS12.contains(&code) {
        return None;
    }
    if tls13_suite(code) {
        return (!offers_tls13).then(|| {
            format!(
                "suite TLS 1.3 0x{code:04X} {} offerte sans TLS 1.3",
                suite.name
            )
        });
    }
    Some(format!("0x{code:04X} {}", suite.name))
}

/// Curves (IANA code points) below 256 bits: sect163k1 … sect239k1, secp160k1 … secp224r1.
fn small_curve(code: u16) -> bool {
    (1..=8).contains(&code) || (15..=21).contains(&code)
}

/// Why a group (as the journal names it) may not be offered (`None` if it may). A name the
/// operator does not know is judged by its code point; explicit curves (0xFF01, 0xFF02) are
/// refused since their size is not known.
fn group_problem(name: &str) -> Option<String> {
    // A negotiated finite-field group as the operator's OpenSSL side names it: « DH 2048 bits ».
    if let Some(bits) = name
        .strip_prefix("DH ")
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse::<u32>().ok())
    {
        return (bits < 2048).then(|| format!("{name} (groupe DHE de moins de 2048 bits)"));
    }
    let code = match name {
        "secp192r1" => Some(19),
        "secp224r1" => Some(21),
        n => n
            .strip_prefix("0x")
            .and_then(|h| u16::from_str_radix(h, 16).ok()),
    };
    match code {
        Some(c) if grease(c) => None,
        Some(c) if small_curve(c) => Some(format!("{name} (courbe de moins de 256 bits)")),
        Some(c @ (0xFF01 | 0xFF02)) => Some(format!("0x{c:04X} (courbe explicite)")),
        _ => None,
    }
}

fn offers_tls13(hello: &ClientHelloSummary) -> bool {
    hello.versions.iter().any(|v| v == "TLS 1.3")
}

/// What the handshakes of a session showed.
struct Survey {
    hellos: usize,
    established: usize,
    offered: Vec<String>,
    negotiated: Vec<String>,
    /// Offered or negotiated suites and groups off the list: the verdict.
    strict: Problems,
    /// Negotiated ones only.
    conceptual: Problems,
}

/// Judges the TLS handshakes of a session: every suite and group **offered** (the letter of
/// the text, the verdict).
pub fn check(evidence: &SessionEvidence, expected: &Expectation) -> Finding {
    let Survey {
        hellos,
        offered,
        negotiated,
        strict,
        ..
    } = survey(evidence, expected);
    if hellos == 0 {
        return Finding::not_tested(
            ID,
            "aucune négociation TLS observée vers l'opérateur : rien ne montre les suites offertes",
        );
    }
    if let Some(failure) = strict.into_failure(ID, evidence) {
        return failure;
    }
    Finding::pass(
        ID,
        format!(
            "{hellos} négociation(s) TLS ; strict : suites offertes {} (toutes autorisées), \
             groupes ≥ 256 bits ; conceptuel : négocié {}",
            offered.join(", "),
            if negotiated.is_empty() {
                "rien (aucune négociation aboutie)".to_owned()
            } else {
                negotiated.join(", ")
            }
        ),
    )
}

/// The conceptual reading, shown beside the verdict (never the verdict): the suites and groups
/// **negotiated** were allowed ones. An editor failing [`check`] but passing this one has only
/// its offer to trim (configuration).
pub fn check_conceptual(evidence: &SessionEvidence, expected: &Expectation) -> Finding {
    let Survey {
        established,
        negotiated,
        conceptual,
        ..
    } = survey(evidence, expected);
    if established == 0 {
        return Finding::not_tested(
            ID,
            "aucune négociation TLS aboutie : rien de négocié à juger",
        );
    }
    if let Some(failure) = conceptual.into_failure(ID, evidence) {
        return failure;
    }
    Finding::pass(
        ID,
        format!(
            "{} négociée(s) avec des suites et groupes autorisés : {}",
            established,
            negotiated.join(", ")
        ),
    )
}

fn survey(evidence: &SessionEvidence, expected: &Expectation) -> Survey {
    let conns: Vec<_> = evidence
        .connections()
        .into_iter()
        .filter(|c| expected.entry.is_none_or(|e| e == c.entry))
        .collect();
    let mut problems = Problems::default();
    let mut conceptual = Problems::default();
    let mut hellos = 0;
    let mut established = 0;
    let mut offered: Vec<String> = Vec::new();
    let mut negotiated: Vec<String> = Vec::new();
    for conn in &conns {
        for e in &conn.events {
            match &e.kind {
                EventKind::TlsClientHello(hello) => {
                    hellos += 1;
                    let tls13 = offers_tls13(hello);
                    let suites: Vec<String> = hello
                        .cipher_suites
                        .iter()
                        .filter_map(|s| suite_problem(s, tls13))
                        .collect();
                    if !suites.is_empty() {
                        problems.push(
                            Some(conn.id),
                            format!(
                                "ClientHello : suite(s) hors de la liste ECO.1.1.3 offerte(s) : {}",
                                suites.join(", ")
                            ),
                        );
                    }
                    let groups: Vec<String> = hello
                        .groups
                        .iter()
                        .filter_map(|g| group_problem(g))
                        .collect();
                    if !groups.is_empty() {
                        problems.push(
                            Some(conn.id),
                            format!(
                                "ClientHello : groupe(s) d'échange de clés trop faible(s) offert(s) : {}",
                                groups.join(", ")
                            ),
                        );
                    }
                    for s in &hello.cipher_suites {
                        let code = s.code;
                        if !SIGNALLING.contains(&code) && !grease(code) {
                            let text = format!("0x{code:04X}");
                            if !offered.contains(&text) {
                                offered.push(text);
                            }
                        }
                    }
                }
                EventKind::TlsEstablished {
                    version,
                    cipher_suite,
                    group,
                    ..
                } => {
                    established += 1;
                    let suite_ok = ALLOWED_TLS12.contains(&cipher_suite.code)
                        || (tls13_suite(cipher_suite.code) && version == "TLS 1.3");
                    if !suite_ok {
                        let text = format!(
                            "suite négociée hors liste : 0x{:04X} {}",
                            cipher_suite.code, cipher_suite.name
                        );
                        conceptual.push(Some(conn.id), text.clone());
                        problems.push(Some(conn.id), text);
                    }
                    if let Some(problem) = group.as_deref().and_then(group_problem) {
                        let text = format!("groupe négocié : {problem}");
                        conceptual.push(Some(conn.id), text.clone());
                        problems.push(Some(conn.id), text);
                    }
                    let text = format!(
                        "{version} {}{}",
                        cipher_suite.name,
                        group
                            .as_deref()
                            .map(|g| format!(" / {g}"))
                            .unwrap_or_default()
                    );
                    if !negotiated.contains(&text) {
                        negotiated.push(text);
                    }
                }
                _ => {}
            }
        }
    }
    Survey {
        hellos,
        established,
        offered,
        negotiated,
        strict: problems,
        conceptual,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite(code: u16) -> Suite {
        Suite {
            code,
            name: format!("S{code:04X}"),
        }
    }

    #[test]
    fn only_the_six_suites_and_tls13_ones_with_tls13() {
        for code in ALLOWED_TLS12 {
            assert_eq!(suite_problem(&suite(code), false), None);
        }
        assert_eq!(suite_problem(&suite(0x00FF), false), None, "SCSV");
        assert_eq!(suite_problem(&suite(0x5600), false), None, "fallback SCSV");
        assert_eq!(suite_problem(&suite(0x1A1A), false), None, "GREASE");
        assert_eq!(suite_problem(&suite(0x1301), true), None);
        assert!(suite_problem(&suite(0x1301), false).is_some());
        assert!(suite_problem(&suite(0xCCA8), true).is_some(), "CHACHA20");
        assert!(suite_problem(&suite(0xC013), true).is_some(), "CBC-SHA");
    }

    #[test]
    fn finite_field_groups_of_at_least_2048_bits() {
        assert_eq!(group_problem("DH 2048 bits (RFC 5114)"), None);
        assert!(group_problem("DH 1024 bits (RFC 5114)").is_some());
    }

    #[test]
    fn groups_of_at_least_256_bits() {
        for ok in [
            "secp256r1",
            "secp384r1",
            "x25519",
            "ffdhe2048",
            "X25519MLKEM768",
            "GREASE",
        ] {
            assert_eq!(group_problem(ok), None, "{ok}");
        }
        assert_eq!(group_problem("0x1A1A"), None, "GREASE by code");
        assert_eq!(group_problem("0x0016"), None, "secp256k1");
        for weak in ["secp224r1", "secp192r1", "0x0001", "0x0012", "0xFF01"] {
            assert!(group_problem(weak).is_some(), "{weak}");
        }
    }
}
