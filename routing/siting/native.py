"""The native siting input: one JSON file naming the map, demand, candidates and the model.

Example::

    {"name": "campus", "map": "demo", "radius_m": 400,
     "demand": {"from_buildings": true},           # or a list of points, or "demand.csv"
     "candidates": {"from_buildings": true, "min_area_m2": 800, "fixed_cost": 20000},
     "existing": [{"id": "gate", "lat": 60.17, "lon": 24.94,
                   "compartments": {"S": 40, "M": 20, "L": 8}}],
     "model": {"kind": "maxcover", "p": 5, "capacitated": true,
               "sizing": {"dwell_days": 1.5, "max_compartments": 120}}}

File paths (map, points files) are relative to the JSON file. Beside ``from_buildings``,
demand takes ``rates`` and ``mix``, candidates ``min_area_m2``, ``fixed_cost`` and
``capacity``; any other field is an error naming it. An existing locker's
``compartments`` (optional) are kept as they stand when the model sizes lockers.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from routing.siting.errors import SitingInputError
from routing.siting.model import DEFAULT_COMPARTMENTS, MODELS, SitingInstance, SitingModel, Sizing
from routing.siting.points import (
    Candidate,
    DemandPoint,
    candidate_from_record,
    candidates_from_buildings,
    demand_from_buildings,
    demand_from_record,
    instance_from_points,
    read_candidates,
    read_demand,
)

_KEYS = {
    "name",
    "map",
    "bbox",
    "radius_m",
    "straight_line",
    "max_snap_m",
    "demand",
    "candidates",
    "existing",
    "model",
}


def read_native(path: str | Path) -> tuple[SitingInstance, SitingModel | None]:
    """The instance (walking distances on the map's walk graph) and the file's model, if any."""
    path = Path(path)
    try:
        spec = json.loads(path.read_text())
    except FileNotFoundError:
        raise SitingInputError(f"native file '{path}': no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SitingInputError(f"native file '{path.name}': not valid JSON ({err})") from None
    if not isinstance(spec, dict):
        raise SitingInputError(f"native file '{path.name}': expected a JSON object at the top")
    unknown = set(spec) - _KEYS
    if unknown:
        raise SitingInputError(f"native file '{path.name}': unknown field '{sorted(unknown)[0]}'")
    if "radius_m" not in spec:
        raise SitingInputError(f"native file '{path.name}': field 'radius_m' is required")
    base = path.parent
    straight = bool(spec.get("straight_line", False))
    graph = buildings = None
    source = spec.get("map")
    if source is not None:
        source = _resolve(base, source)
    if not straight:
        if source is None:
            raise SitingInputError(
                f"native file '{path.name}': field 'map' is required unless straight_line is true"
            )
        from network.graph import build_graph

        bbox = tuple(spec["bbox"]) if spec.get("bbox") else None
        graph = build_graph(source, profile="walk", bbox=bbox)

    def from_buildings():
        nonlocal buildings
        if buildings is None:
            if source is None or str(source).startswith("synthetic:"):
                raise SitingInputError(
                    f"native file '{path.name}': from_buildings needs an OSM 'map' file or 'demo'"
                )
            from network.buildings import read_buildings

            bbox = tuple(spec["bbox"]) if spec.get("bbox") else None
            buildings = read_buildings(source, bbox=bbox)
        return buildings

    demand = _points(spec.get("demand"), "demand", base, from_buildings)
    candidates = _points(spec.get("candidates"), "candidates", base, from_buildings)
    existing = [
        dataclasses.replace(c, existing=True)
        for c in _points(spec.get("existing", []), "existing", base, from_buildings)
    ]
    inst = instance_from_points(
        demand,
        existing + list(candidates),
        radius_m=_float(spec["radius_m"], "radius_m"),
        graph=graph,
        straight_line=straight,
        max_snap_m=_float(spec.get("max_snap_m", 250.0), "max_snap_m"),
        name=str(spec.get("name", path.stem)),
    )
    model = model_from_dict(spec["model"]) if spec.get("model") else None
    return inst, model


def model_from_dict(spec: dict[str, Any]) -> SitingModel:
    """A ``SitingModel`` from JSON; ``sizing`` may give dwell_days, max_compartments, costs."""
    if not isinstance(spec, dict) or spec.get("kind") not in MODELS:
        raise SitingInputError(f"model: field 'kind' must be one of {', '.join(MODELS)}")
    fields = {"kind", "p", "budget", "capacitated", "sizing", "unserved_penalty"}
    unknown = set(spec) - fields
    if unknown:
        raise SitingInputError(f"model: unknown field '{sorted(unknown)[0]}'")
    sizing = spec.get("sizing")
    if sizing is not None:
        costs = sizing.get("costs", {})
        comps = tuple(
            dataclasses.replace(c, cost=float(costs.get(c.name, c.cost)))
            for c in DEFAULT_COMPARTMENTS
        )
        sizing = Sizing(
            compartments=comps,
            dwell_days=float(sizing.get("dwell_days", 1.5)),
            max_compartments=int(sizing.get("max_compartments", 120)),
        )
    return SitingModel(
        kind=spec["kind"],
        p=spec.get("p"),
        budget=spec.get("budget"),
        capacitated=bool(spec.get("capacitated", False)),
        sizing=sizing,
        unserved_penalty=spec.get("unserved_penalty"),
    )


def _resolve(base: Path, source: str) -> str:
    if source == "demo" or str(source).startswith("synthetic:"):
        return source
    return str((base / source).resolve())


def _float(value: Any, field: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SitingInputError(
            f"native file: field '{field}' must be a number, got {value!r}"
        ) from None


def _points(spec: Any, field: str, base: Path, from_buildings) -> list:
    is_demand = field == "demand"
    if spec is None:
        raise SitingInputError(f"native file: field '{field}' is required")
    if isinstance(spec, str):
        return (read_demand if is_demand else read_candidates)(base / spec)
    if isinstance(spec, list):
        out: list[DemandPoint | Candidate] = []
        for k, rec in enumerate(spec):
            if not isinstance(rec, dict):
                raise SitingInputError(f"native file: {field}[{k}] must be an object")
            out.append(
                (demand_from_record if is_demand else candidate_from_record)(
                    {"_where": f"{field}[{k}]", **rec}
                )
            )
        return out
    if isinstance(spec, dict) and spec.get("from_buildings"):
        takes = {"rates", "mix"} if is_demand else {"min_area_m2", "fixed_cost", "capacity"}
        unknown = sorted(set(spec) - takes - {"from_buildings"})
        if unknown:
            raise SitingInputError(
                f"native file: {field}: unknown field '{unknown[0]}' beside from_buildings "
                f"(it takes {', '.join(sorted(takes))})"
            )
        frame = from_buildings()
        if is_demand:
            mix = tuple(spec.get("mix", (0.6, 0.3, 0.1)))
            return demand_from_buildings(frame, rates=spec.get("rates"), mix=mix)
        return candidates_from_buildings(
            frame,
            min_area_m2=float(spec.get("min_area_m2", 300.0)),
            fixed_cost=float(spec.get("fixed_cost", 0.0)),
            capacity=float(spec.get("capacity", math.inf)),
        )
    raise SitingInputError(
        f"native file: field '{field}' must be a list of points, a file name or "
        '{"from_buildings": true}'
    )
