"""Clip areas: a bounding box, a polygon file, or one named feature of a boundaries file."""

from __future__ import annotations

import difflib
import math
import os
import unicodedata
from pathlib import Path
from typing import Any

import shapely
from pydantic import BaseModel, ValidationError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from network.errors import AreaError
from network.jsonfile import NOT_FINITE, load_json, not_json_in

_GEOMETRY_TYPES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
     "GeometryCollection"}
)  # fmt: skip


#: A bounding box: west, south, east, north, in degrees of longitude and latitude.
Bbox = tuple[float, float, float, float]


def checked_bbox(bbox: object) -> Bbox:
    """A bounding box (W, S, E, N) as four finite floats, or an AreaError naming the field and
    the fault. Every reader of a bbox checks it here first: a box given as (S, W, N, E), or
    with west and east swapped, read no building from a whole file (an empty frame, said as
    "no buildings in the bbox") or went to Overpass as given."""
    try:
        west, south, east, north = (float(v) for v in bbox)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise AreaError(f"bbox {bbox!r}: expected four numbers W,S,E,N") from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise AreaError(f"bbox {bbox!r}: coordinates must be finite numbers")
    if not -180 <= west < east <= 180:
        # a box across longitude 180 (west 177, east -178) is none of osmnx's either
        across = " (a box across longitude 180 is not taken: give one on each side)"
        raise AreaError(
            f"bbox {bbox!r} is W,S,E,N: west {west:g} and east {east:g} must be longitudes with "
            f"W<E, within -180..180{across if -180 <= east < 0 < west <= 180 else ''}"
        )
    if not -90 <= south < north <= 90:
        raise AreaError(
            f"bbox {bbox!r} is W,S,E,N: south {south:g} and north {north:g} must be latitudes "
            "with S<N, within -90..90 (latitude and longitude swapped?)"
        )
    return west, south, east, north


class Feature(BaseModel):
    """A GeoJSON Feature as far as a clip area needs it: `geometry` must be present (null
    allowed, RFC 7946) and `properties` an object or null. Named `Feature` because pydantic
    names the class in its messages ("... instance of Feature")."""

    geometry: dict[str, Any] | None
    properties: dict[str, Any] | None = None


class FeatureCollection(BaseModel):
    """A GeoJSON FeatureCollection: a list of features."""

    features: list[Feature]


def read_polygon(path: str | os.PathLike[str], name: str | None = None) -> BaseGeometry:
    """The (Multi)Polygon in a GeoJSON file (lon/lat): a geometry, a Feature, or the union of a
    FeatureCollection's polygons; with `name`, only the features one of whose `name*`
    properties equals it (e.g. "香港中路街道" or "Laoshan District"). Features without a polygon
    (points, null geometry) are left out; malformed GeoJSON is an AreaError naming the file and
    the member that is wrong, never a raw TypeError."""
    path = Path(path)
    features = _features(path, _read_json(path))
    if name is not None:
        named = {where: f for where, f in features.items() if _named(f, name)}
        if not named:
            raise AreaError(
                f"polygon file '{path}': no feature named {name!r}{_did_you_mean(features, name)}"
            )
        features = named
    geometries = [
        shapely.make_valid(geom)
        for where, feature in features.items()
        if (geom := _geometry(path, where, feature.geometry)) is not None
        and geom.geom_type in ("Polygon", "MultiPolygon")
    ]
    if not geometries:
        raise AreaError(f"polygon file '{path}': holds no Polygon or MultiPolygon")
    return shapely.union_all(geometries)


def _read_json(path: Path) -> dict[str, Any]:
    """The file's JSON object."""
    try:
        data = load_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AreaError(f"polygon file '{path}': no such file") from None
    except ValueError as err:  # not JSON, not UTF-8, or an integer longer than Python reads
        raise AreaError(f"polygon file '{path}': not valid GeoJSON ({err})") from None
    if not isinstance(data, dict):
        raise AreaError(f"polygon file '{path}': not a GeoJSON object")
    return data


def _features(path: Path, data: dict[str, Any]) -> dict[str, Feature]:
    """The file's features by where they are ("features[3]"): a collection's, the file itself
    when it is one Feature, or a bare geometry as a feature without properties."""
    kind = data.get("type")
    try:
        if kind == "FeatureCollection":
            features = FeatureCollection.model_validate(data).features
            return {f"features[{i}]": feature for i, feature in enumerate(features)}
        if kind == "Feature":
            return {"feature": Feature.model_validate(data)}
    except ValidationError as err:
        first = err.errors()[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        raise AreaError(f"polygon file '{path}': {where.lstrip('.')}: {first['msg']}") from None
    if kind not in _GEOMETRY_TYPES:
        raise AreaError(
            f"polygon file '{path}': type {kind!r}: expected a FeatureCollection, a Feature or "
            "a geometry"
        )
    return {"geometry": Feature(geometry=data)}


def _named(feature: Feature, name: str) -> bool:
    """Whether one of the feature's `name*` properties (name, name:en, name_zh ...) is `name`."""
    properties = feature.properties or {}
    return any(key.startswith("name") and value == name for key, value in properties.items())


def _did_you_mean(features: dict[str, Feature], name: str) -> str:
    """"; did you mean ...?" with up to three of the file's names like ``name``: the same but
    for case or width, one holding it ("香港中路" for "香港中路街道", as a subdistrict's name
    is often said without its 街道), then close spellings; "" where none is. A file of 146
    Qingdao subdistricts left a planner guessing at the exact form."""
    names = sorted(
        {
            value
            for feature in features.values()
            for key, value in (feature.properties or {}).items()
            if key.startswith("name") and isinstance(value, str)
        }
    )
    wanted = _folded(name)
    same = [n for n in names if _folded(n) == wanted]
    holding = [n for n in names if wanted in _folded(n) and n not in same]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    picked = list(dict.fromkeys([*same, *holding, *close]))[:3]
    if not picked:
        return ""
    return "; did you mean " + " or ".join(repr(n) for n in picked) + "?"


def _folded(text: str) -> str:
    """``text`` compared as people mean it: full-width letters as ASCII, case ignored."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


def _geometry(path: Path, where: str, geometry: dict[str, Any] | None) -> BaseGeometry | None:
    """The shapely geometry of one feature (None for a null geometry). A NaN, Infinity or
    1e999 among its coordinates is refused by its path: shapely made nan/inf of them and
    failed later with a raw GEOSException, or gave an empty area."""
    if geometry is None:
        return None
    found = not_json_in(geometry, where if where == "geometry" else f"{where}.geometry")
    if found is not None:
        member, value = found
        raise AreaError(f"polygon file '{path}': {member}: {NOT_FINITE}, got {value.token}")
    try:
        return shape(geometry)
    except (AttributeError, KeyError, OverflowError, TypeError, ValueError,
            shapely.errors.GEOSException) as err:  # fmt: skip
        raise AreaError(
            f"polygon file '{path}': {where}: not a valid GeoJSON geometry "
            f"({type(err).__name__}: {err})"
        ) from None
