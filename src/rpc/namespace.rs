//! The `supervisor.*` and `system.*` methods (supervisor's `SupervisorNamespaceRPCInterface` and
//! `SystemNamespaceRPCInterface`), as functions over the process table run inside the actor.
//!
//! Each method checks what Python checks, in Python's order, so the same call gets the same
//! fault. A method that must wait for a state returns [`Reply::Wait`], a check the actor repeats
//! after every step (supervisor's deferred `NOT_DONE_YET` callbacks).

use crate::config::Logfile;
use crate::config::datatypes::signal_number;
use crate::logs::files::{ReadError, decode_for_rpc, read_file, tail_file};
use crate::logs::mainlog::ClearError;
use crate::process::spawn::{SpawnErrorKind, get_execv_args};
use crate::process::state::{ProcessState, SupervisorState};
use crate::process::supervisor::{Supervisor, now};
use crate::rpc::faults::{Fault, FaultCode};
use crate::rpc::method_docs::METHOD_DOCS;
use crate::rpc::xmlrpc::{StructWriter, Value, begin_array, end_array, push_int};
use crate::{int_member, str_member};

pub type Answer = Result<Value, Fault>;

/// A deferred answer: `None` until it is ready.
pub type Pending = Box<dyn FnMut(&mut Supervisor) -> Option<Answer> + Send>;

pub enum Reply {
    Done(Answer),
    Wait(Pending),
}

/// A method that failed before deciding how to answer answers with its fault.
fn flatten(r: Result<Reply, Fault>) -> Reply {
    r.unwrap_or_else(|fault| Reply::Done(Err(fault)))
}

impl From<Answer> for Reply {
    fn from(answer: Answer) -> Reply {
        Reply::Done(answer)
    }
}

/// The `XML-RPC` API version (`rpcinterface.API_VERSION`); supervisorctl requires exactly this.
pub const API_VERSION: &str = "3.0";

/// Every method name, as `system.listMethods` returns them (sorted).
pub const METHODS: &[&str] = &[
    "supervisor.addProcessGroup",
    "supervisor.clearAllProcessLogs",
    "supervisor.clearLog",
    "supervisor.clearProcessLog",
    "supervisor.clearProcessLogs",
    "supervisor.getAPIVersion",
    "supervisor.getAllConfigInfo",
    "supervisor.getAllProcessInfo",
    "supervisor.getIdentification",
    "supervisor.getPID",
    "supervisor.getProcessInfo",
    "supervisor.getState",
    "supervisor.getSupervisorVersion",
    "supervisor.getVersion",
    "supervisor.readLog",
    "supervisor.readMainLog",
    "supervisor.readProcessLog",
    "supervisor.readProcessStderrLog",
    "supervisor.readProcessStdoutLog",
    "supervisor.reloadConfig",
    "supervisor.removeProcessGroup",
    "supervisor.restart",
    "supervisor.sendProcessStdin",
    "supervisor.sendRemoteCommEvent",
    "supervisor.shutdown",
    "supervisor.signalAllProcesses",
    "supervisor.signalProcess",
    "supervisor.signalProcessGroup",
    "supervisor.startAllProcesses",
    "supervisor.startProcess",
    "supervisor.startProcessGroup",
    "supervisor.stopAllProcesses",
    "supervisor.stopProcess",
    "supervisor.stopProcessGroup",
    "supervisor.tailProcessLog",
    "supervisor.tailProcessStderrLog",
    "supervisor.tailProcessStdoutLog",
    "system.listMethods",
    "system.methodHelp",
    "system.methodSignature",
    "system.multicall",
];

fn incorrect() -> Fault {
    Fault::bare(FaultCode::IncorrectParameters)
}

/// Python raises TypeError (INCORRECT_PARAMETERS) when the argument count does not fit.
fn arity(params: &[Value], min: usize, max: usize) -> Result<(), Fault> {
    if (min..=max).contains(&params.len()) { Ok(()) } else { Err(incorrect()) }
}

/// A name argument. Python would crash on a non-string (HTTP 500); we answer
/// INCORRECT_PARAMETERS instead.
fn text(v: &Value) -> Result<String, Fault> {
    v.as_str().map(str::to_string).ok_or_else(incorrect)
}

/// Python's `'%s' % x` for the scalar XML-RPC values a client may pass where supervisor only
/// formats the argument (`sendRemoteCommEvent`); other types answer INCORRECT_PARAMETERS.
fn formatted(v: &Value) -> Result<String, Fault> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        Value::Int(i) => Ok(i.to_string()),
        Value::Bool(b) => Ok(if *b { "True" } else { "False" }.to_string()),
        _ => Err(incorrect()),
    }
}

/// Python's `int(x)` on an XML-RPC value.
fn int(v: &Value) -> Result<i64, Fault> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::Str(s) => crate::config::datatypes::integer(s).map_err(|_| incorrect()),
        _ => Err(incorrect()),
    }
}

/// Python truthiness, for `wait` flags.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Str(s) => !s.is_empty(),
        Value::Double(d) => *d != 0.0,
        Value::Array(a) => !a.is_empty(),
        Value::Struct(s) => !s.is_empty(),
        Value::Base64(b) => !b.is_empty(),
        Value::DateTime(_) | Value::Marshalled(_) => true,
        Value::Nil => false,
    }
}

fn wait_flag(params: &[Value], at: usize) -> bool {
    params.get(at).is_none_or(truthy)
}

