//! Probe mode `config`: realizes supervisord's options with our loader for a given argv,
//! environment and working directory, and dumps them in compat-tests/oracle.py's schema.

use serde_json::{Value, json};
use supervisor::config::ctl::{CtlInvocation, SUPERVISORCTL_HELP, realize_ctl};
use supervisor::config::datatypes::AutoRestart;
use supervisor::config::options::{SUPERVISORD_HELP, parse_command_line};
use supervisor::config::{
    ChannelConfig, Environ, FcgiSocketConfig, GroupKind, HttpServerConfig, Invocation, Logfile,
    ProcessConfig, ProcessGroupConfig, ServerAddress, ServerOptions,
};

fn pairs(items: &[(String, String)]) -> Value {
    Value::Array(items.iter().map(|(k, v)| json!([k, v])).collect())
}

fn channel(c: &ChannelConfig) -> Value {
    let logfile = match &c.logfile {
        Logfile::None => Value::Null,
        Logfile::Auto => json!("AUTO"),
        Logfile::Path(p) => json!(p),
    };
    json!({"logfile": logfile, "logfile_maxbytes": c.logfile_maxbytes,
           "logfile_backups": c.logfile_backups, "capture_maxbytes": c.capture_maxbytes,
           "events_enabled": c.events_enabled, "syslog": c.syslog})
}

fn process(p: &ProcessConfig) -> Value {
    let autorestart = match p.autorestart {
        AutoRestart::Never => "never",
        AutoRestart::Unexpected => "unexpected",
        AutoRestart::Always => "always",
    };
    json!({"name": p.name, "command": p.command, "directory": p.directory, "umask": p.umask,
           "priority": p.priority, "autostart": p.autostart, "autorestart": autorestart,
           "startsecs": p.startsecs, "startretries": p.startretries, "uid": p.uid,
           "stopsignal": p.stopsignal, "stopwaitsecs": p.stopwaitsecs,
           "stopasgroup": p.stopasgroup, "killasgroup": p.killasgroup,
           "exitcodes": p.exitcodes, "redirect_stderr": p.redirect_stderr,
           "environment": pairs(&p.environment), "serverurl": p.serverurl,
           "stdout": channel(&p.stdout), "stderr": channel(&p.stderr)})
}

fn group(g: &ProcessGroupConfig) -> Value {
    let mut d = json!({"name": g.name, "priority": g.priority, "kind": "program",
                       "processes": g.processes.iter().map(|p| process(p)).collect::<Vec<_>>()});
    match &g.kind {
        GroupKind::Program => {}
        GroupKind::EventListenerPool(pool) => {
            let mut events = pool.events.clone();
            events.sort();
            d["kind"] = json!("eventlistener");
            d["buffer_size"] = json!(pool.buffer_size);
            d["events"] = json!(events);
            d["result_handler"] = json!(pool.result_handler);
        }
        GroupKind::FastCgi(socket) => {
            d["kind"] = json!("fcgi");
            d["socket"] = match socket {
                FcgiSocketConfig::Unix { mode, owner, backlog, .. } => json!({
                    "url": socket.url(), "backlog": backlog, "mode": mode,
                    "owner": owner.map(|(u, g)| json!([u, g]))}),
                FcgiSocketConfig::Tcp { backlog, .. } => json!({
                    "url": socket.url(), "backlog": backlog, "mode": null, "owner": null}),
            };
        }
    }
    d
}

fn server(s: &HttpServerConfig) -> Value {
    let mut d = json!({"name": s.name, "section": s.section, "username": s.username,
                       "password": s.password});
    match &s.address {
        ServerAddress::Inet { host, port } => {
            d["family"] = json!("inet");
            d["host"] = json!(host);
            d["port"] = json!(port);
        }
        ServerAddress::Unix { file, chmod, chown } => {
            d["family"] = json!("unix");
            d["file"] = json!(file);
            d["chmod"] = json!(chmod);
            d["chown"] = json!([chown.0, chown.1]);
        }
    }
    d
}

