"""Compartment reservations: reserve, deposit, pick up, cancel, operator unlock/release, and
the sweeper for expiries.

Double booking is prevented three times over: writers serialise on SQLite (BEGIN IMMEDIATE),
PostgreSQL hands each concurrent request a different free compartment (`FOR UPDATE SKIP
LOCKED`), and a partial unique index refuses a second active reservation of one compartment.
One parcel is not booked twice either: `reserve` looks for the firm's active reservation of the
`parcel_ref` in its transaction, and a second partial unique index catches concurrent requests.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.models import ACTIVE_STATES, SIZES, Compartment, Firm, Locker, Reservation, utcnow
from api.security import new_pickup_code


class BookingError(Exception):
    """A reservation request the current state does not allow; `status` is the HTTP code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _none_free(session: Session, locker_id: int, sizes: list[str], allow_larger: bool) -> str:
    """Why no door of ``sizes`` is held: none free now (worth retrying), or none of those sizes
    at all, which "no free compartment of size L" left a firm retrying in vain."""
    wanted = f"{sizes[0]} or larger" if allow_larger else sizes[0]
    built = set(
        session.scalars(select(Compartment.size).where(Compartment.locker_id == locker_id))
    )
    if built & set(sizes):
        return f"locker {locker_id}: no free compartment of size {wanted}"
    has = ", ".join(s for s in SIZES if s in built) or "none"
    return f"locker {locker_id} has no compartment of size {wanted} at all (its sizes: {has})"


