"""Differential tests for `supervisor::logs` (through the probe's `logs` mode) against the pinned
supervisor 4.3.0: `loggers.FileHandler`/`RotatingFileHandler` as child logs use them,
`options.readFile`/`options.tailFile`, the main-log line format of `loggers.Logger`, the
SIGUSR2 reopen and `rpcinterface.clearLog`.

Every comparison is exact; the bar is zero mismatches. Known, deliberate differences are kept
out of the random inputs and listed here:
- negative `*_logfile_maxbytes`: Python opens the file in text mode and then fails to write
  child bytes to it (a traceback per chunk, nothing logged); we log normally without rotation.
- very large read lengths: Python allocates the requested length up front (MemoryError -> HTTP
  500); we return what the file holds.
- `tailFile` decodes strictly (non-UTF-8 -> HTTP 500, GOT-24); the comparison is on bytes, and
  decoding is compared separately against `bytes.decode('utf-8', 'replace')`.

Set LOGS_SEED / LOGS_SCALE to explore further.
"""
import io
import json
import os
import random
import re
import subprocess
import time
import types

import pytest

from supervisor import loggers
from supervisor import options as sup_options
from supervisor.options import ServerOptions
from supervisor.rpcinterface import SupervisorNamespaceRPCInterface
from supervisor.xmlrpc import Faults, RPCError

SEED = int(os.environ.get("LOGS_SEED", "20240611"))
SCALE = int(os.environ.get("LOGS_SCALE", "1"))

LEVELS = [3, 5, 10, 20, 30, 40, 50]
LEVEL_METHOD = {3: "blather", 5: "trace", 10: "debug", 20: "info", 30: "warn", 40: "error",
                50: "critical"}
FAULT_NAMES = {v: k for k, v in vars(Faults).items() if not k.startswith("_")}


def logs(probe, op, **kw):
    return probe.call({"mode": "logs", "op": op, **kw})


def snapshot(directory):
    """Every file in `directory` with its bytes."""
    return {name: open(os.path.join(directory, name), "rb").read()
            for name in sorted(os.listdir(directory))}


# --- child log files: RotatingFileHandler / FileHandler -------------------------------------

def python_logfile(path, maxbytes, backups, ops):
    """The handler supervisor's dispatcher builds (`_init_normallog`), fed the same ops."""
    logger = loggers.getLogger(loggers.LevelsByName.INFO)
    loggers.handle_file(logger, filename=path, fmt="%(message)s", rotating=not not maxbytes,
                        maxbytes=maxbytes, backups=backups)
    handler = logger.handlers[0]
    results = []
    for op in ops:
        try:
            if op[0] == "write":
                logger.info(bytes.fromhex(op[1]))
            elif op[0] == "reopen":
                handler.reopen()
            elif op[0] == "remove":
                # dispatcher.removelogs: remove() then reopen()
                handler.remove()
                handler.reopen()
            elif op[0] == "unlink":
                try:
                    os.remove(path + op[1])
                except OSError:
                    pass
            results.append(None)
        except OSError as e:
            results.append(str(e))
    handler.close()
    return results


def random_logfile_run(rng):
    maxbytes = rng.choice([0, 0, 1, 2, 7, 10, 32, 64, 100, 150, 256, 1000])
    backups = rng.choice([-1, 0, 0, 1, 2, 3, 5, 9])
    pre = {}
    if rng.random() < 0.4:
        pre[""] = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 2 * maxbytes + 5)))
    for i in range(1, 5):
        if rng.random() < 0.25:
            pre[".%d" % i] = b"backup %d\n" % i
    ops = []
    for _ in range(rng.randrange(20, 80)):
        r = rng.random()
        if r < 0.85:
            size = rng.choice([0, 1, 1, 2, 3, 5, 8, 13, 40, rng.randrange(0, 300)])
            ops.append(["write", bytes(rng.randrange(256) for _ in range(size)).hex()])
        elif r < 0.91:
            ops.append(["reopen"])
        elif r < 0.96:
            ops.append(["remove"])
        else:
            ops.append(["unlink", rng.choice(["", ".1", ".2", ".3"])])
    return maxbytes, backups, pre, ops


def test_logfile_rotation_differential(probe, tmp_path):
    rng = random.Random(SEED)
    total_ops = 0
    mismatches = []
    for run in range(80 * SCALE):
        maxbytes, backups, pre, ops = random_logfile_run(rng)
        dirs = {}
        for side in ("py", "rs"):
            d = tmp_path / ("%s%d" % (side, run))
            d.mkdir()
            for suffix, data in pre.items():
                (d / ("child.log" + suffix)).write_bytes(data)
            dirs[side] = d
        py = python_logfile(str(dirs["py"] / "child.log"), maxbytes, backups, ops)
        rs = logs(probe, "logfile", path=str(dirs["rs"] / "child.log"), maxbytes=maxbytes,
                  backups=backups, ops=ops)["results"]
        total_ops += len(ops)
        if py != rs or snapshot(dirs["py"]) != snapshot(dirs["rs"]):
            mismatches.append((run, maxbytes, backups, py, rs))
    assert total_ops > 3000 * SCALE
    assert mismatches == []


