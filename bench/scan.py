"""The deadline scan, timed as the worker runs it: the job `workers.jobs.scan_alerts`, batch after
batch, each batch its own transaction, at the scan instant (10,000 due), then again (nothing left due).

The job decides the due alert stages and, after each batch, publishes the deliveries it decided to
Redis (the relay); the time spent in the relay is told apart from the deciding by timing the job's
calls of `workers.jobs.relay_deliveries`. Jobs go to a queue of the
benchmark's own, emptied afterwards. The scan writes (alerts, notifications, deliveries, the
deadlines' next stage), so afterwards the database is put back as seeded. No worker process runs
during the benchmark: only this measurement decides alerts.
"""

import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arq.connections import ArqRedis
from redis.asyncio import ConnectionPool
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.database import BENCH_KEYRING
from bench.plans import explain, scan_query
from mla.clock import FixedClock
from mla.db import create_engine, create_sessionmaker
from mla.settings import Settings
from workers import jobs

DUE = """
SELECT id, next_alert_at, fired_stages FROM deadlines
WHERE status = 'open' AND paused_at IS NULL AND next_alert_at IS NOT NULL AND next_alert_at <= $1
"""


@dataclass
class ScanRun:
    due: int
    seconds: float  # the whole job
    decide_seconds: float  # finding and deciding the due stages (the scan proper)
    database_seconds: float  # of which waiting on PostgreSQL (from sending a statement to its result)
    totals: dict[str, int]
    statements: int  # of the decisions
    batches: int
    relay_statements: int


@dataclass
class ScanResult:
    with_due: ScanRun
    none_due: ScanRun
    plan_due: str
    plan_none: str


async def measure_scan(url: str, redis_url: str, now: datetime) -> ScanResult:
    """Time the worker's scan job with everything seeded due, then with nothing due; then restore."""
    engine = create_engine(url, pool_size=5)  # as the worker's (workers/settings.py)
    sessionmaker = create_sessionmaker(engine, BENCH_KEYRING)
    settings = Settings(database_url=url, redis_url=redis_url, queue_name=f"mla:bench:{secrets.token_hex(4)}")
    redis = ArqRedis(connection_pool=ConnectionPool.from_url(redis_url))
    context = {"sessionmaker": sessionmaker, "clock": FixedClock(now), "redis": redis, "settings": settings}
    try:
        async with engine.connect() as connection:
            raw = (await connection.get_raw_connection()).driver_connection
            seeded = await raw.fetch(DUE, now)
        plan_due = await _plan(sessionmaker, now)
        with_due = await _timed(engine, context, len(seeded))
        plan_none = await _plan(sessionmaker, now)
        none_due = await _timed(engine, context, 0)
        async with engine.begin() as connection:
            raw = (await connection.get_raw_connection()).driver_connection
            # Every alert in the database was decided just now: the seed writes none.
            await raw.execute("DELETE FROM deliveries; DELETE FROM notifications; DELETE FROM alerts")
            await raw.executemany(
                "UPDATE deadlines SET next_alert_at = $2, fired_stages = $3 WHERE id = $1",
                [(row["id"], row["next_alert_at"], row["fired_stages"]) for row in seeded],
            )
        await _empty_queue(redis, settings.queue_name)
    finally:
        await redis.aclose()
        await engine.dispose()
    return ScanResult(with_due, none_due, plan_due, plan_none)


@dataclass
class _Statement:
    text: str
    relay: bool  # sent by the relay
    sent: float
    answered: float = 0.0


async def _timed(engine: AsyncEngine, context: dict[str, Any], due: int) -> ScanRun:
    statements: list[_Statement] = []
    relaying = [0.0]  # seconds spent in the relay; its statements are told apart while it runs
    in_relay = [False]
    relay = jobs.relay_deliveries

    async def timed_relay(ctx: dict[str, Any]) -> dict[str, int]:
        started, in_relay[0] = time.perf_counter(), True
        try:
            return await relay(ctx)
        finally:
            relaying[0] += time.perf_counter() - started
            in_relay[0] = False

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(_Statement(statement, in_relay[0], time.perf_counter()))

    def after(*args: Any) -> None:
        statements[-1].answered = time.perf_counter()

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
    jobs.relay_deliveries = timed_relay  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        totals = await jobs.scan_alerts(context)
        finished = time.perf_counter()
    finally:
        jobs.relay_deliveries = relay  # type: ignore[assignment]
        event.remove(engine.sync_engine, "before_cursor_execute", before)
        event.remove(engine.sync_engine, "after_cursor_execute", after)
    deciding = [s for s in statements if not s.relay]
    waited = sum(s.answered - s.sent for s in deciding)
    batches = sum(1 for s in deciding if "FOR UPDATE OF d SKIP LOCKED" in s.text)
    return ScanRun(
        due,
        finished - started,
        finished - started - relaying[0],
        waited,
        totals,
        len(deciding),
        batches,
        len(statements) - len(deciding),
    )


async def _empty_queue(redis: ArqRedis, queue_name: str) -> None:
    """Drop the `deliver_alert` jobs the relay enqueued: no worker will run them."""
    job_ids = await redis.zrange(queue_name, 0, -1)
    keys = [b"arq:job:" + job_id for job_id in job_ids]
    for start in range(0, len(keys), 1000):
        await redis.delete(*keys[start : start + 1000])
    await redis.delete(queue_name)


async def _plan(sessionmaker, now: datetime) -> str:  # type: ignore[no-untyped-def]
    async with sessionmaker() as session:
        plan = await explain(session, scan_query(now))
        await session.rollback()  # the SELECT ... FOR UPDATE took row locks
    return plan
