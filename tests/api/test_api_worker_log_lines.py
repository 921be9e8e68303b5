"""A job worker's log tells the operator which worker says what, and when a job is done.

`gongpei serve --job-workers N` sends every worker's lines to one stderr: they carried no pid,
so two workers' jobs could not be told apart, nor matched to its "job worker PID exited" line;
and a job's end was never logged, only its start and its failures.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from api.db.engine import Database
from api.db.migrate import upgrade
from api.jobs import queue
from api.jobs.worker import Worker
from api.security import create_firm


def _queued_job(db) -> tuple[str, int]:
    with db.writing() as session:
        firm, _ = create_firm(session, "firm-a", "firm")
        firm_id = firm.id
    return queue.submit(db, kind="batch", firm_id=firm_id, payload={}), firm_id


def test_a_job_done_is_logged_with_how_long_it_ran(db, settings, monkeypatch, caplog):
    caplog.set_level("INFO", logger="gongpei.worker")
    job_id, firm_id = _queued_job(db)
    monkeypatch.setattr("api.jobs.worker.run_job", lambda *_, **__: ({"ok": True}, None))
    assert Worker(settings).run(max_jobs=1) == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "gongpei.worker"]
    assert any(line.startswith(f"job {job_id} (batch, firm {firm_id}) done in ") for line in lines)


def test_each_line_of_a_worker_process_carries_its_pid(tmp_path):
    url = f"sqlite:///{tmp_path / 'gongpei.db'}"
    db = Database(url)
    upgrade(db.engine)
    job_id, _ = _queued_job(db)
    db.dispose()
    root = Path(__file__).resolve().parents[2]
    worker = subprocess.Popen(
        [sys.executable, "-m", "api.jobs.worker", "--database-url", url],
        cwd=root, stderr=subprocess.PIPE, text=True,
    )
    line = ""
    try:
        for line in worker.stderr:  # the claim's line comes first, whatever the job does then
            if f"job {job_id} (batch) attempt 1" in line:
                break
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=60)
    assert f" worker {worker.pid} job {job_id} (batch) attempt 1" in line, line
