"""Live reconfiguration (issue 7), differentially: the same config edits are made under Python
supervisord 4.3.0 and under ours, and the real Python supervisorctl (`reread`, `update`, `add`,
`remove`, `avail`, `reload`) and xmlrpc.client (`reloadConfig`, `addProcessGroup`,
`removeProcessGroup` and their faults) must see the same answers, the same process tables and the
same processes surviving each edit (same pid before and after)."""
import os
import re
import signal
import socket
import subprocess
import sys
import xmlrpc.client

import pytest

from harness import HEADER, Daemon, normalize, wait_for, free_port

KINDS = ("python", "ours")
PY = sys.executable



def norm(text, d):
    """`normalize`, plus AUTO log names under any identifier (they carry the identifier)."""
    text = normalize(text, d)
    return re.sub(r"---([\w.-]+?)-[a-z0-9_]{8}\.log", r"---\1-XXXXXXXX.log", text)


def norm_value(value, d):
    if isinstance(value, dict):
        return {k: (norm_value(v, d) if k not in ("pid", "start", "stop", "now") or not v else "N")
                for k, v in value.items()}
    if isinstance(value, list):
        return [norm_value(v, d) for v in value]
    if isinstance(value, str):
        return norm(value, d)
    return value


class Pair:
    """One Python and one Rust supervisord on the same config, each in its own directory.
    `{tmp}` is each daemon's directory, `{python}` the venv's interpreter, `{port}` a free TCP
    port chosen per daemon."""

    def __init__(self, binaries, base, body, files=None):
        self.d = {}
        self.ports = {k: free_port() for k in KINDS}
        for kind in KINDS:
            d = Daemon(kind, self.render(body, kind), base / kind, binary=binaries["supervisord"])
            for name, text in (files or {}).items():
                (d.tmp / name).write_text(self.render(text, kind).replace("{tmp}", str(d.tmp)))
            self.d[kind] = d

    def start(self):
        for d in self.d.values():
            d.start()
        return self

    def stop(self):
        for d in self.d.values():
            d.stop()

    def render(self, body, kind):
        return body.replace("{python}", PY).replace("{port}", str(self.ports[kind]))

    def write(self, body):
        """Rewrites both config files (the daemons notice only on reread/update/reload)."""
        for kind, d in self.d.items():
            d.conf.write_text((HEADER + self.render(body, kind)).replace("{tmp}", str(d.tmp))
                              .replace("{loglevel}", "info"))

    def both(self, f):
        return {kind: f(d) for kind, d in self.d.items()}

    def ctl(self, *args, expect=None, any_order=False):
        """Runs supervisorctl on both: same exit status, stdout and stderr (normalised).
        `expect` pins Python's (rc, stdout) too."""
        out = self.both(lambda d: _ctl(d, *args))
        text = {k: (rc, norm(o, self.d[k]), norm(e, self.d[k])) for k, (rc, o, e) in out.items()}
        if any_order:
            text = {k: (rc, sorted(o.splitlines()), e) for k, (rc, o, e) in text.items()}
        assert text["ours"] == text["python"], args
        if expect is not None:
            assert text["python"][:2] == expect, (args, text["python"])
        return text["python"]

    def rpc(self, method, *args, expect=None):
        """Calls one XML-RPC method on both: the same result or the same fault."""
        def call(d):
            try:
                return ("ok", norm_value(getattr(d.rpc().supervisor, method)(*args), d))
            except xmlrpc.client.Fault as f:
                return ("fault", f.faultCode, norm(f.faultString, d))
        out = self.both(call)
        assert out["ours"] == out["python"], (method, args)
        if expect is not None:
            assert out["python"] == expect, (method, args, out["python"])
        return out["python"]

    def pids(self):
        return self.both(lambda d: {_ns(i): i["pid"] for i in d.rpc().supervisor.getAllProcessInfo()})

    def settle(self, states):
        """Waits until each daemon's process table is exactly `states` ({namespec: statename})."""
        for d in self.d.values():
            wait_for(lambda d=d: {_ns(i): i["statename"] for i in d.rpc().supervisor.getAllProcessInfo()} == states,
                     timeout=20, what=f"{states} ({d.kind})")

    def same_tables(self):
        self.rpc("getAllProcessInfo")
        self.rpc("getAllConfigInfo")


