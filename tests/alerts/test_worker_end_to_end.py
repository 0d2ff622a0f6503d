"""The worker end to end: burst runs at a given instant, Redis outages, a worker killed mid-delivery.

Runs on a database of its own (see tests/alerts/support.py): the scan and the relay claim every due
row of their database.
"""

import asyncio
import inspect
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import in_progress_key_prefix
from redis.asyncio import ConnectionPool
from sqlalchemy import select

from mla.alerts.models import Delivery
from mla.clock import FixedClock
from mla.embedded import start_embedded_redis
from mla.enums import Role
from mla.settings import Settings
from tests.alerts.support import (
    Outbox,
    SmtpSink,
    WebhookReceiver,
    add_delivery,
    arrange_alert,
    own_outbox,
    smtp_sink,
)
from tests.conftest import Servers
from tests.factories import EMERGENCY, Org
from workers import jobs
from workers.settings import build_worker

SECRET = "receiver-shared-secret-0123456789"
LIMIT = 60  # seconds: a hung worker fails the test instead of the run


@pytest.fixture(scope="module")
async def outbox(servers: Servers, clock: FixedClock) -> AsyncIterator[Outbox]:
    async with own_outbox(servers, clock) as own:
        yield own


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with smtp_sink() as sink:
        yield sink


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    server = WebhookReceiver(secret=SECRET)
    await server.start()
    yield server
    server.release.set()
    await server.stop()


def worker_settings(outbox: Outbox, smtp: SmtpSink, **overrides: Any) -> Settings:
    return msgspec.structs.replace(
        outbox.settings,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_sender="alerts@mla.test",
        queue_name=f"mla:test:e2e:{uuid.uuid4().hex[:8]}",
        **overrides,
    )


async def burst(settings: Settings, at: datetime) -> None:
    """`mla worker --burst --now <at>`: everything due as of `at`, once."""
    worker = build_worker(settings, clock=FixedClock(at), burst=True, handle_signals=False)
    try:
        await asyncio.wait_for(worker.main(), LIMIT)
    finally:
        await worker.close()


async def register_webhook(outbox: Outbox, org: Org, url: str) -> None:
    response = await outbox.client.post(
        "/api/v1/admin/webhooks",
        json={"url": url, "secret": SECRET, "organisation_id": str(org.id)},
        headers=org.headers(Role.ADMIN),
    )
    assert response.status_code == 201, response.text


async def notifications(outbox: Outbox, org: Org, role: Role) -> list[dict[str, Any]]:
    response = await outbox.client.get("/api/v1/notifications", headers=org.headers(role))
    assert response.status_code == 200, response.text
    return response.json()["items"]


def mail_to(smtp: SmtpSink, address: str) -> list[Any]:
    return [message for message in smtp.messages if message["To"] == address]


async def test_an_emergency_epoc_overdue_at_nine_hours_alerts_once_then_escalates(
    outbox: Outbox, smtp: SmtpSink, receiver: WebhookReceiver, clock: FixedClock
) -> None:
    world = outbox.world
    prosecution, authority, request = await world.transmitted(**EMERGENCY)
    await register_webhook(outbox, prosecution, receiver.url)
    transmitted_at = clock.now()
    settings = worker_settings(outbox, smtp)
    prosecutor = prosecution.members[Role.PROSECUTOR]

    await burst(settings, transmitted_at + timedelta(hours=9))

    [overdue] = await notifications(outbox, prosecution, Role.PROSECUTOR)
    assert overdue["stage"] == "overdue" and request["reference"] in overdue["title"]
    assert len(mail_to(smtp, prosecutor.email)) == 1
    [hook] = receiver.requests
    assert receiver.signature_is_valid(hook) and b'"stage": "overdue"' in hook.body

    await burst(settings, transmitted_at + timedelta(hours=9))

    assert len(await notifications(outbox, prosecution, Role.PROSECUTOR)) == 1
    assert len(mail_to(smtp, prosecutor.email)) == 1 and len(receiver.requests) == 1

    await burst(settings, transmitted_at + timedelta(days=8))

    supervisor = authority.members[Role.SUPERVISOR]
    assert "escalation" in {n["stage"] for n in await notifications(outbox, authority, Role.SUPERVISOR)}
    assert mail_to(smtp, supervisor.email)
    clock.set(transmitted_at + timedelta(days=8))
    queue = await outbox.client.get("/api/v1/queue", headers=authority.headers(Role.CENTRAL_AUTHORITY))
    assert queue.json()["items"][0]["id"] == request["id"]
    assert queue.json()["counts"]["overdue"] == 1


