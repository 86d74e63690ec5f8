//! Probe mode `datatype`: one converter of `supervisor::config::datatypes` (or the glob) applied
//! to one value.
//!
//! Request: `{"mode": "datatype", "name": "<converter>", "value": <string, or int for
//! gid_for_uid>, "cwd": <optional directory to run in>}`.
//! Reply: `{"ok": <value as JSON>}` or `{"error": "<the ValueError text>"}`. Shapes: dicts are
//! `[[key, value], ...]` in order, tuples are arrays, `logfile_name` is `["none"]`, `["auto"]`,
//! `["syslog"]` or `["path", p]`, `auto_restart` is `"never"`, `"unexpected"` or `"always"`,
//! `logging_level` is the level number.

use serde_json::{Value, json};
use supervisor::config::datatypes::{self as dt, AutoRestart, DatatypeError, LogfileName};
use supervisor::config::glob;

fn reply<T: Into<Value>>(r: Result<T, DatatypeError>) -> Value {
    match r {
        Ok(v) => json!({"ok": v.into()}),
        Err(e) => json!({"error": e.to_string()}),
    }
}

fn convert(name: &str, value: &str) -> Option<Value> {
    Some(match name {
        "process_or_group_name" => reply(dt::process_or_group_name(value)),
        "integer" => reply(dt::integer(value)),
        "boolean" => reply(dt::boolean(value)),
        "list_of_strings" => json!({"ok": dt::list_of_strings(value)}),
        "list_of_exitcodes" => reply(dt::list_of_exitcodes(value)),
        "dict_of_key_value_pairs" => reply(
            dt::dict_of_key_value_pairs(value)
                .map(|pairs| pairs.into_iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>()),
        ),
        "logfile_name" => reply(dt::logfile_name(value).map(|l| match l {
            LogfileName::None => json!(["none"]),
            LogfileName::Auto => json!(["auto"]),
            LogfileName::Syslog => json!(["syslog"]),
            LogfileName::Path(p) => json!(["path", p]),
        })),
        "port_number" => reply(dt::port_number(value)),
        "inet_address" => reply(dt::inet_address(value).map(|(h, p)| json!([h, p]))),
        "colon_separated_user_group" => {
            reply(dt::colon_separated_user_group(value).map(|(u, g)| json!([u, g])))
        }
        "name_to_uid" => reply(dt::name_to_uid(value)),
        "name_to_gid" => reply(dt::name_to_gid(value)),
        "octal_type" => reply(dt::octal_type(value)),
        "expanduser" => reply(dt::checked_expanduser(value)),
        "existing_directory" => reply(dt::existing_directory(value)),
        "existing_dirpath" => reply(dt::existing_dirpath(value)),
        "normalize_path" => reply(dt::checked_normalize_path(value)),
        "logging_level" => reply(dt::logging_level(value).map(|l| l.number())),
        "byte_size" => reply(dt::byte_size(value)),
        "url" => reply(dt::url(value)),
        "signal_number" => reply(dt::signal_number(value)),
        "auto_restart" => reply(dt::auto_restart(value).map(|a| match a {
            AutoRestart::Never => "never",
            AutoRestart::Unexpected => "unexpected",
            AutoRestart::Always => "always",
        })),
        "profile_options" => {
            let (sort, callers) = dt::profile_options(value);
            json!({"ok": [sort, callers]})
        }
        "glob" => json!({"ok": glob::glob(value)}),
        "has_magic" => json!({"ok": glob::has_magic(value)}),
        _ => return None,
    })
}

pub fn run(request: &Value) -> Value {
    let name = request.get("name").and_then(Value::as_str).unwrap_or("");
    if name == "gid_for_uid" {
        let Some(uid) =
            request.get("value").and_then(Value::as_u64).and_then(|u| u32::try_from(u).ok())
        else {
            return json!({"probe_error": "gid_for_uid needs a u32 value"});
        };
        return json!({"ok": dt::gid_for_uid(uid)});
    }
    let Some(value) = request.get("value").and_then(Value::as_str) else {
        return json!({"probe_error": "datatype requests need a string value"});
    };
    // Relative paths resolve against the CWD; other modes share this process, so put it back.
    let previous = std::env::current_dir().ok();
    if let Some(cwd) = request.get("cwd").and_then(Value::as_str)
        && let Err(e) = std::env::set_current_dir(cwd)
    {
        return json!({"probe_error": format!("cannot chdir to {cwd}: {e}")});
    }
    let answer = convert(name, value)
        .unwrap_or_else(|| json!({"probe_error": format!("unknown datatype {name:?}")}));
    if request.get("cwd").is_some()
        && let Some(previous) = previous
        && let Err(e) = std::env::set_current_dir(&previous)
    {
        return json!({"probe_error": format!("cannot chdir back: {e}")});
    }
    answer
}
