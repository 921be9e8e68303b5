"""vehicles: a firm's vehicle names (its plates) are unique, by a unique index

Revision ID: 0011
Revises: 0010

Before this revision a firm could register one plate twice. The oldest vehicle of each name
keeps it; each later twin is renamed `<name> #<id>` (cut to fit 100 characters) and logged,
so every row is kept and the firm can tell the twins apart, change or delete them.
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)
NAME_LENGTH = 100

vehicles = sa.table("vehicles", sa.column("id"), sa.column("firm_id"), sa.column("name"))


def _later_twins(conn: sa.Connection) -> list[sa.Row]:
    """Vehicles whose firm has an older vehicle (lower id) of the same name."""
    v, older = vehicles, vehicles.alias("older")
    has_older = (
        sa.select(older.c.id)
        .where(older.c.firm_id == v.c.firm_id, older.c.name == v.c.name, older.c.id < v.c.id)
        .exists()
    )
    return list(conn.execute(sa.select(v.c.id, v.c.name).where(has_older).order_by(v.c.id)))


def _rename_twins(conn: sa.Connection) -> None:
    twins = _later_twins(conn)
    for row in twins:
        suffix = f" #{row.id}"
        conn.execute(
            sa.update(vehicles)
            .where(vehicles.c.id == row.id)
            .values(name=row.name[: NAME_LENGTH - len(suffix)] + suffix)
        )
    if twins:
        log.warning(
            "renamed %d vehicles registered twice under one name: %s",
            len(twins),
            ", ".join(str(row.id) for row in twins),
        )


def upgrade() -> None:
    _rename_twins(op.get_bind())
    op.create_index("uq_vehicles_firm_name", "vehicles", ["firm_id", "name"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_vehicles_firm_name", table_name="vehicles")
