"""The static binary with nothing around it (issue 8): `scripts/build-static` produces one
statically linked executable; booted in an empty root that holds only it (also linked as
`supervisorctl`), `/etc/passwd`, `/etc/group` and a static busybox, it supervises a program and
answers our own supervisorctl inside the root exactly as Python's supervisorctl outside does.

The root is entered with `chroot` as root, or `unshare --user --map-root-user --root` otherwise.
"""
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import pytest

from harness import wait_for

ROOT = pathlib.Path(__file__).resolve().parent.parent

CONF = """\
[unix_http_server]
file=/tmp/supervisor.sock

[supervisord]
logfile=/tmp/supervisord.log
pidfile=/tmp/supervisord.pid
childlogdir=/tmp
user=root

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix:///tmp/supervisor.sock

[program:sleeper]
command=/bin/sleep 1000
stdout_logfile=/tmp/sleeper.log
redirect_stderr=true
startsecs=0
"""


@pytest.fixture(scope="module")
def static_binary():
    r = subprocess.run([str(ROOT / "scripts" / "build-static")], capture_output=True, text=True,
                       cwd=ROOT, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    path, size = r.stdout.split()
    return pathlib.Path(path), int(size)


def busybox():
    found = shutil.which("busybox")
    if not found:
        pytest.fail("no busybox: scripts/deps installs busybox-static (apt-get, as root)")
    return found


def enter(root):
    """The command prefix that runs a program with `root` as its root directory."""
    if os.geteuid() == 0:
        return ["chroot", str(root)]
    return ["unshare", "--user", "--map-root-user", f"--root={root}"]


@pytest.fixture
def empty_root(tmp_path, static_binary):
    binary, _ = static_binary
    root = tmp_path / "root"
    for d in ("bin", "etc", "tmp"):
        (root / d).mkdir(parents=True)
    shutil.copy2(binary, root / "bin" / "supervisord")
    os.link(root / "bin" / "supervisord", root / "bin" / "supervisorctl")
    shutil.copy2(busybox(), root / "bin" / "busybox")
    for applet in ("sh", "sleep"):
        os.symlink("busybox", root / "bin" / applet)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/tmp:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    (root / "etc" / "supervisord.conf").write_text(CONF)
    return root


def test_the_binary_is_static_and_small(static_binary):
    binary, size = static_binary
    r = subprocess.run(["readelf", "-l", str(binary)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "program interpreter" not in r.stdout
    assert size < 6 * 1024 * 1024, size


def test_boots_in_an_empty_root_and_answers_our_supervisorctl(empty_root, tmp_path):
    daemon = subprocess.Popen(enter(empty_root) + ["/bin/supervisord", "-n", "-c",
                                                   "/etc/supervisord.conf"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        log = empty_root / "tmp" / "supervisord.log"
        wait_for(lambda: daemon.poll() is None and log.exists()
                 and "success: sleeper entered RUNNING state" in log.read_text(),
                 what="sleeper RUNNING inside the empty root")
        ours = subprocess.run(enter(empty_root) + ["/bin/supervisorctl", "-c",
                                                   "/etc/supervisord.conf", "status"],
                              capture_output=True, text=True, timeout=60)
        # Python's supervisorctl, outside, through the same socket file.
        ctl_conf = tmp_path / "ctl.conf"
        ctl_conf.write_text(f"[supervisorctl]\nserverurl=unix://{empty_root}/tmp/supervisor.sock\n")
        python = subprocess.run([sys.executable, "-m", "supervisor.supervisorctl", "-c",
                                 str(ctl_conf), "status"], capture_output=True, text=True,
                                timeout=60)
        assert python.returncode == 0, python
        assert python.stdout.startswith("sleeper                          RUNNING   pid ")
        # The uptime may tick between the two calls; everything else must be identical.
        strip = lambda s: s.rsplit("uptime", 1)[0]
        assert (ours.returncode, strip(ours.stdout), ours.stderr) == \
            (python.returncode, strip(python.stdout), python.stderr)
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
    assert daemon.returncode == 0
