"""A job's start is never before its creation (the firm audit's finding 14: a job committed
between a claim's clock reading and its query started 0.6 ms before it was created)."""

from __future__ import annotations

from datetime import timedelta

from api.db.models import Job
from api.jobs import queue
from api.security import create_firm


def test_a_job_created_after_the_claim_read_its_clock_starts_no_earlier(db):
    """The claim's query sees a job committed after the claim began; its creation stamp, taken
    by the API (another process, maybe another host), is then later than the claim's first
    reading of the clock. Placed ahead of this one's clock, the job stands for that race."""
    with db.writing() as session:
        firm, _ = create_firm(session, "firm-a", "firm")
        firm_id = firm.id
    job_id = queue.submit(db, kind="batch", firm_id=firm_id, payload={})
    with db.writing() as session:
        job = session.get(Job, job_id)
        job.created_at = job.created_at + timedelta(seconds=5)
    assert queue.claim(db, "host:1:aaaaaa", lease_s=60).id == job_id
    with db.reading() as session:
        job = session.get(Job, job_id)
        assert job.started_at >= job.created_at
        assert job.lease_expires_at > job.started_at
