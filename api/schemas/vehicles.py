"""Vehicle bodies: a firm's fleet register."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)

from api.db.models import vehicle_key
from api.schemas.common import FloatOrNone, Int, IntOrNone, Name
from routing.model import MAX_MONEY, MAX_SECONDS, clock_seconds, not_bool

Profile = Literal["van", "e-tricycle"]


def _clock(value: Any) -> Any:
    """A time as a native batch takes it: clock text ("08:30", past 24:00 for the next day)
    as seconds from midnight; a number as it is (true/false refused)."""
    return clock_seconds(value) if isinstance(value, str) else not_bool(value)


#: A time of day: seconds from midnight, or clock text, as a native batch's shift.
Clock = Annotated[
    float,
    Field(strict=True, ge=0, le=MAX_SECONDS, allow_inf_nan=False),
    BeforeValidator(_clock),
    WithJsonSchema({"anyOf": [
        {"type": "number", "minimum": 0, "maximum": MAX_SECONDS},
        {"type": "string", "pattern": r"^\s*\d+:[0-5]\d(:[0-5]\d)?\s*$", "examples": ["08:00"]},
    ]}),
]  # fmt: skip

#: The longest `vehicle_key` a name may have: a name's 100 characters stay within it unless
#: made of compatibility characters that spell out long (`ﷺ` is 18 letters), whose key would
#: outgrow PostgreSQL's index entries (2.7 kB).
MAX_KEY_LENGTH = 300


def _keyable(name: str) -> str:
    if len(vehicle_key(name)) > MAX_KEY_LENGTH:
        raise ValueError(
            f"spelt out (compatibility characters such as ligatures), the name is longer than "
            f"{MAX_KEY_LENGTH} characters; write it in plain letters"
        )
    return name


VehicleName = Annotated[Name, AfterValidator(_keyable)]


class _Day(BaseModel):
    """A vehicle's usual working day and costs, which a batch naming it takes unless it gives
    its own (none: the batch format's default; in a change, null clears one)."""

    shift: tuple[Clock, Clock] | None = Field(
        None,
        description="[start, end] of its usual working day: clock text or seconds from "
        "midnight (an end past 24:00 is the next day).",
        examples=[["08:00", "18:00"]],
    )
    fixed_cost: FloatOrNone = Field(None, ge=0, le=MAX_MONEY, description="Per day it is used.")
    cost_per_km: FloatOrNone = Field(None, ge=0, le=MAX_MONEY, description="Per km driven.")
    cost_per_hour: FloatOrNone = Field(
        None, ge=0, le=MAX_MONEY, description="Per hour of travel (not waiting or service)."
    )

    @field_validator("shift")
    @classmethod
    def _in_order(cls, shift: tuple[float, float] | None) -> tuple[float, float] | None:
        if shift is not None and shift[0] > shift[1]:
            raise ValueError("the shift ends before it starts")
        return shift


class VehicleCreate(_Day):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Lu B-12345", "profile": "van", "capacity_parcels": 180, "centre_id": 1,
                 "shift": ["08:00", "18:00"], "fixed_cost": 50, "cost_per_km": 1.2,
                 "cost_per_hour": 30}
            ]
        },
    )

    name: VehicleName = Field(
        max_length=100,
        description="The plate or the firm's own name for the vehicle, without surrounding "
        "spaces; unique within the firm in any letter case or width (a second vehicle of one "
        "name, `苏a12345` beside `苏A12345`, is a 409). A batch names it as `registered`.",
    )
    profile: Profile = "van"
    capacity_parcels: Int = Field(ge=1, le=100_000)
    centre_id: IntOrNone = Field(None, ge=1, le=2_147_483_647)


class VehicleUpdate(_Day):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"capacity_parcels": 200, "shift": ["07:30", "17:30"]}]},
    )

    name: VehicleName | None = Field(
        None,
        max_length=100,
        description="A new name, unique within the firm in any letter case or width: another "
        "vehicle's is a 409.",
    )
    profile: Profile | None = None
    capacity_parcels: IntOrNone = Field(None, ge=1, le=100_000)
    centre_id: IntOrNone = Field(None, ge=1, le=2_147_483_647)


class VehicleOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {"id": 4, "name": "Lu B-12345", "profile": "van", "capacity_parcels": 180,
                 "centre_id": 1, "shift": [28800, 64800], "fixed_cost": 50,
                 "cost_per_km": 1.2, "cost_per_hour": 30}
            ]
        },
    )

    id: int
    name: str
    profile: Profile
    capacity_parcels: int
    centre_id: int | None
    shift: list[float] | None = Field(description="[start, end], seconds from midnight.")
    fixed_cost: float | None
    cost_per_km: float | None
    cost_per_hour: float | None
