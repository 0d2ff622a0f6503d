"""queue: bucket counts maintained by the database, and an index on the running due moment

Revision ID: 0a1986bb2797
Revises: 3e8b1f6c2a90
Create Date: 2026-12-01 11:00:00.000000

The design is described in mla/queue/repository.py.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0a1986bb2797"
down_revision: str | Sequence[str] | None = "3e8b1f6c2a90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IN_QUEUE = "status NOT IN ('draft', 'fulfilled', 'refused', 'rejected', 'withdrawn', 'expired')"
# The uuid that stands for "no user" in the authority-wide scopes (a primary key column cannot be NULL).
NOBODY = "'00000000-0000-0000-0000-000000000000'::uuid"
# Held shared by every transaction that moves counts, exclusively while the mark advances.
MARK_LOCK = "hashtext('mla'), hashtext('queue-counts')"

FUNCTIONS = (
    f"""
    CREATE FUNCTION queue_count_keys(confidential boolean, created_by uuid, assignee_id uuid)
    RETURNS TABLE (scope text, user_id uuid) LANGUAGE sql IMMUTABLE AS $$
        SELECT 'open', {NOBODY} WHERE NOT confidential
        UNION ALL SELECT 'confidential', {NOBODY} WHERE confidential
        UNION ALL SELECT 'confidential_of', created_by WHERE confidential
        UNION ALL SELECT 'confidential_of', assignee_id
            WHERE confidential AND assignee_id IS NOT NULL AND assignee_id <> created_by
        UNION ALL SELECT 'assigned', assignee_id WHERE assignee_id IS NOT NULL
    $$
    """,
    """
    CREATE FUNCTION queue_counts_crossed(due timestamptz, from_moment timestamptz, to_moment timestamptz)
    RETURNS integer LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE WHEN due >= from_moment AND due < to_moment THEN 1
                    WHEN due >= to_moment AND due < from_moment THEN -1
                    ELSE 0 END
    $$
    """,
    f"""
    CREATE FUNCTION queue_count_rows(sign integer, r requests, counted_until timestamptz, due_soon_until timestamptz)
    RETURNS TABLE (central_authority_id uuid, scope text, user_id uuid, total integer, untriaged integer,
                   unassigned integer, due_before_mark integer, due_before_soon_mark integer)
    LANGUAGE sql STABLE AS $$
        SELECT r.central_authority_id, k.scope, k.user_id, sign,
               sign * (r.status IN ('under_review', 'received') AND r.assignee_id IS NULL)::integer,
               sign * (r.assignee_id IS NULL)::integer,
               sign * coalesce(r.next_due_at < counted_until, false)::integer,
               sign * coalesce(r.next_due_at < due_soon_until, false)::integer
        FROM queue_count_keys(r.confidential, r.created_by, r.assignee_id) AS k
        WHERE r.central_authority_id IS NOT NULL AND r.{IN_QUEUE}
    $$
    """,
    f"""
    CREATE FUNCTION queue_counts_follow_request() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        mark queue_count_mark%ROWTYPE;
    BEGIN
        PERFORM pg_advisory_xact_lock_shared({MARK_LOCK});
        SELECT * INTO mark FROM queue_count_mark;
        INSERT INTO queue_counts AS c
        SELECT d.central_authority_id, d.scope, d.user_id, sum(d.total), sum(d.untriaged), sum(d.unassigned),
               sum(d.due_before_mark), sum(d.due_before_soon_mark)
        FROM (
            SELECT * FROM queue_count_rows(-1, OLD, mark.counted_until, mark.due_soon_until)
            UNION ALL SELECT * FROM queue_count_rows(1, NEW, mark.counted_until, mark.due_soon_until)
        ) AS d
        GROUP BY d.central_authority_id, d.scope, d.user_id
        HAVING sum(d.total) <> 0 OR sum(d.untriaged) <> 0 OR sum(d.unassigned) <> 0
            OR sum(d.due_before_mark) <> 0 OR sum(d.due_before_soon_mark) <> 0
        ORDER BY d.central_authority_id, d.scope, d.user_id
        ON CONFLICT (central_authority_id, scope, user_id) DO UPDATE SET
            total = c.total + excluded.total,
            untriaged = c.untriaged + excluded.untriaged,
            unassigned = c.unassigned + excluded.unassigned,
            due_before_mark = c.due_before_mark + excluded.due_before_mark,
            due_before_soon_mark = c.due_before_soon_mark + excluded.due_before_soon_mark;
        RETURN NULL;
    END;
    $$
    """,
    f"""
    CREATE FUNCTION queue_counts_advance(until timestamptz, due_soon_window interval)
    RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
        mark queue_count_mark%ROWTYPE;
    BEGIN
        PERFORM pg_advisory_xact_lock({MARK_LOCK});
        SELECT * INTO mark FROM queue_count_mark;
        UPDATE queue_counts AS c
        SET due_before_mark = c.due_before_mark + moved.overdue,
            due_before_soon_mark = c.due_before_soon_mark + moved.due_soon
        FROM (
            SELECT r.central_authority_id, k.scope, k.user_id, sum(r.overdue) AS overdue, sum(r.due_soon) AS due_soon
            -- Authority by authority, each span a short range of `ix_requests_queue_due`.
            FROM (SELECT DISTINCT central_authority_id FROM queue_counts) AS a
            CROSS JOIN LATERAL (
                SELECT q.central_authority_id, q.confidential, q.created_by, q.assignee_id,
                       queue_counts_crossed(q.next_due_at, mark.counted_until, until) AS overdue, 0 AS due_soon
                FROM requests AS q
                WHERE q.central_authority_id = a.central_authority_id AND q.{IN_QUEUE}
                  AND q.next_due_at >= least(mark.counted_until, until)
                  AND q.next_due_at < greatest(mark.counted_until, until)
                UNION ALL
                SELECT q.central_authority_id, q.confidential, q.created_by, q.assignee_id, 0,
                       queue_counts_crossed(q.next_due_at, mark.due_soon_until, until + due_soon_window)
                FROM requests AS q
                WHERE q.central_authority_id = a.central_authority_id AND q.{IN_QUEUE}
                  AND q.next_due_at >= least(mark.due_soon_until, until + due_soon_window)
                  AND q.next_due_at < greatest(mark.due_soon_until, until + due_soon_window)
            ) AS r
            CROSS JOIN LATERAL queue_count_keys(r.confidential, r.created_by, r.assignee_id) AS k
            GROUP BY r.central_authority_id, k.scope, k.user_id
        ) AS moved
        WHERE c.central_authority_id = moved.central_authority_id AND c.scope = moved.scope
          AND c.user_id = moved.user_id;
        UPDATE queue_count_mark SET counted_until = until, due_soon_until = until + due_soon_window;
    END;
    $$
    """,
    f"""
    CREATE FUNCTION queue_counts_rebuild(until timestamptz, due_soon_window interval)
    RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock({MARK_LOCK});
        DELETE FROM queue_counts;
        INSERT INTO queue_count_mark (id, counted_until, due_soon_until) VALUES (1, until, until + due_soon_window)
        ON CONFLICT (id) DO UPDATE SET counted_until = excluded.counted_until,
                                       due_soon_until = excluded.due_soon_until;
        INSERT INTO queue_counts
        SELECT d.central_authority_id, d.scope, d.user_id, sum(d.total), sum(d.untriaged), sum(d.unassigned),
               sum(d.due_before_mark), sum(d.due_before_soon_mark)
        FROM requests AS r
        CROSS JOIN LATERAL queue_count_rows(1, r, until, until + due_soon_window) AS d
        WHERE r.{IN_QUEUE}
        GROUP BY d.central_authority_id, d.scope, d.user_id;
    END;
    $$
    """,
)

QUEUE_COLUMNS = "central_authority_id, status, confidential, created_by, assignee_id, next_due_at"
TRIGGERS = (
    f"""
    CREATE CONSTRAINT TRIGGER queue_counts_on_insert AFTER INSERT ON requests
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN (NEW.central_authority_id IS NOT NULL AND NEW.{IN_QUEUE})
        EXECUTE FUNCTION queue_counts_follow_request()
    """,
    f"""
    CREATE CONSTRAINT TRIGGER queue_counts_on_update AFTER UPDATE ON requests
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN ((OLD.{QUEUE_COLUMNS.replace(", ", ", OLD.")}) IS DISTINCT FROM
              (NEW.{QUEUE_COLUMNS.replace(", ", ", NEW.")}))
        EXECUTE FUNCTION queue_counts_follow_request()
    """,
    f"""
    CREATE CONSTRAINT TRIGGER queue_counts_on_delete AFTER DELETE ON requests
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN (OLD.central_authority_id IS NOT NULL AND OLD.{IN_QUEUE})
        EXECUTE FUNCTION queue_counts_follow_request()
    """,
)


def upgrade() -> None:
    """The counts tables, their functions and triggers, filled from the requests as they are now
    (48 hours: mla.queue.repository.DUE_SOON_WINDOW when this was written); the index the read-time
    corrections and the mark's advance walk."""
    op.create_table(
        "queue_count_mark",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("counted_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_soon_until", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_queue_count_mark_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_count_mark")),
    )
    op.create_table(
        "queue_counts",
        sa.Column("central_authority_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("untriaged", sa.Integer(), nullable=False),
        sa.Column("unassigned", sa.Integer(), nullable=False),
        sa.Column("due_before_mark", sa.Integer(), nullable=False),
        sa.Column("due_before_soon_mark", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("central_authority_id", "scope", "user_id", name=op.f("pk_queue_counts")),
    )
    op.create_index(
        "ix_requests_queue_due",
        "requests",
        ["central_authority_id", "next_due_at"],
        unique=False,
        postgresql_where=sa.text(IN_QUEUE),
        postgresql_include=["confidential", "created_by", "assignee_id"],
    )
    for statement in (*FUNCTIONS, *TRIGGERS):
        op.execute(statement)
    op.execute("SELECT queue_counts_rebuild(now(), interval '48 hours')")


def downgrade() -> None:
    """Drop the triggers, functions, tables and index."""
    for trigger in ("queue_counts_on_insert", "queue_counts_on_update", "queue_counts_on_delete"):
        op.execute(f"DROP TRIGGER {trigger} ON requests")
    for function in (
        "queue_counts_rebuild(timestamptz, interval)",
        "queue_counts_advance(timestamptz, interval)",
        "queue_counts_follow_request()",
        "queue_count_rows(integer, requests, timestamptz, timestamptz)",
        "queue_counts_crossed(timestamptz, timestamptz, timestamptz)",
        "queue_count_keys(boolean, uuid, uuid)",
    ):
        op.execute(f"DROP FUNCTION {function}")
    op.drop_index(
        "ix_requests_queue_due",
        table_name="requests",
        postgresql_where=sa.text(IN_QUEUE),
        postgresql_include=["confidential", "created_by", "assignee_id"],
    )
    op.drop_table("queue_counts")
    op.drop_table("queue_count_mark")
