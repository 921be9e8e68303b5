"""Waiting is nothing where nothing waits: the engines' millisecond rounding of travel that is
not whole (road networks) showed as 0.001 s of waiting at stops without a time window."""

from __future__ import annotations

import numpy as np
import pytest
from routing_helpers import line_matrix, line_model, solved

from routing.solution import RoutePlan, Visit, build_solution


def _fractional(n: int, windows: dict | None = None):
    """A van and ``n - 1`` jobs on a line whose legs last 100.0004 s per step (not whole),
    60 s of service each; ``windows`` by job number."""
    m = line_model(n)
    travel = line_matrix(range(n)) * 1.000004
    m.set_matrices("van", travel, np.rint(travel))
    m.add_vehicle("v1", start="hub", end="hub")
    for k in range(1, n):
        m.add_job(f"j{k}", location=k, service=60, time_windows=(windows or {}).get(k, []))
    return m.build()


def test_an_engine_start_late_only_by_its_rounding_is_no_waiting() -> None:
    problem = _fractional(4)
    solution = solved(problem)
    assert [s.waiting for r in solution.routes for s in r.steps] == [0.0] * 5
    assert solution.summary.waiting == 0.0


def test_the_rounding_of_a_long_route_is_no_waiting_either() -> None:
    """The engines' rounding adds up along a route (a leg and a service each): a VROOM day of
    seven tasks on the demo map still showed 0.002 s at its fifth stop."""
    solution = solved(_fractional(30))
    assert [s.waiting for r in solution.routes for s in r.steps] == [0.0] * 31


def test_waiting_a_window_or_the_engine_asks_for_stays() -> None:
    # j2 is reached at 260.0008 and opens 0.0005 s later; the engine holds j3 for 5 s
    problem = _fractional(4, {2: [[260.0013, 1000]]})
    visits = [Visit("job", "j1", 100.001), Visit("job", "j2", 260.0013), Visit("job", "j3", 425)]
    (route,) = build_solution(problem, [RoutePlan("v1", visits, 0)], {}, engine="test").routes
    waiting = [s.waiting for s in route.task_steps()]
    assert waiting == pytest.approx([0.0, 0.0005, 425 - 420.0017], abs=1e-9)
