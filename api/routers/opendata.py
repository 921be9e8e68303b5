"""/v1/open-data: aggregate platform figures for the public (no firm-private data)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Response
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from api.db.engine import Database
from api.db.models import SIZES, Centre, Compartment, Locker, Reservation, utcnow
from api.deps import get_db, get_settings, public_responses
from api.headers import IfNoneMatch, cached, cached_responses
from api.limits import public_rate_limit
from api.schemas.opendata import OpenDataSummary
from api.search import overdue_holds
from api.settings import Settings

router = APIRouter(prefix="/v1/open-data", tags=["open data"])
#: Days of `parcels_by_area_day`: today (so far) and the days before it, in the platform's
#: time zone.
DAYS = 30
#: Doors of holds past ``expires_at`` not yet swept, per size: free to the public, as search
#: and locker detail count them (the hold reads expired and the next booking takes the door).
_OVERDUE_PER_SIZE = overdue_holds(Compartment.size, func.count()).group_by(Compartment.size)


#: Seconds a browser or proxy may keep the summary: a dashboard polling it, or many visitors
#: of one, are answered by their caches, then by a 304 while the figures stand.
MAX_AGE_S = 60


@router.get(
    "/summary",
    response_model=OpenDataSummary,
    dependencies=[Depends(public_rate_limit)],
    responses=cached_responses(public_responses(), max_age_s=MAX_AGE_S, kept=f"{MAX_AGE_S} s"),
    summary="Lockers, capacity, utilisation and parcels per area and day (public)",
    description=f"The figures may be kept {MAX_AGE_S} s (`Cache-Control`), and then "
    "revalidated: the answer's `ETag` sent back in `If-None-Match` is a 304 without a body "
    "while they stand.",
)
def summary(
    if_none_match: IfNoneMatch = "",
    db: Database = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> Response:
    """Written here, not by FastAPI, to give it its ETag: the same figures on the same day
    are the same bytes."""
    figures = OpenDataSummary.model_validate(_figures(db, settings)).model_dump_json()
    return cached(
        figures.encode(),
        media_type="application/json",
        max_age_s=MAX_AGE_S,
        if_none_match=if_none_match,
    )


def _figures(db: Database, settings: Settings) -> dict:
    days = local_days(settings.time_zone, utcnow())
    with db.reading() as session:
        total, free, out_of_service = _compartments(session)
        rows = session.execute(_parcels_by_area_day([start for _, start in days])).all()
        in_service = sum(total.values()) - out_of_service
        return {
            "lockers": session.scalar(select(func.count(Locker.id))),
            "centres": session.scalar(select(func.count(Centre.id))),
            "compartments": total,
            "free": free,
            "utilisation": round(1 - sum(free.values()) / in_service, 4) if in_service else 0.0,
            "parcels_by_area_day": [
                {"area": area, "day": str(days[i][0]), "parcels": n} for area, i, n in rows
            ],
        }


def local_days(zone: ZoneInfo, now: datetime) -> list[tuple[date, datetime]]:
    """The last `DAYS` dates of the platform's calendar, today last, each with the UTC instant
    it begins at: the first is counted whole (cut at its start, not at this time of day 30
    days ago), and a day is the platform's, not UTC's (a deposit at 07:30 in Qingdao is that
    day's, not the day before's). Midnight by `zone`'s rules on that date, so a day across a
    daylight-saving change lasts 23 or 25 hours."""
    today = now.astimezone(zone).date()
    dates = [today - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    return [(d, datetime.combine(d, time(), zone).astimezone(UTC)) for d in dates]


def _parcels_by_area_day(starts: list[datetime]) -> Select:
    """(area, index of the day in ``starts``, parcels) deposited since ``starts[0]``. The day
    is found by comparing with each start in the database: no SQL time-zone arithmetic,
    which SQLite lacks."""
    day = case(
        *((Reservation.deposited_at >= start, i) for i, start in reversed(list(enumerate(starts))))
    )
    return (
        select(Locker.area, day, func.count())
        .join(Locker, Locker.id == Reservation.locker_id)
        .where(Reservation.deposited_at >= starts[0])
        .group_by(Locker.area, day)
        .order_by(day, Locker.area)
    )


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
