"""Inputs at the edges: service that moves by fractions of a parcel, instances with nothing
in reach or a budget of nothing, and options no plan can mean (siting audit, defects 3, 6, 7)."""

import dataclasses
import importlib

import numpy as np
import pytest

from routing.siting import CompartmentSize, SitingInstance, SitingModel, Sizing, make_reach
from routing.siting.errors import SitingInputError
from routing.siting.exact import solve_mip
from routing.siting.flow import max_service, serves_everyone
from routing.siting.formulation import build, sum_at

solve_module = importlib.import_module("routing.siting.solve")
solve = solve_module.solve


def _instance(weight, pairs, fixed, capacity, *, must=None, existing=None, mix=None):
    n, m = len(weight), len(fixed)
    rows, cols, dist = zip(*pairs, strict=True) if pairs else ((), (), ())
    return SitingInstance(
        demand_ids=[f"d{i}" for i in range(n)],
        weight=np.asarray(weight, float),
        site_ids=[f"s{j}" for j in range(m)],
        reach=make_reach(rows, cols, dist, (n, m)),
        fixed_cost=np.asarray(fixed, float),
        capacity=np.asarray(capacity, float),
        must_open=np.zeros(m, dtype=bool) if must is None else np.asarray(must),
        existing_compartments=existing,
        size_mix=None if mix is None else np.asarray(mix, float),
    )


# --- defect 3: a fraction of a parcel served for money -------------------------------------

# one point of 10 parcels a day: site A holds 9.9 for 1, B all 10 for 100
TENTH_SHORT = _instance([10.0], [(0, 0, 1.0), (0, 1, 1.0)], [1.0, 100.0], [9.9, 10.0])
# one point of 2.25 small parcels a day, one site, compartments at 10 turning over daily:
# 2 compartments serve 2.0, and a third the last 0.25
SIZING_TENTHS = Sizing(tuple(CompartmentSize(s, 1, 1, 1, cost=10.0) for s in "SML"), dwell_days=1.0)
QUARTER_SHORT = _instance([2.25], [(0, 0, 1.0)], [1.0], [np.inf], mix=[[1.0, 0.0, 0.0]])
FRACTION_CASES = [
    (TENTH_SHORT, SitingModel("setcover", capacitated=True)),
    (TENTH_SHORT, SitingModel("facility", capacitated=True)),
    (QUARTER_SHORT, SitingModel("setcover", sizing=SIZING_TENTHS)),
    (QUARTER_SHORT, SitingModel("facility", sizing=SIZING_TENTHS)),
]
FRACTION_OPTIMA = [100.0, 110.0, 31.0, 33.25]  # site B alone; the site with 3 compartments


def test_every_parcel_servable_is_certain_to_a_hair_below_the_flows_rounding():
    # a site of 9.9999 parcels for 10: the max flow rounds capacities up to 1/1000 and so
    # serves all 10, a floor of 0 no plan meets; rounded down, the certificate says no
    hair = _instance([10.0], [(0, 0, 1.0)], [1.0], [9.9999])
    model = SitingModel("setcover", capacitated=True)
    every = np.ones(1, dtype=bool)
    assert max_service(hair, model, every)[0] == pytest.approx(10.0)
    assert not serves_everyone(hair, model)
    assert serves_everyone(TENTH_SHORT, model)
    assert serves_everyone(dataclasses.replace(hair, capacity=np.array([10.0])), model)
    # a point reaching no site is not asked for
    far = _instance([10.0, 4.0], [(0, 0, 1.0)], [1.0], [10.0])
    assert serves_everyone(far, model)


@pytest.mark.parametrize(("large", "certain"), [(10.0, True), (11.0, False)])
def test_a_standing_lockers_sizes_are_certified_size_by_size(large, certain):
    # large parcels at a standing locker of 10 small and 10 large compartments: 10 fit its
    # large ones, 11 do not, though there is room for 20 in all. The flow saw only that total,
    # so the certificate said no to both, leaving even the first to the LP; each size a
    # capacity of its own, it says yes to the first, and the MIP held to a floor of 0 agrees
    inst = _instance(
        [large],
        [(0, 0, 0.0)],
        [0.0],
        [np.inf],
        must=[True],
        existing=np.array([[10, 0, 10]]),
        mix=[[0.0, 0.0, 1.0]],
    )
    model = SitingModel("setcover", sizing=Sizing(dwell_days=1.0))
    assert serves_everyone(inst, model) is certain
    res = solve_mip(build(inst, model, floor=0.0), solver="highs", time_limit_s=10)
    assert (res.values is not None) is certain


@pytest.mark.parametrize(("case", "want"), list(zip(FRACTION_CASES, FRACTION_OPTIMA, strict=True)))
def test_a_floor_of_0_serves_every_parcel_where_the_price_traded_a_fraction_for_money(case, want):
    # priced, 0.1 of a parcel unserved cost less than B (0.25 less than a third compartment):
    # no finite price is safe where service moves by fractions. Held to a floor of 0 the MIP
    # serves them all at the brute-force optimum
    inst, model = case
    assert serves_everyone(inst, model)
    mip = build(inst, model, floor=0.0)
    res = solve_mip(mip, solver="highs", time_limit_s=10)
    assert res.optimal
    assert float(mip.obj @ res.values) + mip.offset == pytest.approx(want)
    assert res.values[mip.s] == pytest.approx(0.0, abs=1e-9)


