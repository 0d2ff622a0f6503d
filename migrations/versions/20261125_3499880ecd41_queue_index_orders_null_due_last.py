"""queue index: requests without a running clock sort last (coalesce to 'infinity')

The queue pages on (urgency_rank, coalesce(next_due_at, 'infinity'), id); the index must carry the
same expression for the keyset comparison and the ORDER BY to use it. The included columns let
the bucket counts run as an index-only scan.

Revision ID: 3499880ecd41
Revises: 7d08fd95f2b0
Create Date: 2026-11-25 11:35:57.850825

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "3499880ecd41"
down_revision: str | Sequence[str] | None = "7d08fd95f2b0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_REQUEST = sa.text("status NOT IN ('fulfilled', 'refused', 'rejected', 'withdrawn', 'expired')")
# The queue holds what the authority must handle: submitted or received, not yet closed.
IN_QUEUE = sa.text("status NOT IN ('draft', 'fulfilled', 'refused', 'rejected', 'withdrawn', 'expired')")


def upgrade() -> None:
    op.drop_index("ix_requests_queue", table_name="requests")
    op.create_index(
        "ix_requests_queue",
        "requests",
        [
            "central_authority_id",
            "urgency_rank",
            sa.literal_column("coalesce(next_due_at, 'infinity'::timestamptz)"),
            "id",
        ],
        unique=False,
        postgresql_where=IN_QUEUE,
        postgresql_include=["next_due_at", "status", "assignee_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_requests_queue", table_name="requests")
    op.create_index(
        "ix_requests_queue",
        "requests",
        ["central_authority_id", "urgency_rank", "next_due_at", "id"],
        unique=False,
        postgresql_where=OPEN_REQUEST,
    )
