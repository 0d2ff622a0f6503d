"""arq worker configuration: which jobs run, on which Redis and queue, with which clock."""

import logging
from typing import Any

import httpx
from arq import cron, func
from arq.connections import RedisSettings
from arq.worker import Worker

from mla.alerts.delivery import BATCH_TIMEOUT_SECONDS
from mla.audit.checkpoints import checkpointing
from mla.audit.keys import AuditKeyring
from mla.clock import Clock, SystemClock
from mla.db import create_engine, create_sessionmaker
from mla.settings import Settings
from workers import jobs
from workers.alarm import start_alarm, stop_alarm
from workers.observability import observed

log = logging.getLogger("mla.worker")
CHECKPOINT_TIMEOUT_SECONDS = 600  # the first round of a large database walks every chain

FUNCTIONS = [
    # Retries live in PostgreSQL (mla.alerts.delivery): no result kept, so a lost job can be enqueued again.
    func(observed(jobs.deliver_alerts), timeout=BATCH_TIMEOUT_SECONDS, keep_result=0),
]


def every(seconds: int) -> dict[str, set[int]]:
    """arq cron fields for "every `seconds`" (a divisor of 60 below a minute, whole minutes above)."""
    if seconds < 60:
        return {"second": set(range(0, 60, seconds))}
    return {"minute": set(range(0, 60, max(1, seconds // 60))), "second": {0}}


def build_worker(
    settings: Settings, *, clock: Clock | None = None, burst: bool = False, handle_signals: bool = True
) -> Worker:
    """A worker on `settings`' Redis and queue; `burst` runs what is queued or due once and exits."""
    if not settings.database_url or not settings.redis_url:
        raise ValueError("the worker needs MLA_DATABASE_URL and MLA_REDIS_URL")
    worker_clock = clock or SystemClock()
    keyring = AuditKeyring.from_settings(settings)  # refuses to start without the audit keys
    signing = checkpointing(settings)

    async def startup(ctx: dict[str, Any]) -> None:
        engine = create_engine(settings.database_url or "", pool_size=5)
        sessionmaker = create_sessionmaker(engine, keyring)
        ctx.update(engine=engine, sessionmaker=sessionmaker, clock=worker_clock, settings=settings, checkpoints=signing)
        # Webhook receivers' certificates: the trust store httpx uses (SSL_CERT_FILE, SSL_CERT_DIR or certifi).
        ctx["tls"] = httpx.create_ssl_context()
        if not burst:  # alerts on time; a burst run scans once, at startup
            ctx["alarm"] = start_alarm(ctx, settings.database_url or "")

    async def shutdown(ctx: dict[str, Any]) -> None:
        # Idempotent, and safe when startup never ran (Redis was down when the worker began).
        if "alarm" in ctx:
            await stop_alarm(ctx.pop("alarm"))
        if "engine" in ctx:
            await ctx.pop("engine").dispose()

    cron_jobs = [
        # The safety net of the alarm (workers.alarm), which scans when the earliest alert falls due.
        cron(observed(jobs.scan_alerts), **every(settings.alert_scan_seconds), unique=True, run_at_startup=burst),
        cron(observed(jobs.relay_deliveries), unique=True, run_at_startup=burst, timeout=60),
        cron(observed(jobs.verify_audit_trails), hour={3}, minute={0}, second={0}, unique=True),
        # The figures /metrics serves, once a minute.
        cron(observed(jobs.refresh_metrics), second={30}, unique=True, run_at_startup=burst, timeout=60),
        # Keeps the span a queue read counts at read time (mla/queue/repository.py) a minute wide.
        cron(observed(jobs.advance_queue_counts), second={15}, unique=True, run_at_startup=burst, timeout=60),
    ]
    if signing is None:
        log.warning("audit checkpoints are off: set MLA_CHECKPOINT_SIGNING_KEY (README: audit keys)")
    else:
        # At startup too, so that a new log seals the existing chains at once (long-running workers only).
        checkpoint = cron(
            observed(jobs.checkpoint_audit_trails),
            **every(60 * settings.checkpoint_minutes),
            unique=True,
            run_at_startup=not burst,
            timeout=CHECKPOINT_TIMEOUT_SECONDS,
        )
        cron_jobs.append(checkpoint)
    return Worker(
        functions=FUNCTIONS,  # type: ignore[arg-type]
        cron_jobs=cron_jobs,
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
