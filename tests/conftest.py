"""Test infrastructure: a fresh PostgreSQL database with the real migrations, real Redis, one loop.

`MLA_DATABASE_URL` / `MLA_REDIS_URL` name the servers to use (CI sets them to the machine's);
without them an embedded PostgreSQL and Redis are started in a temporary folder. Each run gets its
own database and queue name; tests isolate themselves by creating their own organisations.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from litestar import Litestar
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.app import create_app, hold_resources
from mla.clock import FixedClock
from mla.embedded import start_embedded_services
from mla.migrate import upgrade
from mla.reference_data import seed_reference_data
from mla.settings import Settings
from tests.factories import World

START_OF_TESTS = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
METRICS_TOKEN = "test-metrics-token"


class Servers:
    def __init__(self, database_url: str, redis_url: str) -> None:
        self.database_url = database_url
        self.redis_url = redis_url


def plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def create_database(server_url: str, name: str) -> str:
    connection = await asyncpg.connect(plain_dsn(server_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(plain_dsn(server_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


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


@pytest.fixture(scope="session")
async def database_url(servers: Servers) -> AsyncIterator[str]:
    name = f"mla_test_{uuid.uuid4().hex[:12]}"
    url = await create_database(servers.database_url, name)
    await asyncio.to_thread(upgrade, url)
    yield url
    await drop_database(servers.database_url, name)


@pytest.fixture(scope="session")
def clock() -> FixedClock:
    return FixedClock(START_OF_TESTS)


@pytest.fixture(autouse=True)
def reset_clock(clock: FixedClock) -> None:
    clock.set(START_OF_TESTS)


@pytest.fixture(scope="session")
def settings(database_url: str, servers: Servers) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=servers.redis_url,
        queue_name=f"mla:test:{uuid.uuid4().hex[:8]}",
        secret_key="test-secret-key-not-for-production",
        max_body_bytes=65_536,
        metrics_token=METRICS_TOKEN,
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
