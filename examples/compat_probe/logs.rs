//! Probe mode `logs`: `supervisor::logs` (log file writer, readers, main-log format and logger)
//! driven by JSON so pytest can compare it with supervisor's loggers and options.
//!
//! Bytes travel as lowercase hex. Requests are `{"mode": "logs", "op": ...}` with:
//! - `"logfile"`: `path`, `maxbytes`, `backups`, `ops`: a list of `["write", hex]`,
//!   `["reopen"]`, `["remove"]` (remove_and_reopen) or `["unlink", suffix]` (delete
//!   `path + suffix` behind the writer's back, errors ignored). Reply `{"results": [null or
//!   error text per op]}`, or `{"open_error": text}` when the file cannot be opened.
//! - `"read_file"`: `path`, `cases`: `[[offset, length], ...]`. Reply `{"results": [{"ok":
//!   hex} or {"error": "BAD_ARGUMENTS"|"FAILED"}, ...]}`.
//! - `"tail_file"`: `path`, `cases` as above. Reply `{"results": [[hex, offset, overflow], ...]}`.
//! - `"format_line"`: `cases`: `[[level number, message, epoch], ...]`, the epoch a number or a
//!   string holding Python's `repr` of the float (exact). Reply
//!   `{"results": [line, ...]}` (in the probe's own TZ).
//! - `"decode"`: `cases`: `[hex, ...]`. Reply `{"results": [text, ...]}`.
//! - `"syslog_lines"`: `cases`: `[message, ...]`. Reply `{"results": [[line, ...], ...]}`.
//! - `"mainlog"`: `level` (number), `files`: `[[path, maxbytes, backups], ...]`, `ops`: a list
//!   of `["log", level, message]`, `["reopen"]`, `["clear"]`, `["set_level", level]`,
//!   `["logfile"]`. Reply `{"results": [...]}`: null for log/reopen/set_level, `"ok"` or the
//!   fault name for clear, the path or null for logfile.

use serde_json::{Value, json};
use supervisor::config::datatypes::LogLevel;
use supervisor::logs::files::{LogFile, decode_for_rpc, read_file, tail_file};
use supervisor::logs::mainlog::{Logger, format_line, syslog_lines};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) {
        return Err(format!("odd hex length in {text:?}"));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|e| e.to_string()))
        .collect()
}

fn level(v: &Value) -> Result<LogLevel, String> {
    let n = v.as_i64().ok_or("level must be a number")?;
    LogLevel::from_number(n).ok_or_else(|| format!("no level {n}"))
}

fn str_field<'a>(r: &'a Value, key: &str) -> Result<&'a str, String> {
    r.get(key).and_then(Value::as_str).ok_or_else(|| format!("missing string {key}"))
}

fn int_field(r: &Value, key: &str) -> Result<i64, String> {
    r.get(key).and_then(Value::as_i64).ok_or_else(|| format!("missing integer {key}"))
}

fn list<'a>(r: &'a Value, key: &str) -> Result<&'a Vec<Value>, String> {
    r.get(key).and_then(Value::as_array).ok_or_else(|| format!("missing list {key}"))
}

fn pair(case: &Value) -> Result<(i64, i64), String> {
    match case.as_array().map(Vec::as_slice) {
        Some([a, b]) => Ok((a.as_i64().ok_or("bad offset")?, b.as_i64().ok_or("bad length")?)),
        _ => Err(format!("bad case {case}")),
    }
}

fn logfile(r: &Value) -> Result<Value, String> {
    let path = str_field(r, "path")?;
    let mut file = match LogFile::open(path, int_field(r, "maxbytes")?, int_field(r, "backups")?) {
        Ok(f) => f,
        Err(e) => return Ok(json!({"open_error": e.to_string()})),
    };
    let mut results = Vec::new();
    for op in list(r, "ops")? {
        let op = op.as_array().ok_or("op must be a list")?;
        let outcome = match (op.first().and_then(Value::as_str), op.get(1)) {
            (Some("write"), Some(data)) => file
                .write(&unhex(data.as_str().ok_or("bad hex")?)?)
                .map_err(|dropped| dropped.error),
            (Some("reopen"), _) => file.reopen(),
            (Some("remove"), _) => file.remove_and_reopen(),
            (Some("unlink"), Some(suffix)) => {
                let _ = std::fs::remove_file(format!("{path}{}", suffix.as_str().unwrap_or("")));
                Ok(())
            }
            _ => return Err(format!("bad op {op:?}")),
        };
        results.push(outcome.err().map(|e| e.to_string()));
    }
    Ok(json!({"results": results}))
}

fn read_cases(r: &Value) -> Result<Value, String> {
    let path = str_field(r, "path")?;
    let results = list(r, "cases")?
        .iter()
        .map(|c| {
            let (offset, length) = pair(c)?;
            Ok(match read_file(path, offset, length) {
                Ok(data) => json!({"ok": hex(&data)}),
                Err(e) => json!({"error": e.to_string()}),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(json!({"results": results}))
}

fn tail_cases(r: &Value) -> Result<Value, String> {
    let path = str_field(r, "path")?;
    let results = list(r, "cases")?
        .iter()
        .map(|c| {
            let (offset, length) = pair(c)?;
            let (data, offset, overflow) = tail_file(path, offset, length);
            Ok(json!([hex(&data), offset, overflow]))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(json!({"results": results}))
}

/// Epoch seconds as a number or as Python's `repr` of the float: serde_json's default float
/// parsing can be one ulp off, which moves a `.9999999` across a second.
fn epoch(v: &Value) -> Result<f64, String> {
    match v {
        Value::String(s) => s.parse().map_err(|e| format!("bad time {s:?}: {e}")),
        other => other.as_f64().ok_or_else(|| format!("bad time {other}")),
    }
}

fn format_cases(r: &Value) -> Result<Value, String> {
    let results = list(r, "cases")?
        .iter()
        .map(|c| match c.as_array().map(Vec::as_slice) {
            Some([l, m, t]) => {
                Ok(format_line(level(l)?, m.as_str().ok_or("bad message")?, epoch(t)?))
            }
            _ => Err(format!("bad case {c}")),
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(json!({"results": results}))
}

fn mainlog(r: &Value) -> Result<Value, String> {
    let logger = Logger::new(level(r.get("level").ok_or("missing level")?)?);
    for f in list(r, "files")? {
        match f.as_array().map(Vec::as_slice) {
            Some([p, m, b]) => logger
                .add_file(
                    p.as_str().ok_or("bad path")?,
                    m.as_i64().ok_or("bad maxbytes")?,
                    b.as_i64().ok_or("bad backups")?,
                )
                .map_err(|e| e.to_string())?,
            _ => return Err(format!("bad file {f}")),
        }
    }
    let mut results = Vec::new();
    for op in list(r, "ops")? {
        let op = op.as_array().ok_or("op must be a list")?;
        results.push(match (op.first().and_then(Value::as_str), op.get(1), op.get(2)) {
            (Some("log"), Some(l), Some(m)) => {
                logger.log(level(l)?, m.as_str().ok_or("bad message")?);
                Value::Null
            }
            (Some("reopen"), _, _) => {
                logger.reopen();
                Value::Null
            }
            (Some("clear"), _, _) => match logger.clear() {
                Ok(()) => json!("ok"),
                Err(e) => json!(e.to_string()),
            },
            (Some("set_level"), Some(l), _) => {
                logger.set_level(level(l)?);
                Value::Null
            }
            (Some("logfile"), _, _) => json!(logger.logfile()),
            _ => return Err(format!("bad op {op:?}")),
        });
    }
    logger.close();
    Ok(json!({"results": results}))
}

fn dispatch(r: &Value) -> Result<Value, String> {
    match r.get("op").and_then(Value::as_str) {
        Some("logfile") => logfile(r),
        Some("read_file") => read_cases(r),
        Some("tail_file") => tail_cases(r),
        Some("format_line") => format_cases(r),
        Some("mainlog") => mainlog(r),
        Some("decode") => {
            let results = list(r, "cases")?
                .iter()
                .map(|c| Ok(decode_for_rpc(&unhex(c.as_str().ok_or("bad hex")?)?)))
                .collect::<Result<Vec<_>, String>>()?;
            Ok(json!({"results": results}))
        }
        Some("syslog_lines") => {
            let results = list(r, "cases")?
                .iter()
                .map(|c| Ok(syslog_lines(c.as_str().ok_or("bad message")?).collect::<Vec<_>>()))
                .collect::<Result<Vec<_>, String>>()?;
            Ok(json!({"results": results}))
        }
        other => Err(format!("unknown logs op {other:?}")),
    }
}

pub fn run(request: &Value) -> Value {
    dispatch(request).unwrap_or_else(|e| json!({"probe_error": e}))
}
