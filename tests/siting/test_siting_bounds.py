"""The bounds that prove gaps without the MIP are valid, and the flow assignment is optimal."""

import importlib
from itertools import combinations

import numpy as np
import pytest

from routing.siting import SitingModel, solve
from routing.siting.flow import capacity_bound, flow_assignment
from routing.siting.lagrange import pmedian_bound
from routing.siting.solution import SitingSolution

SEEDS = [11, 12, 13, 14]
solve_module = importlib.import_module("routing.siting.solve")


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


def test_large_pmedian_path_reports_a_valid_gap(tiny_instance, brute_force, monkeypatch):
    # Force the "large instance" path (Lagrangian bound before the MIP) on a tiny case.
    monkeypatch.setattr(solve_module, "LAGRANGE_ROWS", 0)
    inst = tiny_instance(21)
    model = SitingModel("pmedian", p=2, unserved_penalty=25.0)
    plan = solve(inst, model, time_limit_s=10)
    best = brute_force(inst, "pmedian", p=2, penalty=25.0)
    assert plan.bound <= best + 1e-6 <= plan.objective + 2e-6
    assert plan.optimal and plan.objective == pytest.approx(best)
