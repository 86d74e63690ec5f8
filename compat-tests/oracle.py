"""The Python side of the config differential: runs supervisor 4.3.0's own
`ServerOptions.realize` in-process and dumps the result as JSON-ready data, in the same schema
as examples/compat_probe/config.rs."""
import io
import os
import sys
import tempfile

from supervisor import datatypes, events, supervisorctl, supervisord
from supervisor.options import (ClientOptions, EventListenerPoolConfig, FastCGIGroupConfig,
                                ServerOptions)


class Usage(Exception):
    pass


class Exited(Exception):
    def __init__(self, code):
        self.code = code


class _Warnings:
    def __init__(self):
        self.seen = []

    def warn(self, msg, *a, **k):
        self.seen.append(str(msg))


def _spec(obj):
    return "%s:%s" % (obj.__module__, obj.__name__)


def _logfile(v):
    if v is None:
        return None
    if v is datatypes.Automatic:
        return "AUTO"
    return v


def _autorestart(v):
    if v is datatypes.RestartUnconditionally:
        return "always"
    if v is datatypes.RestartWhenExitUnexpected:
        return "unexpected"
    assert v is False
    return "never"


def _process(p):
    d = {"name": p.name, "command": p.command, "directory": p.directory, "umask": p.umask,
         "priority": p.priority, "autostart": bool(p.autostart),
         "autorestart": _autorestart(p.autorestart), "startsecs": p.startsecs,
         "startretries": p.startretries, "uid": p.uid, "stopsignal": int(p.stopsignal),
         "stopwaitsecs": p.stopwaitsecs, "stopasgroup": bool(p.stopasgroup),
         "killasgroup": bool(p.killasgroup), "exitcodes": list(p.exitcodes),
         "redirect_stderr": bool(p.redirect_stderr),
         "environment": [[k, v] for k, v in (p.environment or {}).items()],
         "serverurl": p.serverurl}
    for ch in ("stdout", "stderr"):
        d[ch] = {"logfile": _logfile(getattr(p, ch + "_logfile")),
                 "logfile_maxbytes": getattr(p, ch + "_logfile_maxbytes"),
                 "logfile_backups": getattr(p, ch + "_logfile_backups"),
                 "capture_maxbytes": getattr(p, ch + "_capture_maxbytes"),
                 "events_enabled": bool(getattr(p, ch + "_events_enabled")),
                 "syslog": bool(getattr(p, ch + "_syslog"))}
    return d


def _group(g):
    d = {"name": g.name, "priority": g.priority, "kind": "program",
         "processes": [_process(p) for p in g.process_configs]}
    if isinstance(g, EventListenerPoolConfig):
        d["kind"] = "eventlistener"
        d["buffer_size"] = g.buffer_size
        d["events"] = sorted(events.getEventNameByType(e) for e in g.pool_events)
        d["result_handler"] = _spec(g.result_handler)
    elif isinstance(g, FastCGIGroupConfig):
        s = g.socket_config
        d["kind"] = "fcgi"
        d["socket"] = {"url": s.url, "backlog": s.backlog,
                       "mode": getattr(s, "mode", None),
                       "owner": list(s.owner) if getattr(s, "owner", None) else None}
    return d


def _server(c):
    d = {"name": c["name"], "section": c["section"], "username": c["username"],
         "password": c["password"]}
    if "file" in c:
        d.update(family="unix", file=c["file"], chmod=c["chmod"], chown=list(c["chown"]))
    else:
        d.update(family="inet", host=c["host"], port=c["port"])
    return d


def dump(o):
    s = o.configroot.supervisord
    return {
        "options": {
            "configfile": o.configfile, "here": o.here, "nodaemon": bool(o.nodaemon),
            "silent": bool(o.silent), "user": o.user, "uid": o.uid, "gid": o.gid,
            "umask": o.umask, "directory": o.directory, "logfile": o.logfile,
            "logfile_maxbytes": o.logfile_maxbytes, "logfile_backups": o.logfile_backups,
            "loglevel": o.loglevel, "pidfile": o.pidfile, "identifier": o.identifier,
            "childlogdir": o.childlogdir, "nocleanup": bool(o.nocleanup),
            "strip_ansi": bool(o.strip_ansi), "minfds": o.minfds, "minprocs": o.minprocs,
            "profile_options": ([list(o.profile_options[0]), o.profile_options[1]]
                                if o.profile_options else None),
            "serverurl": o.serverurl,
        },
        "section": {
            "minfds": s.minfds, "minprocs": s.minprocs, "directory": s.directory,
            "user": s.user, "umask": s.umask, "logfile": s.logfile,
            "logfile_maxbytes": s.logfile_maxbytes, "logfile_backups": s.logfile_backups,
            "loglevel": s.loglevel, "pidfile": s.pidfile, "identifier": s.identifier,
            "nodaemon": bool(s.nodaemon), "silent": bool(s.silent),
            "childlogdir": s.childlogdir, "nocleanup": bool(s.nocleanup),
            "strip_ansi": bool(s.strip_ansi),
            "environment": [[k, v] for k, v in s.environment.items()],
        },
        "servers": [_server(c) for c in o.server_configs],
        "rpcinterfaces": [{"name": n, "factory": _spec(f), "extras": [[k, v] for k, v in e.items()]}
                          for n, f, e in o.rpcinterface_factories],
        "groups": [_group(g) for g in o.process_group_configs],
        "warnings": list(o.parse_warnings),
        "infos": list(o.parse_infos),
    }


def dump_ctl(o):
    return {"configfile": o.configfile, "interactive": bool(o.interactive), "prompt": o.prompt,
            "serverurl": o.serverurl, "username": o.username, "password": o.password,
            "history": o.history, "history_file": o.history_file,
            "plugins": [name for name, _, _ in o.plugin_factories if name != "default"],
            "args": list(o.args)}


def realize(args, env, cwd, progname="supervisord", ctl=False):
    """Runs ServerOptions.realize with exactly this argv, environment and cwd; returns
    {"error": text} for a usage error, {"help": text}/{"version": text} for those exits, or
    the dump."""
    saved_env, saved_cwd, saved_argv0 = dict(os.environ), os.getcwd(), sys.argv[0]
    sys.argv[0] = progname  # Options.__init__ derives the config search path from it
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    tempfile.tempdir = None  # gettempdir() caches its answer; each case has its own TMPDIR
    try:
        o = ClientOptions() if ctl else ServerOptions()
        o.stdout = io.StringIO()
        o.warnings = _Warnings()

        def usage(msg):
            raise Usage(str(msg))

        def exit(code):
            raise Exited(code)

        o.usage = usage
        o.exit = exit
        try:
            doc = (supervisorctl if ctl else supervisord).__doc__
            o.realize(args=list(args), progname=progname, doc=doc)
        except Usage as e:
            return {"error": str(e)}
        except Exited:
            out = o.stdout.getvalue()
            return {"version": out} if "--" not in out else {"help": out}
        return dump_ctl(o) if ctl else dump(o)
    finally:
        os.chdir(saved_cwd)
        sys.argv[0] = saved_argv0
        os.environ.clear()
        os.environ.update(saved_env)
        tempfile.tempdir = None
