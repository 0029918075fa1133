//! ECO.2.4.2 — « Le système DOIT positionner l'entête SMTP "X-MSS-INS" dans un message envoyé
//! qui comporte en PJ au moins un document de santé CDA encapsulé dans une archive IHE_XDM. La
//! valeur de cet entête DOIT être 'O' (Oui) en cas de présence d'une Identité Nationale de Santé
//! (INS qualifiée) dans une archive IHE_XDM, 'N' (Non) en cas d'absence [...]. En cas d'absence
//! en PJ d'un document de santé CDA [...], l'entête ne doit pas être positionnée. »
//!
//! Reading: a qualified INS is, in a CDA header, the INS (matricule with a valid key, OID of the
//! INS — production .8/.9 or test .10/.11) and the four traits: birth name, first given name,
//! birth date, sex. `O` when one document of the archive has it, `N` otherwise.

use crate::{Context, Finding, Message};

/// Requirement ID.
pub const ID: &str = "ECO.2.4.2";

/// Checks a message.
pub fn check(message: &Message<'_>, _context: &Context) -> Finding {
    let headers = message.header_values("X-MSS-INS");
    let health = message.health();
    if !health.carries_documents() {
        return match headers.as_slice() {
            [] => Finding::pass(ID, "ni archive IHE_XDM ni X-MSS-INS"),
            [v, ..] => Finding::fail(
                ID,
                format!(
                    "X-MSS-INS « {v} » positionné alors qu'aucune archive IHE_XDM n'est jointe"
                ),
            ),
        };
    }
    let value = match headers.as_slice() {
        [] => {
            return Finding::fail(
                ID,
                "archive IHE_XDM jointe mais l'entête X-MSS-INS est absent",
            );
        }
        [one] => one.as_str(),
        many => {
            return Finding::fail(
                ID,
                format!("{} entêtes X-MSS-INS au lieu d'un seul", many.len()),
            );
        }
    };
    if value != "O" && value != "N" {
        return Finding::fail(
            ID,
            format!("X-MSS-INS vaut « {value} » au lieu de « O » ou « N »"),
        );
    }
    let documents = match health.documents() {
        Ok(d) => d,
        Err(e) => return Finding::fail(ID, format!("X-MSS-INS « {value} » invérifiable : {e}")),
    };
    let qualified = documents.iter().find(|d| d.cda.patient.qualified().is_ok());
    match (value, qualified) {
        ("O", Some(d)) => Finding::pass(
            ID,
            format!(
                "X-MSS-INS: O, INS qualifiée dans {} ({})",
                d.path,
                d.cda.patient.ins().map(|(m, _)| m).unwrap_or_default()
            ),
        ),
        (_, None) if value == "N" => {
            Finding::pass(ID, "X-MSS-INS: N, aucune INS qualifiée dans l'archive")
        }
        (_, None) => {
            let why = documents
                .iter()
                .map(|d| {
                    let missing = d.cda.patient.qualified().err().unwrap_or_default();
                    format!("{} sans {}", d.path, missing.join(", "))
                })
                .collect::<Vec<_>>()
                .join(" ; ");
            Finding::fail(
                ID,
                format!("X-MSS-INS vaut « O » mais aucune INS qualifiée dans l'archive : {why}"),
            )
        }
        (_, Some(d)) => Finding::fail(
            ID,
            format!(
                "X-MSS-INS vaut « N » mais {} porte une INS qualifiée ({} et les 4 traits)",
                d.path,
                d.cda.patient.ins().map(|(m, _)| m).unwrap_or_default()
            ),
        ),
    }
}
