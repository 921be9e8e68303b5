"""reservations: at most one active (reserved or deposited) reservation per firm's parcel_ref

Revision ID: 0007
Revises: 0006

Before this revision a firm could hold several compartments for one parcel. Such holds are
resolved first, as the sweeper would: the one to keep is the deposited one, else the newest;
the other holds are cancelled and their compartments freed. Two *deposited* reservations of
one parcel cannot be resolved automatically (two doors hold something): the upgrade stops and
names them, to be released by staff (`gongpei reservations release ID`) before upgrading again.
"""

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import groupby

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)
ACTIVE = "state IN ('reserved', 'deposited')"

reservations = sa.table(
    "reservations",
    sa.column("id"),
    sa.column("firm_id"),
    sa.column("parcel_ref"),
    sa.column("state"),
    sa.column("locker_id"),
    sa.column("compartment_id"),
    sa.column("created_at"),
    sa.column("closed_at"),
)
compartments = sa.table("compartments", sa.column("id"), sa.column("status"))
lockers = sa.table("lockers", sa.column("id"), sa.column("availability_changed_at"))


def _duplicate_holds(conn: sa.Connection) -> list[sa.Row]:
    """Active reservations of parcels held more than once, the one to keep first per parcel."""
    r = reservations
    active = r.c.state.in_(("reserved", "deposited"))
    dup = (
        sa.select(r.c.firm_id, r.c.parcel_ref)
        .where(active)
        .group_by(r.c.firm_id, r.c.parcel_ref)
        .having(sa.func.count() > 1)
        .subquery()
    )
    deposited_first = sa.case((r.c.state == "deposited", 0), else_=1)
    query = (
        sa.select(r.c.id, r.c.firm_id, r.c.parcel_ref, r.c.state, r.c.locker_id, r.c.compartment_id)
        .join(dup, sa.and_(r.c.firm_id == dup.c.firm_id, r.c.parcel_ref == dup.c.parcel_ref))
        .where(active)
        .order_by(r.c.firm_id, r.c.parcel_ref, deposited_first, r.c.created_at.desc(), r.c.id)
    )
    return list(conn.execute(query))


def _cancel_duplicate_holds(conn: sa.Connection) -> None:
    surplus: list[sa.Row] = []
    stuck: list[str] = []
    for (firm_id, parcel_ref), group in groupby(
        _duplicate_holds(conn), key=lambda row: (row.firm_id, row.parcel_ref)
    ):
        kept, *rest = group
        surplus += [row for row in rest if row.state == "reserved"]
        deposited = [row.id for row in (kept, *rest) if row.state == "deposited"]
        if len(deposited) > 1:
            stuck.append(f"firm {firm_id} parcel {parcel_ref!r}: {', '.join(deposited)}")
    if stuck:
        raise RuntimeError(
            "one parcel is deposited in several compartments; release all but one of each "
            "(`gongpei reservations release ID`) and upgrade again: " + "; ".join(stuck)
        )
    if not surplus:
        return
    now = datetime.now(UTC).replace(tzinfo=None)  # the columns hold naive UTC
    conn.execute(
        sa.update(reservations)
        .where(reservations.c.id.in_([row.id for row in surplus]))
        .values(state="cancelled", closed_at=now)
    )
    conn.execute(
        sa.update(compartments)
        .where(
            compartments.c.id.in_([row.compartment_id for row in surplus]),
            compartments.c.status != "out_of_service",
        )
        .values(status="free")
    )
    conn.execute(
        sa.update(lockers)
        .where(lockers.c.id.in_({row.locker_id for row in surplus}))
        .values(availability_changed_at=now)
    )
    log.warning(
        "cancelled %d duplicate holds of parcels: %s",
        len(surplus),
        ", ".join(row.id for row in surplus),
    )


def upgrade() -> None:
    _cancel_duplicate_holds(op.get_bind())
    op.create_index(
        "uq_reservations_active_parcel",
        "reservations",
        ["firm_id", "parcel_ref"],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_reservations_active_parcel",
        table_name="reservations",
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )
