"""API keys (random, stored hashed), roles, and the FastAPI dependencies that enforce them."""

from __future__ import annotations

import hashlib
import secrets

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.models import ROLES, ApiKey, Firm
from api.schemas.admin import FirmCreate

KEY_PREFIX = "gp_"
_api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="A firm's API key, as printed once by `gongpei admin create-firm`.",
)


class DuplicateFirmError(ValueError):
    """A firm with this name already exists."""


def hash_key(key: str) -> str:
    """SHA-256 of the key: keys carry 256 random bits, so a fast unsalted hash is enough."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def new_pickup_code() -> str:
    """An 8-digit pickup code from the OS's secure random source."""
    return f"{secrets.randbelow(10**8):08d}"


def create_firm(session: Session, name: str, role: str) -> tuple[Firm, str]:
    """Create a firm with one API key; the plain key is returned once and never stored.
    Name and role are checked by the rules of `POST /v1/firms` (`FirmCreate`), so that
    `gongpei admin create-firm` stores no firm the API would refuse: the name without its
    surrounding spaces, never blank, and short enough for its column (PostgreSQL refused a
    longer one with a traceback)."""
    try:
        checked = FirmCreate(name=name, role=role)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        if first["loc"] == ("role",):
            problem = f"firm '{name.strip()}': role must be one of {', '.join(ROLES)}, not '{role}'"
        else:
            problem = f"name: {first['msg'].removeprefix('Value error, ')}"
        raise ValueError(problem) from None
    if session.scalar(select(Firm.id).where(Firm.name == checked.name)) is not None:
        raise DuplicateFirmError(f"firm '{checked.name}': a firm with this name already exists")
    firm = Firm(name=checked.name, role=checked.role)
    session.add(firm)
    session.flush()
    key = issue_key(session, firm)
    return firm, key


def issue_key(session: Session, firm: Firm) -> str:
    key = new_key()
    session.add(ApiKey(firm_id=firm.id, key_hash=hash_key(key), prefix=key[:10]))
    session.flush()
    return key


def authenticate(session: Session, key: str) -> Firm | None:
    """The firm owning an unrevoked `key`, or None."""
    row = session.execute(
        select(Firm)
        .join(ApiKey, ApiKey.firm_id == Firm.id)
        .where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
    ).scalar_one_or_none()
    return row


class RoleCheck:
    """A dependency returning the calling firm, 401 without a valid key, 403 for a wrong role.

    A class rather than a closure so that the app can find a route's check among its
    dependencies and run it itself where FastAPI refuses the body before any dependency ran."""

    def __init__(self, *roles: str) -> None:
        self.roles = roles

    def __call__(self, request: Request, key: str | None = Depends(_api_key_header)) -> Firm:
        if not key:
            raise HTTPException(401, "missing X-API-Key header", {"WWW-Authenticate": "APIKey"})
        with request.app.state.db.reading() as session:
            firm = authenticate(session, key)
        if firm is None:
            raise HTTPException(401, "invalid API key", {"WWW-Authenticate": "APIKey"})
        if firm.role not in self.roles:
            raise HTTPException(403, f"this endpoint needs a key of role {' or '.join(self.roles)}")
        return firm
