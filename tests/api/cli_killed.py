"""`killed_run`: a `gongpei` command run as a real process that a SIGTERM reaches mid-run, for
the tests that its clean-up leaves no temporary or staging folder (a scheduler's stop)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: A pooling day of one firm and one parcel, for the commands' stop tests.
DAY = """name: two firms
travel: {straight_line: true, walk_radius_m: 300}
firms:
- {id: sf, depot: [36.09, 120.41], fleet: [{count: 1}]}
centres:
- {id: hub, at: [36.08, 120.395], fleet: [{count: 1}]}
parcels:
- {id: sf-1, firm: sf, at: [36.0672, 120.3833]}
"""

#: `gongpei ARGS...`, killed once it is solving or running a scenario's stage, with its outputs
#: staged but not yet in place.
KILLED_MID_RUN = """
import os, signal, sys
import api.scenario.runner, routing.pooling.compare
def killed(*_args, **_kwargs):
    os.kill(os.getpid(), signal.SIGTERM)
routing.pooling.compare.compare_day = killed
api.scenario.runner.run_stage = killed
sys.argv = ["gongpei", *sys.argv[1:]]
from api.cli.main import run
run()
"""


def killed_run(
    tmp_path: Path, args: list[str], *, script: str = KILLED_MID_RUN
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (by default `KILLED_MID_RUN`) with ``args`` in ``tmp_path``, this
    checkout's packages first on the path and its own data folder."""
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), "GONGPEI_DATA_DIR": str(tmp_path / "data")},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