fn dump(o: &ServerOptions) -> Value {
    let s = &o.file.supervisord;
    json!({
        "options": {
            "configfile": o.configfile, "here": o.here, "nodaemon": o.nodaemon,
            "silent": o.silent, "user": o.user, "uid": o.uid, "gid": o.gid, "umask": o.umask,
            "directory": o.directory, "logfile": o.logfile,
            "logfile_maxbytes": o.logfile_maxbytes, "logfile_backups": o.logfile_backups,
            "loglevel": o.loglevel.number(), "pidfile": o.pidfile, "identifier": o.identifier,
            "childlogdir": o.childlogdir, "nocleanup": o.nocleanup, "strip_ansi": o.strip_ansi,
            "minfds": o.minfds, "minprocs": o.minprocs,
            "profile_options": o.profile_options.as_ref().map(|(keys, callers)| json!([keys, callers])),
            "serverurl": o.serverurl,
        },
        "section": {
            "minfds": s.minfds, "minprocs": s.minprocs, "directory": s.directory,
            "user": s.user, "umask": s.umask, "logfile": s.logfile,
            "logfile_maxbytes": s.logfile_maxbytes, "logfile_backups": s.logfile_backups,
            "loglevel": s.loglevel.number(), "pidfile": s.pidfile, "identifier": s.identifier,
            "nodaemon": s.nodaemon, "silent": s.silent, "childlogdir": s.childlogdir,
            "nocleanup": s.nocleanup, "strip_ansi": s.strip_ansi,
            "environment": pairs(&s.environment),
        },
        "servers": o.file.servers.iter().map(server).collect::<Vec<_>>(),
        "rpcinterfaces": o.file.rpcinterfaces.iter().map(|r| json!({
            "name": r.name, "factory": r.factory, "extras": pairs(&r.extras)})).collect::<Vec<_>>(),
        "groups": o.file.groups.iter().map(|g| group(g)).collect::<Vec<_>>(),
        "warnings": o.file.warnings,
        "infos": o.file.infos,
    })
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
        .unwrap_or_default()
}

/// Request: {"args": [...], "env": {...}, "cwd": "...", "progname": "..."}.
pub fn run(request: &Value) -> Value {
    in_context(request, |args, progname, environ| match parse_command_line(args) {
        Err(e) => json!({"error": e.to_string()}),
        Ok(Invocation::Help) => {
            json!({"help": format!("{}\n", SUPERVISORD_HELP.replace("%s", progname))})
        }
        Ok(Invocation::Version) => {
            json!({"version": format!("{}\n", supervisor::SUPERVISOR_VERSION)})
        }
        Ok(Invocation::Run(cmd)) => match ServerOptions::realize(*cmd, progname, environ) {
            Ok(o) => dump(&o),
            Err(e) => json!({"error": e.to_string()}),
        },
    })
}

/// Mode `ctl`: supervisorctl's options for the same kind of request.
pub fn run_ctl(request: &Value) -> Value {
    in_context(request, |args, progname, environ| match realize_ctl(args, progname, environ) {
        Err(e) => json!({"error": e.to_string()}),
        Ok(CtlInvocation::Help) => {
            json!({"help": format!("{}\n", SUPERVISORCTL_HELP.replace("%s", progname))})
        }
        Ok(CtlInvocation::Run(o)) => json!({
            "configfile": o.configfile, "interactive": o.interactive, "prompt": o.prompt,
            "serverurl": o.serverurl, "username": o.username, "password": o.password,
            "history": o.history, "history_file": o.history_file,
            "plugins": o.plugins.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
            "args": o.args,
        }),
    })
}

/// Runs `f` with the request's argv, progname, environment and working directory.
fn in_context(request: &Value, f: impl FnOnce(&[String], &str, &Environ) -> Value) -> Value {
    let args = strings(request.get("args"));
    let progname = request.get("progname").and_then(Value::as_str).unwrap_or("supervisord");
    let vars: Vec<(String, String)> = request
        .get("env")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect()
        })
        .unwrap_or_default();
    // `~` expansion reads the process environment, as in Python, so the probe (single-threaded)
    // takes on the requested one for this request and puts its own back afterwards.
    let own_env: Vec<_> = std::env::vars_os().collect();
    let saved = std::env::current_dir();
    if let Some(cwd) = request.get("cwd").and_then(Value::as_str)
        && let Err(e) = std::env::set_current_dir(cwd)
    {
        return json!({"probe_error": format!("chdir {cwd}: {e}")});
    }
    replace_environment(vars.iter().map(|(k, v)| (k.into(), v.into())));
    let mut environ = Environ::from_process();
    environ.vars = vars;
    let result = f(&args, progname, &environ);
    if let Ok(dir) = saved {
        let _ = std::env::set_current_dir(dir);
    }
    replace_environment(own_env);
    result
}

fn replace_environment(vars: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>) {
    // SAFETY: the probe is single-threaded, so nothing reads the environment concurrently.
    for (k, _) in std::env::vars_os() {
        unsafe { std::env::remove_var(k) };
    }
    for (k, v) in vars {
        unsafe { std::env::set_var(k, v) };
    }
}
