"""Creating lockers with their compartments, one by one (admin API) or from a GeoJSON file."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.models import _LOCKERS_CHANGED, SIZES, Compartment, Locker, utcnow
from api.schemas.lockers import LockerCreate
from network.datum import DEFAULT_DATUM, check_datum, to_wgs84
from network.errors import GongpeiError
from network.jsonfile import NOT_FINITE, NotJson, load_json, number_problem

#: Default inner dimensions (width, height, depth in mm) of the usual parcel-locker doors.
DEFAULT_DIMENSIONS_MM: dict[str, tuple[int, int, int]] = {
    "S": (380, 80, 640),
    "M": (380, 190, 640),
    "L": (380, 410, 640),
}
#: Lockers an import writes at once (with their doors, about 20 each).
_CHUNK = 1000
#: The GeoJSON properties (in a feature's `properties`) that fill each `LockerCreate` field: the
#: first one given. A siting plan's locker layer (`gongpei site --geojson`, a scenario's
#: `layers/lockers.geojson`) names each site by its `id` alone (`_TEXT_ONLY`), so it imports as
#: written: a planner who sited lockers had to retype them to publish them.
_PROPERTIES = {
    "name": ("name", "id"),
    "operator": ("operator",),
    "address": ("address",),
    "area": ("area",),
    "opening_hours": ("opening_hours",),
    "external_ref": ("ref", "id"),
    "compartments": ("compartments",),
}
#: Properties that stand in for a field only as text: a number `id` (a platform export's, a
#: GIS tool's row number) says nothing of a locker, and files with one imported before.
_TEXT_ONLY = {"id"}
#: Where a locker's doors are missing, what a file may give: a scenario's layer has the flat
#: counts `S`, `M`, `L` (as GIS tools read them), a siting plan its sizing's counts only.
_NO_COMPARTMENTS = (
    'is missing: give compartments {"S": n, "M": n, "L": n} or the counts S, M, L (a siting '
    "plan has them only where its input sizes the lockers: add a 'sizing')"
)
#: How a refused property reads, by pydantic's error type; other types in pydantic's words.
_REASONS = {
    "missing": "is missing",
    "string_type": "must be text",
    "string_too_long": "must be at most {max_length} characters",
    "string_pattern_mismatch": "must not contain a NUL character",  # `Text`'s one pattern
    "dict_type": "must map sizes S/M/L to counts",
    "int_type": "must be a whole number",
    "literal_error": "must be {expected}",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
}


class LockerInputError(GongpeiError):
    """A locker definition with a missing or invalid field."""


def day_locker(item: Mapping[str, Any]) -> dict[str, Any]:
    """A platform locker (an item of `GET /v1/lockers`) as a pooling day's locker: its place
    and the compartments free now, under the id `platform-<id>`."""
    return {
        "id": f"platform-{item['id']}",
        "at": [item["lat"], item["lon"]],
        "free": dict(item["free"]),
    }


def _new_doors(existing: set[str], counts: Mapping[str, int]) -> Iterator[dict[str, Any]]:
    """The rows of `counts[size]` new doors of each size, labelled S01, S02, ... after the
    labels in ``existing`` (which gains theirs), with the usual doors' dimensions."""
    for size in SIZES:
        width, height, depth = DEFAULT_DIMENSIONS_MM[size]
        number = 0
        for _ in range(int(counts.get(size, 0))):
            number += 1
            while f"{size}{number:02d}" in existing:
                number += 1
            label = f"{size}{number:02d}"
            existing.add(label)
            yield {
                "label": label, "size": size, "width_mm": width, "height_mm": height,
                "depth_mm": depth,
            }


def add_compartments(session: Session, locker: Locker, counts: Mapping[str, int]) -> None:
    """Add `counts[size]` doors of each size, labelled S01, S02, ... after any existing ones."""
    existing = {c.label for c in locker.compartments}
    for door in _new_doors(existing, counts):
        compartment = Compartment(**door)
        locker.compartments.append(compartment)
        session.add(compartment)
    locker.updated_at = utcnow()


def create_locker(
    session: Session,
    *,
    name: str,
    lat: float,
    lon: float,
    compartments: Mapping[str, int],
    external_ref: str | None = None,
    **attributes: str,
) -> Locker:
    locker = Locker(name=name, lat=lat, lon=lon, external_ref=external_ref, **attributes)
    session.add(locker)
    add_compartments(session, locker, compartments)
    session.flush()
    return locker


