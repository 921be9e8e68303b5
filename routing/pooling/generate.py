"""Generate a plausible day on a road graph: firms, a shared centre, lockers at busy places."""

from __future__ import annotations

import math
from typing import Any

import networkx as nx
import numpy as np

#: Share of parcels of each size class (XL never fits a locker).
SIZE_MIX = {"S": 0.55, "M": 0.27, "L": 0.12, "XL": 0.06}


def generate_day(
    graph: nx.MultiDiGraph,
    *,
    source: str,
    firms: int,
    parcels_per_firm: int,
    hotspots: int = 4,
    seed: int = 0,
    name: str | None = None,
) -> dict[str, Any]:
    """A day as plain data (``parse_day`` input) over the nodes of ``graph``.

    ``source`` is what the day's travel section will name ("synthetic:N", "demo", a file);
    it must build the same graph.

    Used by the benchmark and to try ``gongpei pool`` without real batches. Parcels cluster around a
    few busy places (office towers, campuses), where the lockers stand, and each firm has its own
    depot on the edge of the area, as express firms' depots usually are.
    """
    rng = np.random.default_rng(seed)
    nodes = np.array([(d["y"], d["x"]) for _, d in graph.nodes(data=True)], dtype=np.float64)
    centre = nodes.mean(axis=0)
    metres = _metres_from(nodes, centre)
    order = np.argsort(metres)
    edge = order[int(0.8 * len(order)) :]  # the outer fifth: depots
    busy = rng.choice(order[: max(hotspots, len(order) // 2)], size=hotspots, replace=False)
    hub = order[0]
    parcels = []
    for f in range(firms):
        for k in range(parcels_per_firm):
            if rng.random() < 0.7:
                spot = nodes[busy[rng.integers(hotspots)]]
                near = np.flatnonzero(_metres_from(nodes, spot) < 250.0)
                node = near[rng.integers(len(near))]
            else:
                node = rng.integers(len(nodes))
            parcels.append(
                {
                    "id": f"f{f + 1}-{k + 1}",
                    "firm": f"f{f + 1}",
                    "at": _jitter(nodes[node], rng),
                    "size": str(rng.choice(list(SIZE_MIX), p=list(SIZE_MIX.values()))),
                    "kg": round(float(rng.uniform(0.2, 8.0)), 1),
                }
            )
    per_van = 60
    firm_vans = math.ceil(parcels_per_firm / per_van)
    shared_vans = math.ceil(firms * parcels_per_firm / per_van)
    van = {"capacity_parcels": per_van, "fixed_cost": 60.0, "cost_per_km": 1.2}
    return {
        "name": name or f"{firms} firms x {parcels_per_firm} parcels on {source}",
        "travel": {"source": source, "walk_radius_m": 400},
        "firms": [
            {
                "id": f"f{f + 1}",
                "depot": _point(nodes[edge[rng.integers(len(edge))]]),
                "fleet": [{"type": "van", "count": firm_vans, **van}],
            }
            for f in range(firms)
        ],
        "centres": [
            {
                "id": "hub",
                "at": _point(nodes[hub]),
                "fleet": [{"type": "van", "count": shared_vans, **van}],
            }
        ],
        "lockers": [
            {
                "id": f"locker-{k + 1}",
                "at": _point(nodes[spot]),
                "free": {"S": int(rng.integers(6, 20)), "M": int(rng.integers(3, 10)), "L": 2},
            }
            for k, spot in enumerate(busy)
        ],
        "parcels": parcels,
    }


def _metres_from(points: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Approximate metres from ``origin`` (flat earth: fine over a few kilometres)."""
    dlat = (points[:, 0] - origin[0]) * 111_320.0
    dlon = (points[:, 1] - origin[1]) * 111_320.0 * math.cos(math.radians(origin[0]))
    return np.hypot(dlat, dlon)


def _point(latlon: np.ndarray) -> list[float]:
    return [round(float(latlon[0]), 6), round(float(latlon[1]), 6)]


def _jitter(latlon: np.ndarray, rng: np.random.Generator) -> list[float]:
    """A doorway a few metres off the street node."""
    return _point(latlon + rng.normal(0.0, 0.00008, size=2))
