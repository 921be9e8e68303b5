"""One entry point: heuristic plan first, then the exact MIP warm-started from it.

The heuristic's plan is kept as the incumbent when the solver finds nothing better in its time,
so the reported gap is always "best plan known" against "best bound proven".
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from routing.siting.errors import SitingInputError
from routing.siting.exact import proven_gap, solve_mip
from routing.siting.formulation import Mip, big_penalty, build, pairs
from routing.siting.heuristic import open_set
from routing.siting.model import SitingInstance, SitingModel
from routing.siting.solution import SitingSolution, nearest_assignment

METHODS = ("auto", "exact", "heuristic")


def solve(
    inst: SitingInstance,
    model: SitingModel,
    *,
    method: str = "auto",
    solver: str = "auto",
    time_limit_s: float = 60.0,
    rel_gap: float = 1e-6,
    strong: bool = True,
    log: bool = False,
) -> SitingSolution:
    """Plan ``model`` on ``inst``: ``heuristic`` only, or ``exact``/``auto`` (warm-started MIP)."""
    if method not in METHODS:
        raise SitingInputError(f"method must be one of {', '.join(METHODS)}, got '{method}'")
    if not time_limit_s > 0:
        raise SitingInputError(f"time limit must be > 0 seconds, got {time_limit_s}")
    model.check_against(inst)
    start = time.perf_counter()
    share = time_limit_s if method == "heuristic" else 0.2 * time_limit_s
    mip = build(inst, model, strong=strong)
    plan, hint = _heuristic(inst, model, mip, time_limit_s=share)
    heur_s = time.perf_counter() - start
    if method == "heuristic":
        plan.seconds = heur_s
        return plan
    solver = default_solver(model) if solver == "auto" else solver
    left = max(0.5, time_limit_s - (time.perf_counter() - start))
    res = solve_mip(mip, solver=solver, time_limit_s=left, rel_gap=rel_gap, hint=hint, log=log)
    best, best_value = plan, mip_value(plan, mip)
    if res.values is not None:
        found = _decode(inst, model, mip, res.values)
        value = mip_value(found, mip)
        better = value > best_value if mip.maximize else value < best_value
        if better or best_value is None:
            best, best_value = found, value
    best.bound = float(res.bound)
    best.gap = proven_gap(best_value, res.bound, maximize=mip.maximize)
    best.optimal = best.gap <= rel_gap
    best.method = f"exact:{solver}"
    best.seconds = time.perf_counter() - start
    best.stats = {
        "solver_status": res.status,
        "solver_seconds": round(res.seconds, 3),
        "heuristic_seconds": round(heur_s, 3),
        "heuristic_objective": plan.objective,
        "mip_rows": int(mip.A.shape[0]),
        "mip_columns": int(mip.A.shape[1]),
        "mip_nonzeros": int(mip.A.nnz),
    }
    return best


def default_solver(model: SitingModel) -> str:
    """The OR-Tools backend that proved optimality fastest for this kind (benchmarks/siting.py)."""
    return "scip"


def mip_value(plan: SitingSolution, mip: Mip) -> float:
    """The plan's value in the MIP's units (unserved parcels priced as the MIP prices them)."""
    value = plan.objective
    if plan.model.is_capacitated and plan.model.kind in ("setcover", "facility"):
        reachable = np.diff(plan.instance.reach.indptr) > 0
        short = plan.instance.weight * (1.0 - np.minimum(plan.served, 1.0))
        value += big_penalty(plan.instance, plan.model) * float(short[reachable].sum())
    return value


def _heuristic(inst: SitingInstance, model: SitingModel, mip: Mip, *, time_limit_s: float):
    """Open set from the uncapacitated heuristic; capacitated plans get an LP/MIP assignment."""
    plain = dataclasses.replace(model, capacitated=False, sizing=None)
    is_open = open_set(inst, plain, time_limit_s=time_limit_s)
    hint = (mip.y, is_open.astype(float))
    if not model.is_capacitated:
        rows, cols, frac = nearest_assignment(inst, is_open)
        return SitingSolution(inst, model, is_open, rows, cols, frac), hint
    deadline = time.perf_counter() + max(1.0, time_limit_s)
    plan, values = _assign(inst, model, mip, is_open, deadline)
    # Must-serve models: open more sites while reachable parcels are left without capacity.
    while model.kind in ("setcover", "facility") and time.perf_counter() < deadline:
        short = inst.weight * (1.0 - np.minimum(plan.served, 1.0))
        rr, jj, _ = pairs(inst)
        need = np.bincount(jj, short[rr], minlength=inst.n_sites)
        need[is_open] = 0.0
        if need.max() <= 1e-9:
            break
        is_open = is_open.copy()
        is_open[int(np.argmax(need))] = True
        plan, values = _assign(inst, model, mip, is_open, deadline)
    if values is None:
        return plan, hint
    return plan, (np.arange(mip.A.shape[1]), values)


def _assign(inst: SitingInstance, model: SitingModel, mip: Mip, is_open, deadline: float):
    """The best capacitated assignment (and sizes) with the open sites fixed."""
    fixed = dataclasses.replace(mip, var_lb=mip.var_lb.copy(), var_ub=mip.var_ub.copy())
    fixed.var_lb[mip.y] = fixed.var_ub[mip.y] = is_open
    left = max(0.5, deadline - time.perf_counter())
    res = solve_mip(fixed, solver="highs", time_limit_s=left, rel_gap=1e-4)
    if res.values is None:
        empty = np.zeros(0, dtype=np.int64)
        return SitingSolution(inst, model, is_open, empty, empty, np.zeros(0)), None
    return _decode(inst, model, mip, res.values), res.values


def _decode(inst: SitingInstance, model: SitingModel, mip: Mip, values: np.ndarray):
    is_open = values[mip.y] > 0.5
    if mip.x is None:
        rows, cols, frac = nearest_assignment(inst, is_open)
        return SitingSolution(inst, model, is_open, rows, cols, frac)
    rr, jj, _ = pairs(inst)
    frac = np.clip(values[mip.x], 0.0, 1.0)
    keep = frac > 1e-9
    sizes = None if mip.n is None else np.rint(values[mip.n]).astype(np.int64)
    return SitingSolution(inst, model, is_open, rr[keep], jj[keep], frac[keep], sizes=sizes)
