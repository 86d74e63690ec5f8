"""Child output and log files (issue 5), differentially: the same fixture programs run under
Python supervisord 4.3.0 and under ours, and the log files, read APIs and main-log records they
produce must match exactly (after masking pids, times and temp paths), unless a test says it is
ours-only.

Determinism: a child writes each chunk with one write(2) and then waits until the daemon has
read the pipe empty (FIONREAD on its own end of the pipe reaches 0) before writing the next one.
So chunk boundaries are read boundaries on both daemons, whatever their scheduling, and nothing
here sleeps and hopes. Chunks that must be single reads are at most PIPE_BUF (4096) bytes.

Deliberate differences pinned here (ours-only expectations):
- GOT-24: a read whose range holds non-UTF-8 bytes (or splits a multibyte character) is an
  HTTP 500 in Python; ours answers `bytes.decode('utf-8', 'replace')`.
- GOT-21: text shorter than 24 bytes written after a capture END token just before exit is
  never written by Python; ours writes it at EOF.
- `/dev/stdout` with a nonzero maxbytes: Python's rollover check fails on a pipe (`Illegal
  seek`), ours does not attempt rotation on a file it cannot rotate.
- Section 9: ours keeps writing through moved/deleted files, full disks, removed directories and
  read-only remounts, with fixed main-log wording; Python has no equivalent.
"""
import contextlib
import hashlib
import inspect
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import xmlrpc.client

import pytest

from supervisor.dispatchers import stripEscapes
from supervisor.options import readFile

from harness import Daemon, follow, normalize, normalize_value, wait_for

PY = sys.executable
KINDS = ("python", "ours")

# --- shared helpers ------------------------------------------------------------------------

# Prepended to every fixture program: `emit` writes one chunk and waits until the daemon has
# read it (the handshake described in the module docstring).
CHILD_LIB = r'''
import fcntl, hashlib, os, struct, sys, termios, time

def unread(fd):
    buf = bytearray(4)
    fcntl.ioctl(fd, termios.FIONREAD, buf)
    return struct.unpack("i", buf)[0]

def drained(fd, timeout=30.0):
    deadline = time.monotonic() + timeout
    while unread(fd):
        if time.monotonic() > deadline:
            os._exit(70)  # the daemon stopped reading: the test sees exit status 70
        time.sleep(0.0005)

def emit(fd, data, wait=True):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    if wait:
        drained(fd)
'''


def write_child(directory, name, main, *funcs, **constants):
    """Writes a fixture program: CHILD_LIB, the `constants` and the source of `funcs` (shared
    with the test, so the test knows exactly what the child writes), then `main`."""
    path = pathlib.Path(directory) / f"{name}.py"
    parts = ([CHILD_LIB] + [f"{k} = {v!r}" for k, v in constants.items()]
             + [inspect.getsource(f) for f in funcs] + [inspect.cleandoc(main)])
    path.write_text("\n\n".join(parts) + "\n")
    return path


def program(template, child, **subs):
    """A config body: `{py}` and `{child}` filled in, and any other `{key}`."""
    subs = {"py": PY, "child": str(child), **subs}
    for key, value in subs.items():
        template = template.replace("{%s}" % key, str(value))
    return template


class Sup(Daemon):
    """A harness Daemon with extra CLI arguments, extra `[supervisord]` keys, and the daemon's
    stdout as the harness file (`file`), a file opened for appending (`append`, like `>>`), or a
    pipe the test reads (`pipe`)."""

    def __init__(self, kind, body, tmp, binary=None, loglevel="info", prefix=(), args=(),
                 supervisord="", stdout="file", main_logfile=None):
        super().__init__(kind, body, tmp, binary=binary, loglevel=loglevel, prefix=prefix)
        self.args = list(args)
        self.stdout_mode = stdout
        text = self.conf.read_text()
        if supervisord:
            text = text.replace("[supervisord]\n", "[supervisord]\n" + supervisord.strip() + "\n", 1)
        if main_logfile is not None:
            text = text.replace(f"logfile={self.tmp}/supervisord.log", f"logfile={main_logfile}", 1)
        self.conf.write_text(text)

    def command(self):
        return super().command() + self.args

    def start(self):
        if self.stdout_mode == "file":
            return super().start()
        if self.stdout_mode == "append":
            self.log = open(self.tmp / "stdout.txt", "ab")
            self.proc = subprocess.Popen(self.command(), stdout=self.log, stderr=subprocess.STDOUT,
                                         cwd=self.tmp)
        else:
            self.log = None
            self.captured = bytearray()
            self.proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, cwd=self.tmp)

            def pump(fd=self.proc.stdout.fileno()):
                while data := os.read(fd, 65536):
                    self.captured += data
            threading.Thread(target=pump, daemon=True).start()
        return self.wait_up()

    def output(self):
        if self.stdout_mode == "pipe":
            return bytes(self.captured).decode(errors="replace")
        return super().output()


@contextlib.contextmanager
def running(binaries, base, body, kinds=KINDS, **kw):
    """Starts one daemon per kind on `body`, each in `base/kind`, and stops them all after."""
    daemons = {}
    try:
        for kind in kinds:
            daemons[kind] = Sup(kind, body, pathlib.Path(base) / kind,
                                binary=binaries["supervisord"], **kw)
        for d in daemons.values():
            d.start()
        yield daemons
    finally:
        for d in daemons.values():
            d.stop()


def make_dirs(base, *names, kinds=KINDS):
    """Log directories must exist before the daemons read their config."""
    for kind in kinds:
        for name in names:
            (pathlib.Path(base) / kind / name).mkdir(parents=True, exist_ok=True)


def run_to_exit(d, name, timeout=60):
    """Waits until `name` has exited and checks the fixture program succeeded (70 means its
    handshake timed out: the daemon stopped reading its output)."""
    wait_for(lambda: d.state_of(name) in ("EXITED", "FATAL", "BACKOFF"), timeout=timeout,
             what=f"{name} to exit ({d.kind})")
    info = d.rpc().supervisor.getProcessInfo(name)
    assert (info["statename"], info["exitstatus"]) == ("EXITED", 0), (d.kind, info)


def files_in(directory):
    directory = pathlib.Path(directory)
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def short(value):
    """Bytes as they are if small, else length + digest + ends, so a mismatch stays readable."""
    if isinstance(value, dict):
        return {k: short(v) for k, v in value.items()}
    if isinstance(value, bytes) and len(value) > 4096:
        return (len(value), hashlib.sha256(value).hexdigest(), value[:40], value[-40:])
    return value


def auto_logs(d):
    """AUTO child logs in childlogdir, by masked name."""
    return {normalize(p.name): p.read_bytes() for p in sorted(d.tmp.glob("*---supervisor-*.log"))}


TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ([A-Z]{4}) ", re.M)


def records(text):
    """The main log as (level, message) records; a message may span lines (child output)."""
    starts = list(TIMESTAMP.finditer(text))
    out = []
    for m, nxt in zip(starts, starts[1:] + [None]):
        message = text[m.end():nxt.start() if nxt else len(text)]
        out.append((m.group(1), message[:-1] if message.endswith("\n") else message))
    return out


