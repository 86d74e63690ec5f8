"""Events and event listeners (issue 6), differentially: the same configs run under Python
supervisord 4.3.0 and under ours, with real `supervisor.childutils` listeners (and superlance's)
that record every event they receive; the received sequences and the main-log lines about
listeners must match after masking pids, times and the absolute values of serials.

Determinism: each scenario is driven one step at a time (a step waits for its state on both
daemons before the next), fixture programs write each chunk of output only after the daemon has
read the previous one (FIONREAD on their own end of the pipe), and a REMOTE_COMMUNICATION marker
sent last tells when every pool has received everything before it (pools are FIFO). TICK events
depend on the wall clock, so they are left out of the sequences and checked on their own.

Deliberate difference pinned here (ours-only expectation): Python re-buffers an event rejected
by one listener in every pool that has a process of the same priority (`handle_rejected` tests
`process in pool.processes` and Subprocess.__eq__ compares priorities), so other pools get it
twice; ours re-buffers it in the rejecting listener's pool only. The other scenarios give each
pool its own priority so that Python behaves as documented.
"""
import ast
import contextlib
import http.client
import pathlib
import re
import socket
import socketserver
import sys
import threading
import xmlrpc.client

import pytest

from supervisor.xmlrpc import SupervisorTransport

from harness import Daemon, normalize, wait_for, free_port

PY = sys.executable
KINDS = ("python", "ours")

# A childutils listener. argv: output directory, mode. Every event it receives is appended to
# `events-<process name>.log` as repr((headers, payload, receipt time)). Modes:
#   ok         answers OK to everything
#   failfirst  answers FAIL to the first event it ever receives (a flag file survives restarts)
#   diefirst   exits without answering on the first event it ever receives
#   hold       answers only once `release` exists in the output directory
#   readx      says READX instead of READY (a protocol violation), then idles
#   junk       says READY and junk in one write (output while READY), then idles
#   never      never says READY
#   rpc        first records getState() and its SUPERVISOR_* environment, then as ok
LISTENER = r'''
import os, sys, time
from supervisor import childutils

outdir, mode = sys.argv[1], sys.argv[2]
name = os.environ["SUPERVISOR_PROCESS_NAME"]
record = os.path.join(outdir, "events-%s.log" % name)
flag = os.path.join(outdir, "flag-%s" % name)

def first_time():
    if os.path.exists(flag):
        return False
    open(flag, "w").close()
    return True

if mode == "rpc":
    try:
        result = repr(childutils.getRPCInterface(os.environ).supervisor.getState())
    except Exception as e:
        result = "%s: %s" % (type(e).__name__, getattr(e, "errmsg", e))
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith("SUPERVISOR_"))
    with open(os.path.join(outdir, "rpc-%s.txt" % name), "w") as f:
        f.write(repr((result, env)))
if mode == "readx":
    sys.stdout.write("READX\n")
    sys.stdout.flush()
if mode == "junk":
    os.write(1, b"READY\njunk\n")
if mode in ("readx", "junk", "never"):
    time.sleep(1000)
    sys.exit(0)
while True:
    headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
    with open(record, "a", encoding="utf-8") as f:
        f.write(repr((headers, payload, time.time())) + "\n")
    if mode == "failfirst" and first_time():
        childutils.listener.fail(sys.stdout)
        continue
    if mode == "diefirst" and first_time():
        os._exit(1)
    if mode == "hold":
        while not os.path.exists(os.path.join(outdir, "release")):
            time.sleep(0.01)
    childutils.listener.ok(sys.stdout)
'''

# Writes output in chunks the daemon reads one at a time: each write waits until the daemon has
# emptied the pipe. argv: a trigger file to wait for, then what to do.
CHILD = r'''
import fcntl, os, struct, sys, termios, time

def unread(fd):
    buf = bytearray(4)
    fcntl.ioctl(fd, termios.FIONREAD, buf)
    return struct.unpack("i", buf)[0]

def emit(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    deadline = time.monotonic() + 30
    while unread(fd):
        if time.monotonic() > deadline:
            os._exit(70)
        time.sleep(0.0005)

def wait_file(path):
    while not os.path.exists(path):
        time.sleep(0.01)

what = sys.argv[1]
if what == "rpc":
    from supervisor import childutils
    try:
        result = repr(childutils.getRPCInterface(os.environ).supervisor.getState())
    except Exception as e:
        result = "%s: %s" % (type(e).__name__, getattr(e, "errmsg", e))
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith("SUPERVISOR_"))
    with open(sys.argv[2], "w") as f:
        f.write(repr((result, env)))
    time.sleep(1000)
if what == "hog":
    hog = b"\x01" * (80 << 20)  # touched, so resident
    time.sleep(1000)
if what == "web":
    # 200 until the trigger file appears; then one 500 (the trigger is used up).
    import http.server
    port, trigger = int(sys.argv[2]), sys.argv[3]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            status = 200
            if os.path.exists(trigger):
                os.unlink(trigger)
                status = 500
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    http.server.HTTPServer.allow_reuse_address = True
    http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
if what == "talker":
    wait_file(sys.argv[2])
    emit(1, b"hello stdout, a line long enough\n")
    emit(2, "h\u00e9llo stderr Malm\u00f6 \u2713\n".encode())
    emit(1, "before <!--XSUPERVISOR:BEGIN-->comm \u00d8resund \u65e5\u672c<!--XSUPERVISOR:END-->".encode())
    sys.exit(3)
'''


