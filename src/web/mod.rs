//! The web interface (supervisor's `web.py` views and `ui/` files): `index.html` with its
//! `action=` links and `301` redirects carrying `?message=...`, `tail.html`, and the static
//! assets the pages use, all embedded in the binary.
//!
//! Actions go through the same XML-RPC methods `web.py` calls (through [`WebRpc`]), so their
//! faults and waits are the API's. The redirect, its `Location` and the message texts are
//! supervisor's, byte for byte; the pages themselves are ours ([`pages`]), keeping
//! supervisor's links and classes, and `scripts/supervisor.js` makes them live.

pub mod forms;
pub mod pages;

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use crate::http::{Body, BoxFuture, full_body};
use crate::rpc::faults::{Fault, FaultCode};
use crate::rpc::xmlrpc::Value;

use self::forms::quote;
use self::pages::{ProcessRow, StatusPage, TailPage};

/// The version the pages show (`supervisor.options.VERSION`).
const VERSION: &str = "4.3.0";

/// The XML-RPC calls the views make; the daemon answers them as it answers `/RPC2`.
pub trait WebRpc: Send + Sync + 'static {
    /// One call, with `wait=True` semantics where the method has them.
    fn call(&self, method: &str, params: Vec<Value>) -> BoxFuture<Result<Value, Fault>>;
}

/// One request for the web UI, as the HTTP layer hands it over.
pub struct WebRequest {
    pub method: String,
    /// The request URI, its path already percent-decoded as medusa does.
    pub uri: String,
    /// The first `Host` header.
    pub host: Option<String>,
    /// The `If-Modified-Since` header, for the static files.
    pub if_modified_since: Option<String>,
    /// `http://<server_name>:<port>` (or the unix socket's `http://<unix domain socket>:path`),
    /// what the redirect names when the request has no `Host`.
    pub server_url: String,
    pub body: Bytes,
}

/// A transparent 1x1 GIF: supervisor's page images (logo, state icons, rule) still answer
/// 200 at their paths, though our page draws with CSS and needs none of them.
const BLANK_GIF: &[u8] = include_bytes!("assets/blank.gif");

/// The static files, ours, at the paths supervisor's `ui/` directory serves (plus our script).
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("stylesheets/supervisor.css", "text/css", include_bytes!("assets/supervisor.css")),
    ("scripts/supervisor.js", "application/javascript", include_bytes!("assets/supervisor.js")),
    ("images/icon.png", "image/png", include_bytes!("assets/icon.png")),
    ("images/supervisor.gif", "image/gif", BLANK_GIF),
    ("images/rule.gif", "image/gif", BLANK_GIF),
    ("images/state0.gif", "image/gif", BLANK_GIF),
    ("images/state1.gif", "image/gif", BLANK_GIF),
    ("images/state2.gif", "image/gif", BLANK_GIF),
    ("images/state3.gif", "image/gif", BLANK_GIF),
];

/// The web UI's answer to `request`, or `None` to leave it to supervisor's fallbacks (`ok.html`,
/// 400 for other methods, 404).
pub fn respond(
    rpc: Arc<dyn WebRpc>,
    request: WebRequest,
) -> Option<BoxFuture<http::Response<Body>>> {
    let (path, query) = split_uri(&request.uri);
    let path = match path.trim_start_matches('/') {
        "" => "index.html",
        p => p,
    };
    let view = matches!(request.method.as_str(), "GET" | "POST");
    if view && (path == "index.html" || path == "tail.html") {
        let body = String::from_utf8_lossy(&request.body);
        let form = forms::form(query, &body);
        let server_url = server_url(request.host.as_deref(), &request.server_url);
        let tail = path == "tail.html";
        return Some(Box::pin(async move {
            if tail {
                tail_view(&*rpc, &form).await
            } else {
                status_view(&*rpc, &form, &server_url).await
            }
        }));
    }
    if matches!(request.method.as_str(), "GET" | "HEAD") {
        let response = asset(&request, path)?;
        return Some(Box::pin(async move { response }));
    }
    None
}

/// When the embedded files were first served: they cannot change while the daemon runs, so
/// that is as good a modification time as a browser needs.
fn assets_mtime() -> jiff::Timestamp {
    static STARTED: std::sync::OnceLock<jiff::Timestamp> = std::sync::OnceLock::new();
    *STARTED.get_or_init(|| {
        // Whole seconds, as HTTP dates carry them.
        jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    })
}

