//! Session rules: judgements of what a client did on the wire, from the operator's evidence.
//!
//! Each `eco_1_x_y::check(&SessionEvidence, &Expectation) -> Finding` is a pure function, like
//! the message rules. Conventions they share:
//! - A rule that sees nothing it judges (no connection of the kind, nothing submitted, nothing
//!   fetched) answers [`Verdict::NotTested`](crate::Verdict) saying what was missing: an empty
//!   set is never a pass.
//! - What was observed is judged as it stands: a client that keeps its IMAP connection open
//!   (IDLE) is judged on what it did up to the snapshot; no rule requires connections to close.
//! - A failure names the connection and carries its transcript (credentials were never
//!   journaled).

use evidence::{ConnId, Connection, Event, EventKind, Service};

pub use evidence::SessionEvidence;

use crate::Finding;

/// What the harness knows of the session it judges. Offline (`mss-harness judge`), only what
/// the recording shows: [`Expectation::default`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Expectation {
    /// The BAL the system under test was configured for: XOAUTH2's `user=` and PLAIN's login
    /// must name it. `None` offline: the BAL each attempt names is taken as given.
    pub bal: Option<String>,
    /// Other BALs a long-lived system was configured for earlier in the run: it may keep
    /// connections authenticated as them (a client with several accounts). Each protocol must
    /// still show an accepted authentication as `bal`.
    pub other_bals: Vec<String>,
    /// IdNatStruc of the structure owning the application BAL (the certificate's OU). `None`
    /// offline: the operator's own judgement of the certificate stands.
    pub structure: Option<String>,
    /// The entry point of the BAL's family: connections to the other are another account's.
    /// `None` offline: both.
    pub entry: Option<evidence::EntryPoint>,
    /// How many messages the system was asked to submit (they must be accepted).
    pub submissions: usize,
    /// Message-IDs the harness delivered into the BAL and asked the system to synchronise.
    pub delivered: Vec<String>,
    /// Protocols the system was asked to use: each must show an accepted authentication
    /// before a rule about authentication can pass (empty offline: those observed).
    pub services: Vec<Service>,
}

/// Verb, line and whether it travelled in TLS, for a command event.
pub(crate) fn command(e: &Event) -> Option<(&str, &str, bool)> {
    match &e.kind {
        EventKind::Command {
            verb, line, tls, ..
        } => Some((verb, line, *tls)),
        _ => None,
    }
}

/// The path of a connection in a few words: `EHLO → STARTTLS → TLS 1.3 → EHLO → AUTH → MAIL`.
pub(crate) fn path(conn: &Connection<'_>) -> String {
    let mut steps: Vec<String> = Vec::new();
    for e in &conn.events {
        let step = match &e.kind {
            EventKind::Command { verb, .. } if !verb.is_empty() => verb.clone(),
            EventKind::TlsEstablished { version, .. } => version.clone(),
            EventKind::InjectionDiscarded { bytes } => format!("[{bytes} octets injectés]"),
            _ => continue,
        };
        if steps.last() != Some(&step) || step == "STARTTLS" {
            steps.push(step);
        }
        if steps.len() > 14 {
            steps.push("…".into());
            break;
        }
    }
    steps.join(" → ")
}

/// Problems found on a session, each tied to the connection that shows it.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    list: Vec<(Option<ConnId>, String)>,
}

/// Lines of transcript attached to a failure.
const TRANSCRIPT_LINES: usize = 40;

impl Problems {
    pub fn push(&mut self, conn: Option<ConnId>, text: impl Into<String>) {
        self.list.push((conn, text.into()));
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// A failure listing the problems, with the transcript of the first offending
    /// connection; `None` when there is none.
    pub fn into_failure(self, id: &'static str, evidence: &SessionEvidence) -> Option<Finding> {
        if self.list.is_empty() {
            return None;
        }
        let first = self.list.iter().find_map(|(c, _)| *c);
        let detail = self
            .list
            .iter()
            .map(|(c, t)| match c {
                Some(c) => format!("[connexion {c}] {t}"),
                None => t.clone(),
            })
            .collect::<Vec<_>>()
            .join(" ; ");
        let transcript = first
            .and_then(|c| evidence.connection(c))
            .map(|c| c.transcript(TRANSCRIPT_LINES))
            .unwrap_or_default();
        Some(Finding::fail(id, detail).with_evidence(transcript))
    }
}

/// The connections of one protocol to the BAL's entry point (both offline), leaving out those
/// opened while the operator served a hostile TLS profile: a client is right to abandon them.
pub(crate) fn protocol_connections<'a>(
    evidence: &'a SessionEvidence,
    service: Service,
    expected: &Expectation,
) -> Vec<Connection<'a>> {
    let hostile = crate::transport::opened_under_hostile(evidence);
    evidence
        .connections_to(service)
        .into_iter()
        .filter(|c| expected.entry.is_none_or(|e| e == c.entry))
        .filter(|c| !hostile.contains(&c.id))
        .collect()
}

