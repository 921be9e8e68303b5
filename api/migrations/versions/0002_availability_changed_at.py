"""lockers.availability_changed_at: lets search caches reload only changed free counts

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("lockers", sa.Column("availability_changed_at", sa.DateTime(), nullable=True))
    op.create_index(
        "ix_lockers_availability_changed_at", "lockers", ["availability_changed_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_lockers_availability_changed_at", table_name="lockers")
    op.drop_column("lockers", "availability_changed_at")
