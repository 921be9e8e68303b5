"""/v1/open-data: aggregate platform figures for the public (no firm-private data)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends
from sqlalchemy import func, select

from api.db.engine import Database
from api.db.models import SIZES, Centre, Compartment, Locker, Reservation, utcnow
from api.deps import errors, get_db
from api.limits import public_rate_limit
from api.schemas.opendata import OpenDataSummary

router = APIRouter(prefix="/v1/open-data", tags=["open data"])


@router.get(
    "/summary",
    response_model=OpenDataSummary,
    dependencies=[Depends(public_rate_limit)],
    responses=errors(429),
    summary="Lockers, capacity, utilisation and parcels per area and day (public)",
)
def summary(db: Database = Depends(get_db)) -> dict:
    with db.reading() as session:
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
