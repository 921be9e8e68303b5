"""The bounds that prove gaps without the MIP are valid, and the flow assignment is optimal."""

import dataclasses
import importlib
import time
from itertools import combinations

import numpy as np
import pytest
import scipy.sparse as sp

from routing.siting import SitingModel, Sizing, solve
from routing.siting.exact import lp_relaxation, solve_mip
from routing.siting.flow import capacity_bound, flow_assignment, max_service
from routing.siting.formulation import build
from routing.siting.heuristic import open_set
from routing.siting.lagrange import (
    _Step,
    capacitated_cover_bound,
    least_compartment_cost,
    must_serve_bound,
    pmedian_bound,
)
from routing.siting.model import DEFAULT_COMPARTMENTS
from routing.siting.solution import SitingSolution
from routing.siting.swap import swap_search
from routing.siting.window import neighbourhood, window_search

SEEDS = [11, 12, 13, 14]
solve_module = importlib.import_module("routing.siting.solve")
window_module = importlib.import_module("routing.siting.window")


def _recording(func, calls: list):
    """``func``, noting the keyword arguments of every call in ``calls``."""

    def recorded(*args, **kwargs):
        calls.append(kwargs)
        return func(*args, **kwargs)

    return recorded


@pytest.mark.parametrize("seed", SEEDS)
def test_lagrangian_bound_is_below_the_optimum(tiny_instance, brute_force, seed):
    inst = tiny_instance(seed)
    model = SitingModel("pmedian", p=2, unserved_penalty=25.0)
    best = brute_force(inst, "pmedian", p=2, penalty=25.0)
    lb = pmedian_bound(inst, model, upper=best * 1.1, time_limit_s=5)
    assert lb <= best + 1e-6
    assert lb >= 0.8 * best  # and useful, not trivially low


@pytest.mark.parametrize("seed", SEEDS)
def test_capacity_bound_is_above_the_optimum(tiny_instance, brute_force, seed):
    inst = tiny_instance(seed, capacity=np.full(6, 9.0))
    model = SitingModel("maxcover", p=2, capacitated=True)
    best = brute_force(inst, "maxcover", p=2, capacitated=True)
    assert capacity_bound(inst, model) >= best - 1e-6


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("cap", [4.0, 9.0, 20.0])
def test_capacitated_cover_lagrangian_bound_is_above_the_optimum(
    tiny_instance, brute_force, seed, cap
):
    inst = tiny_instance(seed, n=10, density=0.6, capacity=np.full(6, cap))
    model = SitingModel("maxcover", p=2, capacitated=True)
    best = brute_force(inst, "maxcover", p=2, capacitated=True)
    ub = capacitated_cover_bound(inst, model, lower=0.9 * best, stop_at=0, time_limit_s=5)
    assert best - 1e-6 <= ub <= 1.25 * best  # valid, and useful
    # with a site that must stay open, against the best plan that keeps it open
    fixed = dataclasses.replace(inst, must_open=np.arange(6) == 5)
    best = max(max_service(fixed, model, np.isin(np.arange(6), [5, k]))[0] for k in range(6))
    bound = capacitated_cover_bound(fixed, model, lower=0.9 * best, stop_at=0, time_limit_s=5)
    assert bound >= best - 1e-6


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("budget", [4.0, 9.0])
def test_capacitated_cover_bound_with_a_money_budget_is_above_the_optimum(
    tiny_instance, brute_force, seed, budget
):
    inst = tiny_instance(seed, n=10, density=0.6, capacity=np.full(6, 9.0))
    for p in (None, 2):
        model = SitingModel("maxcover", p=p, budget=budget, capacitated=True)
        best = brute_force(inst, "maxcover", p=p, budget=budget, capacitated=True)
        ub = capacitated_cover_bound(inst, model, lower=0.9 * best, stop_at=0, time_limit_s=2)
        assert best - 1e-6 <= ub <= 1.3 * best + 1.0  # valid, and useful


