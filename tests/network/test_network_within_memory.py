"""`distances_within` on a crowded cell: its limit-pruned Dijkstra held a dense block of every
source in a grid cell by every node near it at once (50,000 doors x 10,000 sites in the 2 km2
of Xinjiekou: 4.3 GB for a 180 MB answer). The block is now chunked, as `dijkstra_rows` is."""

from __future__ import annotations

import numpy as np
from network_oracle import random_points

from network import _engines
from network.matrix import distances_within
from network.synthetic import synthetic_city

CAP = 2_000  # dense cells per Dijkstra call in this test (the module's own is 25,000,000)


def test_crowded_cells_are_searched_in_bounded_blocks(monkeypatch) -> None:
    """Before: one call per grid cell, each every source in it by every node near it."""
    graph = synthetic_city(400, seed=2)
    sources = random_points(graph, 60, seed=1)
    targets = random_points(graph, 90, seed=2)
    whole = distances_within(graph, sources, targets, limit_m=600.0, access=True)

    blocks: list[int] = []
    dijkstra = _engines.dijkstra

    def counted(*args, **kwargs):
        dist = dijkstra(*args, **kwargs)
        blocks.append(dist.size)
        return dist

    monkeypatch.setattr(_engines, "dijkstra", counted)
    monkeypatch.setattr(_engines, "_CHUNK_CELLS", CAP)
    chunked = distances_within(graph, sources, targets, limit_m=600.0, access=True)

    assert len(blocks) > 1
    assert max(blocks) <= CAP, blocks
    assert whole.nnz > 100
    assert (whole != chunked).nnz == 0
    assert np.array_equal(whole.indices, chunked.indices)
