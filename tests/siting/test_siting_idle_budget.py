"""A money budget that cannot bind (every candidate free, or more than every site costs) is
dropped with a warning: it changed no plan, yet turned the fast paths off, and a user who meant
"3 lockers" (p) was told nothing."""

from __future__ import annotations

import logging

import pytest

from routing.siting import SitingModel, solve
from routing.siting.model import Sizing
from routing.siting.points import Candidate, DemandPoint, instance_from_points

LAT, LON = 36.067, 120.383
M = 1 / 111_320  # about one metre of latitude, in degrees


def _instance(cost: float):
    demand = [DemandPoint(f"d{k}", LAT + 200 * k * M, LON, 5 + k) for k in range(4)]
    sites = [Candidate(f"s{k}", LAT + 300 * k * M, LON, fixed_cost=cost) for k in range(3)]
    return instance_from_points(demand, sites, radius_m=400, straight_line=True)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "gongpei.siting"]


def test_a_budget_on_free_sites_is_dropped_with_a_warning(caplog) -> None:
    inst = _instance(0.0)
    with caplog.at_level(logging.WARNING, logger="gongpei.siting"):
        plan = solve(inst, SitingModel("pmedian", p=2, budget=3))
    dropped = (
        "model 'pmedian': budget 3 is ignored: it cannot bind, as every candidate site is free "
        "(no fixed cost)"  # p is given: no hint to give one
    )
    # with the plan too: an API caller's siting run sees no log
    assert _warnings(caplog) == [dropped] == plan.to_dict()["warnings"]
    assert plan.model.budget is None
    assert plan.objective == pytest.approx(solve(inst, SitingModel("pmedian", p=2)).objective)
    # a maxcover held by the budget alone may open every site
    with caplog.at_level(logging.WARNING, logger="gongpei.siting"):
        cover = solve(inst, SitingModel("maxcover", budget=0))
    assert (cover.model.budget, cover.model.p) == (None, 3)
    assert cover.warnings[0].endswith("(p sets a number of lockers)")
    assert cover.summary()["coverage"] == 1.0


def test_a_budget_that_binds_or_could_is_kept_and_one_past_every_cost_is_not(caplog) -> None:
    inst = _instance(10.0)  # three sites at 10 each
    with caplog.at_level(logging.WARNING, logger="gongpei.siting"):
        tight = solve(inst, SitingModel("maxcover", budget=10))
        loose = solve(inst, SitingModel("maxcover", budget=29.9))
        assert _warnings(caplog) == []
        past = solve(inst, SitingModel("maxcover", budget=30))
    assert tight.model.budget == 10 and tight.is_open.sum() == 1
    assert loose.model.budget == 29.9
    assert past.model.budget is None
    assert _warnings(caplog) == [
        "model 'maxcover': budget 30 is ignored: it cannot bind, as opening every candidate "
        "site costs at most 30 (p sets a number of lockers)"
    ]
    # compartments have a price: a budget on free sites may bind then
    sized = SitingModel("maxcover", budget=5, sizing=Sizing())
    assert sized.most_spent(_instance(0.0)) > 5
