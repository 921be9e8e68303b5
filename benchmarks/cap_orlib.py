"""OR-Library-sized capacitated facility location: ours beside an independent HiGHS model.

Beasley's cap files beyond the two shared ones (cap41, cap61) are generated here from seeds in
the published layouts and value ranges (no data files):

- cap41-44 ... cap131-134: 16 (cap4-7), 25 (cap8-10) and 50 (cap11-13) facilities x 50
  customers, every capacity 5,000 (cap4, 8, 11), 15,000 (cap6, 9, 12) or 58,268 (cap7, 10,
  13: the customers' total demand, as published), fixed costs 7,500 / 12,500 / 17,500 /
  25,000 by the name's last digit; demands 20-5,500 (skewed, as the Kuehn-Hamburger set) and
  unit costs 10-100 by distance; a customer's demand alone on its line, its costs 7 a line.
- capa, capb, capc: 100 facilities x 1,000 customers, each facility line holding the word
  ``capacity`` (read with capa 8000-14000, capb 5000-8000, capc 5000-7250); fixed costs
  1.36-2.26 million, demands 1-100, unit costs the distance on a 1,000 x 1,000 square (up to
  about 1,400): the ranges of the public capa file. (capb's and capc's own fixed costs and
  demands are not at hand: they are drawn in capa's ranges, with their own seeds.)

Each file is solved by ``routing.siting.solve`` (what ``gongpei site --format orlib-cap``
runs) and by an independent HiGHS model of the strong formulation (split demand, x_ij <= y_j
links, built here from the file's numbers), given the same time, one after the other; with
``--baseline TREE`` also by the code in TREE (an unpacked ``git archive`` of an older commit)
in a child process.

    .venv/bin/python benchmarks/cap_orlib.py                 # every family, 60 s each
    .venv/bin/python benchmarks/cap_orlib.py --only capb --time-limit 60
    .venv/bin/python benchmarks/cap_orlib.py --only cap7,cap10,cap13 --no-highs
    git archive HEAD | tar -x -C /tmp/old  # then, beside the code before a change:
    .venv/bin/python benchmarks/cap_orlib.py --only capa,capb,capc --baseline /tmp/old
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import highspy
import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routing.siting import SitingModel, solve
from routing.siting.orlib import CAPACITY_CHOICES, read_cap

TOTAL_DEMAND = 58268.0  # the 50 customers' demand, as in every published cap4x-cap13x file
# family: (facilities, every facility's capacity), 50 customers each, as published (a capacity
# of the total demand never binds)
MID = {
    "cap4": (16, 5000.0),
    "cap6": (16, 15000.0),
    "cap7": (16, TOTAL_DEMAND),
    "cap8": (25, 5000.0),
    "cap9": (25, 15000.0),
    "cap10": (25, TOTAL_DEMAND),
    "cap11": (50, 5000.0),
    "cap12": (50, 15000.0),
    "cap13": (50, TOTAL_DEMAND),
}
MID_FIXED = (7500.0, 12500.0, 17500.0, 25000.0)  # by the name's last digit, 1-4
FACILITY = SitingModel("facility", capacitated=True)


def mid_file(path: Path, m: int, capacity: float, fixed: float, seed: int) -> None:
    """A cap4x-cap13x-style file: ``m`` facilities, 50 customers."""
    rng = np.random.default_rng(seed)
    n = 50
    fac, cus = rng.uniform(0, 100, (m, 2)), rng.uniform(0, 100, (n, 2))
    demand = np.clip(rng.lognormal(6.5, 1.1, n), 20, 5500)
    demand = np.rint(demand * TOTAL_DEMAND / demand.sum())
    demand[np.argmax(demand)] += TOTAL_DEMAND - demand.sum()  # the published total, exactly
    unit = 10.0 + 0.7 * np.linalg.norm(cus[:, None] - fac[None], axis=2)
    lines = [f" {m} {n} "] + [f" {capacity:g} {fixed:g}. "] * m
    for j in range(n):
        lines += [f" {demand[j]:g} ", *_wrapped(unit[j] * demand[j], 7)]
    path.write_text("\n".join(lines) + "\n")


def large_file(path: Path, seed: int) -> None:
    """A capa / capb / capc-style file: 100 facilities, 1,000 customers, the word
    ``capacity`` where each facility's capacity stands."""
    rng = np.random.default_rng(seed)
    m, n = 100, 1000
    fac, cus = rng.uniform(0, 1000, (m, 2)), rng.uniform(0, 1000, (n, 2))
    fixed = rng.integers(1_360_000, 2_260_000, m)
    demand = rng.integers(1, 101, n)
    unit = np.linalg.norm(cus[:, None] - fac[None], axis=2)
    lines = [f" {m} {n} "] + [f" capacity {f}. " for f in fixed]
    for j in range(n):
        lines += [f" {demand[j]} ", *_wrapped(unit[j] * demand[j], 7)]
    path.write_text("\n".join(lines) + "\n")


def _wrapped(costs: np.ndarray, per_line: int) -> list[str]:
    """Costs as Beasley writes them: 5 decimals, ``per_line`` to a line."""
    text = [f"{c:.5f}" for c in costs]
    return [" " + " ".join(text[k : k + per_line]) + " " for k in range(0, len(text), per_line)]


