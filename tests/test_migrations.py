"""The Alembic migrations, on a database of their own: empty -> head -> base -> head.

They must build exactly the schema the models describe (what `alembic check` checks), undo all of
it, and install the trigger that makes `audit_events` append-only.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from mla.clock import FixedClock
from mla.db import create_engine, create_sessionmaker
from mla.deadlines.stages import alert_stages
from mla.migrate import downgrade, upgrade
from mla.models import Base
from mla.reference_data import seed_reference_data
from tests.conftest import START_OF_TESTS, TEST_KEYRING, Servers, create_database, drop_database, plain_dsn

# What a migrated database holds besides our objects.
ALEMBIC_VERSION_TABLE = "alembic_version"


@pytest.fixture(scope="module")
async def fresh_database_url(servers: Servers) -> AsyncIterator[str]:
    """An empty database on the test server, dropped at the end of the module."""
    name = f"mla_migrations_{uuid.uuid4().hex[:12]}"
    url = await create_database(servers.database_url, name)
    try:
        yield url
    finally:
        await drop_database(servers.database_url, name)


async def our_objects(url: str) -> dict[str, set[str]]:
    """Tables, sequences, functions, triggers and types in the public schema, by kind."""
    connection = await asyncpg.connect(plain_dsn(url))
    try:
        tables = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        sequences = await connection.fetch("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
        functions = await connection.fetch(
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
        )
        triggers = await connection.fetch("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        types = await connection.fetch(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c') "
            "AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')"
        )
    finally:
        await connection.close()
    return {
        "tables": {row[0] for row in tables},
        "sequences": {row[0] for row in sequences},
        "functions": {row[0] for row in functions},
        "triggers": {row[0] for row in triggers},
        "types": {row[0] for row in types},
    }


def _drift(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
    return compare_metadata(context, Base.metadata)


async def schema_drift(url: str) -> list[Any]:
    """What autogenerate would put in a new migration: empty when models and migrations agree."""
    engine = create_engine(url, null_pool=True)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_drift)
    finally:
        await engine.dispose()


async def test_up_check_down_and_up_again(fresh_database_url: str) -> None:
    assert await our_objects(fresh_database_url) == {
        "tables": set(),
        "sequences": set(),
        "functions": set(),
        "triggers": set(),
        "types": set(),
    }

    await asyncio.to_thread(upgrade, fresh_database_url)
    migrated = await our_objects(fresh_database_url)
    assert set(Base.metadata.tables) | {ALEMBIC_VERSION_TABLE} == migrated["tables"]
    assert "request_reference_seq" in migrated["sequences"]
    assert "audit_events_refuse_change" in migrated["functions"]
    assert {"audit_events_append_only", "audit_events_no_truncate"} <= migrated["triggers"]
    assert await schema_drift(fresh_database_url) == []

    await asyncio.to_thread(upgrade, fresh_database_url)  # already at head: nothing to do
    assert await our_objects(fresh_database_url) == migrated

    await asyncio.to_thread(downgrade, fresh_database_url, "base")
    assert await our_objects(fresh_database_url) == {
        "tables": {ALEMBIC_VERSION_TABLE},
        "sequences": set(),
        "functions": set(),
        "triggers": set(),
        "types": set(),
    }

    await asyncio.to_thread(upgrade, fresh_database_url)
    assert await our_objects(fresh_database_url) == migrated
    assert await schema_drift(fresh_database_url) == []


async def test_every_migration_steps_down_and_up_one_at_a_time(fresh_database_url: str) -> None:
    """Each revision's downgrade undoes exactly its upgrade (not only the whole stack at once)."""
    await asyncio.to_thread(upgrade, fresh_database_url)
    at_head = await our_objects(fresh_database_url)
    revisions = await _revision_count()
    for _ in range(revisions):
        await asyncio.to_thread(downgrade, fresh_database_url, "-1")
    assert await our_objects(fresh_database_url) == {
        "tables": {ALEMBIC_VERSION_TABLE},
        "sequences": set(),
        "functions": set(),
        "triggers": set(),
        "types": set(),
    }
    for _ in range(revisions):
        await asyncio.to_thread(upgrade, fresh_database_url, "+1")
    assert await our_objects(fresh_database_url) == at_head
    assert await schema_drift(fresh_database_url) == []


async def _revision_count() -> int:
    from alembic.script import ScriptDirectory

    from mla.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("postgresql://unused/unused"))
    return len(list(script.walk_revisions()))


# --------------------------------------------------------------------------- the audit guard


AUDIT_ROW = """
    INSERT INTO audit_events (chain, seq, at, actor_roles, action, changes, hash)
    VALUES ($1, 1, now(), ARRAY['system'], 'test', '{}'::jsonb, repeat('0', 64))
    RETURNING id
"""


@pytest.fixture(scope="module")
async def audited_database(fresh_database_url: str) -> str:
    """The fresh database at head with one audit event in it."""
    await asyncio.to_thread(upgrade, fresh_database_url)
    connection = await asyncpg.connect(plain_dsn(fresh_database_url))
    try:
        await connection.fetchval(AUDIT_ROW, f"test:{uuid.uuid4()}")
    finally:
        await connection.close()
    return fresh_database_url


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET reason = 'rewritten'",
        "UPDATE audit_events SET hash = repeat('f', 64), prev_hash = NULL",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "TRUNCATE audit_events CASCADE",
    ],
)
async def test_postgresql_refuses_to_change_the_audit_trail(audited_database: str, statement: str) -> None:
    connection = await asyncpg.connect(plain_dsn(audited_database))
    try:
        before = await connection.fetch("SELECT * FROM audit_events ORDER BY id")
        assert before
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await connection.execute(statement)
        assert await connection.fetch("SELECT * FROM audit_events ORDER BY id") == before
    finally:
        await connection.close()


