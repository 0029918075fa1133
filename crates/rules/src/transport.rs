//! What the ECO.1.1.x rules share: the client's connections made while the operator served a
//! given TLS profile, and the reading of « abandonner » (VERIFICATION.md): the client closes or
//! alerts the handshake, or closes the connection, **before any credential and any command
//! after STARTTLS**. A command in clear that carries nothing (`EHLO`, `CAPABILITY`…) is allowed
//! before it; an authentication in clear is not.

use evidence::{ConnId, Connection, EventKind};

use crate::Finding;
use crate::session::{Expectation, Problems, SessionEvidence};

/// Verbs that carry nothing, allowed in clear before STARTTLS (SMTP and IMAP).
const HARMLESS: &[&str] = &[
    "EHLO",
    "HELO",
    "STARTTLS",
    "NOOP",
    "RSET",
    "QUIT",
    "CAPABILITY",
    "ID",
    "LOGOUT",
];

/// The connections to the BAL's entry point opened while the operator served one of
/// `profiles` (as the journal names them: `tls10-only`, `certificate-expire`…).
pub(crate) fn under_profiles<'a>(
    evidence: &'a SessionEvidence,
    expected: &Expectation,
    profiles: &[&str],
) -> Vec<Connection<'a>> {
    let mut current: Option<&str> = None;
    let mut opened: Vec<ConnId> = Vec::new();
    for e in evidence.events() {
        match &e.kind {
            EventKind::TlsProfileChanged { profile } => current = Some(profile.as_str()),
            EventKind::ConnectionOpened { .. } => {
                if let (Some(conn), Some(p)) = (e.conn, current)
                    && profiles.contains(&p)
                {
                    opened.push(conn);
                }
            }
            _ => {}
        }
    }
    evidence
        .connections()
        .into_iter()
        .filter(|c| opened.contains(&c.id))
        .filter(|c| expected.entry.is_none_or(|e| e == c.entry))
        .collect()
}

/// Profiles under which a client is expected to work normally; under any other (hostile) one,
/// its connections are judged by the refusal rules only.
pub(crate) const NORMAL: [&str; 2] = ["good", "tls12-only"];

/// Connections opened while the operator served a hostile profile (as the journal shows).
pub(crate) fn opened_under_hostile(evidence: &SessionEvidence) -> Vec<ConnId> {
    let mut hostile = false;
    let mut opened = Vec::new();
    for e in evidence.events() {
        match &e.kind {
            EventKind::TlsProfileChanged { profile } => {
                hostile = !NORMAL.contains(&profile.as_str());
            }
            EventKind::ConnectionOpened { .. } if hostile => opened.extend(e.conn),
            _ => {}
        }
    }
    opened
}

/// Whether the system authenticated inside TLS on some connection opened while the operator
/// served a normal profile (the positive control of the refusal rules).
pub(crate) fn works_with_a_sound_operator(
    evidence: &SessionEvidence,
    expected: &Expectation,
) -> bool {
    let hostile = opened_under_hostile(evidence);
    evidence
        .connections()
        .into_iter()
        .filter(|c| expected.entry.is_none_or(|e| e == c.entry))
        .filter(|c| !hostile.contains(&c.id))
        .any(|c| c.tls_established().is_some() && c.accepted_auth().is_some())
}

/// The profile in force when a connection was opened, for the reports.
fn profile_of(evidence: &SessionEvidence, conn: ConnId) -> String {
    let mut current = "good".to_owned();
    for e in evidence.events() {
        match &e.kind {
            EventKind::TlsProfileChanged { profile } => current = profile.clone(),
            EventKind::ConnectionOpened { .. } if e.conn == Some(conn) => return current,
            _ => {}
        }
    }
    current
}

/// Judges that the client abandoned every connection made under one of `profiles`.
/// `hostile` says what the operator served, for the reports (« un certificat expiré »).
pub(crate) fn abandoned(
    id: &'static str,
    evidence: &SessionEvidence,
    expected: &Expectation,
    profiles: &[&str],
    hostile: &str,
) -> Finding {
    let conns = under_profiles(evidence, expected, profiles);
    if conns.is_empty() {
        return Finding::not_tested(
            id,
            format!(
                "le système n'a ouvert aucune connexion pendant que l'opérateur servait {hostile}"
            ),
        );
    }
    let control = works_with_a_sound_operator(evidence, expected);
    refusals(id, evidence, conns, hostile, control)
}

