"""/v1/reservations: a firm's own reservations (another firm's are 404); operator actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from starlette.convertors import StringConvertor, register_url_convertor

from api import booking
from api.db.engine import Database
from api.db.models import Compartment, Firm, Reservation
from api.deps import HexId, admin_key, errors, firm_key, get_db
from api.paging import newest_first, next_cursor
from api.schemas.reservations import (
    OperatorReservationOut,
    OperatorReservationPage,
    PickupRequest,
    ReservationOut,
    ReservationPage,
    State,
)

router = APIRouter(prefix="/v1/reservations", tags=["reservations"])
#: The path of the locked-out parcels' list, beside the reservations' own.
LOCKED = "locked"


class _ReservationSegment(StringConvertor):
    """The path segment of a reservation: any but `LOCKED`, so that a method the list lacks
    (`DELETE /v1/reservations/locked`) is a 405 naming the list's own, not the cancelling of
    a reservation "locked" (a 422 on its id, or a 403 for an admin's key)."""

    regex = f"(?!{LOCKED}$)[^/]+"


register_url_convertor("reservation", _ReservationSegment())


def _page(db: Database, query: Select, *, limit: int, cursor: str | None) -> dict:
    """One page of reservations, newest first, with the cursor of the next."""
    query = newest_first(
        query, created=Reservation.created_at, ident=Reservation.id, cursor=cursor, limit=limit
    )
    with db.reading() as session:
        rows = session.scalars(query).all()
        items = [reservation_out(session, r) for r in rows[:limit]]
    return {"items": items, "next_cursor": next_cursor(rows, limit)}


def reservation_out(session: Session, reservation: Reservation) -> dict:
    """The response body; `state` is as of now (an overdue hold reads `expired`), and
    `expires_at` only where the hold's deadline still means something (`booking.deadline`)."""
    label = session.scalar(
        select(Compartment.label).where(Compartment.id == reservation.compartment_id)
    )
    fields = ("id", "firm_id", "locker_id", "size", "parcel_ref", "pickup_code", "failed_pickups")
    state = booking.effective_state(reservation)
    return {
        **{f: getattr(reservation, f) for f in fields},
        "state": state,
        "compartment": label,
        "created_at": reservation.created_at,
        "expires_at": booking.deadline(reservation, state),
    }


@router.get(
    "",
    response_model=ReservationPage,
    responses=errors(401, 403, 422),
    summary="The firm's reservations, newest first, with cursor paging",
    description="Each with its pickup code and its state as of now (a hold past "
    "`expires_at` reads `expired`); `state` keeps only those in one state.",
)
def list_reservations(
    state: Annotated[State | None, Query(description="Only reservations in this state")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    firm: Firm = Depends(firm_key),
    db: Database = Depends(get_db),
) -> dict:
    query = select(Reservation).where(Reservation.firm_id == firm.id)
    if state is not None:
        query = query.where(booking.in_state(state))
    return _page(db, query, limit=limit, cursor=cursor)


@router.get(
    f"/{LOCKED}",
    response_model=OperatorReservationPage,
    responses=errors(401, 403, 422),
    summary="Parcels locked after too many wrong pickup codes, newest first (admin)",
    description=(
        "What an operator needs when a locked-out recipient calls: every deposited parcel "
        "whose pickup answers 423, with its locker, door and firm. Each can be unlocked "
        "(`POST .../unlock`) or handed over by staff (`POST .../release`)."
    ),
)
def locked_out(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    _: Firm = Depends(admin_key),
    db: Database = Depends(get_db),
) -> dict:
    query = select(Reservation).where(
        Reservation.state == "deposited",
        Reservation.failed_pickups >= booking.MAX_PICKUP_FAILURES,
    )
    return _page(db, query, limit=limit, cursor=cursor)


@router.get(
    "/{reservation_id:reservation}",
    response_model=ReservationOut,
    responses=errors(401, 403, 404),
    summary="One of the firm's reservations",
    description="Its state as of now, door and pickup code; another firm's is a 404.",
)
def get_reservation(
    reservation_id: HexId, firm: Firm = Depends(firm_key), db: Database = Depends(get_db)
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
    description="Only a `reserved` hold not yet expired (else a 409): the reservation becomes "
    "`deposited` and never expires; the recipient then picks it up with the code.",
)
def deposit(
    reservation_id: HexId, firm: Firm = Depends(firm_key), db: Database = Depends(get_db)
) -> dict:
    with db.writing() as session:
        return reservation_out(session, booking.deposit(session, firm, reservation_id))


@router.post(
    "/{reservation_id}/pickup",
    response_model=ReservationOut,
    responses=errors(401, 403, 404, 409, 422, 423),
    summary="Release the compartment once the recipient gives the pickup code",
    description=(
        "403 for a wrong code; after 5 wrong codes every code is refused (423) until an "
        "operator unlocks the reservation (`POST .../unlock`) or hands the parcel over "
        "(`POST .../release`)."
    ),
)
def pickup(
    reservation_id: HexId,
    body: PickupRequest,
    firm: Firm = Depends(firm_key),
    db: Database = Depends(get_db),
) -> dict:
    with db.writing() as session:
        try:
            reservation = booking.pickup(session, firm, reservation_id, body.pickup_code)
        except booking.WrongCodeError as err:
            wrong = err  # leave the block normally so the failed attempt is committed
        else:
            return reservation_out(session, reservation)
    raise wrong


@router.delete(
    "/{reservation_id:reservation}",
    response_model=ReservationOut,
    responses=errors(401, 403, 404, 409),
    summary="Cancel a reservation that has not been deposited",
    description="Frees the door of a `reserved` hold; a deposited, picked-up or cancelled "
    "reservation is a 409 (so is one whose hold has expired).",
)
def cancel(
    reservation_id: HexId, firm: Firm = Depends(firm_key), db: Database = Depends(get_db)
) -> dict:
    with db.writing() as session:
        return reservation_out(session, booking.cancel(session, firm, reservation_id))


@router.post(
    "/{reservation_id}/unlock",
    response_model=OperatorReservationOut,
    responses=errors(401, 403, 404, 409, 422),
    summary="Let the pickup code work again after too many wrong codes (admin)",
    description=(
        "For a deposited reservation whose pickup answers 423: forgets the wrong codes so the "
        "recipient's right code opens the door again. 409 unless the parcel is deposited."
    ),
)
def unlock(
    reservation_id: HexId, _: Firm = Depends(admin_key), db: Database = Depends(get_db)
) -> dict:
    with db.writing() as session:
        return reservation_out(session, booking.unlock(session, reservation_id))


@router.post(
    "/{reservation_id}/release",
    response_model=OperatorReservationOut,
    responses=errors(401, 403, 404, 409, 422),
    summary="Record that staff handed the parcel over; frees its compartment (admin)",
    description=(
        "For a deposited parcel given out by staff (e.g. the recipient was locked out or lost "
        "the code): the reservation becomes `picked_up` and the compartment is free. 409 "
        "unless the parcel is deposited."
    ),
)
def release(
    reservation_id: HexId, _: Firm = Depends(admin_key), db: Database = Depends(get_db)
) -> dict:
    with db.writing() as session:
        return reservation_out(session, booking.release(session, reservation_id))
