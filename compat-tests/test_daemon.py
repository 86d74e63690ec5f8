"""The daemon, differentially: the same config runs under Python supervisord 4.3.0 and under
ours; the real Python supervisorctl and xmlrpc.client drive both, and what they see must match
after masking pids, times and temp paths."""
import os
import signal
import xmlrpc.client

import pytest

from harness import Daemon, follow, normalize, normalize_value, wait_for, free_port

PROGRAMS = """
[program:sleeper]
command=/bin/sleep 1000
startsecs=0

[program:quick]
; Exits after 0.2 s: with startsecs=0, whether `success:` precedes a faster exit is a race in
; supervisor itself (GOT-4), so it cannot be compared.
command=/bin/sh -c 'echo out; echo err >&2; sleep 0.2'
startsecs=0
autorestart=false

[program:missing]
command=/nonexistent/binary
startretries=0

[program:flappy]
command=/bin/sh -c 'exit 3'
startsecs=1
startretries=1

[program:manual]
command=/bin/sleep 1000
autostart=false
startsecs=0

[group:grp]
programs=member1,member2

[program:member1]
command=/bin/sleep 1000
startsecs=0

[program:member2]
command=/bin/sleep 1000
startsecs=0
priority=5
"""

SETTLED = {"sleeper": ("RUNNING",), "quick": ("EXITED",), "missing": ("FATAL",), "flappy": ("FATAL",),
           "manual": ("STOPPED",), "grp:member1": ("RUNNING",), "grp:member2": ("RUNNING",)}


@pytest.fixture(scope="module")
def pair(binaries, tmp_path_factory):
    base = tmp_path_factory.mktemp("daemon")
    daemons = {}
    try:
        for kind in ("python", "ours"):
            d = Daemon(kind, PROGRAMS, base / kind, binary=binaries["supervisord"]).start()
            daemons[kind] = d
        for d in daemons.values():
            for name, states in SETTLED.items():
                d.wait_state(name, *states, timeout=20)
        yield daemons
    finally:
        for d in daemons.values():
            d.stop()


def both(pair, f):
    return {kind: f(d) for kind, d in pair.items()}


def same_ctl(pair, *args, any_order=False):
    """Same exit status and output. `any_order` compares the lines as a set, for group and all
    operations whose results come in completion order, which varies (in Python too)."""
    out = both(pair, lambda d: d.ctl(*args))
    py, rs = out["python"], out["ours"]
    text = {k: normalize(v[1], pair[k]) for k, v in out.items()}
    if any_order:
        text = {k: sorted(v.splitlines()) for k, v in text.items()}
    assert (rs[0], text["ours"]) == (py[0], text["python"]), args
    return py


def same_rpc(pair, method, *args):
    def call(d):
        try:
            return ("ok", normalize_value(getattr(d.rpc(), method)(*args), d))
        except xmlrpc.client.Fault as f:
            return ("fault", f.faultCode, normalize(f.faultString, d))
    out = both(pair, call)
    assert out["ours"] == out["python"], (method, args)
    return out["python"]


def test_status_matches(pair):
    rc, out, _ = same_ctl(pair, "status")
    assert rc == 3 and "sleeper" in out


@pytest.mark.parametrize("args", [
    ["status", "sleeper"], ["status", "nosuch"], ["status", "grp:*"], ["status", "nosuch:*"],
    ["status", "sleeper", "manual"], ["version"],
])
def test_read_only_commands_match(pair, args):
    same_ctl(pair, *args)