/// The refusal judgement proper, on the connections made under the hostile profile. A refusal
/// proves something only from a client seen working with the sound operator (`control`): one
/// that fails every handshake (no trust at all, no common suite) would pass on nothing. Going
/// on under the hostile profile fails either way.
fn refusals(
    id: &'static str,
    evidence: &SessionEvidence,
    conns: Vec<Connection<'_>>,
    hostile: &str,
    control: bool,
) -> Finding {
    let mut problems = Problems::default();
    let mut attempted = 0;
    let mut outcomes: Vec<String> = Vec::new();
    for conn in &conns {
        let mut tried = false;
        let mut in_tls: Vec<&str> = Vec::new();
        let mut in_clear: Vec<&str> = Vec::new();
        let mut auths: Vec<&str> = Vec::new();
        for e in &conn.events {
            match &e.kind {
                // A negotiation the client started: it saw the operator's side.
                EventKind::TlsClientHello(_) => tried = true,
                EventKind::Command {
                    verb, tls: true, ..
                } if !verb.is_empty() && !in_tls.contains(&verb.as_str()) => in_tls.push(verb),
                EventKind::Command {
                    verb, tls: false, ..
                } if !verb.is_empty()
                    && !HARMLESS.contains(&verb.to_ascii_uppercase().as_str())
                    && !in_clear.contains(&verb.as_str()) =>
                {
                    in_clear.push(verb)
                }
                EventKind::Auth { mechanism, .. } => auths.push(mechanism),
                EventKind::TlsFailed { error } => {
                    outcomes.push(format!("connexion {} : {error}", conn.id));
                }
                _ => {}
            }
        }
        if !in_tls.is_empty() {
            problems.push(
                Some(conn.id),
                format!(
                    "session TLS poursuivie face à {hostile} : {} envoyé(s) au lieu d'abandonner",
                    in_tls.join(", ")
                ),
            );
        }
        if !in_clear.is_empty() {
            problems.push(
                Some(conn.id),
                format!(
                    "{} envoyé(s) en clair face à {hostile}",
                    in_clear.join(", ")
                ),
            );
        }
        if !auths.is_empty() {
            problems.push(
                Some(conn.id),
                format!(
                    "authentification {} tentée face à {hostile}",
                    auths.join(", ")
                ),
            );
        }
        if tried {
            attempted += 1;
        }
    }
    if let Some(failure) = problems.into_failure(id, evidence) {
        return failure;
    }
    if attempted == 0 {
        return Finding::not_tested(
            id,
            format!(
                "{} connexion(s) pendant que l'opérateur servait {hostile}, sans tentative de \
                 négociation TLS : rien ne montre le refus",
                conns.len()
            ),
        );
    }
    if !control {
        return Finding::not_tested(
            id,
            format!(
                "le système n'a établi aucune session authentifiée avec l'opérateur sain : son \
                 refus face à {hostile} ne prouve rien"
            ),
        );
    }
    let profile = profile_of(evidence, conns[0].id);
    Finding::pass(
        id,
        format!(
            "{attempted} négociation(s) tentée(s) face à {hostile} (profil {profile}), toutes \
             abandonnées avant toute donnée d'authentification ou commande dans TLS{}",
            if outcomes.is_empty() {
                String::new()
            } else {
                format!(" ; {}", outcomes.join(" ; "))
            }
        ),
    )
}

