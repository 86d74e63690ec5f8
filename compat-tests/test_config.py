"""Differential tests of the config loader: every fixture under fixtures/config, a table of
command lines, and seeded random configs are realized by supervisor 4.3.0's own
ServerOptions (in-process) and by our loader (the probe); the complete typed results, or the
error texts, must be identical."""
import os
import pathlib
import random
import shlex

import pytest

import oracle

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "config"


def environment(tmp_path):
    return {"HOME": str(tmp_path), "TMPDIR": str(tmp_path), "PATH": "/usr/bin:/bin",
            "TEST_IDENT": "ident", "TEST_PRIORITY": "42", "LANG": "C.UTF-8"}


def both(probe, args, env, cwd, progname="supervisord"):
    py = oracle.realize(args, env, str(cwd), progname)
    rs = probe.call({"mode": "config", "args": args, "env": env, "cwd": str(cwd),
                     "progname": progname})
    return py, rs


def directives(path):
    found = {}
    for line in path.read_text().splitlines():
        if line.startswith("; test-"):
            key, _, value = line[2:].partition(":")
            found[key.strip()] = value.strip()
    return found


FIXTURE_FILES = sorted(FIXTURES.glob("good/*.conf")) + sorted(FIXTURES.glob("bad/*.conf"))


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture_matches_python(probe, tmp_path, path):
    d = directives(path)
    expect = d.get("test-expect", "")
    args = ["-c", str(path)] + shlex.split(d.get("test-args", "") % {"tmp": str(tmp_path)})
    py, rs = both(probe, args, environment(tmp_path), tmp_path)
    assert rs == py
    if expect.startswith("error"):
        assert "error" in py, py
        assert expect[len("error"):].strip() in py["error"]
    else:
        assert expect.startswith("loads") and "options" in py, py.get("error")


def test_every_option_fixture_is_really_loaded(probe, tmp_path):
    """Guards the fixture itself: if it stopped loading, the differential would only compare
    two identical errors."""
    py, rs = both(probe, ["-c", str(FIXTURES / "good/every_option.conf")],
                  environment(tmp_path), tmp_path)
    assert rs == py
    kinds = sorted(g["kind"] for g in py["groups"])
    assert kinds == ["eventlistener", "fcgi", "program"]
    assert [s["family"] for s in py["servers"]] == ["inet", "unix"]


CLI_CASES = [
    ["-h"], ["-?"], ["--help"], ["--he"], ["-v"], ["--vers"], ["-vh"],
    ["--bogus"], ["-x"], ["--min", "1"], ["-c"], ["--nodaemon=1"], ["--configuration"],
    ["positional"], ["-c", "{min}", "extra", "args"],
    ["-c", "{min}", "-n", "-n"], ["-c", "{min}", "--nodaemon", "-n"],
    ["-c", "{min}", "-c", "{min}"],
    ["-m", "9"], ["-m", "9", "-h"], ["-h", "-m", "9"],
    ["-c", "{min}", "-e", "verbose"], ["-c", "{min}", "-e", "WARN"],
    ["-c", "{min}", "-y", "1XB"], ["-c", "{min}", "-y", "1kb"],
    ["-c", "{min}", "-z", "x"], ["-c", "{min}", "-d", "/nonexistent"],
    ["-c", "{min}", "-l", "/nonexistent/x.log"], ["-c", "{min}", "-l", "relative.log"],
    ["-c", "{min}", "-a", "x"], ["-c", "{min}", "--minprocs", "-5"],
    ["-c", "{min}", "-u", "nosuchuser"], ["-c", "{min}", "-u", "nobody"],
    ["-c", "{min}", "-u", "0"], ["-c", "{min}", "-u", "4242424"],
    ["-c{min}", "-nsk"], ["--conf={min}", "--ident", "cli"], ["--configuration", "{min}", "-i", ""],
    ["-c", "{min}", "--profile_options="], ["-c", "{min}", "--profile_options", "calls,CALLERS"],
    ["-c", "{min}", "-q", "{tmp}", "-j", "{tmp}/p.pid", "-l", "~/x.log"],
    ["-c", "nonexistent.conf"], ["-c", "{tmp}"], ["-c", "{min}", "-j", "/nonexistent/x.pid"],
]


