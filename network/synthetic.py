"""A seeded synthetic Chinese city: arterial grid, gated compounds, an expressway, one-ways."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

from network._assemble import assemble, keep_largest_scc
from network._osm import Way
from network.errors import ProfileError
from network.profiles import get_profile

CENTRE = (120.383, 36.067)  # lon, lat: Shinan district, Qingdao
BLOCK_M = 100.0  # lattice spacing; arterials every 4 lines (400 m, GB 50220 branch-road spacing)
M_PER_DEG_LAT = 111_320.0
GATE_P = 0.4  # chance that a compound street has a gate onto the arterial it meets
INNER_P = 0.92  # chance that an inner compound street segment exists


def _line_class(index: int, trunk: int) -> str | None:
    """Road class of the index-th lattice line (None: an inner compound street)."""
    if index == trunk:
        return "trunk"
    if index % 16 == 0:
        return "primary"
    if index % 8 == 0:
        return "secondary"
    if index % 4 == 0:
        return "tertiary"
    return None


def _segments(count: int, other: int, rng: np.random.Generator) -> list[tuple[int, int, dict]]:
    """(line, position, tags) for the segments of `count` parallel lines of `other` nodes:
    a segment from position p to p+1 on that line."""
    trunk = round(count / 32) * 16  # an elevated expressway near the middle, on a primary line
    cross_trunk = round(other / 32) * 16  # the other family's expressway, met only by arterials
    out = []
    for line in range(count):
        cls = _line_class(line, trunk)
        inner_oneway = cls is None and rng.random() < 0.25
        for pos in range(other - 1):
            crosses_trunk = cross_trunk in (pos, pos + 1)
            if cls is not None:
                if crosses_trunk and cls == "tertiary":
                    continue
                tags = {"highway": cls}
                if cls == "trunk":
                    tags.update(maxspeed="60", name="快速路")
                elif cls == "secondary":
                    tags["maxspeed"] = "40"
                out.append((line, pos, tags))
                continue
            # an inner street: its end segments are compound gates onto the arterials
            gate = pos % 4 == 0 or (pos + 1) % 4 == 0
            if crosses_trunk or rng.random() >= (GATE_P if gate else INNER_P):
                continue
            tags = {"highway": "service" if gate else "residential"}
            if inner_oneway:  # one-way pairs in alternating directions (also oneway=-1)
                tags["oneway"] = "yes" if line % 8 < 4 else "-1"
            out.append((line, pos, tags))
    return out


def synthetic_city(
    n_nodes: int, *, seed: int = 0, profile: str = "van", speeds_kmh: dict | None = None
) -> nx.MultiDiGraph:
    """A Chinese-style city of about `n_nodes` junctions around Qingdao, deterministic per seed.

    An arterial grid every 400 m (primary / secondary / tertiary) bounds gated compounds (小区)
    whose inner streets (residential, 25% of them one-way) reach the arterials only through a
    few gates (service roads); an elevated expressway (trunk) crosses the middle and meets only
    the arterials. ~100 m lattice with jitter, ~8% of inner segments missing (dead ends).
    Same graph format as `build_graph`."""
    if not isinstance(n_nodes, int) or not 4 <= n_nodes <= 2_000_000:
        raise ProfileError(
            f"synthetic city: n_nodes must be an integer in 4..2000000, got {n_nodes!r}"
        )
    prof = get_profile(profile, speeds_kmh)
    rng = np.random.default_rng(seed)
    side = max(2, round(math.sqrt(n_nodes)))
    rows, cols = side, max(2, math.ceil(n_nodes / side))
    jitter = rng.uniform(-0.15, 0.15, size=(rows, cols, 2)) * BLOCK_M
    lon0, lat0 = CENTRE
    m_per_deg_lon = M_PER_DEG_LAT * math.cos(math.radians(lat0))
    coords = {}
    for r in range(rows):
        for c in range(cols):
            east = (c - cols / 2) * BLOCK_M + jitter[r, c, 0]
            north = (r - rows / 2) * BLOCK_M + jitter[r, c, 1]
            coords[r * cols + c] = (lon0 + east / m_per_deg_lon, lat0 + north / M_PER_DEG_LAT)
    ways = [
        Way(0, tags, [r * cols + c, r * cols + c + 1]) for r, c, tags in _segments(rows, cols, rng)
    ] + [
        Way(0, tags, [r * cols + c, (r + 1) * cols + c])
        for c, r, tags in _segments(cols, rows, rng)
    ]
    ways = [Way(i + 1, w.tags, w.nodes) for i, w in enumerate(ways)]
    graph, counts = assemble(coords, ways, prof)
    graph.graph["source"] = f"synthetic:{n_nodes}"
    return keep_largest_scc(graph, dict(counts, seed=seed))
