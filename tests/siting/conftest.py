"""Tiny siting instances and brute-force optima to check every model against."""

import dataclasses
from itertools import combinations

import numpy as np
import pytest
from scipy.optimize import linprog

from routing.siting import SitingInstance, make_reach


def tiny(seed: int, n: int = 9, m: int = 6, *, density=0.45, capacity=None, fixed=None):
    """A random sparse instance: integer distances, some points reaching no site at all."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n, m)) < density
    mask[0] = False  # point 0 is uncoverable
    rows, cols = np.nonzero(mask)
    dist = rng.integers(0, 10, rows.size).astype(float)
    return SitingInstance(
        demand_ids=[f"d{i}" for i in range(n)],
        weight=rng.integers(1, 9, n).astype(float),
        site_ids=[f"s{j}" for j in range(m)],
        reach=make_reach(rows, cols, dist, (n, m)),
        fixed_cost=np.asarray(fixed if fixed is not None else rng.integers(1, 6, m), float),
        capacity=np.asarray(capacity if capacity is not None else np.full(m, np.inf), float),
        must_open=np.zeros(m, dtype=bool),
        name=f"tiny{seed}",
    )


def tiny_mixed(seed: int):
    """A ``tiny`` instance for the sized models: 10 points, 6 sites at 2,000 each, and each
    point's own S/M/L mix (Dirichlet 3 : 2 : 1, so mostly small parcels)."""
    inst = tiny(seed, n=10, density=0.6, fixed=np.full(6, 2000.0))
    mix = np.random.default_rng(seed).dirichlet([3.0, 2.0, 1.0], inst.n_demand)
    return dataclasses.replace(inst, size_mix=mix)


def _dense(inst):
    d = np.full(inst.reach.shape, np.inf)
    coo = inst.reach.tocoo()
    d[coo.row, coo.col] = coo.data
    return d


def _assign_lp(inst, opened, cost_per_pair, *, must_serve):
    """Best fractional assignment to the open sites under capacity (scipy's HiGHS LP)."""
    d = _dense(inst)
    pairs = [(i, j) for i in range(inst.n_demand) for j in opened if np.isfinite(d[i, j])]
    if not pairs:
        return 0.0, 0.0
    w = inst.weight
    c = np.array([cost_per_pair(i, j, d[i, j]) for i, j in pairs])
    a_ub, b_ub = [], []
    for i in range(inst.n_demand):
        row = [1.0 if pi == i else 0.0 for pi, _ in pairs]
        if any(row):
            a_ub.append(row)
            b_ub.append(1.0)
    for j in opened:
        if np.isfinite(inst.capacity[j]):
            a_ub.append([w[pi] if pj == j else 0.0 for pi, pj in pairs])
            b_ub.append(inst.capacity[j])
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, 1), method="highs")
    served = float(sum(w[i] * x for (i, _), x in zip(pairs, res.x, strict=True)))
    return float(res.fun), served


def brute(inst, kind, *, p=None, budget=None, capacitated=False, penalty=None):
    """Optimum by enumerating every open set (and an LP assignment when capacitated)."""
    d = _dense(inst)
    w = inst.weight
    m = inst.n_sites
    reachable = np.isfinite(d).any(axis=1)
    best = None
    sizes = [p] if kind == "pmedian" else range(0, m + 1) if p is None else range(0, p + 1)
    for k in sizes:
        for s in combinations(range(m), k):
            s = list(s)
            if budget is not None and inst.fixed_cost[s].sum() > budget + 1e-9:
                continue
            near = d[:, s].min(axis=1) if s else np.full(inst.n_demand, np.inf)
            if kind == "maxcover":
                if capacitated:
                    val = -_assign_lp(inst, s, lambda i, j, dij: -w[i], must_serve=False)[0]
                else:
                    val = float(w[np.isfinite(near)].sum())
                better = best is None or val > best + 1e-9
            elif kind == "setcover":
                cost = inst.fixed_cost if inst.fixed_cost.any() else np.ones(m)
                if capacitated:
                    ok = _assign_lp(inst, s, lambda i, j, dij: -w[i], must_serve=True)[1]
                    if ok < w[reachable].sum() - 1e-6:
                        continue
                elif not np.isfinite(near[reachable]).all():
                    continue
                val = float(cost[s].sum())
                better = best is None or val < best - 1e-9
            elif kind == "pmedian":
                if capacitated:
                    fun, _ = _assign_lp(
                        inst, s, lambda i, j, dij: w[i] * (dij - penalty), must_serve=False
                    )
                    val = fun + penalty * w.sum()
                else:
                    val = float((w * np.where(np.isfinite(near), near, penalty)).sum())
                better = best is None or val < best - 1e-9
            else:  # facility
                if capacitated:
                    fun, served = _assign_lp(
                        inst, s, lambda i, j, dij: w[i] * dij - 1e4 * w[i], must_serve=True
                    )
                    if served < w[reachable].sum() - 1e-6:
                        continue
                    val = float(inst.fixed_cost[s].sum()) + fun + 1e4 * served
                else:
                    if not np.isfinite(near[reachable]).all():
                        continue
                    val = float(inst.fixed_cost[s].sum() + (w * near)[reachable].sum())
                better = best is None or val < best - 1e-9
            if better:
                best = val
    return best


@pytest.fixture
def tiny_instance():
    return tiny


@pytest.fixture
def tiny_mixed_instance():
    return tiny_mixed


@pytest.fixture
def brute_force():
    return brute
