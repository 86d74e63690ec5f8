//! The web views against a fake daemon: actions, their messages and redirects, the pages.

use std::sync::Mutex;

use http_body_util::BodyExt;

use super::*;

type Replies = Vec<(&'static str, Result<Value, Fault>)>;

/// Answers by method name; records the calls.
struct Fake {
    replies: Replies,
    calls: Mutex<Vec<String>>,
}

impl WebRpc for Fake {
    fn call(&self, method: &str, params: Vec<Value>) -> BoxFuture<Result<Value, Fault>> {
        self.calls.lock().unwrap().push(method.to_string());
        if method == "supervisor.getProcessInfo" {
            // The daemon's lookup: `g:name`, or a bare name for a group of its own name.
            let spec = params[0].as_str().unwrap().to_string();
            let (group, name) = spec.split_once(':').unwrap_or((&spec, &spec));
            let found = self.replies.iter().find(|(m, _)| *m == "supervisor.getAllProcessInfo");
            let known = match found {
                Some((_, Ok(Value::Array(infos)))) => infos.iter().any(|i| {
                    i.get("group").and_then(Value::as_str) == Some(group)
                        && i.get("name").and_then(Value::as_str) == Some(name)
                }),
                _ => false,
            };
            let reply = if known {
                Ok(Value::Bool(true))
            } else {
                Err(Fault::with(FaultCode::BadName, &spec))
            };
            return Box::pin(async move { reply });
        }
        let reply = self
            .replies
            .iter()
            .find(|(m, _)| *m == method)
            .map(|(_, r)| r.clone())
            .unwrap_or(Ok(Value::Bool(true)));
        Box::pin(async move { reply })
    }
}

fn info(group: &str, name: &str, state: &str) -> Value {
    Value::Struct(vec![
        ("group".into(), Value::Str(group.into())),
        ("name".into(), Value::Str(name.into())),
        ("statename".into(), Value::Str(state.into())),
        ("description".into(), Value::Str("pid 1, uptime 0:00:01".into())),
    ])
}

fn fake(extra: Replies) -> Arc<Fake> {
    let mut replies = extra;
    replies.push((
        "supervisor.getAllProcessInfo",
        Ok(Value::Array(vec![info("web", "web", "RUNNING"), info("grp", "a", "STOPPED")])),
    ));
    Arc::new(Fake { replies, calls: Mutex::new(Vec::new()) })
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn get(rpc: Arc<Fake>, method: &str, uri: &str, body: &str) -> Option<Answer> {
    let request = WebRequest {
        method: method.into(),
        uri: uri.into(),
        host: Some("example.com:9001".into()),
        if_modified_since: None,
        server_url: "http://localhost:9001".into(),
        body: Bytes::from(body.to_string()),
    };
    let future = respond(rpc, request)?;
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    Some(rt.block_on(async move {
        let response = future.await;
        let (parts, body) = response.into_parts();
        let headers = parts
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
            .collect();
        let bytes = body.collect().await.unwrap().to_bytes();
        Answer {
            status: parts.status.as_u16(),
            headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }))
}

#[test]
fn actions_redirect_with_supervisors_messages() {
    let cases: Vec<(&str, Replies, &str)> = vec![
        ("processname=web&action=stop", vec![], "Process%20web%20stopped"),
        ("processname=grp%3Aa&action=start", vec![], "Process%20grp%3Aa%20started"),
        (
            "processname=web&action=start",
            vec![("supervisor.startProcess", Err(Fault::bare(FaultCode::AlreadyStarted)))],
            "ERROR%3A%20Process%20web%3A%20already%20started",
        ),
        (
            "processname=web&action=stop",
            vec![("supervisor.stopProcess", Err(Fault::with(FaultCode::NotRunning, "web")))],
            "unexpected%20rpc%20fault%20%5B70%5D%20NOT_RUNNING%3A%20web",
        ),
        ("processname=web&action=restart", vec![], "Process%20web%20restarted"),
        ("processname=web&action=clearlog", vec![], "Log%20for%20web%20cleared"),
        ("processname=grp%3A%2A&action=stop", vec![], "No%20such%20process%20named%20grp%3A%2A"),
        ("processname=nosuch&action=bogus", vec![], "No%20such%20process%20named%20nosuch"),
        ("action=startgroup&groupname=grp", vec![], "Group%20grp%20started"),
    ];
    for (query, replies, message) in cases {
        let answer = get(fake(replies), "GET", &format!("/index.html?{query}"), "").unwrap();
        assert_eq!(answer.status, 301, "{query}");
        assert_eq!(
            answer.header("Location"),
            Some(format!("http://example.com:9001/?message={message}").as_str()),
            "{query}"
        );
        assert_eq!(answer.header("Content-Type"), Some("text/html"));
        assert!(answer.body.contains("Error code 301."), "{}", answer.body);
    }
    let refreshed = get(fake(vec![]), "POST", "/", "action=refresh").unwrap();
    assert!(
        refreshed
            .header("Location")
            .unwrap()
            .starts_with("http://example.com:9001/?message=Page%20refreshed%20at%20")
    );
}

#[test]
fn actions_python_cannot_run_are_a_400() {
    for query in ["action=bogus", "action=start", "processname=web&action=bogus"] {
        let answer = get(fake(vec![]), "GET", &format!("/?{query}"), "").unwrap();
        assert_eq!(answer.status, 400, "{query}");
    }
}

#[test]
fn pages_and_assets() {
    let page = get(fake(vec![]), "GET", "/?message=hello%20there", "").unwrap();
    assert_eq!(page.status, 200);
    assert_eq!(page.header("Content-Type"), Some("text/html;charset=utf-8"));
    assert_eq!(page.header("Pragma"), Some("no-cache"));
    assert!(page.body.contains("hello there"));
    assert!(page.body.contains("data-namespec=\"grp:a\""));
    let tail = get(
        fake(vec![("supervisor.readProcessStdoutLog", Err(Fault::with(FaultCode::NoFile, "x")))]),
        "GET",
        "/tail.html?processname=web&limit=5",
        "",
    )
    .unwrap();
    assert!(tail.body.contains("No file for web"));
    assert!(tail.body.contains("limit=1024"));
    let css = get(fake(vec![]), "GET", "/stylesheets/supervisor.css", "").unwrap();
    assert_eq!(css.header("Content-Type"), Some("text/css"));
    assert!(get(fake(vec![]), "GET", "/nosuch.html", "").is_none());
    assert!(get(fake(vec![]), "PUT", "/index.html", "").is_none());
}

#[test]
fn server_url_follows_the_host_header() {
    assert_eq!(server_url(Some("h:80"), "x"), "http://h");
    assert_eq!(server_url(Some(" h:8080 "), "x"), "http://h:8080");
    assert_eq!(server_url(Some("h:abc"), "x"), "http://h:abc");
    assert_eq!(
        server_url(None, "http://<unix domain socket>:/tmp/s"),
        "http://<unix domain socket>:/tmp/s"
    );
}

#[test]
fn if_modified_since_is_read_as_medusa_reads_it() {
    let t = not_modified_since("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
    assert_eq!(t, (784111777, None));
    assert_eq!(
        not_modified_since("sun, 06 NOV 1994 08:49:37 gmt; length=12"),
        Some((784111777, Some(12)))
    );
    assert_eq!(not_modified_since("Sunday, 06-Nov-94 08:49:37 GMT"), None);
    assert_eq!(not_modified_since("yesterday"), None);
    assert_eq!(not_modified_since("Sun, 06 Nov 1994 08:49:37 GMT;length=1"), None);
}

fn asset_request(path: &str, ims: Option<&str>) -> Option<http::Response<Body>> {
    let request = WebRequest {
        method: "GET".into(),
        uri: path.into(),
        host: Some("h".into()),
        if_modified_since: ims.map(str::to_string),
        server_url: "http://localhost:9001".into(),
        body: Bytes::new(),
    };
    asset(&request, path.trim_start_matches('/'))
}

#[test]
fn assets_answer_304_when_not_modified_and_301_for_a_bare_directory() {
    let fresh = asset_request("/stylesheets/supervisor.css", None).unwrap();
    let modified = fresh.headers()["Last-Modified"].to_str().unwrap().to_string();
    assert_eq!(fresh.status(), 200);
    let again = asset_request("/stylesheets/supervisor.css", Some(&modified)).unwrap();
    assert_eq!(again.status(), 304);
    let wrong_length = format!("{modified}; length=1");
    assert_eq!(
        asset_request("/stylesheets/supervisor.css", Some(&wrong_length)).unwrap().status(),
        200
    );
    let old = asset_request("/stylesheets/supervisor.css", Some("Sun, 06 Nov 1994 08:49:37 GMT"));
    assert_eq!(old.unwrap().status(), 200);
    let dir = asset_request("/images", None).unwrap();
    assert_eq!(dir.status(), 301);
    assert_eq!(dir.headers()["Location"], "http://localhost/images/");
    assert!(asset_request("/nosuch", None).is_none());
}
