"""arq worker configuration: which jobs run, on which Redis and queue, with which clock."""

from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker

from mla.clock import Clock, SystemClock
from mla.db import create_engine, create_sessionmaker
from mla.settings import Settings
from workers import jobs

FUNCTIONS = [jobs.verify_audit_trails]


def build_worker(
    settings: Settings, *, clock: Clock | None = None, burst: bool = False, handle_signals: bool = True
) -> Worker:
    """A worker on `settings`' Redis and queue; `burst` runs what is queued or due once and exits."""
    if not settings.database_url or not settings.redis_url:
        raise ValueError("the worker needs MLA_DATABASE_URL and MLA_REDIS_URL")
    worker_clock = clock or SystemClock()

    async def startup(ctx: dict[str, Any]) -> None:
        engine = create_engine(settings.database_url or "", pool_size=5)
        ctx.update(engine=engine, sessionmaker=create_sessionmaker(engine), clock=worker_clock, settings=settings)

    async def shutdown(ctx: dict[str, Any]) -> None:
        await ctx["engine"].dispose()

    return Worker(
        functions=FUNCTIONS,  # type: ignore[arg-type]
        cron_jobs=[cron(jobs.verify_audit_trails, hour={3}, minute={0}, unique=True, run_at_startup=burst)],
        redis_settings=RedisSettings.from_dsn(settings.redis_url),
        queue_name=settings.queue_name,
        on_startup=startup,
        on_shutdown=shutdown,
        burst=burst,
        poll_delay=0.5,
        job_timeout=60,
        max_tries=5,
        health_check_interval=30,
        handle_signals=handle_signals,
    )
