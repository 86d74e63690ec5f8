//! Unit tests of the command layer against a fake daemon.

use super::*;

/// A canned reply: the method, and its value or `(fault code, fault text)`.
type Reply = (&'static str, Result<Value, (i64, &'static str)>);

/// Replies by method name; records the calls made.
struct Fake {
    replies: Vec<Reply>,
    calls: Vec<String>,
}

impl Rpc for Fake {
    fn call(&mut self, method: &str, _params: &[Value]) -> Result<Value, RpcError> {
        self.calls.push(method.to_string());
        if method == "supervisor.getVersion" {
            return Ok(Value::Str("3.0".into()));
        }
        match self.replies.iter().find(|(m, _)| *m == method) {
            Some((_, Ok(v))) => Ok(v.clone()),
            Some((_, Err((code, text)))) => {
                Err(RpcError::Fault { code: *code, text: text.to_string() })
            }
            None => Err(RpcError::Io { errno: Some(ENOENT), message: "gone".into() }),
        }
    }
}

fn info(group: &str, name: &str, state: i64, statename: &str, desc: &str) -> Value {
    Value::Struct(vec![
        ("group".into(), group.into()),
        ("name".into(), name.into()),
        ("state".into(), state.into()),
        ("statename".into(), statename.into()),
        ("description".into(), desc.into()),
        ("pid".into(), 0.into()),
    ])
}

fn run(replies: Vec<Reply>, line: &str) -> (String, u8) {
    let mut c = Controller::new(Fake { replies, calls: Vec::new() }, "unix:///x.sock");
    c.onecmd(line);
    (String::from_utf8(c.out).unwrap(), c.exitstatus)
}

#[test]
fn status_pads_and_sets_exit_codes() {
    let all = Value::Array(vec![
        info("a", "a", 20, "RUNNING", "pid 1, uptime 0:00:01"),
        info("g", "p", 0, "STOPPED", "Not started"),
    ]);
    let (out, rc) = run(vec![("supervisor.getAllProcessInfo", Ok(all))], "status a nosuch g:*");
    assert_eq!(
        out,
        format!(
            "nosuch: ERROR (no such process)\n{:<33}{:<10}{}\n{:<33}{:<10}{}\n",
            "a", "RUNNING", "pid 1, uptime 0:00:01", "g:p", "STOPPED", "Not started"
        )
    );
    // 3 (a shown process is stopped) wins over 4 (a bad name).
    assert_eq!(rc, 3);
}

#[test]
fn start_errors_and_exit_codes() {
    let (out, rc) =
        run(vec![("supervisor.startProcess", Err((60, "ALREADY_STARTED: a")))], "start a");
    assert_eq!((out.as_str(), rc), ("a: ERROR (already started)\n", 0));
    let (out, rc) =
        run(vec![("supervisor.startProcessGroup", Err((10, "BAD_NAME: x")))], "start x:*");
    assert_eq!((out.as_str(), rc), ("x: ERROR (no such group)\n", 2));
    let (out, rc) = run(vec![], "start");
    assert!(out.starts_with("Error: start requires a process name\nstart <name>"));
    assert_eq!(rc, 2);
}

#[test]
fn unknown_syntax_help_and_server_down() {
    assert_eq!(run(vec![], "foo-bar"), ("*** Unknown syntax: foo-bar\n".into(), 1));
    assert_eq!(run(vec![], "help nope"), ("*** No help on nope\n".into(), 0));
    assert_eq!(run(vec![], "avail").1, 1);
    let (out, _) = run(vec![], "avail");
    assert!(out.starts_with("error: <class 'FileNotFoundError'>, [Errno 2] No such file"));
}

#[test]
fn reread_sorts_names() {
    let r = Value::Array(vec![Value::Array(vec![
        Value::Array(vec!["b".into()]),
        Value::Array(vec!["a".into()]),
        Value::Array(vec![]),
    ])]);
    assert_eq!(
        run(vec![("supervisor.reloadConfig", Ok(r))], "reread"),
        ("a: changed\nb: available\n".into(), 0)
    );
}

#[test]
fn py_int_parsing() {
    assert_eq!(parse_py_int("100"), Some(100));
    assert_eq!(parse_py_int("1_0"), Some(10));
    assert_eq!(parse_py_int("x"), None);
    assert_eq!(parse_py_int("-5"), Some(-5));
}

#[test]
fn shell_runs_status_first_and_stops_at_quit() {
    let all = Value::Array(vec![]);
    let mut c = Controller::new(
        Fake { replies: vec![("supervisor.getAllProcessInfo", Ok(all))], calls: Vec::new() },
        "unix:///x.sock",
    );
    c.interactive = true;
    let mut lines = vec!["shutdown".to_string(), "no".to_string(), "quit".to_string()].into_iter();
    c.input = Box::new(move |_| lines.next());
    let mut shown = Vec::new();
    c.cmdloop("supervisor> ", |out| shown.append(out));
    assert_eq!(
        String::from_utf8(shown).unwrap(),
        "supervisor> Really shut the remote supervisord process down y/N? supervisor> \n"
    );
    assert!(!c.rpc.calls.contains(&"supervisor.shutdown".to_string()));
}
