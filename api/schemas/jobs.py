"""Batch and siting-run bodies: submission, job status."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

import routing
from api.schemas.common import Bool, Float, FloatOrNone, Int, IntOrNone, JobStatusName, Text
from network.datum import DEFAULT_DATUM, datum_value
from routing.siting.points import MAX_COUNT
from routing.solve import ORTOOLS_SMALL_DAY_STOPS, SMALL_DAY_PLATEAU_S, SMALL_DAY_STOPS

#: The README's native day (routing/examples), the request example of a native batch.
NATIVE_DAY = json.loads(Path(routing.__file__).with_name("examples").joinpath("problem.json")
                        .read_text())  # fmt: skip
#: A real answer: `NATIVE_DAY` with a seventh parcel no van reaches in its window, solved.
SOLUTION_EXAMPLE = json.loads(
    Path(__file__).parents[1].joinpath("examples", "batch.solution.json").read_text()
)
#: The same answer as GeoJSON (`?format=geojson`): the route's line, its stops, the parcel left out.
SOLUTION_GEOJSON_EXAMPLE = json.loads(
    Path(__file__).parents[1].joinpath("examples", "batch.solution.geojson").read_text()
)


class BatchSubmit(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"format": "native", "time_limit_s": 5, "problem": NATIVE_DAY},
                {
                    "format": "vroom",
                    "time_limit_s": 5,
                    "problem": {
                        "vehicles": [{"id": 1, "start_index": 0, "end_index": 0, "capacity": [20]}],
                        "jobs": [
                            {"id": 1, "location_index": 1, "delivery": [1]},
                            {"id": 2, "location_index": 2, "delivery": [1]},
                        ],
                        "matrices": {
                            "car": {"durations": [[0, 300, 420], [300, 0, 200], [420, 200, 0]]}
                        },
                    },
                }
            ]
        },
    )

    format: Literal["native", "vroom"] = Field(
        description="`native` is Gongpei's problem model JSON; `vroom` is VROOM's input format."
    )
    problem: dict[str, Any] = Field(
        description="The problem in the chosen format. Native (the README's "
        "routing/examples/problem.json, the first example): `locations` (lat, lon in WGS 84, "
        "or say `datum`), `centres` (location, opening), `vehicles` (start/end centre, "
        "`capacity` per `capacity_names`, `shift`, breaks, costs), `jobs` (location, "
        "`delivery`/`pickup` amounts, `service` s, `time_windows` as clock strings or "
        "seconds), `shipments`; travel is timed on the server's map unless `matrices` or "
        "`travel` say otherwise. VROOM: its input JSON (the second example).\n\n"
        "A vehicle (either format) may name one of the firm's registered vehicles "
        "(`GET /v1/vehicles`) instead: `{\"registered\": \"Lu B-12345\"}`, in any letter case, "
        "with the day's own fields beside it if any, as in `\"vehicles\": [{\"registered\": "
        "\"Lu B-12345\", \"shift\": [\"08:00\", \"13:00\"]}]`. It is "
        "the registered vehicle as it is when the batch is posted "
        "(a later change or removal leaves the batch as posted): its name (native: `id` and "
        "`name`; VROOM: `description`, and the register's id as `id`), `profile`, "
        "`capacity_parcels` as its `capacity` (a native batch whose `capacity_names` are more "
        "than `parcels` gives `capacity`), its `shift` and costs where registered (VROOM: "
        "`time_window`, `costs`), and its centre, if it has one, as its start and end "
        "(added to a native batch's `centres` and `locations` by the centre's name, unless the "
        "batch has a centre of that id; a batch with `matrices` gives `start` and `end` "
        "itself). Any vehicle field given beside `registered` (`shift`, costs, `breaks`, "
        "`start`, `end`, `capacity`, `id` ...) overrides the register's for this batch. A "
        "name the firm has not registered is a 422 at `registered` naming it."
    )
    engine: Literal["auto", "ortools", "pyvrp"] = Field(
        "auto",
        description="`auto` picks (or races) the engines for the problem; `ortools` and "
        "`pyvrp` ask for one. Checked when posted, not when the job runs.",
    )
    time_limit_s: Float = Field(
        10.0,
        gt=0,
        le=600,
        description="Seconds the engines' search runs at most (up to 600): they keep "
        "improving the plan until it is up or `no_improvement_s` ends it; `progress` is the "
        "share of it run.",
    )
    no_improvement_s: FloatOrNone = Field(
        None,
        gt=0,
        description="End the search once no better plan has turned up for this many seconds "
        f"(`time_limit_s` or more: never). Default (null): {SMALL_DAY_PLATEAU_S:g} s on a "
        f"batch of at most {ORTOOLS_SMALL_DAY_STOPS} stops (a job is one, a shipment two), or "
        f"of at most {SMALL_DAY_STOPS} that PyVRP plans (`engine` `pyvrp`, or `auto` where it "
        "fits), which then takes a second or two rather than its whole limit; a larger batch, "
        "or one of more stops OR-Tools alone plans, searches to its limit. The solution's "
        "`engine_reason` says when it ended early.",
        examples=[2],
    )


class JobAccepted(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": "9b1f0c2d3e4a5b6c7d8e9f0a1b2c3d4e", "status": "queued"}]
        }
    )

    id: str
    status: Literal["queued"]


STATUS_EXAMPLE = {
    "id": "9b1f0c2d3e4a5b6c7d8e9f0a1b2c3d4e",
    "kind": "batch",
    "status": "running",
    "progress": 0.4,
    "error": None,
    "attempts": 1,
    "created_at": "2026-11-26T07:00:00Z",
    "started_at": "2026-11-26T07:00:01Z",
    "finished_at": None,
}


class JobStatus(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [STATUS_EXAMPLE]},
    )

    id: str
    kind: Literal["batch", "siting", "pool"]
    status: JobStatusName = Field(
        description="`cancelled`: its owner cancelled it (`POST .../cancel`); it has no result."
    )
    progress: float
    error: str | None
    attempts: int = Field(
        description="The attempt running now, or the last one: 0 while queued and for a job "
        "cancelled before it ran; then 1 unless a worker stopped (died, or lost its lease) and "
        "another took the job over from the start; each attempt's `progress` starts from 0.",
        examples=[1],
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class SizeMix(BaseModel):
    """Shares of a point's parcels by the smallest compartment they fit (summing to 1, checked
    by the point as `gongpei site` checks it). A size left out is 0, as `gongpei site` reads it
    (`{"S": 1}` was a 422 here and a run there)."""

    model_config = ConfigDict(extra="forbid")

    S: Float = Field(0.0, ge=0, le=1, examples=[0.6])
    M: Float = Field(0.0, ge=0, le=1, examples=[0.3])
    L: Float = Field(0.0, ge=0, le=1, examples=[0.1])

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, value: Any) -> Any:
        """[S, M, L], as `gongpei site` reads a mix; errors then name S, M or L as for the
        object (a union of the two forms put its member's name in every error's path)."""
        if isinstance(value, list):
            if len(value) != 3:
                raise ValueError(f"give [S, M, L]: 3 shares, got {len(value)}")
            return dict(zip(("S", "M", "L"), value, strict=True))
        return value

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The object or its list form, so that the OpenAPI schema admits both."""
        share = {"type": "number", "minimum": 0, "maximum": 1}
        listed = {"type": "array", "prefixItems": [share] * 3, "minItems": 3, "maxItems": 3}
        return {"anyOf": [handler(core_schema), listed]}


class DemandPoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Text = Field(min_length=1, max_length=100, examples=["dorm-7"])
    lat: Float = Field(ge=-90, le=90, examples=[36.0671])
    lon: Float = Field(ge=-180, le=180, examples=[120.3826])
    parcels: Float = Field(ge=0, le=1e7, description="Parcels per day.", examples=[140])
    mix: SizeMix | None = Field(
        None,
        description="S/M/L shares for a sizing, as an object or as [S, M, L] (as `gongpei site` "
        "reads them); omitted = the default mix (0.6/0.3/0.1).",
    )


class Compartments(BaseModel):
    model_config = ConfigDict(extra="forbid")

    S: Int = Field(0, ge=0, le=MAX_COUNT, examples=[40])
    M: Int = Field(0, ge=0, le=MAX_COUNT, examples=[20])
    L: Int = Field(0, ge=0, le=MAX_COUNT, examples=[8])


class CandidateSite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Text = Field(min_length=1, max_length=100, examples=["gate-east"])
    lat: Float = Field(ge=-90, le=90, examples=[36.0668])
    lon: Float = Field(ge=-180, le=180, examples=[120.3831])
    fixed_cost: Float = Field(0.0, ge=0, le=1e9, description="Cost of opening a locker here.")
    capacity: FloatOrNone = Field(
        None, ge=0, le=1e7, description="Parcels per day it can hold; omitted = unlimited."
    )
    existing: Bool = Field(False, description="Already built: always kept open.")
    compartments: Compartments | None = Field(
        None, description="An existing locker's compartments, which a sizing keeps as they are."
    )


