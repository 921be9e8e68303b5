"""The PyVRP engine on small problems whose right answer is known; every plan goes through the
independent checker."""

import math
from pathlib import Path

import numpy as np
import pytest

from routing.check import check
from routing.engines import EngineError, Progress, pyvrp_engine
from routing.io.lilim import read_lilim
from routing.io.solomon import read_solomon
from routing.model import Model, Problem

LIMIT = 0.5  # seconds per solve: these problems are solved to optimality almost at once


def solved(problem: Problem, **kwargs):
    """Solve with the PyVRP engine and insist that the checker finds nothing wrong."""
    solution = pyvrp_engine.solve(problem, time_limit_s=LIMIT, seed=kwargs.pop("seed", 1),
                                  **kwargs)  # fmt: skip
    report = check(problem, solution)
    assert report.ok, report.summary()
    assert solution.engine == "pyvrp"
    return solution


def line_problem(positions, *, centres=(0.0,), **vehicle_fields) -> Model:
    """Places on a line (position in km, 1 km takes 60 s); centres first, then the job places.

    Returns the builder with centres c0.. and matrices set; add vehicles and jobs to it.
    """
    m = Model()
    points = [*centres, *positions]
    for _ in points:
        m.add_location()
    gaps = np.abs(np.subtract.outer(points, points))
    m.set_matrices("van", durations=gaps * 60.0, distances=gaps * 1000.0)
    for k in range(len(centres)):
        m.add_centre(f"c{k}", location=k)
    return m


def test_cvrp_optimum_and_vehicle_ids():
    # two clusters at -10 and +10 km, 2 parcels each; capacity 2 forces one route per side
    m = line_problem([-10, -10.5, 10, 10.5])
    for k in (1, 2, 3):
        m.add_vehicle(f"van{k}", start="c0", end="c0", capacity=(2,), cost_per_km=1.0,
                      cost_per_hour=0.0)  # fmt: skip
    for i, loc in enumerate(range(1, 5), start=1):
        m.add_job(f"j{i}", location=loc, delivery=(1,))
    solution = solved(m.build())
    assert solution.summary.cost == pytest.approx(42.0)  # 2 x (10.5 + 10.5) km at 1 per km
    assert {r.vehicle for r in solution.routes} <= {"van1", "van2", "van3"}
    assert sorted(sorted(s.id for s in r.task_steps()) for r in solution.routes) == [
        ["j1", "j2"],
        ["j3", "j4"],
    ]


def test_time_windows_force_the_longer_order():
    # geometric best is 1 then 2 (out and back); windows make the van visit 2 first
    m = line_problem([5, 10])
    m.add_vehicle("van", start="c0", end="c0")
    m.add_job("near", location=1, time_windows=[(1800, 2000)])
    m.add_job("far", location=2, time_windows=[(0, 700)])
    solution = solved(m.build())
    assert [s.id for s in solution.routes[0].task_steps()] == ["far", "near"]
    assert solution.summary.unassigned == 0


def test_several_time_windows_pick_the_one_that_fits_best():
    # "a" is open early or late; "b" only mid-morning: the van serves b, then a in its late window
    m = line_problem([5, 10])
    m.add_vehicle("van", start="c0", end="c0")
    m.add_job("a", location=1, time_windows=[(0, 100), (1500, 1600)])
    m.add_job("b", location=2, time_windows=[(1000, 1200)])
    m.add_job("c", location=1, time_windows=[(0, 100), (5000, 5100)], penalty=1e6)
    solution = solved(m.build())
    assert [s.id for s in solution.routes[0].task_steps()] in (["c", "b", "a"], ["b", "a", "c"])
    a = next(s for s in solution.routes[0].task_steps() if s.id == "a")
    assert 1500 <= a.start <= 1600