async def test_appending_to_the_audit_trail_is_allowed(audited_database: str) -> None:
    connection = await asyncpg.connect(plain_dsn(audited_database))
    try:
        before = await connection.fetchval("SELECT count(*) FROM audit_events")
        await connection.fetchval(AUDIT_ROW, f"test:{uuid.uuid4()}")
        assert await connection.fetchval("SELECT count(*) FROM audit_events") == before + 1
    finally:
        await connection.close()


# --------------------------------------------------------------------------- data conversions

ONE_DIRECTION = "c4a5e0d7b311"  # cases closed; communications answer outgoing/incoming


async def test_stored_communication_directions_become_outgoing_and_incoming_and_back(fresh_database_url: str) -> None:
    await asyncio.to_thread(upgrade, fresh_database_url)
    await asyncio.to_thread(downgrade, fresh_database_url, f"{ONE_DIRECTION}-1")
    connection = await asyncpg.connect(plain_dsn(fresh_database_url))
    try:
        await connection.execute("SET session_replication_role = replica")  # rows without their parents
        for direction in ("sent", "received"):
            await connection.execute(
                "INSERT INTO communications (id, request_id, kind, direction, occurred_at, summary, recorded_by, "
                "created_at) VALUES ($1, $2, 'letter', $3, now(), 'A letter', $4, now())",
                uuid.uuid4(),
                uuid.uuid4(),
                direction,
                uuid.uuid4(),
            )
        stored = "SELECT array_agg(direction ORDER BY direction) FROM communications"

        await asyncio.to_thread(upgrade, fresh_database_url, ONE_DIRECTION)
        assert await connection.fetchval(stored) == ["incoming", "outgoing"]

        await asyncio.to_thread(downgrade, fresh_database_url, f"{ONE_DIRECTION}-1")
        assert await connection.fetchval(stored) == ["received", "sent"]
        await connection.execute("DELETE FROM communications")
    finally:
        await connection.close()
        await asyncio.to_thread(upgrade, fresh_database_url)


# --------------------------------------------------------------------------- alert stages on the row

BEFORE_ALERT_STAGES = "c4a5e0d7b311"  # the revision before 3e8b1f6c2a90 stored them
OPEN_DEADLINE = """
    INSERT INTO deadlines (id, request_id, rule_id, kind, rule_code, status, started_at, due_at, window_seconds,
                           explanation, next_alert_at, fired_stages, created_at)
    SELECT $1, gen_random_uuid(), id, kind, code, 'open', $2, $3, $4, 'made by a test', $3, '{}', $2
    FROM deadline_rules WHERE code = $5
"""


async def test_open_deadlines_get_their_alert_stages_and_a_deadline_moved_without_them_is_refused(
    fresh_database_url: str,
) -> None:
    await asyncio.to_thread(upgrade, fresh_database_url)
    engine = create_engine(fresh_database_url, null_pool=True)
    try:  # seeded at head (the code audits through the head's functions); the rules outlive the downgrade
        async with create_sessionmaker(engine, TEST_KEYRING)() as session, session.begin():
            await seed_reference_data(session, FixedClock(START_OF_TESTS))
    finally:
        await engine.dispose()
    await asyncio.to_thread(downgrade, fresh_database_url, BEFORE_ALERT_STAGES)
    started, window = START_OF_TESTS, timedelta(days=60)
    deadline_id = uuid.uuid4()
    connection = await asyncpg.connect(plain_dsn(fresh_database_url))
    try:
        await connection.execute("SET session_replication_role = replica")  # no request: foreign keys unchecked
        await connection.execute(
            OPEN_DEADLINE, deadline_id, started, started + window, int(window.total_seconds()), "epoc-pr-expiry"
        )
        rule = await connection.fetchrow("SELECT * FROM deadline_rules WHERE code = 'epoc-pr-expiry'")

        await asyncio.to_thread(upgrade, fresh_database_url)

        stored = await connection.fetchrow(
            "SELECT alert_stages, alert_stage_times, next_alert_at FROM deadlines WHERE id = $1", deadline_id
        )
        with pytest.raises(asyncpg.CheckViolationError):  # moved without its stages: refused
            await connection.execute(
                "UPDATE deadlines SET due_at = due_at + interval '1 day' WHERE id = $1", deadline_id
            )
    finally:
        await connection.close()
    expected = alert_stages(
        started + window,
        window,
        rule["reminder_leads_hours"],
        met_when_passed=rule["met_when_passed"],
        lapses_request=rule["lapses_request"],
    )
    assert list(zip(stored["alert_stages"], stored["alert_stage_times"], strict=True)) == expected
    assert [stage for stage, _ in expected] == ["reminder-336h", "reminder-72h", "overdue", "escalation"]
    assert stored["next_alert_at"] == expected[0][1]  # the first stage not yet fired