/// medusa's `default_handler` over the embedded files: 200 with `Last-Modified`, 304 when
/// `If-Modified-Since` is not older (and its `; length=` matches), and a 301 to the slashed
/// path for a directory named without its slash.
fn asset(request: &WebRequest, path: &str) -> Option<http::Response<Body>> {
    let Some((_, content_type, data)) = ASSETS.iter().find(|(p, _, _)| *p == path) else {
        if ["images", "stylesheets", "scripts"].contains(&path) {
            // medusa names its own server here (no port), not the Host header.
            let name = request.server_url.trim_start_matches("http://");
            let name = name.rsplit_once(':').map_or(name, |(host, _)| host);
            return Some(error_page(301, Some(&format!("http://{name}/{path}/")), false));
        }
        return None;
    };
    let mtime = assets_mtime();
    let fresh = request.if_modified_since.as_deref().and_then(not_modified_since).is_some_and(
        |(since, length)| {
            length.is_none_or(|n| n == data.len() as u64) && mtime.as_second() <= since
        },
    );
    if fresh {
        return http::Response::builder().status(304).body(crate::http::empty_body()).ok();
    }
    http::Response::builder()
        .header("Last-Modified", crate::http::http_date(mtime))
        .header("Content-Length", data.len().to_string())
        .header("Content-Type", *content_type)
        .body(if request.method == "HEAD" {
            crate::http::empty_body()
        } else {
            full_body(Bytes::from_static(data))
        })
        .ok()
}

/// An `If-Modified-Since` value as medusa reads it: an RFC 1123 date (any case), optionally
/// followed by `; length=N`; the date as seconds. RFC 850 dates, which medusa also takes, are
/// not read (no browser sends them): they count as no header, as any date medusa cannot read.
fn not_modified_since(value: &str) -> Option<(i64, Option<u64>)> {
    let (date, length) = match value.split_once(';') {
        Some((date, rest)) => {
            let n = rest.strip_prefix(" length=")?;
            (date, Some(n.parse::<u64>().ok()?))
        }
        None => (value, None),
    };
    let date = date.to_ascii_lowercase();
    let mut words = date.split([' ', ',']).filter(|w| !w.is_empty());
    let (_day, dd, mon, yyyy, hms, gmt) =
        (words.next()?, words.next()?, words.next()?, words.next()?, words.next()?, words.next()?);
    if gmt != "gmt" || words.next().is_some() {
        return None;
    }
    const MONTHS: [&str; 12] =
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let month = MONTHS.iter().position(|m| *m == mon)? + 1;
    let mut t = hms.split(':').map(|p| p.parse::<i8>().ok());
    let (h, m, s) = (t.next()??, t.next()??, t.next()??);
    let civil = jiff::civil::date(yyyy.parse().ok()?, i8::try_from(month).ok()?, dd.parse().ok()?);
    let at = civil.to_datetime(jiff::civil::time(h, m, s, 0));
    Some((at.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok()?.timestamp().as_second(), length))
}

/// medusa's `split_uri`: the path ends at the first `;`, `?` or `#`; the query is what follows
/// `?`, up to a `#`.
fn split_uri(uri: &str) -> (&str, &str) {
    let path_end = uri.find([';', '?', '#']).unwrap_or(uri.len());
    let query = uri.find('?').map_or("", |q| {
        let rest = &uri[q + 1..];
        &rest[..rest.find('#').unwrap_or(rest.len())]
    });
    (&uri[..path_end], query)
}

/// `deferring_http_request.get_server_url`: from the `Host` header when there is one (its
/// port dropped when it is 80), else the server's own name and port.
pub fn server_url(host: Option<&str>, fallback: &str) -> String {
    let url = match host.map(str::trim).filter(|h| !h.is_empty()) {
        Some(host) => {
            let (name, port) = match host.rsplit_once(':') {
                Some((name, port))
                    if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    (name, Some(port))
                }
                _ => (host, None),
            };
            match port {
                Some(p) if p != "80" => format!("http://{name}:{p}"),
                _ => format!("http://{name}"),
            }
        }
        None => fallback.to_string(),
    };
    url.strip_suffix('/').map(str::to_string).unwrap_or(url)
}

/// `time.ctime()`: local time, the day padded with a space.
fn ctime() -> String {
    jiff::ZonedDateTime::now().strftime("%a %b %e %H:%M:%S %Y").to_string()
}

/// `'unexpected rpc fault [%d] %s' % (code, text)`.
fn unexpected(fault: &Fault) -> String {
    format!("unexpected rpc fault [{}] {}", fault.code.code(), fault.text)
}

/// Why an `index.html` action cannot run: `web.py` raises `ValueError(action)` (HTTP 500);
/// we answer 400, since the request is at fault.
struct BadAction;

