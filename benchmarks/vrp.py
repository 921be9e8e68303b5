"""VRP benchmark: the project against plain OR-Tools, PyVRP and VROOM on ../shared/bench/vrp.

Every instance listed in bks.csv is solved, in the same run and at the same time limit, by
- the project: `routing.solve.solve(problem, engine="auto")` on the problem read by `routing.io`,
  its solution verified by `routing.check.check`;
- plain OR-Tools: the documented defaults (automatic first solution) plus guided local search;
- PyVRP: its own solver on a `ProblemData` built directly from the instance;
- VROOM (pyvroom) at exploration level 5.
Each one's cost is recomputed here from its routes under the instance's convention (CVRPLIB: every
arc rounded to the nearest integer; Solomon / Li & Lim: unrounded Euclidean distance compared at
2 decimals) and printed as a gap to the best-known value, side by side, with means per class.

    .venv/bin/python benchmarks/vrp.py [--only SUBSTRING ...] [--time-limit 10] [--seed 0]

The peers need integers: times and distances are scaled by `SCALE` (1000) for Solomon and Li &
Lim, travel times rounded up so that a schedule feasible in integers is feasible in reals.
Each solver gets one thread, the machine being shared.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
import vrplib

from routing.io.lilim import parse_lilim

BENCH_DIR = Path(__file__).resolve().parents[2] / "shared" / "bench" / "vrp"
SCALE = 1000


@dataclass
class Instance:
    """One benchmark instance as plain arrays, row 0 the depot, shared by every peer."""

    file: str
    kind: str  # CVRP, VRPTW or PDPTW
    bks: float
    bks_vehicles: int
    coords: np.ndarray
    demand: np.ndarray
    capacity: int
    fleet: int
    time_window: np.ndarray | None = None
    service_time: np.ndarray | None = None
    pairs: list[tuple[int, int]] = field(default_factory=list)

    @property
    def distance(self) -> np.ndarray:
        """The instance's arc lengths under its own convention (rounded for CVRPLIB)."""
        diff = self.coords[:, None, :] - self.coords[None, :, :]
        euclid = np.sqrt((diff**2).sum(axis=2))
        return np.round(euclid) if self.kind == "CVRP" else euclid

    def integer_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Distance, travel time, time windows and service times as integers for the peers."""
        n = len(self.coords)
        if self.kind == "CVRP":
            dist = self.distance.astype(np.int64)
            windows = np.tile(np.array([0, 10**9], dtype=np.int64), (n, 1))
            return dist, dist, windows, np.zeros(n, dtype=np.int64)
        dist = np.round(self.distance * SCALE).astype(np.int64)
        dur = np.ceil(self.distance * SCALE - 1e-9).astype(np.int64)
        return dist, dur, self.time_window * SCALE, self.service_time * SCALE

    def cost(self, routes: list[list[int]]) -> float:
        """Total length of `routes` (visited rows, depot excluded), from the depot and back."""
        dist = self.distance
        return float(sum(dist[[0, *r], [*r, 0]].sum() for r in routes if r))

    @property
    def tasks(self) -> int:
        return len(self.coords) - 1


def load_instances(only: list[str]) -> list[Instance]:
    """Read bks.csv and every instance it lists whose file name contains one of `only`."""
    with open(BENCH_DIR / "bks.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if not only or any(o in r["file"] for o in only)]
    return [_load(r) for r in rows]


def _load(row: dict[str, str]) -> Instance:
    path = BENCH_DIR / row["file"]
    common = {"file": row["file"], "kind": row["problem"], "bks": float(row["bks"])}
    common["bks_vehicles"] = int(row["vehicles"])
    if row["problem"] == "PDPTW":
        li = parse_lilim(path)
        return Instance(
            **common, coords=li.coords, demand=li.demand, capacity=li.capacity,
            fleet=li.vehicles, time_window=li.time_window, service_time=li.service_time,
            pairs=li.pairs,
        )  # fmt: skip
    if row["problem"] == "VRPTW":
        d = vrplib.read_instance(path, instance_format="solomon")
        return Instance(
            **common, coords=d["node_coord"], demand=d["demand"], capacity=int(d["capacity"]),
            fleet=int(d["vehicles"]), time_window=d["time_window"].astype(np.int64),
            service_time=d["service_time"].astype(np.int64),
        )  # fmt: skip
    d = vrplib.read_instance(path)
    demand = d["demand"]
    bound = math.ceil(demand.sum() / d["capacity"])
    # CVRPLIB fleets are unlimited; any-fit packing never needs more than twice the bound.
    fleet = min(len(demand) - 1, max(2 * bound, bound + 2))
    return Instance(**common, coords=d["node_coord"], demand=demand, capacity=int(d["capacity"]),
                    fleet=fleet)  # fmt: skip


# --- peers -----------------------------------------------------------------------------------


def solve_ortools(inst: Instance, time_limit: float, seed: int) -> list[list[int]]:
    """Plain OR-Tools: documented defaults plus guided local search (OR-Tools has no seed)."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    dist, dur, windows, service = inst.integer_data()
    n, fleet = len(dist), inst.fleet
    manager = pywrapcp.RoutingIndexManager(n, fleet, 0)
    routing = pywrapcp.RoutingModel(manager)
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(dist.tolist()))
    demand_cb = routing.RegisterUnaryTransitVector([int(q) for q in inst.demand])
    routing.AddDimensionWithVehicleCapacity(demand_cb, 0, [inst.capacity] * fleet, True, "Load")
    if inst.time_window is not None:
        horizon = int(windows[0, 1])
        transit = (dur + service[:, None]).tolist()
        time_cb = routing.RegisterTransitMatrix(transit)
        routing.AddDimension(time_cb, horizon, horizon, False, "Time")
        time_dim = routing.GetDimensionOrDie("Time")
        for node in range(1, n):
            time_dim.CumulVar(manager.NodeToIndex(node)).SetRange(*map(int, windows[node]))
        for v in range(fleet):
            time_dim.CumulVar(routing.Start(v)).SetRange(*map(int, windows[0]))
            time_dim.CumulVar(routing.End(v)).SetRange(*map(int, windows[0]))
        solver = routing.solver()
        for p, d in inst.pairs:
            pi, di = manager.NodeToIndex(p), manager.NodeToIndex(d)
            routing.AddPickupAndDelivery(pi, di)
            solver.Add(routing.VehicleVar(pi) == routing.VehicleVar(di))
            solver.Add(time_dim.CumulVar(pi) <= time_dim.CumulVar(di))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(time_limit * 1000))
    assignment = routing.SolveWithParameters(params)
    if assignment is None:
        return []
    routes = []
    for v in range(fleet):
        index, route = assignment.Value(routing.NextVar(routing.Start(v))), []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = assignment.Value(routing.NextVar(index))
        routes.append(route)
    return routes


