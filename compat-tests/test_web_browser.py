"""The web UI in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by
playwright-core from `web/` (`node web/browser.mjs <scenario> <url> <artifacts>`), against our
daemon with an `[inet_http_server]`. Each scenario is one node run that exits non-zero saying
what it expected; screenshots land in `compat-tests/artifacts/web/`.

`scripts/deps` installs chromium and runs `npm ci` in `web/`."""
import pathlib
import shutil
import subprocess

import pytest

from harness import Daemon, wait_for, free_port

HERE = pathlib.Path(__file__).resolve().parent
WEB = HERE / "web"
ARTIFACTS = HERE / "artifacts" / "web"
CHROMIUM = pathlib.Path("/usr/bin/chromium")

PROGRAMS = """\
[program:sleeper]
command=sleep 1000
startsecs=0

[program:echoer]
command=sh -c 'while read l; do echo "out:$l"; echo "err:$l" >&2; done'
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
NAMES = ("sleeper", "echoer", "grp:g1", "grp:g2")



@pytest.fixture(scope="module")
def node():
    found = shutil.which("node")
    if not found:
        pytest.fail("no node: the browser tests need Node.js")
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: scripts/deps installs it (apt-get, as root)")
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        pytest.fail("no compat-tests/web/node_modules/playwright-core: scripts/deps runs npm ci there")
    return found


@pytest.fixture(scope="module")
def web_daemon(binaries, tmp_path_factory):
    port = free_port()
    d = Daemon("rust", f"[inet_http_server]\nport=127.0.0.1:{port}\n\n" + PROGRAMS,
               tmp_path_factory.mktemp("web"), binary=binaries["supervisord"])
    d.start()
    d.url = f"http://127.0.0.1:{port}/"
    yield d
    d.stop()


@pytest.fixture
def daemon(web_daemon):
    """Every program running before and after each scenario, whatever the previous one did."""
    def reset():
        for name in NAMES:
            if web_daemon.state_of(name) != "RUNNING":
                web_daemon.rpc().supervisor.startProcess(name)
        wait_for(lambda: all(web_daemon.state_of(n) == "RUNNING" for n in NAMES),
                 what="every program RUNNING")
    reset()
    yield web_daemon
    reset()


@pytest.mark.parametrize("scenario", ["live", "group", "filter", "external", "tail", "nojs"])
def test_browser(node, daemon, scenario):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        r = subprocess.run([node, str(WEB / "browser.mjs"), scenario, daemon.url, str(ARTIFACTS)],
                           capture_output=True, text=True, timeout=180, cwd=WEB)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{scenario}: node did not finish in 180s\nstdout:\n{e.stdout}\nstderr:\n{e.stderr}")
    assert r.returncode == 0, (f"{scenario} failed (exit {r.returncode})\n"
                               f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}\n"
                               f"daemon log:\n{daemon.mainlog()[-3000:]}")
