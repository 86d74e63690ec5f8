"""The web interface at the HTTP level, differentially: every URL and `action=` a script can
send to supervisor's web UI goes to Python supervisord 4.3.0 and to ours, on the same programs
in the same state, and must get the same status code and the same `Location` (so the same
`?message=...`). The pages' HTML is ours and is not compared byte for byte; what scripts rely on
in it (the status of a process, the action links) is checked separately.

Where Python answers HTTP 500 (an unknown action, or an action without a process name) we
answer 400; those cases are pinned here and listed in the README."""
import http.client
import re
import socket
import time
import urllib.parse

import pytest

from harness import Daemon, wait_for, free_port

PROGRAMS = """
[inet_http_server]
port=127.0.0.1:{port}

[program:alpha]
command=sleep 1000
startsecs=0

[program:beta]
command=sleep 1000
autostart=false
startsecs=0

[program:nofile]
command=/nonexistent/binary
autostart=false
startretries=0

[program:crash]
command=sh -c "exit 3"
autostart=false
startsecs=1
startretries=0

[program:g1]
command=sleep 1000
startsecs=0

[program:g2]
command=sleep 1000
startsecs=0

[group:grp]
programs=g1,g2
"""

HOST = "example.test:9001"



@pytest.fixture(scope="module")
def daemons(binaries, tmp_path_factory):
    out = {}
    for side, kind, binary in (("python", "python", None), ("ours", "rust", binaries["supervisord"])):
        port = free_port()
        d = Daemon(kind, PROGRAMS.replace("{port}", str(port)), tmp_path_factory.mktemp(side),
                   binary=binary)
        d.port = port
        d.start()
        for name in ("alpha", "grp:g1", "grp:g2"):
            d.wait_state(name, "RUNNING")
        out[side] = d
    yield out
    for d in out.values():
        d.stop()


def request(d, method, path, body=None, headers=None, host=HOST):
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    if host is not None:
        conn.putheader("Host", host)
    for name, value in (headers or {}).items():
        conn.putheader(name, value)
    if body is not None:
        conn.putheader("Content-Type", "application/x-www-form-urlencoded")
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body.encode() if body is not None else None)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, dict(r.getheaders()), data


CTIME = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun)%20(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
                   r"%20(%20)?\d+%20\d\d%3A\d\d%3A\d\d%20\d{4}")


def reset(d):
    """The starting state: alpha and the group running, the others stopped."""
    rpc = d.rpc().supervisor
    settled = lambda n: rpc.getProcessInfo(n)["statename"] not in ("STARTING", "STOPPING", "BACKOFF")
    for name in ("alpha", "grp:g1", "grp:g2", "beta", "crash"):
        wait_for(lambda: settled(name), what=f"{name} to settle")
    for name in ("alpha", "grp:g1", "grp:g2"):
        if rpc.getProcessInfo(name)["statename"] != "RUNNING":
            rpc.startProcess(name)
    for name in ("beta",):
        if rpc.getProcessInfo(name)["statename"] == "RUNNING":
            rpc.stopProcess(name)


def answer(d, method, path, body=None):
    status, headers, _ = request(d, method, path, body)
    location = headers.get("Location")
    if location:
        location = CTIME.sub("CTIME", location)
    return status, location, headers.get("Content-Type")


ACTIONS = [
    "/index.html?action=refresh",
    "/?processname=alpha&action=stop",
    "/?processname=beta&action=stop",
    "/?processname=alpha&action=start",
    "/?processname=beta&action=start",
    "/?processname=alpha&action=restart",
    "/?processname=beta&action=restart",
    "/?processname=alpha&action=clearlog",
    "/index.html?processname=grp%3Ag1&action=stop",
    "/index.html?processname=grp:g2&action=restart",
    "/?processname=grp%3A%2A&action=stop",
    "/?processname=grp:&action=start",
    "/?processname=grp&action=stop",
    "/?processname=nosuch&action=start",
    "/?processname=nosuch&action=bogus",
    "/?processname=nofile&action=start",
    "/?processname=crash&action=start",
    "/?processname=alpha&action=stop&action=start",
    "/?processname=&action=refresh",
    "/?action=stopall",
    "/?action=restartall",
]


