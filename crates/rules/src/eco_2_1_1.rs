//! ECO.2.1.1 — « Un courriel MSSanté utilisé pour transmettre un (des) document(s) de santé
//! DOIT : concerner qu'un seul et même usager, contenir en pièces jointes du courriel une
//! archive ZIP au format IHE_XDM contenant un ou plusieurs documents CDA R2 niveau 1 et/ou
//! niveau 3, les mêmes documents médicaux au format PDF/A-1. »
//!
//! Reading: a message transmits health documents when it attaches an XDM archive (a ZIP named
//! `IHE_XDM.ZIP` or holding `IHE_XDM/`) or its subject announces them (`XDM/1.0/DDM`). Then:
//! exactly one archive, named `IHE_XDM.ZIP`, readable within bounds; its layout complete
//! (`INDEX.HTM`, `README.TXT`, `IHE_XDM/SUBSET01/METADATA.XML`, the documents it references);
//! every document a CDA R2 with a level 1 body (`nonXMLBody` whose content decodes) or a level 3
//! body (`structuredBody`); one patient (same INS — or same traits without INS — in every CDA and
//! in METADATA.XML's `patientId`); at least one PDF attached per CDA. Whether the PDFs are PDF/A-1
//! and faithful is ECO.2.1.5's judgement.

use std::collections::BTreeSet;

use crate::health::XDM_NAME;
use crate::health::cda::Body;
use crate::{Context, Finding, Message, ins};

/// Requirement ID.
pub const ID: &str = "ECO.2.1.1";

/// The subject prefix of messages carrying health documents.
pub const SUBJECT_PREFIX: &str = "XDM/1.0/DDM";

/// How a patient identifier is named in explanations.
fn identity(id: &str, oid: &str) -> String {
    if ins::is_ins_oid(oid) {
        format!("INS {id}")
    } else {
        format!("identifiant {id} ({oid})")
    }
}

/// Checks a message.
pub fn check(message: &Message<'_>, _context: &Context) -> Finding {
    let health = message.health();
    let announced = message
        .parsed()
        .subject()
        .is_some_and(|s| s.trim_start().starts_with(SUBJECT_PREFIX));
    if !health.carries_documents() {
        return if announced {
            Finding::fail(
                ID,
                "l'objet annonce des documents de santé (XDM/1.0/DDM) mais aucune archive IHE_XDM n'est jointe",
            )
        } else {
            Finding::not_applicable(
                ID,
                "aucune archive IHE_XDM jointe : pas de document de santé transmis",
            )
        };
    }
    let mut problems = Vec::new();
    if health.xdms.len() > 1 {
        problems.push(format!(
            "{} archives IHE_XDM jointes au lieu d'une",
            health.xdms.len()
        ));
    }
    let first = &health.xdms[0];
    match first.name.as_deref() {
        Some(n) if n.eq_ignore_ascii_case(XDM_NAME) => {}
        Some(n) => problems.push(format!(
            "l'archive IHE_XDM est nommée « {n} » au lieu de {XDM_NAME}"
        )),
        None => problems.push(format!(
            "l'archive IHE_XDM n'a pas de nom de fichier ({XDM_NAME} attendu)"
        )),
    }
    let xdm = match &first.xdm {
        Ok(x) => x,
        Err(e) => {
            problems.push(e.to_string());
            return Finding::fail(ID, problems.join(" ; "));
        }
    };
    problems.extend(xdm.layout_problems.iter().cloned());
    let mut levels = Vec::new();
    let mut patients: BTreeSet<String> = BTreeSet::new();
    for d in &xdm.documents {
        let cda = match &d.cda {
            Ok(c) => c,
            Err(e) => {
                problems.push(format!("{} n'est pas un document CDA R2 : {e}", d.path));
                continue;
            }
        };
        match &cda.body {
            Body::NonXml {
                content: Some(_), ..
            } => levels.push("N1"),
            Body::NonXml { media_type, .. } => problems.push(format!(
                "{} (CDA N1) : le document encapsulé ({}) n'est pas lisible en base64",
                d.path,
                media_type.as_deref().unwrap_or("type inconnu")
            )),
            Body::Structured(_) => levels.push("N3"),
            Body::Missing => problems.push(format!(
                "{} : ni nonXMLBody (N1) ni structuredBody (N3)",
                d.path
            )),
        }
        let p = &cda.patient;
        let id = p
            .ins()
            .map(|(m, oid)| (m.to_owned(), oid.to_owned()))
            .or_else(|| p.ids.first().map(|(root, ext)| (ext.clone(), root.clone())));
        patients.insert(match id {
            Some((id, oid)) => identity(&id, &oid),
            None => format!(
                "{} {} né(e) le {}",
                p.name().unwrap_or("?"),
                p.first_given().unwrap_or("?"),
                p.birth_date_fr().unwrap_or_else(|| "?".into())
            ),
        });
    }
    if let Ok(metadata) = &xdm.metadata {
        let ids = metadata.patient_id.iter().chain(
            metadata
                .documents
                .iter()
                .filter_map(|e| e.patient_id.as_ref()),
        );
        for cx in ids {
            match ins::parse_cx(cx) {
                Some((id, oid)) => {
                    patients.insert(identity(&id, &oid));
                }
                None => problems.push(format!("patientId « {cx} » de METADATA.XML illisible")),
            }
        }
    }
    if patients.len() > 1 {
        problems.push(format!(
            "le message concerne plusieurs usagers : {}",
            patients.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    let cdas = levels.len();
    if health.pdfs.len() < cdas {
        problems.push(format!(
            "{cdas} document(s) CDA mais {} PDF joint(s) : chaque document doit aussi être joint en PDF/A-1",
            health.pdfs.len()
        ));
    }
    Finding::from_problems(
        ID,
        problems,
        format!(
            "archive {XDM_NAME} conforme : {cdas} document(s) CDA ({}) d'un seul usager ({}), {} PDF joint(s)",
            levels.join(", "),
            patients.iter().next().cloned().unwrap_or_default(),
            health.pdfs.len()
        ),
    )
}
