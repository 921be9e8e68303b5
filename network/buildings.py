"""OSM building footprints (type, levels, footprint area) from the files the graph builder reads."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely

from network._osm import deleted_in_editor, osm_input
from network.areas import checked_bbox
from network.errors import AreaError, OsmFileError
from network.graph import demo_path

COLUMNS = [
    "osm_ref", "building", "levels", "levels_from", "area_m2", "name", "lat", "lon", "entrance",
    "site_lat", "site_lon", "underground", "geometry",
]  # fmt: skip
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
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
ROOF_LEVEL_SHARE = 0.5
"""Storeys a `roof:levels` level counts for, added to `building:levels` (which, by the wiki,
leaves them out; `height` already holds the roof, so nothing is added to storeys from it). A
storey in a roof is lived or worked in (the wiki counts only those one can stand in), but
under a sloped roof about half its floor has the headroom of a room (Germany's WoFlV counts
floor under 2 m at half, under 1 m not at all): counted whole, a 2-storey house with a
2-level mansard would be a 4-storey block; left out, a Parisian attic floor would hold no one."""
_STOREY_KEYS = ("building:levels", "height", "building:min_level", "min_height", "roof:levels")
UNDERGROUND_LOCATIONS = frozenset({"underground", "underwater"})
"""`location=*` values of a footprint below the ground (`layer` < 0 says so too)."""
NESTED_SHARE = 0.99
"""Share of a building outline's area within another for it to be drawn in it (`_unstacked`):
of Xinjiekou's outlines 18 lie wholly in another and 2 more 99.8 %, a corner over the edge; the
next, at 92 %, is one of two outlines of 764 and 800 m² on about the same spot, which may be one
block drawn twice or two blocks, and is left as it is."""
NO_FLOOR_PARTS = frozenset({"roof"})
"""`building:part` values that hold no floor: a roof on pillars (a canopy, a station roof)."""
log = logging.getLogger("gongpei.network")
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
    """Every `building=*` way or multipolygon in an OSM XML/PBF file (or "demo") as a row,
    the `building:part` areas drawn inside it folded into its storeys (`_fold_parts`).

    Columns: `osm_ref` (the footprint's OSM object, `w123` for way 123 or `r45` for relation
    45, as openstreetmap.org/way/123 shows it; osmium's area ids, way id * 2 and relation id
    * 2 + 1, led a planner looking them up to another object),
    `building` (the tag value, "yes" when untyped), `levels` (storeys over the whole footprint,
    so that `area_m2` x `levels` is the floor area: `_storeys`, and for an outline with
    `building:part` areas in it the floor of its parts spread over it, `_fold_parts`),
    `levels_from` (where they came from: "tag", "height", "assumed" or "parts", for a demand
    estimate to say how much of it rests on assumed storeys), `area_m2` (footprint, in a
    local UTM projection), `name`, the centroid's
    `lat`/`lon`, `entrance` (the `entrance=*` value of the door on its outline a locker would
    stand at, main entrance first; None where none is mapped), `site_lat`/`site_lon` (that door,
    else the centroid: where a locker at this building goes), `underground` (`layer` below 0 or
    `location=underground`/`underwater`: a metro station, an underground mall or car park,
    whose centroid lies under a street; `at_street_level` says where a locker can stand), and
    the footprint `geometry` in EPSG:4326. `bbox` (W, S, E, N) keeps the buildings whose
    centroid lies inside it; a box that misses the file's data altogether is an `AreaError`
    naming both (`_check_overlap`).
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
    frame = _fold_parts(rows)
    if frame.empty:
        if area is not None:
            _check_overlap(area, _header_bounds(header), source)
        return gpd.GeoDataFrame(columns=COLUMNS, geometry="geometry", crs="EPSG:4326")
    centroid = frame.pop("centroid")
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


def at_street_level(buildings: pd.DataFrame) -> pd.Series:
    """Per building of `read_buildings`, whether a locker at it (`site_lat`/`site_lon`) stands
    at street level: every building above ground, and one underground only where a public
    entrance is mapped on its outline (the locker then stands at that door). An underground
    footprint's centroid lies under a street or square: lockers went to Nanjing's 新街口 metro
    station, in the middle of its roundabout, and to a Beijing campus's underground shooting
    range. A table without the column (one built by hand, not read from OSM) stands above
    ground, as `demand_from_buildings` takes it."""
    if "underground" not in buildings:
        return pd.Series(True, index=buildings.index)
    door = buildings["entrance"].notna() if "entrance" in buildings else False
    return ~buildings["underground"].astype(bool) | door