@pytest.mark.parametrize("path", ACTIONS)
def test_actions_by_get(daemons, path):
    results = {}
    for side, d in daemons.items():
        reset(d)
        results[side] = answer(d, "GET", path)
    assert results["ours"] == results["python"]
    assert results["ours"][0] == 301


@pytest.mark.parametrize("body", [
    "processname=alpha&action=stop",
    "processname=beta&action=start",
    "processname=grp%3Ag1&action=clearlog",
    "action=stop&processname=alpha&action=start",
])
def test_actions_by_post(daemons, body):
    results = {}
    for side, d in daemons.items():
        reset(d)
        # The body overrides the query.
        results[side] = answer(d, "POST", "/index.html?action=refresh", body)
    assert results["ours"] == results["python"]
    assert results["ours"][0] == 301


def test_actions_change_state_as_python(daemons):
    for side, d in daemons.items():
        reset(d)
        request(d, "GET", "/?processname=alpha&action=stop")
        assert d.rpc().supervisor.getProcessInfo("alpha")["statename"] == "STOPPED", side
        request(d, "GET", "/?processname=alpha&action=start")
        assert d.rpc().supervisor.getProcessInfo("alpha")["statename"] == "RUNNING", side


@pytest.mark.parametrize("method,path", [
    ("GET", "/"), ("GET", "/index.html"), ("GET", "//index.html"), ("GET", "/?message=hello%20you"),
    ("POST", "/index.html"), ("GET", "/tail.html?processname=alpha"), ("GET", "/tail.html"),
    ("GET", "/tail.html?processname=nosuch&limit=50"), ("POST", "/tail.html"),
    ("GET", "/ok.html"), ("POST", "/ok.html"),
    ("GET", "/stylesheets/supervisor.css"), ("GET", "/images/icon.png"),
    ("GET", "/images/supervisor.gif"), ("GET", "/images/state1.gif"), ("HEAD", "/images/rule.gif"),
    ("GET", "/nosuch.html"), ("GET", "/INDEX.HTML"), ("HEAD", "/"), ("PUT", "/"),
    ("DELETE", "/index.html"), ("GET", "/images/nosuch.gif"),
])
def test_pages_statuses_and_types(daemons, method, path):
    results = {}
    for side, d in daemons.items():
        body = "x=1" if method == "POST" else None  # medusa never answers an empty one
        status, headers, _ = request(d, method, path, body)
        cache = tuple(headers.get(h) for h in ("Pragma", "Cache-Control", "Expires"))
        results[side] = (status, headers.get("Content-Type"), cache)
    assert results["ours"] == results["python"]


def test_post_without_length_is_411(daemons):
    results = {}
    for side, d in daemons.items():
        s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        s.sendall(b"POST /index.html HTTP/1.0\r\nHost: h\r\n\r\n")
        results[side] = s.recv(65536).split(b"\r\n", 1)[0]
        s.close()
    assert results["ours"] == results["python"] == b"HTTP/1.0 411 Length Required"


def test_location_without_a_host_header(daemons):
    """Without a Host header, the redirect names the server itself (medusa's server name,
    the reverse-DNS name of the address bound, and the port)."""
    results = {}
    for side, d in daemons.items():
        status, headers, _ = request(d, "GET", "/?action=refresh", host=None)
        results[side] = (status, CTIME.sub("CTIME", headers["Location"]).replace(str(d.port), "PORT"))
    assert results["ours"] == results["python"]


@pytest.mark.parametrize("path", ["/?action=bogus", "/?action=start",
                                  "/?processname=alpha&action=bogus"])
def test_where_python_answers_500_we_answer_400(daemons, path):
    statuses = {side: request(d, "GET", path)[0] for side, d in daemons.items()}
    assert statuses == {"python": 500, "ours": 400}


def test_status_page_shows_what_scripts_look_for(daemons):
    """Our page is not supervisor's, but it keeps the state spans and action links scripts
    scrape: the same per-process state words, classes and hrefs as Python's page."""
    def scrape(html):
        html = html.decode()
        states = re.findall(r'<span class="(status\w+)">(\w+)</span>', html)
        links = sorted(set(re.findall(r'href="(index\.html\?processname=[^"]+)"', html)))
        tails = sorted(set(re.findall(r'href="(tail\.html\?processname=[^"&]+)"', html)))
        return states, links, tails
    results = {}
    for side, d in daemons.items():
        reset(d)
        results[side] = scrape(request(d, "GET", "/")[2])
    assert results["ours"] == results["python"]
    assert results["ours"][0]  # there are rows


