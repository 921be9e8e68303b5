"""OSM building footprints (type, levels, footprint area) from the files the graph builder reads."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import shapely

from network._osm import deleted_in_editor, osm_input
from network.areas import checked_bbox
from network.errors import AreaError, OsmFileError
from network.graph import demo_path

COLUMNS = [
    "osm_ref", "building", "levels", "levels_from", "area_m2", "name", "lat", "lon", "entrance",
    "site_lat", "site_lon", "geometry",
]  # fmt: skip
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# OSM `height` is metres unless it says feet: "218", "218 m", "70 ft", "70'"
_HEIGHT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(m\b|ft\b|feet\b|')?", re.IGNORECASE)
FOOT_M = 0.3048
STOREY_M = 3.5
"""Metres a storey, to count storeys from `height` where `building:levels` is missing. The OSM
wiki's rule of thumb (and 3D renderers') is 3 m, a dwelling's storey. But the footprints that
carry a height and no levels are mostly towers, and the towers of the Xinjiekou extract that
carry both run 3.4-3.6 m a storey (新华大厦 179 m / 52, 天安国际大厦 158 / 45, 南京中心 249 / 69;
podium buildings more): 3 m made a 218 m tower 73 storeys, where 3.5 m makes it 62."""
TYPICAL_LEVELS: dict[str, float] = {
    "dormitory": 6, "apartments": 6, "residential": 6, "office": 6, "university": 4,
    "college": 4, "school": 3, "commercial": 3, "retail": 2, "house": 2,
}  # fmt: skip
"""Storeys assumed for a footprint of the type with neither `building:levels` nor `height`
(any other type: 1). Kept low: a 6-storey walk-up is the common Chinese dormitory and older
housing block, newer housing and offices run higher, campus teaching blocks 3-5 storeys.
Read as 1, the 19 of 24 Tsinghua dormitories mapped without levels made an eleventh of the
demand a m² of the five tagged (11 storeys), and lockers followed the tags. A compound drawn as
one outline (普吉院, 18,000 m² `residential`) is taken as one 6-storey block: the siting's
warning on assumed storeys names the largest."""
# `entrance=*` values a locker could stand at, best first; service, garage, emergency and exit
# doors are not where residents or office workers come and go
_PUBLIC_ENTRANCES = ("main", "yes", "secondary", "staircase", "shop", "side", "home")
NEW_ID_BASE = 1 << 50
"""Where a copy of a file moves its negative ids (objects new in JOSM, not yet uploaded):
far above any OSM id (nodes are about 1.3e10 in 2025), and with room below 2**62 for osmium's
area ids (twice the object's id)."""


def read_buildings(
    source: str | os.PathLike[str],
    *,
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Every `building=*` way or multipolygon in an OSM XML/PBF file (or "demo") as a row.

    Columns: `osm_ref` (the footprint's OSM object, `w123` for way 123 or `r45` for relation
    45, as openstreetmap.org/way/123 shows it; osmium's area ids, way id * 2 and relation id
    * 2 + 1, led a planner looking them up to another object),
    `building` (the tag value, "yes" when untyped), `levels` (storeys: `building:levels`, else
    `height` / STOREY_M, else TYPICAL_LEVELS of the type, else 1), `levels_from` (which of
    those: "tag", "height" or "assumed", for a demand estimate to say how much of it rests on
    assumed storeys), `area_m2` (footprint, in a local UTM projection), `name`, the centroid's
    `lat`/`lon`, `entrance` (the `entrance=*` value of the door on its outline a locker would
    stand at, main entrance first; None where none is mapped), `site_lat`/`site_lon` (that door,
    else the centroid: where a locker at this building goes), and the footprint `geometry` in
    EPSG:4326. `bbox` (W, S, E, N) keeps the buildings whose centroid lies inside it; a box
    that misses the file's data altogether is an `AreaError` naming both (`_check_overlap`).
    """
    area = None if bbox is None else checked_bbox(bbox)  # before a whole file is read
    path = _path(source)
    file = osm_input(path)
    try:
        header = osmium.FileProcessor(file).header
        deleted = deleted_in_editor(path, header)
        try:
            rows = _footprints(file, deleted)
        except _Unplaceable:
            with tempfile.TemporaryDirectory(prefix="gongpei-osm-") as folder:
                rows = _footprints(_placeable_copy(file, deleted, Path(folder)), frozenset())
    except RuntimeError as err:
        raise OsmFileError(f"OSM file '{path}': cannot be read as OSM data ({err})") from None
    if not rows:
        if area is not None:
            _check_overlap(area, _header_bounds(header), source)
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
    if area is not None:
        _check_overlap(area, _union(_header_bounds(header), tuple(frame.total_bounds)), source)
        w, s, e, n = area
        inside = frame["lon"].between(w, e) & frame["lat"].between(s, n)
        frame = frame[inside]
    return frame[COLUMNS].reset_index(drop=True)


Box = tuple[float, float, float, float]


def _check_overlap(bbox: Box, data: Box | None, source: str | os.PathLike[str]) -> None:
    """Refuse a bbox that does not meet the file's data (W, S, E, N; None: not known): it read
    as an empty frame, which the siting reported as a map without buildings there, while the
    box was in the wrong place (Helsinki's given as (S, W, N, E) is a valid box in the Arabian
    Sea). A box that meets the data and holds no building is no error: a park, a road-only
    file, a corner of the map."""
    if data is None or _meets(bbox, data):
        return
    w, s, e, n = bbox
    spans = ",".join(str(round(float(v), 5)) for v in data)
    swapped = ""
    if _meets((s, w, n, e), data):
        swapped = " (given as S,W,N,E? read as W,S,E,N, it meets the data)"
    raise AreaError(
        f"bbox {tuple(bbox)}: lies outside OSM file '{os.fspath(source)}', whose data spans "
        f"W,S,E,N = {spans}{swapped}"
    )


def _meets(box: Box, other: Box) -> bool:
    """Whether two W, S, E, N boxes share a point (a shared edge counts)."""
    return box[0] <= other[2] and other[0] <= box[2] and box[1] <= other[3] and other[1] <= box[3]


def _header_bounds(header: osmium.io.Header) -> Box | None:
    """The file's own bounds (an extract's `<bounds>` or PBF header box), if it has them."""
    box = header.box()
    if not box.valid():
        return None
    return (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)


def _union(first: Box | None, second: Box) -> Box:
    """The box that holds both: footprints run past an Overpass export's bounds (its ways are
    whole), so the data spans the bounds and every footprint."""
    if first is None:
        return second
    return (
        min(first[0], second[0]), min(first[1], second[1]),
        max(first[2], second[2]), max(first[3], second[3]),
    )  # fmt: skip


class _Unplaceable(Exception):
    """A file osmium's location cache cannot place every node of (see `_footprints`)."""


