"""Shapes shared by several resources."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

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
#: A request body's numbers: JSON numbers, strictly, as a file's are read (`routing.siting.
#: native`, a locker file's import). Lax mode took "3" and 2.0 for a whole number 3 and 2, and
#: "36.07" for a latitude; `Int` is a JSON integer, `Float` any finite JSON number, and true or
#: false is neither (its own message). A response's numbers are plain `int`/`float`: the server
#: builds them. (`routing.model`'s `Int`/`Float`, for YAML files and Python callers, refuse
#: text too but read 2.0 as 2.)
Int = Annotated[int, Field(strict=True), BeforeValidator(not_bool)]
Float = Annotated[float, Field(strict=True, allow_inf_nan=False), BeforeValidator(not_bool)]
#: A request body's true/false: JSON true or false only ("false" and 0 were read as false).
Bool = StrictBool
#: The numbers above, or null. Not `Int | None`: pydantic cannot reach a number wrapped in a
#: validator inside a union, so a field's bounds would still hold but the OpenAPI schema would
#: show them as `ge`/`le` instead of `minimum`/`maximum`.
IntOrNone = Annotated[int | None, Field(strict=True), BeforeValidator(not_bool)]
FloatOrNone = Annotated[
    float | None, Field(strict=True, allow_inf_nan=False), BeforeValidator(not_bool)
]


class SizeCounts(BaseModel):
    """A number per compartment size."""

    # Plain ints: only responses use it, which the server builds (`Int` is for requests).
    S: int = Field(ge=0, examples=[4])
    M: int = Field(ge=0, examples=[2])
    L: int = Field(ge=0, examples=[1])


class ErrorBody(BaseModel):
    """An error body: `detail` says what is wrong (and, for 422, where)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"detail": "locker 7 not found"}]})
    detail: str | list[dict]
