"""Admin bodies: firms (with their one-time API key) and distribution centres."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Float, IntOrNone, Name, Text

Role = Literal["firm", "planner", "admin"]


class FirmCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "Yunda Qingdao", "role": "firm"}]}
    )

    name: Name = Field(min_length=1, max_length=200)
    role: Role


class FirmUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"role": "planner"}]})

    name: Name | None = Field(None, min_length=1, max_length=200)
    role: Role | None = None


class FirmOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [{"id": 3, "name": "Yunda Qingdao", "role": "firm"}]},
    )

    id: int
    name: str
    role: Role


class FirmCreated(FirmOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": 3, "name": "Yunda Qingdao", "role": "firm", "api_key": "gp_x1..."}]
        }
    )

    api_key: str = Field(description="Shown once; only its hash is stored.")


class KeyOut(BaseModel):
    """One of a firm's API keys: never the key itself, only its first characters."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {"id": 7, "prefix": "gp_x1Yz9Qa", "created_at": "2026-11-26T08:00:00Z",
                 "revoked_at": None}
            ]
        },
    )  # fmt: skip

    id: int
    prefix: str = Field(description="The key's first 10 characters, to tell keys apart.")
    created_at: datetime
    revoked_at: datetime | None = Field(description="When it was revoked; null while it works.")


class KeyCreated(KeyOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": 8, "prefix": "gp_Q2wE3rT", "created_at": "2026-11-27T08:00:00Z",
                 "revoked_at": None, "api_key": "gp_Q2wE3rT..."}
            ]
        }
    )  # fmt: skip

    api_key: str = Field(description="Shown once; only its hash is stored.")


class CentreCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Licang common distribution centre",
                    "lat": 36.1526,
                    "lon": 120.4318,
                    "address": "Jinshui Rd 1",
                    "capacity_parcels": 40000,
                }
            ]
        },
    )

    name: Name = Field(min_length=1, max_length=200)
    lat: Float = Field(ge=-90, le=90)
    lon: Float = Field(ge=-180, le=180)
    address: Text = Field("", max_length=300)
    capacity_parcels: IntOrNone = Field(None, ge=0, le=10_000_000)


class CentreUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"capacity_parcels": 50000}]}
    )

    name: Name | None = Field(None, min_length=1, max_length=200)
    address: Text | None = Field(None, max_length=300)
    capacity_parcels: IntOrNone = Field(None, ge=0, le=10_000_000)


_CENTRE_EXAMPLE = {
    "id": 1,
    "name": "Licang common distribution centre",
    "lat": 36.1526,
    "lon": 120.4318,
    "address": "Jinshui Rd 1",
    "capacity_parcels": 40000,
}


class CentreOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [_CENTRE_EXAMPLE]}
    )

    id: int
    name: str
    lat: float
    lon: float
    address: str
    capacity_parcels: int | None


class CentrePage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_CENTRE_EXAMPLE], "next_cursor": None}]}
    )

    items: list[CentreOut] = Field(description="Centres in the order they were added (`id`).")
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )
