"""/v1/reservations: a firm's own reservations; another firm's are 404."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import booking
from api.db.engine import Database
from api.db.models import Compartment, Firm, Reservation
from api.deps import errors, firm_key, get_db
from api.schemas.reservations import PickupRequest, ReservationOut

router = APIRouter(prefix="/v1/reservations", tags=["reservations"])


def reservation_out(session: Session, reservation: Reservation) -> dict:
    label = session.scalar(
        select(Compartment.label).where(Compartment.id == reservation.compartment_id)
    )
    fields = ("id", "locker_id", "size", "parcel_ref", "pickup_code", "state")
    return {
        **{f: getattr(reservation, f) for f in fields},
        "compartment": label,
        "created_at": reservation.created_at,
        "expires_at": reservation.expires_at,
    }


@router.get(
    "/{reservation_id}",
    response_model=ReservationOut,
    responses=errors(401, 403, 404),
    summary="One of the firm's reservations",
)
def get_reservation(
    reservation_id: str, firm: Firm = Depends(firm_key), db: Database = Depends(get_db)
) -> dict:
    with db.reading() as session:
        reservation = session.scalars(
            select(Reservation).where(
                Reservation.id == reservation_id, Reservation.firm_id == firm.id
            )
        ).first()
        if reservation is None:
            raise booking.BookingError(404, f"reservation {reservation_id} not found")
        return reservation_out(session, reservation)


@router.post(
    "/{reservation_id}/deposit",
    response_model=ReservationOut,
    responses=errors(401, 403, 404, 409),
    summary="Record that the parcel is in its compartment",
)
def deposit(
    reservation_id: str, firm: Firm = Depends(firm_key), db: Database = Depends(get_db)
) -> dict:
    with db.writing() as session:
        return reservation_out(session, booking.deposit(session, firm, reservation_id))


@router.post(
    "/{reservation_id}/pickup",
    response_model=ReservationOut,
    responses=errors(401, 403, 404, 409, 422),
    summary="Release the compartment once the recipient gives the pickup code",
)
def pickup(
    reservation_id: str,
    body: PickupRequest,
    firm: Firm = Depends(firm_key),
    db: Database = Depends(get_db),
) -> dict:
    with db.writing() as session:
        reservation = booking.pickup(session, firm, reservation_id, body.pickup_code)
        return reservation_out(session, reservation)


@router.delete(
    "/{reservation_id}",
    response_model=ReservationOut,
    responses=errors(401, 403, 404, 409),
    summary="Cancel a reservation that has not been deposited",
)
def cancel(
    reservation_id: str, firm: Firm = Depends(firm_key), db: Database = Depends(get_db)
) -> dict:
    with db.writing() as session:
        return reservation_out(session, booking.cancel(session, firm, reservation_id))
