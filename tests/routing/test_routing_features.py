"""Each part of the model solved by OR-Tools (and PyVRP where it fits) on a case whose right
answer is known by hand; every plan must also pass the independent checker (see `solved`)."""

from __future__ import annotations

import numpy as np
import pytest
from routing_helpers import line_matrix, line_model, order, solved

from routing.check import check
from routing.engines import Progress
from routing.solve import solve

BOTH = ["ortools", "pyvrp"]


@pytest.mark.parametrize("engine", BOTH)
def test_capacity_leaves_out_what_cannot_fit_with_a_reason(engine: str) -> None:
    m = line_model(4)
    m.add_vehicle("v1", start="hub", end="hub", capacity=(10,))
    for k, size in ((1, 6), (2, 6), (3, 3)):
        m.add_job(f"j{k}", location=k, delivery=(size,))
    solution = solved(m.build(), engine)
    assert solution.summary.unassigned == 1
    left = solution.unassigned[0]
    assert left.id in ("j1", "j2") and "no room" in left.reason
    route = solution.route("v1")
    assert route is not None and route.steps[0].load == (9,)  # on board at the start


@pytest.mark.parametrize("engine", BOTH)
def test_second_capacity_dimension_binds(engine: str) -> None:
    m = line_model(3, capacity_names=("parcels", "kg"))
    for v in ("v1", "v2"):
        m.add_vehicle(v, start="hub", end="hub", capacity=(10, 20))
    m.add_job("a", location=1, delivery=(1, 15))
    m.add_job("b", location=2, delivery=(1, 15))
    solution = solved(m.build(), engine)
    assert solution.summary.routes == 2 and solution.summary.unassigned == 0


@pytest.mark.parametrize("engine", BOTH)
def test_time_windows_force_the_order(engine: str) -> None:
    m = line_model(3)
    m.add_vehicle("v1", start="hub", end="hub")
    m.add_job("j1", location=1, time_windows=[[300, 1000]])
    m.add_job("j2", location=2, time_windows=[[0, 250]])
    solution = solved(m.build(), engine)
    assert order(solution, "v1") == ["j2", "j1"]
    assert solution.summary.cost == pytest.approx(400)


def test_several_time_windows_per_job() -> None:
    m = line_model(3)
    m.add_vehicle("v1", start="hub", end="hub")
    m.add_job("j1", location=1, time_windows=[[0, 50], [500, 600]])
    m.add_job("j2", location=2, time_windows=[[0, 10], [150, 250]])
    solution = solved(m.build())
    assert order(solution, "v1") == ["j2", "j1"]
    j1 = next(s for s in solution.routes[0].steps if s.id == "j1")
    assert j1.start == pytest.approx(500)


def test_shift_end_leaves_late_job_out_with_reason() -> None:
    m = line_model(4)
    m.add_vehicle("v1", start="hub", end="hub", shift=[0, 1000])
    m.add_job("early", location=1)
    m.add_job("late", location=3, time_windows=[[2000, 3000]])
    solution = solved(m.build())
    assert [u.id for u in solution.unassigned] == ["late"]
    assert "shift" in solution.unassigned[0].reason


def test_break_is_taken_in_its_window_inside_the_route() -> None:
    m = line_model(3)
    m.add_vehicle(
        "v1",
        start="hub",
        end="hub",
        breaks=[{"id": "lunch", "windows": [[100, 150]], "duration": 300}],
    )
    m.add_job("j1", location=2, service=100)
    solution = solved(m.build())
    route = solution.route("v1")
    assert route is not None
    lunch = next(s for s in route.steps if s.type == "break")
    assert 100 <= lunch.start <= 150 and lunch.service == 300
    assert route.end_time >= 800  # 200 travel + 300 break + 100 service + 200 back


def test_break_with_several_windows_takes_a_later_one() -> None:
    m = line_model(3)
    m.add_vehicle(
        "v1",
        start="hub",
        end="hub",
        shift=[1000, 5000],
        breaks=[{"id": "b", "windows": [[0, 500], [2000, 2100]], "duration": 60}],
    )
    m.add_job("j1", location=2)
    solution = solved(m.build())
    brk = next(s for s in solution.routes[0].steps if s.type == "break")
    assert 2000 <= brk.start <= 2100