def _ctl(d, *args):
    """supervisorctl with a config of its own: it parses its `-c` file entirely, so a broken
    daemon config would make the client itself fail before it asks anything."""
    ctl_conf = d.tmp / "ctl.conf"
    if not ctl_conf.exists():
        ctl_conf.write_text(f"[supervisorctl]\nserverurl=unix://{d.tmp}/supervisor.sock\n")
    r = subprocess.run([PY, "-m", "supervisor.supervisorctl", "-c", str(ctl_conf), *args],
                       capture_output=True, text=True, timeout=60, cwd=d.tmp)
    return r.returncode, r.stdout, r.stderr


def _ns(info):
    return info["name"] if info["group"] == info["name"] else f"{info['group']}:{info['name']}"


def survivors(before, after):
    """Names whose (non-zero) pid is the same before and after."""
    return sorted(n for n, pid in after.items() if pid and before.get(n) == pid)


@pytest.fixture
def make_pair(binaries, tmp_path):
    made = []

    def make(body, files=None):
        p = Pair(binaries, tmp_path, body, files)
        made.append(p)
        return p.start()
    yield make
    for p in made:
        p.stop()


def program(name, *lines):
    return "\n".join([f"[program:{name}]", "command=/bin/sleep 1000", "startsecs=0", *lines]) + "\n"


def test_reread_and_update_apply_each_kind_of_edit_and_spare_untouched_programs(make_pair):
    """Step by step: add a program, remove a running one, change a command, an explicit log path,
    path -> AUTO (not a change: AUTO values are skipped by ProcessConfig.__eq__), AUTO -> path
    (a change in Python: the running group's config holds the resolved temp file name, not
    AUTO, so path is compared with path), numprocs up and down, environment order (not a change:
    a dict) and value, a move into a [group:x], a group priority. Each step: `reread` and `update` print the same on both (and what Python is
    known to print), the tables match, and exactly the programs not touched keep their pids."""
    sections = {
        "keep": program("keep"),
        "cmd": program("cmd"),
        "logs": program("logs", "stdout_logfile={tmp}/logs-a.log"),
        "auto": program("auto"),
        "multi": program("multi", "process_name=%(program_name)s_%(process_num)s", "numprocs=2"),
        "env": program("env", 'environment=A="1",B="2"'),
        "mover": program("mover"),
        "g": "[group:g]\nprograms=gm\npriority=999\n",
        "gm": program("gm"),
        "gone": program("gone"),
    }
    render = lambda: "\n".join(sections.values())
    pair = make_pair(render())
    running = {"keep", "cmd", "logs", "auto", "multi:multi_0", "multi:multi_1", "env", "mover", "g:gm", "gone"}
    states = lambda: {n: "RUNNING" for n in running}
    pair.settle(states())
    pair.same_tables()

    # (edit, reread output, update output, names whose pid is renewed)
    def drop(name):
        del sections[name]
    steps = [
        (lambda: sections.update(new=program("new")), "new: available\n",
         "new: added process group\n", set()),
        (lambda: drop("gone"), "gone: disappeared\n", "gone: stopped\ngone: removed process group\n", set()),
        (lambda: sections.update(cmd=program("cmd").replace("1000", "1001")), "cmd: changed\n",
         "cmd: stopped\ncmd: updated process group\n", {"cmd"}),
        (lambda: sections.update(logs=program("logs", "stdout_logfile={tmp}/logs-b.log")), "logs: changed\n",
         "logs: stopped\nlogs: updated process group\n", {"logs"}),
        # explicit path -> AUTO: not a change (the new value is AUTO, so it is skipped).
        (lambda: sections.update(logs=program("logs")), "No config updates to processes\n", "", set()),
        # AUTO -> explicit path IS a change: the active config's AUTO was replaced by the real
        # temp file name when the group was added, so it compares path against path.
        (lambda: sections.update(auto=program("auto", "stdout_logfile={tmp}/auto.log")),
         "auto: changed\n", "auto: stopped\nauto: updated process group\n", {"auto"}),
        # ... and back to AUTO: not a change.
        (lambda: sections.update(auto=program("auto")), "No config updates to processes\n", "", set()),
        (lambda: sections.update(multi=program("multi", "process_name=%(program_name)s_%(process_num)s",
                                               "numprocs=3")),
         "multi: changed\n", "multi: stopped\nmulti: updated process group\n",
         {"multi:multi_0", "multi:multi_1", "multi:multi_2"}),
        (lambda: sections.update(multi=program("multi", "process_name=%(program_name)s_%(process_num)s",
                                               "numprocs=1")),
         "multi: changed\n", "multi: stopped\nmulti: updated process group\n", {"multi:multi_0"}),
        (lambda: sections.update(env=program("env", 'environment=B="2",A="1"')),
         "No config updates to processes\n", "", set()),
        (lambda: sections.update(env=program("env", 'environment=B="2",A="x"')), "env: changed\n",
         "env: stopped\nenv: updated process group\n", {"env"}),
        (lambda: sections.update(mover="[group:x]\nprograms=mover\n\n" + program("mover")),
         "mover: disappeared\nx: available\n",
         "mover: stopped\nmover: removed process group\nx: added process group\n", {"x:mover"}),
        (lambda: sections.update(g="[group:g]\nprograms=gm\npriority=5\n"), "g: changed\n",
         "g: stopped\ng: updated process group\n", {"g:gm"}),
    ]
    names = {
        0: lambda: running.add("new"),
        1: lambda: running.discard("gone"),
        7: lambda: running.add("multi:multi_2"),
        8: lambda: running.difference_update({"multi:multi_1", "multi:multi_2"}),
        11: lambda: (running.discard("mover"), running.add("x:mover")),
    }
    for i, (edit, reread, update, renewed) in enumerate(steps):
        before = pair.pids()
        edit()
        pair.write(render())
        pair.ctl("reread", expect=(0, reread))
        pair.ctl("avail")
        pair.rpc("getAllConfigInfo")
        pair.ctl("update", expect=(0, update))
        names.get(i, lambda: None)()
        pair.settle(states())
        after = pair.pids()
        kept = {k: survivors(before[k], after[k]) for k in KINDS}
        assert kept["ours"] == kept["python"] == sorted((running & set(before["python"])) - renewed), (i, reread)
        pair.same_tables()
        # A second reread finds nothing left to do.
        pair.ctl("reread", expect=(0, "No config updates to processes\n"))
    # The processes really run what the new config says.
    for d in pair.d.values():
        assert d.rpc().supervisor.getProcessInfo("cmd")["pid"] in _pids_running(d, "/bin/sleep 1001")
        assert d.rpc().supervisor.getProcessInfo("logs")["stdout_logfile"] == str(d.tmp / "logs-b.log")


