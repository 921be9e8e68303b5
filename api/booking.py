"""Compartment reservations: reserve, deposit, pick up, cancel, and the sweeper for expiries.

Double booking is prevented three times over: writers serialise on SQLite (BEGIN IMMEDIATE),
PostgreSQL hands each concurrent request a different free compartment (`FOR UPDATE SKIP
LOCKED`), and a partial unique index refuses a second active reservation of one compartment.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.models import SIZES, Compartment, Firm, Locker, Reservation, utcnow
from api.security import new_pickup_code


class BookingError(Exception):
    """A reservation request the current state does not allow; `status` is the HTTP code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


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
        wanted = f"{size} or larger" if allow_larger else size
        raise BookingError(409, f"locker {locker_id}: no free compartment of size {wanted}")
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
    session.add(reservation)
    try:
        session.flush()
    except IntegrityError as err:  # the partial unique index caught a double booking
        raise BookingError(409, f"locker {locker_id}: compartment was just taken") from err
    return reservation


class WrongCodeError(BookingError):
    """A wrong pickup code: refused, but the failed attempt is recorded (the caller commits)."""


def owned(session: Session, firm: Firm, reservation_id: str) -> Reservation:
    """The firm's reservation, row-locked; another firm's reservation is simply not found."""
    reservation = session.scalars(
        select(Reservation)
        .where(Reservation.id == reservation_id, Reservation.firm_id == firm.id)
        .with_for_update()
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


def _expire_if_due(session: Session, reservation: Reservation) -> None:
    now = utcnow()
    if reservation.state == "reserved" and reservation.expires_at <= now:
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
        raise BookingError(409, f"reservation {reservation_id} is {reservation.state}")
    if reservation.failed_pickups >= MAX_PICKUP_FAILURES:
        raise BookingError(
            423, f"reservation {reservation_id}: too many wrong pickup codes; ask the operator"
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
