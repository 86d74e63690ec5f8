//! Probe mode `xmlrpc`: placeholder until its module lands.

use serde_json::{Value, json};

pub fn run(_request: &Value) -> Value {
    json!({"probe_error": "mode xmlrpc not implemented yet"})
}