async def test_with_redis_down_the_request_is_saved_and_the_alert_leaves_once_redis_is_back(
    outbox: Outbox, smtp: SmtpSink, clock: FixedClock, tmp_path: Path
) -> None:
    redis_url, stop_redis = start_embedded_redis(tmp_path)
    settings = worker_settings(outbox, smtp, redis_url=redis_url)
    world = outbox.world
    stop_redis()  # Redis is down from here on

    prosecution, _, request = await world.transmitted(**EMERGENCY)  # the API never needs Redis
    due = clock.now() + timedelta(hours=9)
    ctx = await worker_context(settings, due)
    try:
        with pytest.raises(Exception, match="(?i)connect|refused|closed"):
            await jobs.scan_alerts(ctx)  # decided and committed; publishing fails
    finally:
        await close_context(ctx)
    async with outbox.sessionmaker() as session:
        pending = list(
            await session.scalars(
                select(Delivery).where(Delivery.recipient == prosecution.members[Role.PROSECUTOR].email)
            )
        )
    assert [(d.status, d.published_at) for d in pending] == [("pending", None)]
    assert mail_to(smtp, prosecution.members[Role.PROSECUTOR].email) == []

    redis_url, stop_redis = start_embedded_redis(tmp_path)
    try:
        await burst(msgspec.structs.replace(settings, redis_url=redis_url), due)
    finally:
        stop_redis()

    assert len(mail_to(smtp, prosecution.members[Role.PROSECUTOR].email)) == 1
    current = await outbox.client.get(f"/api/v1/requests/{request['id']}", headers=prosecution.headers())
    assert current.json()["status"] == "transmitted"


async def test_a_worker_killed_mid_delivery_is_delivered_after_restart_with_one_idempotency_key(
    outbox: Outbox, smtp: SmtpSink, receiver: WebhookReceiver, clock: FixedClock
) -> None:
    world = outbox.world
    org = await world.organisation()
    request = await world.request(org, await world.case(org), await world.counterparty())
    await register_webhook(outbox, org, receiver.url)
    async with outbox.sessionmaker() as session:
        webhook_id = (await outbox.client.get("/api/v1/admin/webhooks", headers=org.headers(Role.ADMIN))).json()[
            "items"
        ][0]["id"]
    alert_id = await arrange_alert(outbox.sessionmaker, clock, request["id"])
    delivery_id = await add_delivery(
        outbox.sessionmaker,
        clock,
        alert_id,
        channel="webhook",
        recipient=webhook_id,
        webhook_id=uuid.UUID(webhook_id),
        body='{"event": "deadline_alert"}',
    )
    settings = worker_settings(outbox, smtp)
    receiver.hold_first = True
    worker = start_worker_process(settings)
    try:
        ctx = await worker_context(settings, clock.now())
        try:
            await jobs.relay_deliveries(ctx)  # claimed: published as a job
        finally:
            await close_context(ctx)
        await until(lambda: len(receiver.requests) == 1)  # the worker is sending, the receiver hangs
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(LIMIT)
    receiver.release.set()
    await expire_in_progress_keys(settings)  # what arq does job_timeout + 10 s after a hard kill
    async with outbox.sessionmaker() as session:
        cut_off = await session.get_one(Delivery, delivery_id)
    assert (cut_off.status, cut_off.attempts) == ("pending", 1)  # the POST left: the attempt shows

    await burst(settings, cut_off.next_attempt_at)  # once the killed attempt's lease has run out

    async with outbox.sessionmaker() as session:
        delivery = await session.get_one(Delivery, delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, None)
    assert len(receiver.requests) == 2  # the first send was never acknowledged ...
    assert receiver.distinct_deliveries() == {str(delivery_id)}  # ... and carried the same key


