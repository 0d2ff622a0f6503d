"""clocks: legal counting, whose calendar, EPOC and preservation rules (issue 10)

Revision ID: 0104a93fdb89
Revises: 5a1c3e9b7d42
Create Date: 2026-12-01 05:24:05.163205

Schema: each deadline rule says how it counts (`legal` or `elapsed`), whether its source was
verified, a condition on the request, whether it starts at receipt, outlives fulfilment or is met
when it passes; instruments get an extension cap and a `source_verified` flag; counterparties a
time zone (filled from the country); requests the EPOC notification and validation fields, the
transmission and receipt times and the recorded outcomes.

Data: existing installations get the corrected rules and instrument texts. The values are read
from the seed catalogues of this release for a fixed list of codes and fields, so the migration
and the seed cannot disagree; on a fresh database there are no rows yet and `mla seed` inserts
the catalogues (and the new `preservation-confirmation` rule) after it. The seeded legal texts
that misstated the law are replaced, including an administrator's wording of them. Open
deadlines computed under the old rules keep their due moments. Budapest art 30 is no longer a
legal basis of its own: its instrument is removed where no request uses it.
"""

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mla.deadlines.catalogue import RULES
from mla.fields import default_timezone
from mla.instruments.catalogue import CATALOGUE

revision: str = "0104a93fdb89"
down_revision: str | Sequence[str] | None = "5a1c3e9b7d42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_RULE_FLAGS = ("counting", "source_verified", "applies_when", "starts_at_receipt", "outlives_fulfilment")
CORRECTED_RULE_FIELDS = (
    *NEW_RULE_FLAGS,
    "met_when_passed",
    "source",
    "opens_on",
    "meets_on",
    "responsible",
    "instrument_codes",
    "request_types",
)
CORRECTED_RULES = (
    "epoc-response",
    "epoc-enforcing-review",
    "epoc-emergency-validation",
    "epoc-pr-expiry",
    "preservation-expiry",
    "2ap-7-response",
    "2ap-8-subscriber",
    "2ap-8-traffic",
)
CORRECTED_INSTRUMENT_FIELDS = ("citation", "max_extensions", "source_verified")
CORRECTED_INSTRUMENTS = (
    "eu-epoc",
    "eu-epoc-pr",
    "us-2703f",
    "provider-emergency",
    "budapest-29",
    "uncc-40",
    "uncc-42",
    "uncc-43",
    "uncc-44",
    "2ap-7",
    "2ap-8",
)


def upgrade() -> None:
    """Add the columns, fill them for existing rows, correct the seeded rules and instruments."""
    op.add_column("counterparties", sa.Column("timezone", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    for (country,) in connection.execute(sa.text("SELECT DISTINCT country FROM counterparties")):
        connection.execute(
            sa.text("UPDATE counterparties SET timezone = :zone WHERE country = :country"),
            {"zone": default_timezone(country), "country": country},
        )
    op.alter_column("counterparties", "timezone", nullable=False)

    _add_filled("deadline_rules", sa.Column("counting", sa.String(length=16)), "'elapsed'")
    _add_filled("deadline_rules", sa.Column("source_verified", sa.Boolean()), "true")
    op.add_column("deadline_rules", sa.Column("applies_when", sa.String(length=64), nullable=True))
    for flag in ("starts_at_receipt", "outlives_fulfilment", "met_when_passed"):
        _add_filled("deadline_rules", sa.Column(flag, sa.Boolean()), "false")
    _correct("deadline_rules", RULES, CORRECTED_RULES, CORRECTED_RULE_FIELDS)

    op.add_column("instruments", sa.Column("max_extensions", sa.Integer(), nullable=True))
    _add_filled("instruments", sa.Column("source_verified", sa.Boolean()), "true")
    _correct("instruments", CATALOGUE, CORRECTED_INSTRUMENTS, CORRECTED_INSTRUMENT_FIELDS)
    op.execute(
        "DELETE FROM instruments WHERE code = 'budapest-30' "
        "AND NOT EXISTS (SELECT 1 FROM requests WHERE instrument = 'budapest-30')"
    )

    op.add_column("requests", sa.Column("notified_enforcing_state", sa.String(length=2), nullable=True))
    op.add_column(
        "requests",
        sa.Column("issued_without_prior_validation", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column("requests", sa.Column("transmitted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("requests", sa.Column("counterparty_received_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("requests", sa.Column("validation", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column("requests", sa.Column("enforcing_objection", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column(
        "requests",
        sa.Column(
            "traffic_disclosures",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )
    # The transmission is the legal start of receipt clocks until a receipt time is recorded.
    op.execute(
        "UPDATE requests r SET transmitted_at = t.at FROM "
        "(SELECT request_id, max(at) AS at FROM audit_events WHERE action = 'transmit' GROUP BY request_id) t "
        "WHERE t.request_id = r.id"
    )


def downgrade() -> None:
    """Drop the columns (the corrected texts stay; budapest-30 is re-seeded by `mla seed` of the older release)."""
    for column in (
        "traffic_disclosures",
        "enforcing_objection",
        "validation",
        "counterparty_received_at",
        "transmitted_at",
        "issued_without_prior_validation",
        "notified_enforcing_state",
    ):
        op.drop_column("requests", column)
    op.drop_column("instruments", "source_verified")
    op.drop_column("instruments", "max_extensions")
    for column in ("met_when_passed", *reversed(NEW_RULE_FLAGS)):
        op.drop_column("deadline_rules", column)
    op.drop_column("counterparties", "timezone")


def _add_filled(table: str, column: sa.Column, value: str) -> None:
    """A NOT NULL column without a server default: added, filled for existing rows, then made NOT NULL."""
    column.nullable = True
    op.add_column(table, column)
    op.execute(f"UPDATE {table} SET {column.name} = {value}")
    op.alter_column(table, column.name, nullable=False)


def _correct(table: str, seeds: Iterable[Any], codes: Sequence[str], fields: Sequence[str]) -> None:
    """Set `fields` of the rows with these codes to the seed catalogue's values."""
    lists = ("meets_on", "instrument_codes", "request_types")
    rows = sa.table(
        table,
        sa.column("code", sa.String),
        *(sa.column(name, sa.ARRAY(sa.String) if name in lists else None) for name in fields),
    )
    by_code = {seed.code: seed for seed in seeds}
    for code in codes:
        values = {name: getattr(by_code[code], name) for name in fields}
        op.execute(rows.update().where(rows.c.code == code).values(**values))
