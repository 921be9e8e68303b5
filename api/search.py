"""Nearest-lockers search: an in-memory, latitude-sorted index per process, then exact haversine.

Each server process keeps the lockers in NumPy arrays sorted by latitude, with their free
compartments per size, refreshed in the background (see `LockerIndex`). A query takes the
latitude band of its radius by binary search, prefilters longitude, computes exact great-circle
distances for the few left, orders the nearest its page needs by (distance, id) and pages with a
keyset cursor bound to the query's parameters. No database round trip is on the request path.

A door still held by a reservation past its `expires_at` counts as free, as
`api.booking.effective_state` reads such a hold as expired and the next booking at its locker
releases it: the public sees it free before the sweeper writes it so.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import (
    Connection,
    Engine,
    Select,
    String,
    bindparam,
    case,
    cast,
    func,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from api.db.engine import UNREACHABLE, first_line
from api.db.models import SIZES, Compartment, Locker, LockersVersion, Reservation, utcnow
from api.paging import BadCursorError, decode_cursor, encode_cursor
from network.geo import EARTH_RADIUS_M, haversine_m

log = logging.getLogger("gongpei.search")
_COUNT_CHUNK = 200
#: What a snapshot's lockers are as of: the count of locker changes (`LockersVersion`, which
#: moves at commit) and, for rows written around the ORM, the number of lockers (columns, for
#: readers that ask more in the same query: the open-data summary).
LOCKERS_VERSION = (func.count(Locker.id), select(LockersVersion.changes).scalar_subquery())
_VERSION = select(*LOCKERS_VERSION)


def overdue_holds(*columns: Any) -> Select:
    """``columns`` of the doors held by a reservation due by ``:now`` that nothing has closed
    yet (a door taken out of service meanwhile stays out of service once the hold closes).
    Few rows: the sweeper closes such holds within seconds. Every public count of free doors
    (search, locker detail, open-data summary) adds these, so that they all agree."""
    return (
        select(*columns)
        .select_from(Reservation)
        .join(Compartment, Compartment.id == Reservation.compartment_id)
        .where(
            Reservation.state == "reserved",
            Reservation.expires_at <= bindparam("now"),
            Compartment.status == "reserved",
        )
    )


_IDS = bindparam("ids", expanding=True)
_PER_SIZE = (Compartment.locker_id, Compartment.size, func.count())
#: Free doors per (locker, size) of some lockers, as two groups of rows to add up: doors
#: marked free, and doors of overdue holds (one round trip).
_FREE = union_all(
    select(*_PER_SIZE)
    .where(Compartment.locker_id.in_(_IDS), Compartment.status == "free")
    .group_by(Compartment.locker_id, Compartment.size),
    overdue_holds(*_PER_SIZE)
    .where(Compartment.locker_id.in_(_IDS))
    .group_by(Compartment.locker_id, Compartment.size),
)
_BY_SIZE = (
    Compartment.locker_id,
    *(func.sum(case((Compartment.size == size, 1), else_=0)) for size in SIZES),
)
#: Free doors per size of every locker that has any, in the same two parts.
_ALL_FREE = union_all(
    select(*_BY_SIZE).where(Compartment.status == "free").group_by(Compartment.locker_id),
    overdue_holds(*_BY_SIZE).group_by(Compartment.locker_id),
)
_NONE_FREE = dict.fromkeys(SIZES, 0)
#: Every locker's availability stamp (`Locker.availability_changed_at`), as the database's
#: text: only compared for equality, and half the cost of converting 10,000 to datetimes.
_STAMPS = select(Locker.id, cast(Locker.availability_changed_at, String))
#: The stamps of the lockers stamped after ``:since``.
_STAMPED_SINCE = _STAMPS.where(Locker.availability_changed_at > bindparam("since"))
#: Lockers with a hold falling due in (``:since``, ``:now``]: free to the public from then on.
_FALLING_DUE = select(Reservation.locker_id).where(
    Reservation.state == "reserved",
    Reservation.expires_at > bindparam("since"),
    Reservation.expires_at <= bindparam("now"),
)


@dataclass(frozen=True)
class Query:
    lat: float
    lon: float
    radius_m: float
    size: str | None
    available_only: bool

    def fingerprint(self) -> list[Any]:
        return [self.lat, self.lon, self.radius_m, self.size, self.available_only]


def encode_query_cursor(query: Query, distance: float, locker_id: int) -> str:
    return encode_cursor([query.fingerprint(), distance, locker_id])


def decode_query_cursor(query: Query, cursor: str) -> tuple[float, int]:
    """The (distance, id) after which the next page starts; BadCursorError if not ours."""
    fingerprint, distance, locker_id = decode_cursor(cursor, 3)
    if fingerprint != query.fingerprint():
        raise BadCursorError("cursor was issued for different search parameters")
    try:
        return float(distance), int(locker_id)
    except (TypeError, ValueError, OverflowError) as err:  # 1e400 reads as inf
        raise BadCursorError from err


@dataclass(frozen=True)
class _Snapshot:
    version: tuple[Any, ...]
    ids: np.ndarray  # sorted by latitude
    lats: np.ndarray
    lons: np.ndarray
    info: dict[int, dict[str, Any]]  # locker id -> public fields and compartment totals
    #: size -> whether each locker (in `ids` order) has doors of that size: the size filter
    #: as one array operation (a lookup per locker in reach took 80 ms at 50,000 lockers)
    has_size: dict[str, np.ndarray]
    free: dict[int, dict[str, int]] | None  # locker id -> free doors per size (cached mode)
    stamps: dict[int, str | None] | None  # locker id -> availability stamp as of `free`


class Lockers(NamedTuple):
    """The lockers of one snapshot of a `LockerIndex` (`LockerIndex.lockers`): its version,
    which moves when a change to the lockers commits, and locker id -> public fields (name,
    operator, place, address, area, opening hours) and `total` doors per size. Read only."""

    version: tuple[Any, ...]
    info: Mapping[int, dict[str, Any]]


class LockerIndex:
    """The per-process locker index, thread-safe.

    With `max_age_s` > 0, a background thread refreshes it every `max_age_s` seconds: the
    lockers when a change to them committed (`LockersVersion`), and the free-door counts of
    the lockers stamped (`lockers.availability_changed_at`) since the last refresh, less a
    margin, with a stamp other than the one last read, or with a hold falling due. A booking
    that commits more than the margin after its stamp (a wait on a row lock), or stamped by a
    host whose clock runs behind, falls before that window: every `SWEEP_S` every locker's
    stamp is compared with the one last read, so such a count is stale for at most that
    long. (Comparing every stamp on every refresh cost 15-30 ms where a refresh costs 1-3 ms,
    at 10,000 lockers, mostly converting rows in Python while searches wait on the GIL.) A search
    then touches no database, and public availability is at most about `max_age_s` old;
    reservations never rely on these counts.
    With `max_age_s` == 0 every search revalidates the lockers and reads live counts for the
    lockers on its page.
    """

    #: Changes stamped this long before a refresh started are read again by the next one.
    MARGIN = timedelta(seconds=5)
    #: Seconds between comparisons of every locker's stamp.
    SWEEP_S = 30.0

    def __init__(self, engine: Engine, max_age_s: float) -> None:
        self.engine = engine
        self.max_age_s = max_age_s
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()
        self._refresher: threading.Thread | None = None
        self._since: datetime | None = None
        self._swept = 0.0  # time.monotonic() of the last comparison of every stamp
        self._stop = threading.Event()

    @property
    def live(self) -> bool:
        return self.max_age_s <= 0

    def snapshot(self) -> _Snapshot:
        snap = self._snapshot
        if snap is not None and not self.live:
            return snap
        with self._lock:
            if self._snapshot is None or self.live:
                self._refresh()
            if not self.live and self._refresher is None:
                self._refresher = threading.Thread(
                    target=self._refresh_forever, name="locker-index", daemon=True
                )
                self._refresher.start()
            return self._snapshot

    def lockers(self) -> Lockers:
        """Every locker's public fields and door totals as of the index's snapshot now, for
        readers that publish the lockers (the open-data registry) without a database round
        trip, in step with the search."""
        snap = self.snapshot()
        return Lockers(snap.version, MappingProxyType(snap.info))

    def _refresh(self) -> None:
        started, clock = utcnow(), time.monotonic()
        with self.engine.connect() as conn:
            version = tuple(conn.execute(_VERSION).one())
            snap = self._snapshot
            reload = snap is None or snap.version != version
            sweep = reload or clock - self._swept >= self.SWEEP_S
            window = {"since": self._since, "now": started}
            # stamps before counts: a booking committed in between is read again next time
            stamps = None
            if not self.live:
                stamps = dict(conn.execute(_STAMPS if sweep else _STAMPED_SINCE, window).all())
            if reload:
                snap = _load(conn, version)
                if not self.live:
                    snap = replace(snap, free=_all_free_counts(conn, started), stamps=stamps)
            elif not self.live:
                changed = {i for i, at in stamps.items() if snap.stamps.get(i) != at}
                changed.update(conn.scalars(_FALLING_DUE, window))
                snap.free.update(free_counts(conn, changed, started))  # safe for readers
                snap.stamps.update(stamps)
        self._snapshot = snap
        self._since = started - self.MARGIN
        if sweep:
            self._swept = clock

    def close(self) -> None:
        """Stop the background refresher (at app shutdown)."""
        self._stop.set()
        if self._refresher is not None:
            self._refresher.join(timeout=5)

    def _refresh_forever(self) -> None:
        """Refresh every `max_age_s` until closed, serving the last snapshot while a refresh
        fails. A failure is logged when it begins and the recovery when it ends, not each
        time: during an outage each server process logged a 100-line traceback a second."""
        failing_since: float | None = None
        while not self._stop.wait(self.max_age_s):
            try:
                self._refresh()
            except Exception as err:
                if failing_since is None:
                    failing_since = time.monotonic()
                    _log_failure(err)
                continue
            if failing_since is not None:
                # warning, as the failure was: a server process shows no lower level
                log.warning(
                    "locker index refreshed again after %.1f s of failures",
                    time.monotonic() - failing_since,
                )
                failing_since = None

    def search(
        self, query: Query, *, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` lockers nearest first, each with distance and free counts; next cursor."""
        snap = self.snapshot()
        ids, dist = _within(snap, query)
        if cursor is not None:
            after_d, after_id = decode_query_cursor(query, cursor)
            later = (dist > after_d) | ((dist == after_d) & (ids > after_id))
            ids, dist = ids[later], dist[later]
        page: list[dict[str, Any]] = []
        step = _COUNT_CHUNK if query.available_only else limit + 1
        chunks = _nearest_first(ids, dist, first=max(step, limit + 1), step=step)
        for chunk_ids, chunk_dist in chunks:
            free = snap.free if snap.free is not None else self._live_counts(chunk_ids)
            for locker_id, d in zip(chunk_ids, chunk_dist, strict=True):
                counts = free.get(locker_id, _NONE_FREE)
                if query.available_only and not _has_free(counts, query.size):
                    continue
                page.append({**snap.info[locker_id], "distance_m": d, "free": counts})
                if len(page) > limit:
                    break
            if len(page) > limit:
                break
        next_cursor = None
        if len(page) > limit:
            page = page[:limit]
            last = page[-1]
            next_cursor = encode_query_cursor(query, last["distance_m"], last["id"])
        for item in page:
            item["distance_m"] = round(item["distance_m"], 1)
        return page, next_cursor

    def _live_counts(self, locker_ids: list[int]) -> dict[int, dict[str, int]]:
        with self.engine.connect() as conn:
            return free_counts(conn, locker_ids)


