"""The Shapley splits keep within a time limit: exact only where it fits, sampled otherwise."""

import importlib
import itertools
import sys
from types import SimpleNamespace

import pytest
import yaml

from api.cli.main import run
from api.jobs.runner import expected_seconds
from routing.pooling.compare import PlanSolver, SolveSettings, compare_day
from routing.pooling.day import parse_day
from routing.pooling.errors import PoolingError
from routing.pooling.shapley import sampled_shapley, shapley
from routing.pooling.travel import day_travel

shapley_module = importlib.import_module("routing.pooling.shapley")  # the function shadows it


def _airport(costs: dict[str, float]):
    return lambda s: max((costs[p] for p in s), default=0.0)


@pytest.fixture
def clock(monkeypatch):
    """A clock that moves one second at each coalition cost asked for: time is spent solving."""
    now = itertools.count()
    ticks = [0.0]
    monkeypatch.setattr(shapley_module, "time", SimpleNamespace(perf_counter=lambda: ticks[0]))

    def cost_of(costs):
        value = _airport(costs)

        def cost(s):
            ticks[0] = float(next(now))
            return value(s)

        return cost

    return cost_of


def test_sampling_stops_once_its_time_is_up(clock):
    costs = {c: float(i) for i, c in enumerate("abcdefgh", start=1)}
    # each pair of orders asks 2 x 8 coalitions (16 s): 40 s is up during the third pair
    result = sampled_shapley(list(costs), clock(costs), permutations=100, time_limit_s=40)
    assert result.stopped_by == "time_limit"
    assert result.permutations == 6
    assert sum(result.shares.values()) == pytest.approx(8.0)


def test_sampling_takes_two_pairs_even_with_no_time_left(clock):
    costs = {c: float(i) for i, c in enumerate("abcdef", start=1)}
    result = sampled_shapley(list(costs), clock(costs), permutations=100, time_limit_s=0)
    assert (result.stopped_by, result.permutations) == ("time_limit", 4)


def test_sampling_says_what_stopped_it():
    costs = {c: float(i) for i, c in enumerate("abcdef", start=1)}
    assert sampled_shapley(list(costs), _airport(costs), permutations=8).stopped_by == (
        "permutations"
    )
    assert shapley(list(costs), _airport(costs)).stopped_by is None  # exact
    with pytest.raises(PoolingError, match="time_limit_s"):
        sampled_shapley(list(costs), _airport(costs), time_limit_s=-1)


@pytest.fixture
def four_firms(day_data) -> dict:
    """The two-firm day with two more firms, each with two of the tower's parcels."""
    for name in ("zto", "ems"):
        day_data["firms"].append(dict(day_data["firms"][0], id=name))
        day_data["parcels"] += [
            dict(p, id=f"{name}-{p['id']}", firm=name) for p in day_data["parcels"][:2]
        ]
    return day_data


def _settings(**options) -> SolveSettings:
    options = {"centre_retry": False, **options}
    return SolveSettings(
        engine="ortools", time_limit_s=0.4, coalition_time_limit_s=0.4, min_time_limit_s=0.1,
        permutations=20, shapley_plans=("pooled",), **options,
    )  # fmt: skip


def test_a_split_whose_exact_value_does_not_fit_is_sampled_and_says_so(four_firms):
    day = parse_day(four_firms)
    # exact needs the 14 coalitions short of all four firms, 0.1-0.3 s each: not in 0.5 s
    result = compare_day(day, day_travel(day), _settings(split_time_limit_s=0.5))
    split = result.splits["pooled"]
    assert split.shapley.method == "sampled"
    assert split.shapley.stopped_by == "time_limit"
    assert split.shapley.permutations < 20
    assert sum(split.shapley.shares.values()) == pytest.approx(split.cost)
    # the km and CO2 shares reuse the cost split's orders: no solve beyond its coalitions (4
    # solo plans, 2 pooled ones, whose all-firms plan is the grand coalition's)
    assert result.solves == 4 + 2 + len(split.shapley.coalitions) - 1
    assert any("sampled" in w and "split time limit" in w for w in result.warnings())
    summary = result.summary()["splits"]["pooled"]
    assert (summary["method"], summary["stopped_by"]) == ("sampled", "time_limit")


def test_a_split_that_fits_its_time_limit_is_exact(four_firms):
    day = parse_day(four_firms)
    result = compare_day(day, day_travel(day), _settings(split_time_limit_s=600))
    split = result.splits["pooled"]
    assert (split.shapley.method, split.shapley.stopped_by) == ("exact", None)
    assert len(split.shapley.coalitions) == 15
    assert not any("split time limit" in w for w in result.warnings())


def test_a_pool_jobs_progress_counts_time_when_its_splits_have_a_limit():
    assert expected_seconds(SolveSettings(time_limit_s=5, split_time_limit_s=300)) == 315
    assert expected_seconds(SolveSettings()) == float("inf")


def test_the_cli_refuses_a_negative_split_time_limit(tmp_path, monkeypatch, capsys, day_data):
    day = tmp_path / "day.yaml"
    day.write_text(yaml.safe_dump(day_data))
    argv = ["gongpei", "pool", str(day), "-o", str(tmp_path / "out"), "--split-time-limit", "-1"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as stop:
        run()
    assert stop.value.code == 2
    assert "--split-time-limit" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_pool_run_and_a_scenario_default_to_a_split_time_limit():
    from api.scenario.schema import RunSpec
    from api.schemas.pooling import PoolSubmit

    assert PoolSubmit(day={}).split_time_limit_s == 300
    assert RunSpec().split_time_limit_s == 300
    assert RunSpec(split_time_limit_s=None).split_time_limit_s is None


def test_a_firm_without_parcels_adds_no_coalition_to_the_estimate(day_data):
    """Its coalitions are its members' with parcels: the estimate looked it up and crashed."""
    day_data["firms"].append(dict(day_data["firms"][0], id="idle"))
    day = parse_day(day_data)
    result = compare_day(day, day_travel(day), _settings(split_time_limit_s=300))
    assert result.splits["pooled"].shapley.shares["idle"] == pytest.approx(0.0, abs=1e-9)


def test_the_estimate_counts_the_centre_retries_where_they_can_happen(four_firms):
    """With several centres and a line haul, a coalition may be solved three times."""
    one = PlanSolver(parse_day(four_firms), None, _settings(split_time_limit_s=1))
    four_firms["centres"].append(dict(four_firms["centres"][0], id="hub-2"))
    retried = _settings(split_time_limit_s=1, centre_retry=True)
    two = PlanSolver(parse_day(four_firms), None, retried)
    assert two.exact_split_seconds("pooled") == pytest.approx(
        3 * one.exact_split_seconds("pooled")
    )


def test_a_pool_run_may_ask_for_no_split_time_limit():
    from api.schemas.pooling import PoolSubmit

    assert PoolSubmit(day={}, split_time_limit_s=None).split_time_limit_s is None