@pytest.mark.parametrize("seed", SEEDS)
def test_capacitated_cover_bound_with_sizing_and_a_budget_is_above_the_optimum(
    tiny_mixed_instance, seed
):
    # compartments (S/M/L at 300/400/550, one a parcel a day) paid from the budget too, against
    # HiGHS's proven optimum of the sized MIP
    inst = tiny_mixed_instance(seed)
    sizing = Sizing(DEFAULT_COMPARTMENTS, dwell_days=1.0, max_compartments=20)
    model = SitingModel("maxcover", budget=9000.0, sizing=sizing)
    plan = solve(inst, model, method="exact", solver="highs", time_limit_s=20)
    assert plan.optimal
    ub = capacitated_cover_bound(inst, model, lower=plan.objective, stop_at=0, time_limit_s=2)
    assert plan.objective - 1e-6 <= ub <= 1.3 * plan.objective


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["setcover", "facility"])
@pytest.mark.parametrize("cap", [9.0, 14.0, 40.0])
def test_must_serve_lagrangian_bound_is_below_the_optimum(
    tiny_instance, brute_force, seed, kind, cap
):
    inst = tiny_instance(seed, n=10, density=0.6, capacity=np.full(6, cap))
    model = SitingModel(kind, capacitated=True)
    best = brute_force(inst, kind, capacitated=True)
    if best is None:  # some reachable parcels exceed every capacity in reach: no plan to bound
        best = solve(inst, model, method="exact").objective  # (priced in by the MIP's slack)
    lb = must_serve_bound(inst, model, upper=1.2 * best, stop_at=np.inf, time_limit_s=2)
    assert 0.6 * best <= lb <= best + 1e-6  # valid, and useful
    # with a site that must stay open, against the optimum that keeps it open
    fixed = dataclasses.replace(inst, must_open=np.arange(6) == 5)
    kept = solve(fixed, model, method="exact")
    assert kept.optimal
    bound = must_serve_bound(fixed, model, upper=kept.objective, stop_at=np.inf, time_limit_s=2)
    assert bound <= kept.objective + 1e-6


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["setcover", "facility"])
def test_must_serve_lagrangian_bound_with_sizing_is_below_the_optimum(
    tiny_mixed_instance, seed, kind
):
    # compartments to size (S/M/L at 300/400/550, one-day dwell, at most 20 a locker), points of
    # their own size mixes: against HiGHS's proven optimum of the sized MIP (SCIP branches on
    # the compartment counts for minutes)
    inst = tiny_mixed_instance(seed)
    sizing = Sizing(DEFAULT_COMPARTMENTS, dwell_days=1.0, max_compartments=20)
    model = SitingModel(kind, sizing=sizing)
    plan = solve(inst, model, method="exact", solver="highs", time_limit_s=20)
    assert plan.optimal  # and every parcel in reach served (point 0 reaches no site):
    assert plan.unserved_parcels == pytest.approx(inst.weight[0])
    lb = must_serve_bound(inst, model, upper=plan.objective, stop_at=np.inf, time_limit_s=2)
    assert 0.7 * plan.objective <= lb <= plan.objective + 1e-6


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("cap", [9.0, 14.0, 40.0])
def test_capacitated_set_cover_is_bounded_by_its_uncapacitated_optimum(
    tiny_instance, brute_force, seed, cap
):
    # the plan starts from the uncapacitated optimum's sites, whose bound proves the gap
    inst = tiny_instance(seed, n=10, density=0.6, capacity=np.full(6, cap))
    model = SitingModel("setcover", capacitated=True)
    best = brute_force(inst, "setcover", capacitated=True)
    plan = solve(inst, model)
    floor = brute_force(inst, "setcover")
    assert floor <= plan.bound + 1e-6  # the uncapacitated optimum, at least
    if best is not None:  # (None: capacity cannot serve every reachable parcel)
        assert plan.bound <= best + 1e-6
        assert plan.optimal and plan.objective == pytest.approx(best)


