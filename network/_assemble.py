"""Turn highway ways into a directed road graph for one profile, and keep its largest SCC."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping

import networkx as nx
import numpy as np

from network._crossings import area_ring, crossings
from network._osm import Way
from network.geo import haversine_m
from network.profiles import Profile, is_area


def _runs(nodes: list[int | None]) -> Iterable[list[int]]:
    """Split a way's node list where the file lacks a node (a clipped extract), so the rest of
    the way is kept instead of the whole way being dropped."""
    run: list[int] = []
    for node in nodes:
        if node is None:
            if len(run) > 1:
                yield run
            run = []
        else:
            run.append(node)
    if len(run) > 1:
        yield run


def assemble(
    coords: Mapping[int, tuple[float, float]], ways: Iterable[Way], profile: Profile
) -> tuple[nx.MultiDiGraph, Counter]:
    """One directed edge per usable way segment and allowed direction, and for a profile that
    uses highway areas (walking), straight crossings of each area between the outline nodes
    where other usable ways meet it (`_crossings`).

    Lengths are rounded to the millimetre and travel times to the millisecond, so that every
    engine (integer CCH, float Dijkstra) sums exactly the same integers.
    """
    counts: Counter = Counter(
        dict.fromkeys(
            ["highway_ways", "ways_kept", "ways_class_not_usable", "ways_access_denied_or_area",
             "areas_kept", "area_crossings"],
            0,
        )
    )  # fmt: skip
    segments = _Segments()
    users: Counter = Counter()  # usable ways through each node: the areas' doors
    areas: list[tuple[list[int], dict, float, tuple[bool, bool]]] = []
    for way in ways:
        counts["highway_ways"] += 1
        if way.tags.get("highway") not in profile.speeds_kmh:
            counts["ways_class_not_usable"] += 1
            continue
        if not profile.allows(way.tags):
            counts["ways_access_denied_or_area"] += 1
            continue
        counts["ways_kept"] += 1
        directions = profile.directions(way.tags)
        kmh = profile.speed_kmh(way.tags)
        base = {
            "osmid": way.osmid,
            "highway": way.tags["highway"],
            "oneway": not all(directions),
            "speed_kph": kmh,
        }
        if "name" in way.tags:
            base["name"] = way.tags["name"]
        users.update({node for node in way.nodes if node is not None})
        if is_area(way.tags):
            counts["areas_kept"] += 1
            ring = area_ring(way.nodes)
            if ring is not None:
                areas.append((ring, base, kmh, directions))
        for run in _runs(way.nodes):
            segments.add(itertools.pairwise(run), directions, base, kmh)
    across = crossings(coords, [ring for ring, *_ in areas], users)
    for (_, base, kmh, directions), pairs in zip(areas, across, strict=True):
        counts["area_crossings"] += len(pairs)
        segments.add(pairs, directions, base, kmh)
    return segments.graph(coords, profile), counts


class _Segments:
    """Directed segments gathered way by way, whose lengths and times are then worked out in
    one vectorised pass (`graph`)."""

    def __init__(self) -> None:
        self.tails: list[int] = []
        self.heads: list[int] = []
        self.attrs: list[dict] = []
        self.kmhs: list[float] = []

    def add(
        self,
        pairs: Iterable[tuple[int, int]],
        directions: tuple[bool, bool],
        base: dict,
        kmh: float,
    ) -> None:
        """An edge per segment (a, b) and allowed direction: a -> b if `directions[0]` (along
        the way), b -> a if `directions[1]`; a segment from a node to itself is none."""
        forward, backward = directions
        for a, b in pairs:
            if a == b:
                continue
            for ok, (u, v) in ((forward, (a, b)), (backward, (b, a))):
                if ok:
                    self.tails.append(u)
                    self.heads.append(v)
                    self.attrs.append(base)
                    self.kmhs.append(kmh)

    def graph(self, coords: Mapping[int, tuple[float, float]], profile: Profile) -> nx.MultiDiGraph:
        """The profile's graph of these edges: great-circle lengths in mm, times in ms."""
        graph = nx.MultiDiGraph(crs="epsg:4326", profile=profile.name)
        if not self.tails:
            return graph
        tail = np.array([coords[n] for n in self.tails])
        head = np.array([coords[n] for n in self.heads])
        length_mm = np.rint(haversine_m(tail[:, 1], tail[:, 0], head[:, 1], head[:, 0]) * 1000)
        time_ms = np.rint(length_mm / (np.array(self.kmhs) / 3.6))
        edges = zip(
            self.tails, self.heads, self.attrs, length_mm.tolist(), time_ms.tolist(), strict=True
        )
        graph.add_edges_from(
            (u, v, {**a, "length": mm / 1000.0, "travel_time": ms / 1000.0})
            for u, v, a, mm, ms in edges
        )
        for node, data in graph.nodes(data=True):
            data["x"], data["y"] = coords[node]
        return graph


def keep_largest_scc(graph: nx.MultiDiGraph, report: dict) -> nx.MultiDiGraph:
    """Shrink `graph` in place to its largest strongly connected component (every point reaches
    every other), recording what was dropped in `report`, its share of the nodes included
    (`scc_share_dropped`), and the dropped road segments in `graph.graph["dropped_roads"]`:
    a point on them is on the map, and a snap error there says so rather than "off the map"."""
    components = sorted(nx.strongly_connected_components(graph), key=len, reverse=True)
    nodes_before, edges_before = graph.number_of_nodes(), graph.number_of_edges()
    dropped = [node for component in components[1:] for node in component]
    graph.graph["dropped_roads"] = _segments(graph, dropped)
    graph.remove_nodes_from(dropped)
    report["components"] = len(components)
    report["scc_nodes_dropped"] = len(dropped)
    report["scc_share_dropped"] = round(len(dropped) / nodes_before, 4) if nodes_before else 0.0
    report["scc_edges_dropped"] = edges_before - graph.number_of_edges()
    report["nodes"] = graph.number_of_nodes()
    report["edges"] = graph.number_of_edges()
    graph.graph["report"] = report
    return graph


def _segments(graph: nx.MultiDiGraph, nodes: list) -> np.ndarray:
    """The road segments with an end among `nodes`, each once, as an (n, 2, 2) array of
    (lon, lat) ends."""
    pairs = {
        (min(u, v), max(u, v))
        for edges in (graph.out_edges(nodes), graph.in_edges(nodes))
        for u, v in edges
    }
    ends = [[(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in pair] for pair in pairs]
    return np.array(ends, dtype=float).reshape(-1, 2, 2)