/// `_update`: every `supervisor.*` method refuses to act while supervisord stops or restarts.
fn check_mood(sup: &Supervisor) -> Result<(), Fault> {
    if sup.mood < SupervisorState::Running {
        Err(Fault::bare(FaultCode::ShutdownState))
    } else {
        Ok(())
    }
}

/// What a namespec names.
#[derive(Clone, Copy)]
enum Target {
    Group,
    Process(usize, usize),
}

/// `split_namespec`: `g:p`, `g:` or `g:*` (the whole group), or `p` (group and process `p`).
fn split_namespec(name: &str) -> (&str, Option<&str>) {
    match name.split_once(':') {
        Some((group, "" | "*")) => (group, None),
        Some((group, process)) => (group, Some(process)),
        None => (name, Some(name)),
    }
}

/// `make_namespec`.
pub fn namespec(group: &str, process: &str) -> String {
    if group == process { process.to_string() } else { format!("{group}:{process}") }
}

/// `_getGroupAndProcess`.
fn lookup(sup: &Supervisor, name: &str) -> Result<Target, Fault> {
    let (group, process) = split_namespec(name);
    let bad = || Fault::with(FaultCode::BadName, name);
    let g = sup.group_index(group).ok_or_else(bad)?;
    match process {
        None => Ok(Target::Group),
        Some(p) => Ok(Target::Process(g, sup.process_index(g, p).ok_or_else(bad)?)),
    }
}

fn lookup_process(sup: &Supervisor, name: &str) -> Result<(usize, usize), Fault> {
    match lookup(sup, name)? {
        Target::Process(g, p) => Ok((g, p)),
        Target::Group => Err(Fault::with(FaultCode::BadName, name)),
    }
}

/// `getState` with no arguments, which depends on nothing but the mood.
pub fn get_state(mood: SupervisorState) -> Answer {
    if mood < SupervisorState::Running {
        return Err(Fault::bare(FaultCode::ShutdownState));
    }
    Ok(Value::Struct(vec![
        ("statecode".into(), Value::Int(mood.code())),
        ("statename".into(), Value::Str(mood.name().into())),
    ]))
}

/// The `now` every time field of a reply carries: the current second, as supervisor's
/// `capped_int(time.time())`.
pub fn now_second() -> i64 {
    capped_int(now())
}

/// `xmlrpc.capped_int`: XML-RPC ints are 32-bit.
fn capped_int(value: f64) -> i64 {
    (value as i64).clamp(i64::from(i32::MIN), i64::from(i32::MAX))
}

/// Python's `str(datetime.timedelta(seconds=n))` for whole non-negative seconds, appended.
fn push_timedelta(out: &mut String, seconds: i64) {
    let (days, rest) = (seconds / 86400, seconds % 86400);
    match days {
        0 => {}
        1 => out.push_str("1 day, "),
        d => {
            push_int(out, d);
            out.push_str(" days, ");
        }
    }
    push_int(out, rest / 3600);
    for part in [rest % 3600 / 60, rest % 60] {
        out.push(':');
        if part < 10 {
            out.push('0');
        }
        push_int(out, part);
    }
}

/// `time.localtime(t)` formatted `%b %d %I:%M %p` in the C locale.
fn local_stop_time(t: i64) -> String {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let Ok(ts) = jiff::Timestamp::from_second(t) else { return String::new() };
    let dt = jiff::tz::TimeZone::system().to_datetime(ts);
    let hour12 = match dt.hour() % 12 {
        0 => 12,
        h => h,
    };
    let month = MONTHS.get(usize::try_from(dt.month() - 1).unwrap_or(0)).copied().unwrap_or("Jan");
    let ampm = if dt.hour() < 12 { "AM" } else { "PM" };
    format!("{month} {:02} {hour12:02}:{:02} {ampm}", dt.day(), dt.minute())
}

/// `getProcessInfo` for one process, written straight into `out` (see [`StructWriter`]).
fn process_info_into(out: &mut String, sup: &Supervisor, g: usize, p: usize, now: i64) {
    let group = &sup.groups[g];
    let slot = &group.processes[p];
    let proc = &slot.process;
    let (start, stop) = (capped_int(proc.laststart), capped_int(proc.laststop));
    let spawnerr = proc.spawnerr.as_deref().unwrap_or_default();
    let description = match proc.state {
        // The common case, written in place below.
        ProcessState::Running => String::new(),
        ProcessState::Fatal | ProcessState::Backoff if spawnerr.is_empty() => {
            format!("unknown error (try \"tail {}\")", proc.config.name)
        }
        ProcessState::Fatal | ProcessState::Backoff => spawnerr.to_string(),
        ProcessState::Stopped | ProcessState::Exited if start != 0 => local_stop_time(stop),
        ProcessState::Stopped | ProcessState::Exited => "Not started".to_string(),
        _ => String::new(),
    };
    let stdout = slot.logs[0].path.as_deref().unwrap_or_default();
    let stderr = slot.logs[1].path.as_deref().unwrap_or_default();
    let mut s = StructWriter::begin(out);
    s.str(str_member!("name"), &proc.config.name);
    s.str(str_member!("group"), &group.config.name);
    s.int(int_member!("start"), start);
    s.int(int_member!("stop"), stop);
    s.int(int_member!("now"), now);
    s.int(int_member!("state"), proc.state.code());
    s.str(str_member!("statename"), proc.state.name());
    s.str(str_member!("spawnerr"), spawnerr);
    s.int(int_member!("exitstatus"), proc.exitstatus.unwrap_or(0));
    s.str(str_member!("logfile"), stdout);
    s.str(str_member!("stdout_logfile"), stdout);
    s.str(str_member!("stderr_logfile"), stderr);
    s.int(int_member!("pid"), i64::from(proc.pid));
    if proc.state == ProcessState::Running {
        s.str_with(str_member!("description"), |out| {
            out.push_str("pid ");
            push_int(out, i64::from(proc.pid));
            out.push_str(", uptime ");
            push_timedelta(out, (now - start).max(0));
        });
    } else {
        s.str(str_member!("description"), &description);
    }
    s.end();
}

