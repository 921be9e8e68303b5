"""FastAPI dependencies shared by the routers: database, settings, role-checked callers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request

from api.db.engine import Database
from api.schemas.common import ErrorBody
from api.security import require_role
from api.settings import Settings

firm_key = require_role("firm")
planner_key = require_role("planner", "admin")
admin_key = require_role("admin")


async def get_db(request: Request) -> Database:
    return request.app.state.db


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def errors(*codes: int) -> dict[int | str, dict]:
    """OpenAPI `responses` entries for the error codes an endpoint can return."""
    return {code: {"model": ErrorBody} for code in codes}


#: Integer ids in paths: positive and within the databases' 32-bit INTEGER range.
RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]
#: Reservation and job ids: 32 hex digits (uuid4), checked before they reach the database.
HexId = Annotated[
    str, Path(pattern="^[0-9a-f]{32}$", examples=["3f2c9a7e0b6d4e0f9a1c2b3d4e5f6a7b"])
]