@pytest.mark.parametrize("limit", ["max_distance", "max_duration"])
def test_route_limits_split_the_work(limit: str) -> None:
    m = line_model([0, 2, -2])
    for v in ("v1", "v2"):
        m.add_vehicle(v, start="hub", end="hub", **{limit: 500})
    m.add_job("east", location=1)
    m.add_job("west", location=2)
    solution = solved(m.build())
    assert solution.summary.routes == 2
    assert sorted(r.distance for r in solution.routes) == [400, 400]


@pytest.mark.parametrize("engine", BOTH)
def test_fixed_cost_picks_the_cheaper_vehicle(engine: str) -> None:
    m = line_model(2)
    m.add_vehicle("dear", start="hub", end="hub", fixed_cost=1000)
    m.add_vehicle("cheap", start="hub", end="hub", fixed_cost=10)
    m.add_job("j1", location=1)
    solution = solved(m.build(), engine)
    assert [r.vehicle for r in solution.routes] == ["cheap"]
    assert solution.summary.cost == pytest.approx(10 + 200)


def test_cost_per_km_and_per_hour() -> None:
    m = line_model(2)
    m.set_matrices("van", line_matrix([0, 1]), 2 * line_matrix([0, 1]))  # 200 m each way
    m.add_vehicle("v1", start="hub", end="hub", cost_per_km=5, cost_per_hour=36)
    m.add_job("j1", location=1)
    solution = solved(m.build())
    # 0.4 km at 5 per km + 200 s (1/18 h) at 36 per hour
    assert solution.summary.cost == pytest.approx(0.4 * 5 + 2)


def test_skills_send_the_job_to_the_vehicle_that_has_them() -> None:
    m = line_model(2)
    m.add_vehicle("plain", start="hub", end="hub")
    m.add_vehicle("crew", start="hub", end="hub", skills={"two-person"}, fixed_cost=50)
    m.add_job("fridge", location=1, skills={"two-person"})
    solution = solved(m.build())
    assert [r.vehicle for r in solution.routes] == ["crew"]


@pytest.mark.parametrize(("pooled", "vehicle"), [(True, "jd-van"), (False, "sf-van")])
def test_firms_share_vehicles_only_when_pooled(pooled: bool, vehicle: str) -> None:
    m = line_model(2, pooled=pooled)
    m.add_vehicle("jd-van", start="hub", end="hub", firm="jd")
    m.add_vehicle("sf-van", start="hub", end="hub", firm="sf", fixed_cost=100)
    m.add_job("parcel", location=1, firm="sf")
    solution = solved(m.build())
    assert [r.vehicle for r in solution.routes] == [vehicle]


@pytest.mark.parametrize(("penalty", "served"), [(10.0, False), (5000.0, True)])
def test_optional_job_is_served_only_when_worth_its_penalty(penalty: float, served: bool) -> None:
    m = line_model(6)
    m.add_vehicle("v1", start="hub", end="hub")
    m.add_job("near", location=1)
    m.add_job("far", location=5, penalty=penalty)
    solution = solved(m.build())
    assert ("far" in solution.assigned_ids()) is served
    if not served:
        assert "optional" in solution.unassigned[0].reason
        assert solution.summary.penalty == pytest.approx(10.0)


def test_priority_decides_which_job_gets_the_last_room() -> None:
    m = line_model(4)
    m.add_vehicle("v1", start="hub", end="hub", capacity=(5,))
    m.add_job("near", location=1, delivery=(5,))
    m.add_job("urgent", location=3, delivery=(5,), priority=50)
    solution = solved(m.build())
    assert solution.assigned_ids() == {"urgent"}


@pytest.mark.parametrize("engine", BOTH)
def test_shipments_pickup_before_delivery_within_capacity(engine: str) -> None:
    m = line_model(4)
    m.add_vehicle("v1", start="hub", end="hub", capacity=(10,))
    m.add_shipment("s1", pickup={"location": 3}, delivery={"location": 1}, amount=(8,))
    m.add_shipment("s2", pickup={"location": 1}, delivery={"location": 2}, amount=(8,))
    solution = solved(m.build(), engine)
    assert order(solution, "v1") == ["pickup:s2", "delivery:s2", "pickup:s1", "delivery:s1"]
    assert solution.summary.cost == pytest.approx(600)


def test_open_route_without_end_stops_at_its_last_job() -> None:
    m = line_model(4)
    m.add_vehicle("v1", start="hub", end=None)
    m.add_job("a", location=1)
    m.add_job("b", location=3)
    solution = solved(m.build())
    assert order(solution, "v1") == ["a", "b"]
    assert solution.summary.cost == pytest.approx(300)
    assert solution.routes[0].steps[-1].type == "job"


def test_open_route_without_start_begins_at_its_first_job() -> None:
    m = line_model(4)
    m.add_vehicle("v1", start=None, end="hub")
    m.add_job("a", location=1)
    m.add_job("b", location=3)
    solution = solved(m.build())
    assert order(solution, "v1") == ["b", "a"]
    assert solution.summary.cost == pytest.approx(300)


@pytest.mark.parametrize(("window_end", "served"), [(1050, False), (1200, True)])
def test_centre_opening_hours_bound_departure(window_end: float, served: bool) -> None:
    m = line_model(2, opening=[1000, 5000])
    m.add_vehicle("v1", start="hub", end="hub")
    m.add_job("j1", location=1, time_windows=[[0, window_end]])
    solution = solved(m.build())
    assert ("j1" in solution.assigned_ids()) is served
    if served:
        assert solution.routes[0].steps[0].arrival >= 1000


@pytest.mark.parametrize("engine", BOTH)
def test_start_centre_closing_and_end_centre_opening_hold(engine: str) -> None:
    m = line_model(3, opening=[0, 100])  # the hub lets vehicles out until 100 only
    m.add_centre("depot", location=2, opening=[700, 1000])
    m.add_vehicle("v1", start="hub", end="depot")
    m.add_job("j1", location=1, time_windows=[[500, 600]])
    route = solved(m.build(), engine).routes[0]  # checked: leaves by 100, back after 700
    assert route.steps[0].arrival <= 100 and route.end_time >= 700


def test_unreachable_job_is_left_out_with_reason() -> None:
    m = line_model(3)
    durations = line_matrix(range(3))
    durations[2, :2] = durations[:2, 2] = np.inf
    m.set_matrices("van", durations, durations)
    m.add_vehicle("v1", start="hub", end="hub")
    m.add_job("ok", location=1)
    m.add_job("island", location=2)
    solution = solved(m.build())
    assert [u.id for u in solution.unassigned] == ["island"]
    assert "unreachable" in solution.unassigned[0].reason


def test_deliveries_and_pickups_share_capacity_in_route_order() -> None:
    m = line_model(3)
    m.add_vehicle("v1", start="hub", end="hub", capacity=(5,))
    m.add_job("drop", location=2, delivery=(5,))
    m.add_job("collect", location=1, pickup=(5,))
    solution = solved(m.build())
    # collecting first would need room for 10; the parcels go out before the returns come in
    assert order(solution, "v1") == ["drop", "collect"]
    assert [s.load for s in solution.routes[0].steps] == [(5,), (0,), (5,), (5,)]


@pytest.mark.parametrize("race", [False, True])
def test_auto_picks_ortools_for_breaks_and_says_why(race: bool) -> None:
    m = line_model(2)
    m.add_vehicle(
        "v1", start="hub", end="hub", breaks=[{"id": "b", "windows": [[0, 1000]], "duration": 10}]
    )
    m.add_job("j1", location=1)
    solution = solve(m.build(), time_limit_s=0.3, race=race)
    assert solution.engine == "ortools"
    assert "PyVRP does not fit" in solution.engine_reason and "breaks" in solution.engine_reason
    assert "PyVRP's plan of a simplified version can seed OR-Tools" in solution.engine_reason
    if race:
        assert "raced on" in solution.engine_reason


def test_warm_start_from_pyvrp_keeps_the_real_rules() -> None:
    from routing.solve import simplified

    m = line_model(4)
    m.add_vehicle(
        "v1",
        start="hub",
        end="hub",
        capacity=(10,),
        breaks=[{"id": "b", "windows": [[250, 260]], "duration": 100}],
    )
    m.add_job("j1", location=1, time_windows=[[0, 50], [100, 150]], delivery=(3,))
    m.add_job("j2", location=3, delivery=(3,))
    m.add_shipment(
        "s1",
        pickup={"location": 2, "time_windows": [[0, 40], [300, 400]]},
        delivery={"location": 1},
    )
    problem = m.build()
    simple = simplified(problem)
    assert simple is not None and not simple.vehicles[0].breaks
    assert [(w.start, w.end) for w in simple.shipment("s1").pickup.time_windows] == [(300, 400)]
    solution = solve(problem, time_limit_s=0.5, race=False)
    assert check(problem, solution).ok and solution.summary.unassigned == 0
    assert solution.meta["warm_start"] is not None  # PyVRP's plan was offered to OR-Tools


