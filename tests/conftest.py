"""Test infrastructure: a fresh PostgreSQL database with the real migrations, real Redis, one loop.

`MLA_DATABASE_URL` / `MLA_REDIS_URL` name the servers to use (CI sets them to the machine's);
without them an embedded PostgreSQL and Redis are started in a temporary folder. Each run gets its
own database and queue name; tests isolate themselves by creating their own organisations.
The database is migrated by its owner (the server URL's user) and the app connects as a runtime
role of the run's own (`<database>_app`, roles being cluster-wide), dropped at the end.

Under pytest-xdist each worker is a session of its own: its own database (named after the worker),
Redis keys and queue, and, without the variables, its own embedded servers.
"""

import asyncio
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher
from litestar import Litestar
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.app import create_app, hold_resources
from mla.audit.keys import AuditKeyring
from mla.clock import FixedClock
from mla.database_roles import with_role
from mla.embedded import start_embedded_services
from mla.migrate import migrate
from mla.reference_data import seed_reference_data
from mla.settings import Settings
from mla.users import credentials
from tests.factories import World

START_OF_TESTS = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
TEST_AUDIT_KEYS = "test-1:audit-key-for-tests-only-not-for-production"
TEST_CHECKPOINT_SIGNING_KEY = "dGVzdC1jaGVja3BvaW50LXNpZ25pbmcta2V5LTMyYnk="  # 32 bytes, tests only
TEST_KEYRING = AuditKeyring.from_settings(Settings(audit_keys=TEST_AUDIT_KEYS))
METRICS_TOKEN = "test-metrics-token"
# The cheapest argon2id there is: the in-process app hashes with it (see `cheap_password_hashing`).
CHEAP_ARGON2 = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def worker_name() -> str:
    """The pytest-xdist worker running this session (`gw0`, `gw1` ...), or `main` without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


class Servers:
    def __init__(self, database_url: str, redis_url: str) -> None:
        self.database_url = database_url
        self.redis_url = redis_url


def plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def on_server(server_url: str, statement: str) -> None:
    """One statement through the server URL (databases and roles are the cluster's, not a database's)."""
    connection = await asyncpg.connect(plain_dsn(server_url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def create_database(server_url: str, name: str) -> str:
    """A new database on the server; its commits do not wait for the WAL to reach the disk.

    A test database need not survive a crash of the server; waiting for each commit's flush cost
    about a millisecond a commit, tens of thousands of times a run. Visibility is unchanged.
    """
    await on_server(server_url, f'CREATE DATABASE "{name}"')
    await on_server(server_url, f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(server_url: str, name: str) -> None:
    await on_server(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def drop_role(server_url: str, name: str) -> None:
    await on_server(server_url, f'DROP ROLE IF EXISTS "{name}"')


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    database_url = os.environ.get("MLA_DATABASE_URL")
    redis_url = os.environ.get("MLA_REDIS_URL")
    embedded = None
    if not database_url or not redis_url:
        embedded = start_embedded_services(Path(tmp_path_factory.mktemp("embedded")))
    yield Servers(database_url or embedded.database_url, redis_url or embedded.redis_url)  # type: ignore[union-attr]
    if embedded is not None:
        embedded.stop()


@dataclass(frozen=True)
class TwoRoleDatabase:
    owner_url: str  # migrations, and tests that play an attacker holding the database
    runtime_url: str  # what the app connects as


@asynccontextmanager
async def two_role_database(servers: Servers, prefix: str) -> AsyncIterator[TwoRoleDatabase]:
    """A database of its own, migrated as the owner, with a runtime role of its own; both dropped after."""
    name = f"{prefix}_{worker_name()}_{uuid.uuid4().hex[:12]}"
    role = f"{name}_app"
    owner_url = await create_database(servers.database_url, name)
    try:
        runtime_url = with_role(owner_url, role, secrets.token_urlsafe(16))
        await asyncio.to_thread(migrate, owner_url, runtime_url)
        yield TwoRoleDatabase(owner_url, runtime_url)
    finally:
        await drop_database(servers.database_url, name)  # first: the role's grants go with the database
        await drop_role(servers.database_url, role)


@pytest.fixture(scope="session")
async def test_database(servers: Servers) -> AsyncIterator[TwoRoleDatabase]:
    async with two_role_database(servers, "mla_test") as database:
        yield database


@pytest.fixture(scope="session")
def database_url(test_database: TwoRoleDatabase) -> str:
    """The runtime role's URL: what the app under test connects as."""
    return test_database.runtime_url


@pytest.fixture(scope="session")
def owner_database_url(test_database: TwoRoleDatabase) -> str:
    return test_database.owner_url


@pytest.fixture(scope="session")
def clock() -> FixedClock:
    return FixedClock(START_OF_TESTS)


@pytest.fixture(autouse=True)
def reset_clock(clock: FixedClock) -> None:
    clock.set(START_OF_TESTS)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[PasswordHasher]:
    """The in-process app hashes and verifies passwords with `CHEAP_ARGON2`; yields the production hasher.

    At the production cost (RFC 9106 low-memory: 3 passes over 64 MiB) each of the suite's few
    hundred hashes and verifications took about 0.15 s of CPU. What the tests check of argon2 (that
    it runs, off the loop, two at a time, for unknown e-mails too) does not depend on its cost;
    tests/users/test_password_cost.py pins the production parameters. `mla` subprocesses keep them.
    """
    production = credentials._hasher
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(credentials, "_hasher", CHEAP_ARGON2)
        patch.setattr(credentials, "_DUMMY_HASH", CHEAP_ARGON2.hash("not-a-real-password"))
        yield production


@pytest.fixture(scope="session")
def settings(test_database: TwoRoleDatabase, servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    run = f"{worker_name()}:{uuid.uuid4().hex[:8]}"
    return Settings(
        database_url=test_database.runtime_url,
        migration_database_url=test_database.owner_url,
        redis_url=servers.redis_url,
        queue_name=f"mla:test:{run}",
        redis_key_prefix=f"mla:test:{run}",
        secret_key="test-secret-key-not-for-production",
        max_body_bytes=65_536,
        audit_keys=TEST_AUDIT_KEYS,
        checkpoint_signing_key=TEST_CHECKPOINT_SIGNING_KEY,
        checkpoint_log=str(tmp_path_factory.mktemp("checkpoints") / "audit-checkpoints.jsonl"),
        metrics_token=METRICS_TOKEN,
        login_refusal_pause_seconds=0,  # tests/users/test_login_limits.py checks the pause itself
    )


@pytest.fixture(scope="session")
async def app(settings: Settings, clock: FixedClock) -> AsyncIterator[Litestar]:
    application = create_app(settings, clock)
    async with hold_resources(application):
        async with application.state.sessionmaker() as session, session.begin():
            await seed_reference_data(session, clock)
        yield application


@pytest.fixture(scope="session")
def sessionmaker(app: Litestar) -> async_sessionmaker[AsyncSession]:
    return app.state.sessionmaker


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mla.test") as http:
        yield http


@pytest.fixture
def world(client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock) -> World:
    return World(client, sessionmaker, clock)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: xdist hands the long ones out while there is other work to balance them."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
