"""Tiny siting instances and brute-force optima to check every model against."""

import dataclasses
from itertools import combinations

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

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


def _sized_plan(inst, model, opened):
    """(served parcels, what the plan costs in the model's terms, money spent) of the best
    plan on the open sites under a sizing: split demand and a whole count of each size per
    site (parcels of size >= t fit the compartments of size >= t), by scipy's MILP. Set cover
    and facility location serve the most parcels first, then pay the least."""
    d = _dense(inst)
    w, sizing = inst.weight, model.sizing
    share = np.cumsum(model.size_mix(inst)[:, ::-1], axis=1)[:, ::-1]  # of size >= S, M, L
    pairs = [(i, j) for i in range(inst.n_demand) for j in opened if np.isfinite(d[i, j])]
    nx, nc = len(pairs), 3 * len(opened)
    rows, lo, hi = [], [], []
    for i in {i for i, _ in pairs}:
        rows.append([float(pi == i) for pi, _ in pairs] + [0.0] * nc)
        lo.append(0.0)
        hi.append(1.0)
    for k, j in enumerate(opened):
        count = [0.0] * nc
        count[3 * k : 3 * k + 3] = [1.0] * 3
        rows.append([0.0] * nx + count)  # at most max_compartments
        lo.append(0.0)
        hi.append(sizing.max_compartments)
        for t in range(3):
            room = [0.0] * nc
            room[3 * k + t : 3 * k + 3] = [-sizing.throughput] * (3 - t)
            rows.append([w[pi] * share[pi, t] * (pj == j) for pi, pj in pairs] + room)
            lo.append(-np.inf)
            hi.append(0.0)
        if np.isfinite(inst.capacity[j]):
            rows.append([w[pi] * (pj == j) for pi, pj in pairs] + [0.0] * nc)
            lo.append(0.0)
            hi.append(inst.capacity[j])
    fixed = float(inst.fixed_cost[opened].sum())
    money = np.r_[np.zeros(nx), np.tile(sizing.costs, len(opened))]
    if model.budget is not None:
        rows.append(money.tolist())
        lo.append(0.0)
        hi.append(model.budget - fixed)
    served = np.r_[[w[i] for i, _ in pairs], np.zeros(nc)]
    walk = np.r_[[w[i] * d[i, j] for i, j in pairs], np.zeros(nc)]
    penalty = model.penalty(inst) if model.kind == "pmedian" else 0.0
    site = 1.0 if model.kind == "setcover" and not inst.fixed_cost.any() else None
    # the objective is `base` + priced @ x; a maximum is the parcels served
    base, priced = {
        "maxcover": (0.0, served),
        "pmedian": (penalty * w.sum(), walk - penalty * served),
        "setcover": (len(opened) if site else fixed, money),
    }.get(model.kind, (fixed, walk + money))
    cost = -served if model.kind == "maxcover" else priced
    x = np.zeros(0)
    if nx + nc:
        constraints = [LinearConstraint(np.array(rows), lo, hi)] if rows else []

        def best(objective):
            return milp(
                objective,
                constraints=constraints,
                integrality=np.r_[np.zeros(nx), np.ones(nc)],
                bounds=Bounds(0, np.r_[np.ones(nx), np.full(nc, np.inf)]),
                options={"mip_rel_gap": 1e-12},
            ).x

        if model.kind in ("setcover", "facility"):
            # every parcel it can serve first, then the least cost for as many (a price of
            # 1e6 a parcel in one objective took HiGHS up to 40 s over the 32 open sets)
            most = float(served @ best(-served))
            constraints.append(LinearConstraint(served, most - 1e-7, np.inf))
        x = best(cost)
    return float(served @ x), base + float(priced @ x), fixed + float(money @ x)


def brute_sized(inst, model):
    """(objective, served parcels) of the optimum under ``model``'s sizing, by enumerating
    every open set that ``p`` and the sites' fixed costs allow; set cover and facility location
    serve the most parcels first (a capacity shortfall leaves some unserved)."""
    best = None
    counts = [model.p] if model.kind == "pmedian" else range(inst.n_sites + 1)
    for k in counts:
        if model.p is not None and k > model.p:
            break
        for opened in map(list, combinations(range(inst.n_sites), k)):
            if model.budget is not None and inst.fixed_cost[opened].sum() > model.budget:
                continue
            served, value, _ = _sized_plan(inst, model, opened)
            key = {"maxcover": -value, "pmedian": value}.get(model.kind, (-round(served, 6), value))
            if best is None or key < best[0]:
                best = (key, value, served)
    return best[1], best[2]


@pytest.fixture
def tiny_instance():
    return tiny


@pytest.fixture
def tiny_mixed_instance():
    return tiny_mixed


@pytest.fixture
def brute_force():
    return brute


@pytest.fixture
def sized_brute_force():
    return brute_sized