def write_script(directory, name, text):
    path = pathlib.Path(directory) / name
    path.write_text(text)
    return path


def fill(template, **subs):
    subs = {"py": PY, **subs}
    for key, value in subs.items():
        template = template.replace("{%s}" % key, str(value))
    return template


@contextlib.contextmanager
def running(binaries, base, body, kinds=KINDS, **kw):
    """One daemon per kind on `body` (or `body[kind]`), each in `base/kind`, started together,
    stopped after."""
    daemons = {}
    try:
        for kind in kinds:
            text = body[kind] if isinstance(body, dict) else body
            daemons[kind] = Daemon(kind, text, pathlib.Path(base) / kind,
                                   binary=binaries["supervisord"], **kw)
        for d in daemons.values():
            d.start()
        yield daemons
    finally:
        for d in daemons.values():
            d.stop()


def received(d, name):
    """What listener process `name` has recorded: (headers, payload, time) in receipt order."""
    path = d.tmp / f"events-{name}.log"
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").split("\n")[:-1]  # the last may be half-written
    return [ast.literal_eval(line) for line in lines]


def has_marker(d, name, token):
    return any(h["eventname"] == "REMOTE_COMMUNICATION" and p == f"type:marker\n{token}"
               for h, p, _ in received(d, name))


def send_marker(daemons, token, listeners, timeout=20):
    for d in daemons.values():
        d.rpc().supervisor.sendRemoteCommEvent("marker", token)
    for d in daemons.values():
        for name in listeners:
            wait_for(lambda: has_marker(d, name, token), timeout=timeout,
                     what=f"marker {token} at {name} ({d.kind})")


TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ([A-Z]{4}) ", re.M)


def records(text):
    """The main log as (level, message) records; a message may span lines (child output)."""
    starts = list(TIMESTAMP.finditer(text))
    out = []
    for m, nxt in zip(starts, starts[1:] + [None]):
        message = text[m.end():nxt.start() if nxt else len(text)]
        out.append((m.group(1), message[:-1] if message.endswith("\n") else message))
    return out


# --- 1. every event type ---------------------------------------------------------------------

POOLS = {
    # pool: events (all but `everything` and `tick` also take REMOTE_COMMUNICATION, for markers)
    "everything": "EVENT",
    "pstate": "PROCESS_STATE,REMOTE_COMMUNICATION",
    "exited": "PROCESS_STATE_EXITED,REMOTE_COMMUNICATION",
    "plog": "PROCESS_LOG,REMOTE_COMMUNICATION",
    "plogerr": "PROCESS_LOG_STDERR,REMOTE_COMMUNICATION",
    "pcomm": "PROCESS_COMMUNICATION,REMOTE_COMMUNICATION",
    "remote": "REMOTE_COMMUNICATION",
    "sstate": "SUPERVISOR_STATE_CHANGE,REMOTE_COMMUNICATION",
    "pgroup": "PROCESS_GROUP,REMOTE_COMMUNICATION",
    "tick": "TICK_5",
}

ALL_TYPES_PROGRAMS = """
[program:talker]
command={py} {child} talker {tmp}/go-talker
autostart=false
autorestart=false
startsecs=0
stdout_events_enabled=true
stderr_events_enabled=true
stdout_capture_maxbytes=1MB

[program:crasher]
command=/bin/sh -c "sleep 0.2; exit 1"
autostart=false
startsecs=1
startretries=1

[program:sleeper]
command=/bin/sleep 1000
autostart=false
startsecs=0
"""

LISTENER_SECTION = """
[eventlistener:{name}]
command={py} {listener} {tmp} {mode}
events={events}
buffer_size={buffer_size}
priority={priority}
startsecs=0
"""


def listener_sections(pools, mode="ok", buffer_size=100, **kw):
    """Pools with priorities 1, 2, ... in order: Python's `handle_rejected` asks `process in
    pool.processes`, and Subprocess.__eq__ compares priorities, so with equal priorities an
    event rejected in one pool (a listener killed while busy at shutdown, say) is re-buffered in
    every pool (test_rejected_event_goes_back_to_its_own_pool_only)."""
    return "".join(fill(LISTENER_SECTION, name=name, events=events, mode=mode, priority=n,
                        buffer_size=buffer_size, **kw)
                   for n, (name, events) in enumerate(pools.items(), 1))


def is_tick(headers):
    return headers["eventname"].startswith("TICK")


def masked_payload(payload):
    return re.sub(r"\b(pid|when):\d+", r"\1:N", payload)