def _footprints(file: osmium.io.File, deleted: frozenset[tuple[str, int]]) -> list[dict]:
    """A row per building footprint the file holds, deleted ones left out (`visible="false"`,
    or in `deleted`: JOSM's `action="delete"`). `_Unplaceable` as soon as a node has a negative
    id (new in JOSM) or comes after a way (Overpass's `out; >; out skel;`): osmium's location
    cache holds positive ids only and fills a way from the nodes read before it, so such a
    file's footprints would be silently lost (`_placeable_copy` is read instead)."""
    rows: list[dict] = []
    doors: dict[int, tuple[int, str, float, float]] = {}  # node id -> (rank, kind, lat, lon)
    wkb = osmium.geom.WKBFactory()
    ways_read = False
    for obj in osmium.FileProcessor(file).with_areas():
        kind = obj.type_str()
        if kind == "n" and (obj.id < 0 or ways_read):
            raise _Unplaceable
        ways_read = ways_read or kind == "w"
        if obj.deleted or (kind, obj.id) in deleted:
            continue
        if kind == "n":
            entrance = obj.tags.get("entrance")
            if entrance in _PUBLIC_ENTRANCES and obj.location.valid():
                rank = _PUBLIC_ENTRANCES.index(entrance)
                doors[obj.id] = (rank, entrance, obj.location.lat, obj.location.lon)
            continue
        if kind != "a" or "building" not in obj.tags:
            continue
        if ("w" if obj.from_way() else "r", obj.orig_id()) in deleted:
            continue
        try:
            geom = shapely.from_wkb(wkb.create_multipolygon(obj))
        except RuntimeError:  # an unclosed or broken ring: skip the footprint
            continue
        tags = obj.tags
        kind = tags.get("building", "yes")
        levels, levels_from = _levels(tags.get("building:levels"), tags.get("height"), kind)
        rows.append(
            {
                "osm_ref": _osm_ref(obj.id),
                "building": kind,
                "levels": levels,
                "levels_from": levels_from,
                "name": tags.get("name"),
                "door": _best_door(obj, doors),
                "geometry": geom,
            }
        )
    return rows


