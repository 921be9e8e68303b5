"""What the search cache's background refresh costs: a plain refresh against a sweep.

For SQLite and PostgreSQL in turn: `benchmarks/api_load.py`'s database of 10,000 lockers, then
rounds of "10 bookings stamp their lockers, the index refreshes". A plain refresh reads the
lockers stamped in its window; a sweep (every `LockerIndex.SWEEP_S`) compares every locker's
stamp. Prints the median of each, side by side, in one run.

    .venv/bin/python benchmarks/index_refresh.py [--lockers 10000] [--rounds 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import update

sys.path.insert(0, str(Path(__file__).parent))
from api_load import populate, postgres_schema_url

from api.db.engine import Database
from api.db.models import Locker, utcnow
from api.search import LockerIndex


def refresh_ms(db: Database, *, n_lockers: int, rounds: int, sweep: bool) -> float:
    """Median milliseconds of a refresh after 10 lockers were stamped."""
    index = LockerIndex(db.engine, max_age_s=3600)  # refreshed by hand, no thread
    index._refresh()
    times = []
    for k in range(rounds):
        first = (k * 10) % n_lockers + 1
        with db.writing() as session:
            session.execute(
                update(Locker)
                .where(Locker.id.between(first, first + 9))
                .values(availability_changed_at=utcnow())
            )
        if sweep:
            index._swept -= index.SWEEP_S
        start = time.perf_counter()
        index._refresh()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def measure(name: str, url: str, args: argparse.Namespace) -> None:
    populate(url, args.lockers)
    db = Database(url)
    try:
        plain = refresh_ms(db, n_lockers=args.lockers, rounds=args.rounds, sweep=False)
        swept = refresh_ms(db, n_lockers=args.lockers, rounds=args.rounds, sweep=True)
    finally:
        db.dispose()
    print(f"| {name} | {args.lockers:,} | {plain:.2f} | {swept:.2f} | {swept / plain:.1f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lockers", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    print("| backend | lockers | refresh ms (median) | sweep ms (median) | sweep / refresh |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        measure("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args)
    found = postgres_schema_url()
    if found is not None:
        url, drop = found
        try:
            measure("PostgreSQL", url, args)
        finally:
            drop()


if __name__ == "__main__":
    main()