def event_sequences(kind, got):
    """Per pool, the received events as (eventname, header keys, masked payload, serial rank,
    relative pool serial), TICKs left out: the serial rank is the event's place among the
    non-TICK serials any pool saw; the pool serial counts from the pool's first event, TICKs not
    counted. Checks on the way what must hold within one daemon whatever the timing: `len` is the
    payload's character count, pool serials are consecutive, a serial means the same event in
    every pool."""
    by_serial = {}
    for pool, events in got.items():
        for h, p, _ in events:
            assert int(h["len"]) == len(p), (kind, pool, h, p)
            assert by_serial.setdefault(int(h["serial"]), (h["eventname"], p)) == (h["eventname"], p), \
                (kind, pool, h)
        serials = [int(h["poolserial"]) for h, _, _ in events]
        assert serials == list(range(serials[0], serials[0] + len(serials))) if serials else True, \
            (kind, pool, serials)
    ranks = {s: i for i, s in enumerate(sorted(s for s, (name, _) in by_serial.items()
                                               if not name.startswith("TICK")))}
    out = {}
    for pool, events in got.items():
        first = int(events[0][0]["poolserial"]) if events else 0
        seq, ticks = [], 0
        for h, p, _ in events:
            if is_tick(h):
                ticks += 1
                continue
            seq.append((h["eventname"], tuple(h), masked_payload(p), ranks[int(h["serial"])],
                        int(h["poolserial"]) - first - ticks))
        out[pool] = seq
    return out


def check_ticks(kind, pool, events):
    """TICK_N events: `when` is the start of an N-second slice, consecutive ticks of a kind are
    consecutive slices, and each arrives during its slice (allowing for the loop's 1 s
    granularity). Returns {eventname: [when, ...]}."""
    whens = {}
    for h, p, t in events:
        if not is_tick(h):
            continue
        period = int(h["eventname"][5:])
        assert period in (5, 60, 3600) and re.fullmatch(r"when:\d+", p), (kind, pool, h, p)
        when = int(p[5:])
        assert when % period == 0 and when <= t < when + period + 2, (kind, pool, h, when, t)
        whens.setdefault(h["eventname"], []).append(when)
    for name, seen in whens.items():
        period = int(name[5:])
        assert seen == list(range(seen[0], seen[0] + period * len(seen), period)), (kind, pool, seen)
    return whens


@pytest.fixture(scope="module")
def all_types(binaries, tmp_path_factory):
    """One run of the every-event-type scenario on both daemons; yields the daemons (stopped)
    and what each pool received before shutdown (`before`) and after it (`after`)."""
    base = tmp_path_factory.mktemp("all_types")
    listener = write_script(base, "listener.py", LISTENER)
    child = write_script(base, "child.py", CHILD)
    body = fill(ALL_TYPES_PROGRAMS, child=child) + listener_sections(POOLS, listener=listener)
    markers = [p for p in POOLS if p != "tick"]
    with running(binaries, base, body) as ds:
        def both(f):
            for d in ds.values():
                f(d)
        for d in ds.values():
            for pool in POOLS:
                d.wait_state(pool, "RUNNING")
        send_marker(ds, "start", markers)

        # Output on both channels, with a capture-mode comm payload, then an unexpected exit.
        both(lambda d: d.rpc().supervisor.startProcess("talker"))
        both(lambda d: (d.tmp / "go-talker").touch())
        for d in ds.values():
            d.wait_state("talker", "EXITED")
        # STARTING, BACKOFF, STARTING, BACKOFF, FATAL.
        both(lambda d: d.rpc().supervisor.startProcess("crasher", False))
        for d in ds.values():
            d.wait_state("crasher", "FATAL")
        # Started and stopped through supervisorctl.
        for d in ds.values():
            assert d.ctl("start", "sleeper")[0] == 0
        for d in ds.values():
            assert d.ctl("stop", "sleeper")[0] == 0
        both(lambda d: d.rpc().supervisor.sendRemoteCommEvent("greeting", "Malm\u00f6 \u2713 \u65e5\u672c\nline 2"))
        both(lambda d: d.rpc().supervisor.removeProcessGroup("sleeper"))
        both(lambda d: d.rpc().supervisor.addProcessGroup("sleeper"))
        send_marker(ds, "end", markers)
        for d in ds.values():
            wait_for(lambda: any(is_tick(h) for h, _, _ in received(d, "tick")), timeout=8,
                     what=f"a TICK_5 ({d.kind})")
        cut = {kind: {pool: len(received(d, pool)) for pool in POOLS} for kind, d in ds.items()}
    results = {}
    for kind, d in ds.items():
        everything = {pool: received(d, pool) for pool in POOLS}
        results[kind] = {"before": {p: e[:cut[kind][p]] for p, e in everything.items()},
                         "after": {p: e[cut[kind][p]:] for p, e in everything.items()}}
    yield ds, results


EVENT_NAMES = {
    "PROCESS_GROUP_ADDED", "PROCESS_GROUP_REMOVED", "SUPERVISOR_STATE_CHANGE_RUNNING",
    "PROCESS_STATE_STARTING", "PROCESS_STATE_RUNNING", "PROCESS_STATE_BACKOFF",
    "PROCESS_STATE_FATAL", "PROCESS_STATE_EXITED", "PROCESS_STATE_STOPPING",
    "PROCESS_STATE_STOPPED", "PROCESS_LOG_STDOUT", "PROCESS_LOG_STDERR",
    "PROCESS_COMMUNICATION_STDOUT", "REMOTE_COMMUNICATION",
}


