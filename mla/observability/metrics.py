"""Prometheus metrics: HTTP latency from the middleware; deadlines, deliveries and jobs from Redis.

A scrape reads no table. The worker's `refresh_metrics` cron job counts open deadlines and
deliveries once a minute and stores the figures in a Redis hash; job outcomes are another hash the
worker increments. A scrape reads both hashes, so every API process reports the same numbers
whichever worker did the work, and a scraper hammering `/metrics` costs PostgreSQL nothing.
`mla_metrics_refreshed_timestamp_seconds` says when the worker last counted (0: never); the
figures are absent until it has.

The Redis keys start with the installation's queue name, so installations (and test runs) that
share a Redis do not mix their figures.
"""

import logging
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from mla.observability import repository

log = logging.getLogger("mla.metrics")
DUE_SOON = timedelta(hours=48)
DEADLINE_BUCKETS = ("overdue", "due_soon", "later", "paused")
DELIVERY_STATUSES = ("pending", "sent", "failed")
REFRESHED_AT = "refreshed_at"

REGISTRY = CollectorRegistry()
HTTP_LATENCY = Histogram(
    "mla_http_request_duration_seconds",
    "HTTP request latency by route template, method and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
OPEN_DEADLINES = Gauge("mla_open_deadlines", "Open deadlines by bucket", ["bucket"], registry=REGISTRY)
DELIVERIES = Gauge("mla_alert_deliveries", "Alert deliveries by status", ["status"], registry=REGISTRY)
REFRESHED = Gauge(
    "mla_metrics_refreshed_timestamp_seconds",
    "When the worker last counted deadlines and deliveries (unix seconds)",
    registry=REGISTRY,
)
JOB_OUTCOMES = Gauge(
    "mla_worker_job_outcomes", "Worker job outcomes since the Redis hash began", ["job", "outcome"], registry=REGISTRY
)
# Redis hash field prefix -> the gauge it feeds.
_LABELLED = {"open_deadlines": OPEN_DEADLINES, "alert_deliveries": DELIVERIES}


def gauges_key(queue_name: str) -> str:
    return f"{queue_name}:metrics:gauges"


def job_outcomes_key(queue_name: str) -> str:
    return f"{queue_name}:metrics:job_outcomes"


async def count_gauges(session: AsyncSession, now: datetime) -> dict[str, int]:
    """The table aggregates, for the worker: `{"open_deadlines:overdue": n, "alert_deliveries:sent": n, ...}`."""
    by_bucket = await repository.open_deadlines_by_bucket(session, now, DUE_SOON)
    by_status = await repository.deliveries_by_status(session)
    return {f"open_deadlines:{name}": by_bucket.get(name, 0) for name in DEADLINE_BUCKETS} | {
        f"alert_deliveries:{status}": by_status.get(status, 0) for status in DELIVERY_STATUSES
    }


async def store_gauges(redis: Redis, queue_name: str, gauges: dict[str, int], now: datetime) -> None:
    await redis.hset(gauges_key(queue_name), mapping={**gauges, REFRESHED_AT: int(now.timestamp())})


async def scrape(redis: Redis, queue_name: str) -> bytes:
    """The exposition, with the gauges as the worker stored them; with Redis down, the HTTP figures only."""
    try:
        stored = await redis.hgetall(gauges_key(queue_name))
        outcomes = await redis.hgetall(job_outcomes_key(queue_name))
    except Exception:  # the latency figures still matter
        log.warning("metrics: Redis cannot be read; serving the HTTP figures only")
        stored, outcomes = {}, {}
    # No await from here on: concurrent scrapes in this process cannot interleave their values.
    for gauge in (OPEN_DEADLINES, DELIVERIES, JOB_OUTCOMES):
        gauge.clear()
    REFRESHED.set(0)
    for field, value in stored.items():
        name, _, label = field.decode().partition(":")
        if name == REFRESHED_AT:
            REFRESHED.set(int(value))
        elif name in _LABELLED:
            _LABELLED[name].labels(label).set(int(value))
    for field, count in outcomes.items():
        job, _, outcome = field.decode().rpartition(":")
        JOB_OUTCOMES.labels(job, outcome).set(int(count))
    return generate_latest(REGISTRY)
