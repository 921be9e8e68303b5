"""/v1/open-data: aggregate platform figures for the public (no firm-private data)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db.engine import Database
from api.db.models import SIZES, Centre, Compartment, Locker, Reservation, utcnow
from api.deps import errors, get_db
from api.limits import public_rate_limit
from api.schemas.opendata import OpenDataSummary
from api.search import overdue_holds

router = APIRouter(prefix="/v1/open-data", tags=["open data"])
#: Doors of holds past ``expires_at`` not yet swept, per size: free to the public, as search
#: and locker detail count them (the hold reads expired and the next booking takes the door).
_OVERDUE_PER_SIZE = overdue_holds(Compartment.size, func.count()).group_by(Compartment.size)


@router.get(
    "/summary",
    response_model=OpenDataSummary,
    dependencies=[Depends(public_rate_limit)],
    responses=errors(429),
    summary="Lockers, capacity, utilisation and parcels per area and day (public)",
)
def summary(db: Database = Depends(get_db)) -> dict:
    with db.reading() as session:
        total, free, out_of_service = _compartments(session)
        day = func.date(Reservation.deposited_at)
        rows = session.execute(
            select(Locker.area, day, func.count())
            .join(Locker, Locker.id == Reservation.locker_id)
            .where(
                Reservation.deposited_at.is_not(None),
                Reservation.deposited_at >= utcnow() - timedelta(days=30),
            )
            .group_by(Locker.area, day)
            .order_by(day, Locker.area)
        ).all()
        in_service = sum(total.values()) - out_of_service
        return {
            "lockers": session.scalar(select(func.count(Locker.id))),
            "centres": session.scalar(select(func.count(Centre.id))),
            "compartments": total,
            "free": free,
            "utilisation": round(1 - sum(free.values()) / in_service, 4) if in_service else 0.0,
            "parcels_by_area_day": [
                {"area": area, "day": str(d), "parcels": n} for area, d, n in rows
            ],
        }


def _compartments(session: Session) -> tuple[dict[str, int], dict[str, int], int]:
    """Compartments per size, those free to the public per size (overdue holds' doors
    included), and how many are out of service."""
    total = dict.fromkeys(SIZES, 0)
    free = dict.fromkeys(SIZES, 0)
    out_of_service = 0
    for size, status, n in session.execute(
        select(Compartment.size, Compartment.status, func.count()).group_by(
            Compartment.size, Compartment.status
        )
    ):
        total[size] += n
        free[size] += n if status == "free" else 0
        out_of_service += n if status == "out_of_service" else 0
    for size, n in session.execute(_OVERDUE_PER_SIZE, {"now": utcnow()}):
        free[size] += n
    return total, free, out_of_service
