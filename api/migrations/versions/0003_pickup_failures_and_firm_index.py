"""reservations.failed_pickups (brute-force guard) and an index for a firm's listing

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "reservations",
        sa.Column("failed_pickups", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index(
        "ix_reservations_firm_created", "reservations", ["firm_id", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_reservations_firm_created", table_name="reservations")
    op.drop_column("reservations", "failed_pickups")
