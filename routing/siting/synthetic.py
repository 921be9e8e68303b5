"""A seeded synthetic siting case on a synthetic city's walk graph."""

from __future__ import annotations

import numpy as np

from network.synthetic import synthetic_city
from routing.siting.model import SitingInstance
from routing.siting.points import Candidate, DemandPoint, instance_from_points


def synthetic_case(
    n_nodes: int,
    n_demand: int,
    n_sites: int,
    *,
    radius_m: float = 500.0,
    seed: int = 0,
    capacity: float | None = None,
    fixed_cost: float = 0.0,
    parcels_median: float = 8.0,
) -> SitingInstance:
    """Demand points and candidates dropped on random walkable street segments of a synthetic city.

    Parcels per point are log-normal (median ``parcels_median`` a day), size mixes vary around
    60/30/10 % S/M/L; distances are walking distances within ``radius_m`` on the walk graph.
    """
    graph = synthetic_city(n_nodes, seed=seed, profile="walk")
    rng = np.random.default_rng(seed)
    edges = list(graph.edges())
    xy = {n: (d["y"], d["x"]) for n, d in graph.nodes(data=True)}

    def spots(count: int) -> np.ndarray:
        pick = rng.integers(0, len(edges), count)
        t = rng.random(count)[:, None]
        a = np.array([xy[edges[k][0]] for k in pick])
        b = np.array([xy[edges[k][1]] for k in pick])
        return a + t * (b - a)

    dem, cand = spots(n_demand), spots(n_sites)
    parcels = np.round(rng.lognormal(np.log(parcels_median), 0.8, n_demand), 1)
    mix = rng.dirichlet([6.0, 3.0, 1.0], n_demand)
    demand = [
        DemandPoint(f"d{i}", float(lat), float(lon), float(w), tuple(float(v) for v in m / m.sum()))
        for i, ((lat, lon), w, m) in enumerate(zip(dem, parcels, mix, strict=True))
    ]
    sites = [
        Candidate(
            f"s{j}",
            float(lat),
            float(lon),
            fixed_cost=fixed_cost,
            capacity=np.inf if capacity is None else capacity,
        )
        for j, (lat, lon) in enumerate(cand)
    ]
    return instance_from_points(
        demand, sites, radius_m=radius_m, graph=graph, name=f"synthetic-{n_nodes}"
    )
