//! Probe mode `xmlrpc`: runs `supervisor::rpc::xmlrpc` on bodies and values sent by
//! compat-tests/test_xmlrpc_codec.py.
//!
//! Requests (`op`):
//! - `parse_call` / `parse_response` with `body` (text) or `body_hex` (raw bytes) answer
//!   `{"ok": {"method", "params"}}`, `{"ok": {"value"}}`, `{"ok": {"fault": {"code", "text"}}}`
//!   or `{"refused": kind, "detail"}`;
//! - `response` (`value`), `fault` (`code`, `text`), `call` (`method`, `params`) answer
//!   `{"ok": body}` or `{"refused": kind}`;
//! - `batch` (`requests`) answers `{"replies": [...]}`, so thousands of cases cost one round trip.
//!
//! Values travel tagged so nothing is lost to JSON: `{"int": n}`, `{"bool": b}`, `{"str": s}`,
//! `{"double": "<16 hex digits of the IEEE bits>"}`, `{"datetime": s}`, `{"base64": "<hex>"}`,
//! `{"array": [..]}`, `{"struct": [[name, value], ..]}`, `{"nil": null}`.

use serde_json::{Value as Json, json};
use supervisor::rpc::xmlrpc::{self, EncodeError, RequestError, Response, ResponseError, Value};

pub fn run(request: &Json) -> Json {
    match answer(request) {
        Ok(reply) | Err(reply) => reply,
    }
}

fn answer(request: &Json) -> Result<Json, Json> {
    let op = request.get("op").and_then(Json::as_str).ok_or_else(|| probe_error("missing op"))?;
    Ok(match op {
        "batch" => {
            let requests = request
                .get("requests")
                .and_then(Json::as_array)
                .ok_or_else(|| probe_error("batch without requests"))?;
            json!({"replies": requests.iter().map(run).collect::<Vec<_>>()})
        }
        "parse_call" => match xmlrpc::parse_method_call(&body(request)?) {
            Ok(call) => json!({"ok": {
                "method": call.method,
                "params": call.params.iter().map(to_json).collect::<Vec<_>>(),
            }}),
            Err(RequestError::Unmarshallable(why)) => {
                json!({"refused": "unmarshallable", "detail": why})
            }
            Err(RequestError::NoMethodName) => json!({"refused": "no_method_name"}),
        },
        "parse_response" => match xmlrpc::parse_method_response(&body(request)?) {
            Ok(Response::Value(v)) => json!({"ok": {"value": to_json(&v)}}),
            Ok(Response::Fault { code, text }) => {
                json!({"ok": {"fault": {"code": code, "text": text}}})
            }
            Err(e) => {
                let kind = match &e {
                    ResponseError::Encoding(_) => "encoding",
                    ResponseError::Malformed(_) => "malformed",
                    ResponseError::Unsupported(_) => "unsupported",
                };
                json!({"refused": kind, "detail": e.to_string()})
            }
        },
        "response" => {
            let value = from_json(request.get("value").unwrap_or(&Json::Null))?;
            match xmlrpc::method_response(&value) {
                Ok(body) => json!({"ok": body}),
                Err(EncodeError::Nil) => json!({"refused": "nil"}),
            }
        }
        "fault" => {
            let code =
                request.get("code").and_then(Json::as_i64).ok_or_else(|| probe_error("code"))?;
            let text =
                request.get("text").and_then(Json::as_str).ok_or_else(|| probe_error("text"))?;
            json!({"ok": xmlrpc::fault_response(code, text)})
        }
        "call" => {
            let method = request
                .get("method")
                .and_then(Json::as_str)
                .ok_or_else(|| probe_error("method"))?;
            let params = request
                .get("params")
                .and_then(Json::as_array)
                .ok_or_else(|| probe_error("params"))?
                .iter()
                .map(from_json)
                .collect::<Result<Vec<_>, _>>()?;
            json!({"ok": xmlrpc::method_call(method, &params)})
        }
        other => return Err(probe_error(&format!("unknown xmlrpc op {other:?}"))),
    })
}

fn probe_error(why: &str) -> Json {
    json!({"probe_error": why})
}

fn body(request: &Json) -> Result<Vec<u8>, Json> {
    if let Some(text) = request.get("body").and_then(Json::as_str) {
        return Ok(text.as_bytes().to_vec());
    }
    let hex = request.get("body_hex").and_then(Json::as_str).ok_or_else(|| probe_error("body"))?;
    from_hex(hex)
}

fn from_hex(hex: &str) -> Result<Vec<u8>, Json> {
    if !hex.len().is_multiple_of(2) {
        return Err(probe_error("odd hex length"));
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| probe_error("bad hex")))
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn to_json(value: &Value) -> Json {
    match value {
        Value::Int(i) => json!({"int": i}),
        Value::Bool(b) => json!({"bool": b}),
        Value::Str(s) => json!({"str": s}),
        Value::Double(f) => json!({"double": format!("{:016x}", f.to_bits())}),
        Value::DateTime(s) => json!({"datetime": s}),
        Value::Base64(bytes) => json!({"base64": to_hex(bytes)}),
        Value::Array(items) => json!({"array": items.iter().map(to_json).collect::<Vec<_>>()}),
        Value::Struct(members) => json!({"struct": members
            .iter()
            .map(|(name, v)| json!([name, to_json(v)]))
            .collect::<Vec<_>>()}),
        Value::Nil => json!({"nil": null}),
        Value::Marshalled(xml) => json!({"marshalled": xml}),
    }
}

fn from_json(json: &Json) -> Result<Value, Json> {
    let bad = || probe_error(&format!("bad tagged value {json}"));
    let object = json.as_object().filter(|o| o.len() == 1).ok_or_else(bad)?;
    let Some((tag, inner)) = object.iter().next() else { return Err(bad()) };
    Ok(match tag.as_str() {
        "int" => Value::Int(inner.as_i64().ok_or_else(bad)?),
        "bool" => Value::Bool(inner.as_bool().ok_or_else(bad)?),
        "str" => Value::Str(inner.as_str().ok_or_else(bad)?.to_owned()),
        "double" => {
            let bits =
                u64::from_str_radix(inner.as_str().ok_or_else(bad)?, 16).map_err(|_| bad())?;
            Value::Double(f64::from_bits(bits))
        }
        "datetime" => Value::DateTime(inner.as_str().ok_or_else(bad)?.to_owned()),
        "base64" => Value::Base64(from_hex(inner.as_str().ok_or_else(bad)?)?),
        "array" => Value::Array(
            inner.as_array().ok_or_else(bad)?.iter().map(from_json).collect::<Result<_, _>>()?,
        ),
        "struct" => Value::Struct(
            inner
                .as_array()
                .ok_or_else(bad)?
                .iter()
                .map(|pair| {
                    let name = pair.get(0).and_then(Json::as_str).ok_or_else(bad)?;
                    Ok((name.to_owned(), from_json(pair.get(1).ok_or_else(bad)?)?))
                })
                .collect::<Result<_, Json>>()?,
        ),
        "nil" => Value::Nil,
        _ => return Err(bad()),
    })
}
