"""Regressions from the pooling audit: the split (null player, zero-cost day, one core tolerance)
and what the outputs say of parcels left undelivered (locker counts, the unserved list)."""

import csv
import json
from dataclasses import replace
from itertools import combinations
from types import SimpleNamespace

import numpy as np
import pytest

from routing.pooling.allocation import (
    CORE_TOLERANCE,
    core_violations,
    least_core,
    proportional_split_or_none,
)
from routing.pooling.compare import FirmFigures, SolveSettings, _split, _split_json, compare_day
from routing.pooling.day import parse_day
from routing.pooling.figures import Figures, savings
from routing.pooling.output import write_outputs
from routing.pooling.shapley import exact_shapley
from routing.pooling.travel import day_travel

FAST = SolveSettings(
    engine="ortools", time_limit_s=0.5, coalition_time_limit_s=0.4, min_time_limit_s=0.2
)
POOLED_ONLY = replace(FAST, shapley_plans=("pooled",))
#: A locker stop longer than the vans' 10-hour shift: the drop cannot be made, door parcels can.
ENDLESS_LOCKER_STOP = {"base_s": 11 * 3600}


def compared(data, settings=FAST, *, locker_drops=True):
    day = parse_day(data)
    return compare_day(day, day_travel(day), settings, locker_drops=locker_drops)


# D1: a firm without parcels is a null player, also where pooling is dearer than alone.


def test_an_idle_firm_pays_nothing_where_pooling_is_dearer(day_data):
    day_data["firms"].append({"id": "idle", "depot": [36.0850, 120.4000], "fleet": [{"count": 1}]})
    day_data["transfer"] = {"fixed_cost": 200}  # each line haul costs more than a firm alone
    result = compared(day_data, POOLED_ONLY, locker_drops=False)
    solo = sum(plan.figures.cost for plan in result.solo.values())
    assert result.pooled.figures.cost > solo  # the case where the other coalitions are capped
    split = result.splits["pooled"]
    assert split.shapley.shares["idle"] == pytest.approx(0.0, abs=1e-9)
    for shares in split.figure_shares.values():
        assert shares["idle"] == pytest.approx(0.0, abs=1e-9)
    # the same parcels have the same value with or without the idle firm
    values = split.shapley.coalitions
    for coalition, value in values.items():
        if "idle" in coalition and len(coalition) > 1:
            assert value == pytest.approx(values[coalition - {"idle"}])
    # and the split divides the day's best arrangement, here each firm with parcels alone
    # (it divided the pooled plan, dearer than that), in whose groups the idle firm is not
    assert split.cost == pytest.approx(solo) and not split.all_pooled
    assert sum(split.shapley.shares.values()) == pytest.approx(solo)
    assert sorted(g.firms for g in split.arrangement) == [("sf",), ("yto",)]
    row = {r["firm"]: r for r in result.firm_rows()}["idle"]
    assert row["pooled_shapley"] == 0 and row["pooled_saving"] == 0


# D2 and D4: a locker drop no van can make delivers nothing, and the outputs name what is left.


@pytest.fixture(scope="module")
def drop_left_out(new_day):
    """The tower day with a locker stop no shift can hold, and the XL parcel (door in every
    plan) due within ten seconds of eight o'clock, which no van can meet."""
    data = new_day()
    data["locker_stop"] = ENDLESS_LOCKER_STOP
    data["parcels"][5]["window"] = [8 * 3600, 8 * 3600 + 10]  # yto-3
    return compared(data, replace(FAST, shapley_plans=()))


def test_parcels_in_a_locker_drop_left_out_are_not_counted_in_lockers(drop_left_out):
    plan = drop_left_out.lockers
    assert plan.built.lockers.locker_of()  # the assignment put parcels into the locker...
    assert plan.figures.parcels_in_lockers == 0  # ...but no van brought them there
    rows = drop_left_out.firm_rows()
    assert [r["parcels_in_lockers"] for r in rows] == [0, 0]
    lockers = drop_left_out.summary()["lockers"]
    assert lockers["drops"] == []
    assert sorted(lockers["undelivered"]) == ["sf-1", "sf-2", "sf-3", "yto-1", "yto-2"]


