//! Judging the TLS negotiations the system started (ECO.1.1.x).

use cucumber::{gherkin::Step, then};

use crate::world::{MssWorld, SessionRule, StepResult};

#[then(expr = "le système n'a offert et négocié que les suites et groupes autorisés")]
async fn suites(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_session(&super::text(step), SessionRule::Suites)
}

#[then(expr = "le système abandonne la connexion face à une version antérieure à TLS 1.2")]
async fn old_tls(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_session(&super::text(step), SessionRule::OldTlsRefused)
}

#[then(expr = "le système a mené sa session en TLS 1.2")]
async fn tls12(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_session(&super::text(step), SessionRule::Tls12Works)
}

#[then(expr = "le système abandonne la connexion face à une suite ou un groupe interdit")]
async fn weak_crypto(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_session(&super::text(step), SessionRule::WeakCryptoRefused)
}

#[then(
    expr = "le système abandonne la connexion face à un certificat hors de sa période de validité"
)]
async fn certificate_dates(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_session(&super::text(step), SessionRule::CertificateDatesRefused)
}

#[then(expr = "le système abandonne la connexion face à un certificat d'une autre autorité")]
async fn certificate_authority(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_session(&super::text(step), SessionRule::CertificateAuthorityRefused)
}

#[then(expr = "la version de TLS négociée est rapportée")]
async fn tls_version(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_session(&super::text(step), SessionRule::Tls13)
}

#[then(expr = "le système abandonne la connexion face à un certificat révoqué")]
async fn certificate_revoked(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_session(&super::text(step), SessionRule::RevokedCertificateRefused)
}

#[then(expr = "le système se connecte encore grâce à la dernière CRL conservée")]
async fn crl_kept(w: &mut MssWorld, step: &Step) -> StepResult {
    w.judge_session(&super::text(step), SessionRule::CrlKept)
}