def test_fractional_travel_times_are_rounded_safely():
    # 1/3-second legs are scaled to milliseconds and rounded up, so the plan's real times can
    # only be earlier than PyVRP's: windows closing 2 ms after the real arrival are kept, and
    # the checker (which recomputes in real numbers) agrees
    m = Model()
    for _ in range(3):
        m.add_location()
    third = np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0]]) / 3.0
    m.set_matrices("van", durations=third, distances=third)
    m.add_centre("c0", location=0)
    m.add_vehicle("van", start="c0", end="c0")
    m.add_job("a", location=1, service=0.5, time_windows=[(0, 1 / 3 + 0.002)])
    m.add_job("b", location=2, time_windows=[(0, 1 / 3 + 0.5 + 1 / 3 + 0.002)])
    solution = solved(m.build())
    assert [s.id for s in solution.routes[0].task_steps()] == ["a", "b"]


def test_optional_job_left_out_when_its_penalty_is_small():
    m = line_problem([1, 50])
    m.add_vehicle("van", start="c0", end="c0", cost_per_km=1.0, cost_per_hour=0.0)
    m.add_job("close", location=1)
    m.add_job("remote", location=2, penalty=20.0)  # serving it costs 98 more
    solution = solved(m.build())
    assert [u.id for u in solution.unassigned] == ["remote"]
    assert "optional" in solution.unassigned[0].reason
    assert solution.summary.penalty == 20.0


def test_optional_job_served_when_its_penalty_is_large():
    m = line_problem([1, 50])
    m.add_vehicle("van", start="c0", end="c0", cost_per_km=1.0, cost_per_hour=0.0)
    m.add_job("close", location=1)
    m.add_job("remote", location=2, penalty=500.0)
    assert not solved(m.build()).unassigned


def test_two_centres_heterogeneous_fleet_and_fixed_costs():
    # centres at 0 and 100 km; each side's jobs go to that side's vehicle
    m = line_problem([1, 2, 98, 99], centres=(0.0, 100.0))
    m.add_vehicle("west", start="c0", end="c0", capacity=(5,), cost_per_km=1.0, cost_per_hour=0)
    m.add_vehicle("east", start="c1", end="c1", capacity=(9,), cost_per_km=1.0, cost_per_hour=0,
                  fixed_cost=3.0)  # fmt: skip
    for i, loc in enumerate((2, 3, 4, 5), start=1):
        m.add_job(f"j{i}", location=loc, delivery=(2,))
    solution = solved(m.build())
    by_vehicle = {r.vehicle: sorted(s.id for s in r.task_steps()) for r in solution.routes}
    assert by_vehicle == {"west": ["j1", "j2"], "east": ["j3", "j4"]}
    assert solution.summary.cost == pytest.approx(4 + 4 + 3)


def test_fixed_cost_keeps_one_vehicle_home():
    m = line_problem([-1, 1])
    for k in (1, 2):
        m.add_vehicle(f"van{k}", start="c0", end="c0", fixed_cost=100.0)
    m.add_job("a", location=1)
    m.add_job("b", location=2)
    assert len(solved(m.build()).routes) == 1


def test_max_duration_splits_the_work():
    # each job alone is a 20-minute round trip with 10 minutes of service; 30 minutes at most
    m = line_problem([10, -10])
    for k in (1, 2):
        m.add_vehicle(f"van{k}", start="c0", end="c0", max_duration=1800)
    m.add_job("a", location=1, service=600)
    m.add_job("b", location=2, service=600)
    solution = solved(m.build())
    assert len(solution.routes) == 2


def test_pickups_and_deliveries_in_two_dimensions():
    m = line_problem([3, 6])
    m.add_vehicle("van", start="c0", end="c0", capacity=(4, 10))
    m.add_job("drop", location=1, delivery=(4, 1))
    m.add_job("collect", location=2, pickup=(4, 10))  # fits only after the drop
    solution = solved(m.build())
    assert [s.id for s in solution.routes[0].task_steps()] == ["drop", "collect"]