def test_the_outputs_name_each_undelivered_parcel_with_its_reason(drop_left_out, tmp_path):
    files = write_outputs(drop_left_out, tmp_path)
    summary = json.loads(files["summary"].read_text())
    unserved = summary["unserved"]
    assert set(unserved) == {"solo", "pooled", "lockers"}
    for plan in ("solo", "pooled"):
        (entry,) = unserved[plan]
        assert entry["firm"] == "yto" and entry["parcel"] == entry["job"] == "yto-3"
        assert "time window" in entry["reason"]
    in_lockers = {e["parcel"]: e for e in unserved["lockers"]}
    assert sorted(in_lockers) == ["sf-1", "sf-2", "sf-3", "yto-1", "yto-2", "yto-3"]
    drop_job = in_lockers["sf-1"]["job"]
    assert drop_job != "sf-1" and in_lockers["yto-2"]["job"] == drop_job
    assert "shift" in in_lockers["sf-1"]["reason"]
    # the counts in the firms' table agree with the list
    for row in summary["firms_table"]:
        for plan in ("pooled", "lockers"):
            named = [e for e in unserved[plan] if e["firm"] == row["firm"]]
            assert row[f"{plan}_unserved"] == len(named)
    with files["unserved"].open(newline="", encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    assert [(r["plan"], r["parcel"]) for r in lines] == [
        (plan, e["parcel"]) for plan, entries in unserved.items() for e in entries
    ]
    assert all(r["reason"] for r in lines)


def test_a_day_that_delivers_everything_lists_nothing_unserved(new_day, tmp_path):
    result = compared(new_day(), replace(FAST, shapley_plans=()), locker_drops=False)
    files = write_outputs(result, tmp_path)
    assert json.loads(files["summary"].read_text())["unserved"] == {"solo": [], "pooled": []}
    assert files["unserved"].read_text().splitlines() == ["plan,firm,parcel,job,reason"]


# D5: a day on which nothing costs anything still gets its outputs.


def test_a_zero_cost_day_marks_the_standalone_split_undefined(day_data, tmp_path):
    for fleet in [f["fleet"] for f in day_data["firms"]] + [day_data["centres"][0]["fleet"]]:
        for entry in fleet:
            entry.update(fixed_cost=0, cost_per_km=0, cost_per_hour=0)
    day_data["transfer"] = None
    result = compared(day_data, POOLED_ONLY, locker_drops=False)
    split = result.splits["pooled"]
    assert split.by_standalone is None and "by_standalone" not in split.blocking_simple
    assert split.by_parcels == {"sf": 0.0, "yto": 0.0}
    assert any("standalone" in w for w in result.warnings())
    files = write_outputs(result, tmp_path)
    summary = json.loads(files["summary"].read_text())
    assert summary["splits"]["pooled"]["by_standalone"] is None
    assert summary["splits"]["pooled"]["shapley"] == {"sf": 0.0, "yto": 0.0}
    assert [r["pooled_by_standalone"] for r in summary["firms_table"]] == [None, None]
    assert files["chart"].stat().st_size > 0


def test_proportional_split_or_none():
    assert proportional_split_or_none(5.0, {"a": 0, "b": 0.0}) is None
    assert proportional_split_or_none(6.0, {"a": 1, "b": 2}) == {"a": 2.0, "b": 4.0}


# D10: "the split is in the core" and "the core is empty" judge by one tolerance.


def _game(pair: float) -> dict[frozenset[str], float]:
    """Three firms: 10 each alone, ``pair`` any two, 20 all three."""
    players = "abc"
    return {
        frozenset(s): {1: 10.0, 2: pair, 3: 20.0}[size]
        for size in (1, 2, 3)
        for s in combinations(players, size)
    }


def test_a_core_empty_by_less_than_the_tolerance_is_not_called_empty():
    # pairs cap the sum at 19.95 < 20, by a quarter of a percent: within the tolerance
    costs = _game(13.3)
    shares = exact_shapley(list("abc"), costs.__getitem__)
    assert core_violations(shares, costs) == []
    found = least_core(list("abc"), costs)
    assert not found.core_is_empty
    assert 0 < found.relative_excess < CORE_TOLERANCE
    assert core_violations(found.shares, costs) == []


def test_a_core_empty_beyond_the_tolerance_blocks_every_split():
    costs = _game(13.2)  # the pairs cap the sum at 19.8, 1 % short of 20
    shares = exact_shapley(list("abc"), costs.__getitem__)
    assert core_violations(shares, costs)
    found = least_core(list("abc"), costs)
    assert found.core_is_empty and found.excess > 0
    assert core_violations(found.shares, costs)


@pytest.mark.parametrize("pair", [13.3, 13.2])
def test_the_summary_never_says_in_core_and_core_empty_at_once(pair):
    """The audit's game through the split the summary reports (coalition costs stubbed)."""
    costs = _game(pair)
    solver = SimpleNamespace(
        settings=SolveSettings(),
        coalition_cost=lambda kind, s: costs[s],
        coalition_figures=lambda kind, s: Figures(cost=costs[s], vehicle_km=len(s)),
        coalition_pools=lambda kind, s: True,
        pooled_by_firm=lambda kind, s: FirmFigures(),
    )
    split = _split_json(
        _split(solver, "pooled", {p: 10.0 for p in "abc"}, dict.fromkeys("abc", 1.0))
    )
    assert split["in_core"] is not split["core_empty"]
    assert split["in_core"] is (pair == 13.3)


def test_the_two_core_verdicts_never_contradict_each_other():
    rng = np.random.default_rng(3)
    for _ in range(150):
        players = list("abcd"[: rng.integers(2, 5)])
        alone = {p: float(rng.uniform(5, 50)) for p in players}
        costs = {}
        for size in range(1, len(players) + 1):
            for s in combinations(players, size):
                saving = rng.uniform(0.0, 0.4) if size > 1 else 0.0
                costs[frozenset(s)] = sum(alone[p] for p in s) * (1 - saving)
        shares = exact_shapley(players, costs.__getitem__)
        found = least_core(players, costs)
        if not core_violations(shares, costs):
            assert not found.core_is_empty
        if found.core_is_empty:
            assert core_violations(shares, costs)
        else:
            assert core_violations(found.shares, costs) == []


def test_a_saving_that_rounds_to_nothing_is_zero_not_minus_zero():
    """Driver hours of 1.0 against 1.0 plus a float's crumb wrote `"saved": -0.0` into
    summary.json (and -0.0 %), which a reader takes for a loss."""
    same = savings(Figures(driver_hours=1.0), Figures(driver_hours=1.0 + 1e-12))["driver_hours"]
    assert json.dumps(same) == '{"saved": 0.0, "percent": 0.0}'
