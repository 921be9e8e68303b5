"""Sampled Shapley that has visited every coalition is exact, a time limit is sampled for from 5
firms on, and a split that runs past its share of the split time limit says so."""

import importlib
import itertools
from types import SimpleNamespace

import pytest

from routing.pooling.compare import PlanSplit, SolveSettings, _late_split, compare_day
from routing.pooling.day import parse_day
from routing.pooling.shapley import exact_shapley, shapley
from routing.pooling.travel import day_travel

shapley_module = importlib.import_module("routing.pooling.shapley")  # the function shadows it

_THREE = {"a": 10, "b": 20, "c": 30, "ab": 25, "ac": 32, "bc": 40, "abc": 45}


def _three(coalition):
    return _THREE["".join(sorted(coalition))] if coalition else 0.0


def test_sampling_that_visited_every_coalition_gives_the_exact_value():
    # seed 0's two pairs of orders visit all 7 coalitions; seed 5's only 5
    every = shapley("abc", _three, exact_max_players=0, permutations=4, seed=0)
    assert len(every.coalitions) == 7
    assert (every.method, every.stopped_by) == ("exact", None)
    assert every.shares == pytest.approx(exact_shapley("abc", _three))
    assert set(every.ci_halfwidth.values()) == {0.0}
    some = shapley("abc", _three, exact_max_players=0, permutations=4, seed=5)
    assert len(some.coalitions) < 7 and some.method == "sampled"


@pytest.fixture
def clock(monkeypatch):
    """A clock that moves one second at each coalition cost asked for."""
    now = itertools.count()
    monkeypatch.setattr(
        shapley_module, "time", SimpleNamespace(perf_counter=lambda: float(next(now)))
    )


def test_a_time_limit_is_sampled_for_from_five_players_on(clock):
    five = {c: float(i) for i, c in enumerate("abcde", start=1)}

    def airport(s):
        return max((five[p] for p in s), default=0.0)

    # 200 permutations would cover every order of 5 (60 pairs), but the time is up at once:
    # two pairs, at most 17 of the 31 coalitions
    limited = shapley(list(five), airport, exact_max_players=0, permutations=200, time_limit_s=0)
    assert (limited.method, limited.permutations, limited.stopped_by) == (
        "sampled", 4, "time_limit"
    )  # fmt: skip
    assert len(limited.coalitions) <= 17
    # without a limit, as many orders as there are cost what exact does: exact
    assert shapley(list(five), airport, exact_max_players=0, permutations=200).method == "exact"
    # up to 4 players the least sampling needs about every coalition: exact under a limit too
    four = shapley("abcd", airport, exact_max_players=0, time_limit_s=0)
    assert (four.method, len(four.coalitions)) == ("exact", 15)


def test_a_split_past_its_share_of_the_time_limit_says_so(day_data):
    day_data["firms"].append(dict(day_data["firms"][0], id="ems"))
    two = day_data["parcels"][:2]
    day_data["parcels"] += [dict(p, id=f"ems-{p['id']}", firm="ems") for p in two]
    day = parse_day(day_data)
    settings = SolveSettings(
        engine="ortools", time_limit_s=0.4, coalition_time_limit_s=0.4, min_time_limit_s=0.1,
        shapley_plans=("pooled",), centre_retry=False, split_time_limit_s=0.01,
    )  # fmt: skip
    result = compare_day(day, day_travel(day), settings, locker_drops=False)
    split = result.splits["pooled"].shapley
    assert (split.method, split.stopped_by) == ("exact", None)  # few firms: see above
    (late,) = [w for w in result.warnings() if "split time limit" in w]
    assert late.startswith(f"pooled: the Shapley split took {split.seconds:.2f} s, past its 0.01 s")
    assert "it is exact, as sampling so few firms' orders" in late


def test_a_late_split_of_five_firms_made_exact_by_its_orders_says_why(clock):
    """It was explained by the rule for up to 4 firms ("sampling so few firms' orders ...
    needs about every coalition anyway"), which is not why 5 firms' split was exact."""

    def cost(s):
        return 10.0 * len(s) ** 0.5 if s else 0.0

    result = shapley(list("abcde"), cost, exact_max_players=0, permutations=200, time_limit_s=25)
    assert (result.method, len(result.coalitions)) == ("exact", 31)
    split = PlanSplit(
        kind="pooled", cost=result.grand_cost, shapley=result, by_parcels={},
        by_standalone=None, blocking=[], time_limit_s=25.0, exact_fits=False,
    )  # fmt: skip
    warning = _late_split(split)
    assert warning is not None and "so few firms" not in warning
    assert warning.endswith("those orders met every coalition, so the split is exact")
