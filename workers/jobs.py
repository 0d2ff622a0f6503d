"""arq job functions: thin, idempotent, each calling a domain service in its own transaction."""

import asyncio
import logging
import uuid
from collections import Counter
from typing import Any

from mla.alerts import delivery
from mla.alerts.scan import scan_due_alerts
from mla.audit import checkpoints
from mla.audit import service as audit
from mla.observability import metrics
from mla.queue import service as queue

log = logging.getLogger("mla.worker")
SCAN_BATCH = 1_000
RELAY_BATCH = 1_000


async def verify_audit_trails(ctx: dict[str, Any]) -> dict[str, Any]:
    """Recompute every audit chain against its last checkpoint; a broken one is logged as an error
    naming its first broken link."""
    state = await asyncio.to_thread(checkpoints.checkpoint_log(ctx["settings"]).read)
    async with ctx["sessionmaker"]() as session, session.begin():
        verdicts = await audit.verify_chains(session, checkpoints=state.heads)
    broken = [v for v in verdicts if not v.valid]
    for verdict in broken:
        log.error("audit chain %s broken at seq %s: %s", verdict.chain, verdict.first_broken_seq, verdict.problem)
    return {"chains": len(verdicts), "broken": len(broken)}


async def checkpoint_audit_trails(ctx: dict[str, Any]) -> dict[str, Any]:
    """Sign the head of every audit chain that changed; a chain that cannot be signed is an error naming it."""
    async with ctx["sessionmaker"]() as session, session.begin():
        report = await checkpoints.write_checkpoint(session, ctx["clock"], ctx["checkpoints"])
    for verdict in [*report.refused, *report.vanished]:
        log.error("audit chain %s not checkpointed: %s", verdict.chain, verdict.problem)
    return {"signed": report.signed, "refused": len(report.refused), "vanished": len(report.vanished)}


async def scan_alerts(ctx: dict[str, Any]) -> dict[str, int]:
    """Decide every due alert stage, batch by batch, each batch in its own transaction; after each batch
    that wrote deliveries, publish what is due, so the first alerts leave while later ones are decided.
    """
    totals = {"alerts": 0, "lapsed": 0, "deliveries": 0, "published": 0}
    while True:
        async with ctx["sessionmaker"]() as session, session.begin():
            report = await scan_due_alerts(session, ctx["clock"], batch=SCAN_BATCH)
        for key in ("alerts", "lapsed", "deliveries"):
            totals[key] += getattr(report, key)
        if report.deliveries:
            totals["published"] += (await relay_deliveries(ctx))["published"]
        if report.claimed < SCAN_BATCH:  # nothing more was due
            return totals


async def relay_deliveries(ctx: dict[str, Any]) -> dict[str, int]:
    """Publish every due e-mail and webhook delivery in `deliver_alerts` jobs, batch by batch.

    Each batch is its own transaction: a Redis error rolls back only that batch, which the next
    run claims again, and fails the job (arq logs it).
    """
    published = 0
    while True:
        async with ctx["sessionmaker"]() as session, session.begin():
            count = await delivery.publish_due_deliveries(
                session, ctx["clock"], ctx["redis"], ctx["settings"].queue_name, batch=RELAY_BATCH
            )
        published += count
        if count < RELAY_BATCH:
            return {"published": published}


async def deliver_alerts(ctx: dict[str, Any], delivery_ids: list[str]) -> dict[str, int]:
    """Send a batch of deliveries; failures are recorded on their rows and retried by the relay, never by arq.

    Returns how many deliveries had each outcome (sent, retry, failed, skipped).
    """
    outcomes = await delivery.deliver_batch(
        ctx["sessionmaker"], ctx["clock"], ctx["settings"], [uuid.UUID(i) for i in delivery_ids], ctx["tls"]
    )
    return dict(Counter(outcome.value for outcome in outcomes.values()))


async def refresh_metrics(ctx: dict[str, Any]) -> dict[str, int]:
    """Count open deadlines and deliveries for /metrics, so that a scrape reads Redis, not the tables."""
    now = ctx["clock"].now()
    async with ctx["sessionmaker"]() as session, session.begin():
        gauges = await metrics.count_gauges(session, now)
    await metrics.store_gauges(ctx["redis"], ctx["settings"].queue_name, gauges, now)
    return gauges


async def advance_queue_counts(ctx: dict[str, Any]) -> None:
    """Move the queue counts' mark to now, so a queue read corrects them for a minute at most."""
    async with ctx["sessionmaker"]() as session, session.begin():
        await queue.advance_counts(session, ctx["clock"])
