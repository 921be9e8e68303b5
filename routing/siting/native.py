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
demand takes ``rates`` (on top of ``DEFAULT_RATES``; ``default`` is the rate of the types without
one, as in a scenario) and ``mix``, candidates ``min_area_m2``, ``fixed_cost`` and
``capacity``. An existing locker's ``compartments`` (optional) are kept as they stand when the
model sizes lockers. Any other field, or a value of the wrong type (``"false"`` for false,
1.5 lockers), is an error naming it: the file is read exactly or not at all.
``datum`` (`network.datum`: ``"gcj02"`` for Amap/Tencent, ``"bd09"`` for Baidu; default
``"wgs84"``) says what the file's coordinates are given in: its bbox and the points it lists or
names (demand, candidates, existing) are read into WGS 84; points from buildings are OSM's.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from network.datum import DEFAULT_DATUM, DatumError, bbox_to_wgs84, check_datum, to_wgs84
from network.sources import is_builtin
from routing.siting.errors import SitingInputError
from routing.siting.model import (
    DEFAULT_COMPARTMENTS,
    DEFAULT_SIZE_MIX,
    MODELS,
    SitingInstance,
    SitingModel,
    Sizing,
)
from routing.siting.points import (
    Candidate,
    DemandPoint,
    SizeMix,
    candidate_from_record,
    candidates_from_buildings,
    demand_from_buildings,
    demand_from_record,
    instance_from_points,
    load_json,
    read_candidates,
    read_demand,
    validated,
)

# The options each model kind reads; any other is refused rather than ignored.
MODEL_OPTIONS = {
    "maxcover": ("p", "budget"),
    "pmedian": ("p", "budget", "unserved_penalty"),
    "setcover": (),
    "facility": (),
}


def model_takes(kind: str) -> str:
    """What a model of ``kind`` takes of p, budget and unserved_penalty, for error messages."""
    takes = MODEL_OPTIONS[kind]
    return f"a {kind} model takes " + (", ".join(takes) or "no p, budget or unserved_penalty")


