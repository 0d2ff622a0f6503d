"""cases can be closed; communications share the requests' direction vocabulary (issue 12)

Revision ID: c4a5e0d7b311
Revises: 3e8b1f6c2a57
Create Date: 2026-12-01 10:45:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4a5e0d7b311"
down_revision: str | Sequence[str] | None = "3e8b1f6c2a57"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("status", sa.String(length=16), server_default="open", nullable=False))
    op.add_column("cases", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    # A communication we sent is outgoing, one we received incoming: the words requests use.
    op.execute(
        "UPDATE communications SET direction = CASE direction WHEN 'sent' THEN 'outgoing' ELSE 'incoming' END "
        "WHERE direction IN ('sent', 'received')"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE communications SET direction = CASE direction WHEN 'outgoing' THEN 'sent' ELSE 'received' END "
        "WHERE direction IN ('outgoing', 'incoming')"
    )
    op.drop_column("cases", "closed_at")
    op.drop_column("cases", "status")
