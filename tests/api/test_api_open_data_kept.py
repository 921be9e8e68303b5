"""The open-data summary and registry are computed once per version of their data and kept by
each server process. The summary was counted again on every request (0.4-0.6 s at 50,000
lockers: 20 requests a second kept a core busy), and concurrent requests for the registry
after a locker change each built it. A change committed by another process (here: another
connection pool on the same database, as a second server process's) shows on the next
request."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from api import booking
from api.db.models import Centre, Compartment, Firm, Locker, Reservation, utcnow
from api.lockers import create_locker
from api.routers import opendata
from api.search import LockerIndex

SUMMARY = "/v1/open-data/summary"
REGISTRY = "/v1/open-data/lockers"


@pytest.fixture
def computed(monkeypatch) -> list[int]:
    """Counts the summary's computations (one item each)."""
    calls: list[int] = []
    figures = opendata._figures

    def counted(*args, **kwargs):
        calls.append(1)
        return figures(*args, **kwargs)

    monkeypatch.setattr(opendata, "_figures", counted)
    return calls


def _firm(db, name: str = "firm-a") -> Firm:
    with db.reading() as session:
        firm = session.scalars(select(Firm).where(Firm.name == name)).one()
        session.expunge(firm)
        return firm


def test_repeated_summaries_are_counted_once(client, lockers, computed):
    answers = [client.get(SUMMARY) for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3
    assert len({a.content for a in answers}) == 1 and len({a.headers["ETag"] for a in answers}) == 1
    tag = answers[0].headers["ETag"]
    assert client.get(SUMMARY, headers={"If-None-Match": tag}).status_code == 304
    assert len(computed) == 1


def test_changes_by_another_process_show_on_the_next_request(client, db, lockers, auth, computed):
    """Each kind of change the summary counts, committed through another connection pool: a
    booking (a door taken), a deposit (a parcel of the day, the door still taken), a pickup
    (a door freed), a locker added, a centre added, a hold falling due (nothing written but
    the time)."""
    seen = [client.get(SUMMARY)]
    firm = _firm(db)

    def changed(check) -> None:
        answer = client.get(SUMMARY)
        assert answer.headers["ETag"] != seen[-1].headers["ETag"]
        check(answer.json())
        seen.append(answer)

    with db.writing() as session:
        held = booking.reserve(session, firm, lockers[0], size="L", parcel_ref="P1",
                               allow_larger=False, ttl_s=600)  # fmt: skip
        held_id, code = held.id, held.pickup_code
    changed(lambda s: s["free"]["L"] == 3)
    with db.writing() as session:
        booking.deposit(session, firm, held_id)
    changed(lambda s: s["parcels_by_area_day"][0]["parcels"] == 1 and s["free"]["L"] == 3)
    with db.writing() as session:
        booking.pickup(session, firm, held_id, code)
    changed(lambda s: s["parcels_by_area_day"][0]["parcels"] == 1 and s["free"]["L"] == 4)
    with db.writing() as session:
        create_locker(session, name="New", lat=36.07, lon=120.39, compartments={"M": 4})
    changed(lambda s: s["lockers"] == 6 and s["free"]["M"] == 14)
    with db.writing() as session:
        session.add(Centre(name="Hub", lat=36.07, lon=120.38))
    changed(lambda s: s["centres"] == 1)
    with db.writing() as session:
        late = booking.reserve(session, firm, lockers[1], size="L", parcel_ref="P2",
                               allow_larger=False, ttl_s=600)  # fmt: skip
        late_id = late.id
    changed(lambda s: s["free"]["L"] == 2)
    with db.writing() as session:  # as time does: only `expires_at` passes
        session.execute(
            update(Reservation)
            .where(Reservation.id == late_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    changed(lambda s: s["free"]["L"] == 3)
    assert client.get(SUMMARY).headers["ETag"] == seen[-1].headers["ETag"]
    assert len(computed) == len(seen)


def test_a_change_committed_after_a_later_stamp_is_counted_once_settled(
    client, db, lockers, auth, monkeypatch
):
    """A booking stamps its locker at flush: one stamped before the latest stamp but
    committed after it leaves the latest stamp as it was. A stamp less than
    `LockerIndex.MARGIN` old is unsettled, and the figures are counted again once it is."""
    firm = _firm(db)
    with db.writing() as session:
        booking.reserve(session, firm, lockers[0], size="L", parcel_ref="P1",
                        allow_larger=False, ttl_s=600)  # fmt: skip
        latest = session.scalar(select(Locker.availability_changed_at).where(
            Locker.id == lockers[0]))  # fmt: skip
    assert client.get(SUMMARY).json()["free"]["L"] == 3
    with db.writing() as session:  # stamped a second before, committed now
        door = session.scalars(
            select(Compartment).where(Compartment.locker_id == lockers[1], Compartment.size == "L")
        ).one()
        door.status = "reserved"
        session.execute(
            update(Locker)
            .where(Locker.id == lockers[1])
            .values(availability_changed_at=latest - timedelta(seconds=1))
        )
    later = utcnow() + LockerIndex.MARGIN
    monkeypatch.setattr(opendata, "utcnow", lambda: later)
    assert client.get(SUMMARY).json()["free"]["L"] == 2


def test_the_summary_is_counted_again_on_a_new_day(client, lockers, computed, monkeypatch):
    first = client.get(SUMMARY)
    tomorrow = utcnow() + timedelta(days=1)
    monkeypatch.setattr(opendata, "utcnow", lambda: tomorrow)
    client.get(SUMMARY)
    assert len(computed) == 2 and first.status_code == 200


def test_the_summary_is_trusted_for_the_searchs_age(make_client, db, lockers, computed):
    """With the search's index kept (`GONGPEI_SEARCH_CACHE_S`), the summary is too: its
    version is not even asked within that age of the last time it was current."""
    client = make_client(search_cache_s=3600)
    before = client.get(SUMMARY).json()
    with db.writing() as session:
        session.add(Centre(name="Hub", lat=36.07, lon=120.38))
    assert client.get(SUMMARY).json() == before
    assert len(computed) == 1


def test_concurrent_registry_requests_build_it_once(client, lockers, monkeypatch):
    """Requests arriving while the registry is built wait for it rather than build it again."""
    builds: list[int] = []
    building, release = threading.Event(), threading.Event()
    of = opendata._Registry.of.__func__

    def slow(cls, *args):
        builds.append(1)
        building.set()
        release.wait(10)
        return of(cls, *args)

    monkeypatch.setattr(opendata._Registry, "of", classmethod(slow))
    codes: list[int] = []
    threads = [threading.Thread(target=lambda: codes.append(client.get(REGISTRY).status_code))
               for _ in range(3)]  # fmt: skip
    threads[0].start()
    assert building.wait(10)
    for thread in threads[1:]:
        thread.start()
    time.sleep(0.3)  # the others reach the build (or would start their own)
    release.set()
    for thread in threads:
        thread.join(10)
    assert codes == [200] * 3 and len(builds) == 1


def test_the_registry_follows_a_locker_added_by_another_process(client, db, lockers):
    first = client.get(REGISTRY)
    with db.writing() as session:
        create_locker(session, name="New", lat=36.07, lon=120.39, compartments={"M": 4})
    again = client.get(REGISTRY, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and len(again.json()["items"]) == 6
