"""Routes drawn on the roads: a vehicle's stops joined by the fastest paths of its graph."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np


class RoadLines:
    """Joins stops along the fastest roads of one graph, for maps (the node coordinates are read
    once, so one instance draws every route of a plan)."""

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        self.graph = graph
        self.nodes = list(graph.nodes)
        self.xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in self.nodes])

    def nearest(self, lon: float, lat: float) -> Any:
        """The graph node nearest to (lon, lat) (equirectangular: stops are close to roads)."""
        scale = np.cos(np.radians(lat))
        d = ((self.xy[:, 0] - lon) * scale) ** 2 + (self.xy[:, 1] - lat) ** 2
        return self.nodes[int(np.argmin(d))]

    def along(self, stops: Sequence[Sequence[float]]) -> list[list[float]]:
        """GeoJSON coordinates ([lon, lat]) through ``stops`` in order, each leg along the
        fastest path between the nodes nearest to its ends (a leg with no path stays a
        straight segment)."""
        coords: list[list[float]] = []
        ends = [self.nearest(lon, lat) for lon, lat in stops]
        for (lon, lat), a, b in zip(stops, ends, ends[1:] + ends[-1:], strict=True):
            coords.append([round(lon, 6), round(lat, 6)])
            try:
                _, path = nx.bidirectional_dijkstra(self.graph, a, b, weight="travel_time")
            except nx.NetworkXNoPath:
                continue
            coords += [
                [round(self.graph.nodes[n]["x"], 6), round(self.graph.nodes[n]["y"], 6)]
                for n in path
            ]
        return coords