def mainlog_raw(d):
    path = d.tmp / "supervisord.log"
    return path.read_bytes().decode("utf-8", "surrogateescape") if path.exists() else ""


def process_events(d, text=None):
    """The main-log lines about processes (spawned/success/exited), masked and sorted: their
    relative order across processes depends on scheduling."""
    text = d.mainlog() if text is None else text
    keys = ("spawned:", "success:", "exited:", "stopped:")
    return sorted(normalize(f"{level} {msg}", d) for level, msg in records(text)
                  if any(msg.startswith(k) for k in keys))


def rpc_result(d, method, *args):
    """('ok', value) / ('fault', code, text) / ('http', errcode)."""
    try:
        return ("ok", getattr(d.rpc().supervisor, method)(*args))
    except xmlrpc.client.Fault as f:
        return ("fault", f.faultCode, normalize(f.faultString, d))
    except xmlrpc.client.ProtocolError as e:
        return ("http", e.errcode)


# --- 1. capture basics ------------------------------------------------------------------------

def big_line(n):
    pattern = b"0123456789abcdefghijklmnopqrstuvwxyz!"
    return (pattern * (n // len(pattern) + 1))[:n]


def basic_payload(big):
    """(fd, bytes) in the order the child writes them."""
    items = [
        (1, b"plain line\n"),
        (2, b"err line\n"),
        (1, bytes(range(256))),
        (1, b"nul\x00in\x00middle\n"),
        (2, b"\xff\xfe invalid utf8 \xc3\x28 and a lone \xe2\x82\n"),
        (1, b"crlf line\r\nsecond\r\n"),
        (2, b"\r\n\x00\x1b\x7f"),
        (1, "multibyte \u00e9\u2713\U0001f600\n".encode()),
        (1, b"partial no newline"),
    ]
    if big:
        items.append((1, big_line(20 << 20)))  # a 20 MB line with no newline
    items.append((1, b"\nend\n"))
    return items


BASIC_MAIN = """
for fd, data in basic_payload(sys.argv[1] == "big"):
    emit(fd, data)
"""

BASIC_PROGRAMS = """
[program:redir]
command={py} {child} big
redirect_stderr=true
stdout_logfile=%(here)s/logs/%(program_name)s-%(process_num)02d.log
startsecs=0
autorestart=false

[program:split]
command={py} {child} small
stdout_logfile=%(here)s/logs/%(program_name)s.out
stderr_logfile=%(here)s/logs/%(group_name)s.err
startsecs=0
autorestart=false

[program:auto]
command={py} {child} small
stdout_logfile=AUTO
stderr_logfile=AUTO
startsecs=0
autorestart=false

[program:none]
command={py} {child} small
stdout_logfile=NONE
stderr_logfile=%(here)s/logs/none.err
startsecs=0
autorestart=false
"""


@pytest.fixture(scope="module")
def basic(binaries, tmp_path_factory):
    base = tmp_path_factory.mktemp("basic")
    child = write_child(base, "basic", BASIC_MAIN, big_line, basic_payload)
    make_dirs(base, "logs")
    body = program(BASIC_PROGRAMS, child)
    with running(binaries, base, body) as ds:
        for d in ds.values():
            for name in ("redir", "split", "auto", "none"):
                run_to_exit(d, name)
        yield ds


def test_capture_basic_files_match(basic):
    """Explicit paths with %(here)s/%(program_name)s/%(process_num)02d/%(group_name)s: the files
    hold exactly the bytes written (binary, NUL, invalid UTF-8, CRLF, a 20 MB line without a
    newline), merged in write order with redirect_stderr, split without; Python and ours alike."""
    small = basic_payload(False)
    expected = {
        "none.err": b"".join(d for fd, d in small if fd == 2),
        "redir-00.log": b"".join(d for fd, d in basic_payload(True)),
        "split.err": b"".join(d for fd, d in small if fd == 2),
        "split.out": b"".join(d for fd, d in small if fd == 1),
    }
    got = {kind: files_in(d.tmp / "logs") for kind, d in basic.items()}
    assert short(got["python"]) == short(expected)
    assert short(got["ours"]) == short(got["python"])


def test_capture_auto_logs_match(basic):
    """AUTO files in childlogdir (`<name>-<channel>---supervisor-XXXXXXXX.log`): the same set of
    files (names masked) with the same bytes; redirect_stderr and NONE channels get none."""
    small = basic_payload(False)
    got = {kind: auto_logs(d) for kind, d in basic.items()}
    assert got["python"]["auto-stdout---supervisor-XXXXXXXX.log"] == b"".join(d for fd, d in small if fd == 1)
    assert got["python"]["auto-stderr---supervisor-XXXXXXXX.log"] == b"".join(d for fd, d in small if fd == 2)
    assert short(got["ours"]) == short(got["python"])


@pytest.mark.parametrize("call", [
    ("readProcessStdoutLog", "none", 0, 10), ("tailProcessStdoutLog", "none", 0, 10),
    ("readProcessStderrLog", "none", 0, 9), ("readProcessStdoutLog", "split", 0, 11),
    ("readProcessStdoutLog", "redir", -5, 0), ("tailProcessStdoutLog", "redir", 0, 5),
    ("readProcessStderrLog", "redir", 0, 10), ("readProcessStdoutLog", "auto", 0, 11),
    ("readProcessStderrLog", "auto", 0, 9),
], ids=lambda c: " ".join(map(str, c)))
def test_capture_basic_reads_match(basic, call):
    """Reads on these logs (NONE -> NO_FILE, redirected stderr -> NO_FILE, AUTO files) agree."""
    got = {kind: normalize_value(rpc_result(d, *call), d) for kind, d in basic.items()}
    assert got["ours"] == got["python"]


# --- 2. stdout_logfile=/dev/stdout ------------------------------------------------------------

DEVOUT_CHUNKS = [(1, b"to dev stdout 1\n"), (2, b"stderr via redirect\n"), (1, b"x" * 700 + b"\n"),
                 (1, b"y" * 700 + b"\n"), (1, b"last line to dev stdout\n")]

DEVOUT_MAIN = """
for fd, data in DEVOUT_CHUNKS:
    emit(fd, data)
"""

DEVOUT_PROGRAM = """
[program:devout]
command={py} {child}
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes={maxbytes}
stdout_logfile_backups=0
redirect_stderr=true
startsecs=0
autorestart=false
"""


def devout_body(base, maxbytes):
    return program(DEVOUT_PROGRAM, write_child(base, "devout", DEVOUT_MAIN, DEVOUT_CHUNKS=DEVOUT_CHUNKS),
                   maxbytes=maxbytes)


def assert_on_stdout(d):
    out = d.output()
    assert "Illegal seek" not in out and "Illegal seek" not in d.mainlog(), (d.kind, out)
    pos = 0
    for _, chunk in DEVOUT_CHUNKS:
        found = out.find(chunk.decode(), pos)
        assert found >= 0, f"{d.kind}: {chunk[:24]!r} is not on the daemon's stdout (in order); it starts {out[:80]!r}"
        pos = found + len(chunk)


@pytest.mark.parametrize("stdout", ["pipe", "append"])
def test_dev_stdout(binaries, tmp_path, stdout):
    """`stdout_logfile=/dev/stdout` with maxbytes=0 (daemon run with -n): the child's output, in
    order and whole, is on the daemon's stdout (a pipe, or a file opened for appending), and no
    `Illegal seek` error appears anywhere; Python and ours alike."""
    body = devout_body(tmp_path, "0")
    with running(binaries, tmp_path, body, stdout=stdout) as ds:
        for d in ds.values():
            run_to_exit(d, "devout")
            assert_on_stdout(d)


@pytest.mark.parametrize("stdout", ["pipe", "append"])
def test_dev_stdout_with_maxbytes_ours(binaries, tmp_path, stdout):
    """Ours-only: `/dev/stdout` with `stdout_logfile_maxbytes=1KB`: every chunk still arrives on
    the daemon's stdout, nothing is truncated and no rotation is attempted (no `Illegal seek`).
    (backups=0 so that even a wrong rotation could not rename /dev/stdout in this sandbox.)"""
    body = devout_body(tmp_path, "1KB")
    with running(binaries, tmp_path, body, kinds=("ours",), stdout=stdout) as ds:
        run_to_exit(ds["ours"], "devout")
        assert_on_stdout(ds["ours"])
        startup = ("Supervisor is running as root", "Server 'unix_http_server' running without")
        assert [(level, msg) for level, msg in records(ds["ours"].mainlog())
                if level in ("CRIT", "ERRO", "WARN") and not msg.startswith(startup)] == []


def test_dev_stdout_with_maxbytes_python_logs_illegal_seek(binaries, tmp_path):
    """Pins Python's behaviour that ours deliberately does not copy: with a nonzero maxbytes and
    the daemon's stdout a pipe, every chunk is written, but after each one the rollover check's
    tell() raises `Illegal seek` and Python logs `CRIT uncaptured python exception, closing
    channel ...` (the channel stays registered with the poller, so reading goes on)."""
    body = devout_body(tmp_path, "1KB")
    with running(binaries, tmp_path, body, kinds=("python",), stdout="pipe") as ds:
        d = ds["python"]
        run_to_exit(d, "devout")
        pos = 0
        for _, data in DEVOUT_CHUNKS:
            pos = d.output().index(data.decode(), pos) + len(data)
        crit = [msg for level, msg in records(d.mainlog())
                if level == "CRIT" and msg.startswith("uncaptured python exception, closing channel")]
        assert len(crit) == len(DEVOUT_CHUNKS) and all("Illegal seek" in msg for msg in crit)


# --- 3. rotation on a live daemon -------------------------------------------------------------

def chunk(i, n):
    """Chunk number i, n bytes, recognisable in the files."""
    return (b"%02d" % i + bytes([65 + i % 26]) * n)[:n]


# 1100 >= maxbytes on an empty file; 2000 > maxbytes on a non-empty file (GOT-20: the rollover
# comes after the whole chunk is written).
ROTATION_SIZES = [1100, 300, 300, 300, 300, 100, 2000, 50, 700, 400, 10, 1500, 30, 999, 1, 24]

ROTATE_MAIN = """
for i, n in enumerate(ROTATION_SIZES):
    emit(1, chunk(i, n))
"""

READER_MAIN = """
for i, n in enumerate([600, 600, 700, 400]):
    emit(1, chunk(i, n))
for data in READER_CURRENT:
    emit(1, data)
for i in range(1, 6):
    emit(2, b"stderr line %d\\n" % i)
while True:
    line = sys.stdin.buffer.readline()
    if not line:
        break
    if line.startswith(b"2 "):
        emit(2, line[2:])
    else:
        emit(1, line)
"""

# What the reader's current stdout file holds: multibyte characters and invalid bytes.
READER_CURRENT = [b"line one\n", "h\u00e9llo w\u00f6rld \u2713 \U0001f600\n".encode(),
                  b"bad \xff\xfe byte\n"] + [b"tail line %02d\n" % i for i in range(1, 11)]

ROTATION_PROGRAMS = """
[program:rot0]
command={py} {rotate}
stdout_logfile=%(here)s/rot0/x.log
stdout_logfile_maxbytes=1KB
stdout_logfile_backups=0
redirect_stderr=true
startsecs=0
autorestart=false

[program:rot1]
command={py} {rotate}
stdout_logfile=%(here)s/rot1/x.log
stdout_logfile_maxbytes=1KB
stdout_logfile_backups=1
redirect_stderr=true
startsecs=0
autorestart=false

[program:rot3]
command={py} {rotate}
stdout_logfile=%(here)s/rot3/x.log
stdout_logfile_maxbytes=1KB
stdout_logfile_backups=3
redirect_stderr=true
startsecs=0
autorestart=false

[program:reader]
command={py} {reader}
stdout_logfile=%(here)s/reader/out.log
stdout_logfile_maxbytes=1KB
stdout_logfile_backups=2
stderr_logfile=%(here)s/reader/err.log
stderr_logfile_maxbytes=1KB
stderr_logfile_backups=2
startsecs=0

[program:follower]
command={py} {reader}
stdout_logfile=%(here)s/follower/out.log
stdout_logfile_maxbytes=1KB
stdout_logfile_backups=2
stderr_logfile=%(here)s/follower/err.log
stderr_logfile_maxbytes=1KB
stderr_logfile_backups=2
startsecs=0
"""


def rotation_expected(sizes, maxbytes, backups):
    """RotatingFileHandler's result: roll over after a whole chunk once the file has >= maxbytes."""
    files = {"x.log": b""}
    for i, n in enumerate(sizes):
        files["x.log"] += chunk(i, n)
        if len(files["x.log"]) >= maxbytes:
            if backups > 0:
                for k in range(backups - 1, 0, -1):
                    if f"x.log.{k}" in files:
                        files[f"x.log.{k + 1}"] = files.pop(f"x.log.{k}")
                files["x.log.1"] = files.pop("x.log")
            files["x.log"] = b""
    return dict(sorted(files.items()))


@pytest.fixture(scope="module")
def rotated(binaries, tmp_path_factory):
    base = tmp_path_factory.mktemp("rotation")
    rotate = write_child(base, "rotate", ROTATE_MAIN, chunk, ROTATION_SIZES=ROTATION_SIZES)
    reader = write_child(base, "reader", READER_MAIN, chunk, READER_CURRENT=READER_CURRENT)
    make_dirs(base, "rot0", "rot1", "rot3", "reader", "follower")
    body = program(ROTATION_PROGRAMS, None, rotate=rotate, reader=reader)
    with running(binaries, base, body) as ds:
        for d in ds.values():
            for name in ("rot0", "rot1", "rot3"):
                run_to_exit(d, name)
            for name in ("reader", "follower"):
                d.wait_state(name, "RUNNING")
                wait_for(lambda: (d.tmp / name / "err.log").read_bytes().endswith(b"stderr line 5\n"),
                         what=f"{name} output ({d.kind})")
        yield ds


@pytest.mark.parametrize("backups", [0, 1, 3])
def test_rotation_files_match(rotated, backups):
    """maxbytes=1KB with 0, 1 and 3 backups: the same set of files with the same bytes as
    RotatingFileHandler gives (rollover after a whole chunk, even one larger than maxbytes;
    backups=0 truncates in place)."""
    expected = rotation_expected(ROTATION_SIZES, 1024, backups)
    got = {kind: files_in(d.tmp / f"rot{backups}") for kind, d in rotated.items()}
    assert got["python"] == expected
    assert got["ours"] == got["python"]


def test_rotation_reader_files_match(rotated):
    """The reader's rotated stdout/stderr files are the same on both daemons."""
    got = {kind: files_in(d.tmp / "reader") for kind, d in rotated.items()}
    assert got["python"]["out.log"] == b"".join(READER_CURRENT)
    assert got["ours"] == got["python"]


# --- 4. read APIs on rotated files ------------------------------------------------------------

def tail_raw(data, offset, length):
    """options.tailFile on bytes, before its strict decoding."""
    sz = len(data)
    overflow = False
    if sz > offset + length:
        overflow, offset = True, sz - 1
    if offset + length > sz:
        if offset > sz - 1:
            length = 0
        offset = sz - length
    offset, length = max(offset, 0), max(length, 0)
    return [data[offset:offset + length] if length else b"", sz, overflow]


READ_WINDOWS = [(0, 9), (0, 10), (9, 2), (10, 1), (11, 4), (9, 3), (0, 0), (-5, 0), (-60, 0),
                (-200, 0), (-1, 0), (1000, 10), (5000, 0), (-5, 3), (3, -2), (30, 20), (26, 3),
                (27, 2)]


@pytest.mark.parametrize("window", READ_WINDOWS, ids=str)
def test_read_process_log_windows(rotated, window):
    """readProcessStdoutLog(name, offset, length) on the current (rotated-into) file: clean
    UTF-8 windows are equal; windows with invalid bytes or a split character are HTTP 500 in
    Python (GOT-24) and `decode('utf-8', 'replace')` of the same bytes in ours."""
    got = {kind: rpc_result(d, "readProcessStdoutLog", "reader", *window) for kind, d in rotated.items()}
    py, ours = got["python"], got["ours"]
    path = str(rotated["ours"].tmp / "reader/out.log")
    try:
        raw = readFile(path, *window)
    except ValueError:
        assert ours == py and py[0] == "fault"
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        assert py == ("http", 500)
        assert ours == ("ok", raw.decode("utf-8", "replace"))
    else:
        assert py == ours == ("ok", text)


@pytest.mark.parametrize("window", [(0, 50), (0, 5000), (100, 20), (0, 140), (0, 146), (0, 0),
                                    (5000, 10), (1, 1), (174, 0), (173, 1)], ids=str)
def test_tail_process_log_windows(rotated, window):
    """tailProcessStdoutLog(name, offset, length): same rule as the reads (GOT-24)."""
    got = {kind: rpc_result(d, "tailProcessStdoutLog", "reader", *window) for kind, d in rotated.items()}
    py, ours = got["python"], got["ours"]
    raw, offset, overflow = tail_raw((rotated["ours"].tmp / "reader/out.log").read_bytes(), *window)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        assert py == ("http", 500)
        assert ours == ("ok", [raw.decode("utf-8", "replace"), offset, overflow])
    else:
        assert py == ours == ("ok", [text, offset, overflow])


@pytest.mark.parametrize("call", [
    ("readProcessStderrLog", "reader", 0, 0), ("readProcessStderrLog", "reader", -20, 0),
    ("tailProcessStderrLog", "reader", 0, 30), ("tailProcessStderrLog", "reader", 10, 1000),
], ids=lambda c: " ".join(map(str, c)))
def test_stderr_reads_match(rotated, call):
    """The clean stderr log reads the same through every API."""
    got = {kind: rpc_result(d, *call) for kind, d in rotated.items()}
    assert got["python"][0] == "ok"
    assert got["ours"] == got["python"]


@pytest.mark.parametrize("args", [["tail", "-100", "reader"], ["tail", "reader", "stderr"],
                                  ["tail", "-30", "reader", "stderr"], ["tail", "-0", "reader", "stderr"],
                                  ["tail", "rot3"], ["tail", "-5", "rot1"]],
                         ids=" ".join)
def test_ctl_tail_matches(rotated, args):
    """supervisorctl tail on rotated, clean logs prints the same thing."""
    got = {kind: d.ctl(*args) for kind, d in rotated.items()}
    assert got["ours"] == got["python"]


def test_ctl_tail_undecodable(rotated):
    """`supervisorctl tail reader`: the last 1600 bytes hold invalid UTF-8; Python's ctl gets the
    HTTP 500 (GOT-24) while ours prints the text decoded with U+FFFD replacement."""
    got = {kind: d.ctl("tail", "reader") for kind, d in rotated.items()}
    raw = (rotated["ours"].tmp / "reader/out.log").read_bytes()[-1600:]
    assert got["python"][0] == 1 and got["python"][1].startswith(
        "error: <class 'xmlrpc.client.ProtocolError'>, <ProtocolError for 127.0.0.1/RPC2: "
        "500 Internal Server Error>"), got["python"]
    assert got["ours"] == (0, raw.decode("utf-8", "replace") + "\n", ""), got["ours"]


def test_ctl_tail_follow(rotated):
    """`supervisorctl tail -f`: the same initial text, then new lines as the child writes them,
    also across a rotation of the followed file."""
    seen = {}
    for kind, d in rotated.items():
        p = follow(["-c", str(d.conf), "tail", "-f", "follower", "stderr"], cwd=d.tmp)
        try:
            lines = []

            def upto(text):
                while text not in (line := p.next_line()):
                    lines.append(line)
                lines.append(line)
            upto("stderr line 5")
            for n in (1, 2):
                d.rpc().supervisor.sendProcessStdin("follower", f"2 fresh line {n}\n")
                upto(f"fresh line {n}")
            seen[kind] = lines
            # a line larger than maxbytes rotates the file; the follower reopens the new one
            d.rpc().supervisor.sendProcessStdin("follower", "2 " + "R" * 1100 + "\n")
            wait_for(lambda: (d.tmp / "follower/err.log.1").exists(), what="rotation")
            d.rpc().supervisor.sendProcessStdin("follower", "2 after rotation\n")
            p.wait_line(lambda line: "after rotation" in line)
        finally:
            p.terminate()
            p.wait()
    assert seen["ours"] == seen["python"]


def test_maintail_and_readlog_match(rotated):
    """`maintail -300` and `maintail` print the last 300 / 1600 bytes of what readLog(0, 0)
    returns, readLog windows are windows of it, and it holds the same process events (masked)
    on both daemons."""
    got = {}
    for kind, d in rotated.items():
        rc, out, err = d.ctl("maintail", "-300")
        whole = d.rpc().supervisor.readLog(0, 0)
        assert (rc, err, whole.endswith(out[:-1]), len(out)) == (0, "", True, 301), (kind, out, err)
        rc, out, err = d.ctl("maintail")
        assert (rc, whole.endswith(out[:-1]), len(out)) == (0, True, min(1600, len(whole)) + 1), kind
        tail = d.rpc().supervisor.readLog(-100, 0)
        assert len(tail) == 100 and whole.endswith(tail), kind
        assert d.rpc().supervisor.readLog(10, 20) == whole[10:30]
        got[kind] = process_events(d, whole)
    assert got["ours"] == got["python"]
    assert any("spawned: 'reader'" in line for line in got["python"])


# --- 5. capture mode (GOT-21) -----------------------------------------------------------------

BEFORE = b"normal text before the capture\n"
AFTER = b"more normal text after the END token, long enough\n"
CAP_JOINED = [BEFORE + b"<!--XSUPERVISOR:BEGIN-->captured payload<!--XSUPERVISOR:END-->" + AFTER]
# the tokens split across separate reads
CAP_SPLIT = [BEFORE + b"<!--XSUPER", b"VISOR:BEGIN-->captured pay", b"load<!--XSUPERVISOR:E",
             b"ND-->more normal text", b" after the END token, long enough\n"]
CAP_BYTEWISE = [bytes([b]) for b in b"".join(CAP_JOINED)]
CAP_SHORT_TAIL = [BEFORE, b"<!--XSUPERVISOR:BEGIN-->captured payload<!--XSUPERVISOR:END-->",
                  b"short tail\n"]

CAPTURE_MAIN = """
for data in PIECES[sys.argv[1]]:
    emit(1, data)
"""

CAPTURE_PROGRAM = """
[program:{name}]
command={py} {child} {name}
stdout_capture_maxbytes=1MB
stdout_logfile=%(here)s/cap/%(program_name)s.log
startsecs=0
autorestart=false
"""


@pytest.fixture(scope="module")
def captured(binaries, tmp_path_factory):
    base = tmp_path_factory.mktemp("capture")
    pieces = {"joined": CAP_JOINED, "split": CAP_SPLIT, "bytewise": CAP_BYTEWISE, "short": CAP_SHORT_TAIL}
    child = write_child(base, "capture", CAPTURE_MAIN, PIECES=pieces)
    make_dirs(base, "cap")
    body = "".join(program(CAPTURE_PROGRAM, child, name=name) for name in pieces)
    with running(binaries, base, body) as ds:
        for d in ds.values():
            for name in pieces:
                run_to_exit(d, name)
        yield ds


@pytest.mark.parametrize("name", ["joined", "split", "bytewise"])
def test_capture_mode_hides_payload(captured, name):
    """stdout_capture_maxbytes: text between BEGIN and END is not in the stdout log, the text
    around it is; one read, tokens split across reads, or one byte per read give the same file."""
    got = {kind: (d.tmp / f"cap/{name}.log").read_bytes() for kind, d in captured.items()}
    assert got["python"] == BEFORE + AFTER
    assert got["ours"] == got["python"]


def test_capture_short_tail_deliberate_difference(captured):
    """Deliberate difference (GOT-21): text shorter than the 24-byte BEGIN token written after
    END just before the program exits is held by Python forever (never written), while ours
    writes it at EOF. Both drop the captured payload."""
    got = {kind: (d.tmp / "cap/short.log").read_bytes() for kind, d in captured.items()}
    assert got["python"] == BEFORE
    assert got["ours"] == BEFORE + b"short tail\n"


# --- 6. strip_ansi ------------------------------------------------------------------------------

ANSI_CHUNKS = [
    (1, b"\x1b[31mred\x1b[0m plain\n"),
    (1, b"\x1b[2J\x1b[Hhome \x1b[10;20Hmoved \x1b[1Aup\x1b[K\n"),
    (1, b"cut \x1b[1;3"),  # an escape with no terminator at the end of a chunk
    (1, b"2mnext chunk\n"),
    (2, b"osc \x1b]0;title\x07 kept, lone esc \x1b x, hidden\x1b[?25l cursor\n"),
    (2, b"\xff\xfe bin \x1b[0m\x00 nul\n"),
    (1, b"ends in \x1b["),
    (1, b"m trailing\n"),
    (2, b"\x1b[38;5;196mxterm colour\x1b[39m and \x1b[sS\x1b[uU\n"),
]

ANSI_MAIN = """
for fd, data in ANSI_CHUNKS:
    emit(fd, data)
"""

ANSI_PROGRAM = """
[program:ansi]
command={py} {child}
stdout_logfile=%(here)s/ansi.out
stderr_logfile=%(here)s/ansi.err
startsecs=0
autorestart=false
"""


@pytest.mark.parametrize("how", ["config", "flag"])
def test_strip_ansi(binaries, tmp_path, how):
    """strip_ansi=true (or -t): escapes are stripped per chunk exactly as stripEscapes does (an
    unterminated escape swallows the rest of its chunk only); the files match Python's."""
    body = program(ANSI_PROGRAM, write_child(tmp_path, "ansi", ANSI_MAIN, ANSI_CHUNKS=ANSI_CHUNKS))
    kw = {"supervisord": "strip_ansi=true"} if how == "config" else {"args": ["-t"]}
    with running(binaries, tmp_path, body, **kw) as ds:
        got = {}
        for kind, d in ds.items():
            run_to_exit(d, "ansi")
            got[kind] = ((d.tmp / "ansi.out").read_bytes(), (d.tmp / "ansi.err").read_bytes())
    expected = tuple(b"".join(stripEscapes(c) for fd, c in ANSI_CHUNKS if fd == n) for n in (1, 2))
    assert got["python"] == expected
    assert got["ours"] == got["python"]


# --- 7. loglevel=debug mirror -------------------------------------------------------------------

DEBUG_CHUNKS = [
    (1, b"hello\n"), (1, b"two\nlines\n"), (1, b"no newline"), (1, b"\xff\xfebin\x00\n"),
    (1, "unicode \u00e9 \u2713\n".encode()), (1, b"it's \xff"), (1, b"both ' and \" \xff"),
    (1, b"\\back\\slash\t\r\n\x7f\x80"), (1, b"\x00"), (2, b"err text\n"), (2, b"\x80err"),
    (2, b"\xc3"), (1, b"%(name)s %s 100%\n"),
]

DEBUG_MAIN = """
for fd, data in DEBUG_CHUNKS:
    emit(fd, data)
"""

DEBUG_PROGRAM = """
[program:dbg]
command={py} {child}
stdout_logfile=%(here)s/dbg.out
stderr_logfile=%(here)s/dbg.err
startsecs=0
autorestart=false
"""


def test_debug_mirror_records(binaries, tmp_path):
    """loglevel=debug: each read chunk is mirrored into the main log as
    `DEBG 'dbg' <channel> output:\\n<text>`, or `Undecodable: b'...'` (Python's repr) when it is
    not UTF-8; the records, per channel and in order, match Python's exactly."""
    body = program(DEBUG_PROGRAM, write_child(tmp_path, "dbg", DEBUG_MAIN, DEBUG_CHUNKS=DEBUG_CHUNKS))
    with running(binaries, tmp_path, body, loglevel="debug") as ds:
        got = {}
        for kind, d in ds.items():
            run_to_exit(d, "dbg")
            got[kind] = {}
            for channel in ("stdout", "stderr"):
                head = f"'dbg' {channel} output:\n"
                got[kind][channel] = [(level, msg) for level, msg in records(mainlog_raw(d))
                                      if msg.startswith(head)]

    def text(data):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return "Undecodable: %r" % data
    expected = {channel: [("DEBG", f"'dbg' {channel} output:\n" + text(c)) for fd, c in DEBUG_CHUNKS if fd == n]
                for n, channel in ((1, "stdout"), (2, "stderr"))}
    assert got["python"] == expected
    assert got["ours"] == got["python"]


# --- 8. SIGUSR2 -----------------------------------------------------------------------------------

ECHO_MAIN = """
while True:
    line = sys.stdin.buffer.readline()
    if not line:
        break
    emit(1, line)
"""

ECHO_PROGRAM = """
[program:echoer]
command={py} {child}
stdout_logfile=%(here)s/logs/echoer.log
startsecs=0
"""


def test_sigusr2_reopens_child_logs(binaries, tmp_path):
    """Rename the child's log away and send SIGUSR2: the child's next output lands in a new file
    at the original path, the old output stays in the renamed file (both daemons)."""
    make_dirs(tmp_path, "logs")
    body = program(ECHO_PROGRAM, write_child(tmp_path, "echo", ECHO_MAIN))
    with running(binaries, tmp_path, body) as ds:
        got = {}
        for kind, d in ds.items():
            log = d.tmp / "logs/echoer.log"
            d.wait_state("echoer", "RUNNING")
            d.rpc().supervisor.sendProcessStdin("echoer", "before rename\n")
            wait_for(lambda: log.read_bytes() == b"before rename\n", what=f"first line ({kind})")
            log.rename(d.tmp / "logs/echoer.log.old")
            d.proc.send_signal(signal.SIGUSR2)
            wait_for(log.exists, what=f"reopened log ({kind})")
            d.rpc().supervisor.sendProcessStdin("echoer", "after reopen\n")
            wait_for(lambda: log.read_bytes() == b"after reopen\n", what=f"line in the new file ({kind})")
            got[kind] = files_in(d.tmp / "logs")
            assert "received SIGUSR2 indicating log reopen request" in d.mainlog()
    assert got["python"] == {"echoer.log": b"after reopen\n",
                             "echoer.log.old": b"before rename\n"}
    assert got["ours"] == got["python"]


# --- 9. ours-only robustness ----------------------------------------------------------------------
# Python has none of this; the wording is fixed by the spec of issue 5.

TICKER_MAIN = """
i = 0
while True:
    i += 1
    emit(1, b"tick %06d\\n" % i)
    time.sleep(0.1)
"""

TICKER_PROGRAM = """
[program:ticker]
command={py} {child}
stdout_logfile={logdir}/ticker.log
stdout_logfile_maxbytes=0
autostart={autostart}
startsecs=0
"""


def ticker_body(tmp, logdir, autostart=True):
    return program(TICKER_PROGRAM, write_child(tmp, "ticker", TICKER_MAIN), logdir=logdir,
                   autostart=str(autostart).lower())


def ticks(data):
    return [int(m) for m in re.findall(rb"tick (\d{6})\n", data)]


def warn_moved(path):
    return f"WARN 'ticker' stdout log file {path} was moved or deleted; reopened it"


def erro_dropping(path, err):
    """The ERRO line starting a dropping episode, as a regex. ERR is Python's str(OSError):
    for a failed open it may carry the file name (`[Errno 2] No such file or directory:
    '/p'`), which is accepted; for a failed write it does not."""
    return re.compile(re.escape(f"ERRO 'ticker' stdout log file {path}: {err}")
                      + r"(: '[^']*')?" + re.escape("; output is dropped until it can be written again"))


def count(pattern, d):
    return len(pattern.findall(d.mainlog()))


WRITTEN_AGAIN = r"INFO 'ticker' stdout log file {path} is written again; (\d+) bytes were dropped"


def written_again(d, path):
    m = re.search(WRITTEN_AGAIN.replace("{path}", re.escape(str(path))), d.mainlog())
    return int(m.group(1)) if m else None


def assert_alive(d, name="ticker"):
    assert d.proc.poll() is None, d.output()
    assert d.rpc().supervisor.getState()["statename"] == "RUNNING"
    assert d.state_of(name) == "RUNNING"


@pytest.mark.parametrize("how", ["moved", "deleted"])
def test_ours_moved_or_deleted_log_is_reopened(binaries, tmp_path, how):
    """Ours-only: the child's log file renamed away (or deleted) with no signal: within a few
    seconds a new file appears at the configured path and receives the new lines, and the main
    log says `WARN 'ticker' stdout log file PATH was moved or deleted; reopened it`."""
    make_dirs(tmp_path, "logs", kinds=("ours",))
    logdir = tmp_path / "ours/logs"
    log = logdir / "ticker.log"
    with running(binaries, tmp_path, ticker_body(tmp_path, logdir), kinds=("ours",)) as ds:
        d = ds["ours"]
        wait_for(lambda: log.exists() and len(ticks(log.read_bytes())) >= 3, what="first ticks")
        if how == "moved":
            log.rename(logdir / "away.log")
        else:
            log.unlink()
        wait_for(lambda: log.exists() and len(ticks(log.read_bytes())) >= 2, timeout=10,
                 what="ticks in a new file at the original path")
        assert warn_moved(log) in d.mainlog()
        if how == "moved":
            # nothing lost: the ticks written before the reopen are in the moved file
            old, new = ticks((logdir / "away.log").read_bytes()), ticks(log.read_bytes())
            assert old + new == list(range(1, len(old) + len(new) + 1))
        assert_alive(d)


class Tmpfs:
    """A small tmpfs for ours' child logs. As root it is mounted here (and unmounted after);
    otherwise the daemon runs under `unshare -Urm` that mounts it in a namespace only the daemon
    and its children see, and the test reaches it through /proc/PID/root and nsenter.
    CAPTURE_TMPFS_MODE=unshare forces the second way."""

    def __init__(self, path, size="2m"):
        self.path, self.size = pathlib.Path(path), size
        self.mode = os.environ.get("CAPTURE_TMPFS_MODE") or ("root" if os.geteuid() == 0 else "unshare")
        self.pid = None
        self.mounts = 0

    def __enter__(self):
        self.path.mkdir(parents=True, exist_ok=True)
        if self.mode == "root":
            r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.size}", "tmpfs", str(self.path)],
                               capture_output=True, text=True)
            if r.returncode:
                pytest.skip(f"cannot mount a tmpfs as root: {r.stderr.strip()}")
            self.mounts = 1
        else:
            r = subprocess.run(["unshare", "-Urm", "sh", "-c", f"mount -t tmpfs -o size=1m tmpfs '{self.path}'"],
                               capture_output=True, text=True)
            if r.returncode or not shutil.which("nsenter"):
                pytest.skip(f"not root and no user+mount namespace for a tmpfs: {r.stderr.strip()}")
        return self

    def __exit__(self, *exc):
        while self.mounts:
            subprocess.run(["umount", "-l", str(self.path)], capture_output=True)
            self.mounts -= 1

    def prefix(self):
        if self.mode == "root":
            return ()
        return ("unshare", "-Urm", "sh", "-c", 'mount -t tmpfs -o size="$1" tmpfs "$2" && shift 2 && exec "$@"',
                "sh", self.size, str(self.path))

    def attach(self, pid):
        self.pid = pid

    def view(self, *parts):
        """A path under the tmpfs, as the test can reach it."""
        if self.mode == "root":
            return self.path.joinpath(*parts)
        return pathlib.Path(f"/proc/{self.pid}/root{self.path}").joinpath(*parts)

    def run(self, *cmd):
        if self.mode != "root":
            cmd = ("nsenter", "-t", str(self.pid), "-U", "-m", "--preserve-credentials") + cmd
        subprocess.run(cmd, check=True, capture_output=True)
        if self.mode == "root" and cmd[:2] == ("mount", "--bind"):
            self.mounts += 1