def test_every_event_type_reaches_the_pools_subscribed_to_it_like_python(all_types):
    """Per pool, the same events in the same order with the same header keys and payloads (pids
    and times masked), the same relative global serials and consecutive pool serials: abstract
    types (EVENT, PROCESS_STATE, PROCESS_LOG, ...) take their subtypes, a pool gets GROUP_ADDED
    for its own group and those added after it, events sent before a listener is RUNNING wait
    in its buffer, and capture mode yields both PROCESS_LOG and PROCESS_COMMUNICATION events."""
    ds, results = all_types
    seqs = {kind: event_sequences(kind, r["before"]) for kind, r in results.items()}
    names = {h["eventname"] for pool in POOLS for h, _, _ in results["python"]["before"][pool]
             if not is_tick(h)}
    assert names == EVENT_NAMES
    for pool in POOLS:
        assert seqs["ours"][pool] == seqs["python"][pool], pool


def test_len_counts_characters_not_bytes(all_types):
    """GOT-2: `len:` is the payload's length in characters; non-ASCII payloads (child output,
    a comm payload, sendRemoteCommEvent data) are read whole by a text-mode childutils listener
    and the next event's header is not eaten."""
    ds, results = all_types
    for kind, r in results.items():
        wide = [(h, p) for h, p, _ in r["before"]["everything"] if len(p.encode()) != len(p)]
        assert {h["eventname"] for h, _ in wide} == {
            "PROCESS_LOG_STDOUT", "PROCESS_LOG_STDERR", "PROCESS_COMMUNICATION_STDOUT",
            "REMOTE_COMMUNICATION"}, kind
        for h, p in wide:
            assert int(h["len"]) == len(p) < len(p.encode()), (kind, h, p)


def test_shutdown_events_follow_pythons_order(all_types):
    """At shutdown a listener is killed right after it has been sent what it could take, so how
    far each pool gets is a race (in Python too); what each got must be a prefix of the same
    sequence: SUPERVISOR_STATE_CHANGE_STOPPING, then the listeners stopping one group at a time
    in Python's order."""
    ds, results = all_types
    after = {kind: {pool: [(h["eventname"], masked_payload(p)) for h, p, _ in r["after"][pool]
                           if not is_tick(h)] for pool in POOLS}
             for kind, r in results.items()}
    for pool in POOLS:
        py, rs = after["python"][pool], after["ours"][pool]
        n = min(len(py), len(rs))
        assert rs[:n] == py[:n], pool
    assert after["python"]["sstate"] in ([], [("SUPERVISOR_STATE_CHANGE_STOPPING", "")])
    assert after["ours"]["sstate"] in ([], [("SUPERVISOR_STATE_CHANGE_STOPPING", "")])


def test_tick_events_mark_their_slice(all_types):
    """TICK_5 reaches the TICK_5 pool (nothing else does) and every TICK_* the EVENT pool: `when`
    is the start of the slice, ticks are consecutive slices, each arrives during its slice; both
    daemons delivered at least one TICK_5 to both pools."""
    ds, results = all_types
    for kind, r in results.items():
        for pool in ("tick", "everything"):
            whens = check_ticks(kind, pool, r["before"][pool] + r["after"][pool])
            assert whens.get("TICK_5"), (kind, pool)
        assert all(h["eventname"] == "TICK_5" for h, _, _ in r["before"]["tick"] + r["after"]["tick"])


# --- 2. pool behaviour -----------------------------------------------------------------------

# Each pool has its own priority: see listener_sections.
POOL_LISTENERS = """
[eventlistener:overflow]
command={py} {listener} {tmp} never
events=REMOTE_COMMUNICATION
buffer_size=2
startsecs=0
priority=1

[eventlistener:quiet]
command={py} {listener} {tmp} never
events=REMOTE_COMMUNICATION
startsecs=0
priority=2

[eventlistener:slow]
command={py} {listener} {tmp} hold
events=REMOTE_COMMUNICATION
buffer_size=2
startsecs=0
priority=3

[eventlistener:rejecter]
command={py} {listener} {tmp} failfirst
events=REMOTE_COMMUNICATION
startsecs=0
priority=4

[eventlistener:dier]
command={py} {listener} {tmp} diefirst
events=REMOTE_COMMUNICATION
startsecs=0
priority=5

[eventlistener:duo]
command={py} {listener} {tmp} hold
process_name=%(program_name)s_%(process_num)s
numprocs=2
events=REMOTE_COMMUNICATION
startsecs=0
priority=6

[eventlistener:readx]
command={py} {listener} {tmp} readx
events=REMOTE_COMMUNICATION
startsecs=0
priority=7

[eventlistener:junk]
command={py} {listener} {tmp} junk
events=REMOTE_COMMUNICATION
startsecs=0
priority=8
"""

READY_LISTENERS = ("slow", "rejecter", "dier", "duo_0", "duo_1")
UNKNOWN_WARNING = ("{}: has entered the UNKNOWN state and will no longer receive events, this "
                   "usually indicates the process violated the eventlistener protocol")


def logged(d, text):
    return text in d.mainlog()


def serials(d, name):
    return [int(h["serial"]) for h, _, _ in received(d, name)]


def listener_log(d, name):
    """The main-log records about listener `name` up to shutdown (`fd N closed` records name
    Python objects by address and are left out)."""
    text = d.mainlog()
    text = text[:text.find("received SIGTERM")] if "received SIGTERM" in text else text
    word = re.compile(r"(?<![\w-])%s(?![\w-])" % re.escape(name))
    return [f"{level} {normalize(msg, d)}" for level, msg in records(text)
            if word.search(msg) and " output:\n" not in msg and not msg.startswith("fd ")]


