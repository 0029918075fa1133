//! The requirement matrix in Markdown (for merge requests and CI summaries).

use std::fmt::Write as _;

use crate::results::RunResults;

/// Renders the Markdown summary.
pub fn render(results: &RunResults) -> String {
    let mut out = format!(
        "# Conformité au Référentiel socle MSSanté #2\n\nSystème testé : {} — {}. Campagne du {}.\n\n| Exigence | Intitulé | Verdict | Explication |\n|---|---|---|---|\n",
        results.sut,
        results.summary.sentence(),
        crate::results::french_date(&results.started_at)
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
    // Each failure with its finding: what a CI job summary must show.
    let failures: Vec<_> = results
        .requirements
        .iter()
        .filter(|r| r.verdict == crate::results::Verdict::Failed)
        .collect();
    if !failures.is_empty() {
        out.push_str("\n## Non-conformités\n");
        for r in failures {
            let _ = writeln!(out, "\n### {} — {}\n", r.id, r.title);
            for &i in &r.scenarios {
                let sc = &results.scenarios[i];
                for f in sc
                    .findings
                    .iter()
                    .filter(|f| f.requirement == r.id && f.verdict == rules::Verdict::Fail)
                {
                    let _ = writeln!(out, "- *{}* — {} : {}", sc.name, f.step, f.detail);
                    for line in f.evidence.iter().take(8) {
                        let _ = writeln!(out, "  - `{}`", line.replace('`', "'"));
                    }
                }
            }
        }
    }
    for p in &results.problems {
        let _ = writeln!(out, "\n**Problème de la campagne :** {p}");
    }
    if let Some(c) = &results.baseline {
        let _ = writeln!(
            out,
            "\n## Comparaison avec la référence\n\n{}, {}, {}.\n",
            crate::results::plural(c.regressions.len(), "régression", "régressions"),
            crate::results::plural(c.stale.len(), "entrée périmée", "entrées périmées"),
            crate::results::plural(
                c.held.len(),
                "verdict attendu confirmé",
                "verdicts attendus confirmés"
            )
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
