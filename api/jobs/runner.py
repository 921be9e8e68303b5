"""What a job does, by kind: a firm's batch is solved by `routing.solve`, a siting run by
`routing.siting`. The payload and the result are plain JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Progress = Callable[[float], None]
Result = tuple[dict[str, Any], dict[str, Any] | None]


def solve_batch(payload: dict[str, Any], progress: Progress) -> Result:
    """Read the problem (native or VROOM JSON), solve it, return VROOM JSON and GeoJSON."""
    from routing.solve import solve

    from routing.io import read_native, read_vroom

    reader = read_vroom if payload["format"] == "vroom" else read_native
    problem = reader(payload["problem"])
    solution = solve(
        problem,
        engine=payload.get("engine", "auto"),
        time_limit_s=payload.get("time_limit_s", 10.0),
        seed=payload.get("seed", 0),
    )
    progress(1.0)
    return solution.to_vroom(), solution.to_geojson()


def run_siting(payload: dict[str, Any], progress: Progress) -> Result:
    raise NotImplementedError("siting runs are wired when routing.siting lands")


RUNNERS: dict[str, Callable[[dict[str, Any], Progress], Result]] = {
    "batch": solve_batch,
    "siting": run_siting,
}


def run_job(kind: str, payload: dict[str, Any], progress: Progress) -> Result:
    return RUNNERS[kind](payload, progress)