/// A generous guess at one process's marshalled info, so the buffer rarely grows.
const PROCESS_INFO_BYTES: usize = 1024;

/// `_getAllProcesses`: (group, process) indexes in priority order, or by name when `lexical`.
fn all_processes(sup: &Supervisor, lexical: bool) -> Vec<(usize, usize)> {
    let mut groups: Vec<usize> = (0..sup.groups.len()).collect();
    if lexical {
        groups.sort_by(|&a, &b| sup.groups[a].config.name.cmp(&sup.groups[b].config.name));
    }
    let mut out = Vec::new();
    for g in groups {
        let mut procs: Vec<usize> = (0..sup.groups[g].processes.len()).collect();
        if lexical {
            procs.sort_by(|&a, &b| {
                sup.groups[g].processes[a]
                    .process
                    .config
                    .name
                    .cmp(&sup.groups[g].processes[b].process.config.name)
            });
        }
        out.extend(procs.into_iter().map(|p| (g, p)));
    }
    out
}

fn group_processes(sup: &Supervisor, g: usize) -> Vec<(usize, usize)> {
    (0..sup.groups[g].processes.len()).map(|p| (g, p)).collect()
}

fn result_struct(
    sup: &Supervisor,
    g: usize,
    p: usize,
    code: FaultCode,
    description: &str,
) -> Value {
    Value::Struct(vec![
        ("name".into(), Value::Str(sup.groups[g].processes[p].process.config.name.clone())),
        ("group".into(), Value::Str(sup.groups[g].config.name.clone())),
        ("status".into(), Value::Int(code.code())),
        ("description".into(), Value::Str(description.into())),
    ])
}

/// Process and group names are looked up again on every poll: a group removed meanwhile just
/// ends the wait.
fn names(sup: &Supervisor, g: usize, p: usize) -> (String, String) {
    (sup.groups[g].config.name.clone(), sup.groups[g].processes[p].process.config.name.clone())
}

fn resolve(sup: &Supervisor, group: &str, process: &str) -> Option<(usize, usize)> {
    let g = sup.group_index(group)?;
    Some((g, sup.process_index(g, process)?))
}

/// `make_allfunc`: apply `func` to every process matching `predicate`; synchronous faults are
/// recorded at once, deferred ones as they finish (so results come in completion order).
fn all_func(
    sup: &mut Supervisor,
    targets: Vec<(usize, usize)>,
    predicate: fn(ProcessState) -> bool,
    func: impl Fn(&mut Supervisor, &str) -> Reply,
) -> Reply {
    let mut results = Vec::new();
    let mut callbacks: Vec<(String, String, Pending)> = Vec::new();
    for (g, p) in targets {
        if !predicate(sup.groups[g].processes[p].process.state) {
            continue;
        }
        let (group, process) = names(sup, g, p);
        match func(sup, &namespec(&group, &process)) {
            Reply::Done(Ok(_)) => results.push(result_struct(sup, g, p, FaultCode::Success, "OK")),
            Reply::Done(Err(f)) => results.push(result_struct(sup, g, p, f.code, &f.text)),
            Reply::Wait(cb) => callbacks.push((group, process, cb)),
        }
    }
    if callbacks.is_empty() {
        return Reply::Done(Ok(Value::Array(results)));
    }
    Reply::Wait(Box::new(move |sup| {
        let mut i = 0;
        while i < callbacks.len() {
            let outcome = (callbacks[i].2)(sup);
            match outcome {
                None => i += 1,
                Some(answer) => {
                    let (group, process, _) = callbacks.remove(i);
                    let (code, text) = match &answer {
                        Ok(_) => (FaultCode::Success, "OK".to_string()),
                        Err(f) => (f.code, f.text.clone()),
                    };
                    results.push(Value::Struct(vec![
                        ("name".into(), Value::Str(process)),
                        ("group".into(), Value::Str(group)),
                        ("status".into(), Value::Int(code.code())),
                        ("description".into(), Value::Str(text)),
                    ]));
                }
            }
        }
        callbacks.is_empty().then(|| Ok(Value::Array(std::mem::take(&mut results))))
    }))
}

/// Dispatches one call (never `system.multicall`, which the caller runs call by call).
pub fn call(sup: &mut Supervisor, method: &str, params: &[Value]) -> Reply {
    // supervisor's `traverse`: exactly `namespace.method`, nothing starting with `_`.
    let known =
        method.split_once('.').is_some_and(|(_, m)| !m.contains('.') && !m.starts_with('_'));
    if !known || !METHODS.contains(&method) {
        return Reply::Done(Err(Fault::bare(FaultCode::UnknownMethod)));
    }
    flatten(dispatch(sup, method, params))
}

fn done(v: Value) -> Result<Reply, Fault> {
    Ok(Reply::Done(Ok(v)))
}

/// The methods that only look at the table ([`READ_METHODS`]): answered from a shared borrow,
/// so the actor can run them without a loop iteration after them.
fn dispatch_read(sup: &Supervisor, m: &str, params: &[Value]) -> Option<Answer> {
    READ_METHODS.contains(&m).then(|| read_method(sup, m, params))
}

