"""Ctrl-C (or SIGTERM) during `gongpei solve`: a real process in its own session, the signal
sent to its group (as a terminal sends Ctrl-C to the command and the race's forked child
alike). Ctrl-C used to print the child's KeyboardInterrupt traceback, search on to the time
limit, say "Aborted." and exit 1 without the plan it had; SIGTERM killed it planless."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LIMIT_S = 60  # far more than the test waits: a run that ignores Ctrl-C times out
CAP_S = 40


def solomon_day(path: Path, customers: int = 100) -> None:
    """A Solomon file of ``customers`` random customers with wide windows: PyVRP fits it (the
    auto solve races OR-Tools against PyVRP on two cores) and it is too big for the small-day
    plateau stop, so both searches would run their whole limit."""
    rng = random.Random(7)
    rows = ["    0     50     50      0      0    10000      0"]
    for k in range(1, customers + 1):
        x, y, demand = rng.randint(0, 100), rng.randint(0, 100), rng.randint(1, 30)
        rows.append(f"{k:5d} {x:6d} {y:6d} {demand:6d}      0    10000     10")
    header = "RAND\n\nVEHICLE\nNUMBER     CAPACITY\n  25        200\n\nCUSTOMER\n"
    columns = "CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME\n"
    path.write_text(header + columns + "\n".join(rows) + "\n")


@pytest.mark.parametrize(
    ("signum", "code", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
)
def test_a_stop_signal_writes_the_checked_plan_so_far(
    tmp_path: Path, signum: int, code: int, word: str
) -> None:
    problem, out = tmp_path / "day.txt", tmp_path / "plan.json"
    solomon_day(problem)
    command = [sys.executable, "-c", "from api.cli.main import run; run()", "solve",
               str(problem), "-o", str(out), "--time-limit", str(LIMIT_S)]  # fmt: skip
    proc = subprocess.Popen(
        command, cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        start_new_session=True,
    )  # fmt: skip
    assert proc.stderr is not None
    lines = []
    try:
        for line in proc.stderr:  # the first progress line: a search with a plan is running
            lines.append(line)
            if "best search objective" in line:
                os.killpg(proc.pid, signum)
                break
        lines += proc.communicate(timeout=CAP_S)[1].splitlines(keepends=True)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    stderr = "".join(lines)
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    said = [line for line in lines if line.startswith(word)]
    assert len(said) == 1 and f"wrote the best plan so far to {out}" in said[0], stderr
    plan = json.loads(out.read_text())
    assert plan["summary"]["checker"]["ok"] is True
    served = [s for r in plan["routes"] for s in r["steps"] if s["type"] == "job"]
    assert len(served) + len(plan["unassigned"]) == 100