def test_logfile_to_unseekable_target(probe, tmp_path):
    """A pipe behind the path: no rotation, no error, every byte through (Python 3.11 also
    opens pipes in append mode; with maxbytes>0 it would raise 'Illegal seek' from emit)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        reply = logs(probe, "logfile", path=str(fifo), maxbytes=1, backups=2,
                     ops=[["write", b"abc".hex()], ["write", b"def".hex()], ["reopen"],
                          ["write", b"g".hex()]])
        assert reply == {"results": [None, None, None, None]}
        assert os.read(reader, 100) == b"abcdefg"
        assert sorted(os.listdir(tmp_path)) == ["fifo"]
    finally:
        os.close(reader)


def test_logfile_open_error(probe, tmp_path):
    reply = logs(probe, "logfile", path=str(tmp_path / "no" / "x.log"), maxbytes=0, backups=0,
                 ops=[])
    assert "open_error" in reply
    with pytest.raises(OSError):
        loggers.FileHandler(str(tmp_path / "no" / "x.log"))


# --- readFile / tailFile ----------------------------------------------------------------------

def offsets(rng, size):
    pool = [0, 1, -1, size, size - 1, size + 1, -size, -size - 1, -size + 1, 2 ** 31, -2 ** 31,
            2 ** 62, -2 ** 62, 2 ** 63 - 1, -2 ** 63]
    return rng.choice(pool) if rng.random() < 0.3 else rng.randrange(-2 * size - 5, 2 * size + 5)


def lengths(rng, size):
    pool = [0, 0, 1, -1, size, size + 1, -2 ** 31, -2 ** 63]
    return rng.choice(pool) if rng.random() < 0.3 else rng.randrange(-size - 5, 2 * size + 5)


def python_reads_huge(offset, length):
    return (offset < 0 and length == 0 and -offset >= 2 ** 32) or length >= 2 ** 32


def py_read(path, offset, length):
    try:
        return {"ok": sup_options.readFile(path, offset, length).hex()}
    except ValueError as e:
        return {"error": e.args[0]}


def py_tail(path, offset, length):
    """`rpcinterface._tailProcessLog` minus the name lookup, with tailFile's strict decode
    taken out so arbitrary bytes compare."""
    if not os.path.exists(path):
        return ["", 0, False]
    orig = sup_options.as_string
    sup_options.as_string = lambda b: b
    try:
        data, offset, overflow = sup_options.tailFile(path, offset, length)
    finally:
        sup_options.as_string = orig
    return [data.hex() if isinstance(data, bytes) else data, offset, overflow]


def test_read_and_tail_differential(probe, tmp_path):
    rng = random.Random(SEED + 1)
    cases_done = 0
    read_mismatches, tail_mismatches = [], []
    for i in range(30 * SCALE):
        size = rng.choice([0, 1, 2, 5, 12, 100, rng.randrange(0, 2000)])
        path = str(tmp_path / ("f%d.log" % i))
        with open(path, "wb") as f:
            f.write(bytes(rng.randrange(256) for _ in range(size)))
        cases = [[offsets(rng, size), lengths(rng, size)] for _ in range(100)]
        # Python allocates the read size up front (MemoryError / OverflowError past a few
        # GiB, an HTTP 500); keep those cases out.
        cases = [[o, l] for o, l in cases if not python_reads_huge(o, l)]
        rs = logs(probe, "read_file", path=path, cases=cases)["results"]
        for (o, l), got in zip(cases, rs):
            want = py_read(path, o, l)
            if want != got:
                read_mismatches.append((size, o, l, want, got))
        tail_cases = [[o, l] for o, l in cases if l >= 0 or rng.random() < 0.5]
        rs = logs(probe, "tail_file", path=path, cases=tail_cases)["results"]
        for (o, l), got in zip(tail_cases, rs):
            want = py_tail(path, o, l)
            if want != got:
                tail_mismatches.append((size, o, l, want, got))
        cases_done += len(cases) + len(tail_cases)
    assert cases_done > 4000 * SCALE, cases_done
    assert read_mismatches == []
    assert tail_mismatches == []


def test_read_and_tail_of_missing_file_and_directory(probe, tmp_path):
    cases = [[0, 0], [-5, 0], [-5, 1], [0, -1], [3, 4]]
    for path in (str(tmp_path / "missing.log"), str(tmp_path)):
        assert logs(probe, "read_file", path=path, cases=cases)["results"] == \
            [py_read(path, o, l) for o, l in cases]
        got = logs(probe, "tail_file", path=path, cases=cases)["results"]
        assert got == [py_tail(path, o, l) for o, l in cases]
    # the directory exists, so tailFile's own error answer (the offset it was given) shows
    assert logs(probe, "tail_file", path=str(tmp_path), cases=[[7, 5]])["results"] == \
        [["", 7, False]]


def test_surface_tail_examples(probe, tmp_path):
    path = tmp_path / "twelve.log"
    path.write_bytes(b"0123456789AB")
    got = logs(probe, "tail_file", path=str(path), cases=[[0, 5], [50, 100]])["results"]
    assert got == [[b"789AB".hex(), 12, True], ["", 12, False]]


def test_decode_for_rpc_matches_lenient_python_decode(probe):
    rng = random.Random(SEED + 2)
    samples = [b"", b"plain", "h\u00e9llo \u20ac \U0001F600".encode(), b"\xff", b"\xe2\x82",
               b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"a\xf0\x9f\x98"]
    alphabet = [b"a", b"\n", b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80", b"\x80", b"\xbf",
                b"\xc3", b"\xe2\x82", b"\xf0\x9f", b"\xff", b"\xed\xa0\x80", b"\xf8", b"\xc1"]
    for _ in range(500 * SCALE):
        samples.append(b"".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12))))
        samples.append(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 10))))
    got = logs(probe, "decode", cases=[s.hex() for s in samples])["results"]
    want = [s.decode("utf-8", "replace") for s in samples]
    assert [(s, g, w) for s, g, w in zip(samples, got, want) if g != w] == []


# --- main log line format ----------------------------------------------------------------------

TZS = ["UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/London",
       "Pacific/Chatham", "EST5EDT,M3.2.0,M11.1.0"]


class TzProbe:
    """A second probe process with its own TZ, since the time zone is per process."""

    def __init__(self, path, tz):
        env = dict(os.environ, TZ=tz)
        self.proc = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, encoding="utf-8", env=env)

    def call(self, request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def python_lines(cases, monkeypatch):
    """Each case through a real Handler.emit with the record's clock pinned."""
    out = []
    for level, msg, epoch in cases:
        shim = types.SimpleNamespace(time=lambda epoch=epoch: epoch, strftime=time.strftime,
                                     localtime=time.localtime)
        monkeypatch.setattr(loggers, "time", shim)
        stream = io.BytesIO()
        handler = loggers.StreamHandler(stream)
        handler.setFormat("%(asctime)s %(levelname)s %(message)s\n")
        handler.emit(loggers.LogRecord(level, msg))
        out.append(stream.getvalue().decode("utf-8"))
    monkeypatch.undo()
    return out


