"""The supervisord binary end to end: for every failing fixture and command line, the real
Python supervisord and ours print the same stdout and stderr and exit with the same status
(2 for usage errors, 0 for -h/-v). Both run with argv0 `supervisord`."""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "config"
PYTHON_SUPERVISORD = ("import sys; sys.argv[0] = 'supervisord'; "
                      "from supervisor.supervisord import main; main()")


def run_python(args, cwd):
    return subprocess.run([sys.executable, "-c", PYTHON_SUPERVISORD, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=30)


def run_ours(binaries, args, cwd):
    return subprocess.run(["supervisord", *args], executable=binaries["supervisord"], cwd=cwd,
                          capture_output=True, text=True, timeout=30)


def same(binaries, args, cwd):
    py, rs = run_python(args, cwd), run_ours(binaries, args, cwd)
    assert (rs.returncode, rs.stdout, rs.stderr) == (py.returncode, py.stdout, py.stderr)
    return py


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("bad/*.conf")), ids=lambda p: p.stem)
def test_bad_fixture_output_matches_python(binaries, tmp_path, path):
    py = same(binaries, ["-c", str(path)], tmp_path)
    assert py.returncode == 2 and py.stderr.startswith("Error: ")
    assert py.stderr.endswith("For help, use supervisord -h\n")


@pytest.mark.parametrize("args", [
    ["-h"], ["-?"], ["--help"], ["-v"], ["--version"], ["--bogus"], ["-x"], ["-c"],
    ["--min", "3"], ["pos"], ["-n", "-n"], ["-m", "9"], ["-e", "warning"],
    ["-c", "/nonexistent.conf"], ["-c", "/tmp"], ["-c", str(FIXTURES / "good/minimal.conf"), "-u", "nosuchuser"],
], ids=lambda a: " ".join(a))
def test_command_line_output_matches_python(binaries, tmp_path, args):
    py = same(binaries, args, tmp_path)
    assert py.returncode in (0, 2)


def test_where_python_crashes_we_report_an_error(binaries, tmp_path):
    """Deliberate difference (README, compatibility notes): Python dies with a traceback on
    `-c ''`; we stop with a usage error instead."""
    py, rs = run_python(["-c", ""], tmp_path), run_ours(binaries, ["-c", ""], tmp_path)
    assert py.returncode == 1 and "Traceback (most recent call last)" in py.stderr
    assert rs.returncode == 2
    assert rs.stderr == "Error: could not find config file \nFor help, use supervisord -h\n"


@pytest.mark.parametrize("content", [
    b"[supervisord]\nidentifier=caf\xe9\n",
    b"[supervisord]\n" + b"; pad\n" * 1500 + b"x=\xe2\x82\n",
    b"[supervisord]\n" + b"a" * 8175 + b"=\xc3\xa9\xff\n",
    b"novalue\n" + b"; pad\n" * 1500 + b"\x80\n",
    b"[supervisord]\n[program:x]\ncommand=/bin/true\n\xff",
], ids=["short", "second-chunk", "straddle", "header-first", "at-end"])
def test_undecodable_config_matches_python(binaries, tmp_path, content):
    conf = tmp_path / "bad.conf"
    conf.write_bytes(content)
    py = same(binaries, ["-c", str(conf)], tmp_path)
    assert py.returncode == 2
    # The same bytes reached through [include] (RawConfigParser.read) fail the same way.
    main = tmp_path / "main.conf"
    main.write_text("[supervisord]\n[include]\nfiles=bad.conf\n")
    py = same(binaries, ["-c", str(main)], tmp_path)
    assert py.returncode == 2


def test_rlimit_that_cannot_be_raised_is_a_usage_error_like_python(binaries, tmp_path):
    """minfds beyond what the kernel allows: supervisor's long explanation, exit 2."""
    conf = tmp_path / "rlimit.conf"
    conf.write_text(f"[supervisord]\nminfds=999999999\nlogfile={tmp_path}/x.log\npidfile={tmp_path}/x.pid\n")
    py = same(binaries, ["-c", str(conf)], tmp_path)
    assert py.returncode == 2 and "as per the \"minfds\" command-line argument" in py.stderr
