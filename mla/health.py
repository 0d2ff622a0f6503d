"""Liveness and readiness probes (no authentication)."""

from typing import Any

from arq.constants import health_check_key_suffix
from litestar import Controller, Response, get
from litestar.datastructures import State
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.settings import Settings


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/live", summary="The process is up")
    async def live(self) -> dict[str, str]:
        return {"status": "ok"}

    @get(
        "/ready",
        summary="PostgreSQL and Redis answer; whether a worker is alive",
        description="`worker` is true while a worker on this installation's queue has reported within its "
        "health-check interval (arq's health-check key). A worker that is down makes `status` `degraded`; "
        "it makes the answer 503 only where the worker runs in this process (`mla up`), since an API "
        "process on its own can still serve while the workers are restarted.",
    )
    async def ready(self, state: State) -> Response[dict[str, Any]]:
        settings: Settings = state.settings
        checks = {"database": await _database_ok(state.sessionmaker), "redis": await _redis_ok(state.redis)}
        worker = checks["redis"] and await _worker_alive(state.redis, settings.queue_name)
        serving = all(checks.values()) and (worker or not settings.ready_requires_worker)
        status = "unavailable" if not serving else "ok" if worker else "degraded"
        return Response({"status": status, **checks, "worker": worker}, status_code=200 if serving else 503)


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


async def _worker_alive(redis: Redis, queue_name: str) -> bool:
    """arq's worker rewrites this key every `health_check_interval` with a slightly longer expiry."""
    try:
        return bool(await redis.exists(queue_name + health_check_key_suffix))
    except Exception:  # Redis failing between the two calls: not known to be alive
        return False