FLOOD_MAIN = """
line = b"%s\\n" % (b"f" * 999)
while True:
    emit(1, line, wait=False)
    time.sleep(0.002)
"""

FLOOD_PROGRAM = """
[program:ticker]
command={py} {child}
stdout_logfile={logdir}/ticker.log
stdout_logfile_maxbytes=0
autostart=false
startsecs=0
stopwaitsecs=5
"""


@contextlib.contextmanager
def full_disk(binaries, tmp_path):
    """Ours with the ticker's log on a 2 MiB tmpfs, 1.5 MiB of it taken by a filler file, and a
    child writing 1000-byte lines until the disk is full."""
    with Tmpfs(tmp_path / "small") as fs:
        body = program(FLOOD_PROGRAM, write_child(tmp_path, "flood", FLOOD_MAIN), logdir=fs.path)
        with running(binaries, tmp_path, body, kinds=("ours",), prefix=fs.prefix()) as ds:
            d = ds["ours"]
            fs.attach(d.proc.pid)
            fs.view("filler").write_bytes(b"\0" * (1536 << 10))
            d.rpc().supervisor.startProcess("ticker")
            path = fs.path / "ticker.log"
            wait_for(lambda: erro_dropping(path, "[Errno 28] No space left on device").search(d.mainlog()),
                     timeout=20, what="the ENOSPC ERRO line")
            yield d, fs, path


