"""Reasons for left-out tasks are worked out once per kind of vehicle, not once per vehicle:
the reasons must stay exactly what trying every vehicle gave (the functions as they were,
kept here as the oracle), on varied random problems with many alike vehicles."""

from __future__ import annotations

import numpy as np
import pytest

from routing import unassigned
from routing.model import (
    Break,
    Centre,
    Job,
    Problem,
    ProblemError,
    Shipment,
    ShipmentStop,
    Vehicle,
)
from routing.unassigned import explain, fits_alone, has_carrier, why_not_alone

H = 3600.0


def old_explain(problem: Problem, task_id: str, *, used: set[str] | None = None) -> str:
    """`explain` as it was: every allowed vehicle tried (the oracle)."""
    task: Job | Shipment = (
        problem.job(task_id) if problem.has_job(task_id) else problem.shipment(task_id)
    )
    vehicles = problem.allowed_vehicles(task)
    if not vehicles:
        return "no vehicle has the required skills" + ("" if problem.pooled else " and firm")
    failures = [why_not_alone(problem, v, task) for v in vehicles]
    fitting = [v.id for v, f in zip(vehicles, failures, strict=True) if f is None]
    if fitting:
        if task.optional:
            return (
                f"optional: serving it would cost more than its penalty ({task.penalty:g}) "
                "or leave no room for other tasks"
            )
        idle = [v for v in fitting if used is not None and v not in used]
        if idle:
            return (
                "no plan serving it was found within the time limit, though it fits alone on "
                f"idle vehicle '{idle[0]}'"
            )
        return "no room left on any vehicle (capacity, time or route limits) beside other tasks"
    reasons = sorted({f for f in failures if f})
    return "no vehicle can serve it even alone: " + "; ".join(reasons)


def _windows(rng: np.random.Generator) -> tuple[tuple[float, float], ...]:
    """None to three disjoint windows within the day."""
    starts = sorted(rng.choice(np.arange(6, 20, 2), size=rng.integers(0, 4), replace=False))
    return tuple((s * H, s * H + float(rng.choice([600, 1800, 3600]))) for s in starts)


def _fits(shape: dict, windows: tuple, duration: float, centres: tuple[Centre, ...]) -> bool:
    """Whether a break can be taken in the hours a vehicle of this shape may run: the problem
    refuses one that never can (asked of the model itself, on a problem of that vehicle)."""
    vehicle = Vehicle(id="v", **{**shape, "profile": "van"},
                      breaks=(Break(id="b", windows=windows, duration=duration),))  # fmt: skip
    zeros = [[0.0] * 3] * 3
    try:
        Problem(centres=centres, vehicles=(vehicle,),
                matrices={"van": {"durations": zeros, "distances": zeros}})  # fmt: skip
    except ProblemError:
        return False
    return True


def _problem(seed: int) -> Problem:
    """A random day: few kinds of vehicle, many of each (ids, names, costs and break ids set
    apart, which the kinds ignore), over two profiles, centres with and without opening
    hours, some unreachable legs, jobs and shipments of every sort."""
    rng = np.random.default_rng(seed)
    n = 14
    pts = rng.uniform(0, 30_000, (n, 2))
    metres = np.rint(np.linalg.norm(pts[:, None] - pts[None, :], axis=2) * 1.3)
    matrices = {}
    for profile, speed in (("van", 8.0), ("bike", 4.0)):
        seconds = np.rint(metres / speed)
        cut = rng.random((n, n)) < 0.03
        np.fill_diagonal(cut, False)
        matrices[profile] = {"durations": np.where(cut, np.inf, seconds),
                             "distances": np.where(cut, np.inf, metres)}  # fmt: skip
    centres = (
        Centre(id="c0", location=0),
        Centre(id="c1", location=1, opening=(7 * H, 19 * H)),
        Centre(id="c2", location=2, opening=(9 * H, 12 * H)),
    )
    firms = (None, "sf", "yto")
    vehicles = []
    for kind in range(int(rng.integers(3, 7))):
        shape = {
            "start": rng.choice(["c0", "c1", "c2", None]),
            "end": rng.choice(["c0", "c1", "c2", None]),
            "capacity": None if rng.random() < 0.2 else (int(rng.integers(1, 8)),) * 2,
            "shift": None if rng.random() < 0.2 else (float(rng.integers(6, 10)) * H,
                                                      float(rng.integers(11, 21)) * H),
            "max_duration": None if rng.random() < 0.5 else float(rng.integers(1, 8)) * H,
            "max_distance": None if rng.random() < 0.5 else float(rng.integers(5, 80)) * 1e3,
            "skills": frozenset(rng.choice(["cold", "big"], size=rng.integers(0, 3),
                                           replace=False).tolist()),
            "profile": str(rng.choice(["van", "bike"])),
            "firm": firms[rng.integers(3)],
        }  # fmt: skip
        breaks = [(_windows(rng), float(rng.choice([600, 1800, 3600])))
                  for _ in range(rng.integers(0, 3))]  # fmt: skip
        breaks = [(w, d) for w, d in breaks if _fits(shape, w, d, centres)]
        for copy in range(int(rng.integers(1, 6))):
            vehicles.append(Vehicle(
                id=f"k{kind}-{copy}", name=f"van {copy}", fixed_cost=float(copy),
                cost_per_km=float(rng.random()), cost_per_hour=float(rng.integers(1, 50)),
                breaks=tuple(Break(id=f"b{b}-{copy}", windows=w, duration=d)
                             for b, (w, d) in enumerate(breaks)),
                **shape,
            ))  # fmt: skip
    order = rng.permutation(len(vehicles))  # kinds interleaved in the problem's order
    task = {
        "skills": lambda: frozenset(rng.choice(["cold", "big"], size=rng.integers(0, 2),
                                               replace=False).tolist()),
        "firm": lambda: firms[rng.integers(3)],
        "penalty": lambda: None if rng.random() < 0.7 else float(rng.integers(1, 100)),
    }  # fmt: skip
    jobs = tuple(
        Job(id=f"j{i}", location=int(rng.integers(3, n)), service=float(rng.integers(0, 1800)),
            delivery=(int(rng.integers(0, 9)),) * 2, pickup=(int(rng.integers(0, 3)),) * 2,
            time_windows=_windows(rng), **{k: f() for k, f in task.items()})
        for i in range(40)
    )  # fmt: skip
    shipments = tuple(
        Shipment(id=f"s{i}", amount=(int(rng.integers(0, 9)),) * 2,
                 pickup=ShipmentStop(location=int(rng.integers(3, n)), time_windows=_windows(rng),
                                     service=float(rng.integers(0, 900))),
                 delivery=ShipmentStop(location=int(rng.integers(3, n)),
                                       time_windows=_windows(rng)),
                 **{k: f() for k, f in task.items()})
        for i in range(15)
    )  # fmt: skip
    return Problem(
        centres=centres, vehicles=tuple(vehicles[k] for k in order), jobs=jobs,
        shipments=shipments, matrices=matrices, pooled=bool(rng.random() < 0.5),
    )  # fmt: skip


