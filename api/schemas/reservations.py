"""Reservation bodies: the firm's carry the pickup code, the operator's (admin) do not."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Bool, Size, Text

State = Literal["reserved", "deposited", "picked_up", "expired", "cancelled"]

_RESERVATION_EXAMPLE = {
    "id": "3f2c9a7e0b6d4e0f9a1c2b3d4e5f6a7b",
    "locker_id": 12,
    "compartment": "M03",
    "size": "M",
    "parcel_ref": "SF1234567890",
    "pickup_code": "04817263",
    "state": "reserved",
    "created_at": "2026-11-26T07:00:00Z",
    "expires_at": "2026-11-26T07:30:00Z",
}


class ReservationCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"size": "M", "parcel_ref": "SF1234567890", "allow_larger": True}]
        },
    )

    size: Size
    parcel_ref: Text = Field(min_length=1, max_length=100, description="The firm's parcel number.")
    allow_larger: Bool = Field(False, description="Take a larger door when none of `size` is free.")


class PickupRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"pickup_code": "04817263"}]}
    )

    pickup_code: Text = Field(min_length=1, max_length=12)


_OPERATOR_EXAMPLE = {
    **{k: v for k, v in _RESERVATION_EXAMPLE.items() if k != "pickup_code"},
    "firm_id": 3,
    "state": "deposited",
    "expires_at": None,
    "failed_pickups": 0,
}


class _ReservationFields(BaseModel):
    """What every view of a reservation shows: the firm's and the operator's."""

    id: str
    locker_id: int
    compartment: str = Field(description="The door label, e.g. M03.")
    size: Size
    parcel_ref: str
    state: State = Field(description="As of now: a hold past `expires_at` reads `expired`.")
    created_at: datetime
    expires_at: datetime | None = Field(
        description="A hold not deposited by then is released: set while `reserved`, and "
        "when it ran out on one `expired`; null once deposited (a deposit never expires), "
        "picked up or cancelled."
    )


class ReservationOut(_ReservationFields):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [_RESERVATION_EXAMPLE]},
    )

    pickup_code: str


class OperatorReservationOut(_ReservationFields):
    """What an operator (admin) sees after acting on a parcel: no pickup code."""

    model_config = ConfigDict(json_schema_extra={"examples": [_OPERATOR_EXAMPLE]})

    firm_id: int
    failed_pickups: int = Field(description="Wrong pickup codes since the last unlock; 5 locks.")


class ReservationPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_RESERVATION_EXAMPLE], "next_cursor": None}]}
    )

    items: list[ReservationOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next (older) page; null on the last page."
    )


class OperatorReservationPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [{**_OPERATOR_EXAMPLE, "failed_pickups": 5}],
                    "next_cursor": None,
                }
            ]
        }
    )

    items: list[OperatorReservationOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next (older) page; null on the last page."
    )
