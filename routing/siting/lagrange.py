"""Lagrangian bounds by subgradient optimisation: p-median (lower) and capacitated maximal
covering (upper).

Relaxing "each point is served once" with multipliers lambda_i leaves, per site, the value
rho_j = sum_i min(0, w_i d_ij - lambda_i) over the points in its reach; the relaxed optimum is
sum_i lambda_i + sum_i min(0, P w_i - lambda_i) + the p smallest rho_j (Beasley 1993, with P the
unserved penalty). Each round is one pass over the pairs, so a bound for the 20,000 x 2,000
city case takes seconds where the LP relaxation of the MIP does not fit in a minute.
"""

from __future__ import annotations

import time

import numpy as np

from routing.siting.flow import effective_capacity
from routing.siting.formulation import pairs
from routing.siting.model import SitingInstance, SitingModel


def pmedian_bound(
    inst: SitingInstance,
    model: SitingModel,
    *,
    upper: float,
    time_limit_s: float = 10.0,
    rounds: int = 2000,
    rel_gap: float = 0.0,
) -> float:
    """The best Lagrangian lower bound found for the uncapacitated p-median on ``inst``."""
    deadline = time.perf_counter() + time_limit_s
    rr, jj, dd = pairs(inst)
    w, m, p = inst.weight, inst.n_sites, model.p
    penalty = model.penalty(inst)
    cost = w[rr] * dd
    fixed = np.flatnonzero(inst.must_open)
    lam = w * penalty * 0.5
    best, stall, step = -np.inf, 0, 2.0
    for _ in range(rounds):
        red = np.minimum(cost - lam[rr], 0.0)
        rho = np.bincount(jj, red, minlength=m)
        free = rho.copy()
        free[fixed] = np.inf  # always open; the rest are the p - |fixed| smallest
        k = p - fixed.size
        others = np.argpartition(free, k - 1)[:k] if k > 0 else np.zeros(0, dtype=np.int64)
        is_open = np.zeros(m, dtype=bool)
        is_open[fixed] = True
        is_open[others] = True
        unserved = penalty * w - lam < 0
        value = lam.sum() + np.minimum(penalty * w - lam, 0.0).sum() + rho[is_open].sum()
        if not np.isfinite(best) or value > best + 1e-9 * max(1.0, abs(best)):
            best, stall = value, 0
        else:
            stall += 1
            if stall >= 20:
                step, stall = step / 2, 0
        served = np.bincount(rr, (red < 0) & is_open[jj], minlength=inst.n_demand)
        g = 1.0 - served - unserved
        norm = float(g @ g)
        proved = upper - best <= rel_gap * abs(upper)
        if norm == 0 or step < 1e-4 or proved or time.perf_counter() > deadline:
            break
        lam = lam + step * (upper - value) / norm * g
    return float(best)


def capacitated_cover_bound(
    inst: SitingInstance,
    model: SitingModel,
    *,
    lower: float,
    stop_at: float,
    time_limit_s: float,
    start: np.ndarray | None = None,
) -> float | None:
    """An upper bound on capacitated maximal covering with ``p`` lockers (no money budget).

    Relaxing "each point is served at most once" with multipliers 0 <= lambda_i <= w_i leaves,
    per site, a fractional knapsack: fill its capacity with the points in reach by profit ratio
    1 - lambda_i / w_i; the relaxed optimum is sum_i lambda_i + the values of the must-open
    sites + the p - |must-open| largest others. Any multipliers give a valid bound (equal at
    best to the LP with x_ij <= y_j links); ``lower`` (a known plan's value) sets the step,
    and the search stops once the bound reaches ``stop_at``. ``start`` (parcels per point, for
    example the LP's duals) replaces the default first multipliers, half of each point's parcels.
    """
    if model.kind != "maxcover" or model.p is None or model.budget is not None:
        return None
    deadline = time.perf_counter() + time_limit_s
    rr, jj, _ = pairs(inst)
    w = inst.weight
    keep = w[rr] > 0
    rr, jj = rr[keep], jj[keep]
    wp = w[rr]
    cap = effective_capacity(inst, model)[jj]
    m = inst.n_sites
    fixed = np.flatnonzero(inst.must_open)
    k = max(model.p - fixed.size, 0)
    reached = np.bincount(rr, minlength=inst.n_demand) > 0
    lam = (0.5 * w if start is None else np.clip(start, 0.0, w)) * reached
    best, stall, step = np.inf, 0, 1.0
    while True:
        profit = wp - lam[rr]
        order = np.lexsort((-profit / wp, jj))  # by site, best ratio first
        js, ws, ps = jj[order], wp[order], profit[order]
        filled = np.cumsum(ws)
        filled -= np.r_[0.0, filled][np.searchsorted(js, js)]  # running weight within the site
        take = np.clip((cap[order] - (filled - ws)) / ws, 0.0, 1.0)
        take[ps <= 0] = 0.0
        value = np.bincount(js, ps * take, minlength=m)
        free = value.copy()
        free[fixed] = -np.inf
        others = np.argpartition(-free, k - 1)[:k] if 0 < k < m else np.arange(m if k else 0)
        others = others[free[others] > 0]
        bound = lam.sum() + value[fixed].sum() + value[others].sum()
        if bound < best - 1e-9 * max(1.0, abs(bound)):
            best, stall = bound, 0
        else:
            stall += 1
            if stall >= 30:
                step, stall = step / 2, 0
        is_open = np.zeros(m, dtype=bool)
        is_open[fixed] = True
        is_open[others] = True
        x = np.zeros_like(take)
        x[order] = take
        g = (1.0 - np.bincount(rr, x * is_open[jj], minlength=inst.n_demand)) * reached
        norm = float(g @ g)
        if norm == 0 or step < 1e-4 or best <= stop_at or time.perf_counter() > deadline:
            break
        lam = np.clip(lam - step * max(bound - lower, 1e-6 * bound) / norm * g, 0.0, w)
    return float(best)
