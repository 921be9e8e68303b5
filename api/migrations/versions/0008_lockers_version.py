"""lockers_version: a counter of locker changes that moves at commit, for the search caches

Revision ID: 0008
Revises: 0007

The caches compared `max(lockers.updated_at)`, stamped at flush, so a change committed after
a later-stamped one was never seen. The table starts empty: the first locker change makes its
one row. Nothing else is touched, so the upgrade keeps every row of an existing database.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lockers_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("lockers_version")
