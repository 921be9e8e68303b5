"""OR-Tools at scale: the time and distance dimensions read their transits from tables by
variable index (OR-Tools 9.15 copied a `RegisterTransitMatrix` matrix at every route its cumul
filter checked, so on 3,000 jobs the first plan came after the time limit and left most jobs
out); the tables must give exactly the transits the matrices gave."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from routing.check import check
from routing.engines import ortools_engine
from routing.model import Model

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _two_depots() -> Model:
    """Centres a (location 0) and b (location 1), jobs at 2-4, times not whole (fine scale)."""
    rng = np.random.default_rng(3)
    durations = np.round(rng.uniform(10, 500, (5, 5)), 3)
    distances = np.round(rng.uniform(100, 5000, (5, 5)), 1)
    np.fill_diagonal(durations, 0)
    np.fill_diagonal(distances, 0)
    m = Model()
    for _ in range(5):
        m.add_location()
    m.add_centre("a", location=0)
    m.add_centre("b", location=1)
    m.set_matrices("van", durations, distances)
    m.add_vehicle("ab", start="a", end="b", max_distance=20_000)
    m.add_vehicle("ba", start="b", end="a")
    m.add_vehicle("open", start="a")  # no end centre: the open-route dummy node
    for k, where in enumerate((2, 3, 4)):
        m.add_job(f"j{k}", location=where, service=12.5 * (k + 1))
    return m


@pytest.mark.parametrize(
    ("vans", "max_cells", "tables"),
    [
        (0, ortools_engine.TABLE_MAX_CELLS, 2),  # time and distance tables
        # 40 more vans than places, but small tables: kept (before: matrices, which OR-Tools
        # copied at every route check: CMT-like, 199 vans, ran 1.6-4 s past the limit)
        (40, ortools_engine.TABLE_MAX_CELLS, 2),
        (40, 0, 0),  # ... and tables too large: the matrices
    ],
)
def test_dimension_transits_are_service_plus_travel_at_every_variable_index(
    vans: int, max_cells: int, tables: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ortools_engine, "TABLE_MAX_CELLS", max_cells)
    model = _two_depots()
    for k in range(vans):
        model.add_vehicle(f"more{k}", start="a", end="a")
    problem = model.build()
    builder = ortools_engine._Builder(problem)
    builder.build()
    assert len(builder._tables) == tables
    assert builder.ts == ortools_engine.FINE
    routing, manager = builder.routing, builder.manager
    travel = problem.travel("van")
    distance = routing.GetDimensionOrDie("distance")
    for i in range(routing.Size()):  # every index but the ends, from which nothing leaves
        for j in range(routing.Size() + routing.vehicles()):
            node_i, node_j = manager.IndexToNode(i), manager.IndexToNode(j)
            a, b = builder.nodes[node_i], builder.nodes[node_j]
            free = node_i < builder.n_centres and node_j < builder.n_centres  # `_free_empty`
            legs = (0.0, 0.0) if a.location is None or b.location is None else (
                travel.durations[a.location, b.location],
                travel.distances[a.location, b.location],
            )  # fmt: skip
            seconds = math.ceil(legs[0] * builder.ts - 1e-6) + round(a.service * builder.ts)
            metres = math.ceil(legs[1] * builder.ds - 1e-6)
            for k in range(routing.vehicles()):
                assert builder.time.GetTransitValue(i, j, k) == (0 if free else seconds)
                assert distance.GetTransitValue(i, j, k) == (0 if free else metres)


@pytest.mark.slow
def test_3000_jobs_get_a_full_plan_within_the_time_limit() -> None:
    """Before: the first-solution heuristic had no plan by the limit, nearly every job left out
    (2,767 of 3,000 at 30 s on this day with windows)."""
    sys.path.insert(0, str(BENCH))
    try:
        import ortools_scale
    finally:
        sys.path.remove(str(BENCH))
    problem = ortools_scale.city_day(3000, 1, windows=True)
    solution = ortools_engine.solve(problem, time_limit_s=15.0)
    # all served on a quiet machine; under CI's load (other tests on both cores) one job was
    # left out once: the regression this guards left out nine in ten
    assert solution.summary.unassigned <= 30
    assert check(problem, solution).ok
    assert solution.runtime_s < 2 * 15.0  # the limit kept, up to reading the plan back
