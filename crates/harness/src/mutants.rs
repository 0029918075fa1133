//! Mutants: the reference client with one deliberate defect each. Every automated check of the
//! harness must be failed by at least one of them; the tests prove it.

use client::Defect;

/// One mutant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mutant {
    /// The defect injected into the reference client.
    pub defect: Defect,
    /// What it does wrong (French, for reports).
    pub description: &'static str,
    /// Requirements whose scenarios must fail against it.
    pub fails: &'static [&'static str],
}

impl Mutant {
    /// Its name (the defect's).
    pub fn name(&self) -> &'static str {
        self.defect.name()
    }
}

/// Every mutant the harness knows.
pub const MUTANTS: &[Mutant] = &[
    Mutant {
        defect: Defect::SmtpAuthInClear,
        description: "envoie AUTH en clair avant STARTTLS (refusé), puis poursuit normalement",
        fails: &["ECO.1.0.1", "ECO.1.2.1", "ECO.1.3.1"],
    },
    Mutant {
        defect: Defect::ImapWithoutStartTls,
        description: "ouvre la session IMAP sans STARTTLS et s'authentifie en clair",
        fails: &["ECO.1.0.2", "ECO.1.2.1", "ECO.1.3.1"],
    },
    Mutant {
        defect: Defect::StarttlsPipelining,
        description: "envoie une commande juste derrière STARTTLS, avant la négociation TLS",
        fails: &["ECO.1.0.1", "ECO.1.0.2"],
    },
    Mutant {
        defect: Defect::Xoauth2BadSeparators,
        description: "termine la chaîne XOAUTH2 par un seul ^A",
        fails: &["ECO.1.2.1"],
    },
    Mutant {
        defect: Defect::Xoauth2WrongUser,
        description: "nomme dans « user= » une autre BAL du professionnel (acceptée par l'opérateur)",
        fails: &["ECO.1.2.1"],
    },
    Mutant {
        defect: Defect::PlainInsteadOfXoauth2,
        description: "s'authentifie en PLAIN avec le jeton comme mot de passe au lieu de XOAUTH2",
        fails: &["ECO.1.2.1"],
    },
    Mutant {
        defect: Defect::CommandBeforeAuth,
        description: "envoie une commande (MAIL, SELECT) avant de s'authentifier, puis s'authentifie",
        fails: &["ECO.1.2.1", "ECO.1.3.1"],
    },
    Mutant {
        defect: Defect::AuthPipelined,
        description: "envoie MAIL FROM derrière AUTH sans attendre la validation (SMTP)",
        fails: &["ECO.1.2.1", "ECO.1.3.1"],
    },
    Mutant {
        defect: Defect::NoEhloAfterTls,
        description: "n'envoie pas EHLO après la négociation TLS (SMTP)",
        fails: &["ECO.1.0.1"],
    },
    Mutant {
        defect: Defect::NoClientCertificate,
        description: "ne présente pas de certificat ORG AUTH_CLI",
        fails: &["ECO.1.3.1"],
    },
    Mutant {
        defect: Defect::PlainWrongLogin,
        description: "donne à PLAIN la partie locale de la BAL au lieu de son adresse",
        fails: &["ECO.1.3.1"],
    },
    Mutant {
        defect: Defect::NoMessageId,
        description: "envoie des messages sans Message-ID",
        fails: &["ECO.2.2.1"],
    },
    Mutant {
        defect: Defect::ReusedMessageId,
        description: "réutilise le même Message-ID pour chaque message",
        fails: &["ECO.2.2.1"],
    },
    Mutant {
        defect: Defect::NoNil,
        description: "n'écrit pas l'entête X-MSS-NIL",
        fails: &["ECO.2.4.3"],
    },
    Mutant {
        defect: Defect::OffersChacha20,
        description: "offre aussi la suite ECDHE-RSA-CHACHA20-POLY1305 (0xCCA8), hors de la liste ECO.1.1.3",
        fails: &["ECO.1.1.3"],
    },
    Mutant {
        defect: Defect::TrustsOtherRange,
        description: "accepte un certificat serveur d'une autre branche de l'IGC Santé (Elementaire Personnes)",
        fails: &["ECO.1.1.10"],
    },
    Mutant {
        defect: Defect::TrustsAnyCa,
        description: "accepte un certificat serveur de n'importe quelle autorité (AC commerciale comprise)",
        fails: &["ECO.1.1.10"],
    },
    Mutant {
        defect: Defect::IgnoresCertificateDates,
        description: "accepte un certificat serveur expiré ou pas encore valide",
        fails: &["ECO.1.1.5"],
    },
    Mutant {
        defect: Defect::OtherStructureCertificate,
        description: "présente le certificat ORG AUTH_CLI d'une autre structure sur le point d'entrée applicatif",
        fails: &["ECO.1.3.1"],
    },
    Mutant {
        defect: Defect::ExpiredClientCertificate,
        description: "présente un certificat client expiré sur le point d'entrée applicatif",
        fails: &["ECO.1.3.1"],
    },
    Mutant {
        defect: Defect::PersonnesClientCertificate,
        description: "présente un certificat client de la branche Elementaire Personnes",
        fails: &["ECO.1.3.1"],
    },
    Mutant {
        defect: Defect::RevokedClientCertificate,
        description: "présente un certificat client révoqué sur le point d'entrée applicatif",
        fails: &["ECO.1.3.1"],
    },
    Mutant {
        defect: Defect::CommercialClientCertificate,
        description: "présente un certificat client d'une AC commerciale sur le point d'entrée applicatif",
        fails: &["ECO.1.3.1"],
    },
    Mutant {
        defect: Defect::Tls13Only,
        description: "n'offre que TLS 1.3 : ne peut travailler avec un opérateur limité à TLS 1.2",
        fails: &["ECO.1.1.1"],
    },
    Mutant {
        defect: Defect::NoRevocationCheck,
        description: "ne vérifie pas la révocation du certificat de l'opérateur (ni OCSP ni CRL)",
        fails: &["ECO.1.1.6"],
    },
    Mutant {
        defect: Defect::CredentialBeforeVerify,
        description: "s'authentifie avant d'avoir vérifié la révocation du certificat de l'opérateur",
        fails: &["ECO.1.1.6", "ECO.1.1.7"],
    },
    Mutant {
        defect: Defect::DropsCrlCache,
        description: "ne conserve pas la dernière CRL : sans point de distribution, le statut est inconnu",
        fails: &["ECO.1.1.7"],
    },
    Mutant {
        defect: Defect::SoftFailRevocation,
        description: "ne conserve aucune CRL et se connecte quand le statut de révocation est inconnu",
        fails: &["ECO.1.1.7"],
    },
    Mutant {
        defect: Defect::HardCodedPorts,
        description: "prend l'hôte de l'autoconfiguration mais se connecte aux ports 587 et 143",
        fails: &["ECO.1.1.9"],
    },
    Mutant {
        defect: Defect::AllowsTls10,
        description: "accepte TLS 1.0 (et les suites CBC-SHA qu'il impose), par OpenSSL",
        fails: &["ECO.1.1.1", "ECO.1.1.3"],
    },
    Mutant {
        defect: Defect::OffersCbcSha,
        description: "offre aussi les suites ECDHE-RSA-AES-CBC-SHA (0xC014, 0xC013), par OpenSSL",
        fails: &["ECO.1.1.3"],
    },
    Mutant {
        defect: Defect::OffersP224,
        description: "offre aussi la courbe P-224 (moins de 256 bits), par OpenSSL",
        fails: &["ECO.1.1.3"],
    },
    Mutant {
        defect: Defect::AcceptsWeakDhe,
        description: "n'offre que les suites autorisées mais accepte un groupe DHE de 1 024 bits, par OpenSSL",
        fails: &["ECO.1.1.3"],
    },
    Mutant {
        defect: Defect::OtherProfessionalToken,
        description: "ouvre sa session Pro Santé Connect au nom d'un autre professionnel, non habilité sur la BAL",
        fails: &["ECO.1.2.1"],
    },
    Mutant {
        defect: Defect::CrashesOnAuthError,
        description: "après un refus d'authentification, toutes ses actions suivantes échouent",
        fails: &["ECO.1.2.3"],
    },
    Mutant {
        defect: Defect::Latin1Text,
        description: "déclare ses parties texte en ISO-8859-1 au lieu d'UTF-8",
        fails: &["ECO.2.2.3"],
    },
    Mutant {
        defect: Defect::HtmlOnly,
        description: "envoie un corps HTML seul, sans son alternative texte",
        fails: &["ECO.2.2.4"],
    },
    Mutant {
        defect: Defect::NoReplyTo,
        description: "BAL applicative : ni Reply-To ni mention de génération automatique",
        fails: &["ECO.2.2.5"],
    },
    Mutant {
        defect: Defect::NoSenderLabel,
        description: "écrit l'adresse de l'émetteur dans From sans libellé",
        fails: &["ECO.2.2.7"],
    },
    Mutant {
        defect: Defect::IgnoresDsnRequest,
        description: "ne demande pas l'accusé de réception demandé (pas de Return-Receipt-To)",
        fails: &["ECO.2.3.1"],
    },
    Mutant {
        defect: Defect::IgnoresMdnRequest,
        description: "ne demande pas l'accusé de lecture demandé (pas de Disposition-Notification-To)",
        fails: &["ECO.2.3.2"],
    },
    Mutant {
        defect: Defect::FinInSubject,
        description: "met fin aux échanges avec un usager par l'objet [FIN] au lieu de l'entête X-MSS-MES: FIN",
        fails: &["ECO.2.2.8"],
    },
    Mutant {
        defect: Defect::NoXdm,
        description: "joint les documents CDA tels quels, sans archive IHE_XDM.ZIP",
        fails: &["ECO.2.1.1"],
    },
    Mutant {
        defect: Defect::CodecdaFirstDocumentOnly,
        description: "n'écrit dans X-MSS-CODECDA que le code du premier document",
        fails: &["ECO.2.4.1"],
    },
    Mutant {
        defect: Defect::InsOWithoutBirthName,
        description: "écrit X-MSS-INS: O dès que l'en-tête porte une INS, même sans nom de naissance",
        fails: &["ECO.2.4.2"],
    },
    Mutant {
        defect: Defect::SubjectNotTruncated,
        description: "écrit dans l'objet le libellé du type de document entier, sans le tronquer à 40 caractères",
        fails: &["ECO.2.1.3"],
    },
    Mutant {
        defect: Defect::PdfWithoutNarrative,
        description: "rend le PDF d'un document N3 avec son seul titre, sans en-tête ni narration",
        fails: &["ECO.2.1.5"],
    },
    Mutant {
        defect: Defect::PdfNamedFreely,
        description: "nomme les PDF document1.pdf… au lieu de <date>_<type>_<NOM>_<prénom>.pdf",
        fails: &["ECO.2.1.6"],
    },
    Mutant {
        defect: Defect::NoReferences,
        description: "répond sans entête References",
        fails: &["ECO.2.2.2"],
    },
    Mutant {
        defect: Defect::ReferencesParentOnly,
        description: "répond avec un References réduit au message parent, sans la chaîne de la conversation",
        fails: &["ECO.2.2.2"],
    },
    Mutant {
        defect: Defect::NoReadReceipt,
        description: "n'envoie pas l'accusé de lecture demandé par un message affiché",
        fails: &["ECO.3.1.6"],
    },
    Mutant {
        defect: Defect::PatientsUnmarked,
        description: "présente les messages des usagers comme ceux des professionnels",
        fails: &["ECO.3.1.1", "ECO.3.1.2"],
    },
    Mutant {
        defect: Defect::PatientWithoutIns,
        description: "affiche le nom de l'usager sans son INS",
        fails: &["ECO.3.1.2"],
    },
    Mutant {
        defect: Defect::ShowsXdmPrefix,
        description: "affiche le préfixe XDM/1.0/DDM+ dans l'objet des messages",
        fails: &["ECO.3.1.3"],
    },
    Mutant {
        defect: Defect::TraceWithoutResponse,
        description: "trace ses envois et relèves sans la réponse du serveur",
        fails: &["ECO.4.1.2"],
    },
    Mutant {
        defect: Defect::NoFetchTraces,
        description: "ne trace pas ses relèves",
        fails: &["ECO.4.1.1"],
    },
    Mutant {
        defect: Defect::WritesToUnqualifiedPatient,
        description: "écrit à un usager dont l'identité n'est pas qualifiée",
        fails: &["ECO.2.2.6"],
    },
    Mutant {
        defect: Defect::PatientAddressWithoutKey,
        description: "construit l'adresse d'un usager sur le NIR à 13 caractères, sans sa clé",
        fails: &["ECO.2.2.6", "ECO.3.1.5"],
    },
    Mutant {
        defect: Defect::FilesBySubject,
        description: "classe les documents reçus sous l'usager nommé par l'objet, non sous le patientId de METADATA.XML",
        fails: &["ECO.2.1.2"],
    },
    Mutant {
        defect: Defect::WritesTokenToDisk,
        description: "écrit son Access Token dans son dossier de données pour le retrouver après un redémarrage",
        fails: &["ECO.1.2.5"],
    },
    Mutant {
        defect: Defect::IgnoresPscSessionEnd,
        description: "garde ses sessions IMAP et SMTP quand la session Pro Santé Connect prend fin",
        fails: &["ECO.1.2.6"],
    },
    Mutant {
        defect: Defect::DoesNotReconnect,
        description: "ne rouvre pas la session IMAP que l'opérateur a fermée",
        fails: &["ECO.1.2.7"],
    },
    Mutant {
        defect: Defect::RetriesRefusedToken,
        description: "représente en boucle le jeton que l'opérateur vient de refuser au lieu de le rafraîchir",
        fails: &["ECO.1.2.7"],
    },
    Mutant {
        defect: Defect::NoRefresh,
        description: "ne rafraîchit jamais l'Access Token : une fois expiré, plus rien ne fonctionne",
        fails: &["ECO.1.2.7"],
    },
];

/// Looks a mutant up by name.
pub fn find(name: &str) -> Option<&'static Mutant> {
    MUTANTS.iter().find(|m| m.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_defect_is_a_mutant_with_a_target() {
        for d in Defect::ALL {
            let m = find(d.name()).unwrap_or_else(|| panic!("{d} has no mutant"));
            assert!(!m.fails.is_empty());
        }
        let catalogue = catalog::Catalogue::embedded();
        for m in MUTANTS {
            for id in m.fails {
                assert!(catalogue.get(id).is_some(), "{id}");
            }
        }
    }
}