def cases(folder: Path, only: set[str] | None, seed: int):
    """(name, file, capacity for the word or None) for every generated problem."""
    for family, (m, capacity) in MID.items():
        for k, fixed in enumerate(MID_FIXED, 1):
            name = f"{family}{k}"
            if only and family not in only and name not in only:
                continue
            path = folder / f"{name}.txt"
            mid_file(path, m, capacity, fixed, seed + 100 * m + k)
            yield name, path, None
    for k, (family, capacities) in enumerate(CAPACITY_CHOICES.items()):
        if only and family not in only and not any(c.startswith(family) for c in only):
            continue
        path = folder / f"{family}.txt"
        large_file(path, seed + 1000 + k)
        for i, cap in enumerate(capacities, 1):
            name = f"{family}{i}"
            if only and family not in only and name not in only:
                continue
            yield f"{name} ({cap})", path, float(cap)


def highs_strong(inst, *, time_limit_s: float) -> tuple[float, float, float]:
    """The strong split-demand model on HiGHS (one thread): (objective, bound, seconds)."""
    n, m = inst.n_demand, inst.n_sites
    w, unit = inst.weight, inst.reach.toarray()
    i, j = (a.ravel() for a in np.meshgrid(np.arange(n), np.arange(m), indexing="ij"))
    x = m + np.arange(i.size)
    k = i.size
    rows = np.r_[i, n + j, n + np.arange(m), n + m + np.arange(k), n + m + np.arange(k)]
    cols = np.r_[x, x, np.arange(m), x, j]
    vals = np.r_[np.ones(k), w[i], -inst.capacity, np.ones(k), -np.ones(k)]
    A = sp.csc_matrix((vals, (rows, cols)), shape=(n + m + k, m + k))
    lp = highspy.HighsLp()
    lp.num_row_, lp.num_col_ = A.shape
    lp.col_cost_ = np.r_[inst.fixed_cost, w[i] * unit[i, j]]
    lp.col_lower_, lp.col_upper_ = np.zeros(m + k), np.ones(m + k)
    lp.row_lower_ = np.r_[np.ones(n), np.full(m + k, -highspy.kHighsInf)]
    lp.row_upper_ = np.r_[np.ones(n), np.zeros(m + k)]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_row_, lp.a_matrix_.num_col_ = A.shape
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
    kinds = np.full(m + k, highspy.HighsVarType.kContinuous)
    kinds[:m] = highspy.HighsVarType.kInteger
    lp.integrality_ = kinds.tolist()
    start = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("mip_rel_gap", 1e-6)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.passModel(lp)
    h.run()
    info = h.getInfo()
    found = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    objective = info.objective_function_value if found else float("nan")
    return objective, info.mip_dual_bound, time.perf_counter() - start


# solves one file in a child whose PYTHONPATH is the baseline tree: argv = path, capacity, limit
BASELINE = """
import json, sys
from routing.siting import SitingModel, solve
from routing.siting.orlib import read_cap
path, cap, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
inst = read_cap(path, capacity=None if cap == "-" else float(cap))
plan = solve(inst, SitingModel("facility", capacitated=True), time_limit_s=limit)
print(json.dumps([plan.objective, plan.bound, plan.gap, plan.seconds]))
"""


def baseline(tree: str, path: Path, cap: float | None, limit: float) -> list[float]:
    """(objective, bound, gap, seconds) by the code in ``tree``."""
    env = {**os.environ, "PYTHONPATH": tree}
    args = [sys.executable, "-c", BASELINE, str(path), "-" if cap is None else str(cap)]
    run = [*args, str(limit)]  # in the tree, whose code a child run with -c imports first
    out = subprocess.run(run, env=env, cwd=tree, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _gap(objective: float, bound: float) -> float:
    return max(0.0, objective - bound) / objective if np.isfinite(objective) else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--only", help="families or problems, comma-separated (cap7, capb2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-highs", action="store_true", help="no independent HiGHS model")
    parser.add_argument("--baseline", help="a tree of older code to solve each file too")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    print(f"time limit {args.time_limit:g} s each, seed {args.seed}")
    head = f"{'file':<16} {'ours':>14} {'bound':>14} {'gap %':>7} {'s':>6} {'opt':>4}"
    if args.baseline:
        head += f" | {'baseline':>14} {'gap %':>7} {'s':>6}"
    print(head + ("" if args.no_highs else f" | {'HiGHS strong':>14} {'gap %':>7} {'s':>6}"))
    with tempfile.TemporaryDirectory() as tmp:
        for name, path, cap in cases(Path(tmp), only, args.seed):
            inst = read_cap(path, capacity=cap)
            plan = solve(inst, FACILITY, time_limit_s=args.time_limit)
            row = (
                f"{name:<16} {plan.objective:>14,.2f} {plan.bound:>14,.2f} "
                f"{100 * plan.gap:>7.3f} {plan.seconds:>6.1f} {'yes' if plan.optimal else 'no':>4}"
            )
            if args.baseline:
                obj, _, gap, secs = baseline(args.baseline, path, cap, args.time_limit)
                row += f" | {obj:>14,.2f} {100 * gap:>7.3f} {secs:>6.1f}"
            if not args.no_highs:
                obj, bound, secs = highs_strong(inst, time_limit_s=args.time_limit)
                row += f" | {obj:>14,.2f} {100 * _gap(obj, bound):>7.3f} {secs:>6.1f}"
            print(row, flush=True)


if __name__ == "__main__":
    main()
