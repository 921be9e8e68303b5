"""OR-Tools on problems the model accepts but one vehicle, break or task of which can never be
used: the engine must not crash nor lose the plan for the rest (routing audit, items 1, 2, 4,
6, 8 and 11), nor spend its time placing a break (finding 401). Every plan must pass the
independent checker (see `solved`)."""

from __future__ import annotations

import pytest
from routing_helpers import line_model, order, solved

from routing.model import Model, ProblemError


def _two_centres(direct: float, via_job: float = 50.0) -> Model:
    """Centres c0 (location 0) and c1 (location 1), job location 2: c1 -> c0 takes `direct`
    seconds, each leg to or from the job `via_job`."""
    m = Model()
    for _ in range(3):
        m.add_location()
    m.add_centre("c0", location=0)
    m.add_centre("c1", location=1, opening=[1000, 2000])
    t = [[0, direct, via_job], [direct, 0, via_job], [via_job, via_job, 0]]
    m.set_matrices("van", t, t)
    return m


# ------------------------------------------------------------------ item 1
def test_a_break_that_closes_before_the_shift_opens_is_refused() -> None:
    """It raised "CP Solver fail" while the model was built, then left its vehicle unused with
    no word of the break to the caller; the problem now refuses it (firm audit, finding 6; see
    test_routing_break_fits_shift.py)."""
    m = line_model(2)
    m.add_vehicle(
        "v",
        start="hub",
        end="hub",
        shift=[1000, 5000],
        breaks=[{"id": "lunch", "windows": [[0, 500]], "duration": 60}],
    )
    m.add_vehicle("ok", start="hub", end="hub")
    m.add_job("a", location=1)
    with pytest.raises(ProblemError, match=r"^vehicle 'v': break 'lunch': windows: "):
        m.build()


def test_a_break_longer_than_the_shift_is_refused() -> None:
    m = line_model(2)
    m.add_vehicle(
        "v", start="hub", end="hub", shift=[0, 400], breaks=[{"id": "b", "duration": 500}]
    )
    m.add_job("a", location=1)
    with pytest.raises(ProblemError, match=r"^vehicle 'v': break 'b': duration: 500 s is longer"):
        m.build()


# ------------------------------------------------------------------ item 2
def test_one_impossible_shipment_leaves_only_itself_out() -> None:
    m = line_model(3)
    m.add_vehicle("v", start="hub", end="hub", breaks=[{"id": "b", "duration": 10}])
    m.add_job("easy", location=1)
    m.add_shipment(
        "late",
        pickup={"location": 1, "time_windows": [[500, 600]]},
        delivery={"location": 2, "time_windows": [[0, 100]]},
    )
    solution = solved(m.build())  # was: no plan at all, both tasks "no plan found"
    assert "easy" in order(solution, "v")
    assert [u.id for u in solution.unassigned] == ["late"]
    assert "time windows" in solution.unassigned[0].reason


# ------------------------------------------------------------------ item 4
def test_a_zero_length_break_at_a_service_start_is_listed_before_the_stop() -> None:
    m = line_model(2)
    m.add_vehicle(
        "v", start="hub", end="hub", breaks=[{"id": "b", "duration": 0, "windows": [[100, 100]]}]
    )
    m.add_job("a", location=1, service=60, time_windows=[[100, 100]])
    solution = solved(m.build())  # the checker rejected the break listed after `a`
    assert order(solution, "v") == ["break:b", "a"]


def test_a_break_right_after_a_stop_without_service_is_listed_after_it() -> None:
    m = line_model(2)
    m.add_vehicle(
        "v", start="hub", end="hub", breaks=[{"id": "b", "duration": 30, "windows": [[100, 100]]}]
    )
    m.add_job("a", location=1, time_windows=[[100, 100]])
    solution = solved(m.build())
    assert order(solution, "v") == ["a", "break:b"]


# ------------------------------------------------------------------ item 6
@pytest.mark.parametrize(
    "windows",
    [
        [[100.0004, 100.0006]],  # narrower than the 1 ms unit, between two units
        [[100.0001, 100.0002], [100.0003, 100.0004], [300, 400]],  # two round to one unit
    ],
)
def test_a_window_narrower_than_a_millisecond_is_served(windows: list[list[float]]) -> None:
    m = line_model(2)
    m.add_vehicle("v", start="hub", end="hub")
    m.add_job("a", location=1, time_windows=windows)
    solution = solved(m.build())  # raised "CP Solver fail" (the rounded window was empty)
    assert order(solution, "v") == ["a"]
    route = solution.route("v")
    assert route is not None and abs(route.steps[1].start - 100.0005) < 1e-3


def test_a_break_window_narrower_than_a_millisecond_is_kept() -> None:
    m = line_model(2)
    m.add_vehicle(
        "v",
        start="hub",
        end="hub",
        breaks=[{"id": "b", "duration": 1, "windows": [[50.0004, 50.0006]]}],
    )
    m.add_job("a", location=1)
    solution = solved(m.build())
    assert order(solution, "v") == ["break:b", "a"]


