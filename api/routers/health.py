"""/healthz and /readyz: what a load balancer or an orchestrator probes.

Both are public and not rate-limited: a probe every second from each balancer must never be
refused as a client's burst, and neither answer tells anything but the platform's state.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict

from api.db.engine import UNREACHABLE, Database
from api.db.migrate import schema_problem
from api.deps import errors, get_db

router = APIRouter(tags=["health"])


class Health(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"]


@router.get(
    "/healthz",
    response_model=Health,
    summary="Liveness: the server process answers (public, not rate-limited)",
)
async def healthz() -> dict:
    """200 while the process can answer at all; the database is not asked, so an outage does
    not get every server process restarted (it would not mend the database)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Health,
    responses=errors(503),
    summary="Readiness: the database answers, at this release's schema (public, not "
    "rate-limited)",
)
def readyz(db: Database = Depends(get_db)) -> dict:
    """200 when the database answers and its schema is at the newest revision this release
    knows; else a 503 whose detail says which (send traffic elsewhere meanwhile). Not logged:
    probes come every few seconds, and the outage is logged where it begins and ends."""
    problem = readiness_problem(db)
    if problem is not None:
        raise HTTPException(503, problem)
    return {"status": "ok"}


def readiness_problem(db: Database) -> str | None:
    """Why the platform cannot serve requests now, or None. The driver's reason for an
    outage is left out: the endpoint is public, and it names hosts and ports."""
    try:
        with db.engine.connect() as connection:
            return schema_problem(connection)
    except UNREACHABLE:
        return "the database does not answer"
