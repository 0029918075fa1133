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
    out
}
