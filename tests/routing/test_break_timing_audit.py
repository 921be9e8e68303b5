"""Regressions from the time audit (findings 3 and 6): how a route with a break is timed, what
the checker makes of a route whose span is not its travel + service + waiting + breaks, and
what a stop of the route GeoJSON tells a dispatcher."""

from __future__ import annotations

import pytest
from test_routing_check import plan

from routing.check import check
from routing.model import Model, Problem
from routing.solution import TOL, Route, Solution, Step, Visit, _num
from routing.solve import solve

H = 3600.0
LUNCH = 1800.0
LEG = 600.0  # every leg of the audit's day: 600 s and 5 km


def lunch_day(windows: list[list[float]] | None = None, *, lunch: bool = True) -> Problem:
    """The audit's reproducer: a van out of 'hub' from 08:00, job 'a' due 09:00-09:10 and job 'b'
    due 13:00-13:10 (300 s of service each), every leg 600 s, lunch starting 12:00-12:30 (or
    in `windows`; none without `lunch`)."""
    m = Model()
    for k in range(3):
        m.add_location(lat=36.0 + 0.01 * k, lon=120.3)
    m.add_centre("hub", location=0)
    brk = {"id": "lunch", "windows": windows or [[12 * H, 12.5 * H]], "duration": LUNCH}
    breaks = [brk] if lunch else []
    m.add_vehicle("van", start="hub", end="hub", shift=[8 * H, 18 * H], breaks=breaks)
    m.add_job("a", location=1, service=300, time_windows=[[9 * H, 9 * H + 600]])
    m.add_job("b", location=2, service=300, time_windows=[[13 * H, 13 * H + 600]])
    durations = [[0, LEG, LEG], [LEG, 0, LEG], [LEG, LEG, 0]]
    distances = [[0, 5000, 5000], [5000, 0, 5000], [5000, 5000, 0]]
    m.set_matrices("van", durations, distances)
    return m.build()


def engine_timed(problem: Problem, lunch_at: float) -> Solution:
    """The plan as OR-Tools times it: leave at 09:00, serve 'a' at 09:10, lunch at `lunch_at`,
    serve 'b' at 13:00."""
    visits = [
        Visit("job", "a", 9 * H + 600),
        Visit("break", "lunch", lunch_at),
        Visit("job", "b", 13 * H),
    ]
    return plan(problem, ("van", visits), departure=9 * H)


def unaccounted(route: Route) -> float:
    """Route span less travel, service, waiting and breaks: 0 under VROOM's timing."""
    steps = route.steps
    span = steps[-1].departure - steps[0].arrival
    return span - route.duration - sum(s.service + s.waiting for s in steps)


def assert_legs_take_their_travel(route: Route) -> None:
    """Each step is reached when the one before it ends plus the travel between them."""
    for prev, step in zip(route.steps, route.steps[1:], strict=False):
        assert step.arrival == pytest.approx(prev.departure + step.duration - prev.duration), (
            f"{step.type} {step.id}"
        )


def step(route: Route, kind: str, ident: str | None = None) -> Step:
    return next(s for s in route.steps if s.type == kind and (ident is None or s.id == ident))


# --------------------------------------------------------------------------- finding 3: timing


def test_idle_before_a_lunch_is_the_lunchs_waiting_taken_at_the_stop_it_is_taken_at() -> None:
    problem = lunch_day()
    solution = engine_timed(problem, 12 * H)
    route = solution.routes[0]
    lunch, b = step(route, "break"), step(route, "job", "b")
    # the van leaves 'a' at 09:15, reaches 'b' at 09:25, idles there until lunch at 12:00
    assert (lunch.location, lunch.arrival, lunch.waiting) == (2, 9 * H + 1500, 9300)
    assert lunch.start == 12 * H and lunch.duration == 2 * LEG
    # after lunch nothing is left to drive: 'b' is reached when lunch ends, served at 13:00
    assert (b.arrival, b.waiting) == (12.5 * H, 1800)
    assert route.waiting == solution.summary.waiting == 9300 + 1800
    assert unaccounted(route) == pytest.approx(0.0)
    assert_legs_take_their_travel(route)
    report = check(problem, solution)
    assert report.ok, [str(v) for v in report.violations]