def test_tail_page_shows_the_log_end(daemons):
    for side, d in daemons.items():
        token = f"tok{time.time_ns()}"
        # Write straight into alpha's stdout log; the page reads the file.
        logfile = d.rpc().supervisor.getProcessInfo("alpha")["stdout_logfile"]
        with open(logfile, "a") as f:
            f.write("x" * 3000 + token + "<&>\n")
        status, headers, body = request(d, "GET", "/tail.html?processname=alpha&limit=10")
        text = body.decode()
        assert status == 200, side
        assert token in text and "xxx" in text, side
        assert "&lt;&amp;&gt;" in text or "&lt;&amp;>" in text, side
        assert "tail.html?processname=alpha&amp;limit=1024" in text, side


def test_basic_auth_guards_the_pages(binaries, tmp_path):
    results = {}
    for side, kind, binary in (("python", "python", None), ("ours", "rust", binaries["supervisord"])):
        port = free_port()
        d = Daemon(kind, f"[inet_http_server]\nport=127.0.0.1:{port}\nusername=u\npassword=p\n"
                   "[program:a]\ncommand=sleep 1000\nstartsecs=0\n", tmp_path / side, binary=binary)
        d.port = port
        d.start()
        try:
            import base64
            good = {"Authorization": "Basic " + base64.b64encode(b"u:p").decode()}
            results[side] = [request(d, "GET", path, headers=h)[0]
                             for path in ("/", "/tail.html?processname=a", "/stylesheets/supervisor.css")
                             for h in ({}, good)]
        finally:
            d.stop()
    assert results["ours"] == results["python"] == [401, 200] * 3


def test_where_python_hangs_we_answer(daemons):
    """Python never answers a view URL with `;params` (its PATH_INFO names no view) and closes
    the connection on a POST body that is not UTF-8; ours serves the view in both cases."""
    d = daemons["ours"]
    assert request(d, "GET", "/index.html;x")[0] == 200
    s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    s.sendall(b"POST /index.html HTTP/1.0\r\nHost: h\r\nContent-Length: 3\r\n\r\n\xff\xfe\xfd")
    assert s.recv(65536).split(b"\r\n", 1)[0] == b"HTTP/1.0 200 OK"
    s.close()


def test_tail_of_undecodable_output_is_shown_not_a_500(daemons):
    """Python's tail.html answers 500 when the log's end is not UTF-8; ours shows it with
    U+FFFD in place of the bad bytes."""
    d = daemons["ours"]
    logfile = d.rpc().supervisor.getProcessInfo("alpha")["stdout_logfile"]
    with open(logfile, "ab") as f:
        f.write(b"bad \xff\xfe bytes\n")
    status, _, body = request(d, "GET", "/tail.html?processname=alpha")
    assert status == 200
    assert "bad \ufffd\ufffd bytes" in body.decode()


@pytest.mark.parametrize("path,ims", [
    ("/stylesheets/supervisor.css", None),
    ("/stylesheets/supervisor.css", "Sun, 06 Nov 1994 08:49:37 GMT"),
    ("/stylesheets/supervisor.css", "NOW"),
    ("/images/icon.png", "NOW; length=1"),
    ("/images/icon.png", "not a date"),
    ("/images", None),
    ("/stylesheets", None),
])
def test_static_files_cache_and_directories(daemons, path, ims):
    """The static files carry Last-Modified and answer If-Modified-Since with 304 when not
    older (unless `; length=` disagrees); a directory without its slash is a 301 naming the
    server itself."""
    from email.utils import formatdate
    results = {}
    for side, d in daemons.items():
        headers = {}
        if ims:
            headers["If-Modified-Since"] = ims.replace("NOW", formatdate(time.time() + 60, usegmt=True))
        status, got, _ = request(d, "GET", path, headers=headers)
        results[side] = (status, got.get("Location"), "Last-Modified" in got)
    assert results["ours"] == results["python"]
