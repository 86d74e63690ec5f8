//! The Rust side of the differential tests: reads one JSON request per line on stdin, answers one
//! JSON line on stdout, so pytest can compare thousands of cases against Python in one process.
//!
//! Each request is `{"mode": "...", ...}`; the mode picks a module below that owns its schema.

mod config;
mod datatypes;
mod expand;
mod ini;
mod logs;
mod xmlrpc;

use serde_json::{Value, json};
use std::io::{BufRead, Write};

fn answer(request: &Value) -> Value {
    match request.get("mode").and_then(Value::as_str) {
        Some("ini") => ini::run(request),
        Some("expand") => expand::run(request),
        Some("datatype") => datatypes::run(request),
        Some("config") => config::run(request),
        Some("ctl") => config::run_ctl(request),
        Some("xmlrpc") => xmlrpc::run(request),
        Some("logs") => logs::run(request),
        other => json!({"probe_error": format!("unknown mode {other:?}")}),
    }
}

fn main() {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let reply = match serde_json::from_str::<Value>(&line) {
            Ok(request) => answer(&request),
            Err(e) => json!({"probe_error": e.to_string()}),
        };
        if writeln!(stdout, "{reply}").and_then(|()| stdout.flush()).is_err() {
            break;
        }
    }
}