def test_a_lunch_on_leaving_is_at_the_stop_left_and_the_whole_drive_follows_it() -> None:
    # lunch starting 09:15, the moment 'a' is done: the 600 s to 'b' come after it
    problem = lunch_day(windows=[[9 * H + 900, 9 * H + 900]])
    route = engine_timed(problem, 9 * H + 900).routes[0]
    lunch, b = step(route, "break"), step(route, "job", "b")
    assert (lunch.location, lunch.arrival, lunch.waiting) == (1, 9 * H + 900, 0)
    assert lunch.duration == LEG  # the travel to 'a' only
    assert b.arrival == 9 * H + 900 + LUNCH + LEG  # not the second the lunch ends
    assert unaccounted(route) == pytest.approx(0.0)
    assert_legs_take_their_travel(route)
    assert check(problem, engine_timed(problem, 9 * H + 900)).ok


def test_a_lunch_due_mid_drive_is_on_the_road_with_the_rest_of_the_drive_after_it() -> None:
    # lunch due at 09:20, 300 s into the drive to 'b': VROOM's place for it is the road
    problem = lunch_day(windows=[[9 * H + 1200, 9 * H + 1200]])
    solution = engine_timed(problem, 9 * H + 1200)
    route = solution.routes[0]
    lunch, b = step(route, "break"), step(route, "job", "b")
    assert (lunch.location, lunch.coordinates, lunch.waiting) == (None, None, 0)
    assert (lunch.duration, lunch.distance) == (LEG + 300, 5000 + 2500)
    assert b.arrival == 9 * H + 1200 + LUNCH + 300
    assert unaccounted(route) == pytest.approx(0.0)
    assert "location_index" not in solution.to_vroom()["routes"][0]["steps"][2]
    assert check(problem, solution).ok


def test_without_engine_times_idle_before_a_lunch_is_waiting_too() -> None:
    # the timing of plans without service starts (PyVRP's, hand-made ones): same reading
    problem = lunch_day()
    visits = [Visit("job", "a"), Visit("break", "lunch"), Visit("job", "b")]
    solution = plan(problem, ("van", visits))
    route = solution.routes[0]
    lunch = step(route, "break")
    assert (lunch.location, lunch.start) == (2, 12 * H)
    # 'a' served at 09:00 (its window's start), left at 09:05, 'b' reached at 09:15
    assert (lunch.arrival, lunch.waiting) == (9 * H + 900, 12 * H - (9 * H + 900))
    assert unaccounted(route) == pytest.approx(0.0)
    assert_legs_take_their_travel(route)
    report = check(problem, solution)
    assert report.ok, [str(v) for v in report.violations]


@pytest.mark.parametrize("engine", ["ortools", "pyvrp"])
def test_every_engines_routes_account_for_their_whole_span(engine: str) -> None:
    # PyVRP takes no breaks, so it plans the day without lunch; OR-Tools with it
    problem = lunch_day(lunch=engine == "ortools")
    solution = solve(problem, engine=engine, time_limit_s=0.5)
    (route,) = solution.routes
    assert unaccounted(route) == pytest.approx(0.0, abs=10 * TOL)
    assert_legs_take_their_travel(route)
    report = check(problem, solution)
    assert report.ok, [str(v) for v in report.violations]


# --------------------------------------------------------------------------- finding 3: checker


def replace_steps(solution: Solution, **changes: dict) -> Solution:
    """`solution` with the steps named by id (or 'break') changed; figures left as reported."""
    route = solution.routes[0]
    steps = tuple(
        s.model_copy(update=changes.get(s.id or "", {})) for s in route.steps
    )
    return solution.model_copy(update={"routes": (route.model_copy(update={"steps": steps}),)})


