"""audit: the key id of each event's HMAC (keyed chain)

Revision ID: 5a1c3e9b7d42
Revises: 5a1d3c9e7b20
Create Date: 2026-12-01 05:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "5a1c3e9b7d42"
down_revision: str | Sequence[str] | None = "5a1d3c9e7b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Events already written keep NULL: they are legacy links, accepted only as mla.audit.chain says."""
    op.add_column("audit_events", sa.Column("key_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("audit_events", "key_id")
