//! supervisorctl: its command layer (`Controller`, Python's `supervisorctl.Controller` and
//! `DefaultControllerPlugin`) over a small [`client::Rpc`] trait and a [`Console`], and the
//! binary's `main`.
//!
//! Every line the commands print goes to stdout, as Python's `Controller.output` does; only
//! option errors and the log streams' HTTP errors go to stderr. Exit codes follow
//! `LSBInitExitStatuses` (and, for `status`, `LSBStatusExitStatuses`), see SURFACE §8 and
//! GOT-38. On a terminal the shell edits lines with [`mod@line`] (readline's keys, history and
//! completion); [`term`] owns Ctrl-C, stdin and the password prompt.

pub mod client;
mod help;
pub mod line;
pub mod term;

use std::io::Write;
use std::process::ExitCode;

use crate::config::Environ;
use crate::config::ctl::{CtlInvocation, SUPERVISORCTL_HELP, realize_ctl};
use crate::python::repr;
use crate::rpc::xmlrpc::Value;

use self::client::{HttpRpc, Rpc, RpcError};

// `xmlrpc.Faults` codes the commands tell apart.
const UNKNOWN_METHOD: i64 = 1;
const SHUTDOWN_STATE: i64 = 6;
const BAD_NAME: i64 = 10;
const BAD_SIGNAL: i64 = 11;
const NO_FILE: i64 = 20;
const NOT_EXECUTABLE: i64 = 21;
const FAILED: i64 = 30;
const ABNORMAL_TERMINATION: i64 = 40;
const SPAWN_ERROR: i64 = 50;
const ALREADY_STARTED: i64 = 60;
const NOT_RUNNING: i64 = 70;
const SUCCESS: i64 = 80;
const ALREADY_ADDED: i64 = 90;
const STILL_RUNNING: i64 = 91;
const CANT_REREAD: i64 = 92;

// `LSBInitExitStatuses`.
const EXIT_GENERIC: u8 = 1;
const EXIT_INVALID_ARGS: u8 = 2;
const EXIT_UNIMPLEMENTED_FEATURE: u8 = 3;
const EXIT_INSUFFICIENT_PRIVILEGES: u8 = 4;
const EXIT_NOT_INSTALLED: u8 = 5;
const EXIT_NOT_RUNNING: u8 = 7;
// `LSBStatusExitStatuses`.
const STATUS_NOT_RUNNING: u8 = 3;
const STATUS_UNKNOWN: u8 = 4;

const ENOENT: i32 = libc::ENOENT;
const ECONNREFUSED: i32 = libc::ECONNREFUSED;

/// The API version supervisorctl insists on (`rpcinterface.API_VERSION`).
const API_VERSION: &str = "3.0";

/// Where Python's traceback would end for an uncaught error: its `error: ...: file: F line: N`
/// line names a file and line of the Python installation, which has no counterpart here, so
/// this fixed stand-in keeps the line's shape for scripts that match on its start.
const TRACEBACK_TAIL: &str = "file: supervisor/xmlrpc.py line: 0";

/// `ProcessStates.RUNNING`.
const RUNNING: i64 = 20;

/// How `fg` ended.
enum Foreground {
    Interrupted,
    Eof,
    /// The process was found not running after a line was sent.
    Killed,
    /// `sendProcessStdin` failed with another fault.
    Refused(RpcError),
}

/// `http_client.Listener.feed`: log data as text, or `Undecodable: b'...'` when a piece is
/// not UTF-8.
fn feed(out: &mut Vec<u8>, data: &[u8]) {
    match std::str::from_utf8(data) {
        Ok(_) => out.extend_from_slice(data),
        Err(_) => {
            let text = format!("Undecodable: {}", crate::process::io::bytes_repr(data));
            out.extend_from_slice(text.as_bytes());
        }
    }
}

/// `Controller.complete`: the words readline may put in place of `line[begin..end]`.
fn complete<R: Rpc>(
    rpc: &mut R,
    info: &mut Option<Vec<Value>>,
    line: &str,
    begin: usize,
    end: usize,
) -> Vec<String> {
    let text = line.get(begin..end).unwrap_or("");
    let words: Vec<&str> = line.split_whitespace().collect();
    let actions = || -> Vec<String> {
        VOCAB.iter().filter(|a| a.starts_with(text)).map(|a| format!("{a} ")).collect()
    };
    let Some(action) = words.first() else { return actions() };
    if words.len() == 1 && !line.ends_with(' ') {
        return actions();
    }
    // `action in ('help')` tests a substring of "help", not membership: "e x<Tab>" lists
    // actions too.
    if "help".contains(action) {
        return actions();
    }
    let is_group_action = ["add", "remove", "update"].contains(action);
    let is_process_action =
        ["clear", "fg", "pid", "restart", "signal", "start", "status", "stop", "tail"]
            .contains(action);
    if !is_group_action && !is_process_action {
        return Vec::new();
    }
    if info.is_none() {
        // readline swallows a completer's exceptions: no answer offers nothing.
        let Ok(all) = rpc.call("supervisor.getAllProcessInfo", &[]) else { return Vec::new() };
        *info = Some(as_list(all));
    }
    let infos = info.as_deref().unwrap_or_default();
    let mut names: Vec<String> = Vec::new();
    for info in infos {
        let (group, name) = (member_str(info, "group"), member_str(info, "name"));
        if is_group_action {
            if !names.contains(&group) {
                names.push(group);
            }
        } else if text.contains(':') || name != group {
            let all = format!("{group}:*");
            names.push(format!("{group}:{name}"));
            if !names.contains(&all) {
                names.push(all);
            }
        } else {
            names.push(name);
        }
    }
    names.into_iter().filter(|n| n.starts_with(text)).map(|n| format!("{n} ")).collect()
}

/// `Controller.vocab`: `help`, then the plugin's `do_` names as `dir()` lists them (sorted,
/// so `help` comes twice; readline shows it once).
const VOCAB: &[&str] = &[
    "help", "add", "avail", "clear", "exit", "fg", "help", "maintail", "open", "pid", "quit",
    "reload", "remove", "reread", "restart", "shutdown", "signal", "start", "status", "stop",
    "tail", "update", "version",
];

/// A command's early exit: an RPC error no handler claimed, shown as Python's generic line.
type CmdResult = Result<(), RpcError>;

/// A line from the user, or why there is none.
pub enum Entered {
    Line(String),
    /// End of input (Ctrl-D, or stdin closed): Python's `EOFError`.
    Eof,
    /// Ctrl-C at a prompt: Python's `KeyboardInterrupt`, which ends the shell.
    Interrupted,
}

/// Where supervisorctl's user sits: the terminal in the binary, a script in tests.
pub trait Console {
    /// Shows and empties what was printed so far (the binary writes it to stdout).
    fn show(&mut self, out: &mut Vec<u8>);

    /// `input(prompt)`. `complete(line, begidx, endidx)` offers completions for the word at
    /// the cursor, as readline asks supervisorctl's completer.
    fn read_line(
        &mut self,
        prompt: &str,
        complete: &mut dyn FnMut(&str, usize, usize) -> Vec<String>,
    ) -> Entered;

    /// `getpass.getpass(prompt)`; `None` at end of input.
    fn getpass(&mut self, prompt: &str) -> Option<String>;

    /// stdin as `fg` reads it: whatever the shell's lines came from, sharing their buffer.
    fn stdin(&mut self) -> Option<&mut term::Stdin>;

    /// Called after each shell command (the binary keeps the `-r` history file current).
    fn command_done(&mut self) {}
}

/// A console with nobody there: nothing is shown and input is at its end.
struct NoConsole;

impl Console for NoConsole {
    fn show(&mut self, out: &mut Vec<u8>) {
        out.clear();
    }

    fn read_line(
        &mut self,
        _: &str,
        _: &mut dyn FnMut(&str, usize, usize) -> Vec<String>,
    ) -> Entered {
        Entered::Eof
    }

    fn getpass(&mut self, _: &str) -> Option<String> {
        None
    }

    fn stdin(&mut self) -> Option<&mut term::Stdin> {
        None
    }
}

/// supervisorctl's command interpreter: the RPC client, what it printed and its exit status.
pub struct Controller<R: Rpc> {
    pub rpc: R,
    pub serverurl: String,
    pub out: Vec<u8>,
    pub exitstatus: u8,
    /// The shell (`-i` or no command): `shutdown` and `reload` ask for confirmation.
    pub interactive: bool,
    /// Set by `quit`, `exit` and `EOF`: the shell stops.
    pub stop: bool,
    pub console: Box<dyn Console>,
    /// `getAllProcessInfo` for completion, kept until the next command as Python keeps it
    /// (readline asks for completions many times per Tab).
    complete_info: Option<Vec<Value>>,
    /// Lines for stderr (`tail -f` errors, as Python's `http_client` writes them).
    pub err: Vec<u8>,
}

/// `make_namespec`.
fn namespec(group: &str, name: &str) -> String {
    if group == name { name.to_string() } else { format!("{group}:{name}") }
}

/// `split_namespec`: `(group, Some(process))`, or `(group, None)` for `g:` and `g:*`.
fn split_namespec(name: &str) -> (String, Option<String>) {
    match name.split_once(':') {
        Some((group, proc)) if proc.is_empty() || proc == "*" => (group.to_string(), None),
        Some((group, proc)) => (group.to_string(), Some(proc.to_string())),
        None => (name.to_string(), Some(name.to_string())),
    }
}

fn member_str(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::Str(s)) => s.clone(),
        Some(Value::Int(i)) => i.to_string(),
        Some(Value::Bool(b)) => if *b { "True" } else { "False" }.to_string(),
        _ => String::new(),
    }
}

fn member_int(v: &Value, key: &str) -> i64 {
    match v.get(key) {
        Some(Value::Int(i)) => *i,
        Some(Value::Bool(b)) => i64::from(*b),
        _ => 0,
    }
}

fn as_list(v: Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items,
        _ => Vec::new(),
    }
}

/// Python's `%s` of an XML-RPC value printed on its own (`getPID`, `version`, log text).
fn display(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        other => format!("{other:?}"),
    }
}

/// Python's `error: <class>, <message>: file: F line: N` for an error no command handled.
fn generic_error(e: &RpcError) -> String {
    let (class, message) = match e {
        RpcError::Fault { code, text } => {
            ("xmlrpc.client.Fault".to_string(), format!("<Fault {code}: {}>", repr(text)))
        }
        RpcError::Io { errno: Some(errno), .. } => {
            let class = match *errno {
                ENOENT => "FileNotFoundError",
                ECONNREFUSED => "ConnectionRefusedError",
                libc::ECONNRESET => "ConnectionResetError",
                libc::EACCES | libc::EPERM => "PermissionError",
                _ => "OSError",
            };
            let text = nix::errno::Errno::from_raw(*errno).desc();
            (class.to_string(), format!("[Errno {errno}] {text}"))
        }
        RpcError::Io { errno: None, message } => ("OSError".to_string(), message.clone()),
        RpcError::Http { .. } => ("xmlrpc.client.ProtocolError".to_string(), e.to_string()),
        RpcError::Protocol(m) => ("xmlrpc.client.ResponseError".to_string(), m.clone()),
        RpcError::Eof => ("EOFError".to_string(), e.to_string()),
        RpcError::Interrupted => ("KeyboardInterrupt".to_string(), String::new()),
    };
    format!("error: <class '{class}'>, {message}: {TRACEBACK_TAIL}")
}

impl<R: Rpc> Controller<R> {
    pub fn new(rpc: R, serverurl: &str) -> Self {
        Controller {
            rpc,
            serverurl: serverurl.to_string(),
            out: Vec::new(),
            exitstatus: 0,
            interactive: false,
            stop: false,
            console: Box::new(NoConsole),
            complete_info: None,
            err: Vec::new(),
        }
    }

    /// `_tailf`: streams `path` until the server closes it or the user presses Ctrl-C, which
    /// ends the command with an empty line.
    fn tailf(&mut self, path: &str) {
        self.output("==> Press Ctrl-C to exit <==");
        self.console.show(&mut self.out);
        let catch = term::Catch::new();
        let mut stream = match self.rpc.stream(path) {
            Ok(stream) => stream,
            Err(line) => return self.stream_error(path, &line),
        };
        loop {
            match term::wait(&[stream.fd()], &catch) {
                Ok(term::Woken::Ready(_)) => {}
                Ok(term::Woken::Interrupted) => return self.output(""),
                Err(e) => return self.stream_error(path, &format!("Cannot read, error: {e}")),
            }
            let out = &mut self.out;
            match stream.pump(&mut |data| feed(out, data)) {
                Ok(true) => self.console.show(&mut self.out),
                Ok(false) => return,
                Err(line) => return self.stream_error(path, &line),
            }
        }
    }

    /// `http_client.Listener.error`: `<url> <error>` on stderr.
    fn stream_error(&mut self, path: &str, line: &str) {
        self.err.extend_from_slice(format!("{}{path} {line}\n", self.serverurl).as_bytes());
    }

    /// Python's `raw_input(prompt)` inside a command (questions, the user name).
    fn raw_input(&mut self, prompt: &str) -> Result<String, RpcError> {
        self.console.show(&mut self.out);
        match self.console.read_line(prompt, &mut |_, _, _| Vec::new()) {
            Entered::Line(line) => Ok(line),
            Entered::Eof => Err(RpcError::Eof),
            Entered::Interrupted => Err(RpcError::Interrupted),
        }
    }

    /// `raw_input(question).lower().startswith('y')` in the shell; always yes otherwise.
    fn really(&mut self, question: &str) -> Result<bool, RpcError> {
        if !self.interactive {
            return Ok(true);
        }
        Ok(crate::python::lower(&self.raw_input(question)?).starts_with('y'))
    }

    /// `Cmd.cmdloop` as `exec_cmdloop` runs it: `status` first, then a prompt per line, until
    /// `quit`, `exit`, end of input or Ctrl-C.
    pub fn cmdloop(&mut self, prompt: &str) {
        let mut line = Some("status".to_string());
        loop {
            let current = match line.take() {
                Some(l) => l,
                None => {
                    self.console.show(&mut self.out);
                    let (rpc, info) = (&mut self.rpc, &mut self.complete_info);
                    let entered = self.console.read_line(prompt, &mut |line, begin, end| {
                        complete(rpc, info, line, begin, end)
                    });
                    match entered {
                        Entered::Line(l) => l,
                        Entered::Eof => "EOF".to_string(),
                        Entered::Interrupted => {
                            // `exec_cmdloop`'s `except KeyboardInterrupt: self.output('')`.
                            self.output("");
                            self.console.show(&mut self.out);
                            break;
                        }
                    }
                }
            };
            self.onecmd(&current);
            self.console.show(&mut self.out);
            if !self.err.is_empty() {
                let _ = std::io::stderr().write_all(&std::mem::take(&mut self.err));
            }
            self.console.command_done();
            if self.stop {
                break;
            }
        }
    }

    fn output(&mut self, line: &str) {
        self.out.extend_from_slice(line.as_bytes());
        self.out.push(b'\n');
    }

    fn call(&mut self, method: &str, params: &[Value]) -> Result<Value, RpcError> {
        self.rpc.call(method, params)
    }

    /// `set_exitstatus_from_xmlrpc_fault`.
    fn set_exit_from_fault(&mut self, code: i64, ignored: Option<i64>) {
        if Some(code) == ignored || code == SUCCESS {
        } else if [SPAWN_ERROR, ABNORMAL_TERMINATION, NOT_RUNNING].contains(&code) {
            self.exitstatus = EXIT_NOT_RUNNING;
        } else {
            self.exitstatus = EXIT_GENERIC;
        }
    }

    /// `Controller.onecmd`: runs one command line, catching what the command did not handle.
    pub fn onecmd(&mut self, line: &str) {
        let mut line = line.trim().to_string();
        if line.is_empty() {
            return;
        }
        if let Some(rest) = line.strip_prefix('?') {
            line = format!("help {rest}");
        } else if line.starts_with('!') {
            return self.default(&line);
        }
        let end = line
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
            .map_or(line.len(), |(i, _)| i);
        let (cmd, arg) = (line[..end].to_string(), line[end..].trim().to_string());
        if cmd.is_empty() || !self.knows(&cmd) {
            return self.default(&line);
        }
        self.complete_info = None;
        let result = match self.dispatch(&cmd, &arg) {
            Err(RpcError::Http { status: 401, .. }) if self.interactive => {
                self.output("Server requires authentication");
                match self.ask_credentials() {
                    Ok(()) => return self.onecmd(&line),
                    Err(e) => Err(e),
                }
            }
            Err(RpcError::Http { status: 401, .. }) => {
                // Python reports the 401, then runs the command once more (the retry only
                // helps its interactive prompt for credentials), which fails the same way.
                self.output("Server requires authentication");
                self.exitstatus = EXIT_GENERIC;
                self.dispatch(&cmd, &arg)
            }
            other => other,
        };
        match result {
            Ok(()) => {}
            Err(RpcError::Interrupted) => {
                // A `KeyboardInterrupt` no command catches ends the shell.
                self.output("");
                self.stop = true;
            }
            Err(e) => {
                self.output(&generic_error(&e));
                self.exitstatus = EXIT_GENERIC;
            }
        }
    }

    /// The shell's `Username:` and `Password:` prompts after a 401.
    fn ask_credentials(&mut self) -> Result<(), RpcError> {
        let username = self.raw_input("Username:")?;
        self.console.show(&mut self.out);
        let password = self.console.getpass("Password:").ok_or(RpcError::Eof)?;
        self.output("");
        self.rpc.set_credentials(&username, &password);
        Ok(())
    }

    fn default(&mut self, line: &str) {
        self.output(&format!("*** Unknown syntax: {line}"));
        self.exitstatus = EXIT_GENERIC;
    }

    fn knows(&self, cmd: &str) -> bool {
        matches!(
            cmd,
            "help"
                | "EOF"
                | "quit"
                | "exit"
                | "tail"
                | "maintail"
                | "status"
                | "pid"
                | "start"
                | "stop"
                | "signal"
                | "restart"
                | "shutdown"
                | "reload"
                | "avail"
                | "reread"
                | "add"
                | "remove"
                | "update"
                | "clear"
                | "open"
                | "version"
                | "fg"
        )
    }

    fn dispatch(&mut self, cmd: &str, arg: &str) -> CmdResult {
        match cmd {
            "help" => self.do_help(arg),
            "EOF" | "quit" | "exit" => {
                self.output("");
                self.stop = true;
            }
            "tail" => return self.do_tail(arg),
            "maintail" => return self.do_maintail(arg),
            "status" => return self.do_status(arg),
            "pid" => return self.do_pid(arg),
            "start" => return self.do_start(arg),
            "stop" => return self.do_stop(arg),
            "signal" => return self.do_signal(arg),
            "restart" => return self.do_restart(arg),
            "shutdown" => return self.do_shutdown(arg),
            "reload" => return self.do_reload(arg),
            "avail" => return self.do_avail(arg),
            "reread" => return self.do_reread(arg),
            "add" => return self.do_add(arg),
            "remove" => return self.do_remove(arg),
            "update" => return self.do_update(arg),
            "clear" => return self.do_clear(arg),
            "version" => return self.do_version(arg),
            "open" => return self.do_open(arg),
            "fg" => return self.do_fg(arg),
            // `onecmd` asks `knows` first, so only a command missing from this match lands
            // here: Python's answer for a name it has no `do_` method for.
            _ => self.default(format!("{cmd} {arg}").trim_end()),
        }
        Ok(())
    }

    fn help_topic(&mut self, topic: &str) {
        match help::HELP.iter().find(|(t, _)| *t == topic) {
            Some((_, text)) => self.out.extend_from_slice(text.as_bytes()),
            None => self.output(&format!("*** No help on {topic}")),
        }
    }

    fn do_help(&mut self, arg: &str) {
        // `help help` is answered by the controller, anything else by the plugin; both look the
        // topic up by its whole (trimmed) argument.
        self.help_topic(arg);
    }