def test_ours_full_disk_keeps_running(binaries, tmp_path):
    """Ours-only: ENOSPC on the child's log logs `ERRO ... [Errno 28] No space left on device;
    output is dropped until it can be written again` once; the daemon keeps answering, the
    process stays RUNNING, and `supervisorctl stop` stops it promptly."""
    with full_disk(binaries, tmp_path) as (d, fs, path):
        assert_alive(d)
        size = fs.view("ticker.log").stat().st_size
        assert size > 0
        rc, out, err = d.ctl("stop", "ticker", timeout=10)
        assert (rc, out) == (0, "ticker: stopped\n"), (out, err)
        assert count(erro_dropping(path, "[Errno 28] No space left on device"), d) == 1


def test_ours_full_disk_recovers(binaries, tmp_path):
    """Ours-only: deleting the filler while the child writes: `INFO ... is written again; N bytes
    were dropped` (N > 0) appears, new output lands in the file, and the ERRO line was logged
    only once for the whole episode."""
    with full_disk(binaries, tmp_path) as (d, fs, path):
        fs.view("filler").unlink()
        wait_for(lambda: written_again(d, path), timeout=20, what="the INFO written-again line")
        assert written_again(d, path) > 0
        size = fs.view("ticker.log").stat().st_size
        wait_for(lambda: fs.view("ticker.log").stat().st_size > size, what="new output in the file")
        assert count(erro_dropping(path, "[Errno 28] No space left on device"), d) == 1
        assert_alive(d)
        rc, out, _ = d.ctl("stop", "ticker", timeout=10)
        assert rc == 0