class CompartmentCosts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    S: FloatOrNone = Field(None, ge=0, le=1e7, description="Default 300.", examples=[300])
    M: FloatOrNone = Field(None, ge=0, le=1e7, description="Default 400.", examples=[400])
    L: FloatOrNone = Field(None, ge=0, le=1e7, description="Default 550.", examples=[550])


class SizingSpec(BaseModel):
    """Compartment counts as a decision: each open locker gets the S/M/L compartments its
    parcels need (a small parcel may take a larger compartment), each at its cost."""

    model_config = ConfigDict(extra="forbid")

    dwell_days: Float = Field(1.5, gt=0, le=30, description="Mean days a parcel waits.")
    max_compartments: Int = Field(120, ge=1, le=10_000, description="Per locker, all sizes.")
    costs: CompartmentCosts = Field(
        default_factory=CompartmentCosts, description="Building cost per compartment by size."
    )


class SitingModelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["maxcover", "setcover", "pmedian", "facility"] = Field(
        description="maxcover: most parcels in reach of p lockers or a budget; setcover: "
        "cheapest set reaching everyone; pmedian: least walking with p lockers; facility: "
        "fixed plus assignment costs."
    )
    p: IntOrNone = Field(None, ge=1, le=10_000, description="Number of lockers.")
    budget: FloatOrNone = Field(None, ge=0, le=1e12, description="Money for fixed costs.")
    capacitated: Bool = Field(False, description="Respect candidate capacities.")
    sizing: SizingSpec | None = Field(
        None,
        description="Decide each locker's compartments (implies capacitated): the block, "
        "`true` for its defaults, or `false` (as null) for none, as `gongpei site` reads it.",
        json_schema_extra=lambda schema: schema["anyOf"].insert(1, {"type": "boolean"}),
    )
    unserved_penalty: FloatOrNone = Field(
        None,
        gt=0,
        le=1e7,
        description="pmedian: metres charged per parcel with no locker in reach "
        "(default: twice the largest distance).",
    )

    @field_validator("sizing", mode="before")
    @classmethod
    def _switch(cls, value: Any) -> Any:
        """`true` sizes with the defaults and `false` does not size, as in a native siting
        file (`routing.siting.native`): the same run was a 422 here and ran under `gongpei
        site`. JSON true and false only: "true" is still refused at the field."""
        return {} if value is True else None if value is False else value