@pytest.mark.parametrize("seed", SEEDS)
def test_sized_set_cover_is_bounded_by_its_sites_and_cheapest_compartments(
    tiny_mixed_instance, seed
):
    # the uncapacitated optimum's sites plus every parcel in its cheapest compartment, against
    # HiGHS's proven optimum of the sized MIP; the default path proves its gap with it
    inst = tiny_mixed_instance(seed)
    sizing = Sizing(DEFAULT_COMPARTMENTS, dwell_days=1.0, max_compartments=20)
    model = SitingModel("setcover", sizing=sizing)
    best = solve(inst, model, method="exact", solver="highs", time_limit_s=20)
    assert best.optimal and best.unserved_parcels == pytest.approx(inst.weight[0])
    floor = solve(inst, SitingModel("setcover")).objective + least_compartment_cost(inst, model)
    assert floor <= best.objective + 1e-6
    plan = solve(inst, model, time_limit_s=5)
    assert floor - 1e-6 <= plan.bound <= best.objective + 1e-6 <= plan.objective + 2e-6


@pytest.mark.parametrize("maximize", [True, False])
def test_subgradient_step_keeps_the_best_bound_and_halves_after_its_patience(maximize):
    sign = 1 if maximize else -1
    step = _Step(3, maximize=maximize)
    for bound in (1.0, 2.0, 1.5, 2.0, 0.0):  # a better bound, then three that are not
        step.record(sign * bound)
    assert (step.best, step.scale, step.stall) == (sign * 2.0, 1.0, 0)
    step.record(sign * 3.0)
    assert (step.best, step.scale) == (sign * 3.0, 1.0)
    while not step.spent:
        step.record(sign * 3.0)
    assert step.scale < 1e-4 and step.best == sign * 3.0


def test_must_serve_bound_is_for_capacitated_set_cover_and_facility_only(tiny_instance):
    inst = tiny_instance(3, capacity=np.full(6, 9.0))
    for model in (SitingModel("setcover"), SitingModel("maxcover", p=2, capacitated=True)):
        assert must_serve_bound(inst, model, upper=1, stop_at=0, time_limit_s=1) is None


@pytest.mark.parametrize("kind", ["setcover", "facility"])
def test_large_must_serve_path_reports_the_lagrangian_bound(
    tiny_instance, brute_force, monkeypatch, kind
):
    # Force the mid-scale path (the MIP with its x <= y links, the Lagrangian bound beside it:
    # SCIP may not finish the root LP in the time) on a tiny case; the MIP is cut short so the
    # bound it reports is the Lagrangian one. Fixed capacities keep facility location here.
    monkeypatch.setattr(solve_module, "MUST_SERVE_LAGRANGE_PAIRS", 0)
    found, searched = [], []

    def spy(*args, **kwargs):
        found.append(must_serve_bound(*args, **kwargs))
        return found[-1]

    def no_proof(mip, **kwargs):
        return solve_mip(mip, **{**kwargs, "time_limit_s": 1e-3})

    monkeypatch.setattr(solve_module, "must_serve_bound", spy)
    monkeypatch.setattr(solve_module, "solve_mip", no_proof)
    monkeypatch.setattr(solve_module, "open_set", _recording(open_set, searched))
    inst = tiny_instance(12, n=10, density=0.6, capacity=np.full(6, 14.0))
    model = SitingModel(kind, capacitated=True)
    plan = solve(inst, model, time_limit_s=4)
    best = brute_force(inst, kind, capacitated=True)
    assert found and found[0] <= best + 1e-6
    assert all(s["patience"] is not None for s in searched)  # not searched first
    assert plan.bound == pytest.approx(found[0]) or plan.bound >= found[0]
    assert plan.bound <= best + 1e-6 <= plan.objective + 2e-6
    assert plan.gap == pytest.approx((plan.objective - plan.bound) / plan.objective)


@pytest.mark.parametrize("seed", SEEDS)
def test_swap_search_improves_within_the_rules(tiny_instance, brute_force, seed):
    inst = tiny_instance(seed, n=12, m=8, density=0.5, capacity=np.full(8, 7.0))
    inst = dataclasses.replace(inst, must_open=np.arange(8) == 7)
    model = SitingModel("maxcover", p=3, capacitated=True)
    start = np.arange(8) >= 6  # sites 6 and 7: one short of p, and an arbitrary pick
    found = swap_search(inst, model, start, time_limit_s=5)
    assert found.sum() == 3 and found[7]
    before, after = (max_service(inst, model, s)[0] for s in (start, found))
    assert after >= before
    best = max(
        max_service(inst, model, np.isin(np.arange(8), [7, *s]))[0]
        for s in combinations(range(7), 2)
    )
    assert after <= best + 1e-6
    assert after >= 0.9 * best