def random_message(rng):
    parts = ["plain", "%", "%s", "%(name)s", "%%", "\n", "\n\n", " ", "\u00e9", "\u20ac",
             "\U0001F600", "\t", "\r", "'quoted'", "100%", "\\n", "x" * 50]
    return "".join(rng.choice(parts) for _ in range(rng.randrange(0, 8)))


def random_epoch(rng):
    r = rng.random()
    if r < 0.3:
        base = rng.randrange(0, 2 ** 31)
        return base + rng.choice([0.0, 0.001, 0.0005, 0.9995, 0.999, 0.9999999, 0.5, 0.123456])
    if r < 0.5:
        # around DST changes and year ends, 1970..2100
        year = rng.randrange(1971, 2100)
        month = rng.choice([1, 3, 4, 10, 11, 12])
        t = (year - 1970) * 365.2425 * 86400 + (month - 1) * 30.44 * 86400
        return float(int(t) + rng.randrange(-40 * 86400, 40 * 86400)) + rng.random()
    if r < 0.55:
        return float(rng.randrange(0, 2 ** 34))
    return rng.uniform(0, 2 ** 32)


def test_format_line_differential(probe, monkeypatch):
    rng = random.Random(SEED + 3)
    binary = probe.proc.args[0]
    saved_tz = os.environ.get("TZ")
    mismatches = []
    total = 0
    try:
        for tz in TZS:
            os.environ["TZ"] = tz
            time.tzset()
            cases = [[rng.choice(LEVELS), random_message(rng), random_epoch(rng)]
                     for _ in range(400 * SCALE)]
            tzprobe = TzProbe(binary, tz)
            try:
                exact = [[lv, m, repr(t)] for lv, m, t in cases]
                got = tzprobe.call({"mode": "logs", "op": "format_line", "cases": exact})["results"]
            finally:
                tzprobe.close()
            want = python_lines(cases, monkeypatch)
            mismatches += [(tz, c, g, w) for c, g, w in zip(cases, got, want) if g != w]
            total += len(cases)
    finally:
        if saved_tz is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved_tz
        time.tzset()
    assert total >= 2800 * SCALE
    assert mismatches == []


