"""Reservation bodies: the firm's carry the pickup code, the operator's (admin) do not."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from api.schemas.common import Bool, Size, Text
from network.hints import close_name, did_you_mean

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

    @model_validator(mode="wrap")
    @classmethod
    def _hint_unknown(cls, value: Any, handler: Any) -> Any:
        """An unknown field names the field likely meant, at its own path, as a batch's and a
        pooling day's readers do: `{"code": ...}` got pydantic's "Extra inputs are not
        permitted" beside "Field required" for `pickup_code`, which left the client guessing."""
        try:
            return handler(value)
        except ValidationError as err:
            raise _with_hints(err, list(cls.model_fields)) from None


def _with_hints(err: ValidationError, fields: list[str]) -> ValidationError:
    """``err`` with each unknown field's message naming the field it likely misspells."""
    details: list[InitErrorDetails] = []
    for error in err.errors():
        detail = InitErrorDetails(type=error["type"], loc=error["loc"], input=error["input"])
        if error["type"] == "extra_forbidden":
            name = str(error["loc"][-1])
            meant = close_name(name, fields, cutoff=0.5)
            hint = did_you_mean(meant) if meant else f" (known: {', '.join(fields)})"
            detail["type"] = PydanticCustomError(
                "extra_forbidden", "unknown field '{name}'{hint}", {"name": name, "hint": hint}
            )
        elif "ctx" in error:
            detail["ctx"] = error["ctx"]
        details.append(detail)
    return ValidationError.from_exception_data(err.title, details)


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