@pytest.mark.parametrize("args", CLI_CASES, ids=lambda a: " ".join(a))
def test_command_line_matches_python(probe, tmp_path, args):
    subst = {"min": str(FIXTURES / "good/minimal.conf"), "tmp": str(tmp_path)}
    args = [a.format(**subst) for a in args]
    py, rs = both(probe, args, environment(tmp_path), tmp_path)
    assert rs == py


def test_config_search_order(probe, tmp_path):
    """Without -c: nothing found gives Python's list of paths; a supervisord.conf in the
    current directory is found; argv0's grandparent/etc beats the current directory."""
    env = environment(tmp_path)
    progname = str(tmp_path / "prefix" / "bin" / "supervisord")
    py, rs = both(probe, [], env, tmp_path, progname)
    assert rs == py
    if not any(os.path.exists(p) for p in ("/etc/supervisord.conf", "/etc/supervisor/supervisord.conf")):
        assert py["error"].startswith("No config file found at default paths")
    (tmp_path / "supervisord.conf").write_text("[supervisord]\nidentifier=cwd\n")
    py, rs = both(probe, [], env, tmp_path, progname)
    assert rs == py and py["options"]["identifier"] == "cwd"
    (tmp_path / "prefix" / "etc").mkdir(parents=True)
    (tmp_path / "prefix" / "etc" / "supervisord.conf").write_text("[supervisord]\nidentifier=prefix\n")
    py, rs = both(probe, [], env, tmp_path, progname)
    assert rs == py and py["options"]["identifier"] == "prefix"


# --- randomized whole configs ------------------------------------------------------------

# Per datatype: (values supervisor accepts, values it rejects). Most draws are valid, so that
# a generated config usually loads and the comparison covers whole typed results, not only the
# first error.
VALUES = {
    "int": (["0", "1", "-3", " 7 ", "10_0", "+4", "99999", "٣"], ["abc", "1.5", "", "0x10"]),
    "bool": (["true", "False", "YES", "no", "on", "OFF", "1", "0"], ["maybe", "", "tru"]),
    "bytes": (["0", "1KB", "2mb", "3Gb", "10", "-1MB", "1_0kb", " 4 "], ["1XB", "kb", "", "5 MB"]),
    "octal": (["022", "0o17", "777", "-1", "0_7"], ["8", "0x1", ""]),
    "signal": (["TERM", "sigkill", "9", "0", "HUP ", "rtmax", "SIG_IGN"], ["FOO", "40", "-1"]),
    "exitcodes": (["0", "0,1,2", "", "0, 3", "255"], ["256", "a", "-1", "1,,2"]),
    "autorestart": (["true", "false", "unexpected", "UNEXPECTED", "1"], ["sometimes"]),
    "loglevel": (["info", "DEBUG", "warn", "blather", "trace", "critical"], ["warning", "x"]),
    "logfile": (["AUTO", "none", "OFF", "syslog", "/tmp/l-%(program_name)s.log", "rel.log",
                 "%(here)s/x-%(process_num)s.log", "/tmp/%%%%.log"], ["/nonexistent/x.log"]),
    "env": (['A="1",B="2"', "A=1", "X='a b',Y=\"c,d\"", "", "K=%(ENV_HOME)s",
             "K=%(program_name)s", "P=100%%"], ["A=1,B", "Q=%(nope)s"]),
    "command": (["/bin/true", "/bin/echo %(program_name)s %(process_num)d", "cat",
                 "/bin/echo %(ENV_HOME)s", "/bin/echo %(group_name)s"], ["", "/bin/echo 100%"]),
    "user": (["root", "nobody", "0", "65534"], ["nosuchuser"]),
    "name": (["%(program_name)s", "%(program_name)s_%(process_num)02d", "fixed"],
             ["x y", "p:%(process_num)s"]),
    "serverurl": (["AUTO", "auto ", "http://x:1", "unix:///tmp/s.sock", ""], []),
}


