"""Liveness and readiness probes (no authentication)."""

from typing import Any

from litestar import Controller, Response, get
from litestar.datastructures import State
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/live", summary="The process is up")
    async def live(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/ready", summary="PostgreSQL and Redis answer")
    async def ready(self, state: State) -> Response[dict[str, Any]]:
        checks = {"database": await _database_ok(state.sessionmaker), "redis": await _redis_ok(state.redis)}
        healthy = all(checks.values())
        return Response({"status": "ok" if healthy else "unavailable", **checks}, status_code=200 if healthy else 503)


async def _database_ok(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    try:
        async with sessionmaker() as session:
            await session.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure means "not ready"; the reason is logged by the driver
        return False


async def _redis_ok(redis: Redis) -> bool:
    try:
        return bool(await redis.ping())
    except Exception:  # any failure means "not ready"
        return False