@pytest.mark.parametrize("seed", range(12))
def test_reasons_by_kind_are_the_reasons_by_vehicle(seed: int) -> None:
    problem = _problem(seed)
    assert len(unassigned._Kinds(problem).kinds) < len(problem.vehicles)  # kinds are shared
    rng = np.random.default_rng(seed)
    ids = [v.id for v in problem.vehicles]
    useds = [None, set(), set(ids), set(rng.choice(ids, size=len(ids) // 2, replace=False))]
    for task in (*problem.jobs, *problem.shipments):
        for used in useds:
            reason = explain(problem, task.id, used=used)
            assert reason == old_explain(problem, task.id, used=used), (task.id, used)
        vehicles = problem.allowed_vehicles(task)
        assert fits_alone(problem, task) is any(
            why_not_alone(problem, v, task) is None for v in vehicles
        )
        assert has_carrier(problem, task) is bool(problem.carriers(task))


def test_every_reason_appears_across_the_random_days() -> None:
    """The random days reach each way a reason can read (so the comparison above covers it)."""
    seen = set()
    for seed in range(12):
        problem = _problem(seed)
        ids = {v.id for v in problem.vehicles}
        for task in (*problem.jobs, *problem.shipments):
            for used in (None, ids, set()):
                seen.add(explain(problem, task.id, used=used)[:20])
            seen.update(
                f for v in problem.allowed_vehicles(task)
                if (f := why_not_alone(problem, v, task))
            )  # fmt: skip
    assert len(seen) >= 12, sorted(seen)


def test_the_idle_vehicle_named_is_the_first_in_the_problems_order() -> None:
    """Two kinds interleaved: the idle vehicle named is the problem's first one left idle,
    whichever kind it is of."""
    shape = {"start": "d", "end": "d"}
    vehicles = (
        Vehicle(id="a1", **shape), Vehicle(id="b1", cost_per_km=1.0, **shape, max_distance=1e9),
        Vehicle(id="a2", **shape), Vehicle(id="b2", **shape, max_distance=1e9),
    )  # fmt: skip
    problem = Problem(
        centres=(Centre(id="d", location=0),), vehicles=vehicles,
        jobs=(Job(id="j", location=1),),
        matrices={"van": {"durations": [[0, 10], [10, 0]], "distances": [[0, 50], [50, 0]]}},
    )  # fmt: skip
    assert len(unassigned._Kinds(problem).kinds) == 2
    for used in ({"a1"}, {"a1", "b1"}, {"a1", "b1", "a2"}, {"b1"}):
        assert explain(problem, "j", used=used) == old_explain(problem, "j", used=used)
    assert explain(problem, "j", used={"a1"}).endswith("idle vehicle 'b1'")


def test_kinds_follow_a_problem_not_its_id() -> None:
    """The kinds are kept per live problem: a copy with other vehicles gets its own."""
    problem = _problem(0)
    before = unassigned._problem_kinds(problem)
    assert unassigned._problem_kinds(problem) is before
    fewer = problem.replace(vehicles=problem.vehicles[:1])
    assert len(unassigned._problem_kinds(fewer).kinds) == 1
    assert unassigned._problem_kinds(problem) is before