def test_ours_log_directory_removed_and_recreated(binaries, tmp_path):
    """Ours-only: `rm -r` of the log directory while the child writes: `ERRO ... [Errno 2] No
    such file or directory; output is dropped ...`, daemon and child fine; once the directory
    is recreated, output resumes in a new file there and the INFO written-again line appears."""
    make_dirs(tmp_path, "logs", kinds=("ours",))
    logdir = tmp_path / "ours/logs"
    log = logdir / "ticker.log"
    with running(binaries, tmp_path, ticker_body(tmp_path, logdir), kinds=("ours",)) as ds:
        d = ds["ours"]
        wait_for(lambda: log.exists() and len(ticks(log.read_bytes())) >= 2, what="first ticks")
        shutil.rmtree(logdir)
        wait_for(lambda: erro_dropping(log, "[Errno 2] No such file or directory").search(d.mainlog()),
                 timeout=10, what="the ENOENT ERRO line")
        assert_alive(d)
        logdir.mkdir()
        wait_for(lambda: log.exists() and len(ticks(log.read_bytes())) >= 2, timeout=10,
                 what="ticks in a new file in the recreated directory")
        wait_for(lambda: written_again(d, log) is not None, what="the INFO written-again line")
        assert written_again(d, log) > 0
        assert_alive(d)


