"""OSM building footprints (type, levels, footprint area) from the files the graph builder reads."""

from __future__ import annotations

import os
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import shapely

from network.errors import AreaError, OsmFileError
from network.graph import demo_path

COLUMNS = ["osmid", "building", "levels", "area_m2", "name", "lat", "lon", "geometry"]
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def read_buildings(
    source: str | os.PathLike[str],
    *,
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Every `building=*` way or multipolygon in an OSM XML/PBF file (or "demo") as a row.

    Columns: `osmid` (area id: way id * 2, relation id * 2 + 1, osmium's convention),
    `building` (the tag value, "yes" when untyped), `levels` (`building:levels`, 1 where absent
    or unreadable), `area_m2` (footprint, in a local UTM projection), `name`, the centroid's
    `lat`/`lon`, and the footprint `geometry` in EPSG:4326. `bbox` (W, S, E, N) keeps the
    buildings whose centroid lies inside it.
    """
    path = _path(source)
    rows: list[dict] = []
    wkb = osmium.geom.WKBFactory()
    try:
        for obj in osmium.FileProcessor(str(path)).with_areas():
            if not obj.is_area() or "building" not in obj.tags:
                continue
            try:
                geom = shapely.from_wkb(wkb.create_multipolygon(obj))
            except RuntimeError:  # an unclosed or broken ring: skip the footprint
                continue
            tags = obj.tags
            rows.append(
                {
                    "osmid": obj.id,
                    "building": tags.get("building", "yes"),
                    "levels": _levels(tags.get("building:levels")),
                    "name": tags.get("name"),
                    "geometry": geom,
                }
            )
    except RuntimeError as err:
        raise OsmFileError(f"OSM file '{path}': cannot be read as OSM data ({err})") from None
    if not rows:
        return gpd.GeoDataFrame(columns=COLUMNS, geometry="geometry", crs="EPSG:4326")
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    local = frame.to_crs(frame.estimate_utm_crs())
    centroid = local.geometry.centroid.to_crs("EPSG:4326")
    frame["area_m2"] = local.geometry.area.to_numpy()
    frame["lat"], frame["lon"] = centroid.y.to_numpy(), centroid.x.to_numpy()
    if bbox is not None:
        w, s, e, n = bbox
        if not (w < e and s < n):
            raise AreaError(f"bbox {bbox!r}: expected W<E and S<N (order W,S,E,N)")
        inside = frame["lon"].between(w, e) & frame["lat"].between(s, n)
        frame = frame[inside]
    return frame[COLUMNS].reset_index(drop=True)


def _path(source: str | os.PathLike[str]) -> Path:
    if os.fspath(source) == "demo":
        return demo_path()
    path = Path(source)
    if not path.is_file():
        raise OsmFileError(f"OSM file '{path}': no such file")
    return path


def _levels(value: str | None) -> float:
    """`building:levels` as a number ("5", "5;6", "5.5"); 1 where absent or unreadable."""
    match = _NUMBER.search(value or "")
    levels = float(match.group()) if match else 1.0
    return levels if np.isfinite(levels) and levels >= 1 else 1.0
