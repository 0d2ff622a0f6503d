"""Embedded PostgreSQL + Redis: start, write, stop, restart on the same folder, data survives."""

import asyncpg
import redis.asyncio as aioredis
from arq.connections import RedisSettings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from mla.embedded import start_embedded_postgres, start_embedded_services


def _raw(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def test_data_survives_restart(tmp_path):
    services = start_embedded_services(tmp_path)
    try:
        assert services.database_url.startswith("postgresql+asyncpg://")
        assert services.redis_url.startswith("redis://127.0.0.1:")
        assert ":6379" not in services.redis_url
        settings = RedisSettings.from_dsn(services.redis_url)
        assert settings.host == "127.0.0.1" and settings.port != 6379

        conn = await asyncpg.connect(_raw(services.database_url))
        try:
            assert await conn.fetchval("SELECT current_database()") == "mla"
            await conn.execute("CREATE TABLE t (id int PRIMARY KEY, name text)")
            await conn.execute("INSERT INTO t VALUES (1, 'kept')")
        finally:
            await conn.close()

        r = aioredis.from_url(services.redis_url)
        await r.set("k", "v")
        await r.rpush("queue", "job-1")
        await r.aclose()
    finally:
        services.stop()
    services.stop()  # idempotent

    again = start_embedded_services(tmp_path)
    try:
        # The SQLAlchemy URL works as-is (unix socket via ?host=).
        engine = create_async_engine(again.database_url)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT name FROM t WHERE id = 1"))).scalar() == "kept"
        await engine.dispose()

        r = aioredis.from_url(again.redis_url)
        assert await r.get("k") == b"v"
        assert await r.lrange("queue", 0, -1) == [b"job-1"]
        await r.aclose()
    finally:
        again.stop()


async def test_start_twice_in_one_process_shares_server(tmp_path):
    url1, stop1 = start_embedded_postgres(tmp_path)
    url2, stop2 = start_embedded_postgres(tmp_path)
    try:
        assert url1 == url2
        stop1()
        stop1()  # a second call of the same handle does not release the other one
        conn = await asyncpg.connect(_raw(url2))  # still running: one handle left
        assert await conn.fetchval("SELECT 1") == 1
        await conn.close()
    finally:
        stop2()
