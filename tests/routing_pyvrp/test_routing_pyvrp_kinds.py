"""The PyVRP engine's vehicle kinds are `routing.unassigned.vehicle_kind`'s: vehicles alike but
for names and costs are one kind, tried once for a task; vehicle types add the costs."""

from __future__ import annotations

import numpy as np
import pytest

from routing.engines import pyvrp_engine
from routing.model import Model, Problem


def _fleet(fixed_costs: list[float], *, skills: list[frozenset[str]] | None = None) -> Problem:
    """A centre and one place 10 minutes away, a van per fixed cost, and a job whose window
    closes before any van can get there (so no van serves it alone)."""
    m = Model()
    for _ in range(2):
        m.add_location()
    m.set_matrices("van", durations=np.array([[0, 600], [600, 0]]),
                   distances=np.array([[0, 5000], [5000, 0]]))  # fmt: skip
    m.add_centre("c", location=0)
    for k, cost in enumerate(fixed_costs):
        extra = {"skills": skills[k]} if skills else {}
        m.add_vehicle(f"v{k}", start="c", end="c", fixed_cost=cost, **extra)
    m.add_job("late", location=1, time_windows=[[0, 60]])
    m.add_job("fine", location=1)
    return m.build()


def test_vans_alike_but_for_their_fixed_cost_are_tried_once_for_a_task(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PyVRP's own kind key held the fixed cost, so 50 like vans of 50 prices tried every
    task on each of them (twice, the second time on shortest paths)."""
    tried: list[str] = []
    real = pyvrp_engine.why_not_alone

    def counted(problem, vehicle, task, **kwargs):
        tried.append(vehicle.id)
        return real(problem, vehicle, task, **kwargs)

    monkeypatch.setattr(pyvrp_engine, "why_not_alone", counted)
    problem = _fleet([float(k) for k in range(50)])
    translation = pyvrp_engine._Translation(problem)
    assert [job.id for job in translation.jobs] == ["fine"]  # `late` left out before PyVRP
    assert len(tried) == 3  # one van: `late` alone and on shortest paths, `fine` alone
    assert len(translation.type_vehicles) == 50  # each its own type: the type holds the cost


def test_vehicle_types_follow_the_shared_kind_and_add_the_fixed_cost() -> None:
    from routing.unassigned import vehicle_kind

    problem = _fleet([5.0, 5.0, 7.0], skills=[frozenset(), frozenset(), frozenset({"cold"})])
    groups = pyvrp_engine._Translation(problem).type_vehicles
    assert [[v.id for v in group] for group in groups] == [["v0", "v1"], ["v2"]]
    assert vehicle_kind(problem.vehicles[0]) == vehicle_kind(problem.vehicles[1])
