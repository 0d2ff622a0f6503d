"""requests: search by identifier (a GIN index on the identifiers)

Revision ID: 7c3e5a9d1f42
Revises: be96d8fca303
Create Date: 2026-12-01 10:00:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "7c3e5a9d1f42"
down_revision: str | Sequence[str] | None = "be96d8fca303"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """`GET /requests?identifier=`: `identifiers @> [{kind, value}]` through jsonb_path_ops (smaller than the
    default operator class, and containment is the only question asked)."""
    op.create_index(
        "ix_requests_identifiers",
        "requests",
        ["identifiers"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"identifiers": "jsonb_path_ops"},
    )


def downgrade() -> None:
    """Drop the index."""
    op.drop_index(
        "ix_requests_identifiers",
        table_name="requests",
        postgresql_using="gin",
        postgresql_ops={"identifiers": "jsonb_path_ops"},
    )