@pytest.mark.parametrize("call", [
    ("getAPIVersion",), ("getVersion",), ("getSupervisorVersion",), ("getIdentification",),
    ("getState",), ("getProcessInfo", "sleeper"), ("getProcessInfo", "grp:member1"),
    ("getProcessInfo", "nosuch"), ("getProcessInfo", "grp:*"), ("getProcessInfo", "grp:nosuch"),
    ("getProcessInfo", "missing"), ("getProcessInfo", "flappy"), ("getProcessInfo", "manual"),
    ("getProcessInfo", "quick"), ("getAllProcessInfo",), ("getAllConfigInfo",),
    ("startProcess", "sleeper"), ("startProcess", "nosuch"), ("startProcess", "missing"),
    ("stopProcess", "manual"), ("stopProcess", "nosuch"), ("signalProcess", "manual", "HUP"),
    ("signalProcess", "sleeper", "NOSIG"), ("signalProcess", "nosuch", "HUP"),
    ("signalProcessGroup", "nosuch", "HUP"), ("startProcessGroup", "nosuch"),
    ("stopProcessGroup", "nosuch"), ("readProcessStdoutLog", "quick", 0, 100),
    ("readProcessStderrLog", "quick", 0, 100), ("readProcessStdoutLog", "quick", -3, 0),
    ("readProcessStdoutLog", "quick", -1, 5), ("readProcessStdoutLog", "nosuch", 0, 1),
    ("tailProcessStdoutLog", "quick", 0, 2), ("tailProcessStderrLog", "quick", 0, 100),
    ("tailProcessLog", "quick", 50, 10), ("readLog", -1, 5), ("sendProcessStdin", "manual", "x"),
    ("sendProcessStdin", "nosuch", "x"), ("sendProcessStdin", "sleeper", 5),
    ("clearProcessLogs", "nosuch"), ("getState", "extra"), ("getProcessInfo",),
    ("nosuchmethod",), ("removeProcessGroup", "sleeper"), ("addProcessGroup", "sleeper"),
    ("addProcessGroup", "nosuch"), ("removeProcessGroup", "nosuch"),
], ids=lambda c: " ".join(map(str, c)))
def test_rpc_matches(pair, call):
    same_rpc(pair, *call)


def test_system_methods_match(pair):
    same_rpc(pair, "system.listMethods")
    for name in pair["python"].rpc().system.listMethods() + ["nosuch", "supervisor.nosuch"]:
        same_rpc(pair, "system.methodHelp", name)
        same_rpc(pair, "system.methodSignature", name)
    same_rpc(pair, "system.methodHelp")
    out = both(pair, lambda d: d.rpc().system.multicall([
        {"methodName": "supervisor.getAPIVersion"},
        {"methodName": "supervisor.getProcessInfo", "params": ["nosuch"]},
        {"methodName": "system.multicall", "params": [[]]},
        {"params": []},
        {"methodName": "supervisor.stopProcess", "params": ["manual"]},
    ]))
    assert normalize_value(out["ours"]) == normalize_value(out["python"])


def test_unknown_and_private_methods_are_refused(pair):
    for name in ("supervisor._update", "supervisor.getState.__call__", "nosuch.getState", "getState"):
        same_rpc(pair, name)


def test_start_stop_restart_cycle_matches(pair):
    for args in (["stop", "sleeper"], ["status", "sleeper"], ["start", "sleeper"], ["restart", "sleeper"],
                 ["stop", "grp:*"], ["start", "grp:*"], ["start", "sleeper"], ["stop", "manual"],
                 ["start", "missing"], ["stop", "nosuch"], ["start", "nosuch:*"],
                 ["signal", "HUP", "manual"], ["signal", "FOO", "sleeper"]):
        same_ctl(pair, *args, any_order=any(a.endswith(":*") or a == "all" for a in args))
    for d in pair.values():
        d.wait_state("sleeper", "RUNNING")


def test_main_log_lines_match(pair):
    """The lines supervisor writes about processes, in order per process, word for word."""
    keys = ("spawned:", "success:", "exited:", "gave up:", "spawnerr:", "stopped:")

    def lines(d, name):
        out = []
        for line in d.mainlog().splitlines():
            message = line.split(" ", 3)[-1] if line[:4].isdigit() else ""
            if any(message.startswith(k) for k in keys) and (f" {name} " in message or f"'{name}'" in message):
                out.append(normalize(message))
        return out

    for name in ("quick", "missing", "flappy"):
        assert lines(pair["ours"], name) == lines(pair["python"], name), name


@pytest.mark.parametrize("args", [
    ["tail", "quick"], ["tail", "quick", "stderr"], ["tail", "-3", "quick"], ["tail", "-0", "quick"],
    ["tail", "nosuch"], ["tail", "quick", "bogus"], ["tail", "-x", "quick"], ["tail"],
    ["tail", "manual"], ["clear", "nosuch"], ["clear", "quick"], ["avail"], ["help"], ["help", "start"],
    ["help", "nosuch"], ["bogus"], ["start"], ["stop"], ["signal", "HUP"], ["maintail", "-x"],
    ["maintail", "a", "b"], ["maintail", "foo"], ["fg"], ["fg", "a", "b"], ["fg", "nosuch"],
    ["fg", "manual"], ["fg", "grp:*"],
], ids=lambda a: " ".join(a))
def test_more_commands_match(pair, args):
    same_ctl(pair, *args)


