"""Routes drawn on the roads: a vehicle's stops joined by the fastest paths of its graph."""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np
import routingkit_cch as rk
from scipy.spatial import cKDTree

from network._engines import cch_metric
from network._index import road_index


class RoadLines:
    """Joins stops along the fastest roads of one graph, for maps.

    Legs are CCH point-to-point queries on the graph's road index, the one its travel-time
    matrices come from (built once per graph object and shared with them), and stops find their
    nearest road node in a k-d tree: a day of hundreds of stops on a city graph is drawn in
    milliseconds, where a Dijkstra per leg took seconds (``benchmarks/road_lines.py``).
    """

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        self.index = road_index(graph)
        self.tree = cKDTree(np.column_stack([self.index.px, self.index.py]))
        self.query = rk.CCHQuery(cch_metric(self.index, "travel_time"))

    def nearest(self, lon: float, lat: float) -> int:
        """The index number of the road node nearest to (lon, lat), in metres on the map's
        local projection."""
        x, y = self.index.project.transform(lon, lat)
        return int(self.tree.query([x, y])[1])

    def along(self, stops: Sequence[Sequence[float]]) -> list[list[float]]:
        """GeoJSON coordinates ([lon, lat]) from the first stop to the last, through every stop
        in order: each leg runs from its stop to the stop's nearest road node, along the
        fastest path to the next stop's nearest node, then to that stop (a leg with no path
        stays a straight segment), so map lines meet their stop markers.

        A single stop is drawn as a route from it back to itself (the stop, its node, the stop:
        still a valid LineString of at least two positions); no stops give no coordinates."""
        stops = list(stops)
        if len(stops) == 1:
            stops *= 2
        ends = [self.nearest(lon, lat) for lon, lat in stops]
        coords = [_position(*stops[0])] if stops else []
        for (lon, lat), a, b in zip(stops[1:], ends[:-1], ends[1:], strict=True):
            path = self.query.run(a, b).node_path  # [] where no road joins them
            coords += [_position(self.index.x[n], self.index.y[n]) for n in path]
            coords.append(_position(lon, lat))
        return coords


def _position(lon: float, lat: float) -> list[float]:
    """A GeoJSON position rounded to 6 decimals (~0.1 m)."""
    return [round(float(lon), 6), round(float(lat), 6)]
