"""Plans keep the model's rules (budget, p, must-open sites), set cover and facility location
serve every parcel they can also under the heuristic alone, and a point with no parcels need
not be reached. Each case is tiny; optima by brute force or worked out by hand."""

import dataclasses
import importlib

import numpy as np
import pytest

from routing.siting import SitingInstance, SitingModel, Sizing, make_reach, solve
from routing.siting.exact import MipResult, solve_mip
from routing.siting.formulation import build
from routing.siting.model import CompartmentSize

S = importlib.import_module("routing.siting.solve")  # the module (``solve`` is the function)
RUNS = [("heuristic", "auto"), ("exact", "scip"), ("exact", "highs"), ("auto", "highs")]


def _spent(plan) -> float:
    return float(plan.instance.fixed_cost[plan.is_open].sum() + plan.compartment_cost.sum())


def _must_open_over_budget() -> tuple[SitingInstance, SitingModel]:
    """One standing site (must open, free) and one point of 10 parcels a day; compartments at
    5/6/7 turn over one parcel a day, and the budget of 12 buys two: the most served is 2
    (1 S + 1 L, as the default mix has a large parcel among them), where serving all 10 needs
    6 S + 3 M + 1 L (55)."""
    inst = SitingInstance(
        demand_ids=["a"],
        weight=np.array([10.0]),
        site_ids=["old"],
        reach=make_reach([0], [0], [1.0], (1, 1)),
        fixed_cost=np.array([0.0]),
        capacity=np.array([np.inf]),
        must_open=np.array([True]),
    )
    boxes = tuple(
        CompartmentSize(s, 1, 1, 1, cost=c) for s, c in zip("SML", (5.0, 6.0, 7.0), strict=True)
    )
    sizing = Sizing(compartments=boxes, dwell_days=1.0, max_compartments=20)
    return inst, SitingModel("maxcover", p=1, budget=12.0, sizing=sizing)


@pytest.mark.parametrize(("method", "solver"), RUNS)
def test_covering_with_a_must_open_site_keeps_to_the_budget(method, solver, sized_brute_force):
    """Down to its must-open site, covering had no site left to close and kept every
    compartment (55 against a budget of 12), "optimal" at 10 parcels."""
    inst, model = _must_open_over_budget()
    plan = solve(inst, model, method=method, solver=solver, time_limit_s=5)
    assert _spent(plan) <= model.budget + 1e-9
    assert plan.is_open[0]
    if method != "heuristic":
        best, _ = sized_brute_force(inst, model)
        assert plan.objective == pytest.approx(best) == pytest.approx(2.0)
        assert plan.optimal


def test_an_over_budget_start_never_stands_over_the_mip(monkeypatch):
    """Where the heuristic's plan breaks the budget (here its cut is switched off), the MIP's
    plan is kept and proven, and with no MIP plan the start is returned unproven, never at a
    gap of 0."""
    inst, model = _must_open_over_budget()
    monkeypatch.setattr(S, "_within_budget", lambda inst, model, plan: plan)
    plan = solve(inst, model, method="exact", solver="highs", time_limit_s=5)
    assert _spent(plan) <= model.budget + 1e-9
    assert plan.objective == pytest.approx(2.0)
    assert plan.optimal and plan.gap == 0.0

    def nothing(mip, **_):
        return MipResult(None, None, 2.0, False, "time limit", 0.0)

    monkeypatch.setattr(S, "solve_mip", nothing)
    plan = solve(inst, model, method="exact", solver="highs", time_limit_s=5)
    assert _spent(plan) > model.budget  # nothing better was found: the start is all there is
    assert not plan.optimal and plan.gap == np.inf


def _dear_nearest() -> SitingInstance:
    """Site A (cost 2) reaches every point at distance 0; B, C and D (cost 0, 1, 1) each reach
    one point at 5. With p = 3 and a budget of 2 only B, C and D fit (75)."""
    return SitingInstance(
        demand_ids=["a", "b", "c"],
        weight=np.array([5.0, 5.0, 5.0]),
        site_ids=["A", "B", "C", "D"],
        reach=make_reach([0, 1, 2, 0, 1, 2], [0, 0, 0, 1, 2, 3], [0, 0, 0, 5, 5, 5], (3, 4)),
        fixed_cost=np.array([2.0, 0.0, 1.0, 1.0]),
        capacity=np.full(4, np.inf),
        must_open=np.zeros(4, dtype=bool),
    )


