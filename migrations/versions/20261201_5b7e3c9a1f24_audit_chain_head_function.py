"""audit chain head function: lock a chain and read its head in one statement

Revision ID: 5b7e3c9a1f24
Revises: 9d2f4b6a8c13
Create Date: 2026-12-01 14:00:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "5b7e3c9a1f24"
down_revision: str | Sequence[str] | None = "9d2f4b6a8c13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """A volatile function, because each of its statements takes a fresh snapshot: the head it reads is the
    one after the lock was granted, which a single SELECT taking the lock could not see (its snapshot
    predates the wait)."""
    op.execute(
        """
        CREATE FUNCTION lock_audit_chain(chain_name varchar) RETURNS TABLE (seq integer, hash varchar)
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtextextended(chain_name, 0));
            RETURN QUERY
                SELECT e.seq, e.hash FROM audit_events AS e WHERE e.chain = chain_name ORDER BY e.seq DESC LIMIT 1;
        END;
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION lock_audit_chain(varchar)")