def test_pid_commands(pair):
    out = both(pair, lambda d: d.ctl("pid"))
    for kind, (rc, stdout, _) in out.items():
        assert rc == 0 and int(stdout) == pair[kind].proc.pid
    out = both(pair, lambda d: d.ctl("pid", "sleeper"))
    assert [o[0] for o in out.values()] == [0, 0]
    assert all(int(o[1]) > 0 for o in out.values())
    same_ctl(pair, "pid", "manual")
    same_ctl(pair, "pid", "nosuch")


def test_tail_follow_streams(pair):
    """`tail -f` reads /logtail: both daemons send the header, then the log as it grows."""
    for d in pair.values():
        p = follow(["-c", str(d.conf), "tail", "-f", "quick"])
        try:
            assert p.next_line() == "==> Press Ctrl-C to exit <==\n", d.kind
            p.wait_line(lambda line: line.strip() == "out")
        finally:
            p.kill()
            p.wait()


@pytest.mark.parametrize("args, size", [(["maintail"], 1600), (["maintail", "-200"], 200)])
def test_maintail_prints_the_end_of_the_main_log(pair, args, size):
    """The log's contents differ in their pids and times, so each daemon is checked against its
    own main log file: the last `size` bytes, then the newline supervisorctl adds."""
    for d in pair.values():
        rc, out, _ = d.ctl(*args)
        log = (d.tmp / "supervisord.log").read_bytes().decode(errors="replace")
        assert rc == 0 and out.endswith("\n"), d.kind
        assert len(out) - 1 == size and out[:-1] in log, (d.kind, out)
    # `-0` asks for readLog(0, 0): the whole log.
    for d in pair.values():
        rc, out, _ = d.ctl("maintail", "-0")
        log = (d.tmp / "supervisord.log").read_bytes().decode(errors="replace")
        assert rc == 0 and log.startswith(out[:-1]) and len(out) > 1600, d.kind


def test_maintail_follow_streams(pair):
    """`maintail -f` reads /mainlogtail: the header, the end of the log, then new lines."""
    for d in pair.values():
        p = follow(["-c", str(d.conf), "maintail", "-f"])
        try:
            assert p.next_line() == "==> Press Ctrl-C to exit <==\n", d.kind
            assert d.ctl("start", "manual")[0] == 0
            p.wait_line(lambda line: "spawned: 'manual'" in line)
        finally:
            p.kill()
            p.wait()
            d.ctl("stop", "manual")


RESTARTABLE = """
[program:cat]
command=/bin/cat
startsecs=0
"""


def test_reload_and_shutdown_match(binaries, tmp_path):
    daemons = {k: Daemon(k, RESTARTABLE, tmp_path / k, binary=binaries["supervisord"]).start()
               for k in ("python", "ours")}
    try:
        pids = {}
        for k, d in daemons.items():
            d.wait_state("cat", "RUNNING")
            pids[k] = d.rpc().supervisor.getProcessInfo("cat")["pid"]
        for k, d in daemons.items():
            rc, out, _ = d.ctl("reload")
            assert (rc, out) == (0, "Restarted supervisord\n")
        for k, d in daemons.items():
            # Same supervisord process, a fresh cat.
            wait_for(lambda d=d: _pid_of(d, "cat") not in (None, 0, pids[k]), what="cat restarted")
            assert d.rpc().supervisor.getPID() == d.proc.pid
        out = {k: d.ctl("shutdown") for k, d in daemons.items()}
        assert out["ours"][:2] == out["python"][:2] == (0, "Shut down\n")
        for d in daemons.values():
            assert d.proc.wait(timeout=30) == 0
        logs = {k: [normalize(l.split(" ", 3)[-1]) for l in d.mainlog().splitlines()
                    if "SIGHUP" in l or "waiting for" in l or "stopped:" in l]
                for k, d in daemons.items()}
        assert logs["ours"] == logs["python"]
    finally:
        for d in daemons.values():
            d.stop()


def _pid_of(d, name):
    try:
        return d.rpc().supervisor.getProcessInfo(name)["pid"]
    except Exception:
        return None