def _pids_running(d, cmdline):
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                raw = open(f"/proc/{pid}/cmdline", "rb").read()
            except OSError:
                continue
            if raw.replace(b"\0", b" ").strip() == cmdline.encode():
                out.append(int(pid))
    return out


BROKEN = [
    ("startsecs=bad", program("p", "startsecs=bad")),
    ("no command", "[program:p]\nstartsecs=0\n"),
    ("bad ini line", program("p") + "this is not an option\n"),
    ("bad group member", "[group:g]\nprograms=nosuch\n"),
    ("include without files", "[include]\n" + program("p")),
]


def test_a_broken_config_cannot_be_reread(make_pair):
    """A config the loader refuses: `reread` and `update` print `ERROR: CANT_REREAD: <the
    loader's text>` (or the traceback supervisorctl gives `update`) with exit status 1 on both,
    `reloadConfig` faults the same, nothing changes, and once fixed the reread works again."""
    good = program("p")
    pair = make_pair(good)
    pair.settle({"p": "RUNNING"})
    before = pair.pids()
    for label, body in BROKEN:
        pair.write(body)
        rc, out, _ = pair.ctl("reread")
        assert rc == 1 and out.startswith("ERROR: CANT_REREAD: "), (label, out)
        fault = pair.rpc("reloadConfig")
        assert fault[:2] == ("fault", 92), (label, fault)
        pair.ctl("update")
        pair.ctl("avail")
    pair.write(good + program("q"))
    pair.ctl("reread", expect=(0, "q: available\n"))
    pair.ctl("update", expect=(0, "q: added process group\n"))
    pair.settle({"p": "RUNNING", "q": "RUNNING"})
    after = pair.pids()
    assert survivors(before["python"], after["python"]) == survivors(before["ours"], after["ours"]) == ["p"]


