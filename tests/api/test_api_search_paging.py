"""The locker search's pages order only the lockers they read. Each page sorted the distances
of every locker in reach (20,000 at a city's size, the most of a search's time), to answer
its 1,000 or its 100; it now picks the nearest it needs first (`api.search._nearest_first`).
The pages stay those of the one order by (distance, id), ties and later pages included, and
a cursor still reads as "after this distance and id" in the index as it is when it comes back.
"""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import update

from api.db.models import Compartment
from api.lockers import create_locker
from api.search import LockerIndex, Query

N = 60
#: Every locker in reach of the query.
WIDE = Query(lat=32.04, lon=118.78, radius_m=50_000, size=None, available_only=False)


@pytest.fixture
def index(db) -> LockerIndex:
    """Lockers in pairs at one place (the same distance: ordered by id) along a line east,
    a third of them with no free door; the index live (no refresher thread)."""
    with db.writing() as session:
        for i in range(N):
            locker = create_locker(
                session, name=f"Locker {i}", lat=32.04, lon=118.78 + (i // 2) * 1e-4,
                compartments={"S": 2},
            )  # fmt: skip
            if i % 3 == 0:
                session.flush()
                session.execute(
                    update(Compartment)
                    .where(Compartment.locker_id == locker.id)
                    .values(status="occupied")
                )
    return LockerIndex(db.engine, max_age_s=0)


def _walk(index: LockerIndex, query: Query, limit: int) -> list[tuple[int, float]]:
    seen: list[tuple[int, float]] = []
    cursor = None
    while True:
        page, cursor = index.search(query, limit=limit, cursor=cursor)
        assert len(page) <= limit
        seen += [(item["id"], item["distance_m"]) for item in page]
        if cursor is None:
            return seen


@pytest.mark.parametrize("available_only", [False, True])
@pytest.mark.parametrize("limit", [1, 5, 7])
def test_pages_put_together_are_the_one_big_page(index, limit, available_only) -> None:
    query = Query(WIDE.lat, WIDE.lon, WIDE.radius_m, None, available_only)
    whole, cursor = index.search(query, limit=1000, cursor=None)
    assert cursor is None
    assert _walk(index, query, limit) == [(i["id"], i["distance_m"]) for i in whole]
    assert len(whole) == (N - N // 3 if available_only else N)
    keys = [(i["distance_m"], i["id"]) for i in whole]
    assert keys == sorted(keys)


def test_a_page_orders_the_lockers_it_reads_not_every_one_in_reach(index, monkeypatch) -> None:
    """Before: every page sorted the 60 lockers in reach (what it skipped by its cursor
    left out); now the nearest 6 (and the one as near as the 6th) for a page of 5."""
    sorted_sizes: list[int] = []
    lexsort = np.lexsort

    def counted(keys, *args, **kwargs):
        sorted_sizes.append(len(keys[0]))
        return lexsort(keys, *args, **kwargs)

    monkeypatch.setattr(np, "lexsort", counted)
    page, cursor = index.search(WIDE, limit=5, cursor=None)
    assert len(page) == 5 and cursor is not None
    assert sum(sorted_sizes) <= 7
    sorted_sizes.clear()
    index.search(WIDE, limit=5, cursor=cursor)
    assert sum(sorted_sizes) <= 7


def test_a_locker_added_between_pages(db, index) -> None:
    """A locker added after the first page: farther than its last, it is in a later page in
    its place; nearer, it is not (the cursor is a distance and an id, as it was)."""
    first, cursor = index.search(WIDE, limit=10, cursor=None)
    with db.writing() as session:
        far = create_locker(session, name="Far", lat=32.04, lon=118.78 + 20.5e-4,
                            compartments={"S": 1}).id  # fmt: skip
        near = create_locker(session, name="Near", lat=32.04, lon=118.78 + 0.5e-4,
                             compartments={"S": 1}).id  # fmt: skip
    rest: list[int] = []
    while cursor is not None:
        page, cursor = index.search(WIDE, limit=10, cursor=cursor)
        rest += [item["id"] for item in page]
    now, _ = index.search(WIDE, limit=1000, cursor=None)
    after_first = [i["id"] for i in now if i["id"] not in {x["id"] for x in first}]
    assert far in rest and near not in rest
    assert rest == [i for i in after_first if i != near]