/// `StatusView.make_callback` run to its end: the message the redirect carries.
async fn act(
    rpc: &dyn WebRpc,
    action: &str,
    namespec: Option<&str>,
    group: Option<&str>,
) -> Result<String, BadAction> {
    match action {
        "refresh" => return Ok(format!("Page refreshed at {}", ctime())),
        "stopall" => {
            return Ok(match rpc.call("supervisor.stopAllProcesses", vec![]).await {
                Ok(_) => format!("All stopped at {}", ctime()),
                // Python lets this fault escape (HTTP 500); we say what it was.
                Err(fault) => unexpected(&fault),
            });
        }
        "restartall" => {
            let calls = multicall(&[
                ("supervisor.stopAllProcesses", None),
                ("supervisor.startAllProcesses", None),
            ]);
            let _ = rpc.call("system.multicall", vec![calls]).await;
            return Ok(format!("All restarted at {}", ctime()));
        }
        // Ours: whole groups, which supervisor's page cannot act on.
        "startgroup" | "stopgroup" | "restartgroup" => {
            let group = group.ok_or(BadAction)?;
            return Ok(group_action(rpc, action, group).await);
        }
        _ => {}
    }
    let namespec = namespec.ok_or(BadAction)?;
    if !process_exists(rpc, namespec).await {
        return Ok(format!("No such process named {namespec}"));
    }
    let name = || vec![Value::Str(namespec.to_string())];
    Ok(match action {
        "start" => match rpc.call("supervisor.startProcess", name()).await {
            Ok(_) => format!("Process {namespec} started"),
            Err(fault) => {
                let why = match fault.code {
                    FaultCode::NoFile => "no such file".to_string(),
                    FaultCode::NotExecutable => "file not executable".to_string(),
                    FaultCode::AlreadyStarted => "already started".to_string(),
                    FaultCode::SpawnError => "spawn error".to_string(),
                    FaultCode::AbnormalTermination => "abnormal termination".to_string(),
                    _ => unexpected(&fault),
                };
                format!("ERROR: Process {namespec}: {why}")
            }
        },
        "stop" => match rpc.call("supervisor.stopProcess", name()).await {
            Ok(_) => format!("Process {namespec} stopped"),
            Err(fault) => unexpected(&fault),
        },
        "restart" => {
            let calls = multicall(&[
                ("supervisor.stopProcess", Some(namespec)),
                ("supervisor.startProcess", Some(namespec)),
            ]);
            let _ = rpc.call("system.multicall", vec![calls]).await;
            format!("Process {namespec} restarted")
        }
        "clearlog" => match rpc.call("supervisor.clearProcessLogs", name()).await {
            Ok(_) => format!("Log for {namespec} cleared"),
            Err(fault) => unexpected(&fault),
        },
        _ => return Err(BadAction),
    })
}

/// The `calls` argument of `system.multicall`.
fn multicall(calls: &[(&str, Option<&str>)]) -> Value {
    Value::Array(
        calls
            .iter()
            .map(|(method, arg)| {
                let mut call = vec![("methodName".to_string(), Value::Str(method.to_string()))];
                if let Some(arg) = arg {
                    call.push(("params".into(), Value::Array(vec![Value::Str(arg.to_string())])));
                }
                Value::Struct(call)
            })
            .collect(),
    )
}

/// Whether `namespec` names one process, as `make_callback` looks it up (`split_namespec`:
/// `g:*` and `g:` name no process, a bare name is a group of its own name), which is what
/// `getProcessInfo`'s `BAD_NAME` says. Any other fault (shutting down) leaves the action to
/// fail with it, as it fails in Python.
async fn process_exists(rpc: &dyn WebRpc, namespec: &str) -> bool {
    let info = rpc.call("supervisor.getProcessInfo", vec![Value::Str(namespec.to_string())]).await;
    !matches!(info, Err(fault) if fault.code == FaultCode::BadName)
}

/// Ours: a whole group's start, stop or restart (stop, then start), with the processes that
/// failed named in the message.
async fn group_action(rpc: &dyn WebRpc, action: &str, group: &str) -> String {
    let g = || vec![Value::Str(group.to_string())];
    let (result, done) = match action {
        "startgroup" => (rpc.call("supervisor.startProcessGroup", g()).await, "started"),
        "stopgroup" => (rpc.call("supervisor.stopProcessGroup", g()).await, "stopped"),
        _ => {
            // What the stop says does not matter (nothing may have been running); a group
            // that does not exist is reported by the start.
            let _ = rpc.call("supervisor.stopProcessGroup", g()).await;
            (rpc.call("supervisor.startProcessGroup", g()).await, "restarted")
        }
    };
    let results = match result {
        Ok(Value::Array(results)) => results,
        Ok(_) => Vec::new(),
        Err(fault) if fault.code == FaultCode::BadName => {
            return format!("No such group named {group}");
        }
        Err(fault) => return format!("ERROR: Group {group}: {}", unexpected(&fault)),
    };
    let text =
        |r: &Value, k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let failed: Vec<String> = results
        .iter()
        .filter(|r| r.get("status").and_then(Value::as_i64) != Some(FaultCode::Success.code()))
        .map(|r| {
            let (g, n) = (text(r, "group"), text(r, "name"));
            let spec = if g == n { n } else { format!("{g}:{n}") };
            format!("{spec}: {}", text(r, "description"))
        })
        .collect();
    if failed.is_empty() {
        format!("Group {group} {done}")
    } else {
        format!("ERROR: Group {group}: {}", failed.join("; "))
    }
}

