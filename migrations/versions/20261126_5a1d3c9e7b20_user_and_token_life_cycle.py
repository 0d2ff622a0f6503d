"""users and tokens: API token expiry, logged-out access tokens

Revision ID: 5a1d3c9e7b20
Revises: 2f8765dd2a28
Create Date: 2026-11-26 09:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "5a1d3c9e7b20"
down_revision: str | Sequence[str] | None = "2f8765dd2a28"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """API tokens get an expiry; logged-out access tokens are remembered until they expire.

    Tokens issued before this change get 90 days from the upgrade (the default lifetime), so an
    upgrade does not cut off running automation at once; an admin renews or replaces them.
    """
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE api_tokens SET expires_at = now() + interval '90 days'")
    op.alter_column("api_tokens", "expires_at", nullable=False)
    op.create_table(
        "revoked_access_tokens",
        sa.Column("jti", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_revoked_access_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_revoked_access_tokens")),
    )
    op.create_index(op.f("ix_revoked_access_tokens_expires_at"), "revoked_access_tokens", ["expires_at"], unique=False)


def downgrade() -> None:
    """Drop the logged-out tokens and the API tokens' expiry."""
    op.drop_index(op.f("ix_revoked_access_tokens_expires_at"), table_name="revoked_access_tokens")
    op.drop_table("revoked_access_tokens")
    op.drop_column("api_tokens", "expires_at")
