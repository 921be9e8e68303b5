"""Solomon (1987) VRPTW instances in their original text format, read by the `vrplib` package.

Distance convention: travel time = distance = unrounded Euclidean length (double precision);
the plan's total distance is compared with the distance-only best-known values at 2 decimals.
The fleet is the file's VEHICLE NUMBER; the depot's ready/due times bound every vehicle's shift.
Job ids are the file's customer numbers (the depot, 0, excluded).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import vrplib

from routing.io._benchmark import (
    InstanceFormatError,
    benchmark_problem,
    delivery_jobs,
    euclidean,
    reading,
)
from routing.model import Problem


def read_solomon(path: str | Path) -> Problem:
    """Read a Solomon VRPTW text file (VEHICLE block, then one line per customer)."""
    path = Path(path)
    try:
        data = vrplib.read_instance(path, instance_format="solomon", compute_edge_weights=False)
    except (OSError, ValueError, TypeError, KeyError, IndexError, RuntimeError) as err:
        raise InstanceFormatError(f"{path.name}: not a readable Solomon instance ({err})") from None
    coords = np.asarray(data["node_coord"], dtype=np.float64)
    demand = np.asarray(data["demand"], dtype=np.int64)
    with reading(path):
        jobs = delivery_jobs(demand, data["service_time"], data["time_window"])
        return benchmark_problem(
            name=str(data.get("name", path.stem)),
            source="solomon",
            travel=euclidean(coords, rounded=False),
            fleet=int(data["vehicles"]),
            capacity=int(data["capacity"]),
            jobs=jobs,
            depot_window=tuple(data["time_window"][0]),
            meta={"distance_rule": "unrounded Euclidean, compared at 2 decimals"},
        )
