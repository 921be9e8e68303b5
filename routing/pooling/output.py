"""Write a compared day to a folder: JSON summary, per-firm CSV, the undelivered parcels as CSV,
GeoJSON routes and their stops, a bar chart."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from routing.pooling.chart import cost_chart
from routing.pooling.compare import DayResult, SolvedPlan
from routing.pooling.figures import paid_at_stops
from routing.pooling.transfer import Along, haul_features
from routing.pooling.travel import DayTravel
from routing.solution import Route

#: Draws a route through its stops' [lon, lat] positions (`Solution.to_geojson`'s ``line``).
Line = Callable[[list[list[float]], Route], list[list[float]]]
#: The columns of unserved.csv: the plan, then an entry of `DayResult.unserved_list`.
UNSERVED_COLUMNS = ["plan", "firm", "parcel", "job", "reason"]


def write_outputs(
    result: DayResult,
    outdir: str | Path,
    *,
    extra: Mapping[str, Any] | None = None,
    along: Along | None = None,
) -> dict[str, Path]:
    """Write every output file into ``outdir`` (created if needed); returns them by kind.
    ``extra`` adds the caller's own keys to ``summary.json`` (the CLI's platform lockers,
    which this layer knows nothing of); ``along`` draws the routes (see `route_features`).

    ``unserved.csv`` lists each plan's undelivered parcels, one a line, with the solver's reason
    (header only when every plan delivers everything): firms.csv counts them, this names them.
    Each plan's routes and line haul go to ``routes_<plan>.geojson``, its stops and undelivered
    tasks to ``routes_<plan>_stops.geojson`` (`stops_apart`: one geometry type a file).
    """
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "summary": out / "summary.json",
        "firms": out / "firms.csv",
        "unserved": out / "unserved.csv",
        "chart": out / "cost_per_firm.png",
    }
    summary = {**result.summary(), **(extra or {})}
    files["summary"].write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    rows = result.firm_rows()
    with files["firms"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with files["unserved"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=UNSERVED_COLUMNS)
        writer.writeheader()
        for plan, unserved in result.unserved_list().items():
            writer.writerows({"plan": plan, **row} for row in unserved)
    layers = {f"routes_{kind}": f for kind, f in route_features(result, along=along).items()}
    for name, features in stops_apart(layers).items():
        files[name] = out / f"{name}.geojson"
        collection = {"type": "FeatureCollection", "features": features}
        files[name].write_text(json.dumps(collection))
    title = f"{result.day.name}\ncost per firm: alone vs its Shapley share"
    cost_chart(rows, files["chart"], plans=list(result.splits), title=title)
    return files


def stops_apart(layers: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Each route layer as two of one geometry type each: its routes and line haul
    (LineStrings) under its name, its stops and undelivered tasks (Points) beside it as
    ``NAME_stops``, as the siting's lockers and catchments are two (a scenario's layers and
    `gongpei pool`'s route files). A Shapefile or a QGIS layer holds one type: one layer of
    both could not be written ("Attempt to write non-linestring (POINT) geometry to ARC type
    shapefile")."""
    split = {}
    for name, features in layers.items():
        split[name] = [f for f in features if f["geometry"]["type"] != "Point"]
        split[f"{name}_stops"] = [f for f in features if f["geometry"]["type"] == "Point"]
    return split


def road_lines(travel: DayTravel) -> Along | None:
    """How to draw the day's routes and line haul along the roads their travel was timed on
    (`network.paths.RoadLines` on each profile's graph of ``travel``, indexed on first use),
    or None for straight-line travel, whose legs stay straight: a road drawn there would be
    one the figures never drove."""
    if not travel.graphs:
        return None
    from network.paths import RoadLines

    drawers: dict[str, RoadLines] = {}

    def along(profile: str, stops: list[tuple[float, float]]) -> list[list[float]]:
        if profile not in drawers:
            drawers[profile] = RoadLines(travel.graphs[profile])
        return drawers[profile].along(stops)

    return along


