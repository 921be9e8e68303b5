"""jobs: pooling runs ('pool') beside batches and siting runs

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _kinds(kinds: str) -> None:
    # batch mode: SQLite cannot alter a CHECK constraint in place, so the table is rebuilt
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint("ck_jobs_kind", type_="check")
        batch.create_check_constraint("ck_jobs_kind", f"kind IN ({kinds})")


def upgrade() -> None:
    _kinds("'batch', 'siting', 'pool'")


def downgrade() -> None:
    op.execute("DELETE FROM jobs WHERE kind = 'pool'")
    _kinds("'batch', 'siting'")