fn read_method(sup: &Supervisor, m: &str, params: &[Value]) -> Answer {
    match m {
        "getAPIVersion" | "getVersion" => {
            arity(params, 0, 0)?;
            check_mood(sup)?;
            Ok(Value::Str(API_VERSION.into()))
        }
        "getSupervisorVersion" => {
            arity(params, 0, 0)?;
            check_mood(sup)?;
            Ok(Value::Str(crate::SUPERVISOR_VERSION.into()))
        }
        "getIdentification" => {
            arity(params, 0, 0)?;
            check_mood(sup)?;
            Ok(Value::Str(sup.options.identifier.clone()))
        }
        "getState" => {
            arity(params, 0, 0)?;
            get_state(sup.mood)
        }
        "getPID" => {
            arity(params, 0, 0)?;
            check_mood(sup)?;
            Ok(Value::Int(i64::from(std::process::id())))
        }
        "readLog" | "readMainLog" => {
            arity(params, 2, 2)?;
            check_mood(sup)?;
            let (offset, length) = (int(&params[0])?, int(&params[1])?);
            let logfile = sup.options.logfile.clone();
            if !std::path::Path::new(&logfile).exists() {
                return Err(Fault::with(FaultCode::NoFile, logfile));
            }
            Ok(Value::Str(decode_for_rpc(
                &read_file(&logfile, offset, length).map_err(read_fault)?,
            )))
        }
        "getProcessInfo" => {
            arity(params, 1, 1)?;
            check_mood(sup)?;
            let (g, p) = lookup_process(sup, &text(&params[0])?)?;
            let mut out = String::with_capacity(PROCESS_INFO_BYTES);
            process_info_into(&mut out, sup, g, p, now_second());
            Ok(Value::Marshalled(out))
        }
        "getAllProcessInfo" => {
            arity(params, 0, 0)?;
            check_mood(sup)?;
            let all = all_processes(sup, true);
            let now = now_second();
            let mut out = String::with_capacity(64 + all.len() * PROCESS_INFO_BYTES);
            begin_array(&mut out);
            for (g, p) in all {
                process_info_into(&mut out, sup, g, p, now);
            }
            end_array(&mut out);
            Ok(Value::Marshalled(out))
        }
        "getAllConfigInfo" => {
            arity(params, 0, 0)?;
            check_mood(sup)?;
            Ok(all_config_info(sup))
        }
        "readProcessStdoutLog" | "readProcessLog" | "readProcessStderrLog" => {
            let (path, offset, length) =
                process_log_args(sup, params, m == "readProcessStderrLog")?;
            let Some(path) = path.filter(|p| std::path::Path::new(p).exists()) else {
                return Err(match path {
                    Some(p) => Fault::with(FaultCode::NoFile, p),
                    None => Fault::bare(FaultCode::NoFile),
                });
            };
            Ok(Value::Str(decode_for_rpc(&read_file(path, offset, length).map_err(read_fault)?)))
        }
        "tailProcessStdoutLog" | "tailProcessLog" | "tailProcessStderrLog" => {
            let (path, offset, length) =
                process_log_args(sup, params, m == "tailProcessStderrLog")?;
            let (data, offset, overflow) = match path.filter(|p| std::path::Path::new(p).exists()) {
                Some(path) => tail_file(path, offset, length),
                None => (Vec::new(), 0, false),
            };
            Ok(Value::Array(vec![
                Value::Str(decode_for_rpc(&data)),
                Value::Int(offset),
                Value::Bool(overflow),
            ]))
        }
        _ => Err(Fault::bare(FaultCode::UnknownMethod)),
    }
}

/// The arguments of the read and tail log methods, checked in Python's order: the process's
/// stdout or stderr log path (if it has one), the offset and the length.
fn process_log_args<'a>(
    sup: &'a Supervisor,
    params: &[Value],
    stderr: bool,
) -> Result<(Option<&'a str>, i64, i64), Fault> {
    arity(params, 3, 3)?;
    check_mood(sup)?;
    let (g, p) = lookup_process(sup, &text(&params[0])?)?;
    let (offset, length) = (int(&params[1])?, int(&params[2])?);
    let slot = &sup.groups[g].processes[p];
    let path = &slot.logs[usize::from(stderr)].path;
    Ok((path.as_deref(), offset, length))
}

/// The `supervisor.*` methods [`dispatch_read`] answers (names without the namespace).
const READ_METHODS: &[&str] = &[
    "getAPIVersion",
    "getVersion",
    "getSupervisorVersion",
    "getIdentification",
    "getState",
    "getPID",
    "readLog",
    "readMainLog",
    "getProcessInfo",
    "getAllProcessInfo",
    "getAllConfigInfo",
    "readProcessStdoutLog",
    "readProcessLog",
    "readProcessStderrLog",
    "tailProcessStdoutLog",
    "tailProcessLog",
    "tailProcessStderrLog",
];

/// Whether [`call_read`] answers `method`: it only looks at the table, so it may run from a
/// shared borrow with no loop iteration after it.
pub fn is_read_only(method: &str) -> bool {
    match method.split_once('.') {
        Some(("supervisor", m)) => READ_METHODS.contains(&m),
        Some(("system", m)) => m != "multicall" && METHODS.contains(&method),
        _ => false,
    }
}