@pytest.mark.parametrize("seed", SEEDS)
def test_flow_assignment_serves_as_much_as_the_lp(tiny_instance, brute_force, seed):
    inst = tiny_instance(seed, capacity=np.full(6, 9.0))
    model = SitingModel("maxcover", p=2, capacitated=True)
    best = max(
        SitingSolution(
            inst, model, mask, *flow_assignment(inst, model, mask, unserved_cost=1)[:3]
        ).objective
        for mask in (np.isin(np.arange(6), s) for s in combinations(range(6), 2))
    )
    assert best == pytest.approx(brute_force(inst, "maxcover", p=2, capacitated=True), abs=1e-3)


@pytest.mark.parametrize(
    ("kind", "large_from"),
    [
        ("pmedian", ["LAGRANGE_ROWS"]),
        ("facility", ["MUST_SERVE_LAGRANGE_PAIRS", "STRONG_LINK_MAX_PAIRS"]),
    ],
)
@pytest.mark.parametrize(("stalls", "mip_min_s"), [(False, 0.0), (True, 0.0), (True, 10.0)])
def test_a_large_model_is_searched_first_and_the_mip_gets_what_is_left(
    tiny_instance, brute_force, monkeypatch, kind, large_from, stalls, mip_min_s
):
    # Force the large-instance path on a tiny case: local search to its share of the time,
    # the Lagrangian bound, then the MIP (warm-started) with what they leave if that is at
    # least SEARCH_FIRST_MIP_MIN_S. Here the Lagrangian proves the optimum unless made to
    # stall (a bound of 0, as SCIP's "none" at city scale).
    for name in large_from:
        monkeypatch.setattr(solve_module, name, 0)
    monkeypatch.setattr(solve_module, "SEARCH_FIRST_MIP_MIN_S", mip_min_s)
    if stalls:
        monkeypatch.setattr(solve_module, "pmedian_bound", lambda *a, **k: 0.0)
        monkeypatch.setattr(solve_module, "must_serve_bound", lambda *a, **k: 0.0)
    searched, mips = [], []
    monkeypatch.setattr(solve_module, "open_set", _recording(open_set, searched))
    monkeypatch.setattr(solve_module, "solve_mip", _recording(solve_mip, mips))
    if kind == "pmedian":
        inst = tiny_instance(21)
        model = SitingModel("pmedian", p=2, unserved_penalty=25.0)
        best = brute_force(inst, "pmedian", p=2, penalty=25.0)
    else:
        inst = tiny_instance(12, n=10, density=0.6, capacity=np.full(6, 14.0))
        model = SitingModel("facility", capacitated=True)
        best = brute_force(inst, "facility", capacitated=True)
    plan = solve(inst, model, time_limit_s=4)
    # no stopping early; the share is of what merging and a shortfall's first stage leave
    share = 4 * solve_module.SEARCH_FIRST_SHARE[kind]
    [search] = searched
    assert search["patience"] is None and share - 0.2 < search["time_limit_s"] <= share
    assert plan.bound <= best + 1e-6 <= plan.objective + 2e-6
    if not stalls:
        assert not mips and plan.optimal and plan.method == "exact:relaxation"
    elif mip_min_s:  # too little time left for the MIP: the plan with the bound it has
        assert not mips and plan.method == "exact:relaxation" and plan.gap == 1.0
    else:
        assert len(mips) == 1 and mips[0]["hint"] is not None
        left = 4 - plan.stats["heuristic_seconds"] + 1e-3  # the stat is rounded to ms
        assert 0 < mips[0]["time_limit_s"] <= max(0.5, left)  # the MIP's least is 0.5 s
        assert plan.optimal and plan.method == "exact:scip"


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("seed", SEEDS)
def test_window_search_never_loses_and_a_whole_window_is_exact(
    tiny_instance, brute_force, seed, workers
):
    inst = tiny_instance(seed, n=12, m=8, density=0.5, capacity=np.full(8, 7.0))
    inst = dataclasses.replace(inst, must_open=np.arange(8) == 7)
    model = SitingModel("maxcover", p=3, capacitated=True)
    start = np.isin(np.arange(8), [0, 1, 7])
    before = max_service(inst, model, start)[0]
    small = window_search(inst, model, start, time_limit_s=1.0, window=2, workers=workers)
    assert small.sum() == 3 and small[7]
    assert max_service(inst, model, small)[0] >= before - 1e-9
    # a window holding every site is the whole capacitated MIP: the optimum with site 7 open
    whole = window_search(inst, model, start, time_limit_s=1.0, window=8, workers=workers)
    best = max(
        max_service(inst, model, np.isin(np.arange(8), [7, *s]))[0]
        for s in combinations(range(7), 2)
    )
    assert whole.sum() == 3 and whole[7]
    assert max_service(inst, model, whole)[0] == pytest.approx(best, abs=1e-3)


