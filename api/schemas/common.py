"""Shapes shared by several resources."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Size = Literal["S", "M", "L"]
#: Text a database can store: PostgreSQL refuses NUL characters, so they are a 422 up front.
Text = Annotated[str, Field(pattern=r"^[^\x00]*$")]


class SizeCounts(BaseModel):
    """A number per compartment size."""

    S: int = Field(ge=0, examples=[4])
    M: int = Field(ge=0, examples=[2])
    L: int = Field(ge=0, examples=[1])


class ErrorBody(BaseModel):
    """An error body: `detail` says what is wrong (and, for 422, where)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"detail": "locker 7 not found"}]})
    detail: str | list[dict]
