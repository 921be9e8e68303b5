"""Reasons for leaving a task out must be true: a task that fits in a later window or around a
break is not called impossible, a break that cannot fit is named, and a task left out while a
vehicle that could serve it alone stands idle is blamed on the search, not on the room."""

from __future__ import annotations

from routing_helpers import line_model, solved

from routing.model import Model
from routing.unassigned import explain, fits_alone

BREAKS_FAIL = (
    "no vehicle can serve it even alone: its breaks cannot all be taken on a route serving it "
    "(break windows, shift or max duration)"
)


def test_a_job_fits_alone_in_its_later_window_under_a_max_duration() -> None:
    # Served at once (window [0, 50]) the van waits for the yard until 1000: far over its
    # 100 s; leaving at 980 serves it at 990 in its later window and ends at 1000.
    m = Model()
    for _ in range(3):
        m.add_location()
    m.add_centre("depot", location=0)
    m.add_centre("yard", location=2, opening=[1000, 2000])
    m.add_vehicle("v", start="depot", end="yard", max_duration=100)
    m.add_job("a", location=1, time_windows=[[0, 50], [950, 990]])
    legs = [[0, 10, 20], [10, 0, 10], [20, 10, 0]]
    m.set_matrices("van", legs, legs)
    problem = m.build()
    assert fits_alone(problem, problem.job("a"))
    for engine in ("ortools", "pyvrp"):  # PyVRP left it out up front, as unservable alone
        assert solved(problem, engine).assigned_ids() == {"a"}


def test_a_break_that_does_not_fit_beside_the_job_is_named() -> None:
    # 200 s of driving and a 250 s break do not fit in a 300 s shift
    m = line_model(2)
    m.add_vehicle("v", start="hub", end="hub", shift=[0, 300],
                  breaks=[{"id": "b", "duration": 250}])  # fmt: skip
    m.add_job("a", location=1)
    problem = m.build()
    assert explain(problem, "a") == BREAKS_FAIL
    solution = solved(problem, "ortools")
    assert [u.reason for u in solution.unassigned] == [BREAKS_FAIL]


def test_a_break_placed_before_the_stop_makes_the_job_fit() -> None:
    # the break must start by 50, so it is taken before leaving; the job is served at 200
    m = line_model(2)
    m.add_vehicle("v", start="hub", end="hub", shift=[0, 400],
                  breaks=[{"id": "b", "duration": 100, "windows": [[0, 50]]}])  # fmt: skip
    m.add_job("a", location=1, time_windows=[[200, 220]])
    problem = m.build()
    assert fits_alone(problem, problem.job("a"))
    assert solved(problem, "ortools", time_limit_s=1.0).assigned_ids() == {"a"}
    # with the shift ending at 250 the van cannot be back after the break and the job
    m = line_model(2)
    m.add_vehicle("v", start="hub", end="hub", shift=[0, 250],
                  breaks=[{"id": "b", "duration": 100, "windows": [[0, 50]]}])  # fmt: skip
    m.add_job("a", location=1, time_windows=[[100, 220]])
    assert explain(m.build(), "a") == BREAKS_FAIL


def test_a_task_left_out_beside_an_idle_vehicle_that_could_serve_it_blames_the_search() -> None:
    m = line_model(2)
    m.add_vehicle("v1", start="hub", end="hub")
    m.add_vehicle("v2", start="hub", end="hub")
    m.add_job("a", location=1)
    problem = m.build()
    assert explain(problem, "a", used={"v1"}) == (
        "no plan serving it was found within the time limit, though it fits alone on idle "
        "vehicle 'v2'"
    )
    assert explain(problem, "a", used={"v1", "v2"}).startswith("no room left on any vehicle")
    assert solved(problem, "pyvrp").assigned_ids() == {"a"}