class _Strict(BaseModel):
    """JSON as written: a number must be a number, true/false a boolean, no unknown field."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class _NativeSpec(_Strict):
    name: str | None = None
    map: str | None = None
    datum: str | None = None
    bbox: list[float] | None = None
    radius_m: float = Field(gt=0)
    straight_line: bool = False
    max_snap_m: float = Field(250.0, ge=0)
    demand: Any
    candidates: Any
    existing: Any = Field(default_factory=list)
    model: Any = None

    @field_validator("bbox", mode="before")
    @classmethod
    def _four(cls, value: Any) -> Any:
        if value is not None and not (isinstance(value, list) and len(value) == 4):
            raise ValueError("must be four numbers [west, south, east, north]")
        return value


class _BuildingDemand(_Strict):
    from_buildings: Literal[True]
    rates: dict[str, float] | None = None
    mix: SizeMix | None = None


class _BuildingSites(_Strict):
    from_buildings: Literal[True]
    min_area_m2: float = 300.0
    fixed_cost: float = 0.0
    capacity: float = Field(math.inf, allow_inf_nan=True)


class _Costs(_Strict):
    S: float | None = None
    M: float | None = None
    L: float | None = None


class _SizingSpec(_Strict):
    dwell_days: float = 1.5
    max_compartments: int = 120
    costs: _Costs = _Costs()


class _ModelSpec(_Strict):
    kind: Literal["maxcover", "setcover", "pmedian", "facility"]
    p: int | None = None
    budget: float | None = None
    capacitated: bool = False
    sizing: _SizingSpec | None = None
    unserved_penalty: float | None = None

    @field_validator("sizing", mode="before")
    @classmethod
    def _switch(cls, value: Any) -> Any:
        """``"sizing": true`` sizes with the defaults, ``false`` does not size."""
        return {} if value is True else None if value is False else value


def read_native(path: str | Path) -> tuple[SitingInstance, SitingModel | None]:
    """The instance (walking distances on the map's walk graph) and the file's model, if any."""
    path = Path(path)
    try:
        spec = load_json(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise SitingInputError(f"native file '{path}': no such file") from None
    except OSError as err:
        raise SitingInputError(f"native file '{path}': cannot read it ({err.strerror})") from None
    except ValueError as err:  # not JSON, not UTF-8, or an integer too long to read
        raise SitingInputError(f"native file '{path.name}': not valid JSON ({err})") from None
    if not isinstance(spec, dict):
        raise SitingInputError(f"native file '{path.name}': expected a JSON object at the top")
    opts = validated(_NativeSpec, spec, f"native file '{path.name}'")
    try:
        datum = check_datum(opts.datum)
    except DatumError as err:
        raise SitingInputError(f"native file '{path.name}': {err}") from None
    base = path.parent
    source = None if opts.map is None else _resolve(base, opts.map)
    bbox = bbox_to_wgs84(datum, tuple(opts.bbox)) if opts.bbox else None
    if not opts.straight_line and source is None:
        raise SitingInputError(
            f"native file '{path.name}': field 'map' is required unless straight_line is true"
        )
    buildings = None

    def from_buildings():
        nonlocal buildings
        if buildings is None:
            if source is None or source.startswith("synthetic:"):
                raise SitingInputError(
                    f"native file '{path.name}': from_buildings needs an OSM 'map' file or 'demo'"
                )
            from network.buildings import read_buildings

            buildings = read_buildings(source, bbox=bbox)
            if buildings.empty:  # else "at least one demand point is needed", with no reason
                where = f"in the bbox {list(bbox)}" if bbox else "at all"
                raise SitingInputError(
                    f"native file '{path.name}': from_buildings: the map '{opts.map}' holds no "
                    f"building footprints {where}"
                )
        return buildings

    demand = _points(opts.demand, "demand", base, from_buildings, datum)
    candidates = _points(opts.candidates, "candidates", base, from_buildings, datum)
    existing = [
        dataclasses.replace(c, existing=True)
        for c in _points(opts.existing, "existing", base, from_buildings, datum)
    ]
    graph = None
    if not opts.straight_line:
        from network.graph import build_graph

        graph = build_graph(source, profile="walk", bbox=bbox)
    inst = instance_from_points(
        demand,
        existing + list(candidates),
        radius_m=opts.radius_m,
        graph=graph,
        straight_line=opts.straight_line,
        max_snap_m=opts.max_snap_m,
        name=opts.name or path.stem,
    )
    model = model_from_dict(opts.model) if opts.model is not None else None
    return inst, model


def model_from_dict(spec: Any) -> SitingModel:
    """A ``SitingModel`` from JSON; ``sizing`` (or ``true`` for the defaults) may give
    dwell_days, max_compartments and costs of S, M, L compartments."""
    if not isinstance(spec, dict):
        raise SitingInputError(
            f'model: must be an object such as {{"kind": "maxcover", "p": 5}}, got {spec!r}'
        )
    if spec.get("kind") not in MODELS:
        raise SitingInputError(f"model: field 'kind' must be one of {', '.join(MODELS)}")
    opts = validated(_ModelSpec, spec, "model")
    for field in ("p", "budget", "unserved_penalty"):
        if getattr(opts, field) is not None and field not in MODEL_OPTIONS[opts.kind]:
            raise SitingInputError(
                f"model '{opts.kind}': field '{field}' does not apply ({model_takes(opts.kind)})"
            )
    sizing = None
    if opts.sizing is not None:
        costs = opts.sizing.costs
        comps = tuple(
            dataclasses.replace(c, cost=getattr(costs, c.name))
            if getattr(costs, c.name) is not None
            else c
            for c in DEFAULT_COMPARTMENTS
        )
        sizing = Sizing(
            compartments=comps,
            dwell_days=opts.sizing.dwell_days,
            max_compartments=opts.sizing.max_compartments,
        )
    return SitingModel(
        kind=opts.kind,
        p=opts.p,
        budget=opts.budget,
        capacitated=opts.capacitated,
        sizing=sizing,
        unserved_penalty=opts.unserved_penalty,
    )


def _resolve(base: Path, source: str) -> str:
    if is_builtin(source):
        return source
    return str((base / source).resolve())


def _in_wgs84(points: list, datum: str) -> list:
    """Points (demand or candidates) read from the file's own coordinates, in WGS 84."""
    if datum == DEFAULT_DATUM:
        return points
    moved = [(p, to_wgs84(datum, p.lat, p.lon)) for p in points]
    return [dataclasses.replace(p, lat=lat, lon=lon) for p, (lat, lon) in moved]


def _points(spec: Any, field: str, base: Path, from_buildings, datum: str) -> list:
    """The demand, candidates or existing lockers as the file gives them: a points file, a
    list, or from the map's buildings (OSM: WGS 84 already, never converted)."""
    is_demand = field == "demand"
    if spec is None:
        raise SitingInputError(f"native file: field '{field}' is required")
    if isinstance(spec, str):
        return _in_wgs84((read_demand if is_demand else read_candidates)(base / spec), datum)
    if isinstance(spec, list):
        out: list[DemandPoint | Candidate] = []
        for k, rec in enumerate(spec):
            if not isinstance(rec, dict):
                raise SitingInputError(f"native file: {field}[{k}] must be an object")
            out.append(
                (demand_from_record if is_demand else candidate_from_record)(
                    {**rec, "_where": f"{field}[{k}]"}
                )
            )
        return _in_wgs84(out, datum)
    if isinstance(spec, dict) and spec.get("from_buildings") is True:
        takes = {"rates", "mix"} if is_demand else {"min_area_m2", "fixed_cost", "capacity"}
        unknown = sorted(set(spec) - takes - {"from_buildings"})
        if unknown:
            raise SitingInputError(
                f"native file: {field}: unknown field '{unknown[0]}' beside from_buildings "
                f"(it takes {', '.join(sorted(takes))})"
            )
        where = f"native file: {field}"
        if is_demand:
            opts = validated(_BuildingDemand, spec, where)
            mix = DEFAULT_SIZE_MIX if opts.mix is None else opts.mix.shares()
            if min(mix) < 0 or not math.isclose(sum(mix), 1.0):
                raise SitingInputError(
                    f"{where}: field 'mix' must be 3 shares S, M, L >= 0 summing to 1, got {mix}"
                )
            return demand_from_buildings(from_buildings(), rates=opts.rates, mix=mix)
        opts = validated(_BuildingSites, spec, where)
        return candidates_from_buildings(
            from_buildings(),
            min_area_m2=opts.min_area_m2,
            fixed_cost=opts.fixed_cost,
            capacity=opts.capacity,
        )
    raise SitingInputError(
        f"native file: field '{field}' must be a list of points, a file name or "
        '{"from_buildings": true}'
    )
