//! The two Cucumber formats CI tools read: the classic `cucumber.json` (one entry per feature,
//! its scenarios and their steps) and the Cucumber Messages stream `cucumber.ndjson` (the
//! feature sources, their Gherkin documents, pickles, test cases and the result of every step).
//!
//! Both are written from the run's results and the feature files the scenarios came from
//! (read again for the Gherkin documents: keywords, descriptions, tags). A step that judged
//! the system non-conformant is `failed` with the finding as its message; a step that could
//! not judge is `skipped`; a step the bench failed in is `failed` with « erreur du banc ».
//! Step definitions are identified by the text of the steps they matched: the stream names no
//! Rust function.

use std::collections::BTreeMap;
use std::path::Path;

use cucumber::gherkin;
use serde_json::{Value, json};

use crate::results::{RunResults, ScenarioResult, ScenarioStatus, StepRecord, StepStatus};

/// A feature file as the reports need it.
pub(crate) struct Source {
    /// The path the run was given, shown relative to the working folder when it is inside.
    uri: String,
    /// The file's text.
    data: String,
    feature: gherkin::Feature,
}

/// The feature files of the run's scenarios that can still be read, by the URI the scenarios
/// carry.
pub(crate) fn sources(results: &RunResults) -> BTreeMap<String, Source> {
    let mut out = BTreeMap::new();
    for s in &results.scenarios {
        let Some(uri) = &s.uri else { continue };
        if out.contains_key(uri) {
            continue;
        }
        let path = Path::new(uri);
        let (Ok(data), Ok(feature)) = (
            std::fs::read_to_string(path),
            gherkin::Feature::parse_path(path, gherkin::GherkinEnv::default()),
        ) else {
            continue;
        };
        out.insert(
            uri.clone(),
            Source {
                uri: relative(uri),
                data,
                feature,
            },
        );
    }
    out
}

fn relative(uri: &str) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| {
            Path::new(uri)
                .strip_prefix(&cwd)
                .ok()
                .map(|p| p.display().to_string())
        })
        .unwrap_or_else(|| uri.to_owned())
}

fn tag_name(t: &str) -> String {
    format!("@{}", t.trim_start_matches('@'))
}

/// The line a tag is written on: the closest line above `before` that carries it.
fn tag_line(data: &str, tag: &str, before: usize) -> usize {
    let name = tag_name(tag);
    let lines: Vec<&str> = data.lines().collect();
    (1..before.min(lines.len() + 1))
        .rev()
        .find(|&l| lines[l - 1].split_whitespace().any(|w| w == name.as_str()))
        .unwrap_or(before.saturating_sub(1).max(1))
}

fn slug(text: &str) -> String {
    text.to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
}

/// A scenario's steps; one that ran no Gherkin step (a recorded session) gets one step naming
/// the scenario, with its outcome.
fn steps_of(s: &ScenarioResult) -> Vec<StepRecord> {
    if !s.steps.is_empty() {
        return s.steps.clone();
    }
    let status = match s.status {
        ScenarioStatus::Passed => StepStatus::Passed,
        ScenarioStatus::Failed => StepStatus::Failed,
        ScenarioStatus::NotTested => StepStatus::NotJudged,
        ScenarioStatus::HarnessError => StepStatus::Error,
    };
    vec![StepRecord {
        keyword: "Alors ".into(),
        text: s.name.clone(),
        line: s.line,
        status,
        duration_us: s.duration_ms * 1000,
        definition: None,
        message: s.reason.clone(),
    }]
}

/// A check of the whole campaign reported in a scenario (no line of a feature file): a hook
/// after the scenario in both Cucumber formats.
fn is_campaign(step: &StepRecord) -> bool {
    step.line == 0 && step.keyword == crate::run::CAMPAIGN_KEYWORD
}

/// The id of the hook standing for the campaign's checks in the message stream.
const CAMPAIGN_HOOK: &str = "campagne";

