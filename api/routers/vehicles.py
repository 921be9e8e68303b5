"""/v1/vehicles: each firm's fleet register; another firm's vehicles are 404."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.engine import Database
from api.db.models import Centre, Firm, Vehicle
from api.deps import RowId, errors, firm_key, get_db, unprocessable
from api.schemas.vehicles import VehicleCreate, VehicleOut, VehicleUpdate

router = APIRouter(prefix="/v1/vehicles", tags=["vehicles"])


def _check_centre(session: Session, centre_id: int | None) -> None:
    if centre_id is not None and session.get(Centre, centre_id) is None:
        raise unprocessable(["body", "centre_id"], f"centre {centre_id} not found")


@router.get("", response_model=list[VehicleOut], responses=errors(401, 403),
            summary="The firm's vehicles",
            description="The firm's fleet register, in the order the vehicles were added. A "
            "batch does not read it: a batch lists its vehicles itself.")
def list_vehicles(firm: Firm = Depends(firm_key), db: Database = Depends(get_db)):
    with db.reading() as session:
        return session.scalars(
            select(Vehicle).where(Vehicle.firm_id == firm.id).order_by(Vehicle.id)
        ).all()


@router.post("", response_model=VehicleOut, status_code=201, responses=errors(401, 403, 422),
             summary="Register a vehicle",
             description="Adds a vehicle to the firm's register; `centre_id`, if given, must "
             "name a platform centre (`GET /v1/centres`), else a 422 at the field.")
def add_vehicle(body: VehicleCreate, firm: Firm = Depends(firm_key),
                db: Database = Depends(get_db)):
    with db.writing() as session:
        _check_centre(session, body.centre_id)
        vehicle = Vehicle(firm_id=firm.id, **body.model_dump())
        session.add(vehicle)
        session.flush()
        return vehicle


@router.patch("/{vehicle_id}", response_model=VehicleOut, responses=errors(401, 403, 404, 422),
              summary="Change a vehicle",
              description="Changes only the fields given; `centre_id: null` clears the "
              "centre. Another firm's vehicle is a 404.")
def update_vehicle(vehicle_id: RowId, body: VehicleUpdate, firm: Firm = Depends(firm_key),
                   db: Database = Depends(get_db)):
    with db.writing() as session:
        vehicle = session.get(Vehicle, vehicle_id)
        if vehicle is None or vehicle.firm_id != firm.id:
            raise HTTPException(404, f"vehicle {vehicle_id} not found")
        changes = body.model_dump(exclude_unset=True)
        _check_centre(session, changes.get("centre_id"))
        for field, value in changes.items():
            if value is not None or field == "centre_id":
                setattr(vehicle, field, value)
        session.flush()
        return vehicle
