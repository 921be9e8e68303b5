"""Routes drawn on the roads: a vehicle's stops joined by the fastest paths of its graph."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import networkx as nx
import routingkit_cch as rk

from network._engines import Entries, cch_metric
from network._index import road_index
from network._offsets import direct, entries
from network.errors import SnapError
from network.snap import SnapArrays, snap_arrays, spot

METRIC = "travel_time"


class RoadLines:
    """Joins stops along the fastest roads of one graph, for maps.

    Stops join the roads where the matrices join them: at their snap spots, leaving and
    entering a segment only in the directions its arcs allow, so a leg is drawn along the path
    the route was timed on (from the nearest node, a stop on a one-way street was drawn
    leaving it the wrong way). Legs are CCH point-to-point queries on the graph's road index,
    the one its travel-time matrices come from (built once per graph object and shared with
    them): a day of hundreds of stops on a city graph is drawn in milliseconds, where a
    Dijkstra per leg took seconds (``benchmarks/road_lines.py``).
    """

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        self.graph = graph
        self.index = road_index(graph)
        self.query = rk.CCHQuery(cch_metric(self.index, "travel_time"))

    def along(self, stops: Sequence[Sequence[float]]) -> list[list[float]]:
        """GeoJSON coordinates ([lon, lat]) from the first stop to the last, through every stop
        in order: each leg runs from its stop to its snap spot, along the fastest path to the
        next stop's snap spot, then to that stop (a leg with no path stays a straight
        segment), so map lines meet their stop markers. Consecutive stops at one position (two
        drops into one locker) have no leg: the courier stays at the door, as the route's
        `walked_m` counts it. Repeated positions are written once.

        A single stop is drawn as a route from it back to itself (the stop, its snap spot, the
        stop); no stops give no coordinates."""
        stops = list(stops)
        if not stops:
            return []
        alone = len(stops) == 1
        if alone:
            stops *= 2
        try:  # where they are, as the matrices snap them (positions are written rounded)
            snaps = snap_arrays(self.graph, [(lat, lon) for lon, lat in stops], max_snap_m=math.inf)
        except SnapError:  # a stop too far from the map to place: stop to stop
            return _without_repeats([_position(lon, lat) for lon, lat in stops])
        stops = [_position(lon, lat) for lon, lat in stops]
        spots = [_position(*spot(self.index, a, b, t))
                 for a, b, t in zip(snaps.a, snaps.b, snaps.fraction, strict=True)]  # fmt: skip
        exits = _by_point(entries(self.index, METRIC, snaps, as_source=True))
        ins = _by_point(entries(self.index, METRIC, snaps, as_source=False))
        coords = [stops[0]]
        for i in range(len(stops) - 1):
            if alone or stops[i + 1] != stops[i]:  # two stops at one door: no walk to the road
                coords += self._leg(snaps, i, exits[i], ins[i + 1], spots[i], spots[i + 1])
            coords.append(stops[i + 1])
        return _without_repeats(coords)

    def _leg(
        self,
        snaps: SnapArrays,
        i: int,
        exits: list[tuple[int, int]],
        ins: list[tuple[int, int]],
        start: list[float],
        end: list[float],
    ) -> list[list[float]]:
        """The positions between stop ``i`` and the next along the fastest way: out by one of
        its ``exits`` (node, cost to it), in by one of the next stop's ``ins``, or along their
        shared segment; none where no road joins them."""
        best, nodes = math.inf, None
        for a, to_a in exits:
            for b, from_b in ins:
                result = self.query.run(a, b)
                path, cost = result.node_path, result.distance
                del result  # the CCH query allows one live result at a time
                if path and to_a + cost + from_b < best:
                    best, nodes = to_a + cost + from_b, path
        pair = (slice(i, i + 1), slice(i + 1, i + 2))
        src, tgt = (SnapArrays(*(x[s] for x in (snaps.a, snaps.b, snaps.fraction, snaps.snap_m)))
                    for s in pair)  # fmt: skip
        shared = direct(self.index, METRIC, src, tgt)
        if len(shared) and shared[:, 2].min() <= best:
            return [start, end]
        if nodes is None:
            return []
        return [start, *(_position(self.index.x[n], self.index.y[n]) for n in nodes), end]


def _by_point(rows: Entries) -> dict[int, list[tuple[int, int]]]:
    """Each point's (node, offset) ways in or out."""
    out: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for point, node, offset in zip(rows.point.tolist(), rows.node.tolist(), rows.offset.tolist(),
                                   strict=True):  # fmt: skip
        out[point].append((node, offset))
    return out


def _without_repeats(coords: list[list[float]]) -> list[list[float]]:
    """``coords`` with each run of one position written once (at least two positions)."""
    out = [c for k, c in enumerate(coords) if k == 0 or c != coords[k - 1]]
    return out * 2 if len(out) == 1 else out


def _position(lon: float, lat: float) -> list[float]:
    """A GeoJSON position rounded to 6 decimals (~0.1 m)."""
    return [round(float(lon), 6), round(float(lat), 6)]