def solve_pyvrp(inst: Instance, time_limit: float, seed: int) -> list[list[int]]:
    """PyVRP with its default parameters on a ProblemData built directly from the instance."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    data = pyvrp_data(inst)
    result = pyvrp.solve(data, stop=MaxRuntime(time_limit), seed=seed, display=False)
    return pyvrp_routes(data, result.best)


def pyvrp_data(inst: Instance):
    """The instance as PyVRP `ProblemData` (row i of the instance is PyVRP location i)."""
    import pyvrp

    dist, dur, windows, service = inst.integer_data()
    locations = [pyvrp.Location(x=float(x), y=float(y)) for x, y in inst.coords]
    depot = pyvrp.Depot(0, tw_early=int(windows[0, 0]), tw_late=int(windows[0, 1]))
    vehicles = pyvrp.VehicleType(
        num_available=inst.fleet, capacity=[inst.capacity],
        tw_early=int(windows[0, 0]), tw_late=int(windows[0, 1]),
    )  # fmt: skip
    clients, shipments = [], []
    if inst.pairs:
        for p, d in inst.pairs:
            shipments.append(pyvrp.Shipment(
                p, d, int(windows[p, 0]), int(windows[p, 1]), int(service[p]),
                int(windows[d, 0]), int(windows[d, 1]), int(service[d]),
                amount=[int(inst.demand[p])],
            ))  # fmt: skip
    else:
        for i in range(1, len(dist)):
            clients.append(pyvrp.Client(
                i, delivery=[int(inst.demand[i])], service_duration=int(service[i]),
                tw_early=int(windows[i, 0]), tw_late=int(windows[i, 1]),
            ))  # fmt: skip
    return pyvrp.ProblemData(locations, clients, [depot], [vehicles], [dist], [dur],
                             shipments=shipments)  # fmt: skip


def pyvrp_routes(data, best) -> list[list[int]]:
    """The instance rows visited by each route of a PyVRP solution (none if infeasible)."""
    if not best.is_feasible():
        return []
    return [[_pyvrp_location(data, a) for a in r.schedule() if not a.is_depot()]
            for r in best.routes()]  # fmt: skip


def _pyvrp_location(data, activity) -> int:
    if activity.is_client():
        return data.client(activity.idx).location
    shipment = data.shipment(activity.idx)
    return shipment.pickup.location if activity.is_pickup() else shipment.delivery.location


def solve_vroom(inst: Instance, time_limit: float, seed: int) -> list[list[int]]:
    """VROOM at exploration level 5 (its CLI's highest), one thread; VROOM has no seed."""
    import vroom

    dist, dur, windows, service = inst.integer_data()
    problem = vroom.Input()
    problem.set_durations_matrix("car", dur)
    depot_tw = vroom.TimeWindow(int(windows[0, 0]), int(windows[0, 1]))
    problem.add_vehicle([
        vroom.Vehicle(v, start=0, end=0, capacity=[inst.capacity], time_window=depot_tw)
        for v in range(inst.fleet)
    ])  # fmt: skip

    def window(i: int) -> list:
        return [vroom.TimeWindow(int(windows[i, 0]), int(windows[i, 1]))]

    if inst.pairs:
        for p, d in inst.pairs:
            problem.add_job(vroom.Shipment(
                vroom.ShipmentStep(p, location=p, default_service=int(service[p]),
                                   time_windows=window(p)),
                vroom.ShipmentStep(d, location=d, default_service=int(service[d]),
                                   time_windows=window(d)),
                amount=vroom.Amount([int(inst.demand[p])]),
            ))  # fmt: skip
    else:
        problem.add_job([
            vroom.Job(i, location=i, default_service=int(service[i]),
                      delivery=vroom.Amount([int(inst.demand[i])]), time_windows=window(i))
            for i in range(1, len(dist))
        ])  # fmt: skip
    solution = problem.solve(exploration_level=5, nb_threads=1,
                             timeout=timedelta(seconds=time_limit))  # fmt: skip
    frame = solution.routes
    tasks = frame[frame["type"].isin(["job", "pickup", "delivery"])]
    return [list(map(int, g["location_index"])) for _, g in tasks.groupby("vehicle_id", sort=True)]


# --- the project -----------------------------------------------------------------------------


def solve_project(inst: Instance, time_limit: float, seed: int) -> list[list[int]]:
    """The project end to end: routing.io reader, routing.solve (auto), routing.check."""
    from routing.check import check
    from routing.io.lilim import read_lilim
    from routing.io.solomon import read_solomon
    from routing.io.vrplib import read_vrplib
    from routing.solve import solve

    reader = {"CVRP": read_vrplib, "VRPTW": read_solomon, "PDPTW": read_lilim}[inst.kind]
    problem = reader(BENCH_DIR / inst.file)
    solution = solve(problem, engine="auto", time_limit_s=time_limit, seed=seed)
    report = check(problem, solution)
    PROJECT_NOTES[inst.file] = f"{solution.engine_reason}; {report.summary()}"
    if not report.ok:
        print(f"  {inst.file}: {report.summary()}")
        return []
    # benchmark readers put task number i at matrix row i, so step locations are the rows
    return [[step.location for step in route.task_steps()] for route in solution.routes]


PROJECT_NOTES: dict[str, str] = {}
SOLVERS: dict[str, Callable[[Instance, float, int], list[list[int]]]] = {
    "project": solve_project,
    "ortools": solve_ortools,
    "pyvrp": solve_pyvrp,
    "vroom": solve_vroom,
}


@dataclass
class Outcome:
    cost: float | None  # None: no feasible complete solution
    vehicles: int
    seconds: float


def run_one(name: str, inst: Instance, time_limit: float, seed: int) -> Outcome:
    """Solve with one solver; an incomplete or failed plan counts as no result."""
    start = time.perf_counter()
    try:
        routes = [r for r in SOLVERS[name](inst, time_limit, seed) if r]
    except Exception as err:  # a peer's failure is reported, not fatal to the table
        print(f"  {name} failed on {inst.file}: {type(err).__name__}: {err}")
        routes = []
    seconds = time.perf_counter() - start
    served = sorted(i for r in routes for i in r)
    if served != list(range(1, inst.tasks + 1)):
        if routes:
            print(f"  {name}: {inst.file}: served {len(set(served))} of {inst.tasks} tasks")
        return Outcome(None, len(routes), seconds)
    cost = inst.cost(routes)
    return Outcome(cost if inst.kind == "CVRP" else round(cost, 2), len(routes), seconds)


def gap(inst: Instance, out: Outcome) -> float | None:
    return None if out.cost is None else 100.0 * (out.cost - inst.bks) / inst.bks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", default=[], help="instance file substrings")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per solve")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--solvers", nargs="*", default=list(SOLVERS), choices=list(SOLVERS))
    args = parser.parse_args(argv)

    instances = load_instances(args.only)
    names = args.solvers
    results: dict[str, dict[str, Outcome]] = {}
    for inst in instances:
        results[inst.file] = {n: run_one(n, inst, args.time_limit, args.seed) for n in names}
        print(_row(inst, results[inst.file], names), flush=True)
    print()
    print(table(instances, results, names, args.time_limit))
    for file, note in PROJECT_NOTES.items():
        print(f"- {file}: {note}")
    return 0


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _row(inst: Instance, outs: dict[str, Outcome], names: list[str]) -> str:
    parts = [f"{n} {_fmt(outs[n].cost)} ({_fmt(gap(inst, outs[n]))} %, {outs[n].vehicles} v)"
             for n in names]  # fmt: skip
    return f"{inst.file}: BKS {inst.bks:g} | " + " | ".join(parts)


