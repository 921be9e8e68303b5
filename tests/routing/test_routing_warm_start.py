"""OR-Tools from another engine's plan (auto's warm start) on a day with breaks: the restore
stays inside the time limit and never costs required tasks against a cold OR-Tools search.

`data/breaks_day.json` is the routing audit's case (3 vans, one with a lunch break; 8 jobs,
one with two windows, 3 shipments; travel times in fractions of a second). `PLAN` is a
PyVRP plan of its simplified version that auto restored: reading its second route back,
OR-Tools searches break and arrival times in milliseconds for seconds without an answer, and
from what it kept served three required tasks fewer than a cold search.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from routing.check import check
from routing.engines.ortools_engine import solve as ortools_solve
from routing.io.native import read_native
from routing.model import Problem
from routing.solution import RoutePlan, Solution, Visit, build_solution
from routing.solve import simplified, solve

DAY = Path(__file__).parent / "data" / "breaks_day.json"
PLAN = {
    "v1": [("job", "j0"), ("pickup", "s1"), ("job", "j5"), ("delivery", "s1")],
    "v2": [
        ("job", "j7"),
        ("job", "j3"),
        ("pickup", "s2"),
        ("pickup", "s0"),
        ("delivery", "s0"),
        ("job", "j1"),
        ("job", "j2"),
        ("delivery", "s2"),
    ],
}
LIMIT = 0.5


@pytest.fixture(scope="module")
def day() -> Problem:
    return read_native(DAY)


def pyvrp_plan(problem: Problem) -> Solution:
    simple = simplified(problem)
    assert simple is not None
    routes = [RoutePlan(v, [Visit(*visit) for visit in visits]) for v, visits in PLAN.items()]
    return build_solution(simple, routes, {}, engine="pyvrp")


def required_left(problem: Problem, solution: Solution) -> set[str]:
    return {
        u.id
        for u in solution.unassigned
        if (problem.job(u.id) if problem.has_job(u.id) else problem.shipment(u.id)).penalty is None
    }


def test_a_plan_slow_to_restore_stays_inside_the_time_limit(day: Problem) -> None:
    plan = pyvrp_plan(day)
    began = time.monotonic()
    solution = ortools_solve(day, time_limit_s=LIMIT, initial=plan)
    took = time.monotonic() - began
    assert solution.meta["restore_s"] <= LIMIT  # was 2.4 s
    assert took < LIMIT + 1.0 and solution.runtime_s == pytest.approx(took, abs=0.05)


def test_a_warm_start_serves_the_required_tasks_a_cold_search_serves(day: Problem) -> None:
    cold = ortools_solve(day, time_limit_s=LIMIT)
    warm = ortools_solve(day, time_limit_s=LIMIT, initial=pyvrp_plan(day))
    assert check(day, warm).ok
    assert required_left(day, warm) <= required_left(day, cold) == set()  # was j1, j2, s0
    assert warm.meta["cold_search_kept"] is not None  # the restore left them out


def test_auto_reports_its_whole_runtime_near_its_limit(day: Problem) -> None:
    began = time.monotonic()
    solution = solve(day, time_limit_s=1.0, race=False)
    took = time.monotonic() - began
    assert "PyVRP's plan" in solution.engine_reason and solution.meta["warm_start"] is not None
    assert solution.runtime_s == pytest.approx(took, abs=0.05)  # was OR-Tools' part only
    assert took < 1.0 + 1.5
    assert check(day, solution).ok
