"""/v1/vehicles: each firm's fleet register; another firm's vehicles are 404."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import APIRouter, Depends, HTTPException, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.engine import Database
from api.db.models import Centre, Firm, Vehicle, vehicle_key
from api.deps import RowId, errors, firm_key, get_db, unprocessable
from api.schemas.vehicles import VehicleCreate, VehicleOut, VehicleUpdate

router = APIRouter(prefix="/v1/vehicles", tags=["vehicles"])

#: The fields a change clears with null (the others keep their value).
CLEARABLE = frozenset({"centre_id", "shift", "fixed_cost", "cost_per_km", "cost_per_hour"})


def _check_centre(session: Session, centre_id: int | None) -> None:
    if centre_id is not None and session.get(Centre, centre_id) is None:
        raise unprocessable(["body", "centre_id"], f"centre {centre_id} not found")


def _holder(session: Session, firm_id: int, name: str | None) -> Vehicle | None:
    """The firm's vehicle called ``name`` in any case (`vehicle_key`), if any (none for no
    name)."""
    if name is None:
        return None
    return session.scalar(
        select(Vehicle).where(Vehicle.firm_id == firm_id, Vehicle.name_key == vehicle_key(name))
    )


def _taken(name: str, holder: Vehicle) -> HTTPException:
    held = "" if holder.name == name else f" as {holder.name!r}"
    return HTTPException(409, f"vehicle name {name!r} is taken by vehicle {holder.id}{held}")


def _check_name(
    session: Session, firm_id: int, name: str | None, own_id: int | None = None
) -> None:
    """A 409 naming the vehicle that already has ``name`` (the vehicle ``own_id`` may keep its
    own), read in the write transaction so the usual case never reaches the index."""
    holder = _holder(session, firm_id, name)
    if holder is not None and holder.id != own_id:
        raise _taken(name, holder)


@contextmanager
def _unique_name(
    db: Database, firm_id: int, name: str | None, own_id: int | None = None
) -> Iterator[None]:
    """The unique index's refusal, when a concurrent request committed the name between
    `_check_name` and this write, as the same 409 (the write was rolled back); any other
    refusal (a centre removed meanwhile) is raised as it was."""
    try:
        yield
    except IntegrityError:
        with db.reading() as session:
            holder = _holder(session, firm_id, name)
            if holder is None or holder.id == own_id:
                raise
            raise _taken(name, holder) from None


def _own_vehicle(session: Session, firm: Firm, vehicle_id: int) -> Vehicle:
    vehicle = session.get(Vehicle, vehicle_id)
    if vehicle is None or vehicle.firm_id != firm.id:
        raise HTTPException(404, f"vehicle {vehicle_id} not found")
    return vehicle


@router.get("", response_model=list[VehicleOut], responses=errors(401, 403),
            summary="The firm's vehicles",
            description="The firm's fleet register, in the order the vehicles were added. A "
            "batch's vehicle may name one (`{\"registered\": name}`, see `POST /v1/batches`): "
            "its values as they are when the batch is posted go with the batch.")
def list_vehicles(firm: Firm = Depends(firm_key), db: Database = Depends(get_db)):
    with db.reading() as session:
        return session.scalars(
            select(Vehicle).where(Vehicle.firm_id == firm.id).order_by(Vehicle.id)
        ).all()


@router.post("", response_model=VehicleOut, status_code=201,
             responses=errors(401, 403, 409, 422),
             summary="Register a vehicle",
             description="Adds a vehicle to the firm's register; `centre_id`, if given, must "
             "name a platform centre (`GET /v1/centres`), else a 422 at the field. Its "
             "`shift` and costs, if given, are what a batch naming it takes unless the batch "
             "gives its own. A name "
             "(plate) the firm has already registered, in any letter case or width "
             "(`苏a12345`, `苏Ａ12345` are `苏A12345`), is a 409 naming that vehicle's id; the "
             "name is kept as written.")
def add_vehicle(body: VehicleCreate, firm: Firm = Depends(firm_key),
                db: Database = Depends(get_db)):
    with _unique_name(db, firm.id, body.name), db.writing() as session:
        _check_centre(session, body.centre_id)
        _check_name(session, firm.id, body.name)
        vehicle = Vehicle(firm_id=firm.id, **body.model_dump())
        session.add(vehicle)
        session.flush()
        return vehicle


@router.patch("/{vehicle_id}", response_model=VehicleOut,
              responses=errors(401, 403, 404, 409, 422),
              summary="Change a vehicle",
              description="Changes only the fields given; null clears the `centre_id`, "
              "`shift` or a cost. A `name` another of the firm's vehicles has, in any letter "
              "case or width, is a 409 naming it. Another firm's vehicle is a 404.")
def update_vehicle(vehicle_id: RowId, body: VehicleUpdate, firm: Firm = Depends(firm_key),
                   db: Database = Depends(get_db)):
    with _unique_name(db, firm.id, body.name, vehicle_id), db.writing() as session:
        vehicle = _own_vehicle(session, firm, vehicle_id)
        changes = body.model_dump(exclude_unset=True)
        _check_centre(session, changes.get("centre_id"))
        _check_name(session, firm.id, body.name, own_id=vehicle.id)
        for field, value in changes.items():
            if value is not None or field in CLEARABLE:
                setattr(vehicle, field, value)
        session.flush()
        return vehicle


@router.delete("/{vehicle_id}", status_code=204, response_class=Response,
               responses=errors(401, 403, 404),
               summary="Remove a vehicle",
               description="Removes the vehicle from the firm's register; its name is free "
               "again. Batches already posted keep the vehicles they listed or named (with "
               "the values they had when posted). Another firm's "
               "vehicle, or one already removed, is a 404.")
def delete_vehicle(vehicle_id: RowId, firm: Firm = Depends(firm_key),
                   db: Database = Depends(get_db)) -> Response:
    with db.writing() as session:
        session.delete(_own_vehicle(session, firm, vehicle_id))
    return Response(status_code=204)