fn message_of(step: &StepRecord) -> Option<String> {
    match step.status {
        StepStatus::Error => Some(format!(
            "erreur du banc (pas le système testé) : {}",
            step.message.as_deref().unwrap_or("")
        )),
        _ => step.message.clone(),
    }
}

fn json_status(s: StepStatus) -> &'static str {
    match s {
        StepStatus::Passed => "passed",
        StepStatus::Failed | StepStatus::Error => "failed",
        StepStatus::Undefined => "undefined",
        StepStatus::Skipped | StepStatus::NotJudged => "skipped",
    }
}

/// A step's `result` in cucumber.json (duration in nanoseconds).
fn json_result(st: &StepRecord) -> Value {
    let mut result = json!({
        "status": json_status(st.status),
        "duration": st.duration_us * 1000,
    });
    if let Some(m) = message_of(st) {
        result["error_message"] = m.into();
    }
    result
}

/// Renders `cucumber.json`.
pub fn render_json(results: &RunResults, sources: &BTreeMap<String, Source>) -> String {
    // Features in the order their first scenario comes.
    let mut order: Vec<Option<&String>> = Vec::new();
    for s in &results.scenarios {
        if !order.contains(&s.uri.as_ref()) {
            order.push(s.uri.as_ref());
        }
    }
    let mut features = Vec::new();
    for uri in order {
        let scenarios: Vec<&ScenarioResult> = results
            .scenarios
            .iter()
            .filter(|s| s.uri.as_ref() == uri)
            .collect();
        let source = uri.and_then(|u| sources.get(u));
        let name = scenarios
            .first()
            .map(|s| s.feature.clone())
            .unwrap_or_default();
        let feature_id = slug(&name);
        let elements: Vec<Value> = scenarios
            .iter()
            .map(|s| {
                let all = steps_of(s);
                let after: Vec<Value> = all
                    .iter()
                    .filter(|st| is_campaign(st))
                    .map(|st| json!({ "match": { "location": st.text }, "result": json_result(st) }))
                    .collect();
                let steps: Vec<Value> = all
                    .iter()
                    .filter(|st| !is_campaign(st))
                    .map(|st| {
                        let mut step = json!({
                            "keyword": st.keyword,
                            "name": st.text,
                            "line": st.line,
                            "result": json_result(st),
                        });
                        if st.status != StepStatus::Undefined {
                            // Where the step function is, as Cucumber's own reports say.
                            step["match"] = json!({
                                "location": st.definition.clone().unwrap_or_else(|| format!(
                                    "{}:{}",
                                    source.map_or("", |s| s.uri.as_str()),
                                    st.line
                                ))
                            });
                        }
                        step
                    })
                    .collect();
                let keyword = source
                    .and_then(|src| {
                        src.feature
                            .scenarios
                            .iter()
                            .chain(src.feature.rules.iter().flat_map(|r| r.scenarios.iter()))
                            .find(|sc| sc.position.line == s.line)
                            .map(|sc| sc.keyword.clone())
                    })
                    .unwrap_or_else(|| "Scénario".into());
                let mut element = json!({
                    "id": format!("{feature_id};{}", slug(&s.name)),
                    "keyword": keyword,
                    "name": s.name,
                    "description": "",
                    "line": s.line,
                    "type": "scenario",
                    "tags": s.tags.iter().map(|t| json!({
                        "name": tag_name(t),
                        "line": source.map_or(s.line.saturating_sub(1), |src| tag_line(&src.data, t, s.line)),
                    })).collect::<Vec<_>>(),
                    "steps": steps,
                });
                if !after.is_empty() {
                    element["after"] = after.into();
                }
                element
            })
            .collect();
        let (keyword, description, line, tags) = match source {
            Some(src) => (
                src.feature.keyword.clone(),
                src.feature.description.clone().unwrap_or_default(),
                src.feature.position.line,
                src.feature
                    .tags
                    .iter()
                    .map(|t| {
                        json!({
                            "name": tag_name(t),
                            "line": tag_line(&src.data, t, src.feature.position.line),
                        })
                    })
                    .collect::<Vec<_>>(),
            ),
            None => ("Fonctionnalité".to_owned(), String::new(), 1, Vec::new()),
        };
        features.push(json!({
            "uri": source.map_or_else(|| name.clone(), |s| s.uri.clone()),
            "id": feature_id,
            "keyword": keyword,
            "name": name,
            "description": description,
            "line": line,
            "tags": tags,
            "elements": elements,
        }));
    }
    serde_json::to_string_pretty(&Value::Array(features)).unwrap_or_else(|_| "[]".into())
}