@pytest.mark.parametrize("seed", SEEDS)
def test_lp_duals_start_the_capacitated_bound_near_the_lp(tiny_instance, brute_force, seed):
    inst = tiny_instance(seed, n=10, density=0.6, capacity=np.full(6, 9.0))
    model = SitingModel("maxcover", p=2, capacitated=True)
    best = brute_force(inst, "maxcover", p=2, capacitated=True)
    strong = build(inst, model, strong=True)
    exact_lp = solve_mip(
        dataclasses.replace(strong, integer=np.zeros(0, dtype=np.int64)), time_limit_s=5
    ).objective
    lp = lp_relaxation(strong, time_limit_s=5, tolerance=1e-6)
    assert lp.objective == pytest.approx(exact_lp, rel=1e-4)
    duals = solve_module._point_duals(strong, lp)
    # one evaluation at the LP's duals: valid, and (LP duals being optimal multipliers) the LP
    at_duals = capacitated_cover_bound(
        inst, model, lower=best, stop_at=np.inf, time_limit_s=1, start=duals
    )
    assert best - 1e-6 <= at_duals <= exact_lp + 1e-3 * exact_lp
    # any multipliers at all still bound the optimum from above
    junk = np.random.default_rng(seed).random(inst.n_demand) * inst.weight
    assert (
        capacitated_cover_bound(inst, model, lower=best, stop_at=np.inf, time_limit_s=1, start=junk)
        >= best - 1e-6
    )


def test_large_capacitated_cover_path_reports_a_valid_gap(tiny_instance, brute_force, monkeypatch):
    # Force the city-scale path (PDLP-started bound, swaps and windows, no MIP) on a tiny case.
    monkeypatch.setattr(solve_module, "WINDOW_PAIRS", 0)
    inst = tiny_instance(5, n=12, m=8, density=0.5, capacity=np.full(8, 7.0))
    model = SitingModel("maxcover", p=3, capacitated=True)
    plan = solve(inst, model, time_limit_s=6)
    best = brute_force(inst, "maxcover", p=3, capacitated=True)
    assert plan.objective <= best + 1e-6 <= plan.bound + 2e-6
    assert plan.objective == pytest.approx(best, abs=1e-3)


@pytest.mark.parametrize("workers", [1, 2])
def test_settled_windows_grow_until_the_plan_is_optimal(tiny_instance, brute_force, workers):
    # windows of 2 sites settle early on 10 sites; they then grow (3, 5, 8, 10 sites) instead of
    # idling until the limit, and once one holds every site the plan is optimal and the search
    # returns, long before its limit
    inst = tiny_instance(13, n=16, m=10, density=0.4, capacity=np.full(10, 8.0))
    model = SitingModel("maxcover", p=3, capacitated=True)
    best = brute_force(inst, "maxcover", p=3, capacitated=True)
    start = np.isin(np.arange(10), [0, 1, 2])
    began = time.perf_counter()
    found = window_search(inst, model, start, time_limit_s=120, window=2, workers=workers)
    assert time.perf_counter() - began < 60
    assert found.sum() == 3
    assert max_service(inst, model, found)[0] == pytest.approx(best, abs=1e-3)