def _underground(layer: str | None, location: str | None) -> bool:
    """Whether a footprint lies below the ground: every `layer` value it lists below 0 ("-1",
    "-2;-1"; one of "-1;0" reaches the ground), or a `location` of UNDERGROUND_LOCATIONS."""
    levels = [float(v) for v in _NUMBER.findall(layer or "")]
    places = {v.strip().casefold() for v in (location or "").split(";")}
    return (bool(levels) and max(levels) < 0) or bool(places & UNDERGROUND_LOCATIONS)


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
    """A row per building footprint or `building:part` area the file holds (its type, part
    value and the tags of its storeys, `_STOREY_KEYS`), deleted ones left out (`visible="false"`,
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
        if kind != "a" or not ("building" in obj.tags or "building:part" in obj.tags):
            continue
        if ("w" if obj.from_way() else "r", obj.orig_id()) in deleted:
            continue
        try:
            geom = shapely.from_wkb(wkb.create_multipolygon(obj))
        except RuntimeError:  # an unclosed or broken ring: skip the footprint
            continue
        tags = obj.tags
        rows.append(
            {
                "osm_ref": _osm_ref(obj.id),
                "building": tags.get("building"),
                "part": tags.get("building:part"),
                "storey_tags": {key: tags.get(key) for key in _STOREY_KEYS},
                "name": tags.get("name"),
                "underground": _underground(tags.get("layer"), tags.get("location")),
                "door": _best_door(obj, doors) if "building" in tags else None,
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


def _fold_parts(rows: list[dict]) -> gpd.GeoDataFrame:
    """The building outlines of `rows`, each with its footprint's `area_m2` and `centroid`
    (found in a local UTM projection, the centroid given back in EPSG:4326) and its storeys
    over it (`levels`, `levels_from`), the `building:part` areas folded into the outline they
    lie in (`_owners`). The Simple 3D Buildings scheme (S3DB) draws a building as its outline
    (`building=*`, for 2D maps) and parts (its shape); the outline carries the podium's
    storeys or, as S3DB asks, the tallest part's, so the outline alone gave a tower on a
    podium the podium's storeys, or the whole podium the tower's.

    - An outline with parts has the floor of its parts, piece by piece (`_parts_floor`), and
      its `levels` is that floor over its area (`levels_from` "parts", or "assumed" where no
      part has levels or a height): `area_m2` x `levels` stays the floor area, and a demand
      estimate from it needs no change.
    - A way tagged both `building` and `building:part` (a tower drawn on its podium's outline)
      stays a building of its own, as before, with its own type, storeys and row: it is how
      such towers are drawn here (Nanjing's 南京中心, 德基广场二期), and parts in it are its.
    - A part in no outline is left out, as 2D maps leave it (S3DB has every part inside its
      building's outline, and its `building:part` value, `tower`, `yes`, is no type with a
      rate), and named in a warning: it may be a tower whose outline is not mapped."""
    if not rows:
        return gpd.GeoDataFrame(rows, columns=["geometry"], geometry="geometry")
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")  # a RangeIndex
    local = frame.geometry.to_crs(frame.estimate_utm_crs())
    frame["area_m2"] = local.area.to_numpy()
    typed = frame["building"].notna()
    buildings, parts = frame.index[typed], frame.index[~typed]
    owner = _owners(local, parts, buildings)
    _warn_orphans(frame.loc[parts.difference(list(owner))])
    parts_of: dict[int, list[int]] = {}
    for item, home in owner.items():
        parts_of.setdefault(home, []).append(item)
    tags, part, shapes = frame["storey_tags"].to_list(), frame["part"].to_list(), local.to_list()
    levels, sources = [], []
    for i, kind in zip(buildings, frame.loc[buildings, "building"], strict=True):
        own = _storeys(tags[i], kind)
        found = parts_of.get(i, [])
        if not found or shapes[i].area <= 0:
            levels.append(max(1.0, own.count))
            sources.append(own.source)
            continue
        storeys = [(shapes[k], _storeys(tags[k], kind, part[k])) for k in found]
        levels.append(round(_parts_floor(shapes[i], own, kind, storeys) / shapes[i].area, 3))
        sources.append("assumed" if all(s.source == "assumed" for _, s in storeys) else "parts")
    frame = frame.loc[buildings].copy()
    frame["levels"], frame["levels_from"] = levels, sources
    frame["levels"] = _unstacked(frame, local)
    frame["centroid"] = local[buildings].centroid.to_crs("EPSG:4326")
    return frame


def _unstacked(frame: gpd.GeoDataFrame, local: gpd.GeoSeries) -> pd.Series:
    """`levels` of the building outlines in `frame` (footprints in metres in `local`), an
    outline with others drawn in it (`NESTED_SHARE` of their area, the innermost that holds
    them) counting its storeys over them only where it rises higher than they do: both count
    their storeys from the ground, so over an inner outline the floor is the larger of the
    two, not their sum. Xinjiekou draws towers so, as buildings of their own in the outline
    of their podium (金鹰 on its 3-storey mall, 63 storeys from `height`), and 20 outlines
    added about 73,000 m² of floor twice. The inner outline keeps its own storeys (and its
    type, its own rate); the outer loses the floor under it, its `levels` that floor over its
    area, as for `building:part` areas. Footprints below ground (`underground`) hold floor no
    outline above ground counts, and are left as they are."""
    above = frame.index[~frame["underground"].astype(bool)]
    levels = frame["levels"].astype(float)
    home = _owners(local, above, above, least=NESTED_SHARE, larger=True) if above.size > 1 else {}
    if not home:
        return levels
    floor = frame["area_m2"] * levels
    for inner, outer in home.items():
        common = shapely.area(shapely.intersection(local[inner], local[outer]))
        floor[outer] -= common * min(levels[inner], levels[outer])
    outers = list(set(home.values()))
    area = frame.loc[outers, "area_m2"]
    levels[outers] = (floor[outers].clip(lower=0.0) / area).where(area > 0, levels[outers])
    levels[outers] = levels[outers].round(3)
    return levels


def _owners(
    local: gpd.GeoSeries,
    items: pd.Index,
    homes: pd.Index,
    *,
    least: float = 0.5,
    larger: bool = False,
) -> dict[int, int]:
    """The outline among `homes` each of `items` lies in (row labels of `local`, footprints in
    metres): the one holding the largest share of its area, at least `least` (half: a part
    drawn a little over its outline's edge is still its part), the smallest of equal shares (a
    crown on a tower drawn as a building inside its podium's outline is the tower's). `larger`
    (`items` and `homes` the same outlines): only an outline larger than the item holds it, or
    of the same size and before it, so that one of two outlines drawn twice holds the other
    and no outline holds itself."""
    mine, theirs = local[items].to_numpy(), local[homes].to_numpy()
    at, by = shapely.STRtree(theirs).query(mine, predicate="intersects")
    size = shapely.area(mine[at])
    common = shapely.area(shapely.intersection(mine[at], theirs[by]))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.round(np.where(size > 0, common / size, 0.0), 3)
    pairs = pd.DataFrame(
        {"item": items[at], "home": homes[by], "share": -share, "size": shapely.area(theirs[by])}
    )
    keep = share >= least
    if larger:
        keep &= (pairs["size"] > size) | ((pairs["size"] == size) & (pairs["home"] < pairs["item"]))
    best = pairs[keep].sort_values(["share", "size"], kind="stable")
    best = best.drop_duplicates("item")
    return dict(zip(best["item"].tolist(), best["home"].tolist(), strict=True))


class _Storeys(NamedTuple):
    """A footprint's or part's storeys as the S3DB tags give them (`_storeys`)."""

    top: float  # the level its roof sits on, counted from the ground
    bottom: float  # the levels below its lowest floor
    count: float  # the storeys it holds: top - bottom, roof levels in
    source: str  # where `top` comes from: "tag", "height", "assumed"


def _parts_floor(
    shape: shapely.Geometry,
    own: _Storeys,
    kind: str,
    parts: list[tuple[shapely.Geometry, _Storeys]],
) -> float:
    """The floor area in m² of an outline (`shape`, its own storeys `own`) and its `parts`,
    piece by piece of the plan their edges cut out. A piece under parts holds their storeys
    and, where the lowest of them starts above the outline's bottom (`building:min_level`,
    `min_height`), the outline's own storeys up to it: S3DB would draw the podium under a
    tower as a part of its own, and where it is not drawn, the outline says what stands there
    (the body of a tower under its crown). A piece under no part holds the outline's own
    storeys (a podium drawn as the outline, its tower as a part), unless they are those of its
    tallest part standing from below them (to a storey or a tenth): then they are the whole
    building's height, as S3DB asks of an outline, say nothing of the rest, and the rest holds
    the storeys of the outline's type (TYPICAL_LEVELS), at most its own. Parts over one
    another from the ground each count: S3DB stacks parts with `building:min_level`, and
    volumes that overlap are a mapping error."""
    base = rest = max(1.0, own.count)
    standing = [s.top for _, s in parts if s.bottom < own.top and s.count > 0]
    if standing and abs(own.top - max(standing)) <= max(1.0, 0.1 * max(standing)):
        rest = min(base, float(TYPICAL_LEVELS.get(kind, 1)))
    edges = shapely.union_all(shapely.boundary(np.array([shape, *(g for g, _ in parts)])))
    floor = 0.0
    for piece in shapely.get_parts(shapely.polygonize(shapely.get_parts(edges))):
        spot = shapely.point_on_surface(piece)
        over = [s for g, s in parts if g.contains(spot)]
        inside = shape.contains(spot)
        if over:
            below = min(s.bottom for s in over) - own.bottom if inside else 0.0
            storeys = sum(s.count for s in over) + min(base, max(0.0, below))
        else:
            storeys = rest if inside else 0.0
        floor += piece.area * storeys
    return floor


def _warn_orphans(parts: pd.DataFrame) -> None:
    """Name the `building:part` areas that lie in no building outline (left out), in the log
    at DEBUG: most maps have a few (the demo's Helsinki has 6), they are no delivery address
    alone, and a planner can do nothing about them but map the outline."""
    if parts.empty:
        return
    shown = zip(parts["osm_ref"][:5], parts["part"][:5], strict=True)
    more = f" and {len(parts) - 5:,} more" if len(parts) > 5 else ""
    log.debug(
        "buildings: building:part areas in no building outline are left out (Simple 3D "
        "Buildings draws every part inside its building's outline): %s%s",
        ", ".join(f"{ref} ({value})" for ref, value in shown), more,
    )  # fmt: skip


def _storeys(tags: Mapping[str, str | None], kind: str, part: str | None = None) -> _Storeys:
    """The storeys of a footprint or `building:part` as the Simple 3D Buildings (S3DB) tags
    give them. `top` is the level its roof sits on, counted from the ground (`_top`);
    `building:min_level`, else `min_height` / STOREY_M, are the levels below its lowest floor
    (a tower part on a podium, a bridge between two blocks), taken off; storeys counted from
    metres are whole ones; `roof:levels` add ROOF_LEVEL_SHARE each to `building:levels` (not to
    `height`, which holds the roof). A `min_level` or `roof:levels` that reads as no number, or
    a negative one, counts as not given. A part of NO_FLOOR_PARTS holds no storey and has
    nothing under it."""
    top, source = _top(tags["building:levels"], tags["height"], kind)
    if part in NO_FLOOR_PARTS:
        return _Storeys(top, 0.0, 0.0, source)
    min_level = _count(tags["building:min_level"])
    metres = _metres(tags["min_height"]) if min_level is None else None
    bottom = min_level if metres is None else metres / STOREY_M
    bottom = bottom or 0.0
    count = top - bottom
    if source == "height" or metres is not None:
        count = float(round(count))
    if source == "tag":
        count += ROOF_LEVEL_SHARE * (_count(tags["roof:levels"]) or 0.0)
    return _Storeys(top, bottom, max(0.0, count), source)


def _top(tag: str | None, height: str | None, kind: str) -> tuple[float, str]:
    """The level a roof sits on and where it comes from ("tag", "height", "assumed"):
    `building:levels` ("5", "5;6", "5.5"), else `height` / STOREY_M, else TYPICAL_LEVELS of the
    type, else 1. A value that reads as no number, or as less than 1 storey, counts as not
    given."""
    levels = _count(tag) or 0.0
    if levels >= 1:
        return levels, "tag"
    metres = _metres(height)
    if metres is not None:
        return metres / STOREY_M, "height"
    return float(TYPICAL_LEVELS.get(kind, 1)), "assumed"


def _count(tag: str | None) -> float | None:
    """The first number of a count tag ("5", "5;6", "5.5"), None where it has none or it is
    negative."""
    match = _NUMBER.search(tag or "")
    value = float(match.group()) if match else -1.0
    return value if np.isfinite(value) and value >= 0 else None


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