/// [`call`] for a method that [`is_read_only`]: the same answer, from a shared borrow.
pub fn call_read(sup: &Supervisor, method: &str, params: &[Value]) -> Answer {
    let m = method.split_once('.').map_or(method, |(_, m)| m);
    if method.starts_with("system.") {
        return match system(m, params) {
            Ok(Reply::Done(answer)) => answer,
            Ok(Reply::Wait(_)) => Err(Fault::bare(FaultCode::UnknownMethod)),
            Err(fault) => Err(fault),
        };
    }
    dispatch_read(sup, m, params).unwrap_or_else(|| Err(Fault::bare(FaultCode::UnknownMethod)))
}

fn dispatch(sup: &mut Supervisor, method: &str, params: &[Value]) -> Result<Reply, Fault> {
    let m = method.split_once('.').map_or(method, |(_, m)| m);
    if method.starts_with("system.") {
        return system(m, params);
    }
    if let Some(answer) = dispatch_read(sup, m, params) {
        return Ok(Reply::Done(answer));
    }
    match m {
        "clearLog" => {
            arity(params, 0, 0)?;
            check_mood(sup)?;
            match sup.logger.clear() {
                Ok(()) => done(Value::Bool(true)),
                Err(ClearError::NoFile) => Err(Fault::bare(FaultCode::NoFile)),
                Err(ClearError::Failed) => Err(Fault::bare(FaultCode::Failed)),
            }
        }
        "shutdown" => {
            arity(params, 0, 0)?;
            check_mood(sup)?;
            sup.mood = SupervisorState::Shutdown;
            done(Value::Bool(true))
        }
        "restart" => {
            arity(params, 0, 0)?;
            check_mood(sup)?;
            sup.mood = SupervisorState::Restarting;
            done(Value::Bool(true))
        }
        "addProcessGroup" => {
            arity(params, 1, 1)?;
            check_mood(sup)?;
            let name = text(&params[0])?;
            let config = sup.options.file.groups.iter().find(|g| g.name == name).cloned();
            let Some(config) = config else { return Err(Fault::with(FaultCode::BadName, name)) };
            if !sup.add_process_group(config) {
                return Err(Fault::with(FaultCode::AlreadyAdded, name));
            }
            done(Value::Bool(true))
        }
        "removeProcessGroup" => {
            arity(params, 1, 1)?;
            check_mood(sup)?;
            let name = text(&params[0])?;
            if sup.group_index(&name).is_none() {
                return Err(Fault::with(FaultCode::BadName, name));
            }
            if !sup.remove_process_group(&name) {
                return Err(Fault::with(FaultCode::StillRunning, name));
            }
            done(Value::Bool(true))
        }
        "startProcess" => {
            arity(params, 1, 2)?;
            Ok(start_process(sup, &text(&params[0])?, wait_flag(params, 1)))
        }
        "startProcessGroup" => {
            arity(params, 1, 2)?;
            start_group(sup, &text(&params[0])?, wait_flag(params, 1))
        }
        "startAllProcesses" => {
            arity(params, 0, 1)?;
            check_mood(sup)?;
            let wait = wait_flag(params, 0);
            let targets = all_processes(sup, false);
            Ok(all_func(
                sup,
                targets,
                |s| !s.is_running(),
                |sup, name| start_process(sup, name, wait),
            ))
        }
        "stopProcess" => {
            arity(params, 1, 2)?;
            Ok(stop_process(sup, &text(&params[0])?, wait_flag(params, 1)))
        }
        "stopProcessGroup" => {
            arity(params, 1, 2)?;
            stop_group(sup, &text(&params[0])?, wait_flag(params, 1))
        }
        "stopAllProcesses" => {
            arity(params, 0, 1)?;
            check_mood(sup)?;
            let wait = wait_flag(params, 0);
            let targets = all_processes(sup, false);
            Ok(all_func(sup, targets, ProcessState::is_running, |sup, name| {
                stop_process(sup, name, wait)
            }))
        }
        "signalProcess" => {
            arity(params, 2, 2)?;
            Ok(signal_process(sup, &text(&params[0])?, &params[1]))
        }
        "signalProcessGroup" => {
            arity(params, 2, 2)?;
            signal_group(sup, &text(&params[0])?, &params[1])
        }
        "signalAllProcesses" => {
            arity(params, 1, 1)?;
            let targets = all_processes(sup, false);
            let signal = params[0].clone();
            let reply = all_func(sup, targets, ProcessState::is_signallable, |sup, name| {
                signal_process(sup, name, &signal)
            });
            // Python signals everything first and only then refuses during a shutdown (GOT-27).
            check_mood(sup)?;
            Ok(reply)
        }
        "clearProcessLogs" | "clearProcessLog" => {
            arity(params, 1, 1)?;
            check_mood(sup)?;
            let name = text(&params[0])?;
            let (g, p) = lookup_process(sup, &name)?;
            sup.clear_process_logs(g, p).map_err(|_| Fault::with(FaultCode::Failed, &name))?;
            done(Value::Bool(true))
        }
        "clearAllProcessLogs" => {
            arity(params, 0, 0)?;
            check_mood(sup)?;
            let mut results = Vec::new();
            for (g, p) in all_processes(sup, false) {
                let (group, process) = names(sup, g, p);
                let r = match sup.clear_process_logs(g, p) {
                    Ok(()) => result_struct(sup, g, p, FaultCode::Success, "OK"),
                    Err(_) => {
                        let f = Fault::with(FaultCode::Failed, namespec(&group, &process));
                        result_struct(sup, g, p, f.code, &f.text)
                    }
                };
                results.push(r);
            }
            done(Value::Array(results))
        }
        "sendProcessStdin" => {
            arity(params, 2, 2)?;
            check_mood(sup)?;
            let data = match &params[1] {
                Value::Str(s) => s.as_bytes().to_vec(),
                Value::Base64(b) => b.clone(),
                other => {
                    let shown = match other {
                        Value::Int(i) => i.to_string(),
                        Value::Bool(b) => {
                            if *b {
                                "True".into()
                            } else {
                                "False".into()
                            }
                        }
                        _ => String::new(),
                    };
                    return Err(Fault::with(FaultCode::IncorrectParameters, shown));
                }
            };
            let name = text(&params[0])?;
            let (g, p) = lookup_process(sup, &name)?;
            let slot = &mut sup.groups[g].processes[p];
            if slot.process.pid == 0 || slot.process.killing {
                return Err(Fault::with(FaultCode::NotRunning, name));
            }
            let sent = slot.io.as_mut().is_some_and(|io| io.write_stdin(data).is_ok());
            if !sent {
                return Err(Fault::with(FaultCode::NoFile, name));
            }
            done(Value::Bool(true))
        }
        "sendRemoteCommEvent" => {
            // Never checks the mood (GOT-27).
            arity(params, 2, 2)?;
            let (kind, data) = (formatted(&params[0])?, formatted(&params[1])?);
            sup.notify(crate::events::Event::remote_communication(&kind, &data));
            done(Value::Bool(true))
        }
        "reloadConfig" => {
            arity(params, 0, 0)?;
            check_mood(sup)?;
            let diff = sup
                .reload_config()
                .map_err(|e| Fault::with(FaultCode::CantReread, e.to_string()))?;
            let names =
                |v: Vec<String>| Value::Array(v.into_iter().map(Value::Str).collect::<Vec<_>>());
            done(Value::Array(vec![Value::Array(vec![
                names(diff.added),
                names(diff.changed),
                names(diff.removed),
            ])]))
        }
        _ => Err(Fault::bare(FaultCode::UnknownMethod)),
    }
}

