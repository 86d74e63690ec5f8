"""Differential tests of the two helper programs: our echo_supervisord_conf against
supervisor 4.3.0's (same effective configuration, same settings lines) and our pidproxy
against supervisor.pidproxy (same relayed signals, exit statuses and output)."""
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import pytest

import oracle
from test_config import environment

import supervisor

VENV_BIN = pathlib.Path(sys.executable).parent
PY_SAMPLE = (pathlib.Path(supervisor.__file__).parent / "skel" / "sample.conf").read_text()


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, timeout=30, **kw)


# --- echo_supervisord_conf ------------------------------------------------------------------

@pytest.fixture(scope="module")
def our_sample(binaries):
    out = run([str(binaries["echo_supervisord_conf"])])
    assert out.returncode == 0 and out.stderr == b""
    return out.stdout.decode()


def test_python_echo_prints_the_packaged_sample():
    """Guards the comparison below: Python's tool prints skel/sample.conf verbatim."""
    out = run([str(VENV_BIN / "echo_supervisord_conf")])
    assert (out.returncode, out.stdout.decode(), out.stderr) == (0, PY_SAMPLE, b"")


def test_first_line_and_arguments_ignored(binaries, our_sample):
    assert our_sample.splitlines()[0] == "; Sample supervisor config file."
    py = run([str(VENV_BIN / "echo_supervisord_conf"), "--help"])
    rs = run([str(binaries["echo_supervisord_conf"]), "--help"])
    assert (rs.returncode, rs.stdout.decode()) == (py.returncode, our_sample)


def _load(probe, text, tmp_path):
    conf = tmp_path / "supervisord.conf"
    conf.write_text(text)
    env = environment(tmp_path)
    py = oracle.realize(["-c", str(conf)], env, str(tmp_path))
    rs = probe.call({"mode": "config", "args": ["-c", str(conf)], "env": env,
                     "cwd": str(tmp_path), "progname": "supervisord"})
    return py, rs


def test_our_sample_configures_exactly_what_pythons_does(probe, tmp_path, our_sample):
    py_of_python, rs_of_python = _load(probe, PY_SAMPLE, tmp_path)
    py_of_ours, rs_of_ours = _load(probe, our_sample, tmp_path)
    assert "options" in py_of_python, py_of_python
    assert py_of_ours == py_of_python      # Python's loader sees no difference
    assert rs_of_ours == rs_of_python == py_of_python  # nor does ours


def test_our_sample_starts_our_supervisord(binaries, tmp_path, our_sample):
    """The sample, pointed at a private directory, really runs (start, then TERM)."""
    text = our_sample.replace("/tmp/", f"{tmp_path}/")
    conf = tmp_path / "s.conf"
    conf.write_text(text)
    proc = subprocess.Popen([str(binaries["supervisord"]), "-n", "-c", str(conf)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 15
        while not (tmp_path / "supervisor.sock").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "socket never appeared"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)
    assert proc.returncode == 0


SETTING = re.compile(r"^(;?)(\[[^\]]+\]|[A-Za-z_.]+\s*=.*?)(\s+;.*)?$")


def settings(text):
    """Every section header and key=value line, active or commented out, without its inline
    comment: the part of the sample that means something to a reader uncommenting lines."""
    found = []
    for line in text.splitlines():
        m = SETTING.match(line)
        if m:
            found.append(m.group(1) + m.group(2).strip())
    return found


def test_same_settings_lines_in_the_same_order(our_sample):
    assert len(settings(PY_SAMPLE)) > 100  # the pattern really finds them
    assert settings(our_sample) == settings(PY_SAMPLE)


def test_every_section_and_option_name_appears(our_sample):
    def names(text):
        return {re.split(r"\s*=", s.lstrip(";"))[0] for s in settings(text)}
    assert names(PY_SAMPLE) <= names(our_sample)


def test_comments_are_our_own(our_sample):
    ours = {l for l in our_sample.splitlines() if l.startswith("; ")}
    theirs = {l for l in PY_SAMPLE.splitlines() if l.startswith("; ")}
    assert ours & theirs <= {"; Sample supervisor config file."}


# --- pidproxy -------------------------------------------------------------------------------

CHILD = """\
echo $$ > pid
trap 'echo HUP >> got' HUP
trap 'echo USR1 >> got' USR1
trap 'echo USR2 >> got' USR2
trap 'echo TERM >> got; exit 3' TERM
echo ready > ready
while [ ! -e go ]; do sleep 0.02; done
"""


def wait_for(what, check, timeout=15):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def proxies(binaries):
    return {"python": str(VENV_BIN / "pidproxy"), "ours": str(binaries["pidproxy"])}


def drive(proxy, workdir, pidfile, child, signals, release=False):
    """Runs `proxy pidfile /bin/sh -c child` in workdir, sends `signals` once the child is
    ready (each after the previous one reached the child's record, when it can), optionally
    lets the child exit, and returns (status, stdout, last stderr line, child's record)."""
    workdir.mkdir()
    proc = subprocess.Popen([proxy, pidfile, "/bin/sh", "-c", child], cwd=workdir,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for("child ready", lambda: (workdir / "ready").exists())
        for sig in signals:
            before = (workdir / "got").read_text() if (workdir / "got").exists() else ""
            proc.send_signal(sig)
            if pidfile == "pid" and proc.poll() is None:
                wait_for(f"{sig!r} recorded", lambda: (workdir / "got").exists()
                         and (workdir / "got").read_text() != before)
        if release:
            (workdir / "go").write_text("")
        # Wait for the proxy alone: a child it leaves behind still holds the output pipes.
        proc.wait(timeout=20)
        (workdir / "go").write_text("")
        out, err = proc.communicate(timeout=20)
    finally:
        (workdir / "go").write_text("")  # never leave a child behind
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    got = workdir / "got"
    if pidfile == "pid" and signal.SIGTERM in signals:
        wait_for("TERM recorded", lambda: got.exists() and "TERM" in got.read_text())
    lines = err.decode().splitlines()
    return (proc.returncode, out.decode(), lines[-1] if lines else "",
            got.read_text() if got.exists() else "")


SCENARIOS = {
    "hup-usr1-usr2-then-term": ("pid", CHILD, [signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2,
                                               signal.SIGTERM], False),
    "term-without-pidfile": ("missing.pid", CHILD, [signal.SIGTERM], True),
    "child-exits-7": ("pid", "echo ready > ready; exit 7", [], False),
    "dead-pid-in-pidfile": ("dead.pid", "echo 999999999 > dead.pid; " + CHILD,
                            [signal.SIGHUP], False),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_pidproxy_matches_python(binaries, tmp_path, name):
    pidfile, child, signals, release = SCENARIOS[name]
    results = {impl: drive(path, tmp_path / impl, pidfile, child, signals, release)
               for impl, path in proxies(binaries).items()}
    assert results["ours"] == results["python"]


def test_pidproxy_usage_is_byte_for_byte(binaries, tmp_path):
    outputs = {}
    for impl, path in proxies(binaries).items():
        d = tmp_path / impl
        d.mkdir()
        (d / "pidproxy").symlink_to(path)
        outputs[impl] = [(r.returncode, r.stdout, r.stderr)
                         for r in (run(["./pidproxy", *args], cwd=d)
                                   for args in ([], ["only-a-pidfile"]))]
    assert outputs["ours"] == outputs["python"]
    assert outputs["python"][0][0] == 1
