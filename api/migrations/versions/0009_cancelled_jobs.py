"""jobs: a job its owner cancelled ('cancelled') beside done and failed

Revision ID: 0009
Revises: 0008

Only the CHECK constraint on `jobs.status` changes; SQLite rebuilds the table (batch mode,
foreign keys off: see `api.db.migrate.upgrade`), keeping every row.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _statuses(statuses: str) -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint("ck_jobs_status", type_="check")
        batch.create_check_constraint("ck_jobs_status", f"status IN ({statuses})")


def upgrade() -> None:
    _statuses("'queued', 'running', 'done', 'failed', 'cancelled'")


def downgrade() -> None:
    # the older schema has no such status: a cancelled job reads as one that failed, and why
    op.execute(
        "UPDATE jobs SET status = 'failed', error = 'cancelled by its owner' "
        "WHERE status = 'cancelled'"
    )
    _statuses("'queued', 'running', 'done', 'failed'")
