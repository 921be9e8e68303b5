"""Two `gongpei lockers import` runs at the same time, with a `ref` neither has stored yet."""

from __future__ import annotations

import json
import threading

from sqlalchemy import func, select

from api import lockers as lockers_module
from api.db.models import Compartment, Locker
from api.lockers import import_geojson


def _feature(ref: str, lon: float) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, 36.06]},
        "properties": {"ref": ref, "name": f"Locker {ref}", "compartments": {"S": 4, "M": 2}},
    }


def test_concurrent_imports_of_a_new_ref_end_as_if_one_after_the_other(
    db, tmp_path, monkeypatch
):
    """Both imports looked up the refs, found "new" absent and inserted it; the later insert
    hit the unique `ref` and its import failed with an IntegrityError traceback. Now it skips
    "new" as an import run after the other does (1 added + 1 present, then 0 + 2).

    The first import to reach its insert waits there until the other has looked too, so on
    PostgreSQL the race is certain. On SQLite the other cannot look (its BEGIN IMMEDIATE
    queues behind the first's write lock), so the wait times out and the runs are serial."""
    path = tmp_path / "lockers.geojson"
    features = [_feature("old", 120.38)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with db.writing() as session:
        import_geojson(session, path)
    features.append(_feature("new", 120.39))
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))

    insert_chunk = lockers_module._insert_chunk  # where an import writes what it found new
    arrived: list[str] = []
    both_looked = threading.Event()
    guard = threading.Lock()

    def insert_after_both_looked(session, chunk):
        with guard:
            arrived.append(threading.current_thread().name)
            first = len(arrived) == 1
        if first:
            both_looked.wait(timeout=0.5 if db.is_sqlite else 10)
        else:
            both_looked.set()
        return insert_chunk(session, chunk)

    monkeypatch.setattr(lockers_module, "_insert_chunk", insert_after_both_looked)
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with db.writing() as session:
                results.append(import_geojson(session, path))
        except BaseException as err:  # reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=run, name=f"import-{i}") for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert both_looked.is_set() is not db.is_sqlite
    assert errors == []
    assert sorted(results) == [(0, 2), (1, 1)]
    with db.reading() as session:
        assert sorted(session.scalars(select(Locker.external_ref))) == ["new", "old"]
        doors = select(Locker.external_ref, func.count(Compartment.id)).join(Locker.compartments)
        assert dict(session.execute(doors.group_by(Locker.external_ref)).all()) == {
            "new": 6,
            "old": 6,
        }
