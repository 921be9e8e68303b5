"""What `engine="auto"` races where PyVRP fits: OR-Tools against PyVRP (what it did) or PyVRP
against PyVRP with the next seed, on the shared instances and on seeded 1,000-customer ones.

    .venv/bin/python benchmarks/race.py [--time-limit 10] [--big-time-limit 30] [--seeds 0 1]

The big instances are generated here (seeded): Gehring & Homberger-like VRPTW (1,000 customers
on a 316 x 316 square, windows of 30-120 around a reachable time, capacity 200) and Uchoa
X-like CVRP (1,000 customers on [0, 1000]^2, nearest-integer arcs). Each row runs both races one
after the other on the same problem and seed; every plan is checked. Costs are distances.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from routing import solve as solving  # noqa: E402
from routing.check import check  # noqa: E402
from routing.engines import get_engine  # noqa: E402
from routing.io import read_problem  # noqa: E402
from routing.io._benchmark import benchmark_problem, delivery_jobs, euclidean  # noqa: E402
from routing.model import Problem  # noqa: E402
from routing.solution import Solution  # noqa: E402

SHARED = ROOT.parent / "shared" / "bench" / "vrp"
SHARED_FILES = (
    "cvrp/X-n101-k25.vrp", "cvrp/X-n157-k13.vrp", "cvrp/X-n200-k36.vrp", "solomon/R101.txt",
    "solomon/RC101.txt", "solomon/RC201.txt",
)  # fmt: skip


def gh_like(n: int, seed: int) -> Problem:
    """A Gehring & Homberger-like VRPTW day: every customer reachable in its window."""
    rng = np.random.default_rng(seed)
    side = 100 * math.sqrt(n / 100)
    coords = np.vstack([[side / 2, side / 2], rng.uniform(0, side, (n, 2))])
    travel = euclidean(coords, rounded=False)
    horizon = 2 * travel[0].max() + 1200
    service = np.r_[0.0, np.full(n, 10.0)]
    centre = rng.uniform(travel[0, 1:], horizon - travel[0, 1:] - 10)
    half = rng.uniform(15, 60, n)
    windows = np.vstack(
        [[0, horizon], np.c_[np.maximum(centre - half, 0), np.minimum(centre + half, horizon)]]
    )
    demand = np.r_[0, rng.integers(1, 51, n)]
    jobs = delivery_jobs(demand, service, windows)
    return benchmark_problem(
        name=f"gh-like-{n}", source="generated", travel=travel, fleet=n // 4, capacity=200,
        jobs=jobs, depot_window=(0.0, float(horizon)),
    )  # fmt: skip


def x_like(n: int, seed: int) -> Problem:
    """An Uchoa X-like CVRP: central depot, demands 1-100, about 25 customers a route."""
    rng = np.random.default_rng(seed)
    coords = np.vstack([[500, 500], rng.integers(0, 1001, (n, 2))])
    demand = np.r_[0, rng.integers(1, 101, n)]
    capacity = int(demand.sum() / (n / 25))
    jobs = delivery_jobs(demand, np.zeros(n + 1), None)
    fleet = 2 * math.ceil(demand.sum() / capacity)
    return benchmark_problem(
        name=f"x-like-{n}", source="generated", travel=euclidean(coords, rounded=True),
        fleet=fleet, capacity=capacity, jobs=jobs,
    )  # fmt: skip


def ortools_vs_pyvrp(problem: Problem, limit: float, seed: int) -> Solution:
    """What `auto` did where PyVRP fits: OR-Tools here, PyVRP in the forked child."""
    return solving._race(
        problem, get_engine("ortools").solve, get_engine("pyvrp").solve, "ortools vs pyvrp",
        time_limit_s=limit, seed=seed, progress=None,
    )  # fmt: skip


def pyvrp_vs_pyvrp(problem: Problem, limit: float, seed: int) -> Solution:
    """PyVRP here with the seed, PyVRP in the child with the next one."""
    pyvrp = get_engine("pyvrp").solve

    def next_seed(problem: Problem, *, time_limit_s: float, seed: int, **options):
        """PyVRP with the next seed; the race's `stop`/`should_stop` passed on (without them
        the forked child failed at once and the race was PyVRP alone)."""
        return pyvrp(problem, time_limit_s=time_limit_s, seed=seed + 1, **options)

    return solving._race(
        problem, pyvrp, next_seed, "pyvrp vs pyvrp", time_limit_s=limit, seed=seed, progress=None
    )


RACES: dict[str, Callable[[Problem, float, int], Solution]] = {
    "ortools vs pyvrp": ortools_vs_pyvrp,
    "pyvrp vs pyvrp": pyvrp_vs_pyvrp,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--big-time-limit", type=float, default=30.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--only", nargs="*", default=None, help="instance name substrings")
    args = parser.parse_args()
    cases = [(name, lambda n=name: read_problem(SHARED / n), args.time_limit)
             for name in SHARED_FILES if (SHARED / name).exists()]  # fmt: skip
    cases += [
        ("gh-like-1000", lambda: gh_like(1000, 1), args.big_time_limit),
        ("x-like-1000", lambda: x_like(1000, 1), args.big_time_limit),
    ]
    if args.only:
        cases = [c for c in cases if any(o in c[0] for o in args.only)]
    ratios = []
    print(f"{'instance':22} {'seed':>4} " + " ".join(f"{r:>26}" for r in RACES) + "  ratio")
    for name, make, limit in cases:
        problem = make()
        for seed in args.seeds:
            costs = []
            for race in RACES.values():
                began = time.monotonic()
                plan = race(problem, limit, seed)
                report = check(problem, plan)
                assert report.ok, f"{name}: {report.summary()}"
                costs.append((plan.summary.cost, plan.summary.unassigned, time.monotonic() - began))
            ratio = costs[1][0] / costs[0][0]
            ratios.append(ratio)
            shown = " ".join(f"{c:14.2f} u{u:<3d} {s:5.1f}s" for c, u, s in costs)
            print(f"{name:22} {seed:>4} {shown}  {ratio:.4f}", flush=True)
    median = statistics.median(ratios)
    print(f"median cost ratio (pyvrp vs pyvrp) / (ortools vs pyvrp): {median:.4f}")


if __name__ == "__main__":
    main()