def test_reread_reapplies_supervisord_options_got17(make_pair):
    """GOT-17: reloadConfig re-applies [supervisord] values to the live options. After changing
    `identifier`, getIdentification answers the new one (and AUTO logs of groups added later are
    named after it); a relative `logfile` is re-applied unnormalised, so readLog keeps working
    while it names the same file relative to the daemon's directory, and answers
    `NO_FILE: other.log` (the raw value) once the config names another file, while the log itself
    keeps being written where it was opened."""
    body = "[supervisord]\nidentifier=first\nlogfile=rel.log\n\n" + program("p")
    pair = make_pair(body)
    pair.settle({"p": "RUNNING"})
    pair.rpc("getIdentification", expect=("ok", "first"))
    for d in pair.d.values():
        assert (d.tmp / "rel.log").exists() and not (d.tmp / "supervisord.log").exists()
    assert all(isinstance(d.rpc().supervisor.readLog(-20, 0), str) for d in pair.d.values())

    pair.write(body.replace("first", "second"))
    pair.ctl("reread", expect=(0, "No config updates to processes\n"))
    pair.rpc("getIdentification", expect=("ok", "second"))
    assert all(isinstance(d.rpc().supervisor.readLog(-20, 0), str) for d in pair.d.values())
    for d in pair.d.values():
        assert _ctl(d, "maintail", "-20")[0] == 0, d.kind

    pair.write(body.replace("first", "second").replace("rel.log", "other.log") + program("q"))
    pair.ctl("reread", expect=(0, "q: available\n"))
    pair.rpc("readLog", 0, 0, expect=("fault", 20, "NO_FILE: other.log"))
    pair.ctl("maintail")
    pair.ctl("update", expect=(0, "q: added process group\n"))
    pair.settle({"p": "RUNNING", "q": "RUNNING"})
    info = pair.rpc("getProcessInfo", "q")
    assert "q-stdout---second-XXXXXXXX.log" in info[1]["stdout_logfile"], info
    for d in pair.d.values():
        assert "spawned: 'q'" in (d.tmp / "rel.log").read_text(), d.kind
        assert not (d.tmp / "other.log").exists(), d.kind


def test_config_info_shows_auto_after_reread_got18(make_pair):
    """GOT-18: after a reread, getAllConfigInfo reports `auto` for the AUTO logs of groups in use
    (it lists the new, never-added config objects), while getProcessInfo still shows the real
    file; updating the group (here: a changed command) shows the real path again."""
    body = program("a") + program("b")
    pair = make_pair(body)
    pair.settle({"a": "RUNNING", "b": "RUNNING"})

    def logs(kind):
        return {i["name"]: (i["stdout_logfile"], i["stderr_logfile"])
                for i in pair.d[kind].rpc().supervisor.getAllConfigInfo()}
    first = logs("python")
    assert first["a"][0].startswith(str(pair.d["python"].tmp)) and first["a"][0].endswith(".log")
    pair.rpc("getAllConfigInfo")

    pair.ctl("reread", expect=(0, "No config updates to processes\n"))
    pair.rpc("getAllConfigInfo")
    assert logs("python") == logs("ours") == {"a": ("auto", "auto"), "b": ("auto", "auto")}
    for d in pair.d.values():
        real = d.rpc().supervisor.getProcessInfo("a")["stdout_logfile"]
        assert real.startswith(str(d.tmp)), (d.kind, real)

    pair.write(program("a").replace("1000", "1001") + program("b"))
    pair.ctl("update", "a", expect=(0, "a: stopped\na: updated process group\n"))
    pair.settle({"a": "RUNNING", "b": "RUNNING"})
    pair.rpc("getAllConfigInfo")
    for kind in KINDS:
        now = logs(kind)
        assert now["b"] == ("auto", "auto"), kind
        assert now["a"][0].startswith(str(pair.d[kind].tmp)), (kind, now)
        assert now["a"][0] == pair.d[kind].rpc().supervisor.getProcessInfo("a")["stdout_logfile"]


LISTENER = """\
import sys
from supervisor import childutils
while True:
    headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
    with open(sys.argv[1], "a") as f:
        f.write("%s %s %s\\n" % (headers["eventname"], headers["serial"], payload.strip()))
    childutils.listener.ok(sys.stdout)
"""