    /// `Controller.upcheck`: false (with the message printed) when the daemon is unusable.
    fn upcheck(&mut self) -> Result<bool, RpcError> {
        match self.call("supervisor.getVersion", &[]) {
            Ok(v) => {
                let api = display(&v);
                if api != API_VERSION {
                    self.output(&format!(
                        "Sorry, this version of supervisorctl expects to talk to a server with \
                         API version {API_VERSION}, but the remote version is {api}."
                    ));
                    self.exitstatus = EXIT_NOT_INSTALLED;
                    return Ok(false);
                }
                Ok(true)
            }
            Err(RpcError::Fault { code: UNKNOWN_METHOD, .. }) => {
                self.output(
                    "Sorry, supervisord responded but did not recognize the supervisor \
                     namespace commands that supervisorctl uses to control it.  Please check \
                     that the [rpcinterface:supervisor] section is enabled in the \
                     configuration file (see sample.conf).",
                );
                self.exitstatus = EXIT_UNIMPLEMENTED_FEATURE;
                Ok(false)
            }
            Err(RpcError::Io { errno: Some(ECONNREFUSED), .. }) => {
                self.output(&format!("{} refused connection", self.serverurl));
                self.exitstatus = EXIT_INSUFFICIENT_PRIVILEGES;
                Ok(false)
            }
            Err(RpcError::Io { errno: Some(ENOENT), .. }) => {
                self.output(&format!("{} no such file", self.serverurl));
                self.exitstatus = EXIT_NOT_RUNNING;
                Ok(false)
            }
            Err(e) => {
                if !matches!(e, RpcError::Http { .. }) {
                    self.exitstatus = EXIT_GENERIC;
                }
                Err(e)
            }
        }
    }

    fn bad_args(&mut self, message: &str, status: u8, topic: &str) {
        self.output(message);
        self.exitstatus = status;
        self.help_topic(topic);
    }

    fn do_tail(&mut self, arg: &str) -> CmdResult {
        if !self.upcheck()? {
            return Ok(());
        }
        let mut args: Vec<&str> = arg.split_whitespace().collect();
        if args.is_empty() {
            self.bad_args("Error: too few arguments", EXIT_GENERIC, "tail");
            return Ok(());
        }
        if args.len() > 3 {
            self.bad_args("Error: too many arguments", EXIT_GENERIC, "tail");
            return Ok(());
        }
        let modifier = if args[0].starts_with('-') { Some(args.remove(0)) } else { None };
        let (name, channel) = if args.len() == 1 {
            (args[0].to_string(), "stdout".to_string())
        } else if let (Some(first), Some(last)) = (args.first(), args.last()) {
            let channel = crate::python::lower(last);
            if channel != "stderr" && channel != "stdout" {
                self.output(&format!("Error: bad channel {}", repr(&channel)));
                self.exitstatus = EXIT_GENERIC;
                return Ok(());
            }
            (first.to_string(), channel)
        } else {
            self.output("Error: tail requires process name");
            self.exitstatus = EXIT_GENERIC;
            return Ok(());
        };
        let mut bytes: i64 = 1600;
        if let Some(m) = modifier {
            let what = &m[1..];
            if what == "f" {
                self.tailf(&format!("/logtail/{name}/{channel}"));
                return Ok(());
            }
            match parse_py_int(what) {
                Some(n) => bytes = n,
                None => {
                    self.output(&format!("Error: bad argument {m}"));
                    self.exitstatus = EXIT_GENERIC;
                    return Ok(());
                }
            }
        }
        let method = if channel == "stdout" {
            "supervisor.readProcessStdoutLog"
        } else {
            "supervisor.readProcessStderrLog"
        };
        let read = self.call(method, &[name.as_str().into(), Value::Int(-bytes), Value::Int(0)]);
        self.show_log(read, &name)
    }

