//! ECO.1.2.5 — « Pour des raisons de sécurité, l'Access Token PSC au format JWT ne doit pas être
//! stocké de façon permanente sur le poste de travail du professionnel. Il doit être mémorisé
//! de façon temporaire, pour une durée correspondant à sa durée de vie. […] »
//!
//! Reading taken (VERIFICATION.md §1, attestation plus an automated canary): every token the
//! fake Pro Santé Connect issued during the scenario (access, refresh and ID tokens) is a
//! canary. After the system worked, the PSC session ended and the system restarted, none may
//! be found in the system's data folder, in clear or in base64 (standard or URL-safe). The
//! folder is the profile's `data_dir`; without one, `non testé` (the tester attests). Files
//! larger than 64 MiB are not read and are reported.

use crate::Finding;

/// The requirement.
pub const ID: &str = "ECO.1.2.5";

/// What the harness found in the system's data folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// The folder, when the profile gives one.
    pub folder: Option<String>,
    /// Files read.
    pub files: usize,
    /// Files skipped (too large, unreadable), with why.
    pub skipped: Vec<String>,
    /// How many canaries were looked for.
    pub canaries: usize,
    /// Where a canary was found: file, and how it was written.
    pub hits: Vec<(String, String)>,
}

/// The canary's forms looked for: the token itself, and its base64 encodings.
pub fn forms(token: &str) -> Vec<(String, &'static str)> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    vec![
        (token.to_owned(), "en clair"),
        (STANDARD.encode(token), "en base64"),
        (URL_SAFE_NO_PAD.encode(token), "en base64url"),
    ]
}

/// Judges the scan.
pub fn check(scan: &Scan) -> Finding {
    let Some(folder) = &scan.folder else {
        return Finding::not_tested(
            ID,
            "le profil du système n'indique pas son dossier de données (data_dir) : le testeur \
             atteste que l'Access Token n'est conservé qu'en mémoire",
        );
    };
    if scan.files == 0 && !scan.skipped.is_empty() && scan.hits.is_empty() {
        return Finding::not_tested(
            ID,
            format!(
                "dossier de données du système illisible : {}",
                scan.skipped.join(", ")
            ),
        );
    }
    if scan.canaries == 0 {
        return Finding::not_tested(
            ID,
            "aucun jeton émis par le Pro Santé Connect fictif pendant le scénario",
        );
    }
    let skipped = if scan.skipped.is_empty() {
        String::new()
    } else {
        format!(" ; non lus : {}", scan.skipped.join(", "))
    };
    if scan.hits.is_empty() {
        Finding::pass(
            ID,
            format!(
                "aucun des {} jetons Pro Santé Connect émis n'est écrit dans {folder} ({} fichier(s) lus, après redémarrage){skipped}",
                scan.canaries, scan.files
            ),
        )
    } else {
        let hits: Vec<String> = scan
            .hits
            .iter()
            .map(|(file, how)| format!("{file} ({how})"))
            .collect();
        Finding::fail(
            ID,
            format!(
                "jeton Pro Santé Connect écrit sur le disque du système : {}{skipped}",
                hits.join(", ")
            ),
        )
    }
}