def _log_failure(err: Exception) -> None:
    """One line for the database out of reach (its first line says why), a traceback for
    anything else (a bug, shown once until a refresh succeeds)."""
    if isinstance(err, UNREACHABLE):
        log.warning(
            "locker index not refreshed, database out of reach (searches use the last "
            "snapshot until it is back): %s",
            first_line(err),
        )
    else:
        log.exception("locker index refresh failed (searches use the last snapshot)")


def _within(snap: _Snapshot, query: Query) -> tuple[np.ndarray, np.ndarray]:
    """Ids and distances of the lockers within the radius (with doors of the query's size,
    if it names one), in no order (`_nearest_first` orders what a page reads). The
    longitude window is the radius over the cosine of the circle's highest latitude (never
    narrower than the circle), and none where the circle holds a pole: that cosine, clamped
    at 89.9 degrees, gave about +-1 degree near a pole and missed lockers 56 m away."""
    dlat = np.degrees(query.radius_m / EARTH_RADIUS_M)
    lo = int(np.searchsorted(snap.lats, query.lat - dlat, side="left"))
    hi = int(np.searchsorted(snap.lats, query.lat + dlat, side="right"))
    ids, lats, lons = snap.ids[lo:hi], snap.lats[lo:hi], snap.lons[lo:hi]
    if query.size is not None:  # lockers without doors of the size asked for are left out
        sized = snap.has_size[query.size][lo:hi]
        ids, lats, lons = ids[sized], lats[sized], lons[sized]
    if abs(query.lat) + dlat < 90.0:  # a circle holding a pole reaches every longitude
        coslat = max(np.cos(np.radians(abs(query.lat) + dlat)), 1e-6)
        near = np.abs((lons - query.lon + 180.0) % 360.0 - 180.0) <= dlat / coslat
        ids, lats, lons = ids[near], lats[near], lons[near]
    dist = haversine_m(query.lat, query.lon, lats, lons)
    inside = dist <= query.radius_m
    return ids[inside], dist[inside]


