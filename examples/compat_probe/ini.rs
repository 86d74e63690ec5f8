//! Probe mode `ini`: the INI reader's view of one or more files, for comparison with
//! `supervisor.options.UnhosedConfigParser`.
//!
//! Requests:
//! - `{"mode": "ini", "op": "parse", "files": [{"text": str, "source": str}, ...],
//!   "queries": [[section, option], ...], "here": str | null}`: reads the files in order into one
//!   parser, stopping at the first error (as `read` raising would). Answers
//!   `{"error": str | null, "state": DUMP, "gets": [str | null], "has": [bool],
//!   "expanded": DUMP | null}`, where `gets`/`has` answer `get`/`has_option` for each query and
//!   `expanded` is the state after `expand_here(here)`.
//!   DUMP is `{"sections": [name], "items": [[[k, v]]], "options": [[k]], "files": [str | null],
//!   "defaults": [[k, v]]}`, the per-section lists following `sections`.
//! - `{"mode": "ini", "op": "lower", "texts": [str]}`: answers `{"lower": [str]}` with
//!   `optionxform` of each text.

use serde_json::{Value, json};
use supervisor::config::ini::IniParser;

pub fn run(request: &Value) -> Value {
    match request.get("op").and_then(Value::as_str) {
        Some("parse") => parse(request),
        Some("lower") => lower(request),
        other => json!({"probe_error": format!("ini: unknown op {other:?}")}),
    }
}

fn strings(value: Option<&Value>) -> Vec<&str> {
    value
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn lower(request: &Value) -> Value {
    let lowered: Vec<String> =
        strings(request.get("texts")).into_iter().map(IniParser::optionxform).collect();
    json!({ "lower": lowered })
}

fn dump(parser: &IniParser) -> Value {
    let sections = parser.sections();
    let items: Vec<Value> = sections.iter().map(|s| json!(parser.items(s))).collect();
    let options: Vec<Value> = sections.iter().map(|s| json!(parser.options(s))).collect();
    let files: Vec<Value> = sections.iter().map(|s| json!(parser.section_file(s))).collect();
    json!({
        "sections": sections,
        "items": items,
        "options": options,
        "files": files,
        "defaults": parser.defaults(),
    })
}

fn parse(request: &Value) -> Value {
    let mut parser = IniParser::new();
    let mut error = None;
    let files = request.get("files").and_then(Value::as_array);
    for file in files.into_iter().flatten() {
        let text = file.get("text").and_then(Value::as_str).unwrap_or_default();
        let source = file.get("source").and_then(Value::as_str).unwrap_or_default();
        if let Err(e) = parser.read(text, source) {
            error = Some(e.to_string());
            break;
        }
    }
    let queries: Vec<(&str, &str)> = request
        .get("queries")
        .and_then(Value::as_array)
        .map(|qs| {
            qs.iter().filter_map(|q| Some((q.get(0)?.as_str()?, q.get(1)?.as_str()?))).collect()
        })
        .unwrap_or_default();
    let gets: Vec<Option<&str>> = queries.iter().map(|(s, o)| parser.get(s, o)).collect();
    let has: Vec<bool> = queries.iter().map(|(s, o)| parser.has_option(s, o)).collect();
    let state = dump(&parser);
    let expanded = request.get("here").and_then(Value::as_str).map(|here| {
        let mut expanded = parser.clone();
        expanded.expand_here(here);
        dump(&expanded)
    });
    json!({
        "error": error,
        "state": state,
        "gets": gets,
        "has": has,
        "expanded": expanded,
    })
}
