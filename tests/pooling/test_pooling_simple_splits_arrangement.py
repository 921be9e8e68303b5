"""The simple splits (by parcels, by standalone cost) divide each group of the day's best
arrangement among its own firms: a firm left on its own pays its own plan. They had divided
the whole arrangement's cost over every firm, so on far-firm.yaml the far firm, which pools
with no one, was charged 49.35 by parcels instead of its own 56.00 (the near firms paying
its difference), and on a day where every firm is best alone a firm paid more than its own
solo plan."""

from pathlib import Path

import pytest

from routing.pooling import day_travel, read_day
from routing.pooling.compare import SolveSettings, compare_day

EXAMPLE = Path(__file__).parents[2] / "routing" / "pooling" / "examples" / "far-firm.yaml"
FAST = SolveSettings(
    engine="ortools", time_limit_s=0.5, coalition_time_limit_s=0.4, min_time_limit_s=0.2
)


@pytest.fixture(scope="module")
def split():
    day = read_day(EXAMPLE)
    result = compare_day(day, day_travel(day), FAST, locker_drops=False)
    return result, result.splits["pooled"]


def test_a_firm_on_its_own_pays_its_own_plan_in_the_simple_splits(split) -> None:
    result, plan_split = split
    solo = {f: plan.figures.cost for f, plan in result.solo.items()}
    for shares in (plan_split.by_parcels, plan_split.by_standalone):
        for group in plan_split.arrangement:
            paid = sum(shares[f] for f in group.firms)
            assert paid == pytest.approx(group.figures.cost)
        assert shares["far"] == pytest.approx(solo["far"])
        assert sum(shares.values()) == pytest.approx(plan_split.cost)
