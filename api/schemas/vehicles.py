"""Vehicle bodies: a firm's fleet register."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Int, IntOrNone, Name

Profile = Literal["van", "e-tricycle"]


class VehicleCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Lu B-12345", "profile": "van", "capacity_parcels": 180, "centre_id": 1}
            ]
        },
    )

    name: Name = Field(
        max_length=100,
        description="The plate or the firm's own name for the vehicle, without surrounding "
        "spaces; unique within the firm (a second vehicle of one name is a 409).",
    )
    profile: Profile = "van"
    capacity_parcels: Int = Field(ge=1, le=100_000)
    centre_id: IntOrNone = Field(None, ge=1, le=2_147_483_647)


class VehicleUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"capacity_parcels": 200}]}
    )

    name: Name | None = Field(
        None,
        max_length=100,
        description="A new name, unique within the firm: another vehicle's is a 409.",
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
                 "centre_id": 1}
            ]
        },
    )

    id: int
    name: str
    profile: Profile
    capacity_parcels: int
    centre_id: int | None
