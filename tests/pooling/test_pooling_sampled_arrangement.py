"""A sampled split weighs every firm pooled but one: the audit's six-firm day, where the one
firm whose line haul makes pooling it dear is best left alone, is no longer "all pooled" only
because its sampled orders never met the group without that firm."""

import copy
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from routing.pooling.compare import (
    FirmFigures,
    SolveSettings,
    _split,
    _unproven_arrangement,
    compare_day,
    describe_arrangement,
)
from routing.pooling.day import parse_day
from routing.pooling.figures import Figures
from routing.pooling.travel import day_travel

EXAMPLE = Path(__file__).parents[2] / "routing" / "pooling" / "examples" / "far-firm.yaml"
FIRMS = ["f1", "f2", "f3", "f4", "f5", "f6"]


def _cost(coalition: frozenset[str]) -> float:
    """10 alone; f2..f6 pool at 6 + 5 each; f1 adds 12 to any pool (its dear line haul): all
    six pooled cost 43, f2..f6 pooled and f1 alone 41, any other group plus firms alone more."""
    others = len(coalition - {"f1"})
    pooled = (6.0 + 5.0 * others if others else 0.0) + (12.0 if others else 10.0) * (
        "f1" in coalition
    )
    return min(pooled, 10.0 * len(coalition))


def _solver(asked: list[frozenset[str]], **settings: float) -> SimpleNamespace:
    def cost(kind: str, coalition: frozenset[str]) -> float:
        asked.append(coalition)
        return _cost(coalition)

    return SimpleNamespace(
        # 4 orders of seed 0 never meet f2..f6 together
        settings=SolveSettings(exact_max_firms=0, permutations=4, seed=0, **settings),
        coalition_cost=cost,
        coalition_figures=lambda kind, s: Figures(cost=_cost(s)),
        coalition_pools=lambda kind, s: _cost(s) < 10.0 * len(s),
        pooled_by_firm=lambda kind, s: FirmFigures(),
        solo=lambda firm: SimpleNamespace(figures=Figures(cost=10.0)),
        exact_split_seconds=lambda kind: float("inf"),
    )


def _split_of(solver: SimpleNamespace, **kwargs: float):
    return _split(
        solver, "pooled", dict.fromkeys(FIRMS, 10.0), dict.fromkeys(FIRMS, 1.0), **kwargs
    )


def test_a_sampled_split_finds_the_firm_best_left_alone():
    asked: list[frozenset[str]] = []
    split = _split_of(_solver(asked))
    assert split.shapley.method == "sampled"
    # it came out every firm pooled (43) before: the orders never met f2..f6 (41 with f1 alone)
    assert frozenset(FIRMS) - {"f1"} in asked
    assert split.cost == pytest.approx(41.0) and not split.all_pooled
    assert describe_arrangement(split.arrangement) == "f2+f3+f4+f5+f6 pooled, f1 on its own"
    assert split.shapley.shares["f1"] == pytest.approx(10.0)  # what it costs alone
    assert sum(split.shapley.shares.values()) == pytest.approx(41.0)
    for firm in FIRMS:  # every firm pooled but one is among the coalitions reported
        assert frozenset(FIRMS) - {firm} in split.shapley.coalitions
    warned = _unproven_arrangement("pooled", split, FIRMS)
    assert "not proven the cheapest" in warned and "left unsolved" not in warned
    assert "f2+f3+f4+f5+f6 pooled, f1 on its own" in warned


def test_without_time_left_the_warning_names_what_was_not_weighed():
    asked: list[frozenset[str]] = []
    split = _split_of(_solver(asked), time_limit_s=0.0)  # sampled as little as it can
    assert split.shapley.method == "sampled" and split.all_pooled  # f2..f6 never solved
    assert frozenset(FIRMS) - {"f1"} not in asked
    warned = _unproven_arrangement("pooled", split, FIRMS)
    assert warned.startswith("pooled: the split was sampled, so its best arrangement ")
    assert "left unsolved every firm pooled but one of f1" in warned


def test_a_sampled_days_summary_says_its_arrangement_is_not_proven_the_cheapest():
    data = yaml.safe_load(EXAMPLE.read_text())  # far-firm, with a third near firm: 4 firms
    near = {**copy.deepcopy(data["firms"][0]), "id": "near-c"}
    data["firms"].insert(2, near)
    data["parcels"] += [
        {"id": f"c-{j}", "firm": "near-c", "at": [36.0660 + 0.0003 * j, 120.3804]}
        for j in range(2)
    ]
    day = parse_day(data)
    settings = SolveSettings(engine="ortools", time_limit_s=0.4, coalition_time_limit_s=0.3,
                             min_time_limit_s=0.2, exact_max_firms=0, permutations=4)  # fmt: skip
    result = compare_day(day, day_travel(day), settings, locker_drops=False)
    summary = result.summary()
    assert summary["splits"]["pooled"]["method"] == "sampled"
    best = summary["best_arrangement"]["pooled"]
    assert not best["exact"] and not best["all_pooled"]
    assert [g["firms"] for g in best["groups"]] == [["near-a", "near-b", "near-c"], ["far"]]
    warned = [w for w in summary["warnings"] if "not proven the cheapest" in w]
    assert len(warned) == 1 and warned[0].startswith("pooled: the split was sampled")
    assert "left unsolved" not in warned[0]  # every firm pooled but one was solved
    rows = {r["firm"]: r for r in summary["firms_table"]}
    assert rows["far"]["pooled_on_its_own"] and rows["far"]["pooled_transfer_cost"] == 0
