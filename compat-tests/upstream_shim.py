"""A pytest plugin for running supervisor's own end-to-end tests (`tests/test_end_to_end.py`,
unchanged) against our supervisord: those tests start `sys.executable -m
supervisor.supervisord ...`, so `sys.executable` becomes a shim that runs our binary for that
module and the real Python for everything else (supervisorctl stays Python's)."""
import os
import stat
import sys
import tempfile

OURS = os.environ["SUPERVISOR_RS_SUPERVISORD"]


def pytest_configure(config):
    real = sys.executable
    fd, shim = tempfile.mkstemp(prefix="python-shim-")
    with os.fdopen(fd, "w") as f:
        f.write(f"""#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "supervisor.supervisord" ]; then
    shift 2
    exec "{OURS}" "$@"
fi
exec "{real}" "$@"
""")
    os.chmod(shim, stat.S_IRWXU)
    sys.executable = shim
