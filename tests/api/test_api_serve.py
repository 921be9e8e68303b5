"""`gongpei serve` keeps its job workers alive: one killed is started again."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def _job_workers_of(port: int) -> list[int]:
    """Pids of the job workers whose parent is the `gongpei serve` listening on ``port``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
            parent = (proc / "stat").read_text().rsplit(")", 1)[1].split()[1]
            parent_cmd = Path(f"/proc/{parent}/cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError):
            continue  # gone meanwhile
        if b"api.jobs.worker" in cmd and str(port).encode() in parent_cmd:
            found.append(int(proc.name))
    return found


def test_a_killed_job_worker_is_restarted(database_url, auth, start_servers, vroom_problem):
    if not database_url.startswith("sqlite"):
        pytest.skip("one backend is enough for process supervision")
    (url,) = start_servers(1, job_workers=1)
    port = int(url.rsplit(":", 1)[1])
    (first,) = _job_workers_of(port)
    os.kill(first, signal.SIGKILL)  # before: batches stayed queued until someone ran a worker
    batch = {"format": "vroom", "problem": vroom_problem(6), "engine": "ortools", "time_limit_s": 1}
    job_id = httpx.post(f"{url}/v1/batches", json=batch, headers=auth["a"]).json()["id"]
    deadline = time.monotonic() + 60
    while (status := httpx.get(f"{url}/v1/batches/{job_id}", headers=auth["a"]).json())[
        "status"
    ] not in ("done", "failed"):
        assert time.monotonic() < deadline, f"batch still {status['status']}"
        time.sleep(0.3)
    assert status["status"] == "done"
    assert [pid for pid in _job_workers_of(port) if pid != first]  # a new worker runs


def test_stopping_serve_kills_a_child_still_busy_after_the_grace(capsys):
    """A job worker mid-solve ignores the stop: waiting on it ended `serve` in a
    TimeoutExpired traceback and left the worker solving on as an orphan."""
    import subprocess
    import sys

    from api.cli.serve_cmd import stop_children

    busy = subprocess.Popen([sys.executable, "-c", (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(1, flush=True);"
        " time.sleep(60)")], stdout=subprocess.PIPE)  # fmt: skip
    busy.stdout.readline()  # its handler is set
    quick = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    began = time.monotonic()
    stop_children([quick, busy], grace_s=1.0)
    assert time.monotonic() - began < 5
    assert quick.returncode == -signal.SIGTERM and busy.returncode == -signal.SIGKILL
    assert f"process {busy.pid} still busy after 1 s: killed" in capsys.readouterr().err
