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
        """GeoJSON coordinates ([lon, lat]) through ``stops`` in order, each leg along the
        fastest path between the nodes nearest to its ends (a leg with no path stays a
        straight segment)."""
        x, y = self.index.x, self.index.y
        coords: list[list[float]] = []
        ends = [self.nearest(lon, lat) for lon, lat in stops]
        for (lon, lat), a, b in zip(stops, ends, ends[1:] + ends[-1:], strict=True):
            coords.append([round(lon, 6), round(lat, 6)])
            path = self.query.run(a, b).node_path  # [] where no road joins them
            coords += [[round(float(x[n]), 6), round(float(y[n]), 6)] for n in path]
        return coords