/// Whether a message accepted over SMTP was sent from the scenario's BAL (any offline).
pub(crate) fn from_this_bal(expected: &Expectation, e: &Event) -> bool {
    match (&expected.bal, &e.kind) {
        (None, _) => true,
        (Some(bal), EventKind::MessageAccepted { mail_from, .. }) => same_bal(bal, mail_from),
        _ => false,
    }
}

/// Why the work a protocol's connections were meant to do (submit, fetch) did not happen,
/// seen from the requirement about the protocol itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shortfall {
    /// No connection ever asked for STARTTLS while the client spoke the protocol: a failure.
    NoStartTls(Option<ConnId>),
    /// The client opened connections but sent no command on any (a probe, a pool, a client
    /// set for implicit TLS): nothing shows the protocol; not tested.
    Silent(Option<ConnId>),
    /// STARTTLS was asked but no handshake completed (untrusted test root, no common suite…):
    /// not tested, with the TLS error.
    TlsFailed(Option<ConnId>, String),
    /// TLS completed but no authentication was accepted: the authentication rules judge it.
    NotAuthenticated(Option<ConnId>),
    /// Authenticated, and still the work was not done (a refused command, nothing sent):
    /// not shown, with the last reply.
    NotDone(Option<ConnId>, String),
}

impl Shortfall {
    /// The finding of the protocol rule `id` when `what` (« le message … ») did not happen.
    pub fn finding(self, id: &'static str, what: &str, evidence: &SessionEvidence) -> Finding {
        match self {
            Shortfall::NoStartTls(conn) => {
                let mut p = Problems::default();
                p.push(
                    conn,
                    format!("aucune connexion n'a utilisé STARTTLS : {what} n'a pas eu lieu dans TLS"),
                );
                p.into_failure(id, evidence)
                    .unwrap_or_else(|| Finding::fail(id, "STARTTLS jamais utilisé"))
            }
            Shortfall::Silent(conn) => Finding::not_tested(
                id,
                format!(
                    "{what} n'a pas eu lieu : le système a ouvert des connexions sans y envoyer \
                     de commande (TLS implicite au lieu de STARTTLS ?)"
                ),
            )
            .with_evidence(transcript(evidence, conn)),
            Shortfall::TlsFailed(conn, error) => Finding::not_tested(
                id,
                format!(
                    "{what} n'a pas eu lieu : la négociation TLS après STARTTLS a échoué ({error}) \
                     — le système fait-il confiance à la racine de l'IGC Santé de test ?"
                ),
            )
            .with_evidence(transcript(evidence, conn)),
            Shortfall::NotAuthenticated(conn) => Finding::not_tested(
                id,
                format!(
                    "{what} n'a pas eu lieu : aucune authentification acceptée (jugée par \
                     ECO.1.2.1 ou ECO.1.3.1)"
                ),
            )
            .with_evidence(transcript(evidence, conn)),
            Shortfall::NotDone(conn, last) => Finding::not_tested(
                id,
                format!("{what} n'a pas eu lieu après l'authentification ; dernière réponse : « {last} »"),
            )
            .with_evidence(transcript(evidence, conn)),
        }
    }
}

fn transcript(evidence: &SessionEvidence, conn: Option<ConnId>) -> Vec<String> {
    conn.and_then(|c| evidence.connection(c))
        .map(|c| c.transcript(TRANSCRIPT_LINES))
        .unwrap_or_default()
}

