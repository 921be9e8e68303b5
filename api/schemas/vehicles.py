"""Vehicle bodies: a firm's fleet register."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Int, IntOrNone, Text

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

    name: Text = Field(min_length=1, max_length=100)
    profile: Profile = "van"
    capacity_parcels: Int = Field(ge=1, le=100_000)
    centre_id: IntOrNone = Field(None, ge=1, le=2_147_483_647)


class VehicleUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"capacity_parcels": 200}]}
    )

    name: Text | None = Field(None, min_length=1, max_length=100)
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
