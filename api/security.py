"""API keys (random, stored hashed), roles, and the FastAPI dependencies that enforce them."""

from __future__ import annotations

import hashlib
import secrets

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.models import ROLES, ApiKey, Firm, utcnow
from api.schemas.admin import FirmCreate

KEY_PREFIX = "gp_"
_api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="A firm's API key, as printed once by `gongpei admin create-firm`.",
)


class DuplicateFirmError(ValueError):
    """A firm with this name already exists."""


class NotFoundError(LookupError):
    """No such firm or key (named in the message)."""


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
    key, _ = issue_key(session, firm)
    return firm, key


def issue_key(session: Session, firm: Firm) -> tuple[str, ApiKey]:
    """A new key for the firm: the plain key (shown once, never stored) and its row."""
    key = new_key()
    row = ApiKey(firm_id=firm.id, key_hash=hash_key(key), prefix=key[:10])
    session.add(row)
    session.flush()
    return key, row


def firm_named(session: Session, name: str) -> Firm:
    """The firm of this name (as stored: without surrounding spaces)."""
    firm = session.scalar(select(Firm).where(Firm.name == name.strip()))
    if firm is None:
        raise NotFoundError(f"firm '{name.strip()}': no such firm")
    return firm


def firm_keys(session: Session, firm: Firm) -> list[ApiKey]:
    """Every key the firm was given, revoked ones included, oldest first."""
    query = select(ApiKey).where(ApiKey.firm_id == firm.id).order_by(ApiKey.id)
    return list(session.scalars(query))


def revoke_key(session: Session, firm: Firm, key: str | int) -> ApiKey:
    """Revoke one of the firm's keys, named by its id or its prefix (`gp_` and 7 more
    characters, as listed): a leaked key stops working at once, the firm's others do not.
    The row stays, with when it was revoked, so the list shows what was done. Revoking a
    revoked key changes nothing."""
    keys = firm_keys(session, firm)
    found = [k for k in keys if str(k.id) == str(key) or k.prefix == key]
    if not found:
        raise NotFoundError(f"firm '{firm.name}': no key {key} (see its list of keys)")
    if len(found) > 1:
        ids = ", ".join(str(k.id) for k in found)
        raise NotFoundError(f"firm '{firm.name}': prefix {key} names keys {ids}: give the id")
    (row,) = found
    row.revoked_at = row.revoked_at or utcnow()
    session.flush()
    return row


def revoke_all_keys(session: Session, firm: Firm) -> int:
    """Revoke every key the firm holds (it can no longer call the API until given a new one);
    the number revoked."""
    active = [k for k in firm_keys(session, firm) if k.revoked_at is None]
    for row in active:
        row.revoked_at = utcnow()
    session.flush()
    return len(active)


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
