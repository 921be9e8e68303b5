"""Benders decomposition of the p-median (``benders.py``): the closed-form cuts against the
radius formulation's LP, optima against brute force, the proof only where bound meets plan."""

import dataclasses
from itertools import combinations

import numpy as np
import pytest

from routing.siting import SitingModel, solve
from routing.siting.benders import (
    _Master,
    _root,
    _Search,
    _whole_costs,
    applies,
    plan_cost,
    pmedian_benders,
    points_of,
    separate,
)
from routing.siting.exact import lp_optimum
from routing.siting.formulation import build
from routing.siting.solution import SitingSolution, nearest_assignment


def _brute(inst, model) -> float:
    """The least objective over every set of p sites holding the must-open ones."""
    d = np.full(inst.reach.shape, np.inf)
    rows = np.repeat(np.arange(inst.n_demand), np.diff(inst.reach.indptr))
    d[rows, inst.reach.indices] = inst.reach.data
    best, penalty = np.inf, model.penalty(inst)
    for s in combinations(range(inst.n_sites), model.p):
        if inst.must_open[list(s)].sum() != inst.must_open.sum():
            continue
        near = d[:, list(s)].min(axis=1)
        best = min(best, float(inst.weight @ np.where(np.isfinite(near), near, penalty)))
    return best


def _levels_cost(inst, model, y):
    """Each point's cost in the radius formulation's LP with the sites' values fixed at ``y``:
    its nearest distance, plus each next level's step times what is left of 1 once the sites
    within the level are counted (none past 1), the penalty the last level."""
    d = inst.reach.toarray()
    has = np.zeros(d.shape, dtype=bool)
    has[np.repeat(np.arange(d.shape[0]), np.diff(inst.reach.indptr)), inst.reach.indices] = True
    cost = []
    for i in np.flatnonzero(inst.weight > 0):
        levels = np.unique(d[i, has[i]])
        if levels.size == 0:
            continue
        top = np.r_[levels, model.penalty(inst)]
        left = [max(0.0, 1.0 - y[has[i] & (d[i] <= v)].sum()) for v in levels]
        cost.append(levels[0] + float(np.dot(np.diff(top), left)))
    return np.array(cost)


@pytest.mark.parametrize("seed", range(8))
def test_the_closed_form_cut_is_the_radius_lp_cost_at_any_point(tiny_instance, seed):
    # at a fractional y the tightest cut of each point (the walk along its sorted distances
    # until y's mass reaches 1) is what the radius formulation's LP charges it there
    inst = tiny_instance(seed, n=12, m=7, density=0.6)
    model = SitingModel("pmedian", p=3, unserved_penalty=25.0)
    rng = np.random.default_rng(seed)
    y = rng.dirichlet(np.ones(7)) * 3
    y = np.minimum(y, 1.0)
    points = points_of(inst, model)
    got = separate(points, y).value(points, y)
    assert got == pytest.approx(_levels_cost(inst, model, y), abs=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_the_cutting_plane_lp_is_the_radius_formulations_lp(tiny_instance, seed):
    inst = tiny_instance(seed, n=14, m=8, density=0.6)
    model = SitingModel("pmedian", p=2 + seed % 3, unserved_penalty=25.0)
    start = np.zeros(8, dtype=bool)
    start[: model.p] = True
    points = points_of(inst, model)
    master = _Master(points, model, np.arange(8), inst.must_open)
    upper = plan_cost(points, start)
    search = _Search(points, model.p, inst.must_open, start, upper, _whole_costs(points), 0.0)
    value, _, _ = _root(master, search, start.astype(float), lambda: False)
    assert value == pytest.approx(lp_optimum(build(inst, model), time_limit_s=10), abs=1e-6)


@pytest.mark.parametrize("seed", range(12))
def test_the_decomposition_finds_the_brute_force_optimum(tiny_instance, seed):
    # sparse reach, a point out of every site's reach, weights, must-open sites
    inst = tiny_instance(seed, n=14, m=8, density=0.5)
    if seed % 3 == 0:
        inst = dataclasses.replace(inst, must_open=np.arange(8) == seed % 8)
    p = 1 + seed % 4
    model = SitingModel("pmedian", p=p, unserved_penalty=25.0)
    best = _brute(inst, model)
    worst = np.arange(8) >= 8 - p  # a poor start (or none: must-open sites closed)
    found = pmedian_benders(inst, model, worst, time_limit_s=30)
    assert found.objective == pytest.approx(best)
    assert found.bound == pytest.approx(best)
    assert found.is_open.sum() == p and found.is_open[inst.must_open].all()
    rows, cols, frac = nearest_assignment(inst, found.is_open)
    assert SitingSolution(inst, model, found.is_open, rows, cols, frac).objective == best


@pytest.mark.parametrize("seed", range(6))
def test_solve_proves_the_brute_force_optimum_by_the_decomposition(
    tiny_instance, brute_force, seed
):
    inst = tiny_instance(seed, n=14, m=8, density=0.5)
    inst = dataclasses.replace(inst, weight=inst.weight + 0.5)  # not whole: no rounding up
    model = SitingModel("pmedian", p=2, unserved_penalty=25.0)
    plan = solve(inst, model, time_limit_s=20)
    assert plan.method == "exact:benders"
    assert plan.objective == pytest.approx(brute_force(inst, "pmedian", p=2, penalty=25.0))
    assert plan.optimal and plan.bound == pytest.approx(plan.objective, rel=1e-6)


def test_no_proof_without_the_bound(tiny_instance):
    # stopped before its LP: the plan comes back with no bound, never as proven
    inst = tiny_instance(3, n=14, m=8, density=0.5)
    model = SitingModel("pmedian", p=2, unserved_penalty=25.0)
    start = np.arange(8) < 2
    found = pmedian_benders(inst, model, start, time_limit_s=0.0)
    assert found.bound == -np.inf and (found.is_open == start).all()


def test_a_penalty_below_a_distance_keeps_the_mip(tiny_instance, brute_force):
    # an unserved parcel costing less than a pair in reach: a point's cost is no longer its
    # nearest distance capped at the penalty, so the decomposition's cuts do not hold
    inst = tiny_instance(5, n=14, m=8, density=0.5)
    model = SitingModel("pmedian", p=2, unserved_penalty=4.0)
    assert not applies(inst, model) and applies(inst, SitingModel("pmedian", p=2))
    plan = solve(inst, model, time_limit_s=10)
    assert plan.method == "exact:scip"


def test_a_small_p_median_of_200_vertices_is_proven_in_the_time(tmp_path):
    # 200 vertices, p = 3 (16,414 rows): the radius MIP on SCIP with the Lagrangian beside it
    # ended its 10 s at 9,313 against a bound of 9,101; the decomposition proves 9,214 in 0.6 s
    from test_siting_orlib_scale_audit import _pmed_file

    pm = _pmed_file(tmp_path / "pm.txt", 200, 3)
    plan = solve(pm.instance, SitingModel("pmedian", p=pm.p), time_limit_s=10)
    assert plan.method == "exact:benders"
    assert plan.optimal and plan.bound == plan.objective == 9214.0