def test_a_neighbourhood_passes_through_sites_it_may_not_take():
    # sites on a line, each overlapping the next: 0 - 1 - 2 - 3 - 4
    line = sp.diags([1.0, 1.0, 1.0], [-1, 0, 1], shape=(5, 5), format="csr")
    assert neighbourhood(line, 0, 3).tolist() == [0, 1, 2]
    allowed = np.array([True, False, True, False, True])
    assert neighbourhood(line, 0, 3, allowed=allowed).tolist() == [0, 2, 4]
    assert neighbourhood(line, 0, 9, allowed=allowed).tolist() == [0, 2, 4]


def test_windows_keep_to_their_candidates_until_those_are_exhausted(
    tiny_instance, brute_force, monkeypatch
):
    # candidates 0-4 (with the start's 5): windows draw from them alone until a window holding
    # all six is proven optimal, then start again over every site and reach the optimum
    inst = tiny_instance(13, n=16, m=10, density=0.4, capacity=np.full(10, 8.0))
    model = SitingModel("maxcover", p=3, capacitated=True)
    best = brute_force(inst, "maxcover", p=3, capacitated=True)
    start = np.isin(np.arange(10), [0, 1, 5])
    candidates = np.arange(10) < 5
    drawn = []

    def spy(overlap, centre, size, *, allowed=None):
        sites = neighbourhood(overlap, centre, size, allowed=allowed)
        drawn.append((allowed.copy(), sites))
        return sites

    monkeypatch.setattr(window_module, "neighbourhood", spy)
    found = window_search(inst, model, start, time_limit_s=120, window=2, candidates=candidates)
    assert max_service(inst, model, found)[0] == pytest.approx(best, abs=1e-3)
    kept = [sites for allowed, sites in drawn if not allowed.all()]
    assert kept and all(np.isin(sites, [0, 1, 2, 3, 4, 5]).all() for sites in kept)
    assert any(sites.size == 6 for sites in kept)  # grew to hold every candidate
    later = [sites for allowed, sites in drawn[len(kept) :] if allowed.all()]
    assert len(kept) + len(later) == len(drawn)  # every site only after the candidates
    assert any(np.isin(sites, [6, 7, 8, 9]).any() for sites in later)


def test_city_path_windows_keep_to_the_lp_support_once_it_is_in(
    tiny_instance, brute_force, monkeypatch
):
    monkeypatch.setattr(solve_module, "WINDOW_PAIRS", 0)
    given, lps = [], []

    def search(*args, candidates=None, **kwargs):
        given.append(candidates)
        return window_search(*args, candidates=candidates, **kwargs)

    def relax(mip, **kwargs):
        lps.append((mip, lp_relaxation(mip, **kwargs)))
        return lps[-1][1]

    monkeypatch.setattr(solve_module, "window_search", search)
    monkeypatch.setattr(solve_module, "lp_relaxation", relax)
    # neither the max-flow bound nor the plan's coverage settles this one: windows run
    inst = tiny_instance(9, n=12, m=8, density=0.5, capacity=np.full(8, 18.0))
    model = SitingModel("maxcover", p=3, capacitated=True)
    plan = solve(inst, model, time_limit_s=6)
    assert given[0] is None and given[-1] is not None  # windows over the LP's sites once it is in
    (strong, lp), *_ = lps
    assert (given[-1] == (lp.values[strong.y] > solve_module.KERNEL_Y)).all()
    assert plan.objective == pytest.approx(brute_force(inst, "maxcover", p=3, capacitated=True))


def test_window_search_stops_when_told(tiny_instance):
    # the city-scale path stops its plan search once the bound thread proves the gap
    inst = tiny_instance(6, n=12, m=8, density=0.5, capacity=np.full(8, 7.0))
    model = SitingModel("maxcover", p=3, capacitated=True)
    start = np.isin(np.arange(8), [0, 1, 2])
    seen = []

    def stop(value: float) -> bool:
        seen.append(value)
        return True

    for workers in (1, 2):
        found = window_search(inst, model, start, time_limit_s=5, stop=stop, workers=workers)
        assert (found == start).all()
    assert seen == pytest.approx([max_service(inst, model, start)[0]] * 3)