@pytest.fixture(scope="module")
def pools(binaries, tmp_path_factory):
    """Five REMOTE_COMMUNICATION events (serials 0-4: nothing else is subscribed to) through
    pools whose listeners misbehave in different ways, one step at a time; yields the daemons,
    stopped."""
    base = tmp_path_factory.mktemp("pools")
    listener = write_script(base, "listener.py", LISTENER)
    body = fill(POOL_LISTENERS, listener=listener)
    with running(binaries, base, body, loglevel="debug") as ds:
        def send(n):
            for d in ds.values():
                d.rpc().supervisor.sendRemoteCommEvent("test", f"e{n}")

        def wait_counts(**counts):
            for d in ds.values():
                for name, n in counts.items():
                    wait_for(lambda: len(received(d, name)) >= n, what=f"{n} events at {name} ({d.kind})")

        for d in ds.values():
            for name in READY_LISTENERS:
                wait_for(lambda: logged(d, f"{name}: ACKNOWLEDGED -> READY"), what=f"{name} READY ({d.kind})")
            for name in ("readx", "junk"):
                wait_for(lambda: logged(d, UNKNOWN_WARNING.format(name)), what=f"{name} UNKNOWN ({d.kind})")
            for name in ("overflow", "quiet", "slow", "rejecter", "dier", "duo:duo_0", "duo:duo_1"):
                d.wait_state(name, "RUNNING")
        send(0)
        # slow and duo_0 hold e0; rejecter got it, failed it and got it again; dier got it, died,
        # was restarted and got it again.
        wait_counts(slow=1, duo_0=1, rejecter=2, dier=2)
        for d in ds.values():
            wait_for(lambda: d.mainlog().count("dier: ACKNOWLEDGED -> READY") >= 2
                     and "dier: BUSY -> ACKNOWLEDGED" in d.mainlog(), what=f"dier done with e0 ({d.kind})")
        send(1)
        wait_counts(duo_1=1, rejecter=3, dier=3)
        for n in (2, 3, 4):
            send(n)
        wait_counts(rejecter=6, dier=6)
        for d in ds.values():
            wait_for(lambda: logged(d, "pool slow event buffer overflowed, discarding event 2"),
                     what=f"slow's buffer overflowed ({d.kind})")
            (d.tmp / "release").touch()
        wait_counts(slow=3)
        for d in ds.values():
            wait_for(lambda: len(received(d, "duo_0")) + len(received(d, "duo_1")) >= 5,
                     what=f"duo got everything ({d.kind})")
    yield ds


def test_pool_listener_log_lines_match_python(pools):
    """Per listener, the main-log records (loglevel=debug) word for word: spawns, protocol state
    changes, `event N sent to listener`, rejections, re-buffering, overflows, UNKNOWN warnings
    (`success:` records compared apart: a restarted listener's READY may come first). duo is left
    out: which of its two processes takes an event after both were busy is a race."""
    def split(lines):
        # A restarted listener's READY may come before or after its `success:` record.
        return ([line for line in lines if " success: " not in line],
                sorted(line for line in lines if " success: " in line))
    for name in ("overflow", "quiet", "slow", "rejecter", "dier", "readx", "junk"):
        assert split(listener_log(pools["ours"], name)) == split(listener_log(pools["python"], name)), name


def test_overflow_discards_the_oldest_events(pools):
    """buffer_size=2: a listener that never says READY gets nothing and its pool drops 0, 1, 2;
    a listener busy with event 0 gets 3 and 4 once it answers, its pool having dropped 1 and 2."""
    for kind, d in pools.items():
        errors = [m for level, m in records(d.mainlog()) if level == "ERRO"]
        assert errors == [f"pool {pool} event buffer overflowed, discarding event {n}" for pool, n in (
            ("overflow", 0), ("overflow", 1), ("slow", 1), ("overflow", 2), ("slow", 2))], kind
        assert (serials(d, "overflow"), serials(d, "slow")) == ([], [0, 3, 4]), kind


def test_rejected_event_is_redelivered(pools):
    """`RESULT 4\nFAIL`: WARN `rejecter: event was rejected`, the same event (same serial and
    pool serial) comes again, then the rest in order."""
    for kind, d in pools.items():
        assert serials(d, "rejecter") == [0, 0, 1, 2, 3, 4], kind
        assert [int(h["poolserial"]) for h, _, _ in received(d, "rejecter")] == [0, 0, 1, 2, 3, 4]
        assert ("WARN", "rejecter: event was rejected") in records(d.mainlog()), kind


def test_listener_dying_while_busy_gets_the_event_again_when_restarted(pools):
    for kind, d in pools.items():
        assert serials(d, "dier") == [0, 0, 1, 2, 3, 4], kind
        log = listener_log(d, "dier")
        assert log.count("INFO spawned: 'dier' with pid N") == 2, (kind, log)
        assert "WARN exited: dier (exit status 1; not expected)" in log, (kind, log)


def test_protocol_violations_make_a_listener_unknown_and_others_go_on(pools):
    """`READX` instead of READY, and output while READY: UNKNOWN with its warning, no events,
    and the daemon and the other pools carry on."""
    for kind, d in pools.items():
        assert listener_log(d, "readx")[-2:] == [
            "DEBG readx: ACKNOWLEDGED -> UNKNOWN", "WARN " + UNKNOWN_WARNING.format("readx")], kind
        assert listener_log(d, "junk")[-3:] == [
            "DEBG junk: ACKNOWLEDGED -> READY", "DEBG junk: READY -> UNKNOWN",
            "WARN " + UNKNOWN_WARNING.format("junk")], kind
        assert serials(d, "readx") == serials(d, "junk") == serials(d, "quiet") == [], kind
        assert "exited: readx" not in d.mainlog() and "exited: junk" not in d.mainlog(), kind


