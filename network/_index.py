"""Array form of a road graph (integer weights, segment R-tree), built once per graph object."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pyproj
import shapely

# Integer units shared by every engine: durations in milliseconds, lengths in millimetres.
# CCH needs integer weights (32-bit: paths up to ~24 days or ~2,100 km, far beyond a city).
SCALE = {"travel_time": 1000, "length": 1000}


@dataclass
class RoadIndex:
    """Nodes numbered 0..n-1, deduplicated directed arcs with integer weights per metric, and
    an R-tree of the undirected road segments in a local metric projection (node positions
    `px`, `py` in metres) for snapping and for bounding limited searches.

    Parallel edges become one arc whose weight per metric is the minimum over them; besides
    the metrics, `weights["fastest_length"]` is the length of the edge a vehicle on the arc's
    fastest time actually drives (the fastest parallel edge, the shorter one on equal times).
    """

    nodes: list
    x: np.ndarray
    y: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    weights: dict[str, np.ndarray]
    arc_of: dict[tuple[int, int], int]
    seg_a: np.ndarray
    seg_b: np.ndarray
    seg_lines: np.ndarray
    px: np.ndarray
    py: np.ndarray
    tree: shapely.STRtree
    project: pyproj.Transformer
    order_file: str | None = None
    engines: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        """How many road nodes the index holds."""
        return len(self.nodes)


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def road_index(graph: nx.MultiDiGraph) -> RoadIndex:
    """The graph's index, memoised per graph object (graphs are read-only once built; a change
    in the node count is noticed, the O(edges) edge count is deliberately not checked)."""
    stamp = graph.number_of_nodes()
    cached = _CACHE.get(graph)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    index = _build(graph)
    _CACHE[graph] = (stamp, index)
    return index


def local_projection(lon0: float, lat0: float) -> pyproj.Transformer:
    """(lon, lat) -> metres in a transverse Mercator centred at (lon0, lat0): within 20 km of
    the centre, lengths are true to 5 parts per million, so snapping, straight lines and what
    lies inside a shape can be worked out in the plane. Made as a PROJ pipeline, which gives
    the same numbers as a transformer from EPSG:4326 but takes no PROJ database search to make
    (0.1 ms instead of 12 ms: paid on every build and index)."""
    return pyproj.Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
        f"+step +proj=tmerc +lat_0={lat0} +lon_0={lon0} +k=1 +x_0=0 +y_0=0 +ellps=WGS84"
    )


def _build(graph: nx.MultiDiGraph) -> RoadIndex:
    nodes = list(graph.nodes)
    position = {node: i for i, node in enumerate(nodes)}
    x = np.array([graph.nodes[n]["x"] for n in nodes], dtype=float)
    y = np.array([graph.nodes[n]["y"] for n in nodes], dtype=float)
    best: dict[tuple[int, int], list[int]] = {}
    for u, v, data in graph.edges(data=True):
        if u == v:
            continue
        key = (position[u], position[v])
        time = round(data["travel_time"] * SCALE["travel_time"])
        length = round(data["length"] * SCALE["length"])
        old = best.get(key)
        if old is None:
            best[key] = [time, length, length]
        else:  # min time, min length, and the length of the fastest (then shorter) edge
            fastest = length if (time, length) < (old[0], old[2]) else old[2]
            best[key] = [min(old[0], time), min(old[1], length), fastest]
    pairs = np.array(list(best.keys()), dtype=np.int64).reshape(-1, 2)
    values = np.array(list(best.values()), dtype=np.int64).reshape(-1, 3)
    weights = {
        "travel_time": values[:, 0],
        "length": values[:, 1],
        "fastest_length": values[:, 2],
    }
    arc_of = {key: i for i, key in enumerate(best)}
    undirected = np.unique(np.sort(pairs, axis=1), axis=0)
    seg_a, seg_b = undirected[:, 0], undirected[:, 1]
    # centred on the nodes (a graph without any gets a projection all the same, so that
    # snapping onto it fails as a SnapError that says so, not in pyproj)
    lon0, lat0 = (float(np.median(x)), float(np.median(y))) if nodes else (0.0, 0.0)
    project = local_projection(lon0, lat0)
    px, py = project.transform(x, y)
    coords = np.stack(
        [np.stack([px[seg_a], py[seg_a]], axis=1), np.stack([px[seg_b], py[seg_b]], axis=1)],
        axis=1,
    )
    lines = shapely.linestrings(coords)
    return RoadIndex(
        nodes=nodes, x=x, y=y, tail=pairs[:, 0], head=pairs[:, 1], weights=weights,
        arc_of=arc_of, seg_a=seg_a, seg_b=seg_b, seg_lines=lines,
        px=np.asarray(px), py=np.asarray(py), tree=shapely.STRtree(lines), project=project,
        order_file=graph.graph.get("index_file"),
    )  # fmt: skip
