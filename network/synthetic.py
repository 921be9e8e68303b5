"""A seeded synthetic city: a jittered street grid with arterials, an expressway and one-ways."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

from network._assemble import assemble, keep_largest_scc
from network._osm import Way
from network.errors import ProfileError
from network.profiles import get_profile

CENTRE = (120.383, 36.067)  # lon, lat: Shinan district, Qingdao
BLOCK_M = 150.0
M_PER_DEG_LAT = 111_320.0


def _street_tags(index: int, count: int, rng: np.random.Generator) -> dict[str, str]:
    """Tags of the index-th street of a family of parallel streets."""
    if index == count // 2:
        return {"highway": "trunk", "maxspeed": "60", "name": "快速路"}
    if index % 10 == 0:
        return {"highway": "primary", "name": f"主干路{index}"}
    if index % 5 == 0:
        return {"highway": "secondary", "maxspeed": "40"}
    if rng.random() < 0.3:  # one-way pairs in alternating directions (also exercises oneway=-1)
        return {"highway": "residential", "oneway": "yes" if index % 2 else "-1"}
    return {"highway": "residential"}


def synthetic_city(
    n_nodes: int, *, seed: int = 0, profile: str = "van", speeds_kmh: dict | None = None
) -> nx.MultiDiGraph:
    """A realistic-looking city of about `n_nodes` intersections around Qingdao, deterministic
    for a given seed: ~150 m blocks with jitter, primary and secondary arterials every 10 and 5
    streets, one elevated expressway (trunk) across the middle, 30% one-way local streets and ~4%
    of local segments missing (dead ends). Same graph format as `build_graph`."""
    if not isinstance(n_nodes, int) or not 4 <= n_nodes <= 2_000_000:
        raise ProfileError(
            f"synthetic city: n_nodes must be an integer in 4..2000000, got {n_nodes!r}"
        )
    prof = get_profile(profile, speeds_kmh)
    rng = np.random.default_rng(seed)
    rows = max(2, round(math.sqrt(n_nodes)))
    cols = max(2, math.ceil(n_nodes / rows))
    jitter = rng.uniform(-0.15, 0.15, size=(rows, cols, 2)) * BLOCK_M
    lon0, lat0 = CENTRE
    m_per_deg_lon = M_PER_DEG_LAT * math.cos(math.radians(lat0))
    coords = {}
    for r in range(rows):
        for c in range(cols):
            east = (c - cols / 2) * BLOCK_M + jitter[r, c, 0]
            north = (r - rows / 2) * BLOCK_M + jitter[r, c, 1]
            coords[r * cols + c] = (lon0 + east / m_per_deg_lon, lat0 + north / M_PER_DEG_LAT)
    ways = []
    for r in range(rows):
        tags = _street_tags(r, rows, rng)
        drop = rng.random(cols - 1) < (0.04 if tags["highway"] == "residential" else 0.0)
        ways += [
            Way(len(ways) + 1, tags, [r * cols + c, r * cols + c + 1])
            for c in range(cols - 1)
            if not drop[c]
        ]
    for c in range(cols):
        tags = _street_tags(c, cols, rng)
        drop = rng.random(rows - 1) < (0.04 if tags["highway"] == "residential" else 0.0)
        ways += [
            Way(len(ways) + 1, tags, [r * cols + c, (r + 1) * cols + c])
            for r in range(rows - 1)
            if not drop[r]
        ]
    graph, counts = assemble(coords, ways, prof)
    graph.graph["source"] = f"synthetic:{n_nodes}"
    return keep_largest_scc(graph, dict(counts, seed=seed))