# ------------------------------------------------------------------ item 8
def test_two_breaks_before_leaving_do_not_overlap() -> None:
    m = line_model([0, 0.2])
    m.add_vehicle(
        "v",
        start="hub",
        end="hub",
        shift=[0, 400],
        breaks=[{"id": "long", "duration": 300}, {"id": "short", "duration": 30}],
    )
    m.add_job("a", location=1)
    solution = solved(m.build())  # was: long 0-300 and short 270-300
    assert order(solution, "v")[-1] == "a"


def test_two_breaks_inside_the_route_do_not_overlap() -> None:
    m = line_model([0, 0.2, 0.4])
    m.add_vehicle(
        "v",
        start="hub",
        end="hub",
        shift=[0, 1000],
        breaks=[
            {"id": "long", "duration": 300, "windows": [[25, 30]]},
            {"id": "short", "duration": 30, "windows": [[25, 600]]},
        ],
    )
    m.add_job("b", location=1, time_windows=[[20, 20]])
    m.add_job("a", location=2, time_windows=[[340, 900]])
    solution = solved(m.build())  # was: short 25-55 inside long 25-325
    assert order(solution, "v") == ["b", "break:long", "break:short", "a"]


# ------------------------------------------------------------------ item 11
def test_a_vehicle_that_cannot_drive_straight_home_in_time_does_not_sink_the_plan() -> None:
    m = _two_centres(direct=142, via_job=100)
    m.add_vehicle("v0", start="c1", end="c0", shift=[0, 1100])  # leaves >= 1000, home by 1100
    m.add_vehicle("good", start="c0", end="c0")
    m.add_job("x", location=2)
    solution = solved(m.build())  # was: no routes, x "no plan found within the time limit"
    assert order(solution, "good") == ["x"] and solution.route("v0") is None


def test_a_vehicle_whose_detour_is_faster_than_its_direct_way_home_may_serve() -> None:
    m = _two_centres(direct=500, via_job=20)  # c1 -> c0 500 s, c1 -> job -> c0 40 s
    m.add_vehicle("v0", start="c1", end="c0", shift=[0, 1100])
    m.add_job("x", location=2)
    solution = solved(m.build())
    assert order(solution, "v0") == ["x"]


def test_a_vehicle_whose_start_centre_opens_after_its_end_centre_closes_stays_unused() -> None:
    m = _two_centres(direct=10)
    m.add_centre("early", location=0, opening=[0, 500])
    m.add_vehicle("v0", start="c1", end="early")  # may leave at 1000, be back by 500
    m.add_vehicle("good", start="c0", end="c0")
    m.add_job("x", location=2)
    solution = solved(m.build())
    assert order(solution, "good") == ["x"] and "v0" in solution.meta["unusable_vehicles"]


# ------------------------------------------------------------------ finding 401
def test_a_break_after_the_last_stop_is_placed_at_once_on_data_in_milliseconds() -> None:
    # The lunch cannot come before leaving (the job would be late), so it falls between the
    # job and the return, ending the route an hour later than the job alone would. The route
    # end, fixed before the break, rose one millisecond per failure: 3.6 million of them for
    # the hour, seconds for this one job (travel 502.25 s puts times in milliseconds), so
    # there was no plan at all within the limit.
    m = Model()
    for _ in range(2):
        m.add_location()
    m.add_centre("hub", location=0)
    travel = [[0, 502.25], [502.25, 0]]
    m.set_matrices("van", travel, travel)
    m.add_vehicle(
        "v",
        start="hub",
        end="hub",
        shift=["08:00", "18:00"],
        breaks=[{"id": "lunch", "windows": [["12:00", "13:30"]], "duration": 3600}],
    )
    m.add_job("a", location=1, service=300, time_windows=[["12:05", "12:40"]])
    solution = solved(m.build())  # was: "a" left out, "no plan ... within the time limit"
    assert order(solution, "v") == ["a", "break:lunch"] and not solution.unassigned


def test_a_search_with_no_plan_by_its_deadline_still_returns_a_first_plan(monkeypatch) -> None:
    """On 2,000 jobs with breaks the warm start's restore overran and the cold search after it
    had no time left for a first plan: every job came back unassigned, "checker: OK". The
    first-solution heuristic now gets up to the limit again."""
    import routing.engines.ortools_engine as engine
    from routing.check import check

    monkeypatch.setattr(engine, "_searched", lambda *args: None)  # nothing by the deadline
    m = line_model(4)
    m.add_vehicle("v1", start="hub", end="hub", capacity=(10,))
    for k in range(1, 4):
        m.add_job(f"j{k}", location=k, delivery=(1,))
    problem = m.build()
    solution = engine.solve(problem, time_limit_s=1)
    assert solution.meta["first_plan_after_limit"] and not solution.unassigned
    assert check(problem, solution).ok