    /// Prints a log read, or the `<subject>: ERROR (...)` line supervisorctl prints for the
    /// read faults it knows (`BAD_NAME` only arises for a process log); anything else is
    /// raised to the caller.
    fn show_log(&mut self, read: Result<Value, RpcError>, subject: &str) -> CmdResult {
        match read {
            Ok(v) => self.output(&display(&v)),
            Err(RpcError::Fault { code, text }) => {
                self.exitstatus = EXIT_GENERIC;
                let why = match code {
                    NO_FILE => "no log file",
                    FAILED => "unknown error reading log",
                    BAD_NAME => "no such process name",
                    _ => return Err(RpcError::Fault { code, text }),
                };
                self.output(&format!("{subject}: ERROR ({why})"));
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    fn do_maintail(&mut self, arg: &str) -> CmdResult {
        if !self.upcheck()? {
            return Ok(());
        }
        let args: Vec<&str> = arg.split_whitespace().collect();
        let bytes = match args.as_slice() {
            [] => 1600,
            [one] => {
                let parsed = one.strip_prefix('-').map(|what| (what, parse_py_int(what)));
                match parsed {
                    Some(("f", _)) => {
                        self.tailf("/mainlogtail");
                        return Ok(());
                    }
                    Some((_, Some(n))) => n,
                    _ => {
                        self.output(&format!("Error: bad argument {one}"));
                        self.exitstatus = EXIT_GENERIC;
                        return Ok(());
                    }
                }
            }
            _ => {
                self.bad_args("Error: too many arguments", EXIT_GENERIC, "maintail");
                return Ok(());
            }
        };
        let read = self.call("supervisor.readLog", &[Value::Int(-bytes), Value::Int(0)]);
        self.show_log(read, "supervisord")
    }

    fn show_statuses(&mut self, infos: &[Value]) {
        let specs: Vec<String> = infos
            .iter()
            .map(|i| namespec(&member_str(i, "group"), &member_str(i, "name")))
            .collect();
        // Python pads by characters (code points), not bytes.
        let width = specs.iter().map(|s| s.chars().count()).max().unwrap_or(0).max(30) + 3;
        for (spec, info) in specs.iter().zip(infos) {
            let line = format!(
                "{spec:<width$}{:<10}{}",
                member_str(info, "statename"),
                member_str(info, "description")
            );
            self.output(&line);
        }
    }

    fn do_status(&mut self, arg: &str) -> CmdResult {
        if !self.upcheck()? {
            self.exitstatus = STATUS_UNKNOWN;
            return Ok(());
        }
        let all = as_list(self.call("supervisor.getAllProcessInfo", &[])?);
        let names: Vec<&str> = arg.split_whitespace().collect();
        let matching: Vec<Value> = if names.is_empty() || names.contains(&"all") {
            all
        } else {
            let mut matching = Vec::new();
            for name in names {
                let (group, process) = split_namespec(name);
                let mut bad = true;
                for info in &all {
                    let matched = member_str(info, "group") == group
                        && process.as_ref().is_none_or(|p| member_str(info, "name") == *p);
                    if matched {
                        bad = false;
                        matching.push(info.clone());
                    }
                }
                if bad {
                    let msg = match process {
                        None => format!("{group}: ERROR (no such group)"),
                        Some(_) => format!("{name}: ERROR (no such process)"),
                    };
                    self.output(&msg);
                    self.exitstatus = STATUS_UNKNOWN;
                }
            }
            matching
        };
        self.show_statuses(&matching);
        // STOPPED_STATES: STOPPED, EXITED, FATAL, UNKNOWN.
        if matching.iter().any(|i| [0, 100, 200, 1000].contains(&member_int(i, "state"))) {
            self.exitstatus = STATUS_NOT_RUNNING;
        }
        Ok(())
    }

    fn do_pid(&mut self, arg: &str) -> CmdResult {
        if !self.upcheck()? {
            return Ok(());
        }
        let names: Vec<&str> = arg.split_whitespace().collect();
        if names.is_empty() {
            let pid = self.call("supervisor.getPID", &[])?;
            self.output(&display(&pid));
        } else if names.contains(&"all") {
            for info in as_list(self.call("supervisor.getAllProcessInfo", &[])?) {
                self.output(&member_int(&info, "pid").to_string());
            }
        } else {
            for name in names {
                match self.call("supervisor.getProcessInfo", &[name.into()]) {
                    Ok(info) => {
                        let pid = member_int(&info, "pid");
                        self.output(&pid.to_string());
                        if pid == 0 {
                            self.exitstatus = EXIT_NOT_RUNNING;
                        }
                    }
                    Err(RpcError::Fault { code: BAD_NAME, .. }) => {
                        self.exitstatus = EXIT_GENERIC;
                        self.output(&format!("No such process {name}"));
                    }
                    Err(e) => {
                        if matches!(e, RpcError::Fault { .. }) {
                            self.exitstatus = EXIT_GENERIC;
                        }
                        return Err(e);
                    }
                }
            }
        }
        Ok(())
    }

    /// `_startresult`; `None` where Python raises ValueError for an unknown code.
    fn start_result(spec: &str, code: i64) -> Option<String> {
        let why = match code {
            BAD_NAME => "no such process",
            NO_FILE => "no such file",
            NOT_EXECUTABLE => "file is not executable",
            ALREADY_STARTED => "already started",
            SPAWN_ERROR => "spawn error",
            ABNORMAL_TERMINATION => "abnormal termination",
            SUCCESS => return Some(format!("{spec}: started")),
            _ => return None,
        };
        Some(format!("{spec}: ERROR ({why})"))
    }

    /// `_signalresult`.
    fn signal_result(spec: &str, code: i64, description: &str, success: &str) -> Option<String> {
        let why = match code {
            BAD_NAME => "no such process",
            BAD_SIGNAL => "bad signal name",
            NOT_RUNNING => "not running",
            SUCCESS => return Some(format!("{spec}: {success}")),
            FAILED => return Some(description.to_string()),
            _ => return None,
        };
        Some(format!("{spec}: ERROR ({why})"))
    }

    /// Prints one result line, or Python's generic error for a code it does not know.
    fn result_line(&mut self, line: Option<String>, spec: &str, code: i64) -> bool {
        match line {
            Some(l) => {
                self.output(&l);
                true
            }
            None => {
                self.output(&format!(
                    "error: <class 'ValueError'>, Unknown result code {code} for {spec}: \
                     {TRACEBACK_TAIL}"
                ));
                self.exitstatus = EXIT_GENERIC;
                false
            }
        }
    }

    /// Prints the results of a multi-process call (`startProcessGroup`, `stopAllProcesses`...).
    fn results(&mut self, results: Value, kind: Kind) -> bool {
        for r in as_list(results) {
            let spec = namespec(&member_str(&r, "group"), &member_str(&r, "name"));
            let code = member_int(&r, "status");
            let line = kind.line(&spec, code, &member_str(&r, "description"));
            if !self.result_line(line, &spec, code) {
                return false;
            }
            self.set_exit_from_fault(code, kind.ignored());
        }
        true
    }

    fn do_start(&mut self, arg: &str) -> CmdResult {
        self.group_command(arg, Kind::Start)
    }

    fn do_stop(&mut self, arg: &str) -> CmdResult {
        self.group_command(arg, Kind::Stop)
    }

    /// `do_start` and `do_stop`, which differ only in names, texts and exit codes.
    fn group_command(&mut self, arg: &str, kind: Kind) -> CmdResult {
        if !self.upcheck()? {
            return Ok(());
        }
        let names: Vec<&str> = arg.split_whitespace().collect();
        let (verb, all, group_call, one_call) = match kind {
            Kind::Start => (
                "start",
                "supervisor.startAllProcesses",
                "supervisor.startProcessGroup",
                "supervisor.startProcess",
            ),
            _ => (
                "stop",
                "supervisor.stopAllProcesses",
                "supervisor.stopProcessGroup",
                "supervisor.stopProcess",
            ),
        };
        if names.is_empty() {
            let status = if kind == Kind::Start { EXIT_INVALID_ARGS } else { EXIT_GENERIC };
            self.bad_args(&format!("Error: {verb} requires a process name"), status, verb);
            return Ok(());
        }
        if names.contains(&"all") {
            let results = self.call(all, &[])?;
            self.results(results, kind);
            return Ok(());
        }
        for name in names {
            let (group, process) = split_namespec(name);
            match process {
                None => match self.call(group_call, &[group.as_str().into()]) {
                    Ok(results) => {
                        if !self.results(results, kind) {
                            return Ok(());
                        }
                    }
                    Err(RpcError::Fault { code: BAD_NAME, .. }) => {
                        self.output(&format!("{group}: ERROR (no such group)"));
                        self.exitstatus =
                            if kind == Kind::Start { EXIT_INVALID_ARGS } else { EXIT_GENERIC };
                    }
                    Err(e) => {
                        self.exitstatus = EXIT_GENERIC;
                        return Err(e);
                    }
                },
                Some(process) => match self.call(one_call, &[name.into()]) {
                    Ok(_) => self.output(&format!(
                        "{}: {}",
                        namespec(&group, &process),
                        if kind == Kind::Start { "started" } else { "stopped" }
                    )),
                    Err(RpcError::Fault { code, text }) => {
                        let spec = namespec(&group, &process);
                        if !self.result_line(kind.line(&spec, code, &text), &spec, code) {
                            return Ok(());
                        }
                        self.set_exit_from_fault(code, kind.ignored());
                    }
                    Err(e) => return Err(e),
                },
            }
        }
        Ok(())
    }

    fn do_signal(&mut self, arg: &str) -> CmdResult {
        if !self.upcheck()? {
            return Ok(());
        }
        let args: Vec<&str> = arg.split_whitespace().collect();
        if args.len() < 2 {
            self.bad_args(
                "Error: signal requires a signal name and a process name",
                EXIT_GENERIC,
                "signal",
            );
            return Ok(());
        }
        let (sig, names) = (args[0], &args[1..]);
        if names.contains(&"all") {
            let results = self.call("supervisor.signalAllProcesses", &[sig.into()])?;
            self.results(results, Kind::Signal);
            return Ok(());
        }
        for name in names {
            let (group, process) = split_namespec(name);
            match process {
                None => {
                    let params = [group.as_str().into(), sig.into()];
                    match self.call("supervisor.signalProcessGroup", &params) {
                        Ok(results) => {
                            if !self.results(results, Kind::Signal) {
                                return Ok(());
                            }
                        }
                        Err(RpcError::Fault { code: BAD_NAME, .. }) => {
                            self.output(&format!("{group}: ERROR (no such group)"));
                            self.exitstatus = EXIT_GENERIC;
                        }
                        Err(e) => return Err(e),
                    }
                }
                Some(process) => {
                    let params = [(*name).into(), sig.into()];
                    let spec = namespec(&group, &process);
                    match self.call("supervisor.signalProcess", &params) {
                        Ok(_) => self.output(&format!("{spec}: signalled")),
                        Err(RpcError::Fault { code, text }) => {
                            let line = Kind::Signal.line(&spec, code, &text);
                            if !self.result_line(line, &spec, code) {
                                return Ok(());
                            }
                            self.set_exit_from_fault(code, None);
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(())
    }

    fn do_restart(&mut self, arg: &str) -> CmdResult {
        if !self.upcheck()? {
            return Ok(());
        }
        if arg.split_whitespace().next().is_none() {
            self.bad_args("Error: restart requires a process name", EXIT_GENERIC, "restart");
            return Ok(());
        }
        self.do_stop(arg)?;
        self.do_start(arg)
    }

    fn do_shutdown(&mut self, arg: &str) -> CmdResult {
        if !arg.is_empty() {
            self.bad_args("Error: shutdown accepts no arguments", EXIT_GENERIC, "shutdown");
            return Ok(());
        }
        if !self.really("Really shut the remote supervisord process down y/N? ")? {
            return Ok(());
        }
        match self.call("supervisor.shutdown", &[]) {
            Ok(_) => self.output("Shut down"),
            Err(RpcError::Fault { code: SHUTDOWN_STATE, .. }) => {
                self.output("ERROR: already shutting down")
            }
            Err(RpcError::Io { errno: Some(errno), .. })
                if errno == ECONNREFUSED || errno == ENOENT =>
            {
                self.exitstatus = EXIT_GENERIC;
                let why = if errno == ENOENT { "no such file" } else { "refused connection" };
                self.output(&format!("ERROR: {} {why} (already shut down?)", self.serverurl));
            }
            Err(e) => {
                self.exitstatus = EXIT_GENERIC;
                return Err(e);
            }
        }
        Ok(())
    }

    fn do_reload(&mut self, arg: &str) -> CmdResult {
        if !arg.is_empty() {
            self.bad_args("Error: reload accepts no arguments", EXIT_GENERIC, "reload");
            return Ok(());
        }
        if !self.really("Really restart the remote supervisord process y/N? ")? {
            return Ok(());
        }
        match self.call("supervisor.restart", &[]) {
            Ok(_) => self.output("Restarted supervisord"),
            Err(RpcError::Fault { code: SHUTDOWN_STATE, .. }) => {
                self.exitstatus = EXIT_GENERIC;
                self.output("ERROR: already shutting down");
            }
            Err(e) => {
                self.exitstatus = EXIT_GENERIC;
                return Err(e);
            }
        }
        Ok(())
    }

    fn do_avail(&mut self, arg: &str) -> CmdResult {
        if !arg.is_empty() {
            self.bad_args("Error: avail accepts no arguments", EXIT_GENERIC, "avail");
            return Ok(());
        }
        match self.call("supervisor.getAllConfigInfo", &[]) {
            Ok(infos) => {
                for c in as_list(infos) {
                    let name = namespec(&member_str(&c, "group"), &member_str(&c, "name"));
                    let inuse = if member_int(&c, "inuse") != 0 { "in use" } else { "avail" };
                    let auto = if member_int(&c, "autostart") != 0 { "auto" } else { "manual" };
                    let prio = format!(
                        "{}:{}",
                        member_str(&c, "group_prio"),
                        member_str(&c, "process_prio")
                    );
                    self.output(&format!("{name:<32} {inuse:<9} {auto:<9} {prio}"));
                }
            }
            Err(RpcError::Fault { code: SHUTDOWN_STATE, .. }) => {
                self.exitstatus = EXIT_GENERIC;
                self.output("ERROR: supervisor shutting down");
            }
            Err(e) => {
                self.exitstatus = EXIT_GENERIC;
                return Err(e);
            }
        }
        Ok(())
    }

    /// The `[[added, changed, removed]]` of `reloadConfig`, as lists of names.
    fn changes(result: Value) -> [Vec<String>; 3] {
        let mut lists = as_list(as_list(result).into_iter().next().unwrap_or(Value::Nil))
            .into_iter()
            .map(|l| as_list(l).iter().map(display).collect::<Vec<_>>());
        [
            lists.next().unwrap_or_default(),
            lists.next().unwrap_or_default(),
            lists.next().unwrap_or_default(),
        ]
    }

    fn do_reread(&mut self, arg: &str) -> CmdResult {
        if !arg.is_empty() {
            self.bad_args("Error: reread accepts no arguments", EXIT_GENERIC, "reread");
            return Ok(());
        }
        match self.call("supervisor.reloadConfig", &[]) {
            Ok(result) => {
                let [added, changed, dropped] = Self::changes(result);
                // A dict keyed by name: later lists win, then sorted by name.
                let mut by_name = std::collections::BTreeMap::new();
                for (names, what) in
                    [(added, "available"), (changed, "changed"), (dropped, "disappeared")]
                {
                    for n in names {
                        by_name.insert(n, what);
                    }
                }
                if by_name.is_empty() {
                    self.output("No config updates to processes");
                }
                for (name, what) in by_name {
                    self.output(&format!("{name}: {what}"));
                }
            }
            Err(RpcError::Fault { code, text })
                if code == SHUTDOWN_STATE || code == CANT_REREAD =>
            {
                self.exitstatus = EXIT_GENERIC;
                if code == SHUTDOWN_STATE {
                    self.output("ERROR: supervisor shutting down");
                } else {
                    self.output(&format!("ERROR: {text}"));
                }
            }
            Err(e) => {
                self.exitstatus = EXIT_GENERIC;
                return Err(e);
            }
        }
        Ok(())
    }

    fn do_add(&mut self, arg: &str) -> CmdResult {
        for name in arg.split_whitespace() {
            match self.call("supervisor.addProcessGroup", &[name.into()]) {
                Ok(_) => self.output(&format!("{name}: added process group")),
                Err(RpcError::Fault { code: SHUTDOWN_STATE, .. }) => {
                    self.output("ERROR: shutting down");
                    self.exitstatus = EXIT_GENERIC;
                }
                Err(RpcError::Fault { code: ALREADY_ADDED, .. }) => {
                    self.output("ERROR: process group already active")
                }
                Err(RpcError::Fault { code: BAD_NAME, .. }) => {
                    self.output(&format!("ERROR: no such process/group: {name}"));
                    self.exitstatus = EXIT_GENERIC;
                }
                Err(e) => {
                    if matches!(e, RpcError::Fault { .. }) {
                        self.exitstatus = EXIT_GENERIC;
                    }
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    fn do_remove(&mut self, arg: &str) -> CmdResult {
        for name in arg.split_whitespace() {
            match self.call("supervisor.removeProcessGroup", &[name.into()]) {
                Ok(_) => self.output(&format!("{name}: removed process group")),
                Err(RpcError::Fault { code, text }) => {
                    self.exitstatus = EXIT_GENERIC;
                    match code {
                        STILL_RUNNING => {
                            self.output(&format!("ERROR: process/group still running: {name}"))
                        }
                        BAD_NAME => self.output(&format!("ERROR: no such process/group: {name}")),
                        _ => return Err(RpcError::Fault { code, text }),
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn do_update(&mut self, arg: &str) -> CmdResult {
        let result = match self.call("supervisor.reloadConfig", &[]) {
            Ok(r) => r,
            Err(RpcError::Fault { code: SHUTDOWN_STATE, .. }) => {
                self.exitstatus = EXIT_GENERIC;
                self.output("ERROR: already shutting down");
                return Ok(());
            }
            Err(e) => {
                if matches!(e, RpcError::Fault { .. }) {
                    self.exitstatus = EXIT_GENERIC;
                }
                return Err(e);
            }
        };
        let [added, changed, removed] = Self::changes(result);
        let mut valid: Vec<&str> = Vec::new();
        for name in arg.split_whitespace() {
            if !valid.contains(&name) {
                valid.push(name);
            }
        }
        if valid.contains(&"all") {
            valid.clear();
        }
        if !valid.is_empty() {
            let mut groups: Vec<String> = as_list(self.call("supervisor.getAllProcessInfo", &[])?)
                .iter()
                .map(|i| member_str(i, "group"))
                .collect();
            groups.extend(added.iter().cloned());
            // Python iterates a set here; its order for a few short names is not something a
            // caller can rely on, so we keep the command line's order.
            for g in &valid {
                if !groups.iter().any(|x| x == g) {
                    self.output(&format!("ERROR: no such group: {g}"));
                    self.exitstatus = EXIT_GENERIC;
                }
            }
        }
        let wanted = |g: &String| valid.is_empty() || valid.contains(&g.as_str());
        for g in removed.iter().filter(|g| wanted(g)) {
            let results = self.call("supervisor.stopProcessGroup", &[g.as_str().into()])?;
            self.output(&format!("{g}: stopped"));
            if as_list(results).iter().any(|r| member_int(r, "status") == FAILED) {
                self.output(&format!("{g}: has problems; not removing"));
                self.exitstatus = EXIT_GENERIC;
                continue;
            }
            self.call("supervisor.removeProcessGroup", &[g.as_str().into()])?;
            self.output(&format!("{g}: removed process group"));
        }
        for g in changed.iter().filter(|g| wanted(g)) {
            self.call("supervisor.stopProcessGroup", &[g.as_str().into()])?;
            self.output(&format!("{g}: stopped"));
            self.call("supervisor.removeProcessGroup", &[g.as_str().into()])?;
            self.call("supervisor.addProcessGroup", &[g.as_str().into()])?;
            self.output(&format!("{g}: updated process group"));
        }
        for g in added.iter().filter(|g| wanted(g)) {
            self.call("supervisor.addProcessGroup", &[g.as_str().into()])?;
            self.output(&format!("{g}: added process group"));
        }
        Ok(())
    }

    fn clear_result(spec: &str, code: i64) -> Option<String> {
        match code {
            BAD_NAME => Some(format!("{spec}: ERROR (no such process)")),
            FAILED => Some(format!("{spec}: ERROR (failed)")),
            SUCCESS => Some(format!("{spec}: cleared")),
            _ => None,
        }
    }

    fn do_clear(&mut self, arg: &str) -> CmdResult {
        if !self.upcheck()? {
            return Ok(());
        }
        let names: Vec<&str> = arg.split_whitespace().collect();
        if names.is_empty() {
            self.bad_args("Error: clear requires a process name", EXIT_GENERIC, "clear");
            return Ok(());
        }
        if names.contains(&"all") {
            let results = self.call("supervisor.clearAllProcessLogs", &[])?;
            self.results(results, Kind::Clear);
            return Ok(());
        }
        for name in names {
            let (group, process) = split_namespec(name);
            let spec = namespec(&group, process.as_deref().unwrap_or("None"));
            match self.call("supervisor.clearProcessLogs", &[name.into()]) {
                Ok(_) => self.output(&format!("{spec}: cleared")),
                Err(RpcError::Fault { code, .. }) => {
                    if !self.result_line(Self::clear_result(&spec, code), &spec, code) {
                        return Ok(());
                    }
                    self.set_exit_from_fault(code, None);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn do_open(&mut self, arg: &str) -> CmdResult {
        let url = arg.trim();
        // `urlparse(url).scheme`: letters, digits, `+-.` before the first `:`, lower-cased.
        let scheme = url
            .split_once(':')
            .filter(|(s, _)| {
                s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                    && s.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            })
            .map(|(s, _)| s.to_ascii_lowercase());
        if !matches!(scheme.as_deref(), Some("unix" | "http")) {
            self.output("ERROR: url must be http:// or unix://");
            self.exitstatus = EXIT_GENERIC;
            return Ok(());
        }
        self.serverurl = url.to_string();
        self.rpc.set_serverurl(url);
        let old = self.exitstatus;
        let result = self.do_status("");
        self.exitstatus = old;
        result
    }

    /// `fg`: the process's stdout and stderr streams to the terminal while each line typed
    /// goes to its stdin, until Ctrl-C, end of input, or a line finds it no longer running.
    fn do_fg(&mut self, arg: &str) -> CmdResult {
        if !self.upcheck()? {
            return Ok(());
        }
        let names: Vec<&str> = arg.split_whitespace().collect();
        let name = match names.as_slice() {
            [] => {
                self.bad_args("ERROR: no process name supplied", EXIT_GENERIC, "fg");
                return Ok(());
            }
            [name] => name.to_string(),
            _ => {
                self.output("ERROR: too many process names supplied");
                self.exitstatus = EXIT_GENERIC;
                return Ok(());
            }
        };
        let info = match self.call("supervisor.getProcessInfo", &[name.as_str().into()]) {
            Ok(info) => info,
            Err(RpcError::Fault { code: BAD_NAME, .. }) => {
                self.output("ERROR: bad process name supplied");
                self.exitstatus = EXIT_GENERIC;
                return Ok(());
            }
            Err(e @ RpcError::Fault { .. }) => {
                self.output(&format!("ERROR: {e}"));
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if member_int(&info, "state") != RUNNING {
            self.output("ERROR: process not running");
            self.exitstatus = EXIT_GENERIC;
            return Ok(());
        }
        self.output("==> Press Ctrl-C to exit <==");
        self.console.show(&mut self.out);
        let catch = term::Catch::new();
        // Python's `fgthread` follows both logs; one that cannot be followed only reports.
        let mut streams = Vec::new();
        for channel in ["stdout", "stderr"] {
            let path = format!("/logtail/{name}/{channel}");
            match self.rpc.stream(&path) {
                Ok(stream) => streams.push(Some(stream)),
                Err(line) => self.stream_error(&path, &line),
            }
        }
        let ended = self.foreground(&name, &mut streams, &catch);
        match ended {
            Ok(Foreground::Interrupted | Foreground::Eof) => {
                self.output("Exiting foreground");
            }
            Ok(Foreground::Killed) => {
                self.output("Process got killed");
                self.output("Exiting foreground");
            }
            Ok(Foreground::Refused(e)) => {
                self.output(&format!("ERROR: {e}"));
                self.output("Exiting foreground");
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// `fg`'s loop once attached: log data is shown as it comes, lines typed are sent.
    fn foreground(
        &mut self,
        name: &str,
        streams: &mut [Option<client::LogStream>],
        catch: &term::Catch,
    ) -> Result<Foreground, RpcError> {
        loop {
            // Lines already read (piped after `fg x`) go first, as Python's `raw_input` takes
            // them from `sys.stdin`'s buffer.
            let Some(stdin) = self.console.stdin() else { return Ok(Foreground::Eof) };
            if let Some(line) = stdin.buffered_line() {
                if let Some(end) = self.send_line(name, line)? {
                    return Ok(end);
                }
                continue;
            }
            if stdin.at_eof() {
                return Ok(Foreground::Eof);
            }
            let woken = {
                let mut fds = vec![stdin.fd()];
                fds.extend(streams.iter().flatten().map(|s| s.fd()));
                term::wait(&fds, catch).map_err(|e| RpcError::io(&e))?
            };
            let ready = match woken {
                term::Woken::Interrupted => return Ok(Foreground::Interrupted),
                term::Woken::Ready(ready) => ready,
            };
            if ready[0]
                && let Some(stdin) = self.console.stdin()
            {
                stdin.fill();
            }
            let mut ready_streams = ready[1..].iter();
            for slot in streams.iter_mut() {
                let Some(stream) = slot else { continue };
                if !ready_streams.next().copied().unwrap_or(false) {
                    continue;
                }
                let out = &mut self.out;
                match stream.pump(&mut |data| feed(out, data)) {
                    Ok(true) => {}
                    Ok(false) => *slot = None,
                    Err(line) => {
                        *slot = None;
                        let err = format!("{}/logtail/{name} {line}\n", self.serverurl);
                        self.err.extend_from_slice(err.as_bytes());
                    }
                }
            }
            self.console.show(&mut self.out);
            if !self.err.is_empty() {
                let _ = std::io::stderr().write_all(&std::mem::take(&mut self.err));
            }
        }
    }

    /// Sends one typed line to the process, then checks it still runs (as Python does after
    /// every line); `Some` ends the foreground.
    fn send_line(&mut self, name: &str, line: String) -> Result<Option<Foreground>, RpcError> {
        let data = format!("{line}\n");
        match self.call("supervisor.sendProcessStdin", &[name.into(), data.as_str().into()]) {
            Ok(_) => {}
            Err(RpcError::Fault { code: NOT_RUNNING, .. }) => return Ok(Some(Foreground::Killed)),
            Err(e @ RpcError::Fault { .. }) => return Ok(Some(Foreground::Refused(e))),
            Err(e) => return Err(e),
        }
        let info = self.call("supervisor.getProcessInfo", &[name.into()])?;
        Ok((member_int(&info, "state") != RUNNING).then_some(Foreground::Killed))
    }

    fn do_version(&mut self, arg: &str) -> CmdResult {
        if !arg.is_empty() {
            self.bad_args("Error: version accepts no arguments", EXIT_GENERIC, "version");
            return Ok(());
        }
        if !self.upcheck()? {
            return Ok(());
        }
        let v = self.call("supervisor.getSupervisorVersion", &[])?;
        self.output(&display(&v));
        Ok(())
    }
}

/// Which result texts a multi-process reply is printed with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Start,
    Stop,
    Signal,
    Clear,
}

impl Kind {
    fn line(self, spec: &str, code: i64, description: &str) -> Option<String> {
        match self {
            Kind::Start => Controller::<HttpRpc>::start_result(spec, code),
            Kind::Stop => Controller::<HttpRpc>::signal_result(spec, code, description, "stopped"),
            Kind::Signal => {
                Controller::<HttpRpc>::signal_result(spec, code, description, "signalled")
            }
            Kind::Clear => Controller::<HttpRpc>::clear_result(spec, code),
        }
    }

    fn ignored(self) -> Option<i64> {
        match self {
            Kind::Start => Some(ALREADY_STARTED),
            Kind::Stop => Some(NOT_RUNNING),
            Kind::Signal | Kind::Clear => None,
        }
    }
}

/// Python's `int()` of a tail modifier: optional sign, digits, `_` between digits, spaces.
fn parse_py_int(s: &str) -> Option<i64> {
    let t = s.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if !clean.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n = clean.parse::<i64>().ok()?;
    Some(if neg { -n } else { n })
}

/// supervisorctl's entry point: `args` excludes argv0.
pub fn main(argv0: &str, args: &[String]) -> ExitCode {
    let options = match realize_ctl(args, argv0, &Environ::from_process()) {
        Ok(CtlInvocation::Help) => {
            let _ = writeln!(std::io::stdout(), "{}", SUPERVISORCTL_HELP.replace("%s", argv0));
            return ExitCode::SUCCESS;
        }
        Ok(CtlInvocation::Run(options)) => options,
        Err(e) => {
            let _ = write!(std::io::stderr(), "Error: {e}\nFor help, use {argv0} -h\n");
            return ExitCode::from(2);
        }
    };
    let rpc = HttpRpc {
        serverurl: options.serverurl.clone(),
        username: options.username.clone(),
        password: options.password.clone(),
    };
    let mut controller = Controller::new(rpc, &options.serverurl);
    controller.interactive = options.interactive;
    // `-r` wins over `history_file`. Python parses `-r` but then reads only the config's value,
    // so its `-r` does nothing; ours keeps the history its help text promises.
    let history = options.history.clone().or_else(|| options.history_file.clone());
    controller.console = Box::new(term::TerminalConsole::new(history));
    if let Err(e) = term::install_interrupt() {
        let _ = writeln!(std::io::stderr(), "Error: cannot handle Ctrl-C: {e}");
    }
    if !options.args.is_empty() {
        controller.onecmd(&options.args.join(" "));
        controller.console.show(&mut controller.out);
        let _ = std::io::stderr().write_all(&controller.err);
        return ExitCode::from(controller.exitstatus);
    }
    controller.cmdloop(&format!("{}> ", options.prompt));
    // The shell always exits 0, whatever its commands did.
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests;