/// Version of the Cucumber Messages protocol whose model the stream follows.
pub const MESSAGES_PROTOCOL: &str = "27.0.0";

fn timestamp(t: time::OffsetDateTime) -> Value {
    json!({ "seconds": t.unix_timestamp(), "nanos": t.nanosecond() })
}

fn duration_us(us: u64) -> Value {
    json!({ "seconds": us / 1_000_000, "nanos": (us % 1_000_000) * 1000 })
}

fn keyword_type(keyword: &str, ty: gherkin::StepType) -> &'static str {
    match keyword.trim() {
        "Et" | "Mais" | "*" | "And" | "But" => "Conjunction",
        _ => pickle_type(ty),
    }
}

fn pickle_type(ty: gherkin::StepType) -> &'static str {
    match ty {
        gherkin::StepType::Given => "Context",
        gherkin::StepType::When => "Action",
        gherkin::StepType::Then => "Outcome",
    }
}

/// The Cucumber Messages status: cucumber.json's, in capitals.
fn message_status(s: StepStatus) -> String {
    json_status(s).to_ascii_uppercase()
}

/// The identifier of the run in the stream.
const RUN_ID: &str = "run";

/// `text` as a regular expression matching exactly it.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\^$.|?*+()[]{}/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Issues the identifiers of one stream.
#[derive(Default)]
struct Ids(u64);

impl Ids {
    fn next(&mut self) -> String {
        self.0 += 1;
        self.0.to_string()
    }
}

/// What the Gherkin document of a feature assigned, for the pickles.
#[derive(Default)]
struct Ast {
    /// Step line → its id.
    steps: BTreeMap<usize, String>,
    /// Scenario line → its id and its tags' ids (tag name → id).
    scenarios: BTreeMap<usize, (String, Vec<(String, String)>)>,
    /// The feature's (and rules') tags: name → id.
    feature_tags: Vec<(String, String)>,
}

fn gherkin_steps(steps: &[gherkin::Step], ids: &mut Ids, ast: &mut Ast) -> Vec<Value> {
    steps
        .iter()
        .map(|st| {
            let id = ids.next();
            ast.steps.insert(st.position.line, id.clone());
            json!({
                "location": { "line": st.position.line, "column": st.position.col },
                "keyword": st.keyword,
                "keywordType": keyword_type(&st.keyword, st.ty),
                "text": st.value,
                "id": id,
            })
        })
        .collect()
}

fn gherkin_tags(
    tags: &[String],
    data: &str,
    before: usize,
    ids: &mut Ids,
) -> (Vec<Value>, Vec<(String, String)>) {
    let mut values = Vec::new();
    let mut named = Vec::new();
    for t in tags {
        let id = ids.next();
        values.push(json!({
            "location": { "line": tag_line(data, t, before), "column": 1 },
            "name": tag_name(t),
            "id": id,
        }));
        named.push((tag_name(t), id));
    }
    (values, named)
}

