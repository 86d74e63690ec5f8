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
    let shown = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    c.console = Box::new(Script {
        lines: vec!["shutdown".into(), "no".into(), "quit".into()].into(),
        shown: shown.clone(),
    });
    c.cmdloop("supervisor> ");
    let shown = shown.borrow().clone();
    assert_eq!(
        String::from_utf8(shown).unwrap(),
        "supervisor> Really shut the remote supervisord process down y/N? supervisor> \n"
    );
    assert!(!c.rpc.calls.contains(&"supervisor.shutdown".to_string()));
}

/// A console that types the given lines and keeps what was shown (prompts included).
struct Script {
    lines: std::collections::VecDeque<String>,
    shown: std::rc::Rc<std::cell::RefCell<Vec<u8>>>,
}

impl Console for Script {
    fn show(&mut self, out: &mut Vec<u8>) {
        self.shown.borrow_mut().append(out);
    }

    fn read_line(
        &mut self,
        prompt: &str,
        _: &mut dyn FnMut(&str, usize, usize) -> Vec<String>,
    ) -> Entered {
        self.shown.borrow_mut().extend_from_slice(prompt.as_bytes());
        self.lines.pop_front().map_or(Entered::Eof, Entered::Line)
    }

    fn getpass(&mut self, prompt: &str) -> Option<String> {
        self.shown.borrow_mut().extend_from_slice(prompt.as_bytes());
        self.lines.pop_front()
    }

    fn stdin(&mut self) -> Option<&mut term::Stdin> {
        None
    }
}

fn completions(line: &str, begin: usize) -> Vec<String> {
    let all = Value::Array(vec![
        info("web", "web", 20, "RUNNING", ""),
        info("grp", "a", 20, "RUNNING", ""),
        info("grp", "b", 0, "STOPPED", ""),
    ]);
    let mut fake =
        Fake { replies: vec![("supervisor.getAllProcessInfo", Ok(all))], calls: Vec::new() };
    let mut cache = None;
    let got = complete(&mut fake, &mut cache, line, begin, line.len());
    // Asked again, the cached answer is used (readline asks for every Tab).
    let again = complete(&mut fake, &mut cache, line, begin, line.len());
    assert_eq!(got, again);
    assert!(fake.calls.len() <= 1, "{:?}", fake.calls);
    got
}

#[test]
fn completion_offers_actions_groups_and_processes_as_python() {
    assert_eq!(completions("sta", 0), ["start ", "status "]);
    assert_eq!(completions("", 0).len(), VOCAB.len());
    assert_eq!(completions("h", 0), ["help ", "help "]);
    assert_eq!(completions("help st", 5), ["start ", "status ", "stop "]);
    // `action in ('help')` is a substring test.
    assert_eq!(completions("el sh", 3), ["shutdown "]);
    assert_eq!(completions("start ", 6), ["web ", "grp:a ", "grp:* ", "grp:b "]);
    assert_eq!(completions("stop g", 5), ["grp:a ", "grp:* ", "grp:b "]);
    // With a colon typed, a lone process is offered as group:name as well.
    assert_eq!(completions("tail web:", 5), ["web:web ", "web:* "]);
    assert_eq!(completions("update ", 7), ["web ", "grp "]);
    assert_eq!(completions("avail x", 6), Vec::<String>::new());
}

/// Answers 401 until the right credentials are set.
struct Locked {
    credentials: Option<(String, String)>,
}

impl Rpc for Locked {
    fn call(&mut self, method: &str, _params: &[Value]) -> Result<Value, RpcError> {
        if self.credentials != Some(("user".into(), "123".into())) {
            return Err(RpcError::Http { status: 401, reason: "Unauthorized".into() });
        }
        Ok(match method {
            "supervisor.getVersion" => Value::Str("3.0".into()),
            _ => Value::Array(vec![info("a", "a", 20, "RUNNING", "pid 1, uptime 0:00:01")]),
        })
    }

    fn set_credentials(&mut self, username: &str, password: &str) {
        self.credentials = Some((username.into(), password.into()));
    }
}

#[test]
fn shell_asks_for_credentials_after_a_401_and_retries() {
    let mut c = Controller::new(Locked { credentials: None }, "unix:///x.sock");
    c.interactive = true;
    let shown = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    c.console = Box::new(Script {
        lines: vec!["user".into(), "bad".into(), "user".into(), "123".into()].into(),
        shown: shown.clone(),
    });
    c.onecmd("status");
    c.console.show(&mut c.out);
    let shown = String::from_utf8(shown.borrow().clone()).unwrap();
    assert_eq!(
        shown,
        format!(
            "Server requires authentication\nUsername:Password:\nServer requires authentication\n\
             Username:Password:\n{:<33}{:<10}pid 1, uptime 0:00:01\n",
            "a", "RUNNING"
        )
    );
    assert_eq!(c.exitstatus, 0);
}

#[test]
fn one_shot_reports_a_401_without_prompting() {
    let mut c = Controller::new(Locked { credentials: None }, "unix:///x.sock");
    c.onecmd("status");
    let out = String::from_utf8(c.out).unwrap();
    assert!(
        out.starts_with(
            "Server requires authentication\nerror: <class 'xmlrpc.client.ProtocolError'>"
        ),
        "{out}"
    );
    assert_eq!(c.exitstatus, 1);
}
