//! JUnit XML for CI: one test suite per requirement, one test case per scenario, named with the
//! requirement ID. Requirements without a scenario appear as skipped test cases, so a CI
//! dashboard shows the whole catalogue.

use std::fmt::Write as _;

use super::esc;
use crate::results::{RunResults, ScenarioStatus, Verdict};

/// Renders the JUnit XML document.
pub fn render(results: &RunResults) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let mut tests = 0;
    let mut failures = 0;
    let mut skipped = 0;
    let mut errors = 0;
    let mut suites = String::new();
    for r in &results.requirements {
        let mut cases = String::new();
        let (mut t, mut f, mut s, mut e) = (0, 0, 0, 0);
        for &i in &r.scenarios {
            let sc = &results.scenarios[i];
            t += 1;
            let _ = writeln!(
                cases,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
                esc(&r.id),
                esc(&format!("{} — {}", r.id, sc.name)),
                sc.duration_ms as f64 / 1000.0
            );
            let mine: Vec<_> = sc
                .findings
                .iter()
                .filter(|x| x.requirement == r.id)
                .collect();
            let failed: Vec<_> = mine
                .iter()
                .filter(|x| x.verdict == rules::Verdict::Fail)
                .collect();
            let accepted = results.baseline.as_ref().and_then(|b| b.accepted(&r.id));
            if r.verdict == Verdict::Waived {
                // Waived by the editor: never a pass, never a CI failure.
                s += 1;
                let _ = writeln!(
                    cases,
                    "      <skipped message=\"{}\"/>",
                    esc(&r.explanation)
                );
            } else if let (false, Some(reason)) = (failed.is_empty(), accepted) {
                // A failure the expected results accept: not a CI failure, still visible.
                s += 1;
                let _ = writeln!(
                    cases,
                    "      <skipped message=\"non conforme, attendu (référence) : {}\"/>",
                    esc(reason)
                );
            } else if !failed.is_empty() {
                f += 1;
                let first = &failed[0].detail;
                let mut body = String::new();
                for x in &failed {
                    body.push_str(&x.detail);
                    body.push('\n');
                    for line in &x.evidence {
                        body.push_str(line);
                        body.push('\n');
                    }
                }
                let _ = writeln!(
                    cases,
                    "      <failure message=\"{}\">{}</failure>",
                    esc(first.lines().next().unwrap_or("non conforme")),
                    esc(&body)
                );
            } else if sc.status == ScenarioStatus::HarnessError {
                e += 1;
                let _ = writeln!(
                    cases,
                    "      <error message=\"erreur du banc : {}\"/>",
                    esc(sc.reason.as_deref().unwrap_or(""))
                );
            } else if !mine.iter().any(|x| x.verdict == rules::Verdict::Pass) {
                s += 1;
                let why = mine
                    .first()
                    .map(|x| x.detail.as_str())
                    .or(sc.reason.as_deref())
                    .unwrap_or("non testé");
                let _ = writeln!(
                    cases,
                    "      <skipped message=\"non testé : {}\"/>",
                    esc(why)
                );
            }
            let out_lines: Vec<String> = mine
                .iter()
                .map(|x| format!("{} — {:?} : {}", x.step, x.verdict, x.detail))
                .chain(
                    sc.actions
                        .iter()
                        .map(|a| format!("action {} : {}", a.action, a.outcome)),
                )
                .collect();
            if !out_lines.is_empty() {
                let _ = writeln!(
                    cases,
                    "      <system-out>{}</system-out>",
                    esc(&out_lines.join("\n"))
                );
            }
            cases.push_str("    </testcase>\n");
        }
        if r.scenarios.is_empty() || matches!(r.verdict, Verdict::NotApplicable) {
            t += 1;
            s += 1;
            let _ = write!(
                cases,
                "    <testcase classname=\"{id}\" name=\"{id} — {title}\" time=\"0\">\n      <skipped message=\"{label} : {why}\"/>\n    </testcase>\n",
                id = esc(&r.id),
                title = esc(&r.title),
                label = esc(r.verdict.label()),
                why = esc(&r.explanation)
            );
        }
        tests += t;
        failures += f;
        skipped += s;
        errors += e;
        let _ = write!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{t}\" failures=\"{f}\" skipped=\"{s}\" errors=\"{e}\">\n{cases}  </testsuite>\n",
            esc(&format!("{} — {}", r.id, r.title))
        );
    }
    let _ = write!(
        out,
        "<testsuites name=\"Référentiel socle MSSanté #2 — {}\" tests=\"{tests}\" failures=\"{failures}\" skipped=\"{skipped}\" errors=\"{errors}\" time=\"{:.3}\">\n{suites}</testsuites>\n",
        esc(&results.sut),
        results.duration_ms as f64 / 1000.0
    );
    out
}