def _placeable_copy(
    file: osmium.io.File, deleted: frozenset[tuple[str, int]], folder: Path
) -> osmium.io.File:
    """A PBF copy in `folder` of the file's objects that are not deleted, nodes first, then
    ways, then relations, each negative id moved above NEW_ID_BASE (`_positive`), so that
    osmium's location cache places every node of every footprint."""
    target = folder / "placeable.osm.pbf"
    with osmium.SimpleWriter(str(target)) as writer:
        for entity in (osmium.osm.NODE, osmium.osm.WAY, osmium.osm.RELATION):
            for obj in osmium.FileProcessor(file, entity):
                if not (obj.deleted or (obj.type_str(), obj.id) in deleted):
                    writer.add(_moved(obj))
    return osmium.io.File(str(target), "pbf")


def _moved(obj: osmium.osm.OSMObject) -> osmium.osm.mutable.OSMObject:
    """The object with its id, and the ids it refers to, made positive (`_positive`)."""
    if obj.is_way():
        return obj.replace(id=_positive(obj.id), nodes=[_positive(n.ref) for n in obj.nodes])
    if obj.is_relation():
        members = [(m.type, _positive(m.ref), m.role) for m in obj.members]
        return obj.replace(id=_positive(obj.id), members=members)
    return obj.replace(id=_positive(obj.id))


def _positive(osm_id: int) -> int:
    """A negative id moved above NEW_ID_BASE; any other kept."""
    return osm_id if osm_id >= 0 else NEW_ID_BASE - osm_id


def _osm_ref(area_id: int) -> str:
    """The OSM object an osmium area comes from: a way (even area id) or a relation (odd),
    with the negative id it has in the file where `_placeable_copy` moved it."""
    osm_id = area_id // 2
    osm_id = NEW_ID_BASE - osm_id if osm_id > NEW_ID_BASE else osm_id
    return f"w{osm_id}" if area_id % 2 == 0 else f"r{osm_id}"


def _best_door(area: osmium.osm.Area, doors: dict) -> tuple[int, str, float, float] | None:
    """The best-ranked public entrance among the nodes of the area's outer rings, if any."""
    found = [doors[n.ref] for ring in area.outer_rings() for n in ring if n.ref in doors]
    return min(found) if found else None


def _path(source: str | os.PathLike[str]) -> Path:
    return demo_path() if os.fspath(source) == "demo" else Path(source)


def _levels(tag: str | None, height: str | None, kind: str) -> tuple[float, str]:
    """Storeys and where they come from ("tag", "height", "assumed"): `building:levels` ("5", "5;6",
    "5.5"), else `height` / STOREY_M (at least 1), else TYPICAL_LEVELS of the type, else 1. A
    value that reads as no number, or as less than 1 storey, counts as not given."""
    match = _NUMBER.search(tag or "")
    levels = float(match.group()) if match else 0.0
    if np.isfinite(levels) and levels >= 1:
        return levels, "tag"
    metres = _metres(height)
    if metres is not None:
        return max(1.0, float(round(metres / STOREY_M))), "height"
    return float(TYPICAL_LEVELS.get(kind, 1)), "assumed"


def _metres(height: str | None) -> float | None:
    """An OSM `height` in metres ("218", "218 m", "70 ft", "70'"), None where it is no
    positive number."""
    match = _HEIGHT.match(height or "")
    if match is None:
        return None
    value = float(match.group(1))
    if (match.group(2) or "m").casefold() != "m":
        value *= FOOT_M
    return value if np.isfinite(value) and value > 0 else None
