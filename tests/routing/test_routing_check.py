"""The checker finds each kind of violation in plans built to break one rule."""

from __future__ import annotations

import pytest
from routing_helpers import line_model, solved

from routing.check import check
from routing.model import Problem
from routing.solution import RoutePlan, Solution, Visit, build_solution


def plan(
    problem: Problem,
    *routes: tuple[str, list[Visit]],
    left: dict | None = None,
    departure: float | None = None,
) -> Solution:
    return build_solution(
        problem,
        [RoutePlan(v, visits, departure) for v, visits in routes],
        left or {},
        engine="hand",
    )


def jobs(*ids: str) -> list[Visit]:
    return [Visit("job", i) for i in ids]


def kinds(problem: Problem, solution: Solution) -> set[str]:
    return check(problem, solution).kinds()


@pytest.fixture
def two_jobs() -> Problem:
    m = line_model(3)
    m.add_vehicle("v1", start="hub", end="hub", capacity=(5,), skills={"cold"})
    m.add_vehicle("v2", start="hub", end="hub", capacity=(5,), shift=[0, 300], max_distance=300)
    m.add_job("a", location=1, delivery=(3,), time_windows=[[0, 150]])
    m.add_job("b", location=2, delivery=(3,), skills={"cold"})
    return m.build()


def test_a_valid_hand_plan_passes(two_jobs: Problem) -> None:
    solution = plan(two_jobs, ("v1", jobs("b")), ("v2", jobs("a")))
    report = check(two_jobs, solution)
    assert report.ok, [str(v) for v in report.violations]
    assert report.cost == pytest.approx(600) and report.served == 2


def test_capacity_time_window_skills_and_limits(two_jobs: Problem) -> None:
    # both on v1: 6 parcels > 5; b first makes a start at 300 > 150
    assert {"capacity", "time window"} <= kinds(two_jobs, plan(two_jobs, ("v1", jobs("b", "a"))))
    # b on v2: lacks the skill, drives 400 > 300 and returns at 400 after its shift
    found = kinds(two_jobs, plan(two_jobs, ("v1", jobs("a")), ("v2", jobs("b"))))
    assert {"skills", "max distance", "shift"} <= found


def test_missing_duplicate_and_unknown(two_jobs: Problem) -> None:
    assert "missing" in kinds(two_jobs, plan(two_jobs, ("v1", jobs("b"))))
    both = plan(two_jobs, ("v1", jobs("b")), ("v2", jobs("a")), left={"a": "test"})
    assert "duplicate" in kinds(two_jobs, both)
    good = plan(two_jobs, ("v1", jobs("b")), ("v2", jobs("a")))
    route = good.routes[0]
    renamed = route.model_copy(
        update={
            "steps": tuple(
                s.model_copy(update={"id": "ghost"}) if s.id == "b" else s for s in route.steps
            )
        }
    )
    ghost = good.model_copy(update={"routes": (renamed, good.routes[1])})
    assert {"unknown", "missing"} <= kinds(two_jobs, ghost)


def test_tampered_report_is_caught(two_jobs: Problem) -> None:
    good = plan(two_jobs, ("v1", jobs("b")), ("v2", jobs("a")))
    cheaper = good.model_copy(update={"summary": good.summary.model_copy(update={"cost": 1.0})})
    assert kinds(two_jobs, cheaper) == {"report"}
    route = good.routes[1]
    early = route.model_copy(
        update={
            "steps": tuple(
                s.model_copy(update={"arrival": 10.0, "waiting": 0.0}) if s.id == "a" else s
                for s in route.steps
            )
        }
    )
    assert "time" in kinds(two_jobs, good.model_copy(update={"routes": (good.routes[0], early)}))


def test_unassigned_needs_a_reason(two_jobs: Problem) -> None:
    solution = plan(two_jobs, ("v1", jobs("b")), left={"a": " "})
    assert kinds(two_jobs, solution) == {"unassigned"}


def test_shipment_precedence_and_same_vehicle() -> None:
    m = line_model(3)
    m.add_vehicle("v1", start="hub", end="hub")
    m.add_vehicle("v2", start="hub", end="hub")
    m.add_shipment("s", pickup={"location": 1}, delivery={"location": 2})
    problem = m.build()
    backwards = plan(problem, ("v1", [Visit("delivery", "s"), Visit("pickup", "s")]))
    assert "precedence" in kinds(problem, backwards)
    split = plan(problem, ("v1", [Visit("pickup", "s")]), ("v2", [Visit("delivery", "s")]))
    assert "precedence" in kinds(problem, split)


