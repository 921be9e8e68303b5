"""Clip areas from GeoJSON: a polygon file, or one named feature of a boundaries file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from network.errors import AreaError


def read_polygon(path: str | os.PathLike[str], name: str | None = None) -> BaseGeometry:
    """The (Multi)Polygon in a GeoJSON file (lon/lat): a geometry, a Feature, or the union of a
    FeatureCollection's polygons; with `name`, only the features one of whose `name*`
    properties equals it (e.g. "香港中路街道" or "Laoshan District")."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AreaError(f"polygon file '{path}': no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise AreaError(f"polygon file '{path}': not valid GeoJSON ({err})") from None
    if not isinstance(data, dict):
        raise AreaError(f"polygon file '{path}': not a GeoJSON object")
    features = data.get("features") if data.get("type") == "FeatureCollection" else [data]
    if name is not None:
        features = [
            f
            for f in features
            if any(
                k.startswith("name") and v == name for k, v in (f.get("properties") or {}).items()
            )
        ]
        if not features:
            raise AreaError(f"polygon file '{path}': no feature named {name!r}")
    geometries = []
    for feature in features:
        geometry = feature.get("geometry", feature) if isinstance(feature, dict) else None
        try:
            geom = shape(geometry) if geometry else None
        except (AttributeError, TypeError, ValueError, shapely.errors.GEOSException):
            geom = None
        if geom is not None and geom.geom_type in ("Polygon", "MultiPolygon"):
            geometries.append(shapely.make_valid(geom))
    if not geometries:
        raise AreaError(f"polygon file '{path}': holds no Polygon or MultiPolygon")
    return shapely.union_all(geometries)