def pick(rng, kind):
    good, bad = VALUES[kind]
    return rng.choice(bad) if bad and rng.random() < 0.04 else rng.choice(good)


PROGRAM_KEYS = {
    "priority": "int", "autostart": "bool", "autorestart": "autorestart", "startsecs": "int",
    "startretries": "int", "stopsignal": "signal", "stopwaitsecs": "int", "stopasgroup": "bool",
    "killasgroup": "bool", "exitcodes": "exitcodes", "redirect_stderr": "bool",
    "numprocs": "int", "numprocs_start": "int", "environment": "env",
    "stdout_logfile": "logfile", "stderr_logfile": "logfile",
    "stdout_logfile_maxbytes": "bytes", "stderr_logfile_backups": "int",
    "stdout_capture_maxbytes": "bytes", "stderr_events_enabled": "bool",
    "stdout_syslog": "bool", "user": "user", "umask": "octal", "process_name": "name",
    "serverurl": "serverurl", "directory": "logfile",
}

SUPERVISORD_KEYS = {
    "minfds": "int", "minprocs": "int", "umask": "octal", "logfile_maxbytes": "bytes",
    "logfile_backups": "int", "loglevel": "loglevel", "nodaemon": "bool", "silent": "bool",
    "nocleanup": "bool", "strip_ansi": "bool", "environment": "env", "user": "user",
}


def random_config(rng):
    lines = ["[supervisord]"]
    for key, kind in SUPERVISORD_KEYS.items():
        if rng.random() < 0.15:
            value = pick(rng, kind)
            if key == "environment":
                value = value.replace("%(program_name)s", "%(here)s")
            lines.append(f"{key}={value}")
    names = rng.sample(["a", "b", "c", "web", "worker"], rng.randint(1, 4))
    for name in names:
        section = rng.choice(["program", "program", "program", "eventlistener", "fcgi-program"])
        lines.append(f"[{section}:{name}]")
        if rng.random() < 0.98:
            lines.append("command=" + pick(rng, "command"))
        if section == "eventlistener":
            lines.append("events=" + (rng.choice(["", "NOPE"]) if rng.random() < 0.05 else
                                      rng.choice(["TICK_5", "PROCESS_STATE,tick_60", "tick_5,TICK_5"])))
        if section == "fcgi-program":
            lines.append("socket=" + (rng.choice(["unix://rel", "tcp://x"]) if rng.random() < 0.05 else
                                      rng.choice(["tcp://localhost:9000", "unix:///tmp/%(program_name)s.sock"])))
        for key, kind in PROGRAM_KEYS.items():
            if rng.random() < 0.12:
                value = pick(rng, kind)
                if key == "numprocs":
                    value = str(rng.randint(0, 3))
                    if rng.random() < 0.9:
                        lines.append("process_name=%(program_name)s-%(process_num)d")
                lines.append(f"{key}={value}")
    if rng.random() < 0.3:
        pool = names + (["ghost"] if rng.random() < 0.1 else [])
        members = rng.sample(pool, rng.randint(0, len(names)))
        lines.append("[group:g]")
        lines.append("programs=" + ",".join(members))
        if rng.random() < 0.5:
            lines.append("priority=" + pick(rng, "int"))
    if rng.random() < 0.2:
        lines.append("[inet_http_server]")
        lines.append("port=" + rng.choice(["9001", "127.0.0.1:9001", "*:0", "abc", ":9002", "h:"]))
    if rng.random() < 0.2:
        lines.append("[unix_http_server]")
        lines.append("file=" + rng.choice(["%(here)s/s.sock", "/tmp/x.sock", " rel.sock "]))
        if rng.random() < 0.5:
            lines.append("chmod=" + pick(rng, "octal"))
    if rng.random() < 0.2:
        lines.append("[DEFAULT]")
        lines.append(rng.choice(["priority=5", "startsecs=x", "autostart=false"]))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(8))
