"""What a job does, by kind: a firm's batch is solved by `routing.solve`, a siting run by
`routing.siting`, a pooling run by `routing.pooling`. The payload and the result are plain
JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Progress = Callable[[float], None]
Result = tuple[dict[str, Any], dict[str, Any] | None]


def read_batch(payload: dict[str, Any], *, estimate: bool = False):
    """The `routing.model.Problem` of a batch payload (native or VROOM JSON); travel the batch
    left to the server is timed on the server's map (`network`, set by the API). ``estimate``
    times it by straight lines instead: every other field is checked as the worker will read it,
    without the map's matrices (the API's check at submission)."""
    from routing.io.native import problem_from_dict
    from routing.io.vroom import vroom_to_problem

    vroom = payload["format"] == "vroom"
    if estimate:  # one speed for every profile: whether the map has a profile is checked apart
        travel = {"source": "straight_line", "speed_kmh": 25.0}
        if vroom:
            return vroom_to_problem(payload["problem"], travel=travel)
        return problem_from_dict({**payload["problem"], "travel": travel})
    reader = vroom_to_problem if vroom else problem_from_dict
    return reader(payload["problem"], network=payload.get("network"))


def solve_batch(payload: dict[str, Any], progress: Progress) -> Result:
    """Solve a firm's batch; the result is VROOM-shaped JSON plus the routes as GeoJSON, drawn
    along the roads where the server timed the travel on its map."""
    from routing.solve import solve

    problem = read_batch(payload)
    limit = float(payload.get("time_limit_s", 10.0))
    solution = solve(
        problem,
        engine=payload.get("engine", "auto"),
        time_limit_s=limit,
        progress=lambda p: progress(min(0.99, p.elapsed_s / limit)),
    )
    line = None
    if payload.get("network"):
        from network.paths import RoadLines
        from routing.travel import road_graphs

        profiles = sorted({v.profile for v in problem.vehicles})
        drawers = {
            profile: RoadLines(graph)
            for profile, graph in road_graphs(profiles, network=payload["network"]).items()
        }

        def line(stops: list[list[float]], route) -> list[list[float]]:
            return drawers[problem.vehicle(route.vehicle).profile].along(stops)

    return solution.to_vroom(problem), solution.to_geojson(line=line)


def run_siting(payload: dict[str, Any], progress: Progress) -> Result:
    """Site lockers with `routing.siting`; the result is the plan and its GeoJSON map."""
    from routing.siting import solve
    from routing.siting.native import model_from_dict
    from routing.siting.points import (
        candidate_from_record,
        demand_from_record,
        instance_from_points,
    )

    demand = [demand_from_record(d) for d in payload["demand"]]
    candidates = [
        candidate_from_record({k: v for k, v in c.items() if v is not None})
        for c in payload["candidates"]
    ]
    graph = None
    if payload["distance"] == "walk":
        from routing.travel import road_graphs

        graph = road_graphs(["walk"], network=payload["network"])["walk"]
    instance = instance_from_points(
        demand,
        candidates,
        radius_m=payload["radius_m"],
        graph=graph,
        straight_line=payload["distance"] == "straight_line",
        name="siting-run",
    )
    model = model_from_dict({k: v for k, v in payload["model"].items() if v is not None})
    plan = solve(instance, model, time_limit_s=payload["time_limit_s"])
    return plan.to_dict(), plan.to_geojson()


def run_pool(payload: dict[str, Any], progress: Progress) -> Result:
    """Compare the day alone, pooled and with locker drops (`routing.pooling`); the result is
    the comparison's summary and every plan's routes and line haul as GeoJSON."""
    from routing.pooling.compare import SolveSettings, compare_day
    from routing.pooling.day import parse_day
    from routing.pooling.output import route_features
    from routing.pooling.travel import day_travel, road_profiles

    day = parse_day(payload["day"])
    graphs = None
    if payload.get("network"):
        from routing.travel import road_graphs

        graphs = road_graphs(road_profiles(day), network=payload["network"])
    travel = day_travel(day, graphs=graphs)
    settings = SolveSettings(
        engine=payload["engine"],
        time_limit_s=payload["time_limit_s"],
        coalition_time_limit_s=payload["coalition_time_limit_s"],
        shapley_precision=payload["shapley_precision"],
    )
    stages = len(day.firms) + 2 + len(settings.shapley_plans)
    started = iter(range(stages))

    def starting(_stage: str) -> None:  # each solo plan, the two pooled plans, each split
        progress(min(0.99, next(started, stages) / stages))

    result = compare_day(day, travel, settings, progress=starting)
    features = [f for plan in route_features(result).values() for f in plan]
    return result.summary(), {"type": "FeatureCollection", "features": features}


RUNNERS: dict[str, Callable[[dict[str, Any], Progress], Result]] = {
    "batch": solve_batch,
    "siting": run_siting,
    "pool": run_pool,
}


def run_job(kind: str, payload: dict[str, Any], progress: Progress) -> Result:
    return RUNNERS[kind](payload, progress)