def _raw_post(daemon, body):
    import http.client
    import socket

    class UnixConnection(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(30)
            self.sock.connect(str(daemon.tmp / "supervisor.sock"))

    conn = UnixConnection("localhost")
    conn.request("POST", "/RPC2", body=body, headers={"Content-Type": "text/xml"})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, r.getheader("Content-Type"), data


@pytest.mark.parametrize("call", [
    ("supervisor.getState", ()), ("supervisor.getAPIVersion", ()), ("supervisor.getIdentification", ()),
    ("supervisor.getProcessInfo", ("nosuch",)), ("system.listMethods", ()), ("supervisor.getAllConfigInfo", ()),
    ("supervisor.startProcess", ("missing",)), ("supervisor.stopProcess", ("manual", True)),
    ("system.multicall", ([{"methodName": "supervisor.getAPIVersion"},
                           {"methodName": "supervisor.getProcessInfo", "params": ["x"]}],)),
    ("supervisor.tailProcessStdoutLog", ("quick", 0, 3)), ("supervisor.nosuch", ()),
], ids=lambda c: c[0])
def test_rpc_replies_are_byte_identical(pair, call):
    import re
    method, params = call
    body = xmlrpc.client.dumps(params, method).encode()

    def reply(d):
        status, ctype, data = _raw_post(d, body)
        text = data.decode().replace(str(d.tmp), "<tmp>")
        return status, ctype, re.sub(r"---supervisor-[a-z0-9_]{8}\.log", "---supervisor-X.log", text)
    assert reply(pair["ours"]) == reply(pair["python"])


@pytest.mark.parametrize("body", [b"<not xml", b"<?xml version='1.0'?><methodCall></methodCall>",
                                  b"<methodCall><methodName>supervisor.getState</methodName>"])
def test_bad_request_bodies_answer_like_python(pair, body):
    out = both(pair, lambda d: _raw_post(d, body)[0])
    assert out["ours"] == out["python"] == 400


def test_empty_rpc_body_is_a_bad_request_not_a_hang(pair):
    """Deliberate difference (README): Python's medusa never completes a zero-length POST body,
    so supervisord leaves the client waiting; we answer 400 at once."""
    assert _raw_post(pair["ours"], b"")[0] == 400


STUBBORN = """
[program:stubborn]
command=/bin/sh -c 'trap "" TERM; while true; do sleep 1; done'
startsecs=0
stopwaitsecs=60
"""


def test_calls_during_shutdown_match(binaries, tmp_path):
    daemons = {k: Daemon(k, STUBBORN, tmp_path / k, binary=binaries["supervisord"]).start()
               for k in ("python", "ours")}
    try:
        pids = {}
        for k, d in daemons.items():
            d.wait_state("stubborn", "RUNNING")
            pids[k] = d.rpc().supervisor.getProcessInfo("stubborn")["pid"]
            assert d.rpc().supervisor.shutdown() is True
        # signalAllProcesses answers SHUTDOWN_STATE and, since each per-process call checks the
        # mood too, signals nothing: the stubborn child is still there afterwards.
        calls = [("getState",), ("getProcessInfo", "stubborn"), ("startProcess", "stubborn"),
                 ("signalProcessGroup", "nosuch", "HUP"), ("sendRemoteCommEvent", "t", "d"),
                 ("signalAllProcesses", "KILL")]
        for call in calls:
            same_rpc(daemons, *call)
        for k, d in daemons.items():
            os.kill(pids[k], signal.SIGKILL)
            assert d.proc.wait(timeout=30) == 0
    finally:
        for d in daemons.values():
            d.stop()


QUICK_EXITS = """
[program:blip]
command=/bin/sh -c 'echo "line from %(process_num)02d"'
process_name=blip%(process_num)02d
numprocs=20
startsecs=0
autorestart=false
stdout_logfile={tmp}/%(program_name)s-%(process_num)02d.out
"""


def test_output_of_quick_exits_is_never_lost(binaries, tmp_path):
    """Every byte a child writes before exiting reaches its log file and the debug echo in the
    main log, however fast it exits (the final drain at reap must not miss it)."""
    for kind in ("python", "ours"):
        d = Daemon(kind, QUICK_EXITS, tmp_path / kind, binary=binaries["supervisord"], loglevel="debug").start()
        try:
            for n in range(20):
                d.wait_state(f"blip:blip{n:02d}", "EXITED")
            for n in range(20):
                assert (d.tmp / f"blip-{n:02d}.out").read_text() == f"line from {n:02d}\n", kind
                assert f"'blip{n:02d}' stdout output:\nline from {n:02d}\n" in d.mainlog(), kind
        finally:
            d.stop()


ORPHANS = """
[program:parent]
command=/bin/sh -c '( sleep 0.3 & ); exec sleep 1000'
startsecs=0
"""


def test_as_pid_1_orphans_are_reaped(binaries, tmp_path):
    """In a container supervisord is PID 1: orphaned grandchildren become its children, and it
    reaps them (`reaped unknown pid`) so no zombies pile up, as Python's does."""
    import shutil
    import subprocess
    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "--pid", "--fork", "true"], capture_output=True).returncode != 0:
        pytest.skip("no pid namespaces here")
    prefix = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc"]
    for kind in ("python", "ours"):
        d = Daemon(kind, ORPHANS, tmp_path / kind, binary=binaries["supervisord"], prefix=prefix).start()
        try:
            assert d.rpc().supervisor.getPID() == 1
            wait_for(lambda: "reaped unknown pid" in d.mainlog(), what=f"orphan reaped ({kind})")
            line = [l for l in d.mainlog().splitlines() if "reaped unknown pid" in l][0]
            assert line.endswith("(exit status 0)"), line
        finally:
            d.ctl("shutdown")
            d.stop()


