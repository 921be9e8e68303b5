"""CVRPLIB instances (VRPLIB format, read by the `vrplib` package) and their `.sol` solutions.

Rounding rule: EUC_2D arcs are the Euclidean length rounded to the nearest integer (TSPLIB's
`nint`, the CVRPLIB convention under which X-set best-known costs are stated); other edge weight
types are taken as `vrplib` computes them. Job ids are the instance's customer numbers as in
`.sol` files: the 0-based node index, the depot (node 0) excluded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import vrplib

from routing.io._benchmark import (
    InstanceFormatError,
    benchmark_problem,
    delivery_jobs,
    reading,
)
from routing.model import Problem
from routing.solution import Solution


@dataclass(frozen=True)
class VrplibSolution:
    """A `.sol` file: routes as lists of job ids (customer numbers) and the stated cost."""

    routes: list[list[str]]
    cost: float | None


def read_vrplib(
    path: str | Path, *, vehicles: int | None = None, round_euclidean: bool = True
) -> Problem:
    """Read a VRPLIB (CVRP, optionally with time windows and service times) instance.

    The fleet is `vehicles` when given, else the file's VEHICLES, else twice the capacity lower
    bound ceil(total demand / capacity): CVRPLIB fleets are unlimited, and any-fit packing never
    needs more than that many vehicles, so the bound never cuts off a solution that matters.
    `round_euclidean=False` keeps EUC_2D lengths unrounded, the convention of sets such as
    Golden's whose best-known costs are stated in real numbers.
    """
    path = Path(path)
    try:
        data = vrplib.read_instance(path)
    except (OSError, ValueError, TypeError, KeyError, IndexError, RuntimeError) as err:
        raise InstanceFormatError(f"{path.name}: not a readable VRPLIB instance ({err})") from None
    for key in ("edge_weight", "demand", "capacity"):
        if key not in data:
            raise InstanceFormatError(f"{path.name}: VRPLIB section or field '{key}' missing")
    depots = np.atleast_1d(data.get("depot", np.array([0])))
    if list(depots) != [0]:
        raise InstanceFormatError(
            f"{path.name}: DEPOT_SECTION: only a single depot at node 1 is supported "
            f"(got nodes {[int(d) + 1 for d in depots]})"
        )
    rounded = round_euclidean and data.get("edge_weight_type") == "EUC_2D"
    travel = np.round(data["edge_weight"]) if rounded else np.asarray(data["edge_weight"], float)
    demand = np.asarray(data["demand"], dtype=np.int64)
    capacity = int(data["capacity"])
    windows = data.get("time_window")
    service = np.broadcast_to(data.get("service_time", 0), demand.shape)
    with reading(path):
        jobs = delivery_jobs(demand, service, windows)
        bound = math.ceil(demand.sum() / capacity) if capacity > 0 else len(jobs)
        fleet = vehicles or int(data.get("vehicles", min(len(jobs), max(2 * bound, bound + 2))))
        return benchmark_problem(
            name=str(data.get("name", path.stem)),
            source="vrplib",
            travel=travel,
            fleet=fleet,
            capacity=capacity,
            jobs=jobs,
            depot_window=None if windows is None else tuple(windows[0]),
            meta={"distance_rule": "nearest integer per arc" if rounded else "as given"},
        )


def read_solution(path: str | Path) -> VrplibSolution:
    """Read a VRPLIB `.sol` file (`Route #k: ...` lines and `Cost ...`)."""
    path = Path(path)
    try:
        sol = vrplib.read_solution(path)
    except (OSError, ValueError) as err:
        raise InstanceFormatError(f"{path.name}: not a readable VRPLIB solution ({err})") from None
    routes = [[str(int(c)) for c in route] for route in sol.get("routes", [])]
    cost = sol.get("cost")
    return VrplibSolution(routes=routes, cost=None if cost is None else float(cost))


def write_solution(path: str | Path, solution: Solution) -> None:
    """Write a plan for a benchmark problem as a VRPLIB `.sol` file (`Route #k: ...`, `Cost`).

    Visits are written as the instance's task numbers (their matrix rows, as the benchmark
    readers lay them out), so CVRPLIB tools and `read_solution` read it back.
    """
    routes = [[step.location for step in route.task_steps()] for route in solution.routes]
    vrplib.write_solution(path, [r for r in routes if r], {"Cost": _plain(solution.cost)})


def _plain(cost: float) -> int | float:
    return round(cost) if abs(cost - round(cost)) < 1e-9 else round(cost, 2)