/// Why connections did not do their work.
pub(crate) fn shortfall(conns: &[Connection<'_>]) -> Shortfall {
    let last = conns.last().map(|c| c.id);
    let starttls = conns.iter().filter(|c| {
        c.commands()
            .iter()
            .any(|e| command(e).is_some_and(|(verb, _, _)| verb == "STARTTLS"))
    });
    if starttls.clone().next().is_none() {
        let spoke = conns.iter().find(|c| !c.commands().is_empty());
        return match spoke {
            Some(c) => Shortfall::NoStartTls(Some(c.id)),
            None => Shortfall::Silent(last),
        };
    }
    let tls: Vec<&Connection<'_>> = conns
        .iter()
        .filter(|c| c.tls_established().is_some())
        .collect();
    if tls.is_empty() {
        let failed = conns.iter().rev().find_map(|c| {
            c.events.iter().find_map(|e| match &e.kind {
                EventKind::TlsFailed { error } => Some((c.id, error.clone())),
                _ => None,
            })
        });
        return match failed {
            Some((conn, error)) => Shortfall::TlsFailed(Some(conn), error),
            None => Shortfall::TlsFailed(last, "connexion fermée avant la négociation".into()),
        };
    }
    let authenticated: Vec<&&Connection<'_>> =
        tls.iter().filter(|c| c.accepted_auth().is_some()).collect();
    let Some(conn) = authenticated.last() else {
        return Shortfall::NotAuthenticated(tls.last().map(|c| c.id));
    };
    let last_reply = conn
        .events
        .iter()
        .rev()
        .find_map(|e| match &e.kind {
            EventKind::Reply { line, .. } => {
                Some(line.lines().next().unwrap_or_default().to_owned())
            }
            _ => None,
        })
        .unwrap_or_default();
    Shortfall::NotDone(Some(conn.id), last_reply)
}

/// Commands sent in clear other than `allowed`.
pub(crate) fn clear_text(conn: &Connection<'_>, allowed: &[&str], problems: &mut Problems) {
    for e in conn.clear_commands() {
        let Some((verb, line, _)) = command(e) else {
            continue;
        };
        if allowed.contains(&verb) {
            continue;
        }
        let what = if verb.is_empty() {
            "une ligne".to_owned()
        } else {
            format!("la commande {verb}")
        };
        problems.push(
            Some(conn.id),
            format!("{what} a circulé en clair, hors de TLS : « {line} »"),
        );
    }
}

/// The verbs actually sent in clear on some connections, in order of first use.
pub(crate) fn clear_verbs(conns: &[Connection<'_>]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for c in conns {
        for e in c.clear_commands() {
            if let Some((verb, _, _)) = command(e)
                && !verb.is_empty()
                && !seen.iter().any(|v| v == verb)
            {
                seen.push(verb.to_owned());
            }
        }
    }
    if seen.is_empty() {
        "rien".to_owned()
    } else {
        seen.join(", ")
    }
}

/// SMTP: a transaction or an authentication inside TLS before EHLO/HELO. RFC 3207 §4.2: after
/// TLS the server forgets the EHLO; RFC 5321 §4.1.4: a session with mail transactions MUST
/// first be initialized with EHLO (or HELO).
pub(crate) fn ehlo_after_tls(conn: &Connection<'_>, problems: &mut Problems) {
    for e in conn.commands() {
        match command(e) {
            Some(("EHLO" | "HELO", _, true)) => return,
            Some((verb @ ("AUTH" | "MAIL" | "RCPT" | "DATA"), line, true)) => {
                problems.push(
                    Some(conn.id),
                    format!(
                        "après la négociation TLS, la commande {verb} est envoyée sans EHLO \
                         préalable (RFC 3207 §4.2, RFC 5321 §4.1.4) : « {line} »"
                    ),
                );
                return;
            }
            _ => {}
        }
    }
}

/// Bytes sent after STARTTLS before the handshake (RFC 3207 §4.2, RFC 3501 §6.2.1).
pub(crate) fn injected(conn: &Connection<'_>, problems: &mut Problems) {
    for bytes in conn.injected_bytes() {
        problems.push(
            Some(conn.id),
            format!(
                "{bytes} octet(s) envoyés après STARTTLS sans attendre la négociation TLS \
                 (ils auraient été exécutés en clair ou injectés dans la session chiffrée)"
            ),
        );
    }
}

/// Verbs that authenticate (or try to).
const AUTH_VERBS: &[&str] = &["AUTH", "AUTHENTICATE", "LOGIN"];

/// Authentication commands sent in clear, even when the operator refused them.
pub(crate) fn auth_in_clear(conn: &Connection<'_>, problems: &mut Problems) {
    for e in conn.clear_commands() {
        if let Some((verb, line, _)) = command(e)
            && AUTH_VERBS.contains(&verb)
        {
            // The operator masks what it received: « masqué » means credentials were sent.
            let carried = line.contains("masqué");
            problems.push(
                Some(conn.id),
                if carried {
                    format!(
                        "authentification tentée en clair, avant STARTTLS (même refusée, les \
                         identifiants ont circulé sans chiffrement) : « {line} »"
                    )
                } else {
                    format!(
                        "authentification demandée en clair, avant STARTTLS (refusée par \
                         l'opérateur avant tout identifiant) : « {line} »"
                    )
                },
            );
        }
    }
}

/// The mechanism an authentication command names (`LOGIN` for IMAP's LOGIN).
fn mechanism_of(verb: &str, line: &str) -> Option<String> {
    match verb {
        "LOGIN" => Some("LOGIN".to_owned()),
        "AUTH" | "AUTHENTICATE" => {
            let mut words = line.split_whitespace();
            words.position(|w| w.eq_ignore_ascii_case(verb))?;
            words.next().map(|w| w.to_ascii_uppercase())
        }
        _ => None,
    }
}

/// Authentication commands inside TLS that name another mechanism than `expected` (the
/// operator may refuse them without judging any credential: the command is the evidence).
pub(crate) fn wrong_mechanism(conn: &Connection<'_>, expected: &str, problems: &mut Problems) {
    for e in conn.commands() {
        if let Some((verb, line, true)) = command(e)
            && let Some(mechanism) = mechanism_of(verb, line)
            && mechanism != expected
        {
            problems.push(
                Some(conn.id),
                format!("mécanisme {mechanism} au lieu de {expected} : « {line} »"),
            );
        }
    }
}

/// Verbs a client may send inside TLS before its authentication is validated.
fn allowed_before_auth(service: Service) -> &'static [&'static str] {
    match service {
        Service::Smtp => &["EHLO", "HELO", "AUTH", "NOOP", "RSET", "QUIT", ""],
        Service::Imap => &["CAPABILITY", "AUTHENTICATE", "NOOP", "ID", "LOGOUT", ""],
    }
}

