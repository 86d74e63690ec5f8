"""The benchmark harness runs end to end (`scripts/bench --quick`, which builds the
release binaries itself, so a fresh machine takes a few minutes) and reports every row.

This is the only check CI makes on benchmarks: it asserts that the bench completes and that each
row has a figure for our daemon or a note saying why not. No timing is asserted."""
import json
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent

ROW_IDS = (
    [f"{kind}-{n}" for n in (1, 100, 1000, 10000) for kind in ("rss", "pss")]
    + ["launch-0", "launch-1"]
    + [f"{prefix}-{method}-{transport}-c{clients}"
       for prefix in ("rpc", "rpccpu")
       for method in ("getState", "getAllProcessInfo")
       for transport in ("unix", "tcp")
       for clients in (1, 8)]
    + ["restart", "idle-cpu", "idle-wakeups", "stopall", "startall", "sigterm-exit",
       "capture", "capture-cpu", "capture-rotate", "capture-rotate-cpu", "capture-ceiling",
       "capture-floor", "capture-vs-ceiling", "capture-rss", "capture-lost", "events-rate",
       "events-latency", "binary-size", "ctl-status-rss", "ctl-status-time", "soak"]
)

SKIPPED_IN_QUICK = {"rss-1000", "pss-1000", "rss-10000", "pss-10000", "soak"}


def test_bench_quick_reports_every_row(tmp_path):
    out = tmp_path / "b.json"
    run = subprocess.run([str(ROOT / "scripts" / "bench"), "--quick", "--json", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=1500)
    assert run.returncode == 0, f"bench failed ({run.returncode}):\n{run.stdout}\n{run.stderr}"
    rows = {row["row"]: row for row in json.loads(out.read_text())}
    missing = [rid for rid in ROW_IDS if rid not in rows]
    assert not missing, f"rows missing from the JSON: {missing}"
    for rid in ROW_IDS:
        row = rows[rid]
        for key in ("label", "unit", "ours", "python", "ratio", "note"):
            assert key in row, f"{rid}: no {key!r}"
        if rid in SKIPPED_IN_QUICK:
            assert "skipped (--quick)" in row["note"], f"{rid}: {row}"
            continue
        median = (row["ours"] or {}).get("median")
        assert isinstance(median, (int, float)) or row["note"].strip(), \
            f"{rid}: neither a figure for ours nor a note explaining why: {row}"
    # Not a timing: the captured logs must hold exactly the writer's bytes (verified by
    # `log_writer verify` inside the bench), with and without rotation.
    lost = rows["capture-lost"]["ours"]
    assert lost is not None and lost["max"] == 0, f"capture lost or duplicated bytes: {rows['capture-lost']}"
    # Not a timing: every events-rate run checks that the listener read exactly the events sent,
    # with consecutive serials and pool serials, and records a failure otherwise.
    rate = rows["events-rate"]
    assert rate["ours"] is not None and "ours failed" not in rate["note"], \
        f"events lost, duplicated or reordered on the way to the listener: {rate}"
