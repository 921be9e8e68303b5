"""Creating lockers with their compartments, one by one (admin API) or from a GeoJSON file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.models import SIZES, Compartment, Locker, utcnow
from api.schemas.common import not_blank
from network.errors import GongpeiError

#: Default inner dimensions (width, height, depth in mm) of the usual parcel-locker doors.
DEFAULT_DIMENSIONS_MM: dict[str, tuple[int, int, int]] = {
    "S": (380, 80, 640),
    "M": (380, 190, 640),
    "L": (380, 410, 640),
}
_FIELDS = ("name", "operator", "address", "area", "opening_hours")


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


def add_compartments(session: Session, locker: Locker, counts: Mapping[str, int]) -> None:
    """Add `counts[size]` doors of each size, labelled S01, S02, ... after any existing ones."""
    existing = {c.label for c in locker.compartments}
    for size in SIZES:
        width, height, depth = DEFAULT_DIMENSIONS_MM[size]
        number = 0
        for _ in range(int(counts.get(size, 0))):
            number += 1
            while f"{size}{number:02d}" in existing:
                number += 1
            label = f"{size}{number:02d}"
            existing.add(label)
            compartment = Compartment(
                label=label, size=size, width_mm=width, height_mm=height, depth_mm=depth
            )
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


def _feature_locker(index: int, feature: Any) -> dict[str, Any]:
    """Validate one GeoJSON feature into `create_locker` keyword arguments."""
    where = f"feature {index}"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise LockerInputError(f"{where}: is not a GeoJSON Feature")
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        raise LockerInputError(f"{where}: properties must be an object")
    if props.get("ref"):
        where = f"feature {index} (ref '{props['ref']}')"
    geometry = feature.get("geometry") or {}
    coords = geometry.get("coordinates")
    if geometry.get("type") != "Point" or not isinstance(coords, list) or len(coords) < 2:
        raise LockerInputError(f"{where}: geometry must be a Point with [lon, lat]")
    lon, lat = coords[0], coords[1]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat)):
        got = json.dumps(coords[:2])
        raise LockerInputError(f"{where}: coordinates must be numbers, got {got}")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise LockerInputError(f"{where}: coordinates ({lon}, {lat}) are not a lon/lat position")
    name = _feature_name(where, props)
    counts = props.get("compartments")
    if not isinstance(counts, dict) or not counts:
        raise LockerInputError(f"{where}: property 'compartments' must map sizes S/M/L to counts")
    for size, count in counts.items():
        if size not in SIZES:
            raise LockerInputError(f"{where}: compartment size '{size}' is not one of S, M, L")
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 500:
            raise LockerInputError(f"{where}: compartments.{size} must be an integer 0..500")
    extra = {k: str(props[k]) for k in _FIELDS if k in props and k != "name"}
    return {
        "name": name,
        "lat": float(lat),
        "lon": float(lon),
        "compartments": counts,
        "external_ref": str(props["ref"]) if props.get("ref") else None,
        **extra,
    }


def _feature_name(where: str, props: Mapping[str, Any]) -> str:
    """The locker's name as `POST /v1/lockers` stores it: without surrounding spaces, never
    blank, so that an imported locker and a posted one read alike."""
    name = props.get("name")
    if name is None:
        raise LockerInputError(f"{where}: property 'name' is missing")
    if not isinstance(name, str):
        raise LockerInputError(f"{where}: property 'name' must be text, got {name!r}")
    try:
        return not_blank(name)
    except ValueError as err:
        raise LockerInputError(f"{where}: property 'name' {err}") from None


def import_geojson(session: Session, path: Path) -> tuple[int, int]:
    """Add the lockers of a GeoJSON FeatureCollection of Points; returns (added, skipped).

    Every feature is validated before anything is written, so a bad file adds nothing. A
    feature whose `ref` is already in the database is skipped, so re-importing is harmless.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise LockerInputError(f"locker file '{path}': does not exist") from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise LockerInputError(f"locker file '{path}': is not JSON ({err})") from err
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise LockerInputError(f"locker file '{path}': is not a GeoJSON FeatureCollection")
    lockers = [_feature_locker(i, f) for i, f in enumerate(data.get("features") or [])]
    refs = [k["external_ref"] for k in lockers if k["external_ref"]]
    if len(refs) != len(set(refs)):
        raise LockerInputError(f"locker file '{path}': a 'ref' appears more than once")
    refs_in_db = select(Locker.external_ref).where(Locker.external_ref.is_not(None))
    known = set(session.scalars(refs_in_db))
    added = 0
    for kwargs in lockers:
        if kwargs["external_ref"] in known:
            continue
        create_locker(session, **kwargs)
        added += 1
    return added, len(lockers) - added
