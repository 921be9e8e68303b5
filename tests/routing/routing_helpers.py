"""Helpers for the routing tests: small problems whose right answers can be worked out by hand.

`line(n)` puts the depot at 0 and location k at position k on a line, 100 s and 100 m apart per
step, so every travel time and distance is 100 * |i - j| and the best plans are easy to see.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from routing.check import check
from routing.model import Model, Problem
from routing.solution import Solution

FAST = 0.3  # seconds of search: plenty for these few stops


def line_matrix(positions: Sequence[float], step: float = 100.0) -> np.ndarray:
    pos = np.asarray(positions, dtype=np.float64)
    return np.abs(pos[:, None] - pos[None, :]) * step


def line_model(n: int | Sequence[float], *, opening: Any = None, **model: Any) -> Model:
    """A builder with locations on a line (index 0 the depot, centre 'hub') and its matrices.

    `n` is a count (positions 0..n-1) or the positions themselves.
    """
    positions = list(range(n)) if isinstance(n, int) else list(n)
    m = Model(**model)
    for x in positions:
        m.add_location(lat=36.0 + 0.001 * x, lon=120.3)
    m.add_centre("hub", location=0, opening=opening)
    m.set_matrices("van", line_matrix(positions), line_matrix(positions))
    return m


def solved(problem: Problem, engine: str = "ortools", time_limit_s: float = FAST) -> Solution:
    """Solve with one engine and insist that the independent checker accepts the plan."""
    from routing.solve import solve

    solution = solve(problem, engine=engine, time_limit_s=time_limit_s)
    report = check(problem, solution)
    assert report.ok, [str(v) for v in report.violations]
    return solution


def order(solution: Solution, vehicle: str) -> list[str]:
    route = solution.route(vehicle)
    assert route is not None, f"vehicle {vehicle} has no route"
    return [f"{s.type}:{s.id}" if s.type != "job" else str(s.id)
            for s in route.steps if s.type not in ("start", "end")]