def _nearest_first(
    ids: np.ndarray, dist: np.ndarray, *, first: int, step: int
) -> Iterator[tuple[list[int], list[float]]]:
    """The lockers by (distance, id), as lists of up to ``step`` ids and their distances.
    Only the part a page reads is ordered: the nearest ``first`` (and any as near as the last
    of them), then twice as many of the rest each time a page skips lockers (none free).
    Ordering every locker in reach for each page (a sort of 20,000 distances: 2.9 ms, most
    of a search) cost more than picking the nearest 1,001 (`np.partition`: 0.2 ms)."""
    while len(dist):
        if first < len(dist):
            near = dist <= np.partition(dist, first - 1)[first - 1]
            block, block_dist = ids[near], dist[near]
            ids, dist = ids[~near], dist[~near]
        else:
            block, block_dist, ids, dist = ids, dist, ids[:0], dist[:0]
        order = np.lexsort((block, block_dist))
        block, block_dist = block[order], block_dist[order]
        for start in range(0, len(block), step):
            yield block[start : start + step].tolist(), block_dist[start : start + step].tolist()
        first *= 2


def _has_free(counts: dict[str, int], size: str | None) -> bool:
    return counts[size] > 0 if size else any(counts.values())


def free_counts(
    conn: Connection, locker_ids: Iterable[int], now: datetime | None = None
) -> dict[int, dict[str, int]]:
    """Live number of free compartments per size for each locker id, as of ``now``."""
    locker_ids = list(locker_ids)
    if not locker_ids:
        return {}
    rows = conn.execute(_FREE, {"ids": locker_ids, "now": now or utcnow()})
    counts = {i: dict.fromkeys(SIZES, 0) for i in locker_ids}
    for locker_id, size, n in rows:
        counts[locker_id][size] += n
    return counts