def _feature_locker(index: int, feature: Any, datum: str = DEFAULT_DATUM) -> dict[str, Any] | None:
    """One GeoJSON feature as `create_locker` keyword arguments, checked by the rules of
    `POST /v1/lockers` (`LockerCreate`): an import stores nothing the API would refuse (text
    too long for its column, a NUL, a nested object or a number where text belongs), which
    either failed the import with a database traceback or was stored and then broke the API's
    answers about that locker. A property given as null is left out, as if absent. The
    coordinates are given in ``datum`` and stored in WGS 84 (`network.datum`).

    None for a site a siting plan left closed (`chosen` false: a scenario's lockers layer
    holds every candidate), which is no locker to publish."""
    where = f"feature {index}"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise LockerInputError(f"{where}: is not a GeoJSON Feature")
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        raise LockerInputError(f"{where}: properties must be an object")
    given, named = _given(props)
    if "external_ref" in given:
        where = f"feature {index} ({named['external_ref']} '{given['external_ref']}')"
    chosen = props.get("chosen", True)
    if not isinstance(chosen, bool):
        raise LockerInputError(f"{where}: property 'chosen' must be true or false")
    if not chosen:
        return None
    geometry = feature.get("geometry") or {}
    coords = geometry.get("coordinates")
    if geometry.get("type") != "Point" or not isinstance(coords, list) or len(coords) < 2:
        raise LockerInputError(f"{where}: geometry must be a Point with [lon, lat]")
    lon, lat = coords[0], coords[1]
    problem = number_problem(lon) or number_problem(lat)
    if problem is not None:
        raise LockerInputError(f"{where}: coordinates: {problem}")
    lat, lon = to_wgs84(datum, lat, lon)  # one out of range stays so, to be refused below
    try:  # strict: a count given as "3" or 2.0 is refused (JSON says counts as whole numbers)
        locker = LockerCreate.model_validate({**given, "lat": lat, "lon": lon}, strict=True)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        if first["loc"][0] in ("lat", "lon"):
            raise LockerInputError(
                f"{where}: coordinates ({lon}, {lat}) are not a lon/lat position"
            ) from None
        raise LockerInputError(f"{where}: {_refused(first, named)}") from None
    return locker.model_dump()


