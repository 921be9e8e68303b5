"""The open-data summary in a busy city: a door is taken every second, so its data's version
moved every time a server process asked, once per GONGPEI_SEARCH_CACHE_S, and each process
counted it again as often (0.5 s of CPU at 50,000 lockers). With the search's index kept,
a process now answers with the figures it counted for `opendata.RECOUNT_S` before asking; with
a live index (GONGPEI_SEARCH_CACHE_S=0) every request still asks
(tests/api/test_api_open_data_kept.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from api import booking, opendata_cache
from api.db.models import Firm
from api.routers import opendata

SUMMARY = "/v1/open-data/summary"


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    """The kept values' clock (`time.monotonic` in api.opendata_cache), moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(opendata_cache, "time", SimpleNamespace(monotonic=lambda: now[0]))
    return now


def _book(db, locker_id: int, ref: str) -> None:
    with db.writing() as session:
        firm = session.scalars(select(Firm).where(Firm.name == "firm-a")).one()
        booking.reserve(session, firm, locker_id, size="S", parcel_ref=ref,
                        allow_larger=False, ttl_s=600)  # fmt: skip


def test_a_booking_a_second_is_counted_once_per_recount_age(
    make_client, db, lockers, auth, clock, monkeypatch
):
    """Before: counted again a second after each booking (4 times here); now once per
    `RECOUNT_S`, and the bookings meanwhile show in the next count."""
    counted: list[dict] = []
    figures = opendata._figures
    monkeypatch.setattr(opendata, "_figures", lambda *a: counted.append(figures(*a)) or counted[-1])
    client = make_client(search_cache_s=1.0)
    assert client.get(SUMMARY).json()["free"]["S"] == 10
    for k in range(3):
        _book(db, lockers[k], f"P{k}")
        clock[0] += 1.5
        assert client.get(SUMMARY).json()["free"]["S"] == 10
    clock[0] += opendata.RECOUNT_S
    assert client.get(SUMMARY).json()["free"]["S"] == 7
    assert len(counted) == 2
