"""checks and workflow paths (issue 10 §4-§5): treaties in force, request fields, evidence flags

Revision ID: be96d8fca303
Revises: 0104a93fdb89
Create Date: 2026-12-01 05:24:27.365771

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "be96d8fca303"
down_revision: str | Sequence[str] | None = "0104a93fdb89"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IN_QUEUE = sa.text("status NOT IN ('draft', 'fulfilled', 'refused', 'rejected', 'withdrawn', 'expired')")
QUEUE_KEY = [
    "central_authority_id",
    "urgency_rank",
    sa.literal_column("coalesce(next_due_at, 'infinity'::timestamptz)"),
    "id",
]


def _queue_index(include: list[str]) -> None:
    op.drop_index("ix_requests_queue", table_name="requests", postgresql_where=IN_QUEUE)
    op.create_index(
        "ix_requests_queue", "requests", QUEUE_KEY, unique=False, postgresql_where=IN_QUEUE, postgresql_include=include
    )


def upgrade() -> None:
    op.create_table(
        "treaties",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("instrument_codes", sa.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treaties")),
        sa.UniqueConstraint("code", name=op.f("uq_treaties_code")),
    )
    op.create_table(
        "treaty_parties",
        sa.Column("treaty_id", sa.Uuid(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("ratified_on", sa.Date(), nullable=True),
        sa.Column("in_force_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_verified", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["treaty_id"], ["treaties.id"], name=op.f("fk_treaty_parties_treaty_id_treaties")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treaty_parties")),
        sa.UniqueConstraint("treaty_id", "country", name=op.f("uq_treaty_parties_treaty_id_country")),
    )
    op.add_column("productions", sa.Column("duplicate_of_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_productions_duplicate_of_id_productions"), "productions", "productions", ["duplicate_of_id"], ["id"]
    )
    op.add_column("requests", sa.Column("executing_organisation_id", sa.Uuid(), nullable=True))
    op.add_column(
        "requests",
        sa.Column("emergency_grounds", sa.ARRAY(sa.String(length=32)), server_default="{}", nullable=False),
    )
    op.add_column("requests", sa.Column("issuing_judge_or_court", sa.String(length=200), nullable=True))
    op.add_column("requests", sa.Column("order_reference", sa.String(length=200), nullable=True))
    op.add_column("requests", sa.Column("treaty_reference", sa.String(length=300), nullable=True))
    op.create_index(
        "ix_requests_executing_keyset", "requests", ["executing_organisation_id", "created_at", "id"], unique=False
    )
    op.create_foreign_key(
        op.f("fk_requests_executing_organisation_id_organisations"),
        "requests",
        "organisations",
        ["executing_organisation_id"],
        ["id"],
    )
    # The queue hides confidential requests from officers not assigned: keep the counts index-only.
    _queue_index(["next_due_at", "status", "assignee_id", "confidential", "created_by"])
    # A seeded rule changed: the incoming execution clock pauses while the requesting state owes more
    # information (or we postponed), and preserving is how an incoming preservation is executed.
    op.execute(
        "UPDATE deadline_rules SET pauses_on_clarification = true, "
        "meets_on = array_append(meets_on, 'confirm_preserved') "
        "WHERE code = 'incoming-execution' AND NOT 'confirm_preserved' = ANY(meets_on)"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE deadline_rules SET pauses_on_clarification = false, "
        "meets_on = array_remove(meets_on, 'confirm_preserved') WHERE code = 'incoming-execution'"
    )
    _queue_index(["next_due_at", "status", "assignee_id"])
    op.drop_constraint(op.f("fk_requests_executing_organisation_id_organisations"), "requests", type_="foreignkey")
    op.drop_index("ix_requests_executing_keyset", table_name="requests")
    op.drop_column("requests", "treaty_reference")
    op.drop_column("requests", "order_reference")
    op.drop_column("requests", "issuing_judge_or_court")
    op.drop_column("requests", "emergency_grounds")
    op.drop_column("requests", "executing_organisation_id")
    op.drop_constraint(op.f("fk_productions_duplicate_of_id_productions"), "productions", type_="foreignkey")
    op.drop_column("productions", "duplicate_of_id")
    op.drop_table("treaty_parties")
    op.drop_table("treaties")
