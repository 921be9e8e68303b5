"""pool_participants: the platform firms taking part in each pooling run

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pool_participants",
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("firm_id", sa.Integer(), nullable=False),
        sa.Column("day_firm", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["firm_id"], ["firms.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id", "firm_id"),
    )
    op.create_index(
        "ix_pool_participants_firm_id", "pool_participants", ["firm_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_pool_participants_firm_id", table_name="pool_participants")
    op.drop_table("pool_participants")
