"""reference data version: what the per-process cache of instruments, rules and organisations checks

Revision ID: 9d2f4b6a8c13
Revises: 0a1986bb2797
Create Date: 2026-12-01 11:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "9d2f4b6a8c13"
down_revision: str | Sequence[str] | None = "0a1986bb2797"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED_TABLES = ("instruments", "deadline_rules", "organisations")


def upgrade() -> None:
    """A trigger, not the admin services, bumps the version: no writer (API, CLI, seed, SQL) can forget it."""
    op.execute(sa.schema.CreateSequence(sa.Sequence("reference_data_version_seq")))
    op.create_table(
        "reference_data_version",
        sa.Column(
            "singleton",
            sa.Boolean(),
            sa.CheckConstraint("singleton", name=op.f("ck_reference_data_version_one_row")),
            server_default=sa.true(),
            nullable=False,
        ),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("singleton", name=op.f("pk_reference_data_version")),
    )
    op.execute("INSERT INTO reference_data_version (version) VALUES (nextval('reference_data_version_seq'))")
    op.execute(
        """
        CREATE FUNCTION bump_reference_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE reference_data_version SET version = nextval('reference_data_version_seq');
            RETURN NULL;
        END;
        $$
        """
    )
    for table in VERSIONED_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_bump_reference_data_version "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_data_version()"
        )


def downgrade() -> None:
    for table in VERSIONED_TABLES:
        op.execute(f"DROP TRIGGER {table}_bump_reference_data_version ON {table}")
    op.execute("DROP FUNCTION bump_reference_data_version()")
    op.drop_table("reference_data_version")
    op.execute(sa.schema.DropSequence(sa.Sequence("reference_data_version_seq")))
