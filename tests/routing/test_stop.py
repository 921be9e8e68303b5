"""Stopping criteria (`routing.stop`): composition, bad values, and solves that end on a plateau.

A solve of a few stops used to run its whole time limit (5-10 s for a plan found in
milliseconds) on both engines. The solves here have a cap far above what the plateau needs, and
assert on what ended the search (`meta["stopped_by"]`, the `engine_reason`), never on time.
"""

from __future__ import annotations

import math
import re

import pytest
from routing_helpers import line_model

import routing.engines.ortools_engine as ortools_engine
import routing.engines.pyvrp_engine as pyvrp_engine
from routing.check import check
from routing.model import Problem
from routing.solution import Solution, build_solution
from routing.solve import (
    ORTOOLS_SMALL_DAY_STOPS,
    SMALL_DAY_PLATEAU_S,
    SMALL_DAY_STOPS,
    default_stop,
    solve,
)
from routing.stop import Criterion, MaxRuntime, MultipleCriteria, NoImprovement, StopError

CAP_S = 20.0  # far above what a plateau of `PLATEAU_S` takes on these few stops
PLATEAU_S = 0.2
STOP = MaxRuntime(CAP_S) | NoImprovement(PLATEAU_S)


def _day(jobs: int = 3, *, breaks: bool = False, **vehicle: object) -> Problem:
    m = line_model(jobs + 1)
    m.add_vehicle("v1", start="hub", end="hub", capacity=(10,),
                  breaks=[{"id": "lunch", "duration": 60}] if breaks else (),
                  **vehicle)  # fmt: skip
    for k in range(1, jobs + 1):
        m.add_job(f"j{k}", location=k, delivery=(1,))
    return m.build()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# ---- the criteria


def test_or_composes_flat_and_the_earliest_runtime_is_the_cap() -> None:
    a, b, c = MaxRuntime(10), NoImprovement(2), MaxRuntime(4)
    both = a | b
    assert isinstance(both, MultipleCriteria) and both.parts() == (a, b)
    assert ((a | b) | c).parts() == (a | (b | c)).parts() == (a, b, c)
    assert ((a | b) | c).max_runtime_s == 4
    assert a.max_runtime_s == 10 and b.max_runtime_s is None
    with pytest.raises(TypeError):
        a | 3  # type: ignore[operator]


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: MaxRuntime(0), "MaxRuntime.seconds"),
        (lambda: MaxRuntime(-1), "MaxRuntime.seconds"),
        (lambda: MaxRuntime(math.inf), "MaxRuntime.seconds"),
        (lambda: MaxRuntime("5"), "MaxRuntime.seconds"),
        (lambda: MaxRuntime(True), "MaxRuntime.seconds"),
        (lambda: NoImprovement(math.nan), "NoImprovement.seconds"),
        (lambda: NoImprovement(-0.5), "NoImprovement.seconds"),
        (lambda: MultipleCriteria(()), "MultipleCriteria.criteria"),
        (lambda: MultipleCriteria((MaxRuntime(1), 2)), "MultipleCriteria.criteria"),
    ],
)
def test_bad_values_are_refused_by_name(make, field: str) -> None:
    with pytest.raises(StopError, match=rf"^{re.escape(field)}: "):
        make()


def test_watch_counts_the_plateau_from_the_last_better_plan() -> None:
    clock = Clock()
    watch = (MaxRuntime(10) | NoImprovement(2)).watch(clock=clock)
    clock.now += 5
    assert not watch(math.inf)  # no plan yet: no plateau, however long
    assert not watch(50)
    clock.now += 1.5
    assert not watch(50)
    assert not watch(40)  # better: the plateau starts again
    clock.now += 1.5
    assert not watch(45)  # worse than the best is no improvement
    clock.now += 0.5
    assert watch(40) and watch.fired == "no_improvement"


def test_watch_fires_at_the_runtime_and_each_watch_starts_afresh() -> None:
    clock = Clock()
    stop = MaxRuntime(3) | NoImprovement(100)
    first = stop.watch(clock=clock)
    clock.now += 3
    assert first(1.0) and first.fired == "max_runtime"
    second = stop.watch(clock=clock)
    assert not second(1.0) and second.fired is None


