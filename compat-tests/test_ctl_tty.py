"""supervisorctl on a terminal, differentially: Python's supervisorctl 4.3.0 (with GNU readline)
and ours are driven through a pty with pexpect against the same daemon (ours). Covered: `fg`
(both streams, typed lines, Ctrl-C, a process killed meanwhile, piped input), the shell's
credential prompts after a 401, tab completion of commands and names, the history file and
recalling lines with the arrow keys, and Ctrl-C/Ctrl-D at the prompt and in `tail -f`.

What a terminal shows differs in ways nobody parses (readline's redraw sequences, where it
wraps), so these tests assert what the user sees happen, the same for both sides, rather than
comparing raw pty bytes. Every wait is pexpect's, with a deadline."""
import os
import re
import sys
import uuid

import pexpect
import pytest

from harness import Daemon, wait_for, free_port

PROGRAMS = """
[program:sleeper]
command=sleep 1000
startsecs=0

[program:echo]
command=sh -c 'while read l; do echo "got:$l"; echo "err:$l" >&2; done'
startsecs=0

[program:g1]
command=sleep 1000
startsecs=0

[program:g2]
command=sleep 1000
startsecs=0

[group:grp]
programs=g1,g2
"""

TIMEOUT = 20


@pytest.fixture(scope="module")
def ctls(binaries):
    return {"python": [sys.executable, "-m", "supervisor.supervisorctl"],
            "ours": [str(binaries["supervisorctl"])]}


@pytest.fixture(scope="module")
def daemon(binaries, tmp_path_factory):
    d = Daemon("rust", PROGRAMS, tmp_path_factory.mktemp("tty"), binary=binaries["supervisord"])
    d.start()
    for name in ("sleeper", "echo", "grp:g1", "grp:g2"):
        d.wait_state(name, "RUNNING")
    yield d
    d.stop()


def spawn(cmd, conf, args, cwd):
    env = dict(os.environ, TERM="xterm", COLUMNS="120", LINES="40")
    # INPUTRC: GNU readline must not read a user's ~/.inputrc.
    env["INPUTRC"] = "/dev/null"
    return pexpect.spawn(cmd[0], [*cmd[1:], "-c", str(conf), *args], cwd=str(cwd), env=env,
                         timeout=TIMEOUT, dimensions=(40, 120), encoding="utf-8",
                         codec_errors="replace")


def finish(p):
    p.expect(pexpect.EOF)
    p.close()
    return p.exitstatus


def finish_fg(p, side):
    """After `fg` ends, ours exits at once. Python's lingers until its log-following thread
    wakes from a select() of up to 30 seconds; that wait proves nothing, so it is cut short."""
    if side == "python":
        p.terminate(force=True)
        return 0
    return finish(p)


def logged_line(d):
    """Has `echo` log a fresh line, and returns it (without the `got:`)."""
    ensure_running(d, "echo")
    token = "t" + uuid.uuid4().hex[:8]
    d.rpc().supervisor.sendProcessStdin("echo", f"{token}\n")
    log = lambda: d.rpc().supervisor.tailProcessStdoutLog("echo", 0, 100000)[0]
    wait_for(lambda: f"got:{token}" in log(), what="the line in the log")
    return token


def ensure_running(d, name):
    rpc = d.rpc().supervisor
    if rpc.getProcessInfo(name)["statename"] != "RUNNING":
        rpc.startProcess(name)
    d.wait_state(name, "RUNNING")


@pytest.mark.parametrize("side", ["python", "ours"])
def test_fg_streams_both_channels_and_sends_lines(daemon, ctls, side):
    ensure_running(daemon, "echo")
    token = uuid.uuid4().hex[:8]
    p = spawn(ctls[side], daemon.conf, ["fg", "echo"], daemon.tmp)
    p.expect_exact("==> Press Ctrl-C to exit <==")
    p.sendline(f"hi{token}")
    # The process's stdout and stderr both show up, without reloading anything.
    p.expect_exact(f"got:hi{token}")
    p.expect_exact(f"err:hi{token}")
    p.sendintr()
    p.expect_exact("Exiting foreground")
    assert finish_fg(p, side) == 0
    # The process got the line on its stdin exactly once.
    log = daemon.rpc().supervisor.tailProcessStdoutLog("echo", 0, 100000)[0]
    assert log.count(f"got:hi{token}\n") == 1