def _given(props: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The `LockerCreate` fields a feature's properties give (`_PROPERTIES`), and the property
    each came from, by which a refusal names it ("" for the flat counts S, M, L, each named
    as itself)."""
    given: dict[str, Any] = {}
    named: dict[str, str] = {}
    for field, keys in _PROPERTIES.items():
        for key in keys:
            value = props.get(key)
            if value is not None and (key not in _TEXT_ONLY or isinstance(value, str)):
                given[field], named[field] = value, key
                break
    counts = {size: props[size] for size in SIZES if props.get(size) is not None}
    if "compartments" not in given and counts:
        given["compartments"], named["compartments"] = counts, ""
    return given, named


def _refused(error: ErrorDetails, named: Mapping[str, str]) -> str:
    """A property `LockerCreate` refused, as "property 'P' why", named as the file names it
    (``named``: the property each field came from, `_given`)."""
    kind, loc, given = error["type"], error["loc"], error["input"]
    template = _REASONS.get(kind)
    if template is None:
        message = error["msg"].removeprefix("Value error, ")
        reason = message[:1].lower() + message[1:]
    else:
        reason = template.format(**error.get("ctx", {}))
    if isinstance(given, NotJson) and kind == "int_type":  # NaN, Infinity or 1e999 as a count
        reason = NOT_FINITE
    if loc[-1] == "[key]":  # a mapping's key: compartments {"XL": 1}
        loc, reason = loc[:-2], f"key {given!r} {reason}"
    elif kind == "missing" and loc == ("compartments",):
        reason = _NO_COMPARTMENTS
    elif kind != "missing" and (not isinstance(given, str) or kind == "int_type"):
        shown = given if isinstance(given, NotJson) else json.dumps(given, ensure_ascii=False)
        reason += f", got {shown}"
    field = str(loc[0])
    path = ".".join(
        part for part in [named.get(field, _PROPERTIES[field][0]), *map(str, loc[1:])] if part
    )
    return f"property '{path}' {reason}"


def import_geojson(
    session: Session, path: Path, *, datum: str = DEFAULT_DATUM
) -> tuple[int, int]:
    """Add the lockers of a GeoJSON FeatureCollection of Points, their coordinates given in
    ``datum`` (`network.datum.DATUMS`: an export from Amap is GCJ-02) and stored in WGS 84;
    returns (added, skipped).

    Every feature is validated (by the API's rules, `_feature_locker`) before anything is
    written, so a bad file adds nothing; the first problem names its feature and property. A
    feature whose `ref` is already in the database is skipped, so re-importing is harmless.
    That includes a `ref` that another import, running at the same time, stored after this
    one looked (`_create_unless_stored`): both end as if they had run one after the other.

    A siting plan's locker layer imports as written (`_PROPERTIES`, `_given`): its sites'
    text `id` is their name and `ref`, a scenario's counts `S`, `M`, `L` their doors, and a
    site left closed (`chosen` false) is no locker, neither added nor counted.
    """
    datum = check_datum(datum, "--datum")
    try:
        data = load_json(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise LockerInputError(f"locker file '{path}': does not exist") from err
    except OSError as err:  # a folder, or a file this user cannot read
        raise LockerInputError(f"locker file '{path}': cannot read ({err.strerror})") from err
    except ValueError as err:  # not JSON, not UTF-8, or an integer longer than Python reads
        raise LockerInputError(f"locker file '{path}': is not JSON ({err})") from err
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise LockerInputError(f"locker file '{path}': is not a GeoJSON FeatureCollection")
    features = enumerate(data.get("features") or [])
    lockers = [k for i, f in features if (k := _feature_locker(i, f, datum)) is not None]
    refs = [k["external_ref"] for k in lockers if k["external_ref"]]
    if len(refs) != len(set(refs)):
        raise LockerInputError(f"locker file '{path}': a 'ref' appears more than once")
    refs_in_db = select(Locker.external_ref).where(Locker.external_ref.is_not(None))
    known = set(session.scalars(refs_in_db))
    new = [kwargs for kwargs in lockers if kwargs["external_ref"] not in known]
    added = sum(_insert_chunk(session, new[i : i + _CHUNK]) for i in range(0, len(new), _CHUNK))
    return added, len(lockers) - added


def _insert_chunk(session: Session, chunk: list[dict[str, Any]]) -> int:
    """Add a chunk of lockers and their doors in bulk; returns how many were added. The
    lockers go as one executemany (on PostgreSQL multi-row; SQLite, whose RETURNING keeps
    their order only so, a row per statement), their doors as another. One locker
    at a time (a savepoint, an INSERT and a flush each, and the ORM's bookkeeping for every
    door) took 3-5 ms a locker: 40,000 lockers of 20 doors took 188 s.

    A `ref` that a concurrent import committed after `import_geojson` looked refuses the
    chunk's INSERT; the savepoint drops the chunk, which then goes one locker at a time
    (`_create_unless_stored`), so only that locker is skipped."""
    now = utcnow()
    lockers = [
        {key: value for key, value in kwargs.items() if key != "compartments"}
        | {"created_at": now, "updated_at": now}
        for kwargs in chunk
    ]
    try:
        with session.begin_nested():
            returning = insert(Locker).returning(Locker.id, sort_by_parameter_order=True)
            ids = session.scalars(returning, lockers).all()
            doors = [
                {**door, "locker_id": locker_id}
                for locker_id, kwargs in zip(ids, chunk, strict=True)
                for door in _new_doors(set(), kwargs["compartments"])
            ]
            if doors:
                session.execute(insert(Compartment), doors)
    except IntegrityError:
        return sum(_create_unless_stored(session, kwargs) for kwargs in chunk)
    # bulk INSERTs bypass the flush that notes a change: note it, so the commit bumps
    # `LockersVersion` as for lockers added one by one (`api.db.models._count_locker_changes`)
    session.info[_LOCKERS_CHANGED] = True
    return len(chunk)


def _create_unless_stored(session: Session, kwargs: dict[str, Any]) -> bool:
    """Create the locker, unless a concurrent import committed its `ref` after `import_geojson`
    looked (then False, a skip, as a later import would have found it): the unique `ref` then
    refuses the insert, which failed the whole import with an IntegrityError traceback.

    The caller owns the transaction (`gongpei lockers import` opens it), so it cannot be run
    again; a savepoint keeps it usable after the refusal (PostgreSQL aborts it otherwise) and
    drops only this locker's half-made rows. Any other refusal is raised. SQLite never sees
    the refusal: its writers begin with BEGIN IMMEDIATE, so the second import looks after the
    first has committed."""
    try:
        with session.begin_nested():
            create_locker(session, **kwargs)
    except IntegrityError:
        ref = kwargs["external_ref"]
        stored = select(Locker.id).where(Locker.external_ref == ref)
        if ref is None or session.scalar(stored) is None:
            raise
        return False
    return True
