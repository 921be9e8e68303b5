"""Batch and siting-run bodies: submission, job status."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from api.schemas.common import Bool, Float, FloatOrNone, Int, IntOrNone, JobStatusName, Text
from routing.siting.points import MAX_COUNT


class BatchSubmit(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
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
    problem: dict[str, Any] = Field(description="The problem in the chosen format.")
    engine: Literal["auto", "ortools", "pyvrp"] = Field(
        "auto",
        description="`auto` picks (or races) the engines for the problem; `ortools` and "
        "`pyvrp` ask for one. Checked when posted, not when the job runs.",
    )
    time_limit_s: Float = Field(10.0, gt=0, le=600)


class JobAccepted(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": "9b1f0c2d3e4a5b6c7d8e9f0a1b2c3d4e", "status": "queued"}]
        }
    )

    id: str
    status: Literal["queued"]


class JobStatus(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
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
            ]
        },
    )

    id: str
    kind: Literal["batch", "siting", "pool"]
    status: JobStatusName = Field(
        description="`cancelled`: its owner cancelled it (`POST .../cancel`); it has no result."
    )
    progress: float
    error: str | None
    attempts: int = Field(
        description="The attempt running now, or the last one: 1 unless a worker stopped "
        "(died, or lost its lease) and another took the job over from the start; each attempt's "
        "`progress` starts from 0.",
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
    time_limit_s: Float = Field(30.0, gt=0, le=600)
