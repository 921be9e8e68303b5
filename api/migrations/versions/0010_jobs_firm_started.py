"""jobs: an index on (firm_id, started_at), read by every claim to let the firms take turns

Revision ID: 0010
Revises: 0009

A claim orders the firms by the latest start of their jobs; without the index that read every
job of every firm. An index only: every row is kept.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_jobs_firm_started", "jobs", ["firm_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_firm_started", table_name="jobs")