def test_random_configs_match_python(probe, tmp_path, seed):
    rng = random.Random(seed)
    env = environment(tmp_path)
    conf = tmp_path / "random.conf"
    outcomes = {"loaded": 0, "error": 0}
    for i in range(150):
        text = random_config(rng)
        conf.write_text(text)
        py, rs = both(probe, ["-c", str(conf)], env, tmp_path)
        assert rs == py, f"seed {seed} case {i}:\n{text}"
        outcomes["loaded" if "options" in py else "error"] += 1
    # Both branches must be exercised, or the generator has drifted into one corner.
    assert outcomes["loaded"] > 50 and outcomes["error"] > 10, outcomes


# --- supervisorctl's options --------------------------------------------------------------

CTL_CONF = """[supervisorctl]
serverurl = unix://%(here)s/../run/sup.sock
username = %(ENV_TEST_IDENT)s
password = secret
prompt = myprompt
history_file = ~/.history

[ctlplugin:twiddler]
supervisor.ctl_factory = supervisor_twiddler.ctl:make_twiddler_controllerplugin
"""

CTL_CASES = [
    ([], None), (["status"], None), (["-i", "status", "web"], None), (["-h"], None),
    (["-s", "http://127.0.0.1:9002", "-u", "a", "-p", "b", "tail", "-f", "x"], None),
    (["-s", "foo"], None), (["-s", "unix:///tmp/x.sock", "-s", "x://y"], None),
    (["-r", "h", "--history_file=j"], None), (["--bogus"], None), (["-c"], None),
    (["-c", "{conf}", "status"], CTL_CONF),
    (["-c", "{conf}", "-s", "http://localhost:1", "-u", "cli"], CTL_CONF),
    (["-c", "{conf}"], "[supervisorctl]\n"),
    (["-c", "{conf}"], "[supervisorctl]\nserverurl=http://x:1\nhistory_file=\n"),
    (["-c", "{conf}"], "[supervisord]\n"),
    (["-c", "{conf}"], "[supervisorctl]\n[ctlplugin:x]\nfoo=bar\n"),
    (["-c", "{conf}"], "[supervisorctl]\nprompt=%(nope)s\n"),
    (["-c", "/nonexistent.conf", "status"], None),
]


@pytest.mark.parametrize("args,conf", CTL_CASES, ids=lambda c: repr(c)[:40])
def test_supervisorctl_options_match_python(probe, tmp_path, args, conf):
    env = environment(tmp_path)
    path = tmp_path / "sub" / "ctl.conf"
    if conf is not None:
        path.parent.mkdir()
        path.write_text(conf)
    args = [a.format(conf=str(path)) for a in args]
    py = oracle.realize(args, env, str(tmp_path), "supervisorctl", ctl=True)
    rs = probe.call({"mode": "ctl", "args": args, "env": env, "cwd": str(tmp_path),
                     "progname": "supervisorctl"})
    assert rs == py


# --- supervisor's own configs, read from the installed package (not copied here) -----------

import supervisor  # noqa: E402

SUPERVISOR_DIR = pathlib.Path(supervisor.__file__).parent
UPSTREAM_CONFS = sorted((SUPERVISOR_DIR / "tests" / "fixtures").glob("*.conf")) + [
    SUPERVISOR_DIR / "skel" / "sample.conf"]


@pytest.mark.parametrize("path", UPSTREAM_CONFS, ids=lambda p: p.name)
def test_supervisor_own_configs_match_python(probe, tmp_path, path):
    py, rs = both(probe, ["-c", str(path)], environment(tmp_path), tmp_path)
    assert rs == py