def test_daemonizes_like_python(binaries, tmp_path):
    """Without -n: the launcher exits 0 at once, the daemon's pid is in the pidfile and it
    answers; after shutdown the pidfile and the socket file are gone. Same for both."""
    import subprocess
    import sys
    for kind in ("python", "ours"):
        d = Daemon(kind, RESTARTABLE, tmp_path / kind, binary=binaries["supervisord"])
        cmd = [c for c in d.command() if c != "-n"]
        launcher = subprocess.Popen(cmd, cwd=d.tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _, err = launcher.communicate(timeout=30)
        assert launcher.returncode == 0, (kind, err)
        pidfile = d.tmp / "supervisord.pid"
        wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), what=f"pidfile ({kind})")
        pid = int(pidfile.read_text())
        # A forked child, not the process we launched.
        assert pid != launcher.pid and d.rpc().supervisor.getPID() == pid
        d.wait_state("cat", "RUNNING")
        assert "daemonizing the supervisord process" in d.mainlog()
        rc, out, _ = d.ctl("shutdown")
        assert (rc, out) == (0, "Shut down\n")
        wait_for(lambda: not pidfile.exists() and not (d.tmp / "supervisor.sock").exists(),
                 what=f"cleanup after shutdown ({kind})")


AUTHED = """
[inet_http_server]
port=127.0.0.1:{port}
username=chris
password={{SHA}}40bd001563085fc35165329ea1ff5c5ecbdbbeef

[program:cat]
command=/bin/cat
startsecs=0
"""



def test_basic_auth_over_tcp_matches(binaries, tmp_path):
    """An inet server with a {SHA} password: supervisorctl with the right password works, with
    a wrong one or none it is refused with the same words and exit status."""
    daemons = {}
    try:
        for kind in ("python", "ours"):
            port = free_port()
            d = Daemon(kind, AUTHED.replace("{port}", str(port)), tmp_path / kind, binary=binaries["supervisord"])
            daemons[kind] = d.start()
            d.url = f"http://127.0.0.1:{port}"
        for args in (["-u", "chris", "-p", "123", "status"], ["-u", "chris", "-p", "wrong", "status"],
                     ["status"], ["-u", "nobody", "-p", "123", "pid"]):
            out = {}
            for kind, d in daemons.items():
                rc, stdout, _ = d.ctl("-s", d.url, *args)
                out[kind] = (rc, normalize(stdout.replace(d.url, "<url>"), d))
            assert out["ours"] == out["python"], args
    finally:
        for d in daemons.values():
            d.stop()


def test_sigusr2_reopens_the_main_log(binaries, tmp_path):
    """logrotate moves the log away and sends SIGUSR2: the old file gets Python's two lines and a
    new, empty file is started."""
    for kind in ("python", "ours"):
        d = Daemon(kind, RESTARTABLE, tmp_path / kind, binary=binaries["supervisord"]).start()
        try:
            log = d.tmp / "supervisord.log"
            log.rename(d.tmp / "supervisord.log.1")
            d.proc.send_signal(signal.SIGUSR2)
            # Both lines go to the old file (the reopen comes after them); a new file appears.
            moved = d.tmp / "supervisord.log.1"
            wait_for(lambda: log.exists() and "supervisord logreopen" in moved.read_text(), what=f"reopen ({kind})")
            assert "received SIGUSR2 indicating log reopen request" in moved.read_text(), kind
            assert log.read_text() == "", kind
        finally:
            d.stop()


