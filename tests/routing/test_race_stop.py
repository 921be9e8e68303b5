"""A stopped race (Ctrl-C, SIGTERM, a cancelled job: `should_stop`) keeps the forked child's
plan where it is the better one. The child was killed without being asked for its plan, so the
plan written was this process's even where the child's served more or cost less.

Both engines are stand-ins here: OR-Tools' side (this process) has only a plan that leaves the
job out, PyVRP's side (the forked child) waits until it is asked to stop, then answers with a
real plan serving it. The child never answers unasked (it fails after `NEVER_S`), so a race
that does not ask keeps the worse plan; nothing here asserts on time.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from routing_helpers import line_model

import routing.engines.ortools_engine as ortools_engine
import routing.engines.pyvrp_engine as pyvrp_engine
import routing.solve as solve_module
from routing.check import check
from routing.engines import STOPPED
from routing.model import Problem
from routing.solution import Solution, build_solution

NEVER_S = 30.0  # far beyond any wait of the race: the child that is never asked gives up


def _day() -> Problem:
    m = line_model(2)
    m.add_vehicle("v1", start="hub", end="hub", capacity=(10,))
    m.add_job("j1", location=1, delivery=(1,))
    return m.build()


@pytest.fixture
def race(monkeypatch: pytest.MonkeyPatch) -> tuple[Problem, list[bool]]:
    """The day, and a switch the stand-in for this process's search turns on as it returns
    (a stop that arrives while the race waits for its child)."""
    problem = _day()
    theirs = pyvrp_engine.solve(problem, time_limit_s=0.2)  # a real plan serving the job
    assert not theirs.unassigned
    returned: list[bool] = []

    def ours(problem: Problem, *, should_stop: Any = None, **_: Any) -> Solution:
        stopped = should_stop is not None and should_stop()
        returned.append(True)
        return build_solution(
            problem, [], {"j1": STOPPED if stopped else "left out"}, engine="ortools",
            meta={"stopped": stopped, "stopped_by": "cancelled" if stopped else "max_runtime"},
        )  # fmt: skip

    def child(problem: Problem, *, should_stop: Any = None, **_: Any) -> Solution:
        given_up = time.monotonic() + NEVER_S
        while should_stop is None or not should_stop():
            if time.monotonic() > given_up:
                raise RuntimeError("never asked to stop")
            time.sleep(0.01)
        return theirs

    monkeypatch.setattr(ortools_engine, "solve", ours)
    monkeypatch.setattr(pyvrp_engine, "solve", child)  # the forked child inherits it
    monkeypatch.setattr(solve_module, "RACE_STOP_WAIT_S", NEVER_S)  # no timing in this test
    return problem, returned


def test_a_race_stopped_during_its_search_keeps_the_childs_better_plan(race) -> None:
    problem, _ = race
    solution = solve_module.solve(problem, time_limit_s=0.1, race=True, should_stop=lambda: True)
    assert solution.engine == "pyvrp", solution.engine_reason  # was OR-Tools' empty plan
    assert not solution.unassigned and check(problem, solution).ok


def test_a_stop_while_the_race_waits_for_its_child_asks_the_child_for_its_plan(race) -> None:
    """Ctrl-C after this search ended: the race waited out the child's limit and slack."""
    problem, returned = race
    solution = solve_module.solve(
        problem, time_limit_s=0.1, race=True, should_stop=lambda: bool(returned)
    )
    assert solution.engine == "pyvrp", solution.engine_reason  # was: no plan in time
    assert not solution.unassigned and check(problem, solution).ok
