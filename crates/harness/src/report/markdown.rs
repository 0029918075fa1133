//! The requirement matrix in Markdown (for merge requests and CI summaries).

use std::fmt::Write as _;

use crate::results::RunResults;

/// Renders the Markdown summary.
pub fn render(results: &RunResults) -> String {
    let mut out = format!(
        "# Conformité au Référentiel socle MSSanté #2\n\nSystème testé : {} — {}.\n\n| Exigence | Intitulé | Verdict | Explication |\n|---|---|---|---|\n",
        results.sut,
        results.summary.sentence()
    );
    for r in &results.requirements {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            r.id,
            r.title.replace('|', "\\|"),
            r.verdict.label(),
            r.explanation.replace('|', "\\|").replace('\n', " ")
        );
    }
    for p in &results.problems {
        let _ = writeln!(out, "\n**Problème de la campagne :** {p}");
    }
    if let Some(c) = &results.baseline {
        let _ = writeln!(
            out,
            "\n## Comparaison avec la référence\n\n{} régression(s), {} entrée(s) périmée(s), {} verdict(s) attendu(s) confirmé(s).\n",
            c.regressions.len(),
            c.stale.len(),
            c.held.len()
        );
        for r in &c.regressions {
            let _ = writeln!(out, "- **régression** : {r}");
        }
        for s in &c.stale {
            let _ = writeln!(out, "- périmée : {s}");
        }
    }
    out
}