fn gherkin_scenario(sc: &gherkin::Scenario, data: &str, ids: &mut Ids, ast: &mut Ast) -> Value {
    let steps = gherkin_steps(&sc.steps, ids, ast);
    let (tags, named) = gherkin_tags(&sc.tags, data, sc.position.line, ids);
    let id = ids.next();
    ast.scenarios.insert(sc.position.line, (id.clone(), named));
    json!({ "scenario": {
        "location": { "line": sc.position.line, "column": sc.position.col },
        "tags": tags,
        "keyword": sc.keyword,
        "name": sc.name,
        "description": sc.description.clone().unwrap_or_default(),
        "steps": steps,
        "examples": [],
        "id": id,
    }})
}

fn gherkin_background(bg: &gherkin::Background, ids: &mut Ids, ast: &mut Ast) -> Value {
    let steps = gherkin_steps(&bg.steps, ids, ast);
    json!({ "background": {
        "location": { "line": bg.position.line, "column": bg.position.col },
        "keyword": bg.keyword,
        "name": bg.name,
        "description": bg.description.clone().unwrap_or_default(),
        "steps": steps,
        "id": ids.next(),
    }})
}

/// The Gherkin document of a feature, and what it assigned.
fn gherkin_document(src: &Source, ids: &mut Ids) -> (Value, Ast) {
    let mut ast = Ast::default();
    let f = &src.feature;
    let (feature_tags, named) = gherkin_tags(&f.tags, &src.data, f.position.line, ids);
    ast.feature_tags = named;
    let mut children = Vec::new();
    if let Some(bg) = &f.background {
        children.push(gherkin_background(bg, ids, &mut ast));
    }
    for sc in &f.scenarios {
        children.push(gherkin_scenario(sc, &src.data, ids, &mut ast));
    }
    for rule in &f.rules {
        let mut rule_children = Vec::new();
        if let Some(bg) = &rule.background {
            rule_children.push(gherkin_background(bg, ids, &mut ast));
        }
        for sc in &rule.scenarios {
            rule_children.push(gherkin_scenario(sc, &src.data, ids, &mut ast));
        }
        let (tags, named) = gherkin_tags(&rule.tags, &src.data, rule.position.line, ids);
        ast.feature_tags.extend(named);
        children.push(json!({ "rule": {
            "location": { "line": rule.position.line, "column": rule.position.col },
            "tags": tags,
            "keyword": rule.keyword,
            "name": rule.name,
            "description": rule.description.clone().unwrap_or_default(),
            "children": rule_children,
            "id": ids.next(),
        }}));
    }
    // Comment lines (the language header is not a comment).
    let comments: Vec<Value> = src
        .data
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim_start();
            t.starts_with('#')
                && !t
                    .trim_start_matches('#')
                    .trim_start()
                    .starts_with("language:")
        })
        .map(|(i, l)| json!({ "location": { "line": i + 1, "column": 1 }, "text": l }))
        .collect();
    let document = json!({ "gherkinDocument": {
        "uri": src.uri,
        "feature": {
            "location": { "line": f.position.line, "column": f.position.col },
            "tags": feature_tags,
            "language": "fr",
            "keyword": f.keyword,
            "name": f.name,
            "description": f.description.clone().unwrap_or_default(),
            "children": children,
        },
        "comments": comments,
    }});
    (document, ast)
}

