"""What a job does, by kind: a firm's batch is solved by `routing.solve`, a siting run by
`routing.siting`. The payload and the result are plain JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Progress = Callable[[float], None]
Result = tuple[dict[str, Any], dict[str, Any] | None]


def read_batch(payload: dict[str, Any]):
    """The `routing.model.Problem` of a batch payload (native or VROOM JSON)."""
    from routing.io.native import problem_from_dict
    from routing.io.vroom import vroom_to_problem

    reader = vroom_to_problem if payload["format"] == "vroom" else problem_from_dict
    return reader(payload["problem"])


def solve_batch(payload: dict[str, Any], progress: Progress) -> Result:
    """Solve a firm's batch; the result is VROOM-shaped JSON plus the routes as GeoJSON."""
    from routing.solve import solve

    problem = read_batch(payload)
    limit = float(payload.get("time_limit_s", 10.0))
    solution = solve(
        problem,
        engine=payload.get("engine", "auto"),
        time_limit_s=limit,
        progress=lambda p: progress(min(0.99, p.elapsed_s / limit)),
    )
    return solution.to_vroom(problem), solution.to_geojson()


def run_siting(payload: dict[str, Any], progress: Progress) -> Result:
    raise NotImplementedError("siting runs are wired when routing.siting lands")


RUNNERS: dict[str, Callable[[dict[str, Any], Progress], Result]] = {
    "batch": solve_batch,
    "siting": run_siting,
}


def run_job(kind: str, payload: dict[str, Any], progress: Progress) -> Result:
    return RUNNERS[kind](payload, progress)
