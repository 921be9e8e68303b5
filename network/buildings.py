"""OSM building footprints (type, levels, footprint area) from the files the graph builder reads."""

from __future__ import annotations

import os
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import shapely

from network._osm import osm_input
from network.errors import AreaError, OsmFileError
from network.graph import demo_path

COLUMNS = [
    "osm_ref", "building", "levels", "area_m2", "name", "lat", "lon", "entrance", "site_lat",
    "site_lon", "geometry",
]  # fmt: skip
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# `entrance=*` values a locker could stand at, best first; service, garage, emergency and exit
# doors are not where residents or office workers come and go
_PUBLIC_ENTRANCES = ("main", "yes", "secondary", "staircase", "shop", "side", "home")


def read_buildings(
    source: str | os.PathLike[str],
    *,
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Every `building=*` way or multipolygon in an OSM XML/PBF file (or "demo") as a row.

    Columns: `osm_ref` (the footprint's OSM object, `w123` for way 123 or `r45` for relation
    45, as openstreetmap.org/way/123 shows it; osmium's area ids, way id * 2 and relation id
    * 2 + 1, led a planner looking them up to another object),
    `building` (the tag value, "yes" when untyped), `levels` (`building:levels`, 1 where absent
    or unreadable), `area_m2` (footprint, in a local UTM projection), `name`, the centroid's
    `lat`/`lon`, `entrance` (the `entrance=*` value of the door on its outline a locker would
    stand at, main entrance first; None where none is mapped), `site_lat`/`site_lon` (that door,
    else the centroid: where a locker at this building goes), and the footprint `geometry` in
    EPSG:4326. `bbox` (W, S, E, N) keeps the buildings whose centroid lies inside it.
    """
    path = _path(source)
    rows: list[dict] = []
    doors: dict[int, tuple[int, str, float, float]] = {}  # node id -> (rank, kind, lat, lon)
    wkb = osmium.geom.WKBFactory()
    try:
        for obj in osmium.FileProcessor(osm_input(path)).with_areas():
            if obj.type_str() == "n":
                kind = obj.tags.get("entrance")
                if kind in _PUBLIC_ENTRANCES and obj.location.valid():
                    rank = _PUBLIC_ENTRANCES.index(kind)
                    doors[obj.id] = (rank, kind, obj.location.lat, obj.location.lon)
                continue
            if not obj.is_area() or "building" not in obj.tags:
                continue
            try:
                geom = shapely.from_wkb(wkb.create_multipolygon(obj))
            except RuntimeError:  # an unclosed or broken ring: skip the footprint
                continue
            tags = obj.tags
            rows.append(
                {
                    "osm_ref": _osm_ref(obj.id),
                    "building": tags.get("building", "yes"),
                    "levels": _levels(tags.get("building:levels")),
                    "name": tags.get("name"),
                    "door": _best_door(obj, doors),
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
    door = frame.pop("door")
    frame["entrance"] = [d[1] if d else None for d in door]
    frame["site_lat"] = [d[2] if d else y for d, y in zip(door, frame["lat"], strict=True)]
    frame["site_lon"] = [d[3] if d else x for d, x in zip(door, frame["lon"], strict=True)]
    if bbox is not None:
        w, s, e, n = bbox
        if not (w < e and s < n):
            raise AreaError(f"bbox {bbox!r}: expected W<E and S<N (order W,S,E,N)")
        inside = frame["lon"].between(w, e) & frame["lat"].between(s, n)
        frame = frame[inside]
    return frame[COLUMNS].reset_index(drop=True)


def _osm_ref(area_id: int) -> str:
    """The OSM object an osmium area comes from: a way (even area id) or a relation (odd)."""
    return f"w{area_id // 2}" if area_id % 2 == 0 else f"r{area_id // 2}"


def _best_door(area: osmium.osm.Area, doors: dict) -> tuple[int, str, float, float] | None:
    """The best-ranked public entrance among the nodes of the area's outer rings, if any."""
    found = [doors[n.ref] for ring in area.outer_rings() for n in ring if n.ref in doors]
    return min(found) if found else None


def _path(source: str | os.PathLike[str]) -> Path:
    return demo_path() if os.fspath(source) == "demo" else Path(source)


def _levels(value: str | None) -> float:
    """`building:levels` as a number ("5", "5;6", "5.5"); 1 where absent or unreadable."""
    match = _NUMBER.search(value or "")
    levels = float(match.group()) if match else 1.0
    return levels if np.isfinite(levels) and levels >= 1 else 1.0
