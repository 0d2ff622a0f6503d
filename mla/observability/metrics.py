"""Prometheus metrics: HTTP latency from the middleware; deadlines, deliveries and jobs read at scrape time.

Deadline and delivery figures come from PostgreSQL and job outcomes from a Redis hash the worker
increments, so every API process reports the same numbers whichever worker did the work.
"""

from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from redis.asyncio import Redis
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mla.alerts.models import Delivery
from mla.deadlines.models import Deadline

JOB_OUTCOMES_KEY = "mla:metrics:job_outcomes"
DUE_SOON = timedelta(hours=48)

REGISTRY = CollectorRegistry()
HTTP_LATENCY = Histogram(
    "mla_http_request_duration_seconds",
    "HTTP request latency by route template, method and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
OPEN_DEADLINES = Gauge("mla_open_deadlines", "Open deadlines by bucket", ["bucket"], registry=REGISTRY)
DELIVERIES = Gauge("mla_alert_deliveries", "Alert deliveries by status", ["status"], registry=REGISTRY)
JOB_OUTCOMES = Gauge(
    "mla_worker_job_outcomes", "Worker job outcomes since the Redis hash began", ["job", "outcome"], registry=REGISTRY
)


async def refresh(session: AsyncSession, redis: Redis, now: datetime) -> None:
    bucket = case(
        (Deadline.paused_at.is_not(None), "paused"),
        (Deadline.due_at < now, "overdue"),
        (Deadline.due_at < now + DUE_SOON, "due_soon"),
        else_="later",
    )
    open_query = select(bucket, func.count()).where(Deadline.status == "open").group_by(bucket)
    counts = {name: count for name, count in (await session.execute(open_query)).all()}
    for name in ("overdue", "due_soon", "later", "paused"):
        OPEN_DEADLINES.labels(name).set(counts.get(name, 0))
    status_query = select(Delivery.status, func.count()).group_by(Delivery.status)
    by_status = {status: count for status, count in (await session.execute(status_query)).all()}
    for status in ("pending", "sent", "failed"):
        DELIVERIES.labels(status).set(by_status.get(status, 0))
    try:
        outcomes = await redis.hgetall(JOB_OUTCOMES_KEY)
    except Exception:  # Redis down: the other figures still matter
        outcomes = {}
    for field, count in outcomes.items():
        job, _, outcome = field.decode().rpartition(":")
        JOB_OUTCOMES.labels(job, outcome).set(int(count))


def exposition() -> bytes:
    return generate_latest(REGISTRY)
