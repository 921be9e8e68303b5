"""`gongpei lockers import` at a city's size: the lockers and their doors are written in a few
multi-row INSERTs, not a savepoint, an INSERT and a flush per locker (50,000 lockers took
minutes), with the same doors, labels, skips and search-cache version as before."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import event, func, select

from api.db.models import Compartment, Locker, LockersVersion
from api.lockers import import_geojson

N = 300


def _features(n: int, start: int = 0) -> list[dict]:
    return [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [118.78 + i * 1e-4, 32.04]},
            "properties": {
                "name": f"Locker {i}",
                "ref": f"R{i}" if i % 3 else None,  # every third without a ref
                "compartments": {"S": 2, "M": 1, "L": i % 2},
            },
        }
        for i in range(start, start + n)
    ]


def _write(tmp_path: Path, features: list[dict], name: str = "lockers.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _statements(db, path: Path) -> tuple[tuple[int, int], int]:
    """What `import_geojson` returns, and the SQL statements it sent."""
    sent: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.writing() as session:
            result = import_geojson(session, path)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return result, len(sent)


def test_a_large_file_is_written_in_few_statements(db, tmp_path: Path) -> None:
    """Before: 6.5 statements per locker (savepoint, INSERTs, release): 1,953 here."""
    (added, skipped), statements = _statements(db, _write(tmp_path, _features(N)))
    assert (added, skipped) == (N, 0)
    assert statements < N + 20, statements  # at most one INSERT per locker (SQLite: rows
    # come back in order only one at a time), the doors in bulk


def test_bulk_import_stores_what_the_locker_api_would(db, tmp_path: Path) -> None:
    with db.reading() as session:
        version = session.scalar(select(LockersVersion.changes)) or 0
    _statements(db, _write(tmp_path, _features(N)))
    with db.reading() as session:
        assert session.scalar(select(func.count(Locker.id))) == N
        doors = session.scalar(select(func.count(Compartment.id)))
        assert doors == sum(3 + i % 2 for i in range(N))
        locker = session.scalar(select(Locker).where(Locker.name == "Locker 7"))
        assert locker.external_ref == "R7"
        assert (locker.operator, locker.opening_hours, locker.address) == ("", "24/7", "")
        assert locker.created_at is not None and locker.updated_at is not None
        labels = [(c.label, c.size, c.status, c.width_mm) for c in locker.compartments]
        assert labels == [
            ("S01", "S", "free", 380),
            ("S02", "S", "free", 380),
            ("M01", "M", "free", 380),
            ("L01", "L", "free", 380),
        ]
        assert session.scalar(select(Locker.external_ref).where(Locker.name == "Locker 3")) is None
        # the search caches see the change by the counter, not only by the count of lockers
        assert session.scalar(select(LockersVersion.changes)) == version + 1


def test_a_second_import_skips_the_refs_stored_and_adds_the_rest(db, tmp_path: Path) -> None:
    _statements(db, _write(tmp_path, _features(N)))
    again = _features(N) + _features(10, start=N)
    (added, skipped), _ = _statements(db, _write(tmp_path, again, "again.geojson"))
    refless_again = sum(1 for i in range(N) if i % 3 == 0)  # no ref: no way to tell, added
    assert (added, skipped) == (refless_again + 10, N - refless_again)
    with db.reading() as session:
        assert session.scalar(select(func.count(Locker.id))) == 2 * N + 10 - (N - refless_again)
