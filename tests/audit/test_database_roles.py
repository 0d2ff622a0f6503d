"""The app connects as a runtime role that may only append to and read the audit trail; the owner migrates."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.database_roles import grant_runtime_role, role_of, with_role
from tests.audit.support import walked_request
from tests.conftest import Servers, TwoRoleDatabase, drop_role, on_server, plain_dsn, two_role_database
from tests.factories import World
from tests.test_cli import fetch, run_mla


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET reason = 'rewritten'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
        "ALTER TABLE audit_events DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_events_append_only ON audit_events",
        "DROP TABLE audit_events",
        "ALTER TABLE audit_events OWNER TO CURRENT_USER",
        "SELECT setval('request_reference_seq', 1)",
    ],
)
async def test_the_runtime_role_cannot_change_or_remove_the_audit_trail(
    world: World, database_url: str, owner_database_url: str, statement: str
) -> None:
    await walked_request(world)
    before = await fetch(owner_database_url, "SELECT * FROM audit_events ORDER BY id")

    connection = await asyncpg.connect(plain_dsn(database_url))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute(statement)
    finally:
        await connection.close()

    assert await fetch(owner_database_url, "SELECT * FROM audit_events ORDER BY id") == before


async def test_the_app_works_as_the_runtime_role(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    headers, request = await walked_request(world)  # filing and editing: rows, sequences, audit events

    async with sessionmaker() as session:
        user = await session.scalar(text("SELECT current_user"))
        owner = await session.scalar(text("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_events'"))
    assert user == role_of(database_url)[0] != owner
    verdict = await world.client.get(f"/api/v1/requests/{request['id']}/audit/verify", headers=headers)
    assert verdict.json()["valid"] is True


@pytest.fixture
async def own_database(servers: Servers) -> AsyncIterator[TwoRoleDatabase]:
    async with two_role_database(servers, "mla_roles") as database:
        yield database


async def runtime_privileges(database: TwoRoleDatabase, table: str) -> set[str]:
    rows = await fetch(
        database.owner_url,
        "SELECT privilege_type FROM information_schema.role_table_grants WHERE grantee = $1 AND table_name = $2",
        role_of(database.runtime_url)[0],
        table,
    )
    return {row[0] for row in rows}


async def test_migrating_again_grants_the_same_and_covers_new_tables(own_database: TwoRoleDatabase) -> None:
    assert await runtime_privileges(own_database, "audit_events") == {"INSERT", "SELECT"}
    assert await runtime_privileges(own_database, "requests") == {"INSERT", "SELECT", "UPDATE", "DELETE"}
    assert await runtime_privileges(own_database, "alembic_version") == set()
    await fetch(own_database.owner_url, "CREATE TABLE added_later (id int)")

    await grant_runtime_role(own_database.owner_url, own_database.runtime_url)

    assert await runtime_privileges(own_database, "audit_events") == {"INSERT", "SELECT"}
    assert await runtime_privileges(own_database, "added_later") == {"INSERT", "SELECT", "UPDATE", "DELETE"}


async def test_migrate_refuses_a_runtime_role_that_could_rewrite_the_trail(
    own_database: TwoRoleDatabase, servers: Servers
) -> None:
    administrator = f"mla_admin_{uuid.uuid4().hex[:8]}"
    await on_server(servers.database_url, f'CREATE ROLE "{administrator}" SUPERUSER')
    try:
        with pytest.raises(ValueError, match="is a superuser"):
            await grant_runtime_role(own_database.owner_url, with_role(own_database.owner_url, administrator))
    finally:
        await drop_role(servers.database_url, administrator)
    with pytest.raises(ValueError, match="is a superuser"):  # the owner's own URL as the runtime's
        await grant_runtime_role(own_database.owner_url, own_database.owner_url)


async def test_mla_migrate_sets_the_runtime_role_from_its_url(
    own_database: TwoRoleDatabase, servers: Servers, tmp_path: Path
) -> None:
    role = role_of(own_database.runtime_url)[0]
    runtime_url = with_role(own_database.runtime_url, role, "a-new-runtime-password")
    env = {"MLA_MIGRATION_DATABASE_URL": own_database.owner_url}

    run = await run_mla("migrate", database_url=runtime_url, data_dir=tmp_path, extra_env=env)

    assert run.returncode == 0, run
    assert "warning" not in run.stderr
    [stored] = await fetch(servers.database_url, "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role)
    assert stored[0].startswith("SCRAM-SHA-256$")  # the password itself never reached the server
    assert await runtime_privileges(own_database, "audit_events") == {"INSERT", "SELECT"}
