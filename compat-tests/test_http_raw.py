"""The HTTP layer on the wire: the same raw requests go to a real Python supervisord 4.3.0 and
to our HTTP servers, and the raw replies must be byte-identical except the `Date` and
`Last-Modified` values.

Our side is the `compat_server` test in tests/it/http.rs, run with SUPERVISOR_HTTP_COMPAT_DIR:
it serves the same files (a process log and the main log of the Python daemon) with a fake
backend that answers `supervisor.getAPIVersion` with the XML Python sends. Where we differ on
purpose (Python answers 500 for bad auth or path input, keeps a refused connection open, or
buffers HTTP/1.0 log tails), the test pins both behaviours."""
import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import time

import pytest

from harness import free_port

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHA_OF_TEST = "{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"
GOOD_AUTH = "Authorization: Basic dXNlcjp0ZXN0\r\n"  # user:test
RPC_BODY = ("<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getAPIVersion"
            "</methodName>\n<params>\n</params>\n</methodCall>\n")

CONF = """\
[supervisord]
logfile={d}/main.log
pidfile={d}/supervisord.pid
loglevel=info

[unix_http_server]
file={d}/py.sock

[inet_http_server]
port=127.0.0.1:{auth_port}
username=user
password={sha}

[inet_http_server:noauth]
port=127.0.0.1:{noauth_port}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[program:cat]
command=/bin/cat
autostart=false
stdout_logfile={d}/cat.log
"""



