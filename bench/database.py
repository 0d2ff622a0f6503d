"""The benchmark's own database on the server named by `MLA_DATABASE_URL`: created fresh, dropped at the end.

As deployed, it has two roles: the server URL's user owns it (migrations, the bulk seed) and the
API, the worker's scan and the database floor connect as the runtime role RUNTIME_ROLE.
"""

import asyncio
import os

import asyncpg
from sqlalchemy.engine import make_url

from mla.audit.keys import AuditKeyring
from mla.database_roles import with_role
from mla.settings import Settings

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "mla_bench"
RUNTIME_ROLE = "mla_bench_app"
RUNTIME_PASSWORD = "mla-bench-runtime"  # the benchmark's throwaway database only
BENCH_AUDIT_KEYS = "bench-1:benchmark-audit-key-not-for-production-use"
BENCH_SETTINGS = Settings(audit_keys=BENCH_AUDIT_KEYS)
BENCH_KEYRING = AuditKeyring.from_settings(BENCH_SETTINGS)


def server_url() -> str:
    return os.environ.get("MLA_DATABASE_URL") or DEFAULT_SERVER_URL


def plain_dsn(url: str) -> str:
    """A `postgresql://` DSN asyncpg accepts (SQLAlchemy's `+asyncpg` driver suffix removed)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def bench_url(name: str = BENCH_DATABASE) -> str:
    """The owner's URL of the benchmark database."""
    return plain_dsn(str(make_url(server_url()).set(database=name).render_as_string(hide_password=False)))


def runtime_url(name: str = BENCH_DATABASE) -> str:
    """The runtime role's URL, as the API and the worker connect (`mla migrate` creates the role)."""
    return with_role(bench_url(name), RUNTIME_ROLE, RUNTIME_PASSWORD)


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
    asyncio.run(_admin(f'DROP ROLE IF EXISTS "{RUNTIME_ROLE}"'))