def test_ours_read_only_filesystem(binaries, tmp_path):
    """Ours-only: the log directory made read-only (a read-only bind mount over the tmpfs, as the
    open file keeps a plain remount from succeeding) and SIGUSR2: the reopen fails with `ERRO
    ... [Errno 30] Read-only file system; output is dropped ...`; made writable again, output
    resumes and the INFO written-again line appears."""
    with Tmpfs(tmp_path / "small") as fs:
        body = ticker_body(tmp_path, fs.path, autostart=False)
        with running(binaries, tmp_path, body, kinds=("ours",), prefix=fs.prefix()) as ds:
            d = ds["ours"]
            fs.attach(d.proc.pid)
            d.rpc().supervisor.startProcess("ticker")
            path = fs.path / "ticker.log"
            wait_for(lambda: len(ticks(fs.view("ticker.log").read_bytes())) >= 2, what="first ticks")
            fs.run("mount", "--bind", str(fs.path), str(fs.path))
            fs.run("mount", "-o", "remount,bind,ro", str(fs.path))
            d.proc.send_signal(signal.SIGUSR2)
            wait_for(lambda: erro_dropping(path, "[Errno 30] Read-only file system").search(d.mainlog()),
                     timeout=10, what="the EROFS ERRO line")
            assert_alive(d)
            fs.run("mount", "-o", "remount,bind,rw", str(fs.path))
            wait_for(lambda: written_again(d, path) is not None, timeout=10, what="the INFO written-again line")
            before = len(ticks(fs.view("ticker.log").read_bytes()))
            wait_for(lambda: len(ticks(fs.view("ticker.log").read_bytes())) > before, what="output resumes")
            assert_alive(d)
            d.ctl("stop", "ticker")