@pytest.mark.parametrize(("method", "solver"), [*RUNS, ("exact", "sat")])
def test_pmedian_under_a_budget_opens_exactly_p(method, solver, brute_force):
    """The greedy spent the budget on A and B and stopped at two lockers (objective 0), which
    the exact methods then kept over the MIP's three."""
    inst = _dear_nearest()
    model = SitingModel("pmedian", p=3, budget=2.0)
    plan = solve(inst, model, method=method, solver=solver, time_limit_s=5)
    assert plan.is_open.sum() == 3
    assert _spent(plan) <= model.budget
    assert plan.objective == pytest.approx(brute_force(inst, "pmedian", p=3, budget=2.0))
    if method != "heuristic":
        assert plan.optimal


@pytest.mark.parametrize("seed", range(6))
def test_pmedian_at_the_cheapest_p_budget_matches_brute_force(seed, tiny_instance, brute_force):
    """A budget of exactly what the cheapest p sites cost leaves the greedy no slack at all."""
    inst = tiny_instance(seed)
    p = 3
    budget = float(np.sort(inst.fixed_cost)[:p].sum())
    penalty = SitingModel("pmedian", p=p).penalty(inst)
    model = SitingModel("pmedian", p=p, budget=budget)
    best = brute_force(inst, "pmedian", p=p, budget=budget, penalty=penalty)
    for method in ("heuristic", "exact"):
        plan = solve(inst, model, method=method, solver="highs", time_limit_s=5)
        assert plan.is_open.sum() == p and _spent(plan) <= budget + 1e-9
    assert plan.objective == pytest.approx(best) and plan.optimal


def _one_way_in(*, sized: bool) -> SitingInstance:
    """Point a (5 parcels) reaches only A (distance 5); b (5) reaches A (0) and B (1); each
    site holds 5 parcels a day (a capacity, or 5 compartments turned over daily), so serving
    both needs both sites: a at A, b at B."""
    return SitingInstance(
        demand_ids=["a", "b"],
        weight=np.array([5.0, 5.0]),
        site_ids=["A", "B"],
        reach=make_reach([0, 1, 1], [0, 0, 1], [5.0, 0.0, 1.0], (2, 2)),
        fixed_cost=np.array([1.0, 1.0]),
        capacity=np.full(2, np.inf) if sized else np.array([5.0, 5.0]),
        must_open=np.zeros(2, dtype=bool),
    )


FIVE_A_DAY = Sizing(dwell_days=1.0, max_compartments=5)


@pytest.mark.parametrize("kind", ["setcover", "facility"])
@pytest.mark.parametrize("sized", [False, True])
def test_the_heuristic_serves_every_parcel_it_can(kind, sized):
    """The heuristic opened A alone, served b there and left a's 5 parcels unserved: it only
    opens sites reaching the parcels short, and none but A reaches a. Both sites serve all."""
    inst = _one_way_in(sized=sized)
    model = SitingModel(kind, **({"sizing": FIVE_A_DAY} if sized else {"capacitated": True}))
    plan = solve(inst, model, method="heuristic")
    assert plan.unserved_parcels == pytest.approx(0.0, abs=1e-9)
    exact = solve(inst, model, method="exact", solver="highs", time_limit_s=5)
    assert plan.objective == pytest.approx(exact.objective)


@pytest.mark.parametrize("kind", ["setcover", "facility"])
def test_the_heuristic_serves_the_most_where_capacity_falls_short(kind, brute_force):
    """As above with a third point c (5) reaching only A: A holds a or c, never both, so 5
    parcels go unserved whatever opens; the heuristic must still open B for b."""
    base = _one_way_in(sized=False)
    inst = dataclasses.replace(
        base,
        demand_ids=["a", "b", "c"],
        weight=np.array([5.0, 5.0, 5.0]),
        reach=make_reach([0, 1, 1, 2], [0, 0, 1, 0], [5.0, 0.0, 1.0, 2.0], (3, 2)),
    )
    model = SitingModel(kind, capacitated=True)
    plan = solve(inst, model, method="heuristic")
    assert plan.unserved_parcels == pytest.approx(5.0, abs=1e-6)
    assert plan.is_open.all()