/// Commands sent inside TLS before the authentication was validated (ECO.1.2.1 and ECO.1.3.1:
/// « attendre la validation de l'authentification avant d'envoyer les commandes »).
pub(crate) fn before_auth(conn: &Connection<'_>, problems: &mut Problems) {
    let allowed = allowed_before_auth(conn.service);
    for e in &conn.events {
        match &e.kind {
            EventKind::Auth {
                verdict: evidence::AuthVerdict::Accepted,
                pipelined,
                ..
            } => {
                if *pipelined {
                    problems.push(
                        Some(conn.id),
                        "des commandes ont été envoyées à la suite de l'authentification, sans \
                         attendre sa validation par l'opérateur",
                    );
                }
                return;
            }
            EventKind::Command {
                tls: true,
                verb,
                line,
                ..
            } if !allowed.contains(&verb.as_str()) => {
                problems.push(
                    Some(conn.id),
                    format!(
                        "la commande « {line} » a été envoyée avant la validation de \
                         l'authentification"
                    ),
                );
                return;
            }
            _ => {}
        }
    }
}

/// The `Auth` fields a rule reads.
#[derive(Debug)]
pub(crate) struct Attempt<'a> {
    pub service: Service,
    pub mechanism: &'a str,
    pub tls: bool,
    pub user: Option<&'a str>,
    pub format_ok: bool,
    pub accepted: bool,
    pub provoked: bool,
    pub reason: Option<&'a str>,
    pub conn: Option<ConnId>,
    pub seq: u64,
    pub token: Option<&'a evidence::TokenSummary>,
}

