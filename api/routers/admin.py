"""/v1/firms and /v1/centres: administration (centres are also listed publicly)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy import func, select

from api.db.engine import Database
from api.db.models import ApiKey, Centre, Firm
from api.deps import RowId, admin_key, errors, get_db, public_responses
from api.limits import public_rate_limit
from api.paging import in_id_order, next_id_cursor
from api.schemas.admin import (
    CentreCreate,
    CentreOut,
    CentrePage,
    CentreUpdate,
    FirmCreate,
    FirmCreated,
    FirmOut,
    FirmUpdate,
    KeyCreated,
    KeyOut,
)
from api.security import (
    DuplicateFirmError,
    NotFoundError,
    create_firm,
    firm_keys,
    hash_key,
    issue_key,
    revoke_key,
)

router = APIRouter(tags=["admin"])
#: The PostgreSQL advisory lock key revocations queue on (any fixed 64-bit number).
KEY_REVOCATION_LOCK = 0x6B_65_79_73  # "keys"


def _taken(session, model, name: str, own_id: int | None = None) -> bool:
    found = session.scalar(select(model.id).where(model.name == name))
    return found is not None and found != own_id


@router.post(
    "/v1/firms",
    response_model=FirmCreated,
    status_code=201,
    responses=errors(401, 403, 409, 422),
    summary="Register a firm and issue its API key (admin)",
)
def add_firm(body: FirmCreate, _: Firm = Depends(admin_key), db: Database = Depends(get_db)):
    with db.writing() as session:
        try:
            firm, key = create_firm(session, body.name, body.role)
        except DuplicateFirmError as err:
            raise HTTPException(409, str(err)) from err
        return {"id": firm.id, "name": firm.name, "role": firm.role, "api_key": key}


@router.patch(
    "/v1/firms/{firm_id}",
    response_model=FirmOut,
    responses=errors(401, 403, 404, 409, 422),
    summary="Rename a firm or change its role (admin)",
)
def update_firm(
    firm_id: RowId,
    body: FirmUpdate,
    caller: Firm = Depends(admin_key),
    db: Database = Depends(get_db),
):
    """An admin cannot change its own role, so the last admin cannot lock everyone out."""
    with db.writing() as session:
        firm = session.get(Firm, firm_id)
        if firm is None:
            raise HTTPException(404, f"firm {firm_id} not found")
        if firm.id == caller.id and body.role not in (None, firm.role):
            raise HTTPException(409, f"firm {firm_id}: an admin cannot change its own role")
        if body.name is not None:
            if _taken(session, Firm, body.name, firm_id):
                raise HTTPException(409, f"firm '{body.name}': a firm with this name exists")
            firm.name = body.name
        if body.role is not None:
            firm.role = body.role
        return firm


def _firm(session, firm_id: int) -> Firm:
    firm = session.get(Firm, firm_id)
    if firm is None:
        raise HTTPException(404, f"firm {firm_id} not found")
    return firm


@router.get(
    "/v1/firms/{firm_id}/keys",
    response_model=list[KeyOut],
    responses=errors(401, 403, 404),
    summary="A firm's API keys, revoked ones included (admin)",
)
def list_keys(firm_id: RowId, _: Firm = Depends(admin_key), db: Database = Depends(get_db)):
    with db.reading() as session:
        return firm_keys(session, _firm(session, firm_id))


@router.post(
    "/v1/firms/{firm_id}/keys",
    response_model=KeyCreated,
    status_code=201,
    responses=errors(401, 403, 404),
    summary="Issue a firm another API key, to rotate its keys (admin)",
)
def add_key(firm_id: RowId, _: Firm = Depends(admin_key), db: Database = Depends(get_db)):
    """The new key works at once beside the firm's others: hand it over, then revoke the old
    one, and the firm's calls never stop."""
    with db.writing() as session:
        firm = _firm(session, firm_id)
        key, row = issue_key(session, firm)
        return {**KeyOut.model_validate(row).model_dump(), "api_key": key}


@router.delete(
    "/v1/firms/{firm_id}/keys/{key_id}",
    response_model=KeyOut,
    responses=errors(401, 403, 404, 409),
    summary="Revoke one of a firm's API keys: it stops working at once (admin)",
)
def delete_key(
    firm_id: RowId,
    key_id: RowId,
    request: Request,
    _: Firm = Depends(admin_key),
    db: Database = Depends(get_db),
):
    """The key's row is kept with when it was revoked. The key this request is made with is
    not revoked here (409): revoke it with another admin's key, so an admin cannot lock the
    last admin out by mistake. Revocations run one at a time, each first checking that the
    caller's own key still works: two admins revoking each other's keys at once both
    succeeded, and no admin key was left."""
    caller = hash_key(request.headers["X-API-Key"])
    with db.writing() as session:
        if not db.is_sqlite:  # SQLite's writes queue already
            session.execute(select(func.pg_advisory_xact_lock(KEY_REVOCATION_LOCK)))
        still = select(ApiKey.id).where(ApiKey.key_hash == caller, ApiKey.revoked_at.is_(None))
        if session.scalar(still) is None:
            raise HTTPException(401, "invalid API key", {"WWW-Authenticate": "APIKey"})
        firm = _firm(session, firm_id)
        row = session.get(ApiKey, key_id)
        if row is not None and row.firm_id == firm.id and row.key_hash == caller:
            raise HTTPException(409, f"key {key_id} is the one this request is made with")
        try:
            return revoke_key(session, firm, key_id)
        except NotFoundError as err:
            raise HTTPException(404, str(err)) from err


@router.get(
    "/v1/centres",
    response_model=CentrePage,
    dependencies=[Depends(public_rate_limit)],
    responses=public_responses(422),
    summary="Shared distribution centres, by id, with cursor paging (public)",
    description="In the order they were added; follow `next_cursor` for more, as the locker "
    "search pages (a page once read stays the same: centres are never removed).",
)
def list_centres(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    db: Database = Depends(get_db),
) -> dict:
    query = in_id_order(select(Centre), ident=Centre.id, cursor=cursor, limit=limit)
    with db.reading() as session:
        rows = session.scalars(query).all()
        items = [CentreOut.model_validate(row) for row in rows[:limit]]
    return {"items": items, "next_cursor": next_id_cursor(rows, limit)}


@router.post(
    "/v1/centres",
    response_model=CentreOut,
    status_code=201,
    responses=errors(401, 403, 409, 422),
    summary="Add a shared distribution centre (admin)",
)
def add_centre(body: CentreCreate, _: Firm = Depends(admin_key), db: Database = Depends(get_db)):
    with db.writing() as session:
        if _taken(session, Centre, body.name):
            raise HTTPException(409, f"centre '{body.name}': a centre with this name exists")
        centre = Centre(**body.model_dump())
        session.add(centre)
        session.flush()
        return centre


@router.patch(
    "/v1/centres/{centre_id}",
    response_model=CentreOut,
    responses=errors(401, 403, 404, 409, 422),
    summary="Change a distribution centre (admin)",
)
def update_centre(
    centre_id: RowId,
    body: CentreUpdate,
    _: Firm = Depends(admin_key),
    db: Database = Depends(get_db),
):
    with db.writing() as session:
        centre = session.get(Centre, centre_id)
        if centre is None:
            raise HTTPException(404, f"centre {centre_id} not found")
        if body.name is not None and _taken(session, Centre, body.name, centre_id):
            raise HTTPException(409, f"centre '{body.name}': a centre with this name exists")
        for field, value in body.model_dump(exclude_unset=True).items():
            if value is not None or field == "capacity_parcels":
                setattr(centre, field, value)
        session.flush()
        return centre
