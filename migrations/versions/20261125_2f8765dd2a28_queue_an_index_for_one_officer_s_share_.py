"""queue: an index for one officer's share (bucket mine)

Revision ID: 2f8765dd2a28
Revises: 3499880ecd41
Create Date: 2026-11-25 12:53:27.422183

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "2f8765dd2a28"
down_revision: str | Sequence[str] | None = "3499880ecd41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The benchmark showed bucket `mine` walking the whole authority's queue (72 ms at 70k open)."""
    op.create_index(
        "ix_requests_queue_assignee",
        "requests",
        [
            "central_authority_id",
            "assignee_id",
            "urgency_rank",
            sa.literal_column("coalesce(next_due_at, 'infinity'::timestamptz)"),
            "id",
        ],
        unique=False,
        postgresql_where=sa.text("status NOT IN ('draft', 'fulfilled', 'refused', 'rejected', 'withdrawn', 'expired')"),
    )


def downgrade() -> None:
    """Drop the index."""
    op.drop_index(
        "ix_requests_queue_assignee",
        table_name="requests",
        postgresql_where=sa.text("status NOT IN ('draft', 'fulfilled', 'refused', 'rejected', 'withdrawn', 'expired')"),
    )
