"""OR-Tools' first-solution heuristic by size and time limit (`ortools_engine.insertion_plan`).

Parallel cheapest insertion over every stop took 3-7 s on 500 Li & Lim-like shipments with
narrow windows (21-49 s with wide ones), and cut short by the limit it left the rest of the tasks
out (`--engine ortools` at 10 s under load: 181 of 500 shipments). Small and medium problems
keep it whole."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from ortools.constraint_solver import pywrapcp

from routing.check import check
from routing.engines import ortools_engine
from routing.io import read_problem
from routing.model import Model, Problem
from routing.solve import second_start

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
_FS = ortools_engine._FS


def _read(tmp_path: Path, make: str, *args: object) -> Problem:
    """A file from benchmarks/vrp_scale.py's generator `make` (seeded), read as a problem."""
    sys.path.insert(0, str(BENCH))
    try:
        import vrp_scale
    finally:
        sys.path.remove(str(BENCH))
    generated = getattr(vrp_scale, make)(*args)
    path = tmp_path / f"{make}-{len(generated.text)}{generated.suffix}"
    path.write_text(generated.text)
    return read_problem(path)


def _li_lim(tmp_path: Path, stops: int, kind: int) -> Problem:
    """Li & Lim-like: `stops` / 2 shipments, narrow windows and vans of 200 (kind 1) or wide
    windows and vans of 700 (kind 2)."""
    return _read(tmp_path, "li_lim", stops, "C", kind, 7)


def _solomon_like(tmp_path: Path) -> Problem:
    """100 jobs with windows and 25 vans: a Solomon file's size."""
    return _read(tmp_path, "homberger", 100, "R", 1, 7)


def _parameters(
    problem: Problem, limit: float
) -> tuple[ortools_engine._Builder, pywrapcp.DefaultRoutingSearchParameters]:
    builder = ortools_engine._Builder(problem)
    builder.build()
    return builder, builder.parameters(limit)


def test_1000_stops_of_shipments_at_10_s_search_near_neighbours_only(tmp_path: Path) -> None:
    """Before: parallel insertion over all 1,000 stops (neighbours ratio 1)."""
    problem = _li_lim(tmp_path, 1000, kind=1)
    builder, params = _parameters(problem, 10.0)
    near = params.global_cheapest_insertion_first_solution_parameters
    assert params.first_solution_strategy == _FS.PARALLEL_CHEAPEST_INSERTION
    assert 1 < near.min_neighbors < 1000 and near.neighbors_ratio < 1
    assert near.min_neighbors >= ortools_engine.MIN_NEIGHBOURS
    assert near.neighbors_ratio <= near.min_neighbors / 1000
    assert builder.first_heuristic == f"parallel, {near.min_neighbors} neighbours"
    # more time, more neighbours; a short limit leaves too few, and local insertion starts
    assert ortools_engine.insertion_plan(problem, 30.0)[1] > near.min_neighbors
    assert ortools_engine.insertion_plan(problem, 1.0) == ("local", None)


def test_small_problems_keep_parallel_insertion_over_every_stop(tmp_path: Path) -> None:
    for problem in (_solomon_like(tmp_path), _li_lim(tmp_path, 200, kind=2)):
        builder, params = _parameters(problem, 10.0)
        near = params.global_cheapest_insertion_first_solution_parameters
        assert params.first_solution_strategy == _FS.PARALLEL_CHEAPEST_INSERTION
        assert (near.neighbors_ratio, near.min_neighbors) == (1.0, 1)  # OR-Tools' defaults
        assert builder.first_heuristic == "parallel"


def test_a_named_heuristic_is_used_as_named(tmp_path: Path) -> None:
    problem = _li_lim(tmp_path, 1000, kind=1)
    builder = ortools_engine._Builder(problem)
    builder.build()
    params = builder.parameters(1.0, "parallel")
    near = params.global_cheapest_insertion_first_solution_parameters
    assert params.first_solution_strategy == _FS.PARALLEL_CHEAPEST_INSERTION
    assert near.min_neighbors == 1 and builder.first_heuristic == "parallel"


def test_300_shipments_with_wide_windows_are_all_served_in_2_s(tmp_path: Path) -> None:
    """Before: parallel insertion over every stop needed about 8 s here, was cut at the limit
    and left 240-268 of the 300 shipments out; local insertion's plan takes about 0.3 s."""
    problem = _li_lim(tmp_path, 600, kind=2)
    solution = ortools_engine.solve(problem, time_limit_s=2.0)
    assert solution.summary.unassigned == 0
    assert check(problem, solution).ok
    assert solution.meta["first_heuristic"] == "local"


def test_more_time_never_fewer_neighbours_and_never_too_few(tmp_path: Path) -> None:
    problem = _li_lim(tmp_path, 1000, kind=2)
    plans = [ortools_engine.insertion_plan(problem, limit) for limit in (1, 5, 20, 80, 400)]
    counts = [1000 if n is None else n for kind, n in plans if kind == "parallel"]
    assert plans[0] == ("local", None) and plans[-1] == ("parallel", None)
    assert counts == sorted(counts) and min(counts) >= ortools_engine.MIN_NEIGHBOURS


def _uncapacitated_shipments(count: int) -> Problem:
    """``count`` shipments across 10 km with 8 vans and no capacities."""
    rng = np.random.default_rng(7)
    places = rng.uniform(0, 10_000, size=(2 * count + 1, 2))
    metres = np.sqrt(((places[:, None] - places[None]) ** 2).sum(-1))
    m = Model()
    for x, y in places:
        m.add_location(lat=36 + y / 111_000, lon=120 + x / 90_000)
    m.add_centre("hub", location=0)
    m.set_matrices("van", metres / 8.0, metres)
    for v in range(8):
        m.add_vehicle(f"v{v}", start="hub", end="hub", shift=[0, 36_000])
    for k in range(count):
        m.add_shipment(f"s{k}", pickup={"location": 1 + 2 * k, "service": 60},
                       delivery={"location": 2 + 2 * k, "service": 60})  # fmt: skip
    return m.build()


def test_up_to_300_stops_insertion_considers_every_stop_at_any_limit(tmp_path: Path) -> None:
    """The estimate assumes the fewest routes the loads need (one without capacities) and
    overshot 8-10x: 100 uncapacitated shipments got local insertion at 2-5 s, 46-48 % dearer
    after the search, and a 200-stop Li & Lim-like day 28 % at 1 s."""
    assert ortools_engine.insertion_plan(_uncapacitated_shipments(100), 2.0) == ("parallel", None)
    assert ortools_engine.insertion_plan(_li_lim(tmp_path, 200, kind=2), 1.0) == ("parallel", None)


def test_a_race_second_search_never_starts_as_the_first(tmp_path: Path) -> None:
    """The race's second OR-Tools search always started by local insertion, which is also the
    first's start on a big day at a short limit: two deterministic searches, one plan."""
    big = _li_lim(tmp_path, 1000, kind=1)
    assert ortools_engine.insertion_plan(big, 1.0) == ("local", None)
    assert second_start(big, 1.0) == "parallel"
    assert second_start(_solomon_like(tmp_path), 10.0) == "local"
