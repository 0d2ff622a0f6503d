"""The benchmark's own database on the server named by `MLA_DATABASE_URL`: created fresh, dropped at the end."""

import asyncio
import os

import asyncpg
from sqlalchemy.engine import make_url

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "mla_bench"


def server_url() -> str:
    return os.environ.get("MLA_DATABASE_URL") or DEFAULT_SERVER_URL


def plain_dsn(url: str) -> str:
    """A `postgresql://` DSN asyncpg accepts (SQLAlchemy's `+asyncpg` driver suffix removed)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def bench_url(name: str = BENCH_DATABASE) -> str:
    return plain_dsn(str(make_url(server_url()).set(database=name).render_as_string(hide_password=False)))


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(plain_dsn(server_url()))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create_database(name: str = BENCH_DATABASE) -> None:
    """Drop any leftover database of that name (an earlier `--keep`), then create it empty."""
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))


def drop_database(name: str = BENCH_DATABASE) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
