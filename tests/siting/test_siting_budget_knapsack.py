"""Capacitated covering under a money budget: the knapsack bound opens sites whole.

The LP relaxation (and the Lagrangian, which reaches it at best) opens a fraction of a dear
site: on the demo map a plan of three sites at 20,000 each (240 parcels a day, optimal) was
reported at 6.5 % against it, and SCIP's own bound did not move in 120 s. The knapsack bound
(``routing.siting.knapsack``) must stay above every optimum (brute force), and prove that plan.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest

from routing.siting import SitingInstance, SitingModel, Sizing, make_reach, solve
from routing.siting.by_size import split_by_size
from routing.siting.exact import solve_mip
from routing.siting.formulation import build
from routing.siting.knapsack import knapsack_bound
from routing.siting.model import DEFAULT_COMPARTMENTS, NOT_BUILT

SEEDS = [11, 12, 13, 14]


def _bound(inst: SitingInstance, model: SitingModel) -> float:
    return knapsack_bound(inst, model, time_limit_s=10.0, rel_gap=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("budget", [2500.0, 6000.0, 9000.0, 16000.0])
@pytest.mark.parametrize("p", [None, 2])
def test_the_sized_knapsack_bound_is_above_the_optimum(
    tiny_mixed_instance, sized_brute_force, seed, budget, p
):
    # 6 sites at 2,000, compartments of 300/400/550 turning over a parcel a day, 20 a site
    inst = tiny_mixed_instance(seed)
    sizing = Sizing(DEFAULT_COMPARTMENTS, dwell_days=1.0, max_compartments=20)
    model = SitingModel("maxcover", p=p, budget=budget, sizing=sizing)
    best, _ = sized_brute_force(inst, model)
    assert _bound(inst, model) >= best - 1e-6


@pytest.mark.parametrize("seed", SEEDS)
def test_the_sized_knapsack_bound_counts_dear_compartments_first(
    tiny_mixed_instance, sized_brute_force, seed
):
    # larger compartments cheaper than smaller ones: small parcels may take them
    inst = tiny_mixed_instance(seed)
    prices = {"S": 550.0, "M": 400.0, "L": 300.0}
    sizes = tuple(dataclasses.replace(c, cost=prices[c.name]) for c in DEFAULT_COMPARTMENTS)
    model = SitingModel("maxcover", budget=7000.0, sizing=Sizing(sizes, 1.0, 20))
    best, _ = sized_brute_force(inst, model)
    assert _bound(inst, model) >= best - 1e-6


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("budget", [4.0, 9.0])
@pytest.mark.parametrize("p", [None, 2])
def test_the_knapsack_bound_with_fixed_capacities_is_above_the_optimum(
    tiny_instance, brute_force, seed, budget, p
):
    inst = tiny_instance(seed, n=10, density=0.6, capacity=np.full(6, 9.0))
    model = SitingModel("maxcover", p=p, budget=budget, capacitated=True)
    best = brute_force(inst, "maxcover", p=p, budget=budget, capacitated=True)
    assert _bound(inst, model) >= best - 1e-6


def _alike_sites(n: int = 40, m: int = 30) -> SitingInstance:
    """Every one of ``n`` points (10 parcels a day) reaches each of ``m`` alike sites costing
    20,000: a sized locker takes 80 parcels a day (120 compartments at a dwell of 1.5 days)."""
    rows, cols = np.divmod(np.arange(n * m), m)
    return SitingInstance(
        demand_ids=[f"d{i}" for i in range(n)],
        weight=np.full(n, 10.0),
        site_ids=[f"s{j}" for j in range(m)],
        reach=make_reach(rows, cols, (rows + cols) % 7 * 50.0, (n, m)),
        fixed_cost=np.full(m, 20000.0),
        capacity=np.full(m, np.inf),
        must_open=np.zeros(m, dtype=bool),
    )


def test_three_whole_sites_are_proven_optimal_where_the_lp_opens_more() -> None:
    # 200,000 buys 3 sites and 240 parcels' compartments (6:3:1 at 300/400/550, 532.5 a
    # parcel); a 4th site leaves 120,000 for 225 parcels. The LP opens 3.2 sites: 255.6.
    model = SitingModel("maxcover", budget=200_000.0, sizing=Sizing(dwell_days=1.5))
    plan = solve(_alike_sites(), model, time_limit_s=5)
    assert plan.objective == pytest.approx(240.0)
    assert plan.optimal and plan.gap <= 1e-6
    assert plan.bound == pytest.approx(240.0)


def test_a_must_open_site_is_paid_for_in_the_knapsack_bound() -> None:
    # the same with two sites that must stay open: they take 40,000 of the budget, which
    # still buys 3 sites' worth (the two, one more); their loads count only as served
    inst = dataclasses.replace(_alike_sites(), must_open=np.arange(30) < 2)
    model = SitingModel("maxcover", budget=200_000.0, sizing=Sizing(dwell_days=1.5))
    assert _bound(inst, model) == pytest.approx(240.0)
    cheap = SitingModel("maxcover", budget=50_000.0, sizing=Sizing(dwell_days=1.5))
    # 40,000 for the two, 10,000 of compartments: 18.8 parcels at most
    assert _bound(inst, cheap) <= 10_000 / 532.5 + 1e-6


@pytest.mark.parametrize("seed", SEEDS)
def test_the_knapsack_bound_with_standing_lockers_is_above_the_mips_optimum(
    tiny_mixed_instance, seed
):
    # two standing lockers (must stay open, their compartments free, each size its own room),
    # on the instance that ``solve`` plans (points in their reach split by size), against the
    # full sized MIP's optimum proven by HiGHS
    inst = tiny_mixed_instance(seed)
    existing = np.full((6, 3), NOT_BUILT)
    existing[:2] = [[6, 2, 0], [2, 2, 2]]
    inst = dataclasses.replace(
        inst, must_open=np.arange(6) < 2, existing_compartments=existing
    )
    sizing = Sizing(DEFAULT_COMPARTMENTS, dwell_days=1.0, max_compartments=20)
    model = SitingModel("maxcover", budget=9000.0, sizing=sizing)
    split, _ = split_by_size(inst, model)
    best = solve_mip(build(split, model), solver="highs", time_limit_s=30, rel_gap=1e-9)
    assert best.optimal
    assert _bound(split, model) >= best.objective - 1e-6


def test_a_budget_spent_on_compartments_is_not_said_to_be_ignored(caplog) -> None:
    # free sites: the budget buys compartments alone (20,000: 37.3 parcels a day). The bound
    # from covering without capacities solved it without compartments, where it cannot bind,
    # and that inner solve warned "budget 20000 is ignored" of a plan spending all of it
    inst = dataclasses.replace(_alike_sites(), fixed_cost=np.zeros(30))
    model = SitingModel("maxcover", budget=20_000.0, sizing=Sizing(dwell_days=1.5))
    with caplog.at_level(logging.WARNING, logger="gongpei.siting"):
        plan = solve(inst, model, time_limit_s=5)
    assert plan.optimal and plan.objective == pytest.approx(37.0 + 1 / 3)
    assert "is ignored" not in caplog.text