def wait_for(predicate, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def connectable(addr):
    family = socket.AF_UNIX if isinstance(addr, str) else socket.AF_INET
    try:
        with socket.socket(family) as s:
            s.connect(addr)
        return True
    except OSError:
        return False


def rust_test_binary():
    out = subprocess.run(
        ["cargo", "test", "--test", "it", "--no-run", "--message-format=json"],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if (msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "it"
                and msg.get("executable")):
            return msg["executable"]
    raise AssertionError("no test binary for tests/it")


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    d = tmp_path_factory.mktemp("http")
    (d / "cat.log").write_bytes(bytes(b"abcdefghijklmnopqrstuvwxy\n"[i % 26] for i in range(2000)))
    auth_port, noauth_port = free_port(), free_port()
    conf = d / "supervisord.conf"
    conf.write_text(CONF.format(d=d, auth_port=auth_port, noauth_port=noauth_port, sha=SHA_OF_TEST))
    venv_sd = ROOT / ".venv" / "bin" / "supervisord"
    cmd = ([str(venv_sd)] if venv_sd.exists() else
           [sys.executable, "-c", "from supervisor.supervisord import main; main()"])
    py = subprocess.Popen(cmd + ["-n", "-c", str(conf)], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    rs = subprocess.Popen(
        [rust_test_binary(), "http::compat_server", "--exact", "--nocapture", "--test-threads=1"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True, env={**os.environ, "SUPERVISOR_HTTP_COMPAT_DIR": str(d)})
    try:
        rs_ports = None
        # libtest may print "test ... " on the same line first.
        for line in rs.stdout:
            if "COMPAT-SERVER " in line:
                rs_ports = [int(p) for p in line.split("COMPAT-SERVER ", 1)[1].split()]
                break
        assert rs_ports, "compat_server did not start"
        py_ends = {"unix": str(d / "py.sock"), "auth": ("127.0.0.1", auth_port),
                   "noauth": ("127.0.0.1", noauth_port)}
        rs_ends = {"unix": str(d / "rust.sock"), "auth": ("127.0.0.1", rs_ports[0]),
                   "noauth": ("127.0.0.1", rs_ports[1])}
        for addr in list(py_ends.values()) + list(rs_ends.values()):
            wait_for(lambda: connectable(addr), f"a server at {addr}")
        # The main log must be complete before both sides tail it.
        wait_for(lambda: b"supervisord started" in (d / "main.log").read_bytes(), "startup")
        yield {"python": py_ends, "rust": rs_ends, "dir": d}
    finally:
        py.terminate()
        rs.stdin.close()
        py.wait(timeout=20)
        rs.wait(timeout=20)


class Conn:
    def __init__(self, addr):
        family = socket.AF_UNIX if isinstance(addr, str) else socket.AF_INET
        self.s = socket.socket(family)
        self.s.settimeout(5)
        self.s.connect(addr)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data.encode("latin-1") if isinstance(data, str) else data)

    def _fill(self):
        data = self.s.recv(65536)
        self.buf += data
        return bool(data)

    def reply(self, first_chunk_only=False):
        """One reply: head plus a Content-Length body, the first chunk of a chunked stream,
        or everything until EOF."""
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                out, self.buf = self.buf, b""
                return out
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        self.buf = rest
        lower = head.lower()
        m = re.search(rb"\r\ncontent-length: (\d+)", lower)
        if m:
            n = int(m.group(1))
            while len(self.buf) < n:
                if not self._fill():
                    break
            body, self.buf = self.buf[:n], self.buf[n:]
            return head + b"\r\n\r\n" + body
        if b"\r\ntransfer-encoding: chunked" in lower:
            assert first_chunk_only
            while not re.match(rb"[0-9a-f]+\r\n", self.buf) or len(self.buf) < (
                    int(self.buf.split(b"\r\n")[0], 16) + len(self.buf.split(b"\r\n")[0]) + 4):
                if not self._fill():
                    break
            return head + b"\r\n\r\n" + self.buf
        while self._fill():
            pass
        out, self.buf = head + b"\r\n\r\n" + self.buf, b""
        return out

    def closed(self, wait=0.5):
        """True when the server has closed its end (EOF within `wait`)."""
        self.s.settimeout(wait)
        try:
            return self.s.recv(1) == b""
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def within(self, wait):
        self.s.settimeout(wait)
        out = b""
        try:
            while True:
                data = self.s.recv(65536)
                if not data:
                    break
                out += data
        except socket.timeout:
            pass
        return out

    def close(self):
        self.s.close()


def normalize(raw):
    return re.sub(rb"(\r\n(?:Date|Last-Modified): )[^\r]*", rb"\1<date>", raw)


def post(path, body, extra="", version="1.1"):
    return f"POST {path} HTTP/{version}\r\nContent-Length: {len(body)}\r\n{extra}\r\n{body}"


def both(servers, where, request, replies=1, first_chunk_only=False, check_close=False):
    """Send `request` to each side; return {side: (normalized replies, closed?)}."""
    out = {}
    for side in ("python", "rust"):
        c = Conn(servers[side][where])
        try:
            c.send(request)
            got = [normalize(c.reply(first_chunk_only)) for _ in range(replies)]
            out[side] = (got, c.closed() if check_close else None)
        finally:
            c.close()
    return out


SAME = [
    ("404", "unix", "GET /foo HTTP/1.1\r\n\r\n", {}),
    ("404 http/1.0", "unix", "GET /foo HTTP/1.0\r\n\r\n", {"check_close": True}),
    ("404 no version", "unix", "GET /foo\r\n\r\n", {"check_close": True}),
    ("404 1.0 keep-alive", "unix", "GET /foo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", {}),
    ("404 1.1 close", "unix", "GET /foo HTTP/1.1\r\nConnection: close\r\n\r\n",
     {"check_close": True}),
    ("GET /RPC2", "unix", "GET /RPC2 HTTP/1.1\r\n\r\n", {}),
    ("HEAD /RPC2", "unix", "HEAD /RPC2 HTTP/1.1\r\n\r\n", {}),
    ("lowercase post", "unix", "post /RPC2 HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", {}),
    ("411", "unix", "POST /RPC2 HTTP/1.1\r\n\r\n", {}),
    ("411 no space", "unix", "POST /RPC2 HTTP/1.1\r\ncontent-length:3\r\n\r\n", {}),
    ("bad content-length", "unix", "POST /RPC2 HTTP/1.1\r\nContent-Length: abc\r\n\r\n", {}),
    ("rpc", "unix", post("/RPC2", RPC_BODY), {}),
    ("rpc http/1.0", "unix", post("/RPC2", RPC_BODY, version="1.0"), {"check_close": True}),
    ("rpc percent path", "unix", post("/%52PC2?x=1", RPC_BODY), {}),
    ("rpc inet", "noauth", post("/RPC2", RPC_BODY), {}),
    ("keep-alive pipelined", "unix",
     post("/RPC2", RPC_BODY) + "GET /foo HTTP/1.1\r\n\r\n", {"replies": 2}),
    ("401 missing", "auth", post("/RPC2", RPC_BODY), {}),
    ("401 wrong password", "auth",
     post("/RPC2", RPC_BODY, "Authorization: Basic dXNlcjp3cm9uZw==\r\n"), {}),
    ("401 bearer", "auth", post("/RPC2", RPC_BODY, "Authorization: Bearer xyz\r\n"), {}),
    ("401 two spaces", "auth", "GET /foo HTTP/1.1\r\nAuthorization:  Basic dXNlcjp0ZXN0\r\n\r\n",
     {}),
    ("400 bad padding", "auth", post("/RPC2", RPC_BODY, "Authorization: Basic abc\r\n"), {}),
    ("400 not utf-8", "auth", post("/RPC2", RPC_BODY, "Authorization: Basic //79\r\n"), {}),
    ("auth ok rpc", "auth", post("/RPC2", RPC_BODY, GOOD_AUTH), {}),
    ("auth ok lowercase scheme", "auth",
     post("/RPC2", RPC_BODY, "authorization: basic dXNlcjp0ZXN0\r\n"), {}),
    ("auth ok 404", "auth", f"GET /foo HTTP/1.1\r\n{GOOD_AUTH}\r\n", {}),
    ("ok.html", "unix", "GET /ok.html HTTP/1.1\r\n\r\n", {}),
    ("ok.html post without length", "unix", "POST /ok.html HTTP/1.1\r\n\r\n", {}),
    ("DELETE", "unix", "DELETE /foo HTTP/1.1\r\n\r\n", {}),
    ("HEAD 404", "unix", "HEAD /foo HTTP/1.1\r\n\r\n", {}),
    ("logtail", "unix", "GET /logtail/cat HTTP/1.1\r\n\r\n", {"first_chunk_only": True}),
    ("logtail namespec", "unix", "GET /logtail/cat:cat/stdout HTTP/1.1\r\n\r\n",
     {"first_chunk_only": True}),
    ("logtail quoted", "unix", "GET /logtail/c%61t?x HTTP/1.1\r\n\r\n",
     {"first_chunk_only": True}),
    ("logtail unknown", "unix", "GET /logtail/nosuch HTTP/1.1\r\n\r\n", {}),
    ("logtail bad channel", "unix", "GET /logtail/cat/stdin HTTP/1.1\r\n\r\n", {}),
    ("logtail POST", "unix", "POST /logtail/cat HTTP/1.1\r\n\r\n", {}),
    ("mainlogtail", "unix", "GET /mainlogtail HTTP/1.1\r\n\r\n", {"first_chunk_only": True}),
    ("mainlogtail inet", "noauth", "GET /mainlogtail HTTP/1.1\r\n\r\n",
     {"first_chunk_only": True}),
]


@pytest.mark.parametrize("where,request_,opts", [c[1:] for c in SAME], ids=[c[0] for c in SAME])
def test_same_bytes_as_python(servers, where, request_, opts):
    out = both(servers, where, request_, **opts)
    assert out["rust"] == out["python"]
    assert out["python"][0][0].startswith(b"HTTP/")


def test_reply_without_colon_credentials_is_401_not_500(servers):
    # Python fails to unpack the decoded credentials and answers 500.
    for creds in ("!!!!", "dXNlcg=="):
        out = both(servers, "auth", f"GET /foo HTTP/1.1\r\nAuthorization: Basic {creds}\r\n\r\n")
        assert out["python"][0][0].startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
        assert out["rust"][0][0].startswith(b"HTTP/1.1 401 Unauthorized\r\n")


def test_logtail_without_a_name_is_404_not_500(servers):
    out = both(servers, "unix", "GET /logtail HTTP/1.1\r\n\r\n")
    assert out["python"][0][0].startswith(b"HTTP/1.1 500 ")
    assert out["rust"][0][0].startswith(b"HTTP/1.1 404 ")


def test_401_closes_the_connection_it_says_it_closes(servers):
    # Both say `Connection: close`; Python then keeps the socket open, swallowing input.
    out = both(servers, "auth", "GET /foo HTTP/1.1\r\n\r\n", check_close=True)
    assert out["python"][0] == out["rust"][0]
    assert (out["python"][1], out["rust"][1]) == (False, True)


def test_http_1_0_logtail_streams_at_once(servers):
    # Python holds HTTP/1.0 output back until 64 KiB accumulate (GOT-28).
    got = {}
    for side in ("python", "rust"):
        c = Conn(servers[side]["unix"])
        c.send("GET /logtail/cat HTTP/1.0\r\n\r\n")
        got[side] = c.within(0.8)
        c.close()
    assert got["python"] == b""
    head, _, body = got["rust"].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200 OK\r\nServer: Medusa/1.12\r\n")
    assert body == (servers["dir"] / "cat.log").read_bytes()[-1024:]


def test_garbage_request_line_is_dropped_by_both(servers):
    for request in ("garbage\r\n\r\n", "GET / FTP/1.0\r\n\r\n", "\r\n\r\n"):
        out = both(servers, "unix", request, check_close=True)
        assert out["python"] == out["rust"] == ([b""], True)
