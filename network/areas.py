"""Clip areas from GeoJSON: a polygon file, or one named feature of a boundaries file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import shapely
from pydantic import BaseModel, ValidationError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from network.errors import AreaError

_GEOMETRY_TYPES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
     "GeometryCollection"}
)  # fmt: skip


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
        features = {where: f for where, f in features.items() if _named(f, name)}
        if not features:
            raise AreaError(f"polygon file '{path}': no feature named {name!r}")
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
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AreaError(f"polygon file '{path}': no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
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


def _geometry(path: Path, where: str, geometry: dict[str, Any] | None) -> BaseGeometry | None:
    """The shapely geometry of one feature (None for a null geometry)."""
    if geometry is None:
        return None
    try:
        return shape(geometry)
    except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.GEOSException) as err:
        raise AreaError(
            f"polygon file '{path}': {where}: not a valid GeoJSON geometry "
            f"({type(err).__name__}: {err})"
        ) from None