def test_numprocs_pool_spreads_events_over_its_processes(pools):
    """Event 0 to duo_0 (the first READY one), event 1 to duo_1 while duo_0 is busy, the rest
    to whichever is free; pool serials count per pool."""
    for kind, d in pools.items():
        got = {name: [(int(h["serial"]), int(h["poolserial"])) for h, _, _ in received(d, name)]
               for name in ("duo_0", "duo_1")}
        assert got["duo_0"][0] == (0, 0) and got["duo_1"][0] == (1, 1), (kind, got)
        assert sorted(got["duo_0"] + got["duo_1"]) == [(n, n) for n in range(5)], (kind, got)


SAME_PRIORITY = """
[eventlistener:failer]
command={py} {listener} {tmp} failfirst
events=REMOTE_COMMUNICATION
startsecs=0

[eventlistener:bystander]
command={py} {listener} {tmp} ok
events=REMOTE_COMMUNICATION
startsecs=0
"""


def test_rejected_event_goes_back_to_every_pool_of_the_same_priority(binaries, tmp_path):
    """Python's `EventListenerPool.handle_rejected` checks `process in self.processes.values()`,
    and `Subprocess.__eq__` compares priorities, so an event rejected by `failer` is
    re-buffered in every pool with a process of the same priority: `bystander` (which had
    processed it) gets it a second time, with the same serial. Listeners see it, so ours does
    the same."""
    listener = write_script(tmp_path, "listener.py", LISTENER)
    with running(binaries, tmp_path, fill(SAME_PRIORITY, listener=listener), loglevel="debug") as ds:
        for d in ds.values():
            for name in ("failer", "bystander"):
                wait_for(lambda: logged(d, f"{name}: ACKNOWLEDGED -> READY"), what=f"{name} READY ({d.kind})")
            d.rpc().supervisor.sendRemoteCommEvent("test", "e0")
        for d in ds.values():
            wait_for(lambda: serials(d, "failer") == [0, 0], what=f"failer got e0 again ({d.kind})")
        ds["python"].rpc().supervisor.sendRemoteCommEvent("test", "e1")
        ds["ours"].rpc().supervisor.sendRemoteCommEvent("test", "e1")
        for d in ds.values():
            wait_for(lambda: 1 in serials(d, "bystander") and 1 in serials(d, "failer"),
                     what=f"e1 everywhere ({d.kind})")
        for d in ds.values():
            assert "rebuffering event 0 for pool bystander" in d.mainlog(), d.kind
            assert serials(d, "bystander") == [0, 0, 1], d.kind
            assert serials(d, "failer") == [0, 0, 1], d.kind


# --- 3. the environment listeners and programs get -------------------------------------------

RPC_UNIX = """
[program:prog]
command={py} {child} rpc {tmp}/rpc-prog.txt
startsecs=0

[eventlistener:lis]
command={py} {listener} {tmp} rpc
events=REMOTE_COMMUNICATION
startsecs=0
"""

INET_HEADER = """\
[inet_http_server]
port=127.0.0.1:{port}
username=u
password=p

[supervisord]
logfile={tmp}/supervisord.log
pidfile={tmp}/supervisord.pid
childlogdir={tmp}
loglevel={loglevel}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=http://127.0.0.1:{port}
username=u
password=p

"""

RPC_INET = """
[program:prog]
command={py} {child} rpc {tmp}/rpc-prog.txt
startsecs=0
environment=SUPERVISOR_USERNAME="u",SUPERVISOR_PASSWORD="p"

[program:anonprog]
command={py} {child} rpc {tmp}/rpc-anonprog.txt
startsecs=0

[eventlistener:lis]
command={py} {listener} {tmp} rpc
events=REMOTE_COMMUNICATION
startsecs=0
environment=SUPERVISOR_USERNAME="u",SUPERVISOR_PASSWORD="p"

[eventlistener:anonlis]
command={py} {listener} {tmp} rpc
events=REMOTE_COMMUNICATION
startsecs=0
"""