fn read_fault(e: ReadError) -> Fault {
    match e {
        ReadError::BadArguments => Fault::bare(FaultCode::BadArguments),
        ReadError::Failed => Fault::bare(FaultCode::Failed),
    }
}

fn system(method: &str, params: &[Value]) -> Result<Reply, Fault> {
    match method {
        "listMethods" => {
            arity(params, 0, 0)?;
            done(Value::Array(METHODS.iter().map(|m| Value::Str((*m).into())).collect()))
        }
        "methodHelp" | "methodSignature" => {
            arity(params, 1, 1)?;
            let name = text(&params[0])?;
            let unsupported = || Fault::bare(FaultCode::SignatureUnsupported);
            let (_, help, signature) =
                METHOD_DOCS.iter().find(|(m, _, _)| *m == name).ok_or_else(unsupported)?;
            if method == "methodHelp" {
                return done(Value::Str((*help).to_string()));
            }
            let signature = signature.ok_or_else(unsupported)?;
            done(Value::Array(signature.iter().map(|t| Value::Str((*t).to_string())).collect()))
        }
        // The multicall loop lives with the caller, which awaits each call in turn.
        _ => Err(Fault::bare(FaultCode::UnknownMethod)),
    }
}

/// `startProcess`.
fn start_process(sup: &mut Supervisor, name: &str, wait: bool) -> Reply {
    flatten(start_process_inner(sup, name, wait))
}

fn start_process_inner(sup: &mut Supervisor, name: &str, wait: bool) -> Result<Reply, Fault> {
    check_mood(sup)?;
    let (g, p) = match lookup(sup, name)? {
        Target::Group => return start_group(sup, split_namespec(name).0, wait),
        Target::Process(g, p) => (g, p),
    };
    // Test the command first: don't bother spawning what is known to fail (GOT-29).
    let config = std::sync::Arc::clone(&sup.groups[g].processes[p].process.config);
    if let Err(e) = get_execv_args(&config.command, &sup.exec_path(&config)) {
        let code = if e.kind() == SpawnErrorKind::NotFound {
            FaultCode::NoFile
        } else {
            FaultCode::NotExecutable
        };
        return Err(Fault::with(code, e));
    }
    let state = sup.groups[g].processes[p].process.state;
    if state.is_running() {
        return Err(Fault::with(FaultCode::AlreadyStarted, name));
    }
    if state == ProcessState::Unknown {
        return Err(Fault::with(
            FaultCode::Failed,
            format!("{name} is in an unknown process state"),
        ));
    }
    let t = now();
    sup.with_process(g, p, |proc, os, fx| proc.spawn(t, os, fx));
    sup.reap();
    if sup.groups[g].processes[p].process.spawnerr.is_some() {
        return Err(Fault::with(FaultCode::SpawnError, name));
    }
    let mood = sup.mood;
    sup.with_process(g, p, |proc, os, fx| proc.transition(now(), mood, os, fx));
    if !wait || sup.groups[g].processes[p].process.state == ProcessState::Running {
        return done(Value::Bool(true));
    }
    let (group, process) = names(sup, g, p);
    let name = name.to_string();
    Ok(Reply::Wait(Box::new(move |sup| {
        let (g, p) = resolve(sup, &group, &process)?;
        let proc = &sup.groups[g].processes[p].process;
        if proc.spawnerr.is_some() {
            return Some(Err(Fault::with(FaultCode::SpawnError, &name)));
        }
        match proc.state {
            ProcessState::Running => Some(Ok(Value::Bool(true))),
            ProcessState::Starting => None,
            _ => Some(Err(Fault::with(FaultCode::AbnormalTermination, &name))),
        }
    })))
}