/// Renders `cucumber.ndjson`: one envelope per line. Scenarios whose feature file can no
/// longer be read (and recorded sessions, which have none) are left out of it.
pub fn render_ndjson(results: &RunResults, sources: &BTreeMap<String, Source>) -> String {
    let started = time::OffsetDateTime::parse(
        &results.started_at,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let at_ms = |ms: u64| started + time::Duration::milliseconds(ms as i64);
    let mut ids = Ids::default();
    let mut lines: Vec<Value> = vec![json!({ "meta": {
        "protocolVersion": MESSAGES_PROTOCOL,
        "implementation": { "name": "mss-harness", "version": results.harness_version },
        "runtime": { "name": "rust" },
        "os": { "name": std::env::consts::OS },
        "cpu": { "name": std::env::consts::ARCH },
    }})];
    let mut asts: BTreeMap<&str, Ast> = BTreeMap::new();
    for (key, src) in sources {
        lines.push(json!({ "source": {
            "uri": src.uri,
            "data": src.data,
            "mediaType": "text/x.cucumber.gherkin+plain",
        }}));
        let (document, ast) = gherkin_document(src, &mut ids);
        lines.push(document);
        asts.insert(key.as_str(), ast);
    }
    // Pickles, step definitions (one per step text that matched one) and test cases.
    let mut definitions: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut hook_declared = false;
    let mut cases = Vec::new();
    let mut definition_lines = Vec::new();
    let mut case_lines = Vec::new();
    for s in &results.scenarios {
        let Some((src, ast)) = s
            .uri
            .as_deref()
            .and_then(|u| Some((sources.get(u)?, asts.get(u)?)))
        else {
            continue;
        };
        let Some((scenario_id, scenario_tags)) = ast.scenarios.get(&s.line) else {
            continue;
        };
        let pickle_id = ids.next();
        let mut pickle_steps = Vec::new();
        let mut test_steps = Vec::new();
        let mut step_ids = Vec::new();
        for st in &s.steps {
            if is_campaign(st) {
                if !hook_declared {
                    hook_declared = true;
                    definition_lines.push(json!({ "hook": {
                        "id": CAMPAIGN_HOOK,
                        "name": st.text,
                        "sourceReference": {},
                        "type": "AFTER_TEST_CASE",
                    }}));
                }
                let test_step = ids.next();
                test_steps.push(json!({ "id": test_step, "hookId": CAMPAIGN_HOOK }));
                step_ids.push((test_step, st));
                continue;
            }
            let Some(ast_id) = ast.steps.get(&st.line) else {
                continue;
            };
            let ty = src
                .feature
                .background
                .iter()
                .flat_map(|b| b.steps.iter())
                .chain(
                    src.feature
                        .scenarios
                        .iter()
                        .chain(src.feature.rules.iter().flat_map(|r| r.scenarios.iter()))
                        .flat_map(|sc| sc.steps.iter()),
                )
                .find(|g| g.position.line == st.line)
                .map(|g| g.ty)
                .unwrap_or(gherkin::StepType::Given);
            let pickle_step = ids.next();
            pickle_steps.push(json!({
                "astNodeIds": [ast_id],
                "id": pickle_step,
                "type": pickle_type(ty),
                "text": st.text,
            }));
            let definition = if st.status == StepStatus::Undefined {
                Vec::new()
            } else {
                // The harness's step functions match by regular expressions the stream cannot
                // carry: a definition is the function (its source reference) with the text it
                // matched, as an anchored, escaped regular expression.
                let key = (st.definition.clone().unwrap_or_default(), st.text.clone());
                let id = match definitions.get(&key) {
                    Some(id) => id.clone(),
                    None => {
                        let id = ids.next();
                        let mut reference = json!({});
                        if let Some((path, line)) = st
                            .definition
                            .as_deref()
                            .and_then(|d| d.rsplit_once(':'))
                            .and_then(|(p, l)| Some((p, l.parse::<u64>().ok()?)))
                        {
                            reference = json!({ "uri": path, "location": { "line": line } });
                        }
                        definitions.insert(key, id.clone());
                        definition_lines.push(json!({ "stepDefinition": {
                            "id": id,
                            "pattern": {
                                "source": format!("^{}$", regex_escape(&st.text)),
                                "type": "REGULAR_EXPRESSION",
                            },
                            "sourceReference": reference,
                        }}));
                        id
                    }
                };
                vec![id]
            };
            let test_step = ids.next();
            test_steps.push(json!({
                "id": test_step,
                "pickleStepId": pickle_step,
                "stepDefinitionIds": definition,
                "stepMatchArgumentsLists": if st.status == StepStatus::Undefined { json!([]) } else { json!([{ "stepMatchArguments": [] }]) },
            }));
            step_ids.push((test_step, st));
        }
        let tags: Vec<Value> = ast
            .feature_tags
            .iter()
            .chain(scenario_tags.iter())
            .map(|(name, id)| json!({ "name": name, "astNodeId": id }))
            .collect();
        case_lines.push(json!({ "pickle": {
            "id": pickle_id,
            "uri": src.uri,
            "name": s.name,
            "language": "fr",
            "steps": pickle_steps,
            "tags": tags,
            "astNodeIds": [scenario_id],
        }}));
        let case_id = ids.next();
        case_lines.push(json!({ "testCase": {
            "id": case_id,
            "pickleId": pickle_id,
            "testSteps": test_steps.clone(),
            "testRunStartedId": RUN_ID,
        }}));
        cases.push((case_id, s, step_ids));
    }
    lines.extend(definition_lines);
    lines.push(json!({ "testRunStarted": { "timestamp": timestamp(started), "id": RUN_ID } }));
    lines.extend(case_lines);
    // Scenarios run concurrently: each gets the first worker free when it starts, and the
    // events of all of them come in the order of their timestamps.
    let mut workers: Vec<u64> = Vec::new();
    let mut events: Vec<(time::OffsetDateTime, usize, Value)> = Vec::new();
    cases.sort_by_key(|(_, s, _)| s.start_ms);
    for (case_id, s, steps) in cases {
        let end = s.start_ms + s.duration_ms;
        let worker = match workers.iter().position(|&busy| busy <= s.start_ms) {
            Some(w) => {
                workers[w] = end;
                w
            }
            None => {
                workers.push(end);
                workers.len() - 1
            }
        };
        let mut push = |at: time::OffsetDateTime, value: Value| {
            let order = events.len();
            events.push((at, order, value));
        };
        let started_id = ids.next();
        let mut clock = at_ms(s.start_ms);
        push(
            clock,
            json!({ "testCaseStarted": {
                "attempt": 0,
                "id": started_id,
                "testCaseId": case_id,
                "timestamp": timestamp(clock),
                "workerId": worker.to_string(),
            }}),
        );
        for (step_id, st) in steps {
            push(
                clock,
                json!({ "testStepStarted": {
                    "testCaseStartedId": started_id,
                    "testStepId": step_id,
                    "timestamp": timestamp(clock),
                }}),
            );
            clock += time::Duration::microseconds(st.duration_us as i64);
            let mut result = json!({
                "duration": duration_us(st.duration_us),
                "status": message_status(st.status),
            });
            if let Some(m) = message_of(st) {
                result["message"] = m.into();
            }
            push(
                clock,
                json!({ "testStepFinished": {
                    "testCaseStartedId": started_id,
                    "testStepId": step_id,
                    "testStepResult": result,
                    "timestamp": timestamp(clock),
                }}),
            );
        }
        let finished = at_ms(end).max(clock);
        push(
            finished,
            json!({ "testCaseFinished": {
                "testCaseStartedId": started_id,
                "timestamp": timestamp(finished),
                "willBeRetried": false,
            }}),
        );
    }
    events.sort_by_key(|(at, order, _)| (*at, *order));
    let last = events
        .last()
        .map_or(started, |(at, _, _)| *at)
        .max(at_ms(results.duration_ms));
    lines.extend(events.into_iter().map(|(_, _, v)| v));
    lines.push(json!({ "testRunFinished": {
        "success": !results.failed(),
        "timestamp": timestamp(last),
        "testRunStartedId": RUN_ID,
    }}));
    let mut out = String::new();
    for line in lines {
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn step_texts_become_exact_regular_expressions() {
        assert_eq!(
            super::regex_escape("le format XDM/1.0/DDM+ (ni fichier)"),
            r"le format XDM\/1\.0\/DDM\+ \(ni fichier\)"
        );
    }
}
