//! The self-contained HTML page of a run: a summary, then one row per requirement with its
//! verdict, its scenarios, and the evidence a tester needs to see why.

use std::fmt::Write as _;

use super::{ATTACHMENTS, JOURNALS, MESSAGES, esc};
use crate::results::{RunResults, ScenarioStatus, StepStatus, Verdict};

const STYLE: &str = r#"
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d2330; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
.meta { color: #5a6275; margin-top: 0; }
.counts span { display: inline-block; margin: .2rem .6rem .2rem 0; padding: .2rem .6rem; border-radius: 1rem; font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
th, td { border-bottom: 1px solid #dde1ea; padding: .5rem; vertical-align: top; text-align: left; }
th { background: #f3f5f9; position: sticky; top: 0; }
td.id { white-space: nowrap; font-weight: 600; }
.v { display: inline-block; padding: .1rem .5rem; border-radius: .3rem; font-weight: 600; white-space: nowrap; }
.passed { background: #d9f2df; color: #14532d; }
.failed { background: #fde0e0; color: #7f1d1d; }
.attested { background: #e3eefc; color: #1e3a8a; }
.waived { background: #f3e8ff; color: #581c87; }
.not_tested { background: #fff3cd; color: #664d03; }
.not_applicable { background: #eceff4; color: #4b5563; }
.informational { background: #dbeafe; color: #1e3a8a; }
.harness_error { background: #ede0fd; color: #4c1d95; }
.zero { background: #f3f4f6; color: #6b7280; }
.finding { margin: .3rem 0; font-size: .85rem; }
.expl { font-size: .9rem; color: #3d4456; }
ul.sc { margin: 0; padding-left: 1.1rem; }
pre { white-space: pre-wrap; font-size: .8rem; background: #f7f8fb; padding: .5rem; border-radius: .3rem; margin: .3rem 0; }
details summary { cursor: pointer; color: #2f5fb3; }
.text { font-size: .85rem; color: #3d4456; }
.filters { margin: .5rem 0 1rem; font-size: .9rem; }
ol.steps { margin: .3rem 0; padding-left: 1.4rem; font-size: .82rem; }
ol.steps li.st-failed, ol.steps li.st-error { color: #7f1d1d; font-weight: 600; }
ol.steps li.st-skipped, ol.steps li.st-undefined { color: #6b7280; }
ol.steps .msg { display: block; font-weight: 400; white-space: pre-wrap; }
.views { margin-top: .4rem; font-size: .85rem; }
@media print { .filters { display: none; } details { display: block; } }
"#;

/// Filters by verdict, section and family; hidden rows stay in the printed page's source.
const FILTERS: &str = r#"<form class="filters" onchange="filtrer()">
Verdict <select id="f-verdict"><option value="">tous</option><option value="failed">non conformes</option><option value="passed">conformes</option><option value="attested">attestées</option><option value="waived">dérogées</option><option value="not_tested">non testées</option><option value="not_applicable">non applicables</option><option value="informational">informatives</option><option value="harness_error">erreurs du banc</option></select>
Section <select id="f-section"><option value="">toutes</option><option value="ECO.1.0">1.0 Protocoles</option><option value="ECO.1.1">1.1 Sécurité TLS</option><option value="ECO.1.2">1.2 Pro Santé Connect</option><option value="ECO.1.3">1.3 BAL applicatives</option><option value="ECO.2.1">2.1 Documents de santé</option><option value="ECO.2.2">2.2 Entêtes et conversations</option><option value="ECO.2.3">2.3 Accusés</option><option value="ECO.2.4">2.4 Entêtes X-MSS</option><option value="ECO.3.1">3.1 Interface</option><option value="ECO.3.2">3.2 Ergonomie</option><option value="ECO.4.1">4.1 Traces</option></select>
Famille <select id="f-family"><option value="">toutes</option><option value="PER_ORG">PER_ORG</option><option value="APP">APP</option></select>
</form>
<script>
function filtrer() {
  var v = document.getElementById('f-verdict').value, s = document.getElementById('f-section').value,
      f = document.getElementById('f-family').value;
  document.querySelectorAll('tbody tr').forEach(function (tr) {
    var ok = (!v || tr.dataset.verdict === v) && (!s || tr.dataset.section === s)
      && (!f || tr.dataset.families.split(', ').indexOf(f) >= 0);
    tr.style.display = ok ? '' : 'none';
  });
}
// A link can carry the filters: index.html?verdict=failed&section=ECO.2.2&famille=APP
document.addEventListener('DOMContentLoaded', function () {
  var q = new URLSearchParams(location.search);
  [['verdict', 'f-verdict'], ['section', 'f-section'], ['famille', 'f-family']].forEach(function (p) {
    var v = q.get(p[0]);
    if (v !== null) { document.getElementById(p[1]).value = v; }
  });
  filtrer();
});
</script>
"#;

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Passed => "passed",
        Verdict::Failed => "failed",
        Verdict::NotApplicable => "not_applicable",
        Verdict::NotTested => "not_tested",
        Verdict::Informational => "informational",
        Verdict::HarnessError => "harness_error",
        Verdict::Attested => "attested",
        Verdict::Waived => "waived",
    }
}

fn finding_class(v: rules::Verdict) -> &'static str {
    match v {
        rules::Verdict::Pass => "passed",
        rules::Verdict::Fail => "failed",
        rules::Verdict::NotApplicable => "not_applicable",
        rules::Verdict::NotTested => "not_tested",
    }
}

/// How the harness verifies a requirement, in French.
fn method_label(m: catalog::Method) -> &'static str {
    match m {
        catalog::Method::Automated => "automatique",
        catalog::Method::Driver => "automatique par le pilote",
        catalog::Method::Interactive => "interactive (testeur)",
        catalog::Method::Attestation => "attestation du testeur",
        catalog::Method::Informational => "observée (PEUT)",
        catalog::Method::Incomplete => "texte incomplet",
    }
}

fn step_label(s: StepStatus) -> Option<&'static str> {
    match s {
        StepStatus::Passed => None,
        StepStatus::Failed => Some("non conforme"),
        StepStatus::NotJudged => Some("non testé"),
        StepStatus::Error => Some("erreur du banc"),
        StepStatus::Undefined => Some("sans définition"),
        StepStatus::Skipped => Some("non jouée"),
    }
}

fn step_class(s: StepStatus) -> &'static str {
    match s {
        StepStatus::Passed => "st-passed",
        StepStatus::Failed => "st-failed",
        StepStatus::NotJudged => "st-skipped",
        StepStatus::Error => "st-error",
        StepStatus::Undefined => "st-undefined",
        StepStatus::Skipped => "st-skipped",
    }
}

fn finding_label(v: rules::Verdict) -> &'static str {
    match v {
        rules::Verdict::Pass => "conforme",
        rules::Verdict::Fail => "non conforme",
        rules::Verdict::NotApplicable => "non applicable",
        rules::Verdict::NotTested => "non testé",
    }
}

/// Renders the page.
pub fn render(results: &RunResults) -> String {
    let s = &results.summary;
    let families: Vec<&str> = results.families.iter().map(|f| f.tag()).collect();
    let mut out = String::new();
    let info = &results.run_info;
    // A count of zero is grey whatever its verdict: colour marks what is there.
    let count = |n: usize, class: &str, one: &str, many: &str| {
        format!(
            "<span class=\"{}\">{}</span>",
            if n == 0 { "zero" } else { class },
            crate::results::plural(n, one, many)
        )
    };
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n<title>Conformité MSSanté — {sut}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Conformité au Référentiel socle MSSanté #2 (v1.0)</h1>\n\
         <p class=\"meta\">Système testé : <strong>{sut}</strong>{nil} · pilote {driver} · familles {fam} · campagne du {date} · {dur:.1} s</p>\n\
         <p class=\"meta\">Harnais {ver}{commit} · racine de l'IGC Santé fictive (SHA-256) : <code>{root}</code></p>\n\
         <p class=\"counts\">{p}{f}{nt}{na}{i}{he}{at}{wa} — {sc}, {scf} en échec</p>\n",
        sut = esc(&results.sut),
        nil = if info.nil.is_empty() {
            String::new()
        } else {
            format!(" (X-MSS-NIL : {})", esc(&info.nil.join(", ")))
        },
        driver = esc(&info.driver),
        fam = esc(&families.join(", ")),
        date = esc(&crate::results::french_date(&results.started_at)),
        dur = results.duration_ms as f64 / 1000.0,
        ver = esc(&results.harness_version),
        commit = info
            .commit
            .as_ref()
            .map(|c| format!(" (commit {})", esc(c)))
            .unwrap_or_default(),
        root = esc(&info.root_sha256),
        p = count(s.passed, "passed", "conforme", "conformes"),
        f = count(s.failed, "failed", "non conforme", "non conformes"),
        nt = count(s.not_tested, "not_tested", "non testée", "non testées"),
        na = count(
            s.not_applicable,
            "not_applicable",
            "non applicable",
            "non applicables"
        ),
        i = count(
            s.informational,
            "informational",
            "informative",
            "informatives"
        ),
        he = count(
            s.harness_errors,
            "harness_error",
            "en erreur du banc",
            "en erreur du banc"
        ),
        at = count(s.attested, "attested", "attestée", "attestées"),
        wa = count(s.waived, "waived", "dérogée", "dérogées"),
        sc = crate::results::plural(s.scenarios, "scénario", "scénarios"),
        scf = s.scenarios_failed,
    );
    // Filters (a few lines of inline script: the page stays one offline file).
    out.push_str(FILTERS);
    for p in &results.problems {
        let _ = writeln!(
            out,
            "<p class=\"v failed\">Problème de la campagne : {}</p>",
            esc(p)
        );
    }
    out.push_str(
        "<table>\n<thead><tr><th>Exigence</th><th>Intitulé</th><th>Verdict</th><th>Scénarios</th><th>Preuves (journal de l'opérateur)</th></tr></thead>\n<tbody>\n",
    );
    for r in &results.requirements {
        let fams: Vec<&str> = r.families.iter().map(|f| f.tag()).collect();
        let section = r.id.splitn(4, '.').take(3).collect::<Vec<_>>().join(".");
        let _ = write!(
            out,
            "<tr id=\"{id}\" data-verdict=\"{class}\" data-section=\"{section}\" data-families=\"{fams}\">\n<td class=\"id\">{id}<br><span class=\"expl\">{level} · {fams}<br>méthode : {method}</span></td>\n\
             <td>{title}<details><summary>texte</summary><p class=\"text\">{text}</p></details></td>\n\
             <td><span class=\"v {class}\">{label}</span><div class=\"expl\">{expl}</div>{views}</td>\n<td><ul class=\"sc\">",
            id = esc(&r.id),
            section = esc(&section),
            level = match r.level {
                catalog::Level::Doit => "DOIT",
                catalog::Level::Peut => "PEUT",
            },
            method = method_label(r.method),
            fams = esc(&fams.join(", ")),
            title = esc(&r.title),
            text = esc(&r.text),
            class = verdict_class(r.verdict),
            label = r.verdict.label(),
            expl = esc(&r.explanation),
            views = r
                .conceptual
                .as_ref()
                .map(|c| format!(
                    "<div class=\"views\">Lecture stricte (le verdict) : <span class=\"v {}\">{}</span> · \
                     lecture conceptuelle : <span class=\"v {}\">{}</span><div class=\"expl\">{}</div></div>",
                    verdict_class(r.verdict),
                    r.verdict.label(),
                    verdict_class(c.verdict),
                    c.verdict.label(),
                    esc(&c.explanation)
                ))
                .unwrap_or_default(),
        );
        let mut evidence = String::new();
        for &i in &r.scenarios {
            let sc = &results.scenarios[i];
            let _ = write!(
                out,
                "<li>{} {} <span class=\"expl\">({}{} ms)</span></li>",
                sc.status.mark(),
                esc(&sc.name),
                sc.family
                    .map(|f| format!("{} · ", f.tag()))
                    .unwrap_or_default(),
                sc.duration_ms
            );
            let open = if sc.status == ScenarioStatus::Passed {
                ""
            } else {
                " open"
            };
            let _ = write!(
                evidence,
                "<details{open}><summary>{} — {}</summary>",
                esc(&sc.name),
                sc.status.label()
            );
            if let Some(reason) = &sc.reason {
                let _ = write!(evidence, "<p class=\"finding\">{}</p>", esc(reason));
            }
            if !sc.steps.is_empty() {
                evidence.push_str("<ol class=\"steps\">");
                for st in &sc.steps {
                    let _ = write!(
                        evidence,
                        "<li class=\"{}\">{}{}{}{}</li>",
                        step_class(st.status),
                        esc(&st.keyword),
                        esc(&st.text),
                        step_label(st.status)
                            .map(|l| format!(" [{l}]"))
                            .unwrap_or_default(),
                        st.message
                            .as_ref()
                            .map(|m| format!("<span class=\"msg\">{}</span>", esc(m)))
                            .unwrap_or_default()
                    );
                }
                evidence.push_str("</ol>");
            }
            for f in sc.findings.iter().filter(|f| f.requirement == r.id) {
                let _ = write!(
                    evidence,
                    "<p class=\"finding\"><span class=\"v {}\">{}</span> <em>{}</em><br>{}</p>",
                    finding_class(f.verdict),
                    finding_label(f.verdict),
                    esc(&f.step),
                    esc(&f.detail)
                );
                if let Some(c) = &f.conceptual {
                    let _ = write!(
                        evidence,
                        "<p class=\"finding\">Lecture conceptuelle : <span class=\"v {}\">{}</span> {}</p>",
                        finding_class(c.verdict),
                        finding_label(c.verdict),
                        esc(&c.detail)
                    );
                }
                if !f.evidence.is_empty() {
                    let _ = write!(evidence, "<pre>{}</pre>", esc(&f.evidence.join("\n")));
                }
            }
            if !sc.actions.is_empty() {
                let lines: Vec<String> = sc
                    .actions
                    .iter()
                    .map(|a| format!("{} : {}", a.action, a.outcome))
                    .collect();
                let _ = write!(
                    evidence,
                    "<p class=\"finding\">Actions demandées au système :</p><pre>{}</pre>",
                    esc(&lines.join("\n"))
                );
            }
            for a in &sc.attachments {
                let what = format!(
                    "preuve du testeur pour « {} » ({} octets, SHA-256 {})",
                    a.statement, a.bytes, a.sha256
                );
                match &a.file {
                    Some(file) => {
                        let _ = write!(
                            evidence,
                            "<p class=\"finding\"><a href=\"{ATTACHMENTS}/{}\">{}</a></p>",
                            esc(file),
                            esc(&what)
                        );
                    }
                    None => {
                        let _ = write!(
                            evidence,
                            "<p class=\"finding\">{} — fichier resté en {}</p>",
                            esc(&what),
                            esc(&a.source)
                        );
                    }
                }
            }
            for (n, m) in sc.messages.iter().enumerate() {
                let _ = write!(
                    evidence,
                    "<a href=\"{MESSAGES}/{m}\">message n°{} (.eml)</a> ",
                    n + 1,
                    m = esc(m)
                );
            }
            if let Some(j) = &sc.journal {
                let _ = write!(
                    evidence,
                    "<a href=\"{JOURNALS}/{j}\">journal complet</a>",
                    j = esc(j)
                );
            }
            evidence.push_str("</details>");
        }
        for f in results
            .run_findings
            .iter()
            .filter(|f| f.requirement == r.id)
        {
            let _ = write!(
                evidence,
                "<p class=\"finding\"><span class=\"v {}\">{}</span> campagne : {}</p>",
                finding_class(f.verdict),
                finding_label(f.verdict),
                esc(&f.detail)
            );
        }
        let _ = write!(out, "</ul></td>\n<td>{evidence}</td>\n</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    out
}