def test_warm_start_whose_plan_breaks_a_real_rule_still_gives_a_checked_plan() -> None:
    m = line_model(4)
    # without its break the van does all three jobs in its 800 s shift; with it, only two
    m.add_vehicle(
        "v1",
        start="hub",
        end="hub",
        shift=[0, 800],
        breaks=[{"id": "b", "windows": [[0, 500]], "duration": 300}],
    )
    for k in (1, 2, 3):
        m.add_job(f"j{k}", location=k, service=50)
    problem = m.build()
    solution = solve(problem, time_limit_s=0.5, race=False)
    assert check(problem, solution).ok
    assert solution.summary.unassigned == 1 and "PyVRP's plan" in solution.engine_reason


def test_no_warm_start_where_even_the_simplified_problem_does_not_fit() -> None:
    from routing.solve import simplified

    m = line_model(3)
    m.add_vehicle(
        "v1",
        start="hub",
        end="hub",
        max_distance=1000,  # paying per hour too:
        breaks=[{"id": "b", "duration": 60}],
    )  # not in the PyVRP engine's model
    m.add_job("j1", location=1, time_windows=[[0, 50], [100, 150]])
    problem = m.build()
    assert simplified(problem) is None
    solution = solve(problem, time_limit_s=0.3, race=False)
    assert solution.engine == "ortools" and "simplified" not in solution.engine_reason


@pytest.mark.parametrize("race", [False, True])
def test_auto_uses_pyvrp_where_it_fits(race: bool) -> None:
    m = line_model(4)
    m.add_vehicle("v1", start="hub", end="hub", capacity=(10,))
    for k in (1, 2, 3):
        m.add_job(f"j{k}", location=k, delivery=(3,))
    updates: list[Progress] = []
    solution = solve(m.build(), time_limit_s=0.5, race=race, progress=updates.append)
    assert solution.summary.cost == pytest.approx(600)
    if race:
        assert "PyVRP fits" in solution.engine_reason and "raced on" in solution.engine_reason
        assert updates and updates[-1].cost is not None  # OR-Tools reports its progress
    else:
        assert solution.engine == "pyvrp" and "fits PyVRP" in solution.engine_reason


def test_geojson_and_vroom_output() -> None:
    m = line_model(3)
    m.add_vehicle("v1", start="hub", end="hub")
    m.add_job("j1", location=1)
    problem = m.build()
    solution = solved(problem)
    geo = solution.to_geojson()
    lines = [f for f in geo["features"] if f["geometry"]["type"] == "LineString"]
    assert len(lines) == 1 and lines[0]["geometry"]["coordinates"][0] == [120.3, 36.0]
    out = solution.to_vroom(problem)
    assert out["summary"]["cost"] == 200 and out["routes"][0]["steps"][1]["id"] == "j1"
    assert [s["type"] for s in out["routes"][0]["steps"]] == ["start", "job", "end"]


def test_a_restored_route_that_breaks_a_rule_keeps_its_feasible_tasks() -> None:
    from routing.engines.ortools_engine import _Builder
    from routing.solution import RoutePlan, Visit, build_solution

    m = line_model(4)
    m.add_vehicle("v1", start="hub", end="hub")
    m.add_job("j1", location=1)
    m.add_job("j2", location=2, time_windows=[[0, 250]])
    m.add_job("j3", location=3)
    problem = m.build()
    # j3 first reaches j2 at 400, after its window: only j2 has to go, not the whole route
    plan = build_solution(
        problem, [RoutePlan("v1", [Visit("job", t) for t in ("j3", "j2", "j1")])], {}, engine="test"
    )
    builder = _Builder(problem)
    builder.build(finalizers=False)
    restored = builder.restore(plan, builder.parameters(1.0), budget_s=1.0)
    assert restored is not None
    plans, left = builder.read(restored)
    assert [v.id for v in plans[0].visits] == ["j3", "j1"] and left == ["j2"]


def test_warm_start_gives_pyvrp_all_but_the_descent_time() -> None:
    from routing.solve import _pyvrp_seconds

    m = line_model(2)
    m.add_vehicle("v1", start="hub", end="hub")
    for k in range(50):
        m.add_job(f"j{k}", location=1)
    problem = m.build()
    assert _pyvrp_seconds(problem, 10.0) == pytest.approx(9.0)  # 0.5 s of descent: at least 10 %
    assert _pyvrp_seconds(problem, 1.0) == pytest.approx(0.7)  # at most 30 %
    assert _pyvrp_seconds(problem, 3.0) == pytest.approx(2.5)  # 10 ms per task