def start_worker_process(settings: Settings) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "MLA_DATABASE_URL": settings.database_url or "",
        "MLA_REDIS_URL": settings.redis_url or "",
        "MLA_AUDIT_KEYS": settings.audit_keys,
        "MLA_QUEUE_NAME": settings.queue_name,
        "MLA_SMTP_HOST": settings.smtp_host,
        "MLA_SMTP_PORT": str(settings.smtp_port),
        "MLA_WEBHOOK_ALLOWED_NETWORKS": settings.webhook_allowed_networks,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "mla", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def worker_context(settings: Settings, at: datetime) -> dict[str, Any]:
    """The context arq gives a job, for calling one directly."""
    worker = build_worker(settings, clock=FixedClock(at), burst=True, handle_signals=False)
    # Built without connecting, as the worker's pool would be while Redis is down.
    ctx: dict[str, Any] = {"redis": ArqRedis(connection_pool=ConnectionPool.from_url(settings.redis_url or ""))}
    await worker.on_startup(ctx)  # type: ignore[misc]
    ctx["shutdown"] = worker.on_shutdown
    return ctx


async def close_context(ctx: dict[str, Any]) -> None:
    await ctx["shutdown"](ctx)
    await ctx["redis"].aclose()


async def expire_in_progress_keys(settings: Settings) -> None:
    """Only the keys of this test's queue's jobs: the Redis is shared with the other tests (and xdist
    workers) running now. A job cut off by a kill is still in its queue."""
    redis = await create_pool(RedisSettings.from_dsn(settings.redis_url or ""))
    try:
        for job_id in await redis.zrange(settings.queue_name, 0, -1):
            await redis.delete(in_progress_key_prefix + job_id.decode())
    finally:
        await redis.aclose()


async def until(condition: Any, limit_seconds: float = LIMIT) -> None:
    """Wait (bounded) until `condition()` holds; it may be a coroutine function."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_seconds
    while not await holds(condition):
        assert loop.time() < deadline, "timed out waiting for the worker"
        await asyncio.sleep(0.05)


async def test_a_long_running_worker_scans_and_publishes_an_alert_the_moment_it_is_due(
    outbox: Outbox, smtp: SmtpSink, clock: FixedClock
) -> None:
    """No minute tick involved: the worker's startup starts the alarm, which finds the alert due and
    decides and publishes it at once; its shutdown stops the alarm."""
    prosecution, _, _ = await outbox.world.transmitted(**EMERGENCY)
    settings = worker_settings(outbox, smtp)
    worker = build_worker(settings, clock=FixedClock(clock.now() + timedelta(hours=9)), handle_signals=False)
    ctx: dict[str, Any] = {"redis": ArqRedis(connection_pool=ConnectionPool.from_url(settings.redis_url or ""))}
    await worker.on_startup(ctx)  # type: ignore[misc]
    try:
        email = select(Delivery.published_at).where(Delivery.recipient == prosecution.members[Role.PROSECUTOR].email)

        async def published() -> bool:
            async with outbox.sessionmaker() as session:
                return (await session.scalar(email)) is not None

        await until(published)
    finally:
        await worker.on_shutdown(ctx)  # type: ignore[misc]
        await ctx["redis"].aclose()
    assert "alarm" not in ctx


async def holds(condition: Any) -> bool:
    result = condition()
    return bool(await result if inspect.isawaitable(result) else result)
