"""Several `gongpei serve` processes race for the last compartments: none is double-booked."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from api.db.models import Compartment, Reservation
from api.lockers import create_locker
from api.security import create_firm

pytestmark = pytest.mark.slow


def test_concurrent_reservations_across_server_processes(db, start_servers):
    with db.writing() as session:
        locker = create_locker(session, name="Race", lat=36.0, lon=120.0, compartments={"M": 10})
        keys = [create_firm(session, f"racer-{i}", "firm")[1] for i in range(3)]
    urls = start_servers(3, cli=False)

    def attempt(i: int) -> int:
        url = urls[i % len(urls)]
        r = httpx.post(
            f"{url}/v1/lockers/{locker.id}/reservations",
            json={"size": "M", "parcel_ref": f"P{i}"},
            headers={"X-API-Key": keys[i % len(keys)]},
            timeout=60,
        )
        return r.status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        codes = list(pool.map(attempt, range(60)))
    assert codes.count(201) == 10
    assert codes.count(409) == 50
    with db.reading() as session:
        active = session.execute(
            select(Reservation.compartment_id, func.count())
            .where(Reservation.state.in_(("reserved", "deposited")))
            .group_by(Reservation.compartment_id)
        ).all()
        reserved = session.scalar(
            select(func.count()).where(Compartment.status == "reserved")
        )
    assert len(active) == 10 and all(n == 1 for _, n in active)
    assert reserved == 10