def test_auto_logs_of_earlier_runs_are_cleaned_unless_nocleanup(binaries, tmp_path):
    for kind in ("python", "ours"):
        for nocleanup in (False, True):
            tmp = tmp_path / f"{kind}-{nocleanup}"
            tmp.mkdir()
            stale = tmp / "old-stdout---supervisor-abcdefgh.log"
            stale.write_text("stale")
            other = tmp / "old-stdout---other-abcdefgh.log"
            other.write_text("other identifier")
            body = RESTARTABLE + ("\n[supervisord]\nnocleanup=true\n" if nocleanup else "")
            d = Daemon(kind, body, tmp, binary=binaries["supervisord"]).start()
            try:
                assert stale.exists() == nocleanup, (kind, nocleanup)
                assert other.exists()
            finally:
                d.stop()


BIG_VALUES = """
[program:big]
command=/bin/cat
stdout_logfile_maxbytes=3GB
autostart=false
"""


def test_int32_overflow_in_config_info_is_answered_where_python_fails(binaries, tmp_path):
    """GOT-25, a deliberate difference (README): XML-RPC ints are 32-bit, so Python cannot
    marshal `getAllConfigInfo` with a 3 GB maxbytes and answers HTTP 500 (`supervisorctl avail`
    fails). We write the true value, which xmlrpc.client reads, so `avail` works."""
    daemons = {k: Daemon(k, BIG_VALUES, tmp_path / k, binary=binaries["supervisord"]).start()
               for k in ("python", "ours")}
    try:
        with pytest.raises(xmlrpc.client.ProtocolError) as e:
            daemons["python"].rpc().supervisor.getAllConfigInfo()
        assert e.value.errcode == 500
        info = daemons["ours"].rpc().supervisor.getAllConfigInfo()
        assert info[0]["stdout_logfile_maxbytes"] == 3 * 1024 ** 3
        rc, out, _ = daemons["ours"].ctl("avail")
        assert (rc, out.split()) == (0, ["big", "in", "use", "manual", "999:999"])
        for d in daemons.values():
            assert d.rpc().supervisor.getProcessInfo("big")["statename"] == "STOPPED"
    finally:
        for d in daemons.values():
            d.stop()


FLOOD = """
[program:flood]
command=/usr/bin/yes 0123456789abcdef
startsecs=0
stdout_logfile_maxbytes=1MB
stdout_logfile_backups=1

[program:cat]
command=/bin/cat
startsecs=0
"""


def test_a_flooding_child_does_not_stall_the_daemon(binaries, tmp_path):
    """A child writing as fast as it can: every API call and ctl command still answers, the log
    keeps rotating, and the flooder stops on request."""
    d = Daemon("ours", FLOOD, tmp_path, binary=binaries["supervisord"]).start()
    try:
        d.wait_state("flood", "RUNNING")
        wait_for(lambda: any(p.name.endswith(".log.1") for p in tmp_path.iterdir()), what="a rotation")
        for _ in range(20):
            assert d.rpc().supervisor.getState()["statename"] == "RUNNING"
            assert d.rpc().supervisor.sendProcessStdin("cat", "x\n") is True
        rc, out, _ = d.ctl("tail", "-32", "flood")
        assert rc == 0 and "0123456789abcdef" in out
        assert d.ctl("stop", "flood")[:2] == (0, "flood: stopped\n")
        assert d.state_of("cat") == "RUNNING"
    finally:
        d.stop()


def test_process_info_follows_every_change_at_once(pair):
    """getAllProcessInfo may reuse a reply within the same second, but only for an unchanged
    table: a start or stop is visible in the very next call, however fast it comes."""
    for d in pair.values():
        rpc = d.rpc()
        states = lambda: {i["name"]: i["statename"] for i in rpc.supervisor.getAllProcessInfo()}
        for _ in range(5):
            assert states()["manual"] == "STOPPED", d.kind
            assert rpc.supervisor.startProcess("manual") is True
            assert states()["manual"] == "RUNNING", d.kind
            assert rpc.supervisor.stopProcess("manual") is True
            assert states()["manual"] == "STOPPED", d.kind