def route_features(
    result: DayResult, *, along: Along | None = None
) -> dict[str, list[dict[str, Any]]]:
    """GeoJSON features of each plan's routes, pooled plans with their line haul; each
    feature's ``plan`` (and a solo route's ``firm``) says whose it is, and each route and task
    whose parcels it carries (``firms``, ``parcel_ids``; a route's ``parcels`` counts them):
    in a pooled plan the vehicles are the centre's, so only these say which van brings a
    firm's parcels. ``along`` (`road_lines` of the day's travel) draws each route and line
    haul on its vehicle's roads, as `scenario run` does; without it legs are straight.

    A route's ``cost`` is its whole cost as the plan's ``cost`` counts it (the engine's route
    cost plus the driver's paid time at stops), so routes and line haul add up to the plan's
    cost less the penalty for undelivered parcels. Routes and line haul share one scheme of
    properties: ``distance_m`` and ``duration_s`` (whole metres and seconds), ``cost``; a
    route's ``walked_m`` (whole metres; null off road graphs) is the courier's walk between the
    parked van and the doors, there and back, which ``duration_s`` includes and ``distance_m``
    does not, and each stop's ``access_m`` that walk one way (see `Solution.to_geojson`).
    """
    plans = {
        "solo": list(result.solo.items()),
        **{kind: [(kind, plan)] for kind, plan in result.pooled_plans().items()},
    }
    firm_of = {parcel.id: parcel.firm for parcel in result.day.parcels}
    out = {}
    for kind, solved in plans.items():
        features = []
        for owner, plan in solved:
            features += haul_features(result.day, kind, plan.line_haul(), along=along)
            routes = {route.vehicle: route for route in plan.solution.routes}
            for feature in plan.solution.to_geojson(line=_route_line(plan, along))["features"]:
                props = feature["properties"]
                if feature["geometry"]["type"] == "LineString":
                    route = routes[props["vehicle"]]
                    _route_properties(props, plan, route)
                    tasks = [str(step.id) for step in route.task_steps()]
                    props["parcels"] = len(_carried(props, plan, tasks, firm_of))
                elif props.get("id") in plan.built.job_parcels:  # a task: delivered or not
                    _carried(props, plan, [props["id"]], firm_of)
                props["plan"] = kind
                if kind == "solo":
                    props["firm"] = owner
                features.append(feature)
        out[kind] = features
    return out


def _carried(
    props: dict[str, Any], plan: SolvedPlan, tasks: list[str], firm_of: Mapping[str, str]
) -> list[str]:
    """Set whose parcels the ``tasks`` (a route's, or one parcel's or locker drop's) bring:
    ``parcel_ids`` and ``firms``, sorted lists, so that a firm finds its parcels' vehicle and
    arrival in a pooled plan, whose vehicles are the centre's and whose drops hold several
    firms' parcels; returns the parcel ids."""
    ids = sorted(p for task in tasks for p in plan.built.job_parcels[task])
    props["parcel_ids"] = ids
    props["firms"] = sorted({firm_of[p] for p in ids})
    return ids


def _route_line(plan: SolvedPlan, along: Along | None) -> Line | None:
    """`Solution.to_geojson`'s ``line``: each route through its stops on its vehicle's roads."""
    if along is None:
        return None
    problem = plan.built.problem
    return lambda stops, route: along(problem.vehicle(route.vehicle).profile, stops)


def _route_properties(props: dict[str, Any], plan: SolvedPlan, route: Route) -> None:
    """A route's line in the line haul's scheme, its cost including the time at stops, and
    how many tasks it serves."""
    props["distance_m"] = round(route.distance)
    props["duration_s"] = round(route.duration)
    props["walked_m"] = None if route.walked is None else round(route.walked)
    props["cost"] = round(route.cost + paid_at_stops(plan.built.problem, route), 2)
    props["stops"] = len(route.task_steps())
