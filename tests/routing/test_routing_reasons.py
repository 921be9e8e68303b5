"""Why tasks are left out, route limits combined with breaks, engine options, the builder."""

from __future__ import annotations

import pytest
from routing_helpers import line_model, solved

from routing.engines import EngineError
from routing.engines.ortools_engine import solve as ortools_solve
from routing.solve import solve
from routing.unassigned import explain


def test_reasons_name_the_binding_constraint() -> None:
    m = line_model(6)
    m.add_vehicle("v1", start="hub", end="hub", capacity=(5,), max_distance=600)
    m.add_vehicle("v2", start="hub", end="hub", capacity=(5,), max_distance=600)
    m.add_job("far", location=5)  # 1000 m there and back
    m.add_job("closed", location=2, time_windows=[[0, 100]])  # 200 s away
    m.add_job("a", location=1, delivery=(5,))
    m.add_job("b", location=1, delivery=(5,))
    m.add_job("c", location=1, delivery=(5,))
    problem = m.build()
    assert explain(problem, "far") == (
        "no vehicle can serve it even alone: the round trip is longer than the vehicle's max "
        "distance"
    )
    assert explain(problem, "closed") == (
        "no vehicle can serve it even alone: its time windows close before the vehicle can arrive"
    )
    solution = solved(problem)
    reasons = {u.id: u.reason for u in solution.unassigned}
    assert set(reasons) == {"far", "closed", "a", "b", "c"} - solution.assigned_ids()
    assert len(reasons) == 3  # two of a, b, c fit; the third has no room
    assert any("no room left" in r for r in reasons.values())


@pytest.mark.parametrize("engine", ["ortools", "pyvrp"])
def test_max_duration_counts_from_the_latest_departure_the_windows_allow(engine: str) -> None:
    m = line_model(3)
    m.add_vehicle("v1", start="hub", end="hub", max_duration=450)
    # leaving at once means 300 s of waiting for the delivery; leaving at 200, none
    m.add_shipment(
        "s",
        pickup={"location": 1, "time_windows": [[0, 1000]]},
        delivery={"location": 2, "time_windows": [[400, 500]]},
    )
    problem = m.build()
    assert "no room left" in explain(problem, "s")  # it fits alone
    solution = solved(problem, engine)
    assert solution.summary.unassigned == 0
    assert solution.routes[0].end_time - solution.routes[0].start_time <= 450


@pytest.mark.parametrize(("max_duration", "fits"), [(150, True), (90, False)])
def test_a_route_without_a_start_counts_its_duration_from_its_first_stop(
    max_duration: float, fits: bool
) -> None:
    m = line_model(2)
    m.add_vehicle("v1", start=None, end="hub", max_duration=max_duration)
    m.add_job("a", location=1, time_windows=[[500, 600]])  # served at 500, back at 600
    reason = explain(m.build(), "a")
    assert ("max duration" not in reason) is fits


@pytest.mark.parametrize("end", [None, "hub"])
def test_a_vehicle_without_a_start_solves_and_names_what_it_left_out(end: str | None) -> None:
    # VROOM allows a vehicle with no start; explaining a task it leaves out once crashed
    m = line_model(3)
    m.add_vehicle("v1", start=None, end=end, shift=[200, 1000], max_duration=600)
    m.add_job("a", location=1)
    m.add_job("early", location=2, time_windows=[[0, 100]])  # shut before the shift starts
    solution = solved(m.build(), "auto")
    assert solution.assigned_ids() == {"a"}
    assert solution.unassigned[0].reason == (
        "no vehicle can serve it even alone: its time windows close before the vehicle can arrive"
    )


def test_max_duration_holds_with_a_break() -> None:
    m = line_model(3)
    m.add_vehicle(
        "v1",
        start="hub",
        end="hub",
        max_duration=1000,
        breaks=[{"id": "b", "windows": [[0, 2000]], "duration": 300}],
    )
    m.add_job("a", location=2, service=100)
    solution = solved(m.build())
    route = solution.routes[0]
    assert route.end_time - route.start_time <= 1000


def test_first_solution_option_and_bad_names() -> None:
    m = line_model(3)
    m.add_vehicle("v1", start="hub", end="hub")
    m.add_job("a", location=1)
    m.add_job("b", location=2)
    problem = m.build()
    for name in ("parallel", "local", "savings"):
        assert ortools_solve(problem, time_limit_s=0.2, first_solution=name).summary.cost == 400
    with pytest.raises(EngineError, match="first_solution: unknown heuristic 'best'"):
        ortools_solve(problem, time_limit_s=0.2, first_solution="best")
    with pytest.raises(EngineError, match="engine: unknown engine 'gurobi'"):
        solve(problem, engine="gurobi")
    for bad in (0, float("nan"), float("inf")):
        with pytest.raises(EngineError, match="time_limit_s: must be positive and finite"):
            solve(problem, time_limit_s=bad)


def test_replace_gives_a_validated_copy() -> None:
    m = line_model(3)
    m.add_vehicle("v1", start="hub", end="hub")
    m.add_job("a", location=1)
    problem = m.build()
    unpooled = problem.replace(pooled=False)
    assert unpooled.pooled is False and problem.pooled is True
    from routing.model import ProblemError

    with pytest.raises(ProblemError, match="job 'a': location 9 is outside"):
        problem.replace(jobs=({"id": "a", "location": 9},))
