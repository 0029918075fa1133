//! The requirement matrix in Markdown (for merge requests and CI summaries).

use std::fmt::Write as _;

use crate::results::RunResults;

/// Renders the Markdown summary.
pub fn render(results: &RunResults) -> String {
    let s = &results.summary;
    let mut out = format!(
        "# Conformité au Référentiel socle MSSanté #2\n\nSystème testé : {} — {} conformes, {} non conformes, {} non testées, {} non applicables, {} informatives ({} scénarios, {} en échec).\n\n| Exigence | Intitulé | Verdict | Explication |\n|---|---|---|---|\n",
        results.sut,
        s.passed,
        s.failed,
        s.not_tested,
        s.not_applicable,
        s.informational,
        s.scenarios,
        s.scenarios_failed
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
