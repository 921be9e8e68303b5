"""Lagrangian lower bound for the (sparse) p-median, by subgradient optimisation.

Relaxing "each point is served once" with multipliers lambda_i leaves, per site, the value
rho_j = sum_i min(0, w_i d_ij - lambda_i) over the points in its reach; the relaxed optimum is
sum_i lambda_i + sum_i min(0, P w_i - lambda_i) + the p smallest rho_j (Beasley 1993, with P the
unserved penalty). Each round is one pass over the pairs, so a bound for the 20,000 x 2,000
city case takes seconds where the LP relaxation of the MIP does not fit in a minute.
"""

from __future__ import annotations

import time

import numpy as np

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