EVENTS_BODY = """\
[eventlistener:watch]
command={python} {tmp}/listener.py {tmp}/events.txt
events=PROCESS_GROUP
startsecs=0

""" + program("one")


def _events(d):
    path = d.tmp / "events.txt"
    lines = path.read_text().splitlines() if path.exists() else []
    if not lines:
        return []
    first = int(lines[0].split()[1])
    return [(name, int(serial) - first, rest) for name, serial, rest in (l.split(" ", 2) for l in lines)]


def test_listener_sees_group_added_and_removed(make_pair):
    """A childutils listener subscribed to PROCESS_GROUP receives the same PROCESS_GROUP_ADDED /
    REMOVED events (names, payloads, relative serials) on both daemons for `update`, `add` and
    `remove`."""
    pair = make_pair(EVENTS_BODY, files={"listener.py": LISTENER})
    pair.settle({"watch": "RUNNING", "one": "RUNNING"})

    def wait_events(n):
        for d in pair.d.values():
            wait_for(lambda d=d: len(_events(d)) >= n, what=f"{n} events ({d.kind})")
        ev = {k: _events(d) for k, d in pair.d.items()}
        assert ev["ours"] == ev["python"]
        assert len(ev["python"]) == n, ev["python"]
        return ev["python"]

    # The pool subscribes when it is created (first: priority -1), so it sees its own ADDED too.
    initial = wait_events(2)
    assert [(n, r) for n, _, r in initial] == [("PROCESS_GROUP_ADDED", "groupname:watch"),
                                                ("PROCESS_GROUP_ADDED", "groupname:one")]
    initial = len(initial)
    pair.write(EVENTS_BODY + program("two") + program("three"))
    pair.ctl("update", "two", expect=(0, "two: added process group\n"))
    pair.ctl("add", "three", expect=(0, "three: added process group\n"))
    pair.ctl("stop", "three", expect=(0, "three: stopped\n"))
    pair.ctl("remove", "three", expect=(0, "three: removed process group\n"))
    pair.write(EVENTS_BODY.replace("1000", "1001") + program("two"))
    pair.ctl("update", expect=(0, "one: stopped\none: updated process group\n"))
    events = wait_events(initial + 5)
    assert [(n, r) for n, _, r in events[initial:]] == [
        ("PROCESS_GROUP_ADDED", "groupname:two"), ("PROCESS_GROUP_ADDED", "groupname:three"),
        ("PROCESS_GROUP_REMOVED", "groupname:three"), ("PROCESS_GROUP_REMOVED", "groupname:one"),
        ("PROCESS_GROUP_ADDED", "groupname:one")]


RESTART_BODY = """\
[program:cat]
command=/bin/cat
startsecs=0

[program:stubborn]
; ignores SIGTERM: keeps the restart window open until the test kills it
command={python} -c "import signal, time; signal.signal(15, signal.SIG_IGN); time.sleep(1000)"
startsecs=0
stopwaitsecs=60

"""


def test_reload_and_sighup_restart_in_place_with_the_new_config(make_pair):
    """`supervisorctl reload` (supervisor.restart) and SIGHUP: the daemon restarts in place (same
    pid, no re-daemonize), re-reads the config (a program added, one removed) and restarts every
    child (new pids). While the restart waits for a child that ignores SIGTERM, calls answer
    SHUTDOWN_STATE and the ctl prints the same on both."""
    pair = make_pair(RESTART_BODY + program("gone"))
    try:
        _restart_twice(pair)
    finally:
        # Let the daemons stop at once: stop the SIGTERM-proof child by SIGKILL.
        for d in pair.d.values():
            try:
                pid = d.rpc().supervisor.getProcessInfo("stubborn")["pid"]
                d.rpc().supervisor.stopProcess("stubborn", False)
                os.kill(pid, signal.SIGKILL)
            except Exception:
                pass