@pytest.mark.parametrize("side", ["python", "ours"])
def test_fg_notices_a_process_killed_meanwhile(daemon, ctls, side):
    ensure_running(daemon, "echo")
    p = spawn(ctls[side], daemon.conf, ["fg", "echo"], daemon.tmp)
    p.expect_exact("==> Press Ctrl-C to exit <==")
    daemon.rpc().supervisor.stopProcess("echo")
    p.sendline("anyone?")
    p.expect_exact("Process got killed")
    p.expect_exact("Exiting foreground")
    assert finish_fg(p, side) == 0
    ensure_running(daemon, "echo")


@pytest.mark.parametrize("side", ["python", "ours"])
def test_fg_in_the_shell_returns_to_the_prompt(daemon, ctls, side):
    token = logged_line(daemon)
    p = spawn(ctls[side], daemon.conf, [], daemon.tmp)
    p.expect_exact("supervisor> ")
    p.sendline("fg echo")
    p.expect_exact("==> Press Ctrl-C to exit <==")
    # Python prints the banner before entering the `try` that catches Ctrl-C; once the log
    # shows, its follower thread runs and the main thread is inside it.
    p.expect_exact(f"got:{token}")
    p.sendintr()
    p.expect_exact("Exiting foreground")
    p.expect_exact("supervisor> ")
    p.sendline("pid sleeper")
    p.expect(r"\r\n\d+\r\n")
    p.expect_exact("supervisor> ")
    p.sendline("quit")
    assert finish_fg(p, side) == 0


@pytest.mark.parametrize("side", ["python", "ours"])
def test_ctrl_c_ends_tail_f_in_the_shell(daemon, ctls, side):
    token = logged_line(daemon)
    p = spawn(ctls[side], daemon.conf, [], daemon.tmp)
    p.expect_exact("supervisor> ")
    p.sendline("tail -f echo")
    p.expect_exact("==> Press Ctrl-C to exit <==")
    # Once the log shows, the stream is being read: Python's Ctrl-C lands inside its
    # `except KeyboardInterrupt` then, rather than in the instant before.
    p.expect_exact(f"got:{token}")
    p.sendintr()
    p.expect_exact("supervisor> ")
    p.sendline("quit")
    assert finish(p) == 0


def test_after_fg_ctrl_c_still_ends_tail_f(daemon, ctls):
    """Ours only: in Python's shell a `tail -f` after an `fg` does not come back on Ctrl-C
    (its lingering fg thread swallows the interrupt), a difference listed in the README."""
    ensure_running(daemon, "echo")
    p = spawn(ctls["ours"], daemon.conf, [], daemon.tmp)
    p.expect_exact("supervisor> ")
    p.sendline("fg echo")
    p.expect_exact("==> Press Ctrl-C to exit <==")
    p.sendintr()
    p.expect_exact("Exiting foreground")
    p.expect_exact("supervisor> ")
    p.sendline("tail -f sleeper")
    p.expect_exact("==> Press Ctrl-C to exit <==")
    p.sendintr()
    p.expect_exact("supervisor> ")
    p.sendline("quit")
    assert finish(p) == 0