class SitingSubmit(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "model": {"kind": "maxcover", "p": 1},
                    "radius_m": 500,
                    "distance": "straight_line",
                    "demand": [
                        {"id": "dorm-7", "lat": 36.0671, "lon": 120.3826, "parcels": 140},
                        {"id": "lab-2", "lat": 36.0690, "lon": 120.3850, "parcels": 60},
                    ],
                    "candidates": [
                        {"id": "gate-east", "lat": 36.0668, "lon": 120.3831, "fixed_cost": 20000},
                        {"id": "canteen", "lat": 36.0685, "lon": 120.3846, "fixed_cost": 15000},
                    ],
                    "time_limit_s": 10,
                }
            ]
        },
    )

    model: SitingModelSpec
    radius_m: Float = Field(500.0, gt=0, le=5000, description="Walking catchment, metres.")
    distance: Literal["walk", "straight_line"] = Field(
        "walk",
        description="`walk`: distances on the server's walk network (GONGPEI_MAP_NETWORK); "
        "`straight_line`: great-circle distances.",
    )
    demand: list[DemandPoint] = Field(min_length=1, max_length=50_000)
    candidates: list[CandidateSite] = Field(min_length=1, max_length=10_000)
    time_limit_s: Float = Field(
        30.0,
        gt=0,
        le=600,
        description="Seconds the whole run may take (up to 600): the walking catchments, the "
        "search's start and writing the plan out count too, and the search gets what they "
        "leave, a tenth of it at least (1 s at least), the result's `warnings` saying so where "
        "the catchments took over half. `progress` is the share of it run, 0.99 once the "
        "search is done.",
    )
    datum: Annotated[Text, AfterValidator(datum_value)] = Field(
        DEFAULT_DATUM,
        description="What the points' lat/lon are given in, as a native siting file says it: "
        "`wgs84` (GPS, OSM), `gcj02` (Amap, Tencent) or `bd09` (Baidu). They are read into "
        "WGS 84, as the result is.",
        examples=["gcj02"],
    )


Ident = int | str
Seconds = float


class SolutionStep(BaseModel):
    """One step of a route, in VROOM's output shape."""

    model_config = ConfigDict(extra="allow")

    type: Literal["start", "job", "pickup", "delivery", "break", "end"]
    id: Ident | None = Field(None, description="The task's (or break's) id; none at start/end.")
    shipment: Ident | None = Field(None, description="A pickup or delivery's shipment id.")
    location_index: int | None = Field(None, description="Index into the problem's locations.")
    location: list[float] | None = Field(
        None, min_length=2, max_length=2, description="[lon, lat] in WGS 84, where known."
    )
    arrival: Seconds = Field(
        description="Arrival, seconds from midnight of the plan's day (as the problem's times)."
    )
    duration: Seconds = Field(description="Travel time of the route so far, seconds.")
    distance: float = Field(description="Metres driven so far.")
    service: Seconds = Field(description="Service time here, seconds (a break's length).")
    waiting_time: Seconds = Field(
        description="Seconds waited here before service (a time window, opening hours)."
    )
    load: list[int] = Field(description="The load on board after this step, per capacity.")


class SolutionRoute(BaseModel):
    model_config = ConfigDict(extra="allow")

    vehicle: Ident
    cost: float = Field(description="Fixed cost + per km + per hour of travel, in cost units.")
    distance: float = Field(description="Metres driven.")
    duration: Seconds = Field(description="Travel time, seconds.")
    service: Seconds
    waiting_time: Seconds
    walked_m: float | None = Field(
        None, description="Metres walked between the parked vehicle and its stops (road maps)."
    )
    steps: list[SolutionStep]


class SolutionUnassigned(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: Ident
    type: Literal["job", "pickup", "delivery"]
    shipment: Ident | None = None
    reason: str = Field(description="Why the solver left it out.")
    location_index: int | None = None


class Checker(BaseModel):
    ok: bool = Field(description="The independent checker found no violation.")
    violations: list[str]


class SolutionSummary(BaseModel):
    model_config = ConfigDict(extra="allow")

    cost: float
    routes: int
    unassigned: int
    distance: float
    duration: Seconds
    service: Seconds
    waiting_time: Seconds
    penalty: float = Field(description="The priority penalty of the tasks left out.")
    computing_times: dict[str, int] = Field(description="`solving`: milliseconds.")
    engine: str = Field(description="The engine whose plan this is.")
    engine_reason: str | None = Field(description="Why `auto` chose it.")
    checker: Checker


class BatchSolution(BaseModel):
    """A solved batch: VROOM's output shape, with the checker's verdict in its summary."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [SOLUTION_EXAMPLE]
        },
    )

    code: int = Field(description="0, as VROOM writes for a solved problem.")
    summary: SolutionSummary
    unassigned: list[SolutionUnassigned]
    routes: list[SolutionRoute]
