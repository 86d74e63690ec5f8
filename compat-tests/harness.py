"""Running daemons side by side: Python supervisord 4.3.0 and ours, each on the same config in
its own temp directory, driven with the real Python supervisorctl and xmlrpc.client.

Nothing here sleeps and hopes: every wait polls for a condition with a deadline."""
import os
import pathlib
import re
import signal
import subprocess
import sys
import time
import xmlrpc.client

from supervisor import childutils
from supervisor.xmlrpc import SupervisorTransport

ROOT = pathlib.Path(__file__).resolve().parent.parent

HEADER = """\
[unix_http_server]
file={tmp}/supervisor.sock

[supervisord]
logfile={tmp}/supervisord.log
pidfile={tmp}/supervisord.pid
childlogdir={tmp}
loglevel={loglevel}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{tmp}/supervisor.sock

"""


def free_port():
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=15.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def follow(args, cwd=None):
    """Starts a streaming supervisorctl (`tail -f`, `maintail -f`) and returns it with a
    `next_line(timeout)` reader that gives up at a deadline instead of blocking forever."""
    import queue
    import threading
    p = subprocess.Popen([sys.executable, "-m", "supervisor.supervisorctl", *args], stdout=subprocess.PIPE,
                         text=True, cwd=cwd)
    lines = queue.Queue()

    def pump():
        for line in p.stdout:
            lines.put(line)
        lines.put(None)
    threading.Thread(target=pump, daemon=True).start()

    def next_line(timeout=15.0):
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no output from {args} within {timeout}s")
        if line is None:
            raise AssertionError(f"{args} exited with {p.wait()}")
        return line

    def wait_line(predicate, timeout=15.0):
        deadline = time.monotonic() + timeout
        while True:
            line = next_line(max(0.01, deadline - time.monotonic()))
            if predicate(line):
                return line

    p.next_line, p.wait_line = next_line, wait_line
    return p


class Daemon:
    def __init__(self, kind, body, tmp, binary=None, loglevel="info", prefix=()):
        self.kind = kind
        self.prefix = list(prefix)
        self.tmp = pathlib.Path(tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.conf = self.tmp / "supervisord.conf"
        self.conf.write_text((HEADER + body).replace("{tmp}", str(self.tmp)).replace("{loglevel}", loglevel))
        self.binary = binary
        self.proc = None

    def command(self):
        if self.kind == "python":
            return self.prefix + [sys.executable, "-m", "supervisor.supervisord", "-n", "-c", str(self.conf)]
        return self.prefix + [str(self.binary), "-n", "-c", str(self.conf)]

    def start(self):
        self.log = open(self.tmp / "stdout.txt", "wb")
        self.proc = subprocess.Popen(self.command(), stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=self.tmp)
        return self.wait_up()

    def wait_up(self):
        """Polls until the daemon answers getState with RUNNING (fails if it exits)."""
        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.kind} supervisord exited: {self.output()}")
            try:
                return self.rpc().supervisor.getState()["statename"] == "RUNNING"
            except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
                return False
        wait_for(up, what=f"{self.kind} supervisord to answer")
        return self

    def output(self):
        return (self.tmp / "stdout.txt").read_text(errors="replace")

    def mainlog(self):
        path = self.tmp / "supervisord.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def rpc(self):
        transport = SupervisorTransport(None, None, f"unix://{self.tmp}/supervisor.sock")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    def ctl(self, *args, timeout=60):
        r = subprocess.run([sys.executable, "-m", "supervisor.supervisorctl", "-c", str(self.conf), *args],
                           capture_output=True, text=True, timeout=timeout, cwd=self.tmp)
        return r.returncode, r.stdout, r.stderr

    def state_of(self, name):
        return self.rpc().supervisor.getProcessInfo(name)["statename"]

    def wait_state(self, name, *states, timeout=15.0):
        return wait_for(lambda: self.state_of(name) in states, timeout=timeout,
                        what=f"{name} in {states} ({self.kind})")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()


def normalize(text, daemon=None):
    """Masks what legitimately differs between two runs: pids, uptimes, times, temp paths."""
    if daemon is not None:
        text = text.replace(str(daemon.tmp), "<tmp>")
    text = re.sub(r"pid \d+", "pid N", text)
    text = re.sub(r"uptime \d+:\d\d:\d\d", "uptime H:MM:SS", text)
    text = re.sub(r"\w{3} \d\d \d\d:\d\d [AP]M", "<time>", text)
    text = re.sub(r"---supervisor-[a-z0-9_]{8}\.log", "---supervisor-XXXXXXXX.log", text)
    return text


def normalize_value(value, daemon=None):
    """The same masking for XML-RPC results."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in ("pid", "start", "stop", "now") and isinstance(v, int) and v:
                v = "N"
            out[k] = normalize_value(v, daemon)
        return out
    if isinstance(value, list):
        return [normalize_value(v, daemon) for v in value]
    if isinstance(value, str):
        return normalize(value, daemon)
    return value