def test_syslog_line_split(probe):
    messages = ["", "a", "a\n", "a\n\n", "\n", "\n\na", "a\nb", "a\r\nb\n", "x\n\ny\n\n\n"]
    got = logs(probe, "syslog_lines", cases=messages)["results"]
    assert got == [m.rstrip("\n").split("\n") for m in messages]


# --- main logger: levels, rotation, reopen, clearLog -------------------------------------------

STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?=(CRIT|ERRO|WARN|INFO|DEBG|TRAC|BLAT) )",
                   re.M)


def normalized(directory):
    return {k: STAMP.sub("<T> ", v.decode("utf-8")) for k, v in snapshot(directory).items()}


class FakeOptions:
    exists = staticmethod(os.path.exists)
    remove = staticmethod(os.remove)
    reopenlogs = ServerOptions.reopenlogs
    mood = 1  # RUNNING

    def __init__(self, logger, logfile):
        self.logger = logger
        self.logfile = logfile


def python_mainlog(level, files, ops):
    """`options.make_logger` (minus stdout) plus the SIGUSR2 and clearLog paths."""
    fmt = "%(asctime)s %(levelname)s %(message)s\n"
    logger = loggers.getLogger(level)
    for path, maxbytes, backups in files:
        loggers.handle_file(logger, path, fmt, rotating=not not maxbytes, maxbytes=maxbytes,
                            backups=backups)
    opts = FakeOptions(logger, files[0][0] if files else None)
    rpc = SupervisorNamespaceRPCInterface(types.SimpleNamespace(options=opts))
    results = []
    for op in ops:
        if op[0] == "log":
            getattr(logger, LEVEL_METHOD[op[1]])(op[2])
            results.append(None)
        elif op[0] == "reopen":
            opts.reopenlogs()
            results.append(None)
        elif op[0] == "clear":
            try:
                rpc.clearLog()
                results.append("ok")
            except RPCError as e:
                results.append(FAULT_NAMES[e.code])
        elif op[0] == "set_level":
            logger.level = op[1]
            for h in logger.handlers:
                h.level = op[1]
            results.append(None)
        elif op[0] == "logfile":
            results.append(opts.logfile)
    logger.close()
    return results


def test_mainlog_differential(probe, tmp_path):
    rng = random.Random(SEED + 4)
    mismatches = []
    total = 0
    for run in range(40 * SCALE):
        level = rng.choice(LEVELS)
        maxbytes = rng.choice([0, 0, 30, 60, 100, 200, 500])
        backups = rng.choice([0, 1, 2, 4])
        with_file = rng.random() < 0.9
        ops = []
        for _ in range(rng.randrange(10, 60)):
            r = rng.random()
            if r < 0.8:
                ops.append(["log", rng.choice(LEVELS), random_message(rng)])
            elif r < 0.87:
                ops.append(["reopen"])
            elif r < 0.94:
                ops.append(["clear"])
            elif r < 0.97:
                ops.append(["set_level", rng.choice(LEVELS)])
            else:
                ops.append(["logfile"])
        results = {}
        for side in ("py", "rs"):
            d = tmp_path / ("%s%d" % (side, run))
            d.mkdir()
            files = [[str(d / "supervisord.log"), maxbytes, backups]] if with_file else []
            if side == "py":
                results[side] = python_mainlog(level, files, ops)
            else:
                results[side] = logs(probe, "mainlog", level=level, files=files, ops=ops)["results"]
        # the logfile answer holds the side's own directory
        for side in results:
            results[side] = [os.path.basename(r) if isinstance(r, str) and "/" in r else r
                             for r in results[side]]
        total += len(ops)
        if results["py"] != results["rs"] or \
                normalized(tmp_path / ("py%d" % run)) != normalized(tmp_path / ("rs%d" % run)):
            mismatches.append((run, level, maxbytes, backups, results))
    assert total > 1000 * SCALE
    assert mismatches == []


def test_clear_of_a_vanished_main_log(probe, tmp_path):
    path = str(tmp_path / "supervisord.log")
    ops = [["log", 20, "one"], ["clear"], ["log", 20, "two"]]
    reply = logs(probe, "mainlog", level=20, files=[[path, 0, 0]],
                 ops=[["log", 20, "one"]] + [["clear"]])
    assert reply["results"] == [None, "ok"]
    os.remove(path)
    reply = logs(probe, "mainlog", level=20, files=[[path, 0, 0]], ops=ops)
    # the handler recreated the file on open; clearing it works, and only 'two' remains
    assert reply["results"] == [None, "ok", None]
    assert STAMP.sub("<T> ", open(path).read()) == "<T> INFO two\n"