def test_breaks_must_be_taken_once_in_their_window() -> None:
    m = line_model(3)
    m.add_vehicle(
        "v1",
        start="hub",
        end="hub",
        breaks=[{"id": "lunch", "windows": [[1000, 1100]], "duration": 600}],
    )
    m.add_job("a", location=2)
    problem = m.build()
    assert "break" in kinds(problem, plan(problem, ("v1", jobs("a")), departure=0))
    early = plan(
        problem, ("v1", [Visit("break", "lunch", 100.0), Visit("job", "a", 900.0)]), departure=0
    )
    assert "break" in kinds(problem, early)
    # a break that does not leave room to travel: lunch 1000-1600, then 200 s to reach a
    cramped = plan(
        problem,
        ("v1", [Visit("break", "lunch", 1000.0), Visit("job", "a", 1700.0)]),
        departure=1000,
    )
    assert "time" in kinds(problem, cramped)
    fine = plan(
        problem,
        ("v1", [Visit("break", "lunch", 1000.0), Visit("job", "a", 1800.0)]),
        departure=1000,
    )
    assert check(problem, fine).ok


def test_breaks_before_the_first_stop_of_a_route_without_a_start_are_checked() -> None:
    m = line_model(3)
    m.add_vehicle(
        "v1",
        start=None,
        end="hub",
        shift=[0, 5000],
        breaks=[{"id": "lunch", "windows": [[3000, 4000]], "duration": 600}],
    )
    m.add_job("a", location=1, time_windows=[[100, 5000]])
    problem = m.build()
    # lunch at 0-600, outside its window and over a's service at 100
    early = plan(problem, ("v1", [Visit("break", "lunch", 0.0), Visit("job", "a", 100.0)]))
    assert {"break", "time"} <= kinds(problem, early)
    ghost = plan(problem, ("v1", [Visit("break", "lunch", 3000.0), Visit("job", "a", 3600.0)]))
    steps = tuple(
        s.model_copy(update={"id": "nap"}) if s.type == "break" else s
        for s in ghost.routes[0].steps
    )
    renamed = ghost.model_copy(
        update={"routes": (ghost.routes[0].model_copy(update={"steps": steps}),)}
    )
    assert "break" in kinds(problem, renamed)  # no such break, and lunch not taken
    fine = plan(problem, ("v1", [Visit("break", "lunch", 3000.0), Visit("job", "a", 3600.0)]))
    report = check(problem, fine)
    assert report.ok, [str(v) for v in report.violations]


@pytest.mark.parametrize("max_duration", [None, 250])
def test_a_vehicle_back_before_its_end_centre_opens_waits_for_it(
    max_duration: float | None,
) -> None:
    m = line_model(3)
    m.add_centre("late", location=2, opening=[300, 1000])
    m.add_vehicle("v1", start="hub", end="late", max_duration=max_duration)
    m.add_job("a", location=1, time_windows=[[0, 100]])
    problem = m.build()
    solution = plan(problem, ("v1", jobs("a")), departure=0)
    route = solution.routes[0]
    assert (route.steps[-1].arrival, route.steps[-1].waiting, route.end_time) == (200, 100, 300)
    # the route runs 0-300, its wait at the end centre included
    assert kinds(problem, solution) == (set() if max_duration is None else {"max duration"})
    end = route.steps[-1].model_copy(update={"waiting": 0.0})
    no_wait = solution.model_copy(
        update={"routes": (route.model_copy(update={"steps": (*route.steps[:-1], end)}),)}
    )
    assert "opening hours" in kinds(problem, no_wait)


def test_engine_output_passes_on_a_mixed_problem() -> None:
    m = line_model(6, capacity_names=("parcels", "kg"))
    m.add_vehicle(
        "v1",
        start="hub",
        end="hub",
        capacity=(8, 100),
        shift=[0, 5000],
        breaks=[{"id": "b", "windows": [[300, 600]], "duration": 120}],
    )
    m.add_vehicle("v2", start="hub", end=None, capacity=(8, 100), skills={"lift"})
    m.add_job("j1", location=1, delivery=(3, 20), time_windows=[[0, 400], [900, 1200]])
    m.add_job("j2", location=2, pickup=(2, 10), service=60)
    m.add_job("j3", location=4, delivery=(4, 60), skills={"lift"})
    m.add_job("j4", location=5, delivery=(1, 5), penalty=100)
    m.add_shipment("s1", pickup={"location": 3}, delivery={"location": 5}, amount=(2, 30))
    solved(m.build())