/// Judges the connections of one protocol made while the operator advertised no STARTTLS
/// (ECO.1.0.1 / ECO.1.0.2 negatives): the system may greet and probe (`EHLO`, `CAPABILITY`,
/// `NOOP`, `QUIT`/`LOGOUT`, even ask for `STARTTLS` and be refused) but must send no credential
/// and no mail command in clear.
pub(crate) fn nothing_in_clear(
    id: &'static str,
    evidence: &SessionEvidence,
    expected: &Expectation,
    service: evidence::Service,
) -> Finding {
    let conns: Vec<_> = under_profiles(evidence, expected, &["no-starttls"])
        .into_iter()
        .filter(|c| c.service == service)
        .collect();
    if conns.is_empty() {
        return Finding::not_tested(
            id,
            "le système n'a ouvert aucune connexion pendant que l'opérateur n'offrait pas STARTTLS",
        );
    }

    let mut problems = Problems::default();
    let mut verbs: Vec<String> = Vec::new();
    for conn in &conns {
        let mut sent: Vec<&str> = Vec::new();
        for e in &conn.events {
            match &e.kind {
                EventKind::Command { verb, .. } if !verb.is_empty() => {
                    let upper = verb.to_ascii_uppercase();
                    if !HARMLESS.contains(&upper.as_str()) && !sent.contains(&verb.as_str()) {
                        sent.push(verb);
                    }
                    if !verbs.contains(&upper) {
                        verbs.push(upper);
                    }
                }
                EventKind::Auth { mechanism, .. } => problems.push(
                    Some(conn.id),
                    format!("authentification {mechanism} tentée sans STARTTLS"),
                ),
                _ => {}
            }
        }
        if !sent.is_empty() {
            problems.push(
                Some(conn.id),
                format!(
                    "{} envoyé(s) en clair alors que l'opérateur n'offrait pas STARTTLS",
                    sent.join(", ")
                ),
            );
        }
    }
    if let Some(failure) = problems.into_failure(id, evidence) {
        return failure;
    }
    if !works_with_a_sound_operator(evidence, expected) {
        return Finding::not_tested(
            id,
            "le système n'a établi aucune session authentifiée avec l'opérateur sain : sa \
             retenue sans STARTTLS ne prouve rien",
        );
    }
    Finding::pass(
        id,
        format!(
            "opérateur sans STARTTLS : {} connexion(s), rien d'envoyé en clair que {} ; ni \
             authentification ni commande de messagerie",
            conns.len(),
            if verbs.is_empty() {
                "(rien)".to_owned()
            } else {
                verbs.join(", ")
            }
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;
    use evidence::{EntryPoint, Service};

    /// A recording: the profile switch, then one SMTP connection doing `steps`.
    fn recording(profile: &str, steps: Vec<EventKind>) -> SessionEvidence {
        let mut kinds = vec![
            (
                None,
                EventKind::TlsProfileChanged {
                    profile: profile.into(),
                },
            ),
            (
                Some(1),
                EventKind::ConnectionOpened {
                    service: Service::Smtp,
                    entry: EntryPoint::Psc,
                    peer: "127.0.0.1:40000".parse().expect("addr"),
                },
            ),
        ];
        kinds.extend(steps.into_iter().map(|k| (Some(1), k)));
        // Through the journal's own JSON lines, as a recording is read.
        let lines: Vec<String> = kinds
            .into_iter()
            .enumerate()
            .map(|(i, (conn, kind))| {
                let mut line = serde_json::to_value(&kind).expect("kind");
                line["seq"] = serde_json::json!(i + 1);
                line["at"] = serde_json::json!("2026-12-01T00:00:00Z");
                if let Some(conn) = conn {
                    line["conn"] = serde_json::json!(conn);
                }
                line.to_string()
            })
            .collect();
        SessionEvidence::new(evidence::read_jsonl(&lines.join("\n")).expect("recording"))
    }

    fn hello() -> EventKind {
        EventKind::TlsClientHello(evidence::ClientHelloSummary {
            versions: vec!["TLS 1.3".into(), "TLS 1.2".into()],
            cipher_suites: vec![],
            groups: vec![],
            sni: None,
        })
    }

    fn command(verb: &str, tls: bool) -> EventKind {
        EventKind::Command {
            service: Service::Smtp,
            tls,
            verb: verb.into(),
            line: verb.into(),
        }
    }

    /// The refusal judgement, the positive control aside (tested on its own below).
    fn judge(evidence: &SessionEvidence) -> Finding {
        let conns = under_profiles(evidence, &Expectation::default(), &["certificate-expire"]);
        if conns.is_empty() {
            return Finding::not_tested("ECO.1.1.5", "aucune connexion");
        }
        refusals("ECO.1.1.5", evidence, conns, "un certificat expiré", true)
    }

    #[test]
    fn a_refusal_from_a_client_never_seen_working_proves_nothing() {
        let evidence = recording(
            "certificate-expire",
            vec![
                command("STARTTLS", false),
                hello(),
                EventKind::TlsFailed {
                    error: "received fatal alert: UnknownCA".into(),
                },
            ],
        );
        let finding = abandoned(
            "ECO.1.1.5",
            &evidence,
            &Expectation::default(),
            &["certificate-expire"],
            "un certificat expiré",
        );
        assert_eq!(finding.verdict, Verdict::NotTested, "{}", finding.detail);
        assert!(finding.detail.contains("ne prouve rien"));
    }

    #[test]
    fn abandoning_after_starttls_passes() {
        let evidence = recording(
            "certificate-expire",
            vec![
                command("EHLO", false),
                command("STARTTLS", false),
                hello(),
                EventKind::TlsFailed {
                    error: "received fatal alert: CertificateExpired".into(),
                },
            ],
        );
        let finding = judge(&evidence);
        assert_eq!(finding.verdict, Verdict::Pass, "{}", finding.detail);
        assert!(finding.detail.contains("CertificateExpired"));
    }

    #[test]
    fn a_handshake_completed_then_closed_without_a_command_is_an_abandon() {
        let evidence = recording(
            "certificate-expire",
            vec![
                command("STARTTLS", false),
                hello(),
                EventKind::TlsEstablished {
                    version: "TLS 1.3".into(),
                    cipher_suite: evidence::Suite {
                        code: 0x1302,
                        name: "TLS_AES_256_GCM_SHA384".into(),
                    },
                    group: Some("secp384r1".into()),
                    client_certificate: None,
                },
            ],
        );
        assert_eq!(judge(&evidence).verdict, Verdict::Pass);
    }

    #[test]
    fn going_on_inside_tls_or_in_clear_fails() {
        let inside = recording(
            "certificate-expire",
            vec![command("STARTTLS", false), hello(), command("EHLO", true)],
        );
        assert_eq!(judge(&inside).verdict, Verdict::Fail);
        let clear = recording(
            "certificate-expire",
            vec![command("STARTTLS", false), hello(), command("AUTH", false)],
        );
        let finding = judge(&clear);
        assert_eq!(finding.verdict, Verdict::Fail);
        assert!(
            finding.detail.contains("AUTH envoyé(s) en clair"),
            "{}",
            finding.detail
        );
    }

    #[test]
    fn nothing_attempted_or_another_profile_is_not_tested() {
        let silent = recording("certificate-expire", vec![command("EHLO", false)]);
        assert_eq!(judge(&silent).verdict, Verdict::NotTested);
        // STARTTLS, then nothing: the client never saw the certificate.
        let stalled = recording("certificate-expire", vec![command("STARTTLS", false)]);
        assert_eq!(judge(&stalled).verdict, Verdict::NotTested);
        let other = recording(
            "good",
            vec![command("STARTTLS", false), command("EHLO", true)],
        );
        assert_eq!(judge(&other).verdict, Verdict::NotTested);
        assert_eq!(opened_under_hostile(&other), Vec::<u64>::new());
    }

    #[test]
    fn without_starttls_a_mail_command_fails_and_a_probe_alone_proves_nothing() {
        let probe = recording(
            "no-starttls",
            vec![command("EHLO", false), command("QUIT", false)],
        );
        let finding = nothing_in_clear("ECO.1.0.1", &probe, &Expectation::default(), Service::Smtp);
        assert_eq!(
            finding.verdict,
            Verdict::NotTested,
            "never seen working: {}",
            finding.detail
        );
        let mail = recording(
            "no-starttls",
            vec![command("EHLO", false), command("MAIL", false)],
        );
        let finding = nothing_in_clear("ECO.1.0.1", &mail, &Expectation::default(), Service::Smtp);
        assert_eq!(finding.verdict, Verdict::Fail);
        assert_eq!(opened_under_hostile(&mail), vec![1]);
    }
}