fn start_group(sup: &mut Supervisor, name: &str, wait: bool) -> Result<Reply, Fault> {
    check_mood(sup)?;
    let g = sup.group_index(name).ok_or_else(|| Fault::with(FaultCode::BadName, name))?;
    let targets = priority_order(sup, g);
    Ok(all_func(sup, targets, |s| !s.is_running(), |sup, n| start_process(sup, n, wait)))
}

/// A group's processes sorted by priority (stable), as `processes.sort()` does.
fn priority_order(sup: &Supervisor, g: usize) -> Vec<(usize, usize)> {
    let mut targets = group_processes(sup, g);
    targets.sort_by_key(|&(g, p)| sup.groups[g].processes[p].process.config.priority);
    targets
}

/// `stopProcess`.
fn stop_process(sup: &mut Supervisor, name: &str, wait: bool) -> Reply {
    flatten(stop_process_inner(sup, name, wait))
}

fn stop_process_inner(sup: &mut Supervisor, name: &str, wait: bool) -> Result<Reply, Fault> {
    check_mood(sup)?;
    let (g, p) = match lookup(sup, name)? {
        Target::Group => return stop_group(sup, split_namespec(name).0, wait),
        Target::Process(g, p) => (g, p),
    };
    if !sup.groups[g].processes[p].process.state.is_running() {
        return Err(Fault::with(FaultCode::NotRunning, name));
    }
    let t = now();
    if let Some(message) = sup.with_process(g, p, |proc, os, fx| proc.stop(t, os, fx)) {
        return Err(Fault::with(FaultCode::Failed, message));
    }
    sup.reap();
    if !wait || sup.groups[g].processes[p].process.state.is_stopped() {
        return done(Value::Bool(true));
    }
    let (group, process) = names(sup, g, p);
    Ok(Reply::Wait(Box::new(move |sup| {
        let (g, p) = resolve(sup, &group, &process)?;
        let t = now();
        sup.with_process(g, p, |proc, _, fx| proc.stop_report(t, fx));
        sup.groups[g].processes[p].process.state.is_stopped().then_some(Ok(Value::Bool(true)))
    })))
}

fn stop_group(sup: &mut Supervisor, name: &str, wait: bool) -> Result<Reply, Fault> {
    check_mood(sup)?;
    let g = sup.group_index(name).ok_or_else(|| Fault::with(FaultCode::BadName, name))?;
    let targets = priority_order(sup, g);
    Ok(all_func(sup, targets, ProcessState::is_running, |sup, n| stop_process(sup, n, wait)))
}

/// The signal argument as text: names and numbers both arrive here.
fn signal_text(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Str(s) => s.clone(),
        Value::Bool(b) => i64::from(*b).to_string(),
        _ => String::new(),
    }
}

/// `signalProcess`.
fn signal_process(sup: &mut Supervisor, name: &str, signal: &Value) -> Reply {
    flatten(signal_process_inner(sup, name, signal))
}

fn signal_process_inner(sup: &mut Supervisor, name: &str, signal: &Value) -> Result<Reply, Fault> {
    check_mood(sup)?;
    let (g, p) = match lookup(sup, name)? {
        Target::Group => return signal_group(sup, split_namespec(name).0, signal),
        Target::Process(g, p) => (g, p),
    };
    let shown = signal_text(signal);
    let sig = signal_number(&shown).map_err(|_| Fault::with(FaultCode::BadSignal, &shown))?;
    if !sup.groups[g].processes[p].process.state.is_signallable() {
        return Err(Fault::with(FaultCode::NotRunning, name));
    }
    let t = now();
    if let Some(message) = sup.with_process(g, p, |proc, os, fx| proc.signal(sig, t, os, fx)) {
        return Err(Fault::with(FaultCode::Failed, message));
    }
    done(Value::Bool(true))
}

fn signal_group(sup: &mut Supervisor, name: &str, signal: &Value) -> Result<Reply, Fault> {
    // Python looks the group up, then checks the mood, then reports the missing group.
    let g = sup.group_index(name);
    check_mood(sup)?;
    let g = g.ok_or_else(|| Fault::with(FaultCode::BadName, name))?;
    let targets = priority_order(sup, g);
    let signal = signal.clone();
    Ok(all_func(sup, targets, ProcessState::is_signallable, |sup, n| {
        signal_process(sup, n, &signal)
    }))
}

