"""A fleet too small for the day: PyVRP serves what fits, and auto without a race never keeps a
plan that leaves out more than OR-Tools would."""

from __future__ import annotations

from routing_helpers import line_model

from routing.check import check
from routing.engines import get_engine
from routing.model import Problem
from routing.solution import build_solution
from routing.solve import solve


def _too_many_for_one_van(jobs: int = 12, capacity: int = 10) -> Problem:
    """Unit jobs beyond one van's capacity; a fixed cost so large that PyVRP's bounded load
    penalty cannot outweigh the prizes of the tasks that do not fit."""
    m = line_model(jobs + 1)
    m.add_vehicle("v1", start="hub", end="hub", capacity=(capacity,), fixed_cost=1e6)
    for k in range(1, jobs + 1):
        m.add_job(f"j{k}", location=k, delivery=(1,))
    return m.build()


def test_pyvrp_serves_what_fits_when_the_fleet_is_too_small() -> None:
    problem = _too_many_for_one_van()
    solution = get_engine("pyvrp").solve(problem, time_limit_s=0.3)
    assert check(problem, solution).ok
    assert solution.summary.unassigned == 2


def test_auto_without_a_race_falls_back_on_ortools_when_pyvrp_leaves_tasks_out(
    monkeypatch,
) -> None:
    problem = _too_many_for_one_van(jobs=6)  # all fit
    everything_out = build_solution(
        problem, [], {j.id: "left out" for j in problem.jobs}, engine="pyvrp"
    )
    monkeypatch.setattr(get_engine("pyvrp"), "solve", lambda *a, **k: everything_out)
    solution = solve(problem, time_limit_s=0.3, race=False)
    assert solution.engine == "ortools" and solution.summary.unassigned == 0
    assert "OR-Tools tried too" in solution.engine_reason
