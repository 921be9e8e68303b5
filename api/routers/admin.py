"""/v1/firms and /v1/centres: administration (centres are also listed publicly)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import select

from api.db.engine import Database
from api.db.models import Centre, Firm
from api.deps import RowId, admin_key, errors, get_db
from api.limits import public_rate_limit
from api.schemas.admin import (
    CentreCreate,
    CentreOut,
    CentreUpdate,
    FirmCreate,
    FirmCreated,
    FirmOut,
    FirmUpdate,
)
from api.security import DuplicateFirmError, create_firm

router = APIRouter(tags=["admin"])


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


@router.get(
    "/v1/centres",
    response_model=list[CentreOut],
    dependencies=[Depends(public_rate_limit)],
    responses=errors(429),
    summary="Shared distribution centres (public)",
)
def list_centres(db: Database = Depends(get_db)):
    with db.reading() as session:
        return session.scalars(select(Centre).order_by(Centre.id)).all()


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