def _all_free_counts(conn: Connection, now: datetime) -> dict[int, dict[str, int]]:
    """Free doors per size of every locker that has any (one aggregate query)."""
    counts: dict[int, dict[str, int]] = {}
    for locker_id, *per_size in conn.execute(_ALL_FREE, {"now": now}):
        mine = counts.setdefault(locker_id, dict.fromkeys(SIZES, 0))
        for size, n in zip(SIZES, per_size, strict=True):
            mine[size] += int(n)
    return counts


def overdue_doors(session: Session, locker_id: int) -> set[int]:
    """Ids of the locker's doors held by an overdue reservation: free to the public."""
    query = overdue_holds(Compartment.id).where(Compartment.locker_id == locker_id)
    return set(session.scalars(query, {"now": utcnow()}))


def _load(conn: Connection, version: tuple[Any, ...]) -> _Snapshot:
    rows = conn.execute(
        select(
            Locker.id,
            Locker.name,
            Locker.operator,
            Locker.lat,
            Locker.lon,
            Locker.address,
            Locker.area,
            Locker.opening_hours,
        ).order_by(Locker.lat, Locker.id)
    ).all()
    totals: dict[int, dict[str, int]] = {r.id: dict.fromkeys(SIZES, 0) for r in rows}
    for locker_id, size, n in conn.execute(
        select(Compartment.locker_id, Compartment.size, func.count()).group_by(
            Compartment.locker_id, Compartment.size
        )
    ):
        if locker_id in totals:
            totals[locker_id][size] = n
    info = {r.id: {**r._asdict(), "total": totals[r.id]} for r in rows}
    return _Snapshot(
        version=version,
        ids=np.array([r.id for r in rows], dtype=np.int64),
        lats=np.array([r.lat for r in rows], dtype=np.float64),
        lons=np.array([r.lon for r in rows], dtype=np.float64),
        info=info,
        has_size={
            size: np.array([totals[r.id][size] > 0 for r in rows], dtype=bool) for size in SIZES
        },
        free=None,
        stamps=None,
    )
