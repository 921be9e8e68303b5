"""The PyVRP engine on inputs the model accepts but PyVRP's integer model once mishandled: a job
that fits only in a later window, windows between two whole milliseconds, travel breaking the
triangle inequality, and optional prizes above PyVRP's penalty cap. Every plan goes through the
independent checker."""

import numpy as np
import pyvrp

from routing.check import check
from routing.engines import pyvrp_engine
from routing.model import Model, Problem
from routing.solution import Solution

LIMIT = 0.3  # seconds: a handful of stops


def solved(problem: Problem) -> Solution:
    """Solve with the PyVRP engine and insist that the checker finds nothing wrong."""
    solution = pyvrp_engine.solve(problem, time_limit_s=LIMIT, seed=1)
    report = check(problem, solution)
    assert report.ok, report.summary()
    return solution


def places(durations: list[list[float | None]], **vehicle: object) -> Model:
    """A builder with one location per matrix row (row 0 the centre 'hub', used for distances
    too) and vehicle 'v' leaving from and returning to it."""
    m = Model()
    for _ in durations:
        m.add_location()
    m.add_centre("hub", location=0)
    m.set_matrices("van", durations, durations)
    m.add_vehicle("v", **{"start": "hub", "end": "hub", **vehicle})
    return m


def test_a_window_between_two_whole_milliseconds_is_left_out_with_that_reason() -> None:
    m = places([[0, 10], [10, 0]])
    m.add_job("narrow", location=1, time_windows=[[100.0004, 100.0006]])
    m.add_job("also", location=1, time_windows=[[100.0004, 100.0006], [200.5, 300]])
    m.add_job("plain", location=1)
    solution = solved(m.build())
    assert solution.assigned_ids() == {"also", "plain"}  # `also` in its second window
    [left] = solution.unassigned
    assert left.id == "narrow"
    assert left.reason.startswith("PyVRP cannot serve it: its time windows hold no whole")


def test_a_job_that_only_a_window_between_two_whole_milliseconds_fits_is_left_out_by_name() -> None:
    # `odd`'s first window PyVRP can time but it closes before the van arrives (10 s away);
    # the second fits but holds no whole millisecond. It stayed in PyVRP's model with the
    # first, was left out and blamed the room beside `plain`.
    m = places([[0, 10], [10, 0]])
    m.add_job("odd", location=1, time_windows=[[0, 5], [100.0004, 100.0006]])
    m.add_job("plain", location=1)
    problem = m.build()
    assert [j.id for j in pyvrp_engine._Translation(problem).jobs] == ["plain"]
    solution = solved(problem)
    [left] = solution.unassigned
    assert left.id == "odd"
    assert left.reason.startswith("PyVRP cannot serve it: the time windows it could be served in")


def test_a_shift_between_two_whole_milliseconds_is_refused_by_name() -> None:
    m = places([[0, 10], [10, 0]], shift=[100.0004, 100.0006])
    m.add_job("a", location=1)
    ok, reason = pyvrp_engine.supports(m.build())
    assert not ok and reason.startswith("vehicle 'v' has a shift holding no whole millisecond")


def test_a_task_reached_in_time_only_through_another_stop_is_served() -> None:
    # hub -> b takes 1000 s (or has no road), but hub -> a -> b takes 20 s: b's window,
    # closed alone, is met after a (the travel breaks the triangle inequality)
    for direct in (1000.0, None):
        m = places([[0, 10, direct], [10, 0, 10], [10, 10, 0]])
        m.add_job("a", location=1)
        m.add_job("b", location=2, time_windows=[[0, 100]])
        solution = solved(m.build())
        assert solution.assigned_ids() == {"a", "b"}


def test_a_task_no_route_can_reach_in_time_stays_out_with_its_reason() -> None:
    # the shortest way to b, even through a, is 110 s: its window has closed
    m = places([[0, 10, 1000], [10, 0, 100], [10, 10, 0]])
    m.add_job("a", location=1)
    m.add_job("b", location=2, time_windows=[[0, 100]])
    problem = m.build()
    assert [j.id for j in pyvrp_engine._Translation(problem).jobs] == ["a"]
    solution = solved(problem)
    assert [u.reason for u in solution.unassigned] == [
        "no vehicle can serve it even alone: its time windows close before the vehicle can arrive"
    ]


def overloaded() -> Problem:
    """Four required jobs fill 8 of the van's 10 units; an optional one of 4 units carries a
    penalty (1e6 per the whole-number cost scale) far above PyVRP's default cap on the penalty
    of a unit of excess load (1e5), so keeping it with 2 units too many once looked cheaper."""
    m = places(np.full((6, 6), 60.0) - np.eye(6) * 60, capacity=(10,))
    for k in range(1, 5):
        m.add_job(f"r{k}", location=k, delivery=(2,))
    m.add_job("o", location=5, delivery=(4,), penalty=1e6)
    return m.build()


def test_an_optional_prize_above_pyvrps_penalty_cap_does_not_push_out_required_jobs() -> None:
    solution = solved(overloaded())
    assert solution.assigned_ids() == {"r1", "r2", "r3", "r4"}
    assert [u.id for u in solution.unassigned] == ["o"]


def test_an_overloaded_route_drops_its_optional_task_before_required_ones() -> None:
    translated = pyvrp_engine._Translation(overloaded())
    # clients 0-3 are r1-r4, client 4 the optional o, visited first: cutting the route from
    # its end would drop required jobs
    visits = [pyvrp.Activity(pyvrp.ActivityType.CLIENT, k) for k in (4, 0, 1, 2, 3)]
    route = pyvrp.Route(translated.data, visits, 0)
    assert route.has_excess_load()
    kept, cut = pyvrp_engine._feasible_part(translated.data, route, translated._optional_prize)
    assert kept.is_feasible()
    assert [(a.is_client(), a.idx) for a in cut] == [(True, 4)]