def reserve(
    session: Session,
    firm: Firm,
    locker_id: int,
    *,
    size: str,
    parcel_ref: str,
    allow_larger: bool,
    ttl_s: float,
) -> Reservation:
    """Hold the smallest fitting free compartment of a locker for `ttl_s` seconds (409 if none)."""
    if session.get(Locker, locker_id) is None:
        raise BookingError(404, f"locker {locker_id} not found")
    held = _holding(session, firm.id, parcel_ref)
    if held is not None:
        raise _parcel_held(parcel_ref, held)
    release_expired(session, locker_id=locker_id)
    sizes = list(SIZES[SIZES.index(size) :]) if allow_larger else [size]
    rank = case({s: i for i, s in enumerate(SIZES)}, value=Compartment.size)
    compartment = session.scalars(
        select(Compartment)
        .where(
            Compartment.locker_id == locker_id,
            Compartment.status == "free",
            Compartment.size.in_(sizes),
        )
        .order_by(rank, Compartment.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if compartment is None:
        raise BookingError(409, _none_free(session, locker_id, sizes, allow_larger))
    compartment.status = "reserved"
    availability_changed(session, locker_id)
    reservation = Reservation(
        firm_id=firm.id,
        locker_id=locker_id,
        compartment_id=compartment.id,
        size=compartment.size,
        parcel_ref=parcel_ref,
        pickup_code=new_pickup_code(),
        expires_at=utcnow() + timedelta(seconds=ttl_s),
    )
    try:
        # A savepoint keeps the transaction usable after a refused insert (PostgreSQL aborts
        # it otherwise), so the winner of a race for the same parcel can be named.
        with session.begin_nested():
            session.add(reservation)
    except IntegrityError as err:  # a partial unique index caught a concurrent double booking
        held = _holding(session, firm.id, parcel_ref)
        if held is not None:
            raise _parcel_held(parcel_ref, held) from err
        raise BookingError(409, f"locker {locker_id}: compartment was just taken") from err
    return reservation


def _holding(session: Session, firm_id: int, parcel_ref: str) -> Reservation | None:
    """The firm's active reservation of a parcel, row-locked; an overdue hold is expired first,
    so a parcel whose hold ran out can be booked again before the sweeper gets to it."""
    held = session.scalars(
        select(Reservation)
        .where(
            Reservation.firm_id == firm_id,
            Reservation.parcel_ref == parcel_ref,
            Reservation.state.in_(ACTIVE_STATES),
        )
        .with_for_update()
    ).first()
    if held is not None:
        _expire_if_due(session, held)
    return held if held is not None and held.state in ACTIVE_STATES else None


def _parcel_held(parcel_ref: str, held: Reservation) -> BookingError:
    return BookingError(
        409,
        f"parcel {parcel_ref} already has an active reservation: {held.id} "
        f"({held.state}, locker {held.locker_id})",
    )


class WrongCodeError(BookingError):
    """A wrong pickup code: refused, but the failed attempt is recorded (the caller commits)."""


def owned(session: Session, firm: Firm, reservation_id: str) -> Reservation:
    """The firm's reservation, row-locked; another firm's reservation is simply not found."""
    return _locked(session, reservation_id, Reservation.firm_id == firm.id)


def _locked(session: Session, reservation_id: str, *where: ColumnElement[bool]) -> Reservation:
    reservation = session.scalars(
        select(Reservation).where(Reservation.id == reservation_id, *where).with_for_update()
    ).first()
    if reservation is None:
        raise BookingError(404, f"reservation {reservation_id} not found")
    return reservation


def _close(session: Session, reservation: Reservation, state: str, now: datetime) -> None:
    reservation.state = state
    reservation.closed_at = now
    compartment = session.get(Compartment, reservation.compartment_id, with_for_update=True)
    if compartment is not None and compartment.status != "out_of_service":
        compartment.status = "free"
        availability_changed(session, reservation.locker_id)


def availability_changed(session: Session, locker_id: int) -> None:
    """Stamp the locker so search caches reload its free counts (its `updated_at` is kept)."""
    session.execute(
        update(Locker)
        .where(Locker.id == locker_id)
        .values(availability_changed_at=utcnow(), updated_at=Locker.updated_at)
    )


def effective_state(reservation: Reservation, now: datetime | None = None) -> str:
    """The state as of `now`: a hold past `expires_at` is expired even before the sweeper (or
    the next booking at its locker) writes it, so readers never see a stale `reserved`."""
    due = reservation.expires_at <= (now or utcnow())
    return "expired" if reservation.state == "reserved" and due else reservation.state


def deadline(reservation: Reservation, state: str) -> datetime | None:
    """When the hold runs out, as shown: while it is `reserved`, and on one that `expired`
    (when it did); None once the parcel is deposited (a deposit never expires, yet a picked-up
    parcel showed its booking's + 30 min) or the hold was cancelled. The column keeps the
    time: the sweeper and the search read it for holds only."""
    return reservation.expires_at if state in ("reserved", "expired") else None


def in_state(state: str, now: datetime | None = None) -> ColumnElement[bool]:
    """SQL filter matching `effective_state(...) == state` (for listings filtered by state)."""
    now = now or utcnow()
    if state == "reserved":
        return and_(Reservation.state == "reserved", Reservation.expires_at > now)
    if state == "expired":
        due = and_(Reservation.state == "reserved", Reservation.expires_at <= now)
        return or_(Reservation.state == "expired", due)
    return Reservation.state == state


def _expire_if_due(session: Session, reservation: Reservation) -> None:
    now = utcnow()
    if effective_state(reservation, now) != reservation.state:
        _close(session, reservation, "expired", now)


def deposit(session: Session, firm: Firm, reservation_id: str) -> Reservation:
    reservation = owned(session, firm, reservation_id)
    _expire_if_due(session, reservation)
    if reservation.state != "reserved":
        raise BookingError(409, f"reservation {reservation_id} is {reservation.state}")
    reservation.state = "deposited"
    reservation.deposited_at = utcnow()
    session.get(Compartment, reservation.compartment_id, with_for_update=True).status = "occupied"
    return reservation


#: Wrong pickup codes accepted per reservation before it refuses every code (brute force).
MAX_PICKUP_FAILURES = 5


def pickup(session: Session, firm: Firm, reservation_id: str, code: str) -> Reservation:
    """Open the door for the right code; counts wrong codes (committed even though refused)."""
    reservation = owned(session, firm, reservation_id)
    if reservation.state != "deposited":
        raise _not_deposited(reservation)
    if reservation.failed_pickups >= MAX_PICKUP_FAILURES:
        raise BookingError(
            423,
            f"reservation {reservation_id}: too many wrong pickup codes; ask the operator to "
            f"unlock it (POST /v1/reservations/{reservation_id}/unlock) or to hand the parcel "
            f"over (POST /v1/reservations/{reservation_id}/release)",
        )
    if not secrets.compare_digest(code.encode(), reservation.pickup_code.encode()):
        reservation.failed_pickups += 1
        raise WrongCodeError(403, f"reservation {reservation_id}: wrong pickup code")
    _close(session, reservation, "picked_up", utcnow())
    return reservation


def cancel(session: Session, firm: Firm, reservation_id: str) -> Reservation:
    reservation = owned(session, firm, reservation_id)
    _expire_if_due(session, reservation)
    if reservation.state != "reserved":
        raise BookingError(
            409, f"reservation {reservation_id} is {reservation.state} and cannot be cancelled"
        )
    _close(session, reservation, "cancelled", utcnow())
    return reservation


def _deposited(session: Session, reservation_id: str) -> Reservation:
    """Any firm's reservation (operator actions), row-locked; 409 unless a parcel is inside."""
    reservation = _locked(session, reservation_id)
    if reservation.state != "deposited":
        raise _not_deposited(reservation)
    return reservation


#: Why a reservation in each state holds no parcel to hand over.
_NO_PARCEL = {
    "reserved": "not deposited yet: its parcel is not in the compartment (deposit it first)",
    "expired": "not deposited: its hold ran out before a parcel was put in",
    "cancelled": "not deposited: it was cancelled before a parcel was put in",
    "picked_up": "not deposited: its parcel was already picked up",
}


def _not_deposited(reservation: Reservation) -> BookingError:
    """The 409 of a pickup (or an operator's unlock or release) with no parcel in the door,
    saying why: a pickup's "reservation ... is reserved" did not say the parcel was never put
    in."""
    state = effective_state(reservation)
    return BookingError(409, f"reservation {reservation.id} is {state}, {_NO_PARCEL[state]}")


def unlock(session: Session, reservation_id: str) -> Reservation:
    """Operator: forget the wrong pickup codes so the right code opens the door again (after
    the recipient proved who they are); a locked-out parcel is otherwise stuck for good."""
    reservation = _deposited(session, reservation_id)
    reservation.failed_pickups = 0
    return reservation


def release(session: Session, reservation_id: str) -> Reservation:
    """Operator: staff opened the door and handed the parcel over; it counts as picked up and
    the compartment is free again (also for a recipient who lost the code)."""
    reservation = _deposited(session, reservation_id)
    _close(session, reservation, "picked_up", utcnow())
    return reservation


def release_expired(session: Session, *, locker_id: int | None = None) -> int:
    """Expire reserved-but-never-deposited reservations past their time; frees their doors."""
    now = utcnow()
    query = (
        select(Reservation)
        .where(Reservation.state == "reserved", Reservation.expires_at <= now)
        .with_for_update(skip_locked=True)
    )
    if locker_id is not None:
        query = query.where(Reservation.locker_id == locker_id)
    expired = session.scalars(query).all()
    for reservation in expired:
        _close(session, reservation, "expired", now)
    session.flush()
    return len(expired)