def _restart_twice(pair):
    pair.settle({"cat": "RUNNING", "stubborn": "RUNNING", "gone": "RUNNING"})

    def restart(trigger, body, states, log_line):
        before = pair.pids()
        pair.write(body)
        trigger()
        for d in pair.d.values():
            wait_for(lambda d=d: _state_fault(d), what=f"restart window ({d.kind})")
        pair.rpc("getState", expect=("fault", 6, "SHUTDOWN_STATE"))
        pair.rpc("getAllProcessInfo")
        pair.ctl("status")
        pair.ctl("reload", expect=(1, "ERROR: already shutting down\n"))
        pair.ctl("update")
        pair.ctl("reread")
        for kind, d in pair.d.items():
            os.kill(before[kind]["stubborn"], signal.SIGKILL)
        for d in pair.d.values():
            wait_for(lambda d=d: _state(d) == "RUNNING", timeout=30, what=f"back up ({d.kind})")
            assert d.proc.poll() is None and d.rpc().supervisor.getPID() == d.proc.pid, d.kind
        pair.settle(states)
        after = pair.pids()
        for kind in KINDS:
            assert survivors(before[kind], after[kind]) == [], kind
        rc, out, _ = pair.ctl("status")
        assert rc == 0 and sorted(l.split()[0] for l in out.splitlines()) == sorted(states)
        pair.same_tables()
        for d in pair.d.values():
            assert log_line is None or log_line in d.mainlog(), d.kind
            assert "daemonizing" not in d.mainlog(), d.kind

    def reload():
        pair.ctl("reload", expect=(0, "Restarted supervisord\n"))
    restart(reload, RESTART_BODY + program("fresh"),
            {"cat": "RUNNING", "stubborn": "RUNNING", "fresh": "RUNNING"}, None)

    def hup():
        for d in pair.d.values():
            d.proc.send_signal(signal.SIGHUP)
    restart(hup, RESTART_BODY, {"cat": "RUNNING", "stubborn": "RUNNING"},
            "received SIGHUP indicating restart request")


def _state(d):
    try:
        return d.rpc().supervisor.getState()["statename"]
    except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
        return None


def _state_fault(d):
    try:
        d.rpc().supervisor.getState()
    except xmlrpc.client.Fault as f:
        return f.faultCode == 6
    except OSError:
        return False
    return False


FCGI_APP = """\
import os, socket
s = socket.socket(fileno=0)
while True:
    c, _ = s.accept()
    c.sendall(str(os.getpid()).encode())
    c.close()
"""

FCGI_BODY = """\
[fcgi-program:web]
command={python} {tmp}/app.py
socket=tcp://127.0.0.1:{port}
startsecs=0

[fcgi-program:local]
command={python} {tmp}/app.py
socket=unix://{tmp}/fcgi.sock
startsecs=0
"""


def _connect(addr):
    s = socket.socket(socket.AF_UNIX if isinstance(addr, str) else socket.AF_INET)
    s.settimeout(15)
    s.connect(addr)
    return s


def _answer(s):
    data = b""
    while chunk := s.recv(100):
        data += chunk
    s.close()
    return int(data)