def test_fg_with_piped_input(daemon, ctls):
    """Without a terminal, lines piped after the command reach the process, and the end of
    input ends `fg`."""
    import subprocess
    ensure_running(daemon, "echo")
    results = {}
    for side in ("python", "ours"):
        token = uuid.uuid4().hex[:8]
        p = subprocess.Popen([*ctls[side], "-c", str(daemon.conf), "fg", "echo"], cwd=daemon.tmp,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        p.stdin.write(f"a{token}\nb{token}\n")
        p.stdin.close()
        log = lambda: daemon.rpc().supervisor.tailProcessStdoutLog("echo", 0, 100000)[0]
        wait_for(lambda: f"got:b{token}\n" in log(), what="both lines to arrive")
        assert log().count(f"got:a{token}\n") == 1
        if side == "python":
            # Python's fg thread may linger in a select() of 30 s or more after
            # "Exiting foreground"; waiting for it proves nothing.
            lines = read_until(p.stdout, "Exiting foreground")
            p.kill()
            rc, err = 0, p.stderr.read()
        else:
            rc = p.wait(timeout=TIMEOUT)
            lines, err = p.stdout.read().splitlines(), p.stderr.read()
        p.wait()
        # Python's log thread may still print after "Exiting foreground": only the lines
        # supervisorctl itself prints are compared.
        lines = [l for l in lines if not l.startswith(("got:", "err:"))]
        results[side] = (rc, lines, err)
    assert results["ours"] == results["python"]
    assert results["ours"] == (0, ["==> Press Ctrl-C to exit <==", "Exiting foreground"], "")


def read_until(stream, last, timeout=TIMEOUT):
    """Lines from `stream` up to and including `last`, failing at a deadline."""
    import queue
    import threading
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in stream], daemon=True).start()
    got = []
    while True:
        line = lines.get(timeout=timeout).rstrip("\n")
        got.append(line)
        if line == last:
            return got



@pytest.fixture(scope="module")
def locked(binaries, tmp_path_factory):
    """A daemon behind Basic auth, and a ctl config that names no credentials."""
    tmp = tmp_path_factory.mktemp("locked")
    port = free_port()
    d = Daemon("rust", f"[inet_http_server]\nport=127.0.0.1:{port}\nusername=user\n"
               "password=123\n[program:p]\ncommand=sleep 1000\nstartsecs=0\n", tmp,
               binary=binaries["supervisord"])
    d.start()
    d.wait_state("p", "RUNNING")
    conf = tmp / "ctl.conf"
    conf.write_text(f"[supervisorctl]\nserverurl=http://127.0.0.1:{port}\n")
    yield d, conf
    d.stop()


@pytest.mark.parametrize("side", ["python", "ours"])
def test_shell_prompts_for_credentials_after_a_401(locked, ctls, side):
    d, conf = locked
    p = spawn(ctls[side], conf, [], d.tmp)
    p.expect_exact("Server requires authentication")
    p.expect_exact("Username:")
    p.sendline("user")
    p.expect_exact("Password:")
    p.sendline("123")
    p.expect(r"p\s+RUNNING\s+pid \d+")
    # The password was not echoed.
    assert "123" not in p.before
    p.expect_exact("supervisor> ")
    # Later commands use the credentials given.
    p.sendline("pid p")
    p.expect(r"\r\n\d+\r\n")
    p.sendline("quit")
    assert finish(p) == 0


@pytest.mark.parametrize("side", ["python", "ours"])
def test_tab_completes_commands_and_names(daemon, ctls, side):
    for name in ("sleeper", "grp:g1"):
        ensure_running(daemon, name)
    p = spawn(ctls[side], daemon.conf, [], daemon.tmp)
    p.expect_exact("supervisor> ")
    # Several candidates: the second Tab lists them.
    p.send("sta\t\t")
    p.expect(r"start\s+status")
    p.send("\x15")  # Ctrl-U empties the line
    # One candidate: completed in place, with the space after it.
    p.send("pid sle\t")
    p.expect_exact("pid sleeper ")
    p.send("\r")
    sleeper_pid = daemon.rpc().supervisor.getProcessInfo("sleeper")["pid"]
    p.expect_exact(f"{sleeper_pid}\r\n")
    p.expect_exact("supervisor> ")
    # A prefix several candidates share is completed as far as they agree; a later Tab lists
    # them (group members, and group:*).
    p.send("status g\t")
    p.expect_exact("rp:")  # readline writes only what it inserts (and a bell)
    p.send("\t\t")
    p.expect(r"grp:\*\s+grp:g1\s+grp:g2")
    p.send("g1\r")
    p.expect(r"grp:g1\s+RUNNING")
    p.expect_exact("supervisor> ")
    p.sendline("quit")
    assert finish(p) == 0


