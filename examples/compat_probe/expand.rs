//! Probe mode `expand`: runs `supervisor::config::expand::expand` on one case or a batch.
//!
//! Request, one case: `{"mode": "expand", "s": str, "name": str, "expansions": [[key, value], ...]}`
//! where each value is a JSON string or an integer within i64. The dict travels as a list of pairs
//! because its insertion order is observable (`%s` prints the whole dict) and JSON objects lose it.
//! Reply: `{"ok": str}` or `{"error": message, "kind": "UnknownName" | "BadFormat"}`.
//!
//! Batch: `{"mode": "expand", "cases": [case, ...]}` answers `{"results": [reply, ...]}`, so the
//! randomized suite pays for one pipe round trip per thousand cases instead of per case.

use serde_json::{Value, json};
use supervisor::config::expand::{ExpandError, ExpansionValue, Expansions, expand};

pub fn run(request: &Value) -> Value {
    match request.get("cases") {
        Some(Value::Array(cases)) => {
            let mut results = Vec::with_capacity(cases.len());
            for case in cases {
                match run_one(case) {
                    Ok(reply) => results.push(reply),
                    Err(e) => return json!({"probe_error": e}),
                }
            }
            json!({"results": results})
        }
        Some(_) => json!({"probe_error": "cases must be a list"}),
        None => run_one(request).unwrap_or_else(|e| json!({"probe_error": e})),
    }
}

fn run_one(case: &Value) -> Result<Value, String> {
    let s = case.get("s").and_then(Value::as_str).ok_or("s must be a string")?;
    let name = case.get("name").and_then(Value::as_str).ok_or("name must be a string")?;
    let pairs = case
        .get("expansions")
        .and_then(Value::as_array)
        .ok_or("expansions must be a list of [key, value] pairs")?;
    let mut expansions = Expansions::new();
    for pair in pairs {
        let (key, value) = match pair.as_array().map(Vec::as_slice) {
            Some([Value::String(k), v]) => (k, v),
            _ => return Err(format!("bad expansion pair {pair}")),
        };
        let value = match value {
            Value::String(v) => ExpansionValue::Str(v.clone()),
            v => ExpansionValue::Int(v.as_i64().ok_or_else(|| format!("bad value {v}"))?),
        };
        expansions.insert(key.clone(), value);
    }
    Ok(match expand(s, &expansions, name) {
        Ok(text) => json!({"ok": text}),
        Err(e) => {
            let kind = match e {
                ExpandError::UnknownName { .. } => "UnknownName",
                ExpandError::BadFormat { .. } => "BadFormat",
            };
            json!({"error": e.to_string(), "kind": kind})
        }
    })
}
