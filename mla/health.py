"""Liveness and readiness probes (no authentication)."""

from typing import Literal

import msgspec
from arq.constants import health_check_key_suffix
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.settings import Settings


class Readiness(msgspec.Struct, kw_only=True):
    status: Literal["ok", "degraded", "unavailable"]
    database: bool
    redis: bool
    worker: bool


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/live", security=[])
    async def live(self) -> dict[str, str]:
        """The process is up

        No token needed; touches neither PostgreSQL nor Redis. Answers `{"status": "ok"}` as long as the process
        serves HTTP: a liveness probe restarts the process only when this fails.
        """
        return {"status": "ok"}

    @get(
        "/ready",
        security=[],
        responses={
            503: ResponseSpec(
                Readiness,
                description="Not ready: PostgreSQL or Redis does not answer (under `mla up`, or the worker is "
                "down); the body says which.",
                generate_examples=False,
            )
        },
    )
    async def ready(self, state: State) -> Response[Readiness]:
        """PostgreSQL and Redis answer; whether a worker is alive

        No token needed. `database` and `redis` say whether each answered just now. `worker` is true while a
        worker on this installation's queue has reported within its health-check interval (arq's health-check
        key). A worker that is down makes `status` `degraded`; it makes the answer 503 only where the worker
        runs in this process (`mla up`), since an API process on its own can still serve while the workers are
        restarted.
        """
        settings: Settings = state.settings
        checks = {"database": await _database_ok(state.sessionmaker), "redis": await _redis_ok(state.redis)}
        worker = checks["redis"] and await _worker_alive(state.redis, settings.queue_name)
        serving = all(checks.values()) and (worker or not settings.ready_requires_worker)
        status = "unavailable" if not serving else "ok" if worker else "degraded"
        return Response(Readiness(status=status, **checks, worker=worker), status_code=200 if serving else 503)


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
