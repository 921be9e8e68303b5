"""FastAPI dependencies shared by the routers: database, settings, role-checked callers."""

from __future__ import annotations

from fastapi import Request

from api.db.engine import Database
from api.security import require_role
from api.settings import Settings

firm_key = require_role("firm")
planner_key = require_role("planner", "admin")
admin_key = require_role("admin")


def get_db(request: Request) -> Database:
    return request.app.state.db


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def errors(*codes: int) -> dict[int | str, dict]:
    """OpenAPI `responses` entries for the error codes an endpoint can return."""
    from api.schemas.common import ErrorBody

    return {code: {"model": ErrorBody} for code in codes}
