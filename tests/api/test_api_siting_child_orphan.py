"""A siting run's search dies with its worker.

The search runs in a spawned child (`api.jobs.runner._stoppable`), killed when the job stops.
A worker killed outright (SIGKILL, the OOM killer) had no say: its child searched on as an
orphan to its time limit (up to 600 s), while the worker `gongpei serve` restarted took the
job over and started a second search of it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

#: A worker stand-in: a search of 300 s in `_stoppable`'s child, whose pid it prints.
WORKER = """
import multiprocessing, threading, time
from api.jobs.runner import _stoppable

def tell():
    while not multiprocessing.active_children():
        time.sleep(0.05)
    print(multiprocessing.active_children()[0].pid, flush=True)

threading.Thread(target=tell, daemon=True).start()
_stoppable(time.sleep, (300,), lambda: False)
"""


def _gone(pid: int) -> bool:
    """No such process, or a zombie nobody reaped (a container's init may not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_search_dies_when_its_worker_is_killed():
    root = Path(__file__).resolve().parents[2]
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER], cwd=root, stdout=subprocess.PIPE, text=True
    )
    child = 0
    try:
        child = int(worker.stdout.readline())
        time.sleep(1.0)  # the child is past its start-up, searching
        assert not _gone(child)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        for _ in range(100):  # the kernel's signal lands at once; allow a loaded machine 10 s
            if _gone(child):
                break
            time.sleep(0.1)
        assert _gone(child), f"search {child} still running after its worker was killed"
    finally:
        worker.kill()
        worker.wait()
        if child and not _gone(child):
            os.kill(child, signal.SIGKILL)