def test_default_stop_adds_a_plateau_on_small_days_pyvrp_plans() -> None:
    small, plateau = _day(SMALL_DAY_STOPS), MaxRuntime(10) | NoImprovement(SMALL_DAY_PLATEAU_S)
    assert default_stop(small, 10) == default_stop(small, 10, engine="pyvrp") == plateau
    assert default_stop(_day(3, breaks=True), 10) == plateau  # PyVRP's plan seeds OR-Tools
    assert default_stop(_day(SMALL_DAY_STOPS + 1), 10) == MaxRuntime(10)
    # OR-Tools alone past its own small days (tests/routing/test_ortools_plateau.py): asked
    # for, or a day PyVRP cannot model even simplified
    assert default_stop(small, 10, engine="ortools") == MaxRuntime(10)
    unmodelled = _day(ORTOOLS_SMALL_DAY_STOPS + 1, max_distance=5000, cost_per_hour=10)
    assert default_stop(unmodelled, 10) == MaxRuntime(10)
    assert default_stop(small, 10, no_improvement_s=3) == MaxRuntime(10) | NoImprovement(3)
    assert default_stop(small, 10, no_improvement_s=10) == MaxRuntime(10)  # never fires
    assert default_stop(small, 0.5) == MaxRuntime(0.5)
    with pytest.raises(StopError, match=r"^NoImprovement\.seconds: "):
        default_stop(small, 10, no_improvement_s=-1)


# ---- solve's arguments


def test_solve_refuses_a_time_limit_and_a_stop_together() -> None:
    with pytest.raises(StopError, match=r"^stop: give either time_limit_s or stop"):
        solve(_day(), time_limit_s=1, stop=STOP)


def test_solve_refuses_a_stop_without_runtime_cap() -> None:
    with pytest.raises(StopError, match=r"^stop: .* has no MaxRuntime"):
        solve(_day(), stop=NoImprovement(1))
    with pytest.raises(StopError, match=r"^stop: 5 is not a stopping criterion"):
        solve(_day(), stop=5)  # type: ignore[arg-type]


def test_a_criterion_the_engines_cannot_watch_is_refused_before_any_search() -> None:
    class Custom(Criterion):
        pass

    with pytest.raises(StopError, match=r"^stop: Custom is not a criterion the engines can"):
        solve(_day(), stop=MaxRuntime(CAP_S) | Custom())


def test_a_time_limit_alone_runs_to_it() -> None:
    solution = solve(_day(), time_limit_s=0.3, race=False)
    assert solution.meta["stopped_by"] == "max_runtime"
    assert "ended early" not in solution.engine_reason


# ---- the engines and solve's paths stop on a plateau


@pytest.mark.parametrize("engine", ["pyvrp", "ortools"])
def test_each_engine_stops_a_tiny_day_on_its_plateau(engine: str) -> None:
    problem = _day()
    solution = solve(problem, engine=engine, stop=STOP)
    assert solution.meta["stopped_by"] == "no_improvement"
    assert f"ended early: no better plan for {PLATEAU_S:g} s" in solution.engine_reason
    assert not solution.unassigned and check(problem, solution).ok


def test_auto_unraced_stops_on_its_plateau() -> None:
    problem = _day()
    solution = solve(problem, stop=STOP, race=False)
    assert solution.engine == "pyvrp" and solution.meta["stopped_by"] == "no_improvement"


def _spied(monkeypatch: pytest.MonkeyPatch, module: object) -> list[Solution]:
    """The solutions the module's `solve` returns, recorded (in this process)."""
    made: list[Solution] = []
    real = module.solve  # type: ignore[attr-defined]

    def spy(*args: object, **kwargs: object) -> Solution:
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(module, "solve", spy)
    return made


def test_a_warm_start_stops_both_its_parts_on_their_plateau(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Breaks: PyVRP plans the day without them, OR-Tools restores that plan and searches."""
    pyvrp_parts = _spied(monkeypatch, pyvrp_engine)
    problem = _day(breaks=True)
    solution = solve(problem, stop=STOP, race=False)
    assert solution.meta["warm_start"] is True
    assert [p.meta["stopped_by"] for p in pyvrp_parts] == ["no_improvement"]
    assert solution.meta["stopped_by"] == "no_improvement"
    assert check(problem, solution).ok


def test_a_race_child_stops_on_its_plateau(monkeypatch: pytest.MonkeyPatch) -> None:
    """OR-Tools (here) finds nothing, so the plan kept is PyVRP's from the forked child: it
    got the stop and ended on the plateau, not at the cap."""

    def nothing(problem: Problem, **_: object) -> Solution:
        out = {t.id: "stub" for t in problem.jobs}
        return build_solution(problem, [], out, engine="ortools", meta={"status": "solved"})

    monkeypatch.setattr(ortools_engine, "solve", nothing)
    problem = _day()
    solution = solve(problem, stop=STOP, race=True)
    assert "raced on" in solution.engine_reason
    assert solution.engine == "pyvrp" and not solution.unassigned
    assert solution.meta["stopped_by"] == "no_improvement"
