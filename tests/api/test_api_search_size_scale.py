"""The locker search's size filter at a city's size: it looked up every locker in reach, one by
one in Python, before paging (80 ms a search at 50,000 lockers, 20 pages per /map load); it is
now an array of "has doors of this size" in the index, and a search reads only its page."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from api.lockers import import_geojson
from api.search import LockerIndex, Query

N = 400


class _CountingDict(dict):
    """The index's locker details, counting the lookups a search makes."""

    lookups = 0

    def __getitem__(self, key):
        type(self).lookups += 1
        return super().__getitem__(key)


def _index(db, tmp_path: Path) -> LockerIndex:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [118.78 + i * 1e-4, 32.04]},
            "properties": {
                "name": f"Locker {i}",
                "compartments": {"S": 2, "L": 1} if i % 4 == 0 else {"S": 2},
            },
        }
        for i in range(N)
    ]
    path = tmp_path / "lockers.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with db.writing() as session:
        import_geojson(session, path)
    index = LockerIndex(db.engine, max_age_s=0)  # live: no refresher thread
    index._snapshot = replace(index.snapshot(), info=_CountingDict(index.snapshot().info))
    return index


def test_a_sized_search_reads_its_page_not_every_locker_in_reach(db, tmp_path: Path) -> None:
    """Before: 406 lookups (every one of the 400 lockers in reach, then the page's 6)."""
    index = _index(db, tmp_path)
    query = Query(lat=32.04, lon=118.78, radius_m=50_000, size="L", available_only=False)
    _CountingDict.lookups = 0
    page, cursor = index.search(query, limit=5, cursor=None)
    assert len(page) == 5 and cursor is not None
    assert _CountingDict.lookups <= 6


def test_sized_pages_list_every_locker_with_the_size_nearest_first(db, tmp_path: Path) -> None:
    index = _index(db, tmp_path)
    query = Query(lat=32.04, lon=118.78, radius_m=50_000, size="L", available_only=False)
    seen: list[dict] = []
    cursor = None
    while True:
        page, cursor = index.search(query, limit=30, cursor=cursor)
        seen.extend(page)
        if cursor is None:
            break
    assert [item["name"] for item in seen] == [f"Locker {i}" for i in range(0, N, 4)]
    assert all(item["total"]["L"] == 1 for item in seen)
    distances = [item["distance_m"] for item in seen]
    assert distances == sorted(distances)