pub(crate) fn attempt(e: &Event) -> Option<Attempt<'_>> {
    match &e.kind {
        EventKind::Auth {
            service,
            mechanism,
            tls,
            user,
            format_ok,
            verdict,
            provoked,
            reason,
            token,
            ..
        } => Some(Attempt {
            service: *service,
            mechanism,
            tls: *tls,
            user: user.as_deref(),
            format_ok: *format_ok,
            accepted: *verdict == evidence::AuthVerdict::Accepted,
            provoked: *provoked,
            reason: reason.as_deref(),
            token: token.as_ref(),
            conn: e.conn,
            seq: e.seq,
        }),
        _ => None,
    }
}

/// What the authentication rules (ECO.1.2.1, ECO.1.3.1) found, when nothing failed.
#[derive(Debug)]
pub(crate) struct Authenticated<'a> {
    /// The connections to the entry point.
    pub conns: Vec<Connection<'a>>,
    /// Accepted authentications as the scenario's BAL (any BAL offline).
    pub accepted: Vec<Attempt<'a>>,
    /// Refusals followed by a success (an expired token refreshed, ECO.1.2.7's case).
    pub retried: usize,
}

/// The judgement both authentication rules share, on the connections to `entry`:
/// authentication commands in clear, another mechanism, a malformed SASL message, a BAL the
/// system was not configured for, a refusal never followed by a success, commands before the
/// validation or pipelined behind it; then each protocol used must show an accepted
/// authentication as the configured BAL. `extra` adds the entry point's own checks per
/// connection (the client certificate).
pub(crate) fn judge_authentication<'a>(
    id: &'static str,
    evidence: &'a SessionEvidence,
    expected: &Expectation,
    entry: evidence::EntryPoint,
    mechanism: &str,
    extra: impl Fn(&Connection<'a>, &mut Problems),
) -> Result<Authenticated<'a>, Finding> {
    // Connections to a hostile operator are the refusal rules' (ECO.1.0.x, 1.1.x negatives).
    let hostile = crate::transport::opened_under_hostile(evidence);
    let conns: Vec<Connection<'a>> = evidence
        .connections()
        .into_iter()
        .filter(|c| c.entry == entry)
        .filter(|c| !hostile.contains(&c.id))
        .collect();
    if conns.is_empty() {
        return Err(Finding::not_tested(
            id,
            match entry {
                evidence::EntryPoint::Psc => {
                    "le système n'a ouvert aucune connexion au point d'entrée Pro Santé Connect"
                }
                evidence::EntryPoint::App => {
                    "le système n'a ouvert aucune connexion au point d'entrée des BAL applicatives"
                }
            },
        ));
    }
    let mut problems = Problems::default();
    let mut accepted: Vec<Attempt<'a>> = Vec::new();
    let mut refused: Vec<Attempt<'a>> = Vec::new();
    let mut provoked: Vec<Service> = Vec::new();
    let mut attempted: Vec<Service> = Vec::new();
    for conn in &conns {
        let before = problems.len();
        extra(conn, &mut problems);
        let connection_refused = problems.len() > before;
        auth_in_clear(conn, &mut problems);
        wrong_mechanism(conn, mechanism, &mut problems);
        for e in conn.auths() {
            let Some(a) = attempt(e) else { continue };
            if !a.tls || a.mechanism != mechanism {
                // Reported from the command that carried it.
                continue;
            }
            attempted.push(a.service);
            if !a.format_ok {
                problems.push(
                    Some(conn.id),
                    a.reason.unwrap_or("message SASL mal formé").to_owned(),
                );
                continue;
            }
            if let (Some(bal), Some(user)) = (&expected.bal, a.user)
                && !configured_bal(expected, user)
            {
                problems.push(
                    Some(conn.id),
                    match entry {
                        evidence::EntryPoint::Psc => {
                            format!("« user= » vaut « {user} » au lieu de la BAL configurée {bal}")
                        }
                        evidence::EntryPoint::App => format!(
                            "le login PLAIN vaut « {user} » au lieu de l'adresse de la BAL {bal}"
                        ),
                    },
                );
                continue;
            }
            if a.provoked {
                provoked.push(a.service);
            } else if a.accepted {
                accepted.push(a);
            } else if !connection_refused {
                refused.push(a);
            }
        }
        before_auth(conn, &mut problems);
    }
    let mut retried = 0;
    for r in refused {
        let later = accepted
            .iter()
            .any(|a| a.service == r.service && a.user == r.user && a.seq > r.seq);
        if later {
            retried += 1;
        } else {
            problems.push(
                r.conn,
                format!(
                    "authentification refusée par l'opérateur : {}",
                    r.reason.unwrap_or("raison inconnue")
                ),
            );
        }
    }
    if let Some(failure) = problems.into_failure(id, evidence) {
        return Err(failure);
    }
    if let Some(why) = unexercised(&conns, expected) {
        return Err(Finding::not_tested(id, why));
    }
    let mine: Vec<Attempt<'a>> = accepted
        .into_iter()
        .filter(|a| for_this_bal(expected, a.user))
        .collect();
    let mut services: Vec<Service> = expected.services.clone();
    for c in &conns {
        if !services.contains(&c.service) {
            services.push(c.service);
        }
    }
    for service in services {
        if mine.iter().any(|a| a.service == service) || provoked.contains(&service) {
            continue;
        }
        let used: Vec<Connection<'a>> = conns
            .iter()
            .filter(|c| c.service == service)
            .cloned()
            .collect();
        if attempted.contains(&service) {
            // It authenticated, but as another BAL it was configured for.
            let mut p = Problems::default();
            p.push(
                used.last().map(|c| c.id),
                format!(
                    "aucune authentification {service} réussie pour la BAL configurée {}",
                    expected.bal.as_deref().unwrap_or("?")
                ),
            );
            if let Some(f) = p.into_failure(id, evidence) {
                return Err(f);
            }
        }
        // Never attempted: the handshake failed, the client went away… not shown.
        if expected.services.contains(&service) {
            return Err(shortfall(&used).finding(
                id,
                &format!("l'authentification {service}"),
                evidence,
            ));
        }
    }
    if mine.is_empty() {
        return Err(Finding::not_tested(
            id,
            "aucune authentification acceptée observée (refus provoqués par l'opérateur, ou \
             aucune tentative)",
        ));
    }
    Ok(Authenticated {
        conns,
        accepted: mine,
        retried,
    })
}