def test_the_checker_rejects_the_audits_plan_a_lunch_at_a_and_b_reached_as_it_ends() -> None:
    problem = lunch_day()
    good = engine_timed(problem, 12 * H)
    # the old timing: lunch at 'a' at 12:00 (the idle since 09:15 nowhere), 'b' at 12:30
    old = replace_steps(
        good,
        lunch={"location": 1, "arrival": 12 * H, "waiting": 0.0, "duration": LEG, "distance": 5000},
        b={"arrival": 12.5 * H, "waiting": 1800.0},
    )
    old = old.model_copy(
        update={"routes": (old.routes[0].model_copy(update={"waiting": 1800.0}),),
                "summary": old.summary.model_copy(update={"waiting": 1800.0})}
    )
    messages = [str(v) for v in check(problem, old).violations]
    assert any(
        "[time]" in m and "job 'b': arrives at 45000, before it can" in m and "600 s of travel" in m
        for m in messages
    ), messages
    assert any(
        "route span 15300 s" in m and "+9300 s unaccounted" in m and "before break 'lunch'" in m
        for m in messages
    ), messages


def test_the_checker_rejects_idle_time_that_no_step_reports() -> None:
    problem = lunch_day()
    good = engine_timed(problem, 12 * H)
    # the lunch at 'b' with its 9,300 s of waiting dropped: every leg still takes its time
    idle = replace_steps(good, lunch={"arrival": 12 * H, "waiting": 0.0})
    messages = [str(v) for v in check(problem, idle).violations]
    assert any("+9300 s unaccounted, 9300 s of it before break 'lunch'" in m for m in messages), (
        messages
    )


def test_the_checker_rejects_a_lunch_placed_where_the_van_is_not() -> None:
    problem = lunch_day()
    good = engine_timed(problem, 12 * H)
    # the whole drive to 'b' (location 2) is done before lunch, so it cannot be at 'a' (1)
    moved = replace_steps(good, lunch={"location": 1})
    messages = [str(v) for v in check(problem, moved).violations]
    assert messages == [
        "[report] vehicle 'van': taken at location 1, but it starts after 600 s of the 600 s "
        "drive from location 1 to 2"
    ]


# --------------------------------------------------------------------------- finding 6: GeoJSON


def test_a_geojson_stop_gives_waiting_service_start_and_departure_in_seconds() -> None:
    problem = lunch_day()
    solution = engine_timed(problem, 12 * H)
    geo = solution.to_geojson()
    points = {f["properties"]["id"]: f["properties"] for f in geo["features"]
              if f["geometry"]["type"] == "Point"}
    b = points["b"]
    assert (b["arrival_s"], b["waiting_s"], b["service_start_s"]) == (12.5 * H, 1800, 13 * H)
    assert (b["service_s"], b["departure_s"]) == (300, 13 * H + 300)
    assert b["arrival"] == b["arrival_s"]  # the older name stays for its readers
    assert points["a"]["departure_s"] == 9 * H + 900


def test_geojson_route_figures_are_rounded_as_in_the_json() -> None:
    m = Model()
    for _ in range(2):
        m.add_location(lat=36.0, lon=120.3)
    m.add_centre("hub", location=0)
    m.add_vehicle("van", start="hub", end="hub", cost_per_km=1.5, cost_per_hour=30)
    m.add_job("a", location=1)
    m.set_matrices("van", [[0, 601.3], [601.3, 0]], [[0, 4010.4444], [4010.4444, 0]])
    problem = m.build()
    solution = plan(problem, ("van", [Visit("job", "a")]))
    (line,) = [f for f in solution.to_geojson()["features"]
               if f["geometry"]["type"] == "LineString"]
    route = solution.to_vroom(problem)["routes"][0]
    assert solution.routes[0].cost != _num(solution.routes[0].cost)  # rounding does something
    figures = {"cost": "cost", "distance_m": "distance", "duration_s": "duration"}
    assert {k: line["properties"][k] for k in figures} == {
        k: route[name] for k, name in figures.items()
    }
