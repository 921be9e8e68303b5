"""Shapes shared by several resources."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from routing.model import Float as Float  # re-exported: the schemas' numbers
from routing.model import Int as Int
from routing.model import not_bool

Size = Literal["S", "M", "L"]
#: Where a job stands (`api.db.models.JOB_STATUSES`).
JobStatusName = Literal["queued", "running", "done", "failed", "cancelled"]
#: Text a database can store: PostgreSQL refuses NUL characters, so they are a 422 up front.
Text = Annotated[str, Field(pattern=r"^[^\x00]*$")]


def not_blank(value: str) -> str:
    """A name without its surrounding spaces; refused when nothing is left (a firm called ""
    or "   " cannot be told apart from a missing name)."""
    value = value.strip()
    if not value:
        raise ValueError("must not be empty or only spaces")
    return value


#: A name: stored without surrounding spaces, never empty.
Name = Annotated[Text, AfterValidator(not_blank)]
#: Numbers from JSON (`Int`, `Float`: never true or false), or null. Not `Int | None`: pydantic
#: cannot reach a number wrapped in a validator inside a union, so a field's bounds would still
#: hold but the OpenAPI schema would show them as `ge`/`le` instead of `minimum`/`maximum`.
IntOrNone = Annotated[int | None, BeforeValidator(not_bool)]
FloatOrNone = Annotated[float | None, BeforeValidator(not_bool)]


class SizeCounts(BaseModel):
    """A number per compartment size."""

    S: Int = Field(ge=0, examples=[4])
    M: Int = Field(ge=0, examples=[2])
    L: Int = Field(ge=0, examples=[1])


class ErrorBody(BaseModel):
    """An error body: `detail` says what is wrong (and, for 422, where)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"detail": "locker 7 not found"}]})
    detail: str | list[dict]