GARBAGE_MAIN = """
import random
rng = random.Random(5)
digest = hashlib.sha256()
total = 0
def out(data):
    global total
    digest.update(data)
    total += len(data)
    emit(1, data, wait=False)
out(b"\\0" * 4096)
for _ in range(1600):  # 100 MiB of garbage, no newline at all
    out(rng.randbytes(1 << 16).replace(b"\\n", b"\\0"))
drained(1)
with open("garbage.sha256", "w") as f:
    f.write("%s %d" % (digest.hexdigest(), total))
"""

GARBAGE_PROGRAM = """
[program:garbage]
command={py} {child}
stdout_logfile=%(here)s/garbage.log
stdout_logfile_maxbytes=0
startsecs=0
autorestart=false
"""


def test_ours_binary_flood_bounded_memory(binaries, tmp_path):
    """Ours-only: a child writing NUL bytes and 100 MiB of binary garbage with no newline at full
    speed: the daemon stays up, its VmRSS stays under 64 MiB, and the file holds exactly the
    bytes written (sha256 computed by the child)."""
    body = program(GARBAGE_PROGRAM, write_child(tmp_path, "garbage", GARBAGE_MAIN))
    with running(binaries, tmp_path, body, kinds=("ours",)) as ds:
        d = ds["ours"]
        peak = 0

        def done():
            nonlocal peak
            with open(f"/proc/{d.proc.pid}/status") as f:
                rss = int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))
            peak = max(peak, rss)
            return d.state_of("garbage") in ("EXITED", "FATAL", "BACKOFF")
        wait_for(done, timeout=120, what="garbage to finish")
        run_to_exit(d, "garbage")
        assert peak < 64 << 10, f"daemon VmRSS peaked at {peak} kB"
        digest, total = (d.tmp / "garbage.sha256").read_text().split()
        data = (d.tmp / "garbage.log").read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (int(total), digest)
        del data
        (d.tmp / "garbage.log").unlink()
        assert d.proc.poll() is None and d.rpc().supervisor.getState()["statename"] == "RUNNING"


# --- 10. syslog ---------------------------------------------------------------------------------

SYSLOG_CHUNKS = [(1, b"one line\n"), (1, b"two\nthree\n"), (1, b"no newline"), (1, b"\n"),
                 (1, b"a\n\nb\n"), (1, "\u00fcn\u00ef \u2713\n".encode()), (2, b"err via syslog\n")]

SYSLOG_MAIN = """
for fd, data in SYSLOG_CHUNKS:
    emit(fd, data)
"""

SYSLOG_PROGRAM = """
[program:sl]
command={py} {child}
stdout_syslog=true
stderr_syslog=true
stdout_logfile=%(here)s/sl.out
stderr_logfile=NONE
startsecs=0
autorestart=false
"""

# Runs the daemon in a private mount namespace whose /dev is a fresh tmpfs with the usual
# nodes bound in and /dev/log a symlink to the test's datagram socket.
PRIVATE_DEV = r'''
set -e
d="$1"; shift
mkdir -p "$d/olddev"
mount --rbind /dev "$d/olddev"
mount -t tmpfs -o mode=755 tmpfs /dev
for n in null zero full random urandom tty; do
  if [ -e "$d/olddev/$n" ]; then touch "/dev/$n"; mount --bind "$d/olddev/$n" "/dev/$n"; fi
done
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
ln -s "$d/log.sock" /dev/log
exec "$@"
'''

SYSLOG_LINE = re.compile(r"^<(\d+)>(\w{3} [ \d]\d \d\d:\d\d:\d\d) ([^:\[ ]*)(?:\[\d+\])?: (.*)$", re.S)


def private_dev_prefix(tmp):
    unshare = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-Urm"]
    r = subprocess.run(unshare + ["sh", "-c", "mount -t tmpfs tmpfs /dev && [ ! -e /dev/null ]"],
                       capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"no private mount namespace to put a test socket at /dev/log: {r.stderr.strip()}")
    return unshare + ["sh", "-c", PRIVATE_DEV, "sh", str(tmp)]


def test_syslog_messages_match(binaries, tmp_path):
    """stdout_syslog/stderr_syslog and `logfile=syslog`: both daemons send the same syslog
    messages (ident and time masked): `sl <line>` per line of each chunk at LOG_INFO|LOG_USER,
    and the main log's records (`<asctime> LEVEL message\\n`) for the process events."""
    body = program(SYSLOG_PROGRAM, write_child(tmp_path, "sl", SYSLOG_MAIN, SYSLOG_CHUNKS=SYSLOG_CHUNKS))
    got, sockets, threads, done = {kind: [] for kind in KINDS}, {}, [], threading.Event()

    def pump(s, out):
        while not done.is_set():
            try:
                out.append(s.recv(65536).decode("utf-8", "replace"))
            except socket.timeout:
                pass
    try:
        for kind in KINDS:
            tmp = tmp_path / kind
            tmp.mkdir()
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.bind(str(tmp / "log.sock"))
            s.settimeout(0.1)
            sockets[kind] = s
            threads.append(threading.Thread(target=pump, args=(s, got[kind]), daemon=True))
            threads[-1].start()
        daemons = {}
        try:
            for kind in KINDS:
                daemons[kind] = Sup(kind, body, tmp_path / kind, binary=binaries["supervisord"],
                                    prefix=private_dev_prefix(tmp_path / kind), main_logfile="syslog").start()
            for kind, d in daemons.items():
                run_to_exit(d, "sl")
                # `exited:` is logged after the last output was read and sent
                wait_for(lambda: any("exited: sl" in m for m in got[kind]), what=f"exited: via syslog ({kind})")
        finally:
            for d in daemons.values():
                d.stop()
    finally:
        done.set()
        for t in threads:
            t.join()
        for s in sockets.values():
            s.close()

    def parse(kind):
        child_lines, events = [], []
        for raw in got[kind]:
            m = SYSLOG_LINE.match(raw)
            assert m, (kind, raw)
            priority, message = int(m.group(1)), m.group(4)
            if message.startswith("sl "):
                child_lines.append((priority, message))
            else:
                text = re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", "<asctime> ", message)
                if any(k in text for k in ("spawned:", "success:", "exited:")):
                    events.append((priority, normalize(text)))
        return child_lines, events

    def per_channel(lines):
        # stdout lines in order; the stderr line comes from another pipe, so its position
        # relative to them is up to the daemon's scheduling
        err = (14, "sl err via syslog")
        return [m for m in lines if m != err], lines.count(err)

    py, ours = parse("python"), parse("ours")
    expected = [(14, "sl " + line) for fd, c in SYSLOG_CHUNKS
                for line in c.decode().rstrip("\n").split("\n")]
    assert per_channel(py[0]) == per_channel(expected)
    assert (per_channel(ours[0]), sorted(ours[1])) == (per_channel(py[0]), sorted(py[1]))
    assert any("spawned: 'sl'" in text for _, text in py[1])
