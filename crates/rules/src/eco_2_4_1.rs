//! ECO.2.4.1 — « Le système DOIT positionner un entête SMTP "X-MSS-CODECDA" dans un message
//! envoyé qui comporte en PJ un ou plusieurs documents CDA encapsulés dans une archive IHE_XDM.
//! La valeur de cet entête DOIT être égale à celle du champ code présent dans l'entête du
//! document CDA. En cas de présence de plusieurs documents CDA, l'entête sera multi-valué. En
//! cas d'absence en PJ d'un document de santé CDA encapsulé dans une archive IHE_XDM, l'entête
//! ne doit pas être positionné. »
//!
//! Reading: one header, values separated by commas with optional spaces ("34112-3, PRESC-BIO"
//! in the examples), compared as sets with the `code@code` of the archive's CDAs (order free; a
//! code two documents share may appear once or twice).

use std::collections::BTreeSet;

use crate::{Context, Finding, Message};

/// Requirement ID.
pub const ID: &str = "ECO.2.4.1";

/// The values of an `X-MSS-CODECDA` header.
pub fn values(header: &str) -> Vec<String> {
    header
        .split(',')
        .map(str::trim)
        .map(str::to_owned)
        .collect()
}

/// Checks a message.
pub fn check(message: &Message<'_>, _context: &Context) -> Finding {
    let headers = message.header_values("X-MSS-CODECDA");
    let health = message.health();
    if !health.carries_documents() {
        return match headers.as_slice() {
            [] => Finding::pass(ID, "ni archive IHE_XDM ni X-MSS-CODECDA"),
            [v, ..] => Finding::fail(
                ID,
                format!(
                    "X-MSS-CODECDA « {v} » positionné alors qu'aucune archive IHE_XDM n'est jointe"
                ),
            ),
        };
    }
    let header = match headers.as_slice() {
        [] => {
            return Finding::fail(
                ID,
                "archive IHE_XDM jointe mais l'entête X-MSS-CODECDA est absent",
            );
        }
        [one] => one,
        many => {
            return Finding::fail(
                ID,
                format!(
                    "{} entêtes X-MSS-CODECDA : un seul, multi-valué, est attendu",
                    many.len()
                ),
            );
        }
    };
    let documents = match health.documents() {
        Ok(d) => d,
        Err(e) => {
            return Finding::fail(ID, format!("X-MSS-CODECDA « {header} » invérifiable : {e}"));
        }
    };
    let written = values(header);
    if written.iter().any(String::is_empty) {
        return Finding::fail(
            ID,
            format!("X-MSS-CODECDA « {header} » contient une valeur vide"),
        );
    }
    let mut problems = Vec::new();
    let mut codes = BTreeSet::new();
    for d in &documents {
        match &d.cda.code {
            Some(c) => {
                codes.insert(c.clone());
            }
            None => problems.push(format!("{} n'a pas de code@code", d.path)),
        }
    }
    let written: BTreeSet<String> = written.into_iter().collect();
    if written != codes {
        let list = codes.iter().cloned().collect::<Vec<_>>().join(", ");
        problems.push(format!(
            "X-MSS-CODECDA vaut « {header} » mais l'archive contient les codes {list}"
        ));
    }
    Finding::from_problems(
        ID,
        problems,
        format!(
            "X-MSS-CODECDA « {header} » = codes des {} document(s) CDA",
            documents.len()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_lists() {
        assert_eq!(
            values("34112-3, PRESC-BIO,15508-5"),
            vec!["34112-3", "PRESC-BIO", "15508-5"]
        );
        assert_eq!(values("34112-3"), vec!["34112-3"]);
        assert_eq!(values("a,,b")[1], "");
    }
}