/// The services of accepted authentications, in order: « SMTP et IMAP ».
pub(crate) fn services_of(accepted: &[Attempt<'_>]) -> String {
    let mut services: Vec<String> = Vec::new();
    for a in accepted {
        let s = a.service.to_string();
        if !services.contains(&s) {
            services.push(s);
        }
    }
    services.join(" et ")
}

/// For the authentication rules: protocols the system was asked to use but never opened, as
/// the reason a pass would be unfounded.
pub(crate) fn unexercised(conns: &[Connection<'_>], expected: &Expectation) -> Option<String> {
    let missing: Vec<String> = expected
        .services
        .iter()
        .filter(|s| !conns.iter().any(|c| c.service == **s))
        .map(|s| s.to_string())
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "le système n'a ouvert aucune connexion {} alors qu'il devait s'en servir : \
             l'authentification n'y est pas démontrée",
            missing.join(" ni ")
        )
    })
}

/// Whether an authentication's BAL is one the system was configured for.
pub(crate) fn configured_bal(expected: &Expectation, user: &str) -> bool {
    expected.bal.as_deref().is_none_or(|b| same_bal(b, user))
        || expected.other_bals.iter().any(|b| same_bal(b, user))
}

/// Whether an accepted authentication is for the scenario's BAL (any, offline).
pub(crate) fn for_this_bal(expected: &Expectation, user: Option<&str>) -> bool {
    match (&expected.bal, user) {
        (None, _) => true,
        (Some(b), Some(u)) => same_bal(b, u),
        (Some(_), None) => false,
    }
}

/// Whether two BAL addresses are the same (the domain part is case-insensitive; so is the
/// local part at this operator, like every MSSanté operator's directory).
pub fn same_bal(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mechanisms_are_read_from_the_redacted_lines() {
        assert_eq!(
            mechanism_of(
                "AUTH",
                "AUTH XOAUTH2 [réponse initiale masquée, 12 caractères]"
            ),
            Some("XOAUTH2".into())
        );
        assert_eq!(
            mechanism_of("AUTHENTICATE", "A0003 AUTHENTICATE plain"),
            Some("PLAIN".into())
        );
        assert_eq!(
            mechanism_of("LOGIN", "a LOGIN [masqué]"),
            Some("LOGIN".into())
        );
        assert_eq!(mechanism_of("MAIL", "MAIL FROM:<a@b>"), None);
    }
}