def table(instances: list[Instance], results: dict, names: list[str], limit: float) -> str:
    """Markdown table: gap to BKS in % per solver (vehicles used), means per class."""
    head = "| instance | BKS (veh) | " + " | ".join(f"{n} gap % (veh)" for n in names) + " |"
    lines = [head, "|" + "---|" * (len(names) + 2)]
    for inst in instances:
        cells = [f"{_fmt(gap(inst, results[inst.file][n]))} ({results[inst.file][n].vehicles})"
                 for n in names]  # fmt: skip
        bks = f"{inst.bks:g} ({inst.bks_vehicles})"
        lines.append(f"| {inst.file} | {bks} | " + " | ".join(cells) + " |")
    for label, kinds in (("mean CVRP+VRPTW", {"CVRP", "VRPTW"}), ("mean PDPTW", {"PDPTW"})):
        group = [i for i in instances if i.kind in kinds]
        if not group:
            continue
        cells = []
        for n in names:
            gaps = [gap(i, results[i.file][n]) for i in group]
            ok = [g for g in gaps if g is not None]
            missing = "" if len(ok) == len(gaps) else f" ({len(gaps) - len(ok)} n/a)"
            cells.append(_fmt(statistics.mean(ok) if ok else None) + missing)
        lines.append(f"| **{label}** | | " + " | ".join(cells) + " |")
    lines.append(f"\nTime limit {limit:g} s per solve, one run each, same machine and run.")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
