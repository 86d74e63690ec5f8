"""Shared fixtures for the differential suite.

`probe` is one long-lived Rust process (examples/compat_probe) that answers JSON-lines requests
with our library's results; the Python side of each comparison runs in-process against the pinned
supervisor 4.3.0 from the venv.
"""
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def _build(args):
    subprocess.run(["cargo", "build", "--quiet", *args], cwd=ROOT, check=True)


class Probe:
    def __init__(self, path):
        self.proc = subprocess.Popen(
            [str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            encoding="utf-8", errors="surrogateescape")

    def call(self, request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("compat_probe died")
        reply = json.loads(line)
        if "probe_error" in reply:
            raise RuntimeError(reply["probe_error"])
        return reply

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="session")
def probe():
    _build(["--example", "compat_probe"])
    p = Probe(TARGET / "debug" / "examples" / "compat_probe")
    yield p
    p.close()


@pytest.fixture(scope="session")
def binaries():
    """Paths of our built binaries (debug profile), built once per session."""
    _build(["--bins"])
    return {name: TARGET / "debug" / name
            for name in ("supervisord", "supervisorctl", "echo_supervisord_conf", "pidproxy")}
