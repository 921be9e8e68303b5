"""vehicles: a name (plate) is unique within its firm whatever its case; a vehicle's usual
shift and costs; one index fewer

Revision ID: 0012
Revises: 0011

`shift`, `fixed_cost`, `cost_per_km` and `cost_per_hour` are new and empty (null), so a batch
naming a vehicle registered before takes its format's defaults for them, as it would have.

0011 compared names as written, so `van-1` and `VAN-1` (or a plate typed in full-width
letters, `苏Ａ12345`) were two vehicles. `name_key` holds the name with case and width folded
(`api.db.models.vehicle_key`), and the unique index is on (firm_id, name_key). As in 0011, the
oldest vehicle of each key keeps its name; each later twin is renamed `<name> #<id>` (cut to
fit 100 characters) and logged. The unique index leads with firm_id, so `ix_vehicles_firm_id`
(0004) only cost writes: it is dropped. SQLite rebuilds the table (batch mode, foreign keys
off: see `api.db.migrate.upgrade`), keeping every row.
"""

import logging
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)
NAME_LENGTH = 100

vehicles = sa.table(
    "vehicles", sa.column("id"), sa.column("firm_id"), sa.column("name"), sa.column("name_key")
)


def _key(name: str) -> str:
    """`api.db.models.vehicle_key` as of this revision (a migration keeps its own rules)."""
    return unicodedata.normalize("NFKC", name).casefold()


def _key_names(conn: sa.Connection) -> None:
    """Fill `name_key`; a later twin of a key is renamed, its key made from the new name."""
    rows = conn.execute(
        sa.select(vehicles.c.id, vehicles.c.firm_id, vehicles.c.name).order_by(vehicles.c.id)
    )
    rows = list(rows)
    taken = {(row.firm_id, _key(row.name)) for row in rows}
    seen: set[tuple[int, str]] = set()
    renamed = []
    for row in rows:
        name, key = row.name, (row.firm_id, _key(row.name))
        if key in seen:
            suffix = f" #{row.id}"
            name = row.name[: NAME_LENGTH - len(suffix)] + suffix
            key = (row.firm_id, _key(name))
            renamed.append(row.id)
        if name != row.name and key in taken:  # a designed stop: rolled back, in one line
            raise RuntimeError(
                f"vehicle {row.id} of firm {row.firm_id}: {row.name!r} is another vehicle's "
                f"name in another case, and {name!r} is taken too: rename one, then upgrade"
            )
        seen.add(key)
        conn.execute(
            sa.update(vehicles).where(vehicles.c.id == row.id).values(name=name, name_key=key[1])
        )
    if renamed:
        log.warning(
            "renamed %d vehicles registered twice under one name in another case: %s",
            len(renamed),
            ", ".join(map(str, renamed)),
        )


#: The columns of a vehicle's usual working day and costs, all nullable.
DAY_COLUMNS = (
    ("shift", sa.JSON()),
    ("fixed_cost", sa.Float()),
    ("cost_per_km", sa.Float()),
    ("cost_per_hour", sa.Float()),
)


def upgrade() -> None:
    for name, kind in DAY_COLUMNS:
        op.add_column("vehicles", sa.Column(name, kind, nullable=True))
    op.add_column("vehicles", sa.Column("name_key", sa.Text(), nullable=True))
    _key_names(op.get_bind())
    with op.batch_alter_table("vehicles") as batch:
        batch.alter_column("name_key", existing_type=sa.Text(), nullable=False)
        batch.drop_index("uq_vehicles_firm_name")
        batch.drop_index("ix_vehicles_firm_id")
        batch.create_index("uq_vehicles_firm_name_key", ["firm_id", "name_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("vehicles") as batch:
        batch.drop_index("uq_vehicles_firm_name_key")
        batch.create_index("ix_vehicles_firm_id", ["firm_id"], unique=False)
        batch.create_index("uq_vehicles_firm_name", ["firm_id", "name"], unique=True)
        batch.drop_column("name_key")
        for name, _kind in DAY_COLUMNS:
            batch.drop_column(name)