def history_conf(daemon, path):
    text = daemon.conf.read_text().replace("[supervisorctl]\n", f"[supervisorctl]\nhistory_file={path}\n")
    conf = path.with_suffix(".conf")
    conf.write_text(text)
    return conf


@pytest.mark.parametrize("side", ["python", "ours"])
def test_history_file_is_kept_and_recalled(daemon, ctls, side, tmp_path):
    ensure_running(daemon, "sleeper")
    history = tmp_path / "history"
    conf = history_conf(daemon, history)
    p = spawn(ctls[side], conf, [], daemon.tmp)
    p.expect_exact("supervisor> ")
    for line in ("status sleeper", "", "pid sleeper", "pid sleeper", "version"):
        p.sendline(line)
        p.expect_exact("supervisor> ")
    p.sendline("quit")
    assert finish(p) == 0
    # Empty lines and repeats of the line before are not kept.
    assert history.read_text() == "status sleeper\npid sleeper\nversion\nquit\n"
    # A new shell reads it: Up twice recalls `version`.
    p = spawn(ctls[side], conf, [], daemon.tmp)
    p.expect_exact("supervisor> ")
    p.send("\x1b[A\x1b[A\r")
    p.expect(r"\r\n\d+\.\d+\.\d+\r\n")
    p.expect_exact("supervisor> ")
    p.sendeof()
    assert finish(p) == 0
    assert history.read_text().splitlines()[-1] == "version"


def test_r_flag_keeps_a_history(daemon, ctls, tmp_path):
    """Ours only: Python 4.3.0 parses `-r FILE` but then reads only `history_file` from the
    config, so its `-r` keeps nothing. Ours keeps what the help text promises."""
    history = tmp_path / "r-history"
    p = spawn(ctls["ours"], daemon.conf, ["-r", str(history)], daemon.tmp)
    p.expect_exact("supervisor> ")
    p.sendline("version")
    p.expect_exact("supervisor> ")
    p.sendline("quit")
    assert finish(p) == 0
    assert history.read_text() == "version\nquit\n"


@pytest.mark.parametrize("side", ["python", "ours"])
@pytest.mark.parametrize("key", ["ctrl-c", "ctrl-d"])
def test_ctrl_c_and_ctrl_d_at_the_prompt_end_the_shell(daemon, ctls, side, key):
    p = spawn(ctls[side], daemon.conf, [], daemon.tmp)
    p.expect_exact("supervisor> ")
    p.send("stat")
    if key == "ctrl-c":
        p.sendintr()
    else:
        # Ctrl-D on a line with text deletes; on an empty line it ends the input.
        p.send("\x15")
        p.sendeof()
    assert finish(p) == 0


def test_credential_prompts_without_a_terminal(locked, ctls):
    """With no controlling terminal (a new session), getpass falls back to stdin with a warning
    on stderr; stdout and the exit status are the same for both. Python's stderr also has a
    `GetPassWarning` line naming a file of its own, which ours has no counterpart for."""
    import subprocess
    d, conf = locked
    results = {}
    for side in ("python", "ours"):
        r = subprocess.run([*ctls[side], "-c", str(conf)], cwd=d.tmp, input="user\n123\nquit\n",
                           capture_output=True, text=True, timeout=TIMEOUT,
                           start_new_session=True)
        out = re.sub(r"pid \d+, uptime \S+", "pid N, uptime T", r.stdout)
        results[side] = (r.returncode, out, r.stderr.splitlines()[-2:])
    assert results["ours"] == results["python"]
    assert results["ours"][1].startswith("Server requires authentication\nUsername:\n")
    assert results["ours"][2] == ["Warning: Password input may be echoed.", "Password:"]
