//! ECO.1.1.7 — when revocation is checked with CRLs, the client keeps the last unexpired CRL so
//! a failed download does not stop it from connecting.
//!
//! Reading taken (VERIFICATION.md §1): the scenario makes the OCSP responder fail (so a client
//! that checks revocation must use the CRL), lets the client connect once (it downloads the
//! CRL), then makes the CRL distribution points fail too; the next connection must still
//! succeed: an authenticated session on the BAL's entry point opened after the CRL outage began.
//! Then the operator presents its revoked certificate: the client must refuse it with the CRL
//! it kept (a client that connects whenever the status is unknown — soft fail — kept nothing
//! and fails here).
//! A client that connects with no download in the scenario (a CRL kept from an earlier
//! connection, or installed) passes the same way. One that downloaded no CRL and could not
//! connect once OCSP was down checks revocation by OCSP only: `non applicable`, with that
//! evidence.

use evidence::EventKind;

use crate::Finding;
use crate::eco_1_1_6::lookup_kind;
use crate::session::{Expectation, SessionEvidence};

/// The requirement.
pub const ID: &str = "ECO.1.1.7";

/// The client connects with its kept CRL while the distribution points fail.
pub fn check(evidence: &SessionEvidence, expected: &Expectation) -> Finding {
    let mut outage_from: Option<usize> = None;
    let mut downloaded: Vec<String> = Vec::new();
    let mut ocsp: Vec<String> = Vec::new();
    let mut during: Vec<String> = Vec::new();
    let mut opened_after: Vec<evidence::ConnId> = Vec::new();
    for (i, e) in evidence.events().iter().enumerate() {
        match &e.kind {
            EventKind::FaultsChanged { faults } if faults.crl.is_some() => {
                outage_from.get_or_insert(i);
            }
            EventKind::HttpRequest {
                method,
                host,
                path,
                status,
                ..
            } => {
                let line = format!(
                    "{method} http://{}{path} → {status}",
                    host.as_deref().unwrap_or("?")
                );
                match (lookup_kind(method, path), outage_from) {
                    (Some("CRL"), None) if *status == 200 => downloaded.push(line),
                    (Some("OCSP"), None) => ocsp.push(line),
                    (Some(_), Some(_)) => during.push(line),
                    _ => {}
                }
            }
            EventKind::ConnectionOpened { entry, .. }
                if outage_from.is_some() && expected.entry.is_none_or(|x| x == *entry) =>
            {
                opened_after.extend(e.conn);
            }
            _ => {}
        }
    }
    if outage_from.is_none() {
        return Finding::not_tested(
            ID,
            "les points de distribution des CRL n'ont pas été mis en panne pendant la session",
        );
    }
    if opened_after.is_empty() {
        return Finding::not_tested(
            ID,
            "le système n'a ouvert aucune connexion après la panne des points de distribution",
        );
    }
    let conns: Vec<_> = evidence
        .connections()
        .into_iter()
        .filter(|c| opened_after.contains(&c.id))
        .collect();
    let during = if during.is_empty() {
        "aucune requête de révocation pendant la panne".to_owned()
    } else {
        format!("pendant la panne : {}", during.join(" ; "))
    };
    if let Some(ok) = conns.iter().find(|c| c.accepted_auth().is_some()) {
        // Connecting proves nothing by itself: a client that ignores an unknown status
        // (soft fail) connects too. The kept CRL must still refuse the revoked certificate.
        let refusal = crate::transport::abandoned(
            ID,
            evidence,
            expected,
            &crate::eco_1_1_6::PROFILES,
            "un certificat révoqué, la CRL n'étant plus téléchargeable",
        );
        return match refusal.verdict {
            crate::Verdict::Pass => Finding::pass(
                ID,
                format!(
                    "{} ; {during} ; connexion {} authentifiée malgré la panne, et certificat \
                     révoqué refusé avec la CRL conservée : {}",
                    if downloaded.is_empty() {
                        "aucun téléchargement de CRL dans ce scénario (CRL conservée d'une \
                         connexion antérieure, ou installée)"
                            .to_owned()
                    } else {
                        format!(
                            "CRL téléchargée avant la panne ({})",
                            downloaded.join(" ; ")
                        )
                    },
                    ok.id,
                    refusal.detail
                ),
            ),
            crate::Verdict::Fail => Finding {
                detail: format!(
                    "connecté malgré la panne, mais sans contrôle : {} (un statut de révocation \
                     inconnu a été ignoré au lieu d'utiliser la dernière CRL conservée)",
                    refusal.detail
                ),
                ..refusal
            },
            _ => Finding::not_tested(
                ID,
                format!(
                    "connexion {} authentifiée malgré la panne, mais rien ne montre que la CRL \
                     conservée a servi : {}",
                    ok.id, refusal.detail
                ),
            ),
        };
    }
    if downloaded.is_empty() {
        let detail = if ocsp.is_empty() {
            "aucun téléchargement de CRL ni requête OCSP au journal avant la panne des points \
             de distribution : le système ne télécharge pas de CRL (CRL installées localement, \
             ou pas de contrôle de révocation, que juge ECO.1.1.6) ; conserver la dernière CRL \
             téléchargée ne le concerne pas"
                .to_owned()
        } else {
            format!(
                "aucun téléchargement de CRL avant la panne, seulement l'OCSP ({}) : le système \
                 contrôle la révocation par OCSP seulement",
                ocsp.join(" ; ")
            )
        };
        return Finding::not_applicable(ID, detail);
    }
    let offending = conns.first().map(|c| c.id);
    let failure = Finding::fail(
        ID,
        format!(
            "après la panne des points de distribution des CRL, {} connexion(s) sans session \
             authentifiée : le système n'a pas utilisé la CRL téléchargée auparavant ({}) ; \
             {during}",
            conns.len(),
            downloaded.join(" ; ")
        ),
    );
    match offending.and_then(|c| evidence.connection(c)) {
        Some(c) => failure.with_evidence(c.transcript(20)),
        None => failure,
    }
}