def test_the_fraction_cases_optima_are_the_brute_forces(brute_force, sized_brute_force):
    # the optima above, from the brute force (the first two serve 10 of 10, the last 2.25)
    assert brute_force(TENTH_SHORT, "setcover", capacitated=True) == pytest.approx(100.0)
    assert brute_force(TENTH_SHORT, "facility", capacitated=True) == pytest.approx(110.0)
    for (inst, model), want in zip(FRACTION_CASES[2:], FRACTION_OPTIMA[2:], strict=True):
        assert sized_brute_force(inst, model) == pytest.approx((want, 2.25))


@pytest.mark.parametrize(("case", "want"), list(zip(FRACTION_CASES, FRACTION_OPTIMA, strict=True)))
def test_a_plan_serves_every_parcel_it_can_before_it_saves_money(case, want):
    inst, model = case
    plan = solve(inst, model, method="exact", solver="highs", time_limit_s=10)
    assert plan.unserved_parcels == pytest.approx(0.0, abs=1e-6)
    assert plan.objective == pytest.approx(want) and plan.optimal


# --- defect 6: valid inputs that crashed -----------------------------------------------------

CRASHES = {
    # capacitated maxcover with a budget of 0: the budget's multiplier was scaled by it
    "budget 0": (
        _instance([5, 3], [(0, 0, 1.0), (1, 1, 2.0)], [0, 2], [4, 4]),
        SitingModel("maxcover", budget=0.0, capacitated=True),
        4.0,  # the free site's capacity
    ),
    "sized budget 0": (
        _instance([5, 3], [(0, 0, 1.0), (1, 1, 2.0)], [0, 2], [np.inf, np.inf]),
        SitingModel("maxcover", budget=0.0, sizing=Sizing()),
        0.0,  # compartments cost money
    ),
    # facility location with nothing in reach: a MIP with no rows at all
    "nothing in reach": (
        _instance([2, 3], [], [1, 1], [np.inf, np.inf]),
        SitingModel("facility"),
        0.0,
    ),
    # a sized budget where only a point with no parcels is in reach: no pair has parcels
    "only zero demand in reach": (
        _instance([0, 4], [(0, 0, 1.0)], [1, 1], [np.inf, np.inf]),
        SitingModel("maxcover", budget=5.0, sizing=Sizing()),
        0.0,
    ),
    # a sized p-median with a standing locker and no pair: every parcel at the penalty
    "standing locker, no pairs": (
        _instance(
            [2, 3],
            [],
            [0, 0],
            [np.inf, np.inf],
            must=[True, False],
            existing=np.array([[2, 0, 1], [-1, -1, -1]]),
        ),
        SitingModel("pmedian", p=1, sizing=Sizing(), unserved_penalty=2.0),
        10.0,
    ),
}


@pytest.mark.parametrize("method", ["heuristic", "exact"])
@pytest.mark.parametrize("name", list(CRASHES))
def test_edge_inputs_get_a_plan(name, method):
    inst, model, want = CRASHES[name]
    plan = solve(inst, model, method=method, solver="highs", time_limit_s=5)
    assert plan.objective == pytest.approx(want)
    if method == "exact":
        assert plan.optimal


def test_sums_by_position_are_floats_even_over_nothing():
    # numpy's bincount gives ints for an empty index: `-= float` on them then failed
    empty = sum_at(np.zeros(0, dtype=np.int64), np.zeros(0), 3)
    assert empty.dtype == np.float64 and (empty == 0).all()
    assert sum_at(np.array([0, 2, 0]), np.array([1.5, 2.0, 0.5]), 3).tolist() == [2.0, 0, 2.0]


# --- defect 7: options no plan can mean ------------------------------------------------------

NAN_COSTS = tuple(CompartmentSize(s, 1, 1, 1, cost=float("nan")) for s in "SML")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Sizing(dwell_days=float("inf")), "sizing: dwell_days must be a finite number > 0"),
        (lambda: Sizing(dwell_days=float("nan")), "sizing: dwell_days must be a finite number > 0"),
        (lambda: Sizing(compartments=NAN_COSTS), "compartment 'S': cost must be a finite number"),
        (lambda: Sizing(max_compartments=10.5), "max_compartments must be a whole number >= 1"),
        (
            lambda: SitingModel("pmedian", p=1, unserved_penalty=float("inf")),
            "model 'pmedian': unserved_penalty must be a finite number > 0, got inf",
        ),
        (
            lambda: SitingModel("maxcover", p=1.5),
            "model 'maxcover': p must be a whole number >= 1, got 1.5",
        ),
        (lambda: SitingModel("maxcover", p=True), "p must be a whole number"),
        (lambda: SitingModel("maxcover", budget=float("nan")), "budget must be >= 0, got nan"),
    ],
)
def test_options_no_plan_can_mean_are_refused_by_field(make, message):
    with pytest.raises(SitingInputError, match=message):
        make()


def test_whole_numbers_of_numpy_are_whole():
    assert SitingModel("maxcover", p=np.int64(2)).p == 2
    assert Sizing(max_compartments=np.int64(5)).max_compartments == 5


def test_a_negative_gap_is_refused_before_the_solver_sees_it():
    mip = build(TENTH_SHORT, SitingModel("setcover", capacitated=True), floor=0.0)
    for solver in ("scip", "highs"):
        with pytest.raises(SitingInputError, match="rel_gap must be a finite number >= 0"):
            solve_mip(mip, solver=solver, rel_gap=-1.0)


def test_a_negative_gap_is_refused_whatever_proves_the_plan():
    # a heuristic plan or a relaxation bound never reaches solve_mip's check
    with pytest.raises(SitingInputError, match="rel_gap must be a finite number >= 0"):
        solve(
            TENTH_SHORT, SitingModel("setcover", capacitated=True), method="heuristic", rel_gap=-1.0
        )
