"""End to end on the far-firm example: the day's best arrangement leaves the far firm alone,
and what the summary says of it agrees with the coalitions' costs."""

import json
import re
from itertools import combinations
from pathlib import Path

import pytest

from routing.pooling import day_travel, read_day
from routing.pooling.compare import SolveSettings, compare_day

EXAMPLE = Path(__file__).parents[2] / "routing" / "pooling" / "examples" / "far-firm.yaml"
FAST = SolveSettings(
    engine="ortools", time_limit_s=0.5, coalition_time_limit_s=0.4, min_time_limit_s=0.2
)


@pytest.fixture(scope="module")
def far_firm():
    day = read_day(EXAMPLE)
    return compare_day(day, day_travel(day), FAST, locker_drops=False)


def test_the_far_firm_is_best_left_alone(far_firm):
    summary = far_firm.summary()
    best = summary["best_arrangement"]["pooled"]
    assert not best["all_pooled"] and best["exact"]
    groups = {tuple(g["firms"]): g for g in best["groups"]}
    assert set(groups) == {("near-a", "near-b"), ("far",)}
    assert groups[("far",)]["plan"] == "solo" and groups[("near-a", "near-b")]["plan"] == "pooled"
    # next to every firm pooled, whose figures and saving keep their meaning
    pooled = summary["plans"]["pooled"]["cost"]
    assert best["all_pooled_cost"] == pytest.approx(pooled, abs=0.01)
    assert best["cost"] < pooled
    solo = summary["plans"]["solo"]["cost"]
    saved = summary["savings_vs_solo"]["pooled"]["cost"]["saved"]
    assert saved == pytest.approx(solo - pooled, abs=0.01)
    assert best["savings_vs_solo"]["cost"]["saved"] == pytest.approx(solo - best["cost"], abs=0.01)
    warned = [w for w in summary["warnings"] if "not the cheapest arrangement" in w]
    assert len(warned) == 1 and "near-a+near-b pooled, far on its own" in warned[0]


def test_the_best_arrangement_agrees_with_the_coalition_costs(far_firm):
    split = far_firm.splits["pooled"]
    values = split.shapley.coalitions  # each coalition at its best arrangement
    firms = frozenset(far_firm.day.firm_ids())
    assert split.cost == pytest.approx(values[firms])
    assert split.cost == pytest.approx(sum(g.figures.cost for g in split.arrangement))
    for size in range(1, len(firms)):
        for part in map(frozenset, combinations(sorted(firms), size)):
            assert split.cost <= values[part] + values[firms - part] + 1e-9
    for group in split.arrangement:
        if group.pooled:
            assert group.figures.cost == pytest.approx(values[frozenset(group.firms)])
        else:
            assert group.figures == far_firm.solo[group.firms[0]].figures
    # no firm pays more than alone; the far firm, which lowers no coalition's cost, pays that
    solo = {f: plan.figures.cost for f, plan in far_firm.solo.items()}
    shares = split.shapley.shares
    assert all(shares[f] <= solo[f] + 1e-9 for f in firms)
    assert shares["far"] == pytest.approx(solo["far"])
    assert sum(shares.values()) == pytest.approx(split.cost)
    assert not split.blocking and far_firm.checks_ok


def test_the_report_and_the_scenario_summary_name_the_best_arrangement(far_firm, tmp_path):
    from api.report.html import write_report
    from api.scenario.plans import result_summary

    summary = result_summary(far_firm)
    assert summary["best_arrangement"] == far_firm.summary()["best_arrangement"]
    (tmp_path / "summary.json").write_text(json.dumps({**summary, "stages": {}}))
    page = write_report(tmp_path).read_text()
    table = re.search(r'<table id="best-arrangement".*?</table>', page, re.S).group(0)
    assert "near-a+near-b pooled, far on its own" in table
    assert f"{summary['best_arrangement']['pooled']['cost']:,.1f}" in table


def test_each_firm_row_reads_the_arrangement_its_shares_divide(far_firm):
    # The rows' line haul and undelivered parcels came from every firm pooled (far drove a
    # line haul of 80.2 in its row) while its share and CO2 were of far on its own.
    rows = {r["firm"]: r for r in far_firm.firm_rows()}
    far = rows["far"]
    assert far["pooled_on_its_own"] and far["pooled_transfer_cost"] == 0
    assert far["pooled_unserved"] == far["solo_unserved"]
    assert far["pooled_shapley"] == pytest.approx(far["solo_cost"], abs=0.01)
    assert far_firm.pooled.line_haul().by_firm()["far"] > 0  # what the pooled plan has it drive
    best = far_firm.summary()["best_arrangement"]["pooled"]["figures"]
    assert sum(r["pooled_transfer_cost"] for r in rows.values()) == pytest.approx(
        best["transfer_cost"], abs=0.02
    )
    assert sum(r["pooled_unserved"] for r in rows.values()) == best["unserved"]
    for firm in ("near-a", "near-b"):
        assert not rows[firm]["pooled_on_its_own"] and rows[firm]["pooled_transfer_cost"] > 0


def test_a_firm_on_its_own_pays_its_own_plan_in_the_simple_splits(far_firm) -> None:
    """The simple splits (by parcels, by standalone cost) divide each group of the day's best
    arrangement among its own firms. They had divided the whole arrangement's cost over every
    firm, so the far firm, which pools with no one, was charged 49.35 by parcels instead of
    its own 56.00 (the near firms paying its difference)."""
    plan_split = far_firm.splits["pooled"]
    solo = {f: plan.figures.cost for f, plan in far_firm.solo.items()}
    for shares in (plan_split.by_parcels, plan_split.by_standalone):
        for group in plan_split.arrangement:
            paid = sum(shares[f] for f in group.firms)
            assert paid == pytest.approx(group.figures.cost)
        assert shares["far"] == pytest.approx(solo["far"])
        assert sum(shares.values()) == pytest.approx(plan_split.cost)
