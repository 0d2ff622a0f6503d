"""foundation: organisations, users, counterparties, instruments, cases, requests, audit

Revision ID: c7b8b72efca8
Revises:
Create Date: 2026-11-25 11:03:20.907612

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "c7b8b72efca8"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


AUDIT_GUARD = (
    """
    CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()
    """,
    """
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()
    """,
)


def upgrade() -> None:
    """Create the foundation tables, the reference sequence and the audit trail's guard."""
    op.execute(sa.schema.CreateSequence(sa.Sequence("request_reference_seq")))
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("chain", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_roles", sa.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("request_id", sa.Uuid(), nullable=True),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=True),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("checks", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("chain", "seq", name=op.f("uq_audit_events_chain_seq")),
    )
    op.create_index(op.f("ix_audit_events_request_id"), "audit_events", ["request_id"], unique=False)
    op.create_table(
        "counterparties",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("central_authority", sa.String(length=200), nullable=True),
        sa.Column("contact_24_7", sa.String(length=200), nullable=True),
        sa.Column("languages", sa.ARRAY(sa.String(length=16)), nullable=False),
        sa.Column("portal_url", sa.String(length=500), nullable=True),
        sa.Column("request_types", sa.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("retention_days", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("emergency_policy", sa.Text(), nullable=True),
        sa.Column("death_penalty", sa.Boolean(), nullable=False),
        sa.Column("requires_dual_criminality", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counterparties")),
        sa.UniqueConstraint("name", name=op.f("uq_counterparties_name")),
    )
    op.create_table(
        "instruments",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("citation", sa.Text(), nullable=False),
        sa.Column("request_types", sa.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("directions", sa.ARRAY(sa.String(length=16)), nullable=False),
        sa.Column("target_kinds", sa.ARRAY(sa.String(length=16)), nullable=False),
        sa.Column("data_categories", sa.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("requires_dual_criminality", sa.Boolean(), nullable=False),
        sa.Column("preservation_days", sa.Integer(), nullable=True),
        sa.Column("extension_days", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instruments")),
        sa.UniqueConstraint("code", name=op.f("uq_instruments_code")),
    )
    op.create_table(
        "organisations",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("central_authority_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["central_authority_id"],
            ["organisations.id"],
            name=op.f("fk_organisations_central_authority_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("name", name=op.f("uq_organisations_name")),
    )
    op.create_table(
        "users",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("roles", sa.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_users_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_index(op.f("ix_users_organisation_id"), "users", ["organisation_id"], unique=False)
    op.create_table(
        "api_tokens",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"], unique=False)
    op.create_table(
        "cases",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("offences", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_cases_created_by_users")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_cases_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("organisation_id", "reference", name=op.f("uq_cases_organisation_id_reference")),
    )
    op.create_table(
        "requests",
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("central_authority_id", sa.Uuid(), nullable=True),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("instrument", sa.String(length=32), nullable=False),
        sa.Column("data_categories", sa.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("identifiers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("emergency_justification", sa.Text(), nullable=True),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("link_to_offence", sa.Text(), nullable=False),
        sa.Column("necessity", sa.Text(), nullable=False),
        sa.Column("proportionality", sa.Text(), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("confidentiality_reason", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("counterparty_references", sa.ARRAY(sa.String(length=100)), nullable=False),
        sa.Column("follow_up_request_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["assignee_id"], ["users.id"], name=op.f("fk_requests_assignee_id_users")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_requests_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["central_authority_id"], ["organisations.id"], name=op.f("fk_requests_central_authority_id_organisations")
        ),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_requests_created_by_users")),
        sa.ForeignKeyConstraint(
            ["follow_up_request_id"], ["requests.id"], name=op.f("fk_requests_follow_up_request_id_requests")
        ),
        sa.ForeignKeyConstraint(
            ["instrument"], ["instruments.code"], name=op.f("fk_requests_instrument_instruments"), onupdate="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_requests_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["counterparties.id"], name=op.f("fk_requests_target_id_counterparties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requests")),
        sa.UniqueConstraint("reference", name=op.f("uq_requests_reference")),
    )
    op.create_index(op.f("ix_requests_assignee_id"), "requests", ["assignee_id"], unique=False)
    op.create_index(
        "ix_requests_authority_keyset", "requests", ["central_authority_id", "created_at", "id"], unique=False
    )
    op.create_index(op.f("ix_requests_case_id"), "requests", ["case_id"], unique=False)
    op.create_index(
        "ix_requests_counterparty_references",
        "requests",
        ["counterparty_references"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index("ix_requests_owner_keyset", "requests", ["organisation_id", "created_at", "id"], unique=False)
    op.create_index(op.f("ix_requests_status"), "requests", ["status"], unique=False)
    op.create_index(op.f("ix_requests_target_id"), "requests", ["target_id"], unique=False)
    for statement in AUDIT_GUARD:
        op.execute(statement)


def downgrade() -> None:
    """Drop everything the upgrade created."""
    op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
    op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
    op.execute("DROP FUNCTION audit_events_refuse_change()")
    op.drop_index(op.f("ix_requests_target_id"), table_name="requests")
    op.drop_index(op.f("ix_requests_status"), table_name="requests")
    op.drop_index("ix_requests_owner_keyset", table_name="requests")
    op.drop_index("ix_requests_counterparty_references", table_name="requests", postgresql_using="gin")
    op.drop_index(op.f("ix_requests_case_id"), table_name="requests")
    op.drop_index("ix_requests_authority_keyset", table_name="requests")
    op.drop_index(op.f("ix_requests_assignee_id"), table_name="requests")
    op.drop_table("requests")
    op.drop_table("cases")
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_index(op.f("ix_users_organisation_id"), table_name="users")
    op.drop_table("users")
    op.drop_table("organisations")
    op.drop_table("instruments")
    op.drop_table("counterparties")
    op.drop_index(op.f("ix_audit_events_request_id"), table_name="audit_events")
    op.drop_table("audit_events")
    op.execute(sa.schema.DropSequence(sa.Sequence("request_reference_seq")))