/// Every process, in `getAllProcessInfo`'s order: by group name, then process name, which is
/// the (group, name) order `web.py` sorts its rows in.
async fn rows(rpc: &dyn WebRpc) -> Result<Vec<ProcessRow>, Fault> {
    let all = rpc.call("supervisor.getAllProcessInfo", vec![]).await?;
    let Value::Array(infos) = all else { return Ok(Vec::new()) };
    let text =
        |info: &Value, k: &str| info.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    Ok(infos
        .iter()
        .map(|info| ProcessRow {
            group: text(info, "group"),
            name: text(info, "name"),
            statename: text(info, "statename"),
            description: text(info, "description"),
        })
        .collect())
}

/// The headers of every page `web.py` renders.
fn page(status: u16, body: String) -> http::Response<Body> {
    let builder = http::Response::builder()
        .status(status)
        .header("Content-Type", "text/html;charset=utf-8")
        .header("Pragma", "no-cache")
        .header("Cache-Control", "no-cache")
        .header("Expires", "Thu, 01 Jan 1970 00:00:00 GMT");
    builder.body(full_body(body)).unwrap_or_else(|_| http::Response::new(full_body("")))
}

/// medusa's error page for `status`, with a `Location`, and with the no-cache headers a view's
/// `sendresponse` copies before `error()` when `from_view`.
fn error_page(status: u16, location: Option<&str>, from_view: bool) -> http::Response<Body> {
    let body = crate::http::error_page(status);
    let mut builder = http::Response::builder().status(status);
    if let Some(location) = location {
        builder = builder.header("Location", location);
    }
    builder = builder.header("Content-Type", "text/html");
    if from_view {
        builder = builder
            .header("Pragma", "no-cache")
            .header("Cache-Control", "no-cache")
            .header("Expires", "Thu, 01 Jan 1970 00:00:00 GMT");
    }
    builder.body(full_body(body)).unwrap_or_else(|_| http::Response::new(full_body("")))
}

fn field<'f>(form: &'f HashMap<String, String>, name: &str) -> Option<&'f str> {
    form.get(name).map(String::as_str)
}

async fn status_view(
    rpc: &dyn WebRpc,
    form: &HashMap<String, String>,
    server_url: &str,
) -> http::Response<Body> {
    if let Some(action) = field(form, "action") {
        return match act(rpc, action, field(form, "processname"), field(form, "groupname")).await {
            Ok(message) => {
                let location = format!("{server_url}/?message={}", quote(&message));
                error_page(301, Some(&location), true)
            }
            Err(BadAction) => error_page(400, None, false),
        };
    }
    let rows = match rows(rpc).await {
        Ok(rows) => rows,
        // A daemon shutting down has no table to show (Python's page raises: HTTP 500).
        Err(fault) => return page(503, pages::escape(&unexpected(&fault))),
    };
    let identification = match rpc.call("supervisor.getIdentification", vec![]).await {
        Ok(Value::Str(s)) => s,
        _ => "supervisor".to_string(),
    };
    page(
        200,
        pages::status_page(&StatusPage {
            rows: &rows,
            message: field(form, "message"),
            filter: field(form, "q").unwrap_or(""),
            state: field(form, "state").unwrap_or(""),
            identification: &identification,
            version: VERSION,
        }),
    )
}

async fn tail_view(rpc: &dyn WebRpc, form: &HashMap<String, String>) -> http::Response<Body> {
    let processname = field(form, "processname");
    // `limit` must be all digits; under 1024 it is 1024.
    let limit = field(form, "limit")
        .filter(|l| l.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|l| l.parse::<u64>().ok())
        .unwrap_or(1024)
        .max(1024);
    let text = match processname {
        None => "No process name found".to_string(),
        Some(name) => {
            let offset = -i64::try_from(limit).unwrap_or(i64::MAX);
            let params = vec![Value::Str(name.to_string()), Value::Int(offset), Value::Int(0)];
            match rpc.call("supervisor.readProcessStdoutLog", params).await {
                Ok(Value::Str(text)) => text,
                Ok(_) => String::new(),
                Err(fault) if fault.code == FaultCode::NoFile => format!("No file for {name}"),
                Err(fault) => format!("ERROR: {}", unexpected(&fault)),
            }
        }
    };
    page(200, pages::tail_page(&TailPage { processname, text: &text, limit, version: VERSION }))
}

#[cfg(test)]
mod tests;
