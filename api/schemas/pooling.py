"""Pooling-run bodies: a day of several firms to compare alone against pooled."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.schemas.common import Bool, Float, FloatOrNone, JobStatusName
from routing.pooling.day import MAX_DAY_VEHICLES

_EXAMPLE_DAY = {
    "name": "two firms, one tower",
    "travel": {"straight_line": True, "walk_radius_m": 300},
    "firms": [
        {"id": "sf", "depot": [36.0900, 120.4100], "fleet": [{"count": 1}]},
        {"id": "yto", "depot": [36.0950, 120.4050], "fleet": [{"count": 1}]},
    ],
    "centres": [{"id": "hub", "at": [36.0800, 120.3950], "fleet": [{"count": 2}]}],
    "lockers": [{"id": "tower", "at": [36.0660, 120.3800], "free": {"S": 4, "M": 2}}],
    "parcels": [
        {"id": "sf-1", "firm": "sf", "at": [36.0662, 120.3800]},
        {"id": "yto-1", "firm": "yto", "at": [36.0661, 120.3803], "size": "M", "kg": 2.5},
    ],
}


class PoolSubmit(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"day": _EXAMPLE_DAY, "time_limit_s": 5}]},
    )

    day: dict[str, Any] = Field(
        description="The day as `gongpei pool` reads it: firms (depot, fleet), shared centres "
        "(shared fleet), lockers (free compartments), parcels (firm, place, size, kg, window) "
        "and the line haul (`transfer`). Travel is timed on this server's map (leave "
        "`travel.source` out) or by straight lines (`travel: {straight_line: true}`). "
        f"At most {MAX_DAY_VEHICLES} vehicles in the day: a fleet entry's `count` and all "
        "the fleets' counts together.",
    )
    firms_on_platform: dict[str, str] = Field(
        default_factory=dict,
        description="Day firm id -> the platform firm (by name) that may read its own result "
        "at `/v1/pool-runs/{id}/firm-result`; a day firm whose id is a platform firm's name "
        "needs no entry.",
        examples=[{"sf": "SF Express"}],
    )
    live_lockers: Bool = Field(
        False,
        description="Also drop parcels into the platform's own lockers within walking reach, "
        "with the compartments free at submission.",
    )
    engine: Literal["auto", "ortools", "pyvrp"] = "auto"
    time_limit_s: Float = Field(5.0, gt=0, le=600, description="Seconds for each day plan.")
    coalition_time_limit_s: Float = Field(
        1.0, gt=0, le=60, description="Seconds for a Shapley coalition of every firm."
    )
    stop_on_plateau: Bool = Field(
        True,
        description="End each solve of a small day (at most 50 stops, planned by PyVRP) "
        "after half its time limit, 1 s at most, without a better plan, as `gongpei pool` "
        "does; false runs every solve to its time limit (`--no-plateau`).",
    )
    split_time_limit_s: FloatOrNone = Field(
        300.0,
        ge=0,
        le=3600,
        description="Seconds for the Shapley splits in all: exact Shapley only where its "
        "coalitions' time limits fit, otherwise sampled until the time is up, with each "
        "firm's 95 % interval (the split's `stopped_by` is then `time_limit`); 0 or null: no "
        "limit (exact up to 10 firms, however long it takes), as `--split-time-limit 0`.",
    )
    shapley_precision: Float = Field(
        0.0,
        ge=0,
        lt=1,
        description="Beyond 10 firms, stop sampling Shapley once every firm's 95 % interval is "
        "within this share of the average share: 0.02 for 2 %, below 1 (1 would let the "
        "interval be as wide as the average share itself). 0: the permutation cap decides.",
    )

    @field_validator("split_time_limit_s")
    @classmethod
    def _zero_is_none(cls, value: float | None) -> float | None:
        """0 is no limit, as `gongpei pool --split-time-limit 0` reads it (it was a 422 here,
        where only null meant none); the worker is handed null either way."""
        return value or None


class PoolRunOut(BaseModel):
    id: str
    status: JobStatusName
    day: str = Field(description="The day's name.")
    firm: str | None = Field(
        description="A firm's listing: its id in the day. A planner's: null (the run is its "
        "own, with every firm of the day)."
    )
    created_at: datetime
    finished_at: datetime | None


class PoolRunPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": "9b1f0c2d3e4a5b6c7d8e9f0a1b2c3d4e",
                            "status": "done",
                            "day": "Shinan towers, Monday",
                            "firm": "sf",
                            "created_at": "2026-11-26T08:00:00Z",
                            "finished_at": "2026-11-26T08:03:10Z",
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    items: list[PoolRunOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