def _zero_point() -> SitingInstance:
    """Point a (3 parcels) reaches only s1 (cost 2); z (no parcels) reaches only s0 (cost 5)."""
    return SitingInstance(
        demand_ids=["a", "z"],
        weight=np.array([3.0, 0.0]),
        site_ids=["s0", "s1"],
        reach=make_reach([0, 1], [1, 0], [1.0, 1.0], (2, 2)),
        fixed_cost=np.array([5.0, 2.0]),
        capacity=np.array([10.0, 10.0]),
        must_open=np.zeros(2, dtype=bool),
    )


@pytest.mark.parametrize(
    ("model", "best"),
    [
        (SitingModel("setcover"), 2.0),
        (SitingModel("setcover", capacitated=True), 2.0),
        (SitingModel("facility"), 5.0),  # s1 and a's 3 parcels walking 1
        (SitingModel("facility", capacitated=True), 5.0),
    ],
    ids=["setcover", "setcover-cap", "facility", "facility-cap"],
)
@pytest.mark.parametrize(("method", "solver"), RUNS)
def test_a_point_without_parcels_need_not_be_reached(model, best, method, solver):
    """Capacitated set cover opened s0 for z too (7) and called it optimal against the
    uncapacitated optimum, which had to reach z, while its own MIP found 2; uncapacitated
    facility location kept the heuristic's 5 against its MIP's bound of 10 (gap inf)."""
    plan = solve(_zero_point(), model, method=method, solver=solver, time_limit_s=5)
    assert plan.objective == pytest.approx(best)
    assert plan.to_dict()["unserved"] == []
    if method != "heuristic":
        assert plan.optimal and plan.gap == 0.0 and plan.bound == pytest.approx(best)


@pytest.mark.parametrize(("kind", "best"), [("setcover", 2.0), ("facility", 5.0)])
@pytest.mark.parametrize("solver", ["scip", "highs"])
def test_the_mip_built_alone_need_not_reach_a_point_without_parcels(kind, best, solver):
    """``build`` called directly, as the bounds and other callers do, not after ``solve``
    dropped such points' reach: its uncapacitated set cover and facility location still had
    to reach z (no parcels) through s0 (cost 5), 7 and 10 where 2 and 5 serve every parcel.
    A point with no parcels out of every site's reach (y) asks for nothing either."""
    base = _zero_point()
    inst = dataclasses.replace(
        base,
        demand_ids=["a", "z", "y"],
        weight=np.array([3.0, 0.0, 0.0]),
        reach=make_reach([0, 1], [1, 0], [1.0, 1.0], (3, 2)),
    )
    mip = build(inst, SitingModel(kind))
    res = solve_mip(mip, solver=solver, time_limit_s=5)
    assert res.optimal
    assert float(mip.obj @ res.values) + mip.offset == pytest.approx(best)
    assert res.values[mip.y].round().tolist() == [0.0, 1.0]


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # brute force's 0 x inf
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("capacitated", [False, True])
@pytest.mark.parametrize("kind", ["setcover", "facility"])
def test_points_without_parcels_change_no_optimum(
    seed, capacitated, kind, tiny_instance, brute_force
):
    """Some points' parcels set to 0: the optimum is brute force's on the instance where those
    points reach no site at all (brute force would have every point in reach reached)."""
    inst = tiny_instance(seed, capacity=np.full(6, 12.0))
    weight = inst.weight.copy()
    weight[1::3] = 0.0
    inst = dataclasses.replace(inst, weight=weight)
    coo = inst.reach.tocoo()
    keep = weight[coo.row] > 0
    rule = dataclasses.replace(
        inst, reach=make_reach(coo.row[keep], coo.col[keep], coo.data[keep], inst.reach.shape)
    )
    model = SitingModel(kind, capacitated=capacitated)
    plan = solve(inst, model, method="exact", solver="highs", time_limit_s=5)
    assert plan.objective == pytest.approx(brute_force(rule, kind, capacitated=capacitated))
    assert plan.optimal and plan.gap == 0.0