class InetDaemon(Daemon):
    """A daemon with only an `[inet_http_server]` (auth u/p) on `port`, which supervisorctl and
    the test's XML-RPC use too."""

    def __init__(self, kind, body, tmp, binary=None, loglevel="info", port=None):
        super().__init__(kind, body, tmp, binary=binary, loglevel=loglevel)
        self.port = port
        header = INET_HEADER.replace("{port}", str(port)).replace("{tmp}", str(self.tmp))
        self.conf.write_text(header.replace("{loglevel}", loglevel) + body.replace("{tmp}", str(self.tmp)))

    def rpc(self):
        transport = SupervisorTransport("u", "p", f"http://127.0.0.1:{self.port}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


def rpc_reports(d, names):
    def report(name):
        path = d.tmp / f"rpc-{name}.txt"
        return path.exists() and path.read_text()
    out = {}
    for name in names:
        text = wait_for(lambda: report(name), what=f"rpc report of {name} ({d.kind})")
        text = normalize(text, d)
        if isinstance(d, InetDaemon):
            text = text.replace(f":{d.port}", ":PORT")
        out[name] = ast.literal_eval(text)
    return out


def test_listeners_and_programs_reach_the_daemon_through_childutils_over_unix_socket(binaries, tmp_path):
    """SUPERVISOR_SERVER_URL names the unix socket; childutils.getRPCInterface(os.environ) works
    from a program and from an event listener; the SUPERVISOR_* environment is the same."""
    listener = write_script(tmp_path, "listener.py", LISTENER)
    child = write_script(tmp_path, "child.py", CHILD)
    with running(binaries, tmp_path, fill(RPC_UNIX, listener=listener, child=child)) as ds:
        got = {kind: rpc_reports(d, ("prog", "lis")) for kind, d in ds.items()}
    running_state = repr({"statecode": 1, "statename": "RUNNING"})
    assert got["python"] == {
        "prog": (running_state, [("SUPERVISOR_ENABLED", "1"), ("SUPERVISOR_GROUP_NAME", "prog"),
                                 ("SUPERVISOR_PROCESS_NAME", "prog"),
                                 ("SUPERVISOR_SERVER_URL", "unix://<tmp>/supervisor.sock")]),
        "lis": (running_state, [("SUPERVISOR_ENABLED", "1"), ("SUPERVISOR_GROUP_NAME", "lis"),
                                ("SUPERVISOR_PROCESS_NAME", "lis"),
                                ("SUPERVISOR_SERVER_URL", "unix://<tmp>/supervisor.sock")])}
    assert got["ours"] == got["python"]


def test_listeners_and_programs_reach_the_daemon_through_childutils_over_tcp_with_auth(binaries, tmp_path):
    """With only an `[inet_http_server]` with username/password, SUPERVISOR_SERVER_URL is
    `http://127.0.0.1:PORT` and the daemon never sets SUPERVISOR_USERNAME/PASSWORD: children
    given them in `environment=` get the state, the others a 401."""
    listener = write_script(tmp_path, "listener.py", LISTENER)
    child = write_script(tmp_path, "child.py", CHILD)
    body = fill(RPC_INET, listener=listener, child=child)
    ports = {kind: free_port() for kind in KINDS}
    daemons = {}
    try:
        for kind in KINDS:
            daemons[kind] = InetDaemon(kind, body, tmp_path / kind, binary=binaries["supervisord"],
                                       port=ports[kind]).start()
        got = {kind: rpc_reports(d, ("prog", "anonprog", "lis", "anonlis")) for kind, d in daemons.items()}
        status = {kind: d.ctl("status", "prog") for kind, d in daemons.items()}
    finally:
        for d in daemons.values():
            d.stop()
    running_state = repr({"statecode": 1, "statename": "RUNNING"})
    credentials = [("SUPERVISOR_PASSWORD", "p")], [("SUPERVISOR_USERNAME", "u")]

    def env(name, auth):
        return sorted([("SUPERVISOR_ENABLED", "1"), ("SUPERVISOR_GROUP_NAME", name),
                       ("SUPERVISOR_PROCESS_NAME", name),
                       ("SUPERVISOR_SERVER_URL", "http://127.0.0.1:PORT")]
                      + (credentials[0] + credentials[1] if auth else []))
    assert got["python"] == {
        "prog": (running_state, env("prog", True)),
        "anonprog": ("ProtocolError: Unauthorized", env("anonprog", False)),
        "lis": (running_state, env("lis", True)),
        "anonlis": ("ProtocolError: Unauthorized", env("anonlis", False))}
    assert got["ours"] == got["python"]
    assert status["python"][0] == 0 and "RUNNING" in status["python"][1]
    assert normalize(status["ours"][1]) == normalize(status["python"][1])


# --- 4. superlance ---------------------------------------------------------------------------

SENDMAIL = r"""
import sys
with open(sys.argv[1], "a") as f:
    f.write(sys.stdin.read() + "\n----\n")
"""

SUPERLANCE = """
[program:crashy]
command=/bin/sh -c "sleep 0.5; exit 2"
startsecs=0
autorestart=false

[program:hog]
command={py} {child} hog
startsecs=0

[program:web]
command={py} {child} web {webport} {tmp}/web-trigger
startsecs=0

[program:doomed]
command=/bin/sh -c "sleep 0.1; exit 1"
startretries=0

[eventlistener:crashmail]
command={py} -m superlance.crashmail -a -m root@localhost -s "{py} {sendmail} {tmp}/crashmail.txt"
events=PROCESS_STATE_EXITED
priority=1

[eventlistener:memmon]
command={py} -m superlance.memmon -p hog=40MB
events=TICK_5
priority=2

[eventlistener:httpok]
command={py} -m superlance.httpok -p web -t 2 http://127.0.0.1:{webport}/
events=TICK_5
priority=3

[eventlistener:fatalmailbatch]
command={py} -m superlance.fatalmailbatch -t root@localhost -f sup@localhost -H 127.0.0.1:{smtpport} -e TICK_5 -i 0.05
events=PROCESS_STATE_FATAL,TICK_5
priority=4
"""


class FakeSMTP(socketserver.ThreadingTCPServer):
    """Just enough SMTP for smtplib: every message's DATA goes to `mails`."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.mails = []

        class Handler(socketserver.StreamRequestHandler):
            def handle(handler):
                handler.wfile.write(b"220 localhost fake smtp\r\n")
                data = None
                for line in handler.rfile:
                    if data is not None:
                        if line == b".\r\n":
                            self.mails.append(b"".join(data).decode())
                            data = None
                            handler.wfile.write(b"250 queued\r\n")
                        else:
                            data.append(line)
                        continue
                    verb = line[:4].upper()
                    if verb == b"DATA":
                        data = []
                        handler.wfile.write(b"354 go on\r\n")
                    elif verb == b"QUIT":
                        handler.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        handler.wfile.write(b"250 ok\r\n")

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def http_status(port):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/")
        return conn.getresponse().status
    except OSError:
        return None


@pytest.fixture(scope="module")
def superlance(binaries, tmp_path_factory):
    """superlance's crashmail, memmon, httpok and fatalmailbatch (from PyPI) on both daemons at
    once; yields {kind: (daemon, fake SMTP server, web port)}, running."""
    base = tmp_path_factory.mktemp("superlance")
    child = write_script(base, "child.py", CHILD)
    sendmail = write_script(base, "sendmail.py", SENDMAIL)
    servers = {kind: FakeSMTP() for kind in KINDS}
    ports = {kind: free_port() for kind in KINDS}
    body = {kind: fill(SUPERLANCE, child=child, sendmail=sendmail, webport=ports[kind],
                       smtpport=servers[kind].server_address[1]) for kind in KINDS}
    try:
        with running(binaries, base, body) as ds:
            yield {kind: (d, servers[kind], ports[kind]) for kind, d in ds.items()}
    finally:
        for server in servers.values():
            server.shutdown()
            server.server_close()


def test_crashmail_mails_an_unexpected_exit(superlance):
    mails = {}
    for kind, (d, _, _) in superlance.items():
        path = d.tmp / "crashmail.txt"
        wait_for(lambda: path.exists() and "----" in path.read_text(), what=f"crashmail's mail ({kind})")
        mails[kind] = re.sub(r"crashed at .*", "crashed at <time>", normalize(path.read_text()))
    assert mails["python"] == (
        "To: root@localhost\nSubject:  crashy crashed at <time>\n\n"
        "Process crashy in group crashy exited unexpectedly (pid N) from state RUNNING\n----\n")
    assert mails["ours"] == mails["python"]


def spawned_pids(d, name):
    return [int(pid) for pid in re.findall(r"spawned: '%s' with pid (\d+)" % name, d.mainlog())]


def stderr_of(d, name):
    return d.rpc().supervisor.readProcessStderrLog(name, 0, 0)


def test_memmon_restarts_a_program_over_its_memory_limit(superlance):
    """memmon checks RSS on TICK_5 and restarts `hog` (80 MB resident, limit 40 MB) through
    stopProcess/startProcess: a new pid, and the main log shows it stopped and spawned again."""
    for kind, (d, _, _) in superlance.items():
        wait_for(lambda: len(spawned_pids(d, "hog")) >= 2 and d.state_of("hog") == "RUNNING",
                 timeout=20, what=f"memmon to restart hog ({kind})")
        pids = spawned_pids(d, "hog")
        assert len(set(pids)) == len(pids), (kind, pids)
        assert "stopped: hog (terminated by SIGTERM)" in d.mainlog(), kind
        assert "Restarting hog:hog" in stderr_of(d, "memmon"), kind


def test_httpok_restarts_a_program_whose_url_fails(superlance):
    """httpok GETs the URL on TICK_5; once the trigger file appears `web` answers 500 (once),
    and httpok restarts it through XML-RPC."""
    before = {}
    for kind, (d, _, port) in superlance.items():
        wait_for(lambda: http_status(port) == 200, what=f"web to answer ({kind})")
        before[kind] = d.rpc().supervisor.getProcessInfo("web")["pid"]
        (d.tmp / "web-trigger").touch()
    for kind, (d, _, port) in superlance.items():
        wait_for(lambda: not (d.tmp / "web-trigger").exists(), timeout=20, what=f"httpok's GET ({kind})")
        wait_for(lambda: d.rpc().supervisor.getProcessInfo("web")["pid"] not in (0, before[kind])
                 and d.state_of("web") == "RUNNING", what=f"httpok to restart web ({kind})")
        assert "stopped: web (terminated by SIGTERM)" in d.mainlog(), kind
        assert "web is in RUNNING state, restarting\nweb restarted" in stderr_of(d, "httpok"), kind


def test_fatalmailbatch_mails_a_fatal_program(superlance):
    """`doomed` goes FATAL at startup; fatalmailbatch batches it and mails it over SMTP at the
    next TICK_5 (interval 0.05 min)."""
    bodies = {}
    for kind, (d, server, _) in superlance.items():
        wait_for(lambda: server.mails, timeout=20, what=f"fatalmailbatch's mail ({kind})")
        mail = server.mails[0]
        assert "Subject: Fatal start alert from supervisord" in mail and "To: root@localhost" in mail, mail
        bodies[kind] = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}", "<time>", mail.split("\r\n\r\n", 1)[1])
    assert bodies["python"] == "<time> -- Process doomed:doomed failed to start too many times\r\n"
    assert bodies["ours"] == bodies["python"]