def test_fcgi_sockets_are_served_and_live_as_long_as_the_group(make_pair):
    """fcgi-program groups on a TCP and a unix socket: both daemons create the sockets (same
    `Creating socket` log line) and serve clients through the process's fd 0.

    DELIBERATE DIFFERENCE (README): Python reference-counts the socket per running process, so
    while the only process is stopped the socket is closed and a client is refused; ours keeps
    the socket for the life of the group, so the client is queued and answered by the process
    once it is started again. Removing the group closes the socket on ours too (refused
    afterwards, `Closing socket` in the main log)."""
    pair = make_pair(FCGI_BODY, files={"app.py": FCGI_APP})
    pair.settle({"web": "RUNNING", "local": "RUNNING"})
    addrs = {k: {"web": ("127.0.0.1", pair.ports[k]), "local": str(d.tmp / "fcgi.sock")}
             for k, d in pair.d.items()}
    for kind, d in pair.d.items():
        for name in ("web", "local"):
            assert _answer(_connect(addrs[kind][name])) == d.rpc().supervisor.getProcessInfo(name)["pid"]
        log = d.mainlog()
        assert f"INFO Creating socket tcp://127.0.0.1:{pair.ports[kind]}\n" in log, kind
        assert f"INFO Creating socket unix://{d.tmp}/fcgi.sock\n" in log, kind

    pair.ctl("restart", "web", expect=(0, "web: stopped\nweb: started\n"))
    for kind, d in pair.d.items():
        assert _answer(_connect(addrs[kind]["web"])) == d.rpc().supervisor.getProcessInfo("web")["pid"]

    before = pair.pids()
    pair.ctl("stop", "web", "local", any_order=True)
    # Python: nothing listens while no process of the group runs.
    for name in ("web", "local"):
        with pytest.raises(ConnectionRefusedError):
            _connect(addrs["python"][name])
    # Ours: the connection is accepted by the kernel and waits for the restarted process.
    waiting = {name: _connect(addrs["ours"][name]) for name in ("web", "local")}
    pair.ctl("start", "web", "local", any_order=True)
    after = pair.pids()
    for name, s in waiting.items():
        assert _answer(s) == after["ours"][name] != before["ours"][name]
    for kind in KINDS:
        for name in ("web", "local"):
            assert _answer(_connect(addrs[kind][name])) == after[kind][name]

    pair.ctl("stop", "web", expect=(0, "web: stopped\n"))
    assert "Closing socket tcp" in pair.d["python"].mainlog()
    assert "Closing socket tcp" not in pair.d["ours"].mainlog()  # the deliberate difference
    pair.ctl("remove", "web", expect=(0, "web: removed process group\n"))
    for kind, d in pair.d.items():
        with pytest.raises(ConnectionRefusedError):
            _connect(addrs[kind]["web"])
        assert f"INFO Closing socket tcp://127.0.0.1:{pair.ports[kind]}\n" in d.mainlog(), kind
        assert _answer(_connect(addrs[kind]["local"])) == after[kind]["local"]
    pair.ctl("avail")
    pair.ctl("add", "web", expect=(0, "web: added process group\n"))
    pair.settle({"web": "RUNNING", "local": "RUNNING"})
    for kind, d in pair.d.items():
        assert _answer(_connect(addrs[kind]["web"])) == d.rpc().supervisor.getProcessInfo("web")["pid"]


def test_added_groups_start_per_autostart_and_group_faults_match(make_pair):
    """Groups added by `update` or `add` are started when autostart=true and left STOPPED when
    autostart=false, on both. The group calls' faults and the ctl's words for them match:
    BAD_NAME, ALREADY_ADDED, STILL_RUNNING, `update <unknown group>`."""
    pair = make_pair(program("base"))
    pair.settle({"base": "RUNNING"})
    pair.write(program("base") + program("on1") + program("off1", "autostart=false")
               + program("on2") + program("off2", "autostart=false"))
    pair.ctl("reread", expect=(0, "off1: available\noff2: available\non1: available\non2: available\n"))
    pair.ctl("avail")
    pair.ctl("add", "on1", "off1", "nosuch",
             expect=(1, "on1: added process group\noff1: added process group\nERROR: no such process/group: nosuch\n"))
    pair.ctl("update", "on2", "off2", "nosuch", any_order=True)
    pair.settle({"base": "RUNNING", "on1": "RUNNING", "off1": "STOPPED", "on2": "RUNNING", "off2": "STOPPED"})
    pair.same_tables()
    pair.ctl("avail")

    pair.rpc("addProcessGroup", "on1", expect=("fault", 90, "ALREADY_ADDED: on1"))
    pair.rpc("addProcessGroup", "nosuch", expect=("fault", 10, "BAD_NAME: nosuch"))
    pair.rpc("removeProcessGroup", "on1", expect=("fault", 91, "STILL_RUNNING: on1"))
    pair.rpc("removeProcessGroup", "nosuch", expect=("fault", 10, "BAD_NAME: nosuch"))
    pair.ctl("add", "on1", expect=(0, "ERROR: process group already active\n"))
    pair.ctl("remove", "on1", expect=(1, "ERROR: process/group still running: on1\n"))
    pair.ctl("remove", "nosuch", expect=(1, "ERROR: no such process/group: nosuch\n"))
    pair.rpc("removeProcessGroup", "off1", expect=("ok", True))
    pair.ctl("remove", "off2", expect=(0, "off2: removed process group\n"))
    pair.rpc("reloadConfig", expect=("ok", [[["off1", "off2"], [], []]]))
    pair.ctl("update", "all", any_order=True)
    pair.settle({"base": "RUNNING", "on1": "RUNNING", "off1": "STOPPED", "on2": "RUNNING", "off2": "STOPPED"})
    pair.rpc("reloadConfig", expect=("ok", [[[], [], []]]))
    pair.ctl("update", "nosuch", expect=(1, "ERROR: no such group: nosuch\n"))