def test_shipment_pickup_before_delivery():
    m = line_problem([8, 2])  # delivery point lies between the centre and the pickup
    m.add_vehicle("van", start="c0", end="c0", capacity=(1,))
    m.add_shipment("ret", pickup={"location": 1}, delivery={"location": 2}, amount=(1,))
    m.add_job("near", location=2)
    solution = solved(m.build())
    types = [(s.type, s.id) for s in solution.routes[0].task_steps()]
    assert types.index(("pickup", "ret")) < types.index(("delivery", "ret"))


def test_what_cannot_all_fit_leaves_the_fewest_out():
    # three required jobs of 6, 6 and 3 parcels, one van of 10: one 6 must stay, with a reason
    m = line_problem([1, 2, 3])
    m.add_vehicle("van", start="c0", end="c0", capacity=(10,))
    for k, size in ((1, 6), (2, 6), (3, 3)):
        m.add_job(f"j{k}", location=k, delivery=(size,))
    solution = solved(m.build())
    assert [u.id for u in solution.unassigned] in (["j1"], ["j2"])
    assert "no room" in solution.unassigned[0].reason


def test_what_cannot_all_fit_still_gets_a_plan_when_time_is_already_up():
    # a stalled machine (CI once lost the whole 0.5 s) must not leave every job out: the
    # all-optional search gets its floor of iterations even past the deadline
    m = line_problem([1, 2, 3])
    m.add_vehicle("van", start="c0", end="c0", capacity=(10,))
    for k, size in ((1, 6), (2, 6), (3, 3)):
        m.add_job(f"j{k}", location=k, delivery=(size,))
    problem = m.build()
    solution = pyvrp_engine.solve(problem, time_limit_s=1e-6, seed=1)
    assert check(problem, solution).ok
    assert [u.id for u in solution.unassigned] in (["j1"], ["j2"])
    assert solution.meta["pyvrp_iterations"] >= pyvrp_engine.FALLBACK_ITERATIONS


def test_priority_decides_who_stays_out():
    m = line_problem([1, 2])
    m.add_vehicle("van", start="c0", end="c0", capacity=(1,))
    m.add_job("near", location=1, delivery=(1,))
    m.add_job("urgent", location=2, delivery=(1,), priority=50)
    solution = solved(m.build())
    assert [u.id for u in solution.unassigned] == ["near"]


def test_open_routes_pay_no_way_back_or_way_out():
    m = line_problem([5, 10, -3])
    m.add_vehicle("one-way", start="c0", end=None, cost_per_km=1.0, cost_per_hour=0.0)
    m.add_vehicle("from-home", start=None, end="c0", cost_per_km=1.0, cost_per_hour=0.0,
                  fixed_cost=0.5)  # fmt: skip
    m.add_job("a", location=1)
    m.add_job("b", location=2)
    m.add_job("c", location=3)
    solution = solved(m.build())
    # best: one-way 0 -> 5 -> 10 (10 km) and from-home starting at -3 back to 0 (3 km + 0.5)
    assert solution.summary.cost == pytest.approx(13.5)
    ends = {r.vehicle: (r.steps[0].type, r.steps[-1].type) for r in solution.routes}
    assert ends == {"one-way": ("start", "job"), "from-home": ("job", "end")}


def test_unreachable_place_is_reported_not_planned():
    m = Model()
    for _ in range(3):
        m.add_location()
    travel = np.array([[0, 60, math.inf], [60, 0, math.inf], [math.inf, math.inf, 0]])
    m.set_matrices("van", durations=travel, distances=travel)
    m.add_centre("c0", location=0)
    m.add_vehicle("van", start="c0", end="c0")
    m.add_job("ok", location=1)
    m.add_job("island", location=2)
    solution = solved(m.build())
    assert [u.id for u in solution.unassigned] == ["island"]
    assert "unreachable" in solution.unassigned[0].reason


def test_progress_reports_new_best_plans():
    m = line_problem([1, 2, 3])
    m.add_vehicle("van", start="c0", end="c0")
    for loc in (1, 2, 3):
        m.add_job(f"j{loc}", location=loc)
    seen: list[Progress] = []
    solved(m.build(), progress=seen.append)
    assert all(p.engine == "pyvrp" and p.cost is not None for p in seen)