/// `getAllConfigInfo`: every process of every configured group, sorted by process name.
fn all_config_info(sup: &Supervisor) -> Value {
    let none = || Value::Str("none".into());
    let opt = |v: &Option<String>| v.clone().map_or_else(none, Value::Str);
    let mut rows: Vec<(String, Value)> = Vec::new();
    for gconfig in &sup.options.file.groups {
        let active = sup.group_index(&gconfig.name);
        for pconfig in &gconfig.processes {
            // Only the config the active group was made from knows its AUTO logs' names: after
            // a reread the new configs show `auto` (GOT-18).
            let slot = active
                .and_then(|g| {
                    sup.process_index(g, &pconfig.name).map(|p| &sup.groups[g].processes[p])
                })
                .filter(|s| std::sync::Arc::ptr_eq(&s.process.config, pconfig));
            let logfile = |channel: &crate::config::ChannelConfig,
                           resolved: Option<&Option<String>>| match (
                &channel.logfile,
                resolved,
            ) {
                // An active group's AUTO log has its real name by now (GOT-18).
                (Logfile::Auto, Some(path)) => opt(path),
                (Logfile::Auto, None) => Value::Str("auto".into()),
                (Logfile::None, _) => none(),
                (Logfile::Path(p), _) => Value::Str(p.clone()),
            };
            let stdout = logfile(&pconfig.stdout, slot.map(|s| &s.logs[0].path));
            let stderr = logfile(&pconfig.stderr, slot.map(|s| &s.logs[1].path));
            let row = Value::Struct(vec![
                ("autostart".into(), Value::Bool(pconfig.autostart)),
                ("directory".into(), opt(&pconfig.directory)),
                ("uid".into(), pconfig.uid.map_or_else(none, |u| Value::Int(i64::from(u)))),
                ("command".into(), Value::Str(pconfig.command.clone())),
                (
                    "exitcodes".into(),
                    Value::Array(pconfig.exitcodes.iter().map(|c| Value::Int(*c)).collect()),
                ),
                ("group".into(), Value::Str(gconfig.name.clone())),
                ("group_prio".into(), Value::Int(gconfig.priority)),
                ("inuse".into(), Value::Bool(active.is_some())),
                ("killasgroup".into(), Value::Bool(pconfig.killasgroup)),
                ("name".into(), Value::Str(pconfig.name.clone())),
                ("process_prio".into(), Value::Int(pconfig.priority)),
                ("redirect_stderr".into(), Value::Bool(pconfig.redirect_stderr)),
                ("startretries".into(), Value::Int(pconfig.startretries)),
                ("startsecs".into(), Value::Int(pconfig.startsecs)),
                ("stdout_capture_maxbytes".into(), Value::Int(pconfig.stdout.capture_maxbytes)),
                ("stdout_events_enabled".into(), Value::Bool(pconfig.stdout.events_enabled)),
                ("stdout_logfile".into(), stdout),
                ("stdout_logfile_backups".into(), Value::Int(pconfig.stdout.logfile_backups)),
                ("stdout_logfile_maxbytes".into(), Value::Int(pconfig.stdout.logfile_maxbytes)),
                ("stdout_syslog".into(), Value::Bool(pconfig.stdout.syslog)),
                ("stopsignal".into(), Value::Int(i64::from(pconfig.stopsignal))),
                ("stopwaitsecs".into(), Value::Int(pconfig.stopwaitsecs)),
                ("stderr_capture_maxbytes".into(), Value::Int(pconfig.stderr.capture_maxbytes)),
                ("stderr_events_enabled".into(), Value::Bool(pconfig.stderr.events_enabled)),
                ("stderr_logfile".into(), stderr),
                ("stderr_logfile_backups".into(), Value::Int(pconfig.stderr.logfile_backups)),
                ("stderr_logfile_maxbytes".into(), Value::Int(pconfig.stderr.logfile_maxbytes)),
                ("stderr_syslog".into(), Value::Bool(pconfig.stderr.syslog)),
                ("serverurl".into(), opt(&pconfig.serverurl)),
            ]);
            rows.push((pconfig.name.clone(), row));
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Array(rows.into_iter().map(|(_, v)| v).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespecs_split_and_join_as_supervisor() {
        assert_eq!(split_namespec("g:p"), ("g", Some("p")));
        assert_eq!(split_namespec("g:*"), ("g", None));
        assert_eq!(split_namespec("g:"), ("g", None));
        assert_eq!(split_namespec("p"), ("p", Some("p")));
        assert_eq!(split_namespec("a:b:c"), ("a", Some("b:c")));
        assert_eq!(namespec("p", "p"), "p");
        assert_eq!(namespec("g", "p"), "g:p");
    }

    #[test]
    fn uptime_reads_like_python_timedelta() {
        let timedelta = |seconds| {
            let mut out = String::new();
            push_timedelta(&mut out, seconds);
            out
        };
        assert_eq!(timedelta(5), "0:00:05");
        assert_eq!(timedelta(3723), "1:02:03");
        assert_eq!(timedelta(86400 + 7384), "1 day, 2:03:04");
        assert_eq!(timedelta(3 * 86400), "3 days, 0:00:00");
    }

    #[test]
    fn timestamps_are_capped_to_32_bits() {
        assert_eq!(capped_int(1e12), i64::from(i32::MAX));
        assert_eq!(capped_int(-1e12), i64::from(i32::MIN));
        assert_eq!(capped_int(1700000000.9), 1700000000);
    }

    #[test]
    fn method_list_is_sorted_and_complete() {
        let mut sorted = METHODS.to_vec();
        sorted.sort();
        assert_eq!(sorted, METHODS);
        assert_eq!(METHODS.len(), 41);
        let documented: Vec<&str> = METHOD_DOCS.iter().map(|(m, _, _)| *m).collect();
        assert_eq!(documented, METHODS);
    }

    #[test]
    fn read_only_methods_are_real_and_only_look() {
        for m in READ_METHODS {
            let full = format!("supervisor.{m}");
            assert!(METHODS.contains(&full.as_str()), "{full}");
            assert!(is_read_only(&full), "{full}");
        }
        for m in ["system.listMethods", "system.methodHelp", "system.methodSignature"] {
            assert!(is_read_only(m), "{m}");
        }
        for m in [
            "system.multicall",
            "supervisor.startProcess",
            "supervisor.sendProcessStdin",
            "supervisor.clearLog",
            "supervisor.shutdown",
            "supervisor.nosuch",
            "supervisor._update",
            "supervisor.getState.x",
            "getState",
            "nosuch.getState",
        ] {
            assert!(!is_read_only(m), "{m}");
        }
    }
}
