"""A siting run tells its search's stages as it goes, and its time limit covers the whole run:
the search gets what building the instance (the walking catchments) left of it. Before, a job's
progress read 0 until it was done, and a run of 50,000 x 10,000 points asked for 30 s took
1.8 times that."""

from __future__ import annotations

import importlib
import time

import pytest

from routing.siting import SitingModel, solve
from routing.siting.errors import SitingInputError
from routing.siting.progress import SEARCH_FLOOR_S, STAGES, search_time
from routing.siting.synthetic import synthetic_case

solve_module = importlib.import_module("routing.siting.solve")


@pytest.fixture(scope="module")
def inst():
    return synthetic_case(300, 400, 60, radius_m=400, seed=0, capacity=60.0)


@pytest.mark.parametrize(
    "model",
    [
        SitingModel("maxcover", p=5),
        SitingModel("pmedian", p=5),
        SitingModel("facility", capacitated=True),
    ],
    ids=["maxcover", "pmedian", "facility"],
)
def test_stages_come_in_order_in_rising_time_and_end_at_done(inst, model) -> None:
    seen = []
    plan = solve(inst, model, time_limit_s=10, spent_s=2.0, progress=seen.append)
    stages = [update.stage for update in seen]
    assert stages[0] == "heuristic" and stages[-1] == "done" and stages.count("done") == 1
    assert stages == sorted(stages, key=STAGES.index)  # in order, each at most once
    assert len(stages) == len(set(stages)) >= 3  # the bound, at least, between them
    elapsed = [update.elapsed_s for update in seen]
    assert elapsed == sorted(elapsed) and elapsed[0] >= 2.0  # the run's time, from its start
    end = seen[-1]
    assert (end.value, end.bound, end.gap) == (plan.objective, plan.bound, plan.gap)
    assert seen[1].value is not None  # the bound's stage starts from the heuristic's plan


def test_the_search_gets_what_the_catchments_left(inst, monkeypatch) -> None:
    limits = []
    sized = solve_module._solve_sized

    def spy(inst, model, options):
        limits.append(options["time_limit_s"])
        return sized(inst, model, options)

    monkeypatch.setattr(solve_module, "_solve_sized", spy)
    plan = solve(inst, SitingModel("maxcover", p=5), time_limit_s=10, spent_s=4.0)
    assert limits == [6.0] and not plan.warnings
    solve(inst, SitingModel("maxcover", p=5), time_limit_s=10, spent_s=4.0, keep_s=1.5)
    assert limits[-1] == 4.5  # less what writing the plan out will take
    plan = solve(inst, SitingModel("maxcover", p=5), time_limit_s=10, spent_s=9.5)
    assert limits[-1] == SEARCH_FLOOR_S  # its floor: a tenth of the limit, a second at least
    assert any("9.5 s of the run's 10 s went before its search" in w for w in plan.warnings)


def test_a_job_searches_for_what_its_run_has_left(inst, monkeypatch) -> None:
    """A job's search (`_site`, in the job's child) counts the run's time from when the job
    began, in the parent, building the catchments: here 4 s before."""
    from api.jobs.runner import _site

    class Searched(Exception):
        """The search's limit, seen where the search would start."""

    def search(_inst, _model, options):
        raise Searched(options["time_limit_s"])

    monkeypatch.setattr(solve_module, "_solve_sized", search)
    with pytest.raises(Searched) as searched:
        _site(inst, SitingModel("maxcover", p=5), 10.0, time.time() - 4.0, print)
    assert 5.0 < searched.value.args[0] <= 6.0


def test_search_time() -> None:
    assert search_time(30.0, 0.0) == (30.0, None)
    assert search_time(30.0, 12.0) == (18.0, None)  # not most of it: no warning
    assert search_time(30.0, 12.0, 5.0) == (13.0, None)
    assert search_time(30.0, 0.0, 29.0) == (3.0, None)  # the floor holds against the output
    left, warning = search_time(30.0, 20.0)
    assert left == 10.0 and "(its floor" not in warning
    left, warning = search_time(30.0, 40.0)
    assert left == 3.0 and "search had 3.0 s (its floor: the run ends past its limit)" in warning
    assert search_time(0.5, 9.0)[0] == 0.5  # a limit below the floor's second: all of it
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(SitingInputError, match="spent_s must be"):
            search_time(30.0, bad)
        with pytest.raises(SitingInputError, match="keep_s must be"):
            search_time(30.0, 0.0, bad)