def test_breaks_do_not_fit():
    m = line_problem([1])
    m.add_vehicle("van", start="c0", end="c0", breaks=[{"id": "lunch", "duration": 60}])
    m.add_job("j", location=1)
    problem = m.build()
    ok, why = pyvrp_engine.supports(problem)
    assert not ok and "vehicle 'van' has breaks" in why
    with pytest.raises(EngineError, match="breaks"):
        pyvrp_engine.solve(problem, time_limit_s=LIMIT, seed=0, progress=None)


def test_shipment_with_several_windows_does_not_fit():
    m = line_problem([1, 2])
    m.add_vehicle("van", start="c0", end="c0")
    m.add_shipment("s", pickup={"location": 1, "time_windows": [(0, 10), (20, 30)]},
                   delivery={"location": 2})  # fmt: skip
    ok, why = pyvrp_engine.supports(m.build())
    assert not ok and "shipment 's' has several time windows" in why


def test_skills_send_the_job_to_the_vehicle_that_has_them():
    m = line_problem([1, 2])
    m.add_vehicle("plain", start="c0", end="c0", cost_per_km=1.0, cost_per_hour=0.0)
    m.add_vehicle("cold", start="c0", end="c0", cost_per_km=2.0, cost_per_hour=0.0,
                  skills={"fridge"})  # fmt: skip
    m.add_job("milk", location=2, skills={"fridge"})
    m.add_job("book", location=1)
    solution = solved(m.build())
    by_vehicle = {r.vehicle: [s.id for s in r.task_steps()] for r in solution.routes}
    # cold alone: 4 km at 2 = 8; plain takes the book (2 km at 1) and cold the milk (8): 10
    assert by_vehicle == {"cold": ["book", "milk"]}


@pytest.mark.parametrize(("pooled", "routes"), [(True, 1), (False, 2)])
def test_firms_alone_use_their_own_vehicles(pooled, routes):
    m = line_problem([-5, 5])
    m.pooled = pooled
    for firm in ("a", "b"):
        m.add_vehicle(f"{firm}-van", start="c0", end="c0", firm=firm, fixed_cost=100.0)
    m.add_job("for-a", location=1, firm="a")
    m.add_job("for-b", location=2, firm="b")
    solution = solved(m.build())
    assert len(solution.routes) == routes
    if not pooled:
        assert {r.vehicle: r.task_steps()[0].id for r in solution.routes} == {
            "a-van": "for-a",
            "b-van": "for-b",
        }


def test_same_seed_same_plan():
    m = line_problem([1, -2, 3, -4, 5, -6])
    for k in (1, 2):
        m.add_vehicle(f"van{k}", start="c0", end="c0", capacity=(3,))
    for loc in range(1, 7):
        m.add_job(f"j{loc}", location=loc, delivery=(1,))
    problem = m.build()
    first, second = solved(problem, seed=7), solved(problem, seed=7)
    assert first.routes == second.routes


@pytest.mark.shared
def test_solomon_c101_reaches_best_known(shared_dir: Path):
    problem = read_solomon(shared_dir / "bench" / "vrp" / "solomon" / "C101.txt")
    solution = pyvrp_engine.solve(problem, time_limit_s=2.0, seed=0, progress=None)
    assert check(problem, solution).ok
    assert round(solution.summary.distance, 2) == 828.94  # BKS, 10 vehicles


@pytest.mark.shared
def test_lilim_lc101_all_tasks_served_at_best_known(shared_dir: Path):
    problem = read_lilim(shared_dir / "bench" / "vrp" / "pdptw" / "lc101.txt")
    solution = pyvrp_engine.solve(problem, time_limit_s=2.0, seed=0, progress=None)
    assert check(problem, solution).ok and not solution.unassigned
    assert round(solution.summary.distance, 2) <= 828.94 * 1.03
