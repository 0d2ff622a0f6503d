"""deadlines: alert stages stored on the row; a NOTIFY when an alert is scheduled

Revision ID: 3e8b1f6c2a90
Revises: c4a5e0d7b311
Create Date: 2026-12-01 11:00:00.000000

"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mla.deadlines.stages import alert_stages, next_stage_at

revision: str = "3e8b1f6c2a90"
down_revision: str | Sequence[str] | None = "c4a5e0d7b311"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "mla_alert_scheduled"  # mla.alerts.wakeups.CHANNEL
BACKFILL_BATCH = 5_000
# The scan trusts the stored stages: a write that moves a deadline without `schedule()` is refused
# rather than left to alert at the wrong time (mla.deadlines.models.Deadline).
CHECKS = {
    "next_alert_is_a_stage": "next_alert_at IS NULL OR next_alert_at = ANY (alert_stage_times)",
    "due_is_a_stage": "cardinality(alert_stage_times) = 0 OR due_at = ANY (alert_stage_times)",
}

# One notification per statement that writes deadlines, carrying the earliest alert it scheduled:
# PostgreSQL delivers it at commit, so the worker's alarm wakes for a nearer alert at once. Only an
# alert within the alarm's longest sleep (workers.alarm.LONGEST_WAIT) is notified: a later one is
# found by the alarm's own re-reading, and every notifying commit takes a cluster-wide lock
# (PostgreSQL serialises them to keep the queue in commit order), which routine scheduling of
# alerts days ahead must not pay.
NOTIFY_WITHIN = "60 seconds"
NOTIFY_FUNCTION = f"""
CREATE FUNCTION mla_notify_alert_scheduled() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE earliest timestamptz;
BEGIN
    SELECT min(next_alert_at) INTO earliest FROM scheduled
    WHERE status = 'open' AND paused_at IS NULL AND next_alert_at IS NOT NULL;
    IF earliest <= clock_timestamp() + interval '{NOTIFY_WITHIN}' THEN
        PERFORM pg_notify('{CHANNEL}', to_char(earliest AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'));
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    """Add the stage columns, fill them for the open deadlines, and install the NOTIFY triggers."""
    op.add_column(
        "deadlines",
        sa.Column("alert_stages", postgresql.ARRAY(sa.String(length=32)), server_default="{}", nullable=False),
    )
    op.add_column(
        "deadlines",
        sa.Column(
            "alert_stage_times", postgresql.ARRAY(sa.DateTime(timezone=True)), server_default="{}", nullable=False
        ),
    )
    _backfill()
    for name, condition in CHECKS.items():
        op.create_check_constraint(op.f(f"ck_deadlines_{name}"), "deadlines", condition)
    op.execute(NOTIFY_FUNCTION)
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER deadlines_alert_scheduled_{event.lower()} AFTER {event} ON deadlines "
            "REFERENCING NEW TABLE AS scheduled FOR EACH STATEMENT EXECUTE FUNCTION mla_notify_alert_scheduled()"
        )


def _backfill() -> None:
    """The stages of every open deadline and its next one, as `mla.deadlines.service.schedule` now keeps them."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT d.id, d.due_at, d.window_seconds, d.fired_stages, r.reminder_leads_hours, r.met_when_passed, "
            "r.lapses_request FROM deadlines d JOIN deadline_rules r ON r.id = d.rule_id WHERE d.status = 'open'"
        )
    ).all()
    update = sa.text(
        "UPDATE deadlines SET alert_stages = CAST(:names AS varchar(32)[]), "
        "alert_stage_times = CAST(:times AS timestamptz[]), "
        "next_alert_at = CASE WHEN next_alert_at IS NULL THEN NULL ELSE CAST(:next AS timestamptz) END WHERE id = :id"
    )
    for start in range(0, len(rows), BACKFILL_BATCH):
        values = []
        for row in rows[start : start + BACKFILL_BATCH]:
            stages = alert_stages(
                row.due_at,
                timedelta(seconds=row.window_seconds),
                row.reminder_leads_hours,
                met_when_passed=row.met_when_passed,
                lapses_request=row.lapses_request,
            )
            next_at = next_stage_at(stages, row.fired_stages)
            values.append(
                {"id": row.id, "names": [s for s, _ in stages], "times": [at for _, at in stages], "next": next_at}
            )
        connection.execute(update, values)


def downgrade() -> None:
    """Drop the triggers, the checks and the stage columns."""
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER deadlines_alert_scheduled_{event} ON deadlines")
    op.execute("DROP FUNCTION mla_notify_alert_scheduled()")
    for name in CHECKS:
        op.drop_constraint(op.f(f"ck_deadlines_{name}"), "deadlines", type_="check")
    op.drop_column("deadlines", "alert_stage_times")
    op.drop_column("deadlines", "alert_stages")
