"""Delivering alerts: e-mail over SMTP, signed webhooks, retries in PostgreSQL, the outbox relay.

These tests run the relay, which claims every due delivery of the database, so they use a
database of their own (real migrations, its own app and world): other tests' deliveries are
never claimed here, and theirs never see these. Each test gets its own arq queue name.
"""

import asyncio
import json
import ssl
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import job_key_prefix
from arq.jobs import deserialize_job
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import update

from mla.alerts.delivery import (
    ATTEMPT_LEASE,
    MAIL_CONNECTIONS,
    MAX_ATTEMPTS,
    SEND_BATCH,
    WEBHOOK_NOT_DELIVERED,
    Outcome,
    deliver_batch,
    publish_due_deliveries,
)
from mla.alerts.models import Delivery, Webhook
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
    free_port,
    load_delivery,
    own_outbox,
    smtp_sink,
)
from tests.conftest import Servers
from tests.factories import Org
from workers import jobs
from workers.settings import build_worker

SECRET = "receiver-shared-secret-0123456789"
WORKER_TIMEOUT = 60  # seconds; a worker that hangs fails the test instead of the run


@pytest.fixture(scope="module")
async def outbox(servers: Servers, clock: FixedClock) -> AsyncIterator[Outbox]:
    async with own_outbox(servers, clock) as own:
        yield own


@pytest.fixture(autouse=True)
async def no_pending_leftovers(outbox: Outbox) -> AsyncIterator[None]:
    """A test's unfinished deliveries must not be claimed by the next test's relay."""
    yield
    async with outbox.sessionmaker() as session, session.begin():
        await session.execute(
            update(Delivery).where(Delivery.status == "pending").values(status="failed", last_error="test teardown")
        )


@pytest.fixture
def queue_name() -> str:
    return f"mla:test:deliveries:{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def redis(outbox: Outbox, queue_name: str) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(RedisSettings.from_dsn(outbox.settings.redis_url or ""), default_queue_name=queue_name)
    yield pool
    await pool.delete(queue_name)
    await pool.aclose()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with smtp_sink() as sink:
        yield sink


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    server = WebhookReceiver(secret=SECRET)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def tls() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def with_smtp(settings: Settings, sink: SmtpSink) -> Settings:
    return msgspec.structs.replace(settings, smtp_host="127.0.0.1", smtp_port=sink.port, smtp_sender="alerts@mla.test")


@dataclass
class Arranged:
    org: Org
    request: dict[str, Any]
    alert_id: uuid.UUID


async def arranged_alert(outbox: Outbox) -> Arranged:
    world = outbox.world
    org = await world.organisation()
    request = await world.request(org, await world.case(org), await world.counterparty())
    return Arranged(org, request, await arrange_alert(outbox.sessionmaker, world.clock, request["id"]))


async def registered_webhook(outbox: Outbox, org: Org, url: str, secret: str = SECRET) -> uuid.UUID:
    response = await outbox.client.post(
        "/api/v1/admin/webhooks",
        json={"url": url, "secret": secret, "organisation_id": str(org.id)},
        headers=org.headers(Role.ADMIN),
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def delivery_to(
    outbox: Outbox, webhook_id: uuid.UUID, alert_id: uuid.UUID, payload: str = '{"event": "deadline_alert"}'
) -> uuid.UUID:
    return await add_delivery(
        outbox.sessionmaker,
        outbox.world.clock,
        alert_id,
        channel="webhook",
        recipient=str(webhook_id),
        webhook_id=webhook_id,
        body=payload,
    )


async def webhook_delivery(outbox: Outbox, receiver: WebhookReceiver) -> tuple[Arranged, uuid.UUID]:
    arranged = await arranged_alert(outbox)
    webhook_id = await registered_webhook(outbox, arranged.org, receiver.url)
    payload = json.dumps({"event": "deadline_alert", "stage": "overdue", "alert_id": str(arranged.alert_id)})
    return arranged, await delivery_to(outbox, webhook_id, arranged.alert_id, payload)


async def run_deliver(
    outbox: Outbox, clock: FixedClock, settings: Settings, delivery_id: uuid.UUID, tls: ssl.SSLContext
) -> Outcome:
    [outcome] = (await deliver_batch(outbox.sessionmaker, clock, settings, [delivery_id], tls)).values()
    return outcome


async def run_publish(outbox: Outbox, clock: FixedClock, redis: ArqRedis, queue_name: str) -> int:
    async with outbox.sessionmaker() as session, session.begin():
        return await publish_due_deliveries(session, clock, redis, queue_name)


async def queued_deliveries(redis: ArqRedis, queue_name: str) -> list[str]:
    """The delivery ids the queued `deliver_alerts` jobs carry, job after job."""
    carried = []
    for job_id in await redis.zrange(queue_name, 0, -1):
        job = deserialize_job(await redis.get(job_key_prefix + job_id.decode()))
        assert job.function == "deliver_alerts"
        [delivery_ids] = job.args
        carried.extend(delivery_ids)
    return carried


async def lose_queued_jobs(redis: ArqRedis, queue_name: str) -> None:
    """What a Redis flush does to the queue."""
    for job_id in await redis.zrange(queue_name, 0, -1):
        await redis.delete(job_key_prefix + job_id.decode())
    await redis.delete(queue_name)


async def admin_deliveries(outbox: Outbox, org: Org, status: str) -> dict[str, dict[str, Any]]:
    """Every delivery the admin API lists with `status`, following the cursor to the end."""
    found: dict[str, dict[str, Any]] = {}
    cursor: str | None = None
    for _ in range(100):
        params: dict[str, Any] = {"status": status, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await outbox.client.get("/api/v1/admin/deliveries", params=params, headers=org.headers(Role.ADMIN))
        assert response.status_code == 200, response.text
        page = response.json()
        found.update({item["id"]: item for item in page["items"]})
        cursor = page["next_cursor"]
        if cursor is None:
            return found
    raise AssertionError("the pagination never ended")


# --------------------------------------------------------------------------- channels


async def test_an_email_delivery_reaches_the_smtp_server_with_its_subject_and_body(
    outbox: Outbox, clock: FixedClock, smtp: SmtpSink, tls: ssl.SSLContext
) -> None:
    arranged = await arranged_alert(outbox)
    delivery_id = await add_delivery(
        outbox.sessionmaker,
        clock,
        arranged.alert_id,
        channel="email",
        recipient="prosecutor@example.org",
        subject="Overdue: MLA-2026-000042 — EPOC response",
        body="EPOC response for request MLA-2026-000042 is overdue.\nLegal source: Reg. 2023/1543 art 10",
    )

    outcome = await run_deliver(outbox, clock, with_smtp(outbox.settings, smtp), delivery_id, tls)

    assert outcome == Outcome.SENT
    [message] = smtp.messages
    assert message["To"] == "prosecutor@example.org"
    assert message["From"] == "alerts@mla.test"
    assert message["Subject"] == "Overdue: MLA-2026-000042 — EPOC response"
    assert message.get_content().replace("\r\n", "\n").strip() == (
        "EPOC response for request MLA-2026-000042 is overdue.\nLegal source: Reg. 2023/1543 art 10"
    )
    assert str(delivery_id) in message["Message-ID"]
    delivery = await load_delivery(outbox.sessionmaker, delivery_id)
    assert (delivery.status, delivery.attempts, delivery.delivered_at) == ("sent", 1, clock.now())


async def test_an_unreachable_smtp_server_schedules_a_retry_a_minute_later(
    outbox: Outbox, clock: FixedClock, tls: ssl.SSLContext
) -> None:
    arranged = await arranged_alert(outbox)
    delivery_id = await add_delivery(
        outbox.sessionmaker, clock, arranged.alert_id, channel="email", recipient="prosecutor@example.org"
    )
    nobody_listens = msgspec.structs.replace(outbox.settings, smtp_host="127.0.0.1", smtp_port=free_port())

    outcome = await run_deliver(outbox, clock, nobody_listens, delivery_id, tls)

    assert outcome == Outcome.RETRY
    delivery = await load_delivery(outbox.sessionmaker, delivery_id)
    assert (delivery.status, delivery.attempts, delivery.published_at) == ("pending", 1, None)
    assert delivery.next_attempt_at == clock.now() + timedelta(minutes=1)
    assert delivery.last_error and delivery.last_error.startswith("SMTP:")


async def test_a_webhook_is_posted_signed_with_its_secret_and_an_idempotency_key(
    outbox: Outbox, clock: FixedClock, receiver: WebhookReceiver, tls: ssl.SSLContext
) -> None:
    arranged, delivery_id = await webhook_delivery(outbox, receiver)

    outcome = await run_deliver(outbox, clock, outbox.settings, delivery_id, tls)

    assert outcome == Outcome.SENT
    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/hooks/mla")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["idempotency-key"] == str(delivery_id)
    assert request.headers["x-mla-timestamp"] == str(int(clock.now().timestamp()))
    assert json.loads(request.body)["alert_id"] == str(arranged.alert_id)
    assert receiver.signature_is_valid(request)
    impostor = WebhookReceiver(secret="not-the-shared-secret-at-all")
    assert not impostor.signature_is_valid(request)
    delivery = await load_delivery(outbox.sessionmaker, delivery_id)
    assert (delivery.status, delivery.attempts) == ("sent", 1)


async def test_a_deactivated_webhook_is_not_called_and_its_delivery_fails(
    outbox: Outbox, clock: FixedClock, receiver: WebhookReceiver, tls: ssl.SSLContext
) -> None:
    arranged, delivery_id = await webhook_delivery(outbox, receiver)
    delivery = await load_delivery(outbox.sessionmaker, delivery_id)
    response = await outbox.client.post(
        f"/api/v1/admin/webhooks/{delivery.webhook_id}/deactivate", headers=arranged.org.headers(Role.ADMIN)
    )
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False

    outcome = await run_deliver(outbox, clock, outbox.settings, delivery_id, tls)

    assert outcome == Outcome.FAILED
    assert receiver.requests == []
    delivery = await load_delivery(outbox.sessionmaker, delivery_id)
    assert delivery.status == "failed"
    assert delivery.last_error is not None and "deactivated" in delivery.last_error


# --------------------------------------------------------------------------- targets


async def stored_webhook(outbox: Outbox, org: Org, url: str) -> uuid.UUID:
    """A webhook row as it might be left by an earlier registration (no check at creation)."""
    webhook = Webhook(
        id=uuid.uuid4(),
        organisation_id=org.id,
        url=url,
        secret=SECRET,
        active=True,
        created_at=outbox.world.clock.now(),
    )
    async with outbox.sessionmaker() as session, session.begin():
        session.add(webhook)
    return webhook.id


async def stored_delivery(outbox: Outbox, org: Org, url: str) -> tuple[uuid.UUID, uuid.UUID]:
    """A webhook stored without the registration's check, and a delivery due to it: (webhook, delivery)."""
    webhook_id = await stored_webhook(outbox, org, url)
    return webhook_id, await delivery_to(outbox, webhook_id, (await arranged_alert(outbox)).alert_id)


def allowing(settings: Settings, networks: str) -> Settings:
    return msgspec.structs.replace(settings, webhook_allowed_networks=networks)


async def test_a_webhook_whose_address_is_no_longer_allowed_is_not_called(
    outbox: Outbox, clock: FixedClock, receiver: WebhookReceiver, tls: ssl.SSLContext
) -> None:
    _, delivery_id = await webhook_delivery(outbox, receiver)  # registered while 127.0.0.0/8 was allowed

    outcome = await run_deliver(outbox, clock, allowing(outbox.settings, ""), delivery_id, tls)

    assert outcome == Outcome.RETRY
    assert receiver.requests == []
    assert (await load_delivery(outbox.sessionmaker, delivery_id)).last_error == WEBHOOK_NOT_DELIVERED


async def test_a_name_is_resolved_at_every_delivery_and_the_checked_address_is_called_with_the_name(
    outbox: Outbox, clock: FixedClock, receiver: WebhookReceiver, tls: ssl.SSLContext
) -> None:
    org = await outbox.world.organisation()
    # "localhost" is a name the resolver answers (from /etc/hosts) with a loopback address.
    webhook_id, delivery_id = await stored_delivery(outbox, org, f"http://localhost:{receiver.port}/hooks/mla")

    refused = await run_deliver(outbox, clock, allowing(outbox.settings, ""), delivery_id, tls)
    clock.advance(timedelta(minutes=1))
    sent = await run_deliver(outbox, clock, allowing(outbox.settings, "127.0.0.0/8, ::1/128"), delivery_id, tls)

    assert (refused, sent) == (Outcome.RETRY, Outcome.SENT)
    [request] = receiver.requests
    assert request.headers["host"] == f"localhost:{receiver.port}"
    assert request.headers["x-mla-webhook-id"] == str(webhook_id)
    assert receiver.signature_is_valid(request)


async def test_every_failed_webhook_attempt_reads_the_same_whatever_the_network_said(
    outbox: Outbox, clock: FixedClock, smtp: SmtpSink, tls: ssl.SSLContext
) -> None:
    """No port scanner: refused, unresolvable, closed, non-HTTP, redirecting and failing receivers
    leave the same error, the same status and the same next attempt."""
    org = await outbox.world.organisation()
    failing, redirecting, target = (WebhookReceiver(secret=SECRET) for _ in range(3))
    for server in (failing, redirecting, target):
        await server.start()
    failing.failures = 1
    redirecting.redirect_to = target.url  # an allowed receiver, yet the redirect is not followed
    urls = {
        "refused address": "http://10.0.0.1/hooks/mla",
        "unresolvable name": "http://nowhere.invalid/hooks/mla",
        "closed port": f"http://127.0.0.1:{free_port()}/hooks/mla",
        "not HTTP": f"http://127.0.0.1:{smtp.port}/hooks/mla",
        "HTTP 500": failing.url,
        "redirect": redirecting.url,
    }
    try:
        deliveries = {cause: (await stored_delivery(outbox, org, url))[1] for cause, url in urls.items()}
        outcomes = {cause: await run_deliver(outbox, clock, outbox.settings, d, tls) for cause, d in deliveries.items()}
    finally:
        for server in (failing, redirecting, target):
            await server.stop()

    assert set(outcomes.values()) == {Outcome.RETRY}
    assert len(failing.requests) == len(redirecting.requests) == 1 and target.requests == []
    listed = await admin_deliveries(outbox, org, "pending")
    shown = {(listed[str(d)]["last_error"], listed[str(d)]["next_attempt_at"]) for d in deliveries.values()}
    assert shown == {(WEBHOOK_NOT_DELIVERED, (clock.now() + timedelta(minutes=1)).isoformat().replace("+00:00", "Z"))}


# --------------------------------------------------------------------------- retries


async def test_a_webhook_failing_twice_is_retried_with_backoff_then_sent(
    outbox: Outbox,
    clock: FixedClock,
    receiver: WebhookReceiver,
    tls: ssl.SSLContext,
    redis: ArqRedis,
    queue_name: str,
) -> None:
    arranged, delivery_id = await webhook_delivery(outbox, receiver)
    receiver.failures = 2
    ctx = {"sessionmaker": outbox.sessionmaker, "clock": clock, "settings": outbox.settings, "tls": tls}

    # First attempt: published, run by the job, refused by the receiver.
    assert await run_publish(outbox, clock, redis, queue_name) == 1
    assert await queued_deliveries(redis, queue_name) == [str(delivery_id)]
    assert await jobs.deliver_alerts(ctx, [str(delivery_id)]) == {"retry": 1}
    delivery = await load_delivery(outbox.sessionmaker, delivery_id)
    assert (delivery.status, delivery.attempts, delivery.published_at) == ("pending", 1, None)
    assert delivery.next_attempt_at == clock.now() + timedelta(minutes=1)
    assert delivery.last_error == WEBHOOK_NOT_DELIVERED

    # Not due yet: the relay leaves it, and a stray job does not send early.
    clock.advance(timedelta(seconds=59))
    assert await run_publish(outbox, clock, redis, queue_name) == 0
    assert await jobs.deliver_alerts(ctx, [str(delivery_id)]) == {"skipped": 1}
    assert len(receiver.requests) == 1

    # Second attempt a minute after the first, third two minutes after the second.
    clock.advance(timedelta(seconds=1))
    assert await run_publish(outbox, clock, redis, queue_name) == 1
    assert await queued_deliveries(redis, queue_name) == [str(delivery_id)] * 2  # the first job's, and this one
    assert await jobs.deliver_alerts(ctx, [str(delivery_id)]) == {"retry": 1}
    delivery = await load_delivery(outbox.sessionmaker, delivery_id)
    assert delivery.next_attempt_at == clock.now() + timedelta(minutes=2)

    clock.advance(timedelta(minutes=2))
    assert await run_publish(outbox, clock, redis, queue_name) == 1
    assert await jobs.deliver_alerts(ctx, [str(delivery_id)]) == {"sent": 1}

    assert len(receiver.requests) == 3
    assert {r.headers["idempotency-key"] for r in receiver.requests} == {str(delivery_id)}
    assert all(receiver.signature_is_valid(r) for r in receiver.requests)
    listed = (await admin_deliveries(outbox, arranged.org, "sent"))[str(delivery_id)]
    assert listed["attempts"] == 3
    assert listed["channel"] == "webhook"
    assert listed["stage"] == "overdue"
    assert listed["delivered_at"] is not None
    assert str(delivery_id) not in await admin_deliveries(outbox, arranged.org, "pending")


async def test_a_delivery_failing_every_attempt_is_failed_after_max_attempts_and_listed(
    outbox: Outbox, clock: FixedClock, receiver: WebhookReceiver, tls: ssl.SSLContext
) -> None:
    arranged, delivery_id = await webhook_delivery(outbox, receiver)
    receiver.failures = 1_000
    waits = []

    for attempt in range(1, MAX_ATTEMPTS + 1):
        outcome = await run_deliver(outbox, clock, outbox.settings, delivery_id, tls)
        delivery = await load_delivery(outbox.sessionmaker, delivery_id)
        assert delivery.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert outcome == Outcome.RETRY
            waits.append(delivery.next_attempt_at - clock.now())
            clock.set(delivery.next_attempt_at)

    assert outcome == Outcome.FAILED
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60)]
    assert len(receiver.requests) == MAX_ATTEMPTS
    # Failed for good: no further attempt, however late.
    clock.advance(timedelta(days=1))
    assert await run_deliver(outbox, clock, outbox.settings, delivery_id, tls) == Outcome.SKIPPED
    assert len(receiver.requests) == MAX_ATTEMPTS
    listed = (await admin_deliveries(outbox, arranged.org, "failed"))[str(delivery_id)]
    assert listed["attempts"] == MAX_ATTEMPTS
    assert listed["last_error"] == WEBHOOK_NOT_DELIVERED
    assert listed["recipient"] == str(delivery.webhook_id)
    assert SECRET not in json.dumps(listed)


# --------------------------------------------------------------------------- at most one send


async def test_a_delivery_job_run_twice_sends_once(
    outbox: Outbox, clock: FixedClock, receiver: WebhookReceiver, tls: ssl.SSLContext
) -> None:
    _, delivery_id = await webhook_delivery(outbox, receiver)

    first = await run_deliver(outbox, clock, outbox.settings, delivery_id, tls)
    second = await run_deliver(outbox, clock, outbox.settings, delivery_id, tls)

    assert (first, second) == (Outcome.SENT, Outcome.SKIPPED)
    assert len(receiver.requests) == 1
    assert (await load_delivery(outbox.sessionmaker, delivery_id)).attempts == 1


async def test_two_workers_delivering_the_same_row_at_once_send_once(
    outbox: Outbox, clock: FixedClock, smtp: SmtpSink, tls: ssl.SSLContext
) -> None:
    arranged = await arranged_alert(outbox)
    delivery_id = await add_delivery(
        outbox.sessionmaker, clock, arranged.alert_id, channel="email", recipient="supervisor@example.org"
    )
    settings = with_smtp(outbox.settings, smtp)

    outcomes = await asyncio.gather(*(run_deliver(outbox, clock, settings, delivery_id, tls) for _ in range(3)))

    assert sorted(outcomes) == sorted([Outcome.SENT, Outcome.SKIPPED, Outcome.SKIPPED])
    assert len(smtp.messages) == 1


async def test_an_attempt_is_counted_and_committed_before_it_is_sent(
    outbox: Outbox, clock: FixedClock, receiver: WebhookReceiver, tls: ssl.SSLContext
) -> None:
    """A worker that dies while the POST is out leaves the attempt counted, and the row leased."""
    _, delivery_id = await webhook_delivery(outbox, receiver)
    receiver.hold_first = True
    sending = asyncio.create_task(run_deliver(outbox, clock, outbox.settings, delivery_id, tls))
    try:
        await asyncio.wait_for(receiver.arrived.wait(), WORKER_TIMEOUT)  # the POST left and hangs there

        during = await load_delivery(outbox.sessionmaker, delivery_id)
        sending.cancel()  # the worker dies before the answer comes back
        with pytest.raises(asyncio.CancelledError):
            await sending
    finally:
        receiver.release.set()

    after = await load_delivery(outbox.sessionmaker, delivery_id)
    assert (during.status, during.attempts) == ("pending", 1)
    assert (after.status, after.attempts) == ("pending", 1)
    assert after.next_attempt_at == clock.now() + ATTEMPT_LEASE
    assert await run_deliver(outbox, clock, outbox.settings, delivery_id, tls) == Outcome.SKIPPED  # leased

    clock.set(after.next_attempt_at)
    assert await run_deliver(outbox, clock, outbox.settings, delivery_id, tls) == Outcome.SENT
    assert (await load_delivery(outbox.sessionmaker, delivery_id)).attempts == 2


async def test_a_sent_delivery_keeps_no_error_of_an_earlier_failed_attempt(
    outbox: Outbox, clock: FixedClock, receiver: WebhookReceiver, tls: ssl.SSLContext
) -> None:
    arranged, delivery_id = await webhook_delivery(outbox, receiver)
    receiver.failures = 1
    assert await run_deliver(outbox, clock, outbox.settings, delivery_id, tls) == Outcome.RETRY
    failed = await load_delivery(outbox.sessionmaker, delivery_id)
    assert failed.last_error == WEBHOOK_NOT_DELIVERED

    clock.set(failed.next_attempt_at)
    assert await run_deliver(outbox, clock, outbox.settings, delivery_id, tls) == Outcome.SENT

    listed = (await admin_deliveries(outbox, arranged.org, "sent"))[str(delivery_id)]
    assert (listed["attempts"], listed["last_error"]) == (2, None)


# --------------------------------------------------------------------------- the relay


async def test_the_relay_with_redis_down_publishes_nothing_and_publishes_once_redis_is_back(
    outbox: Outbox, clock: FixedClock, tmp_path: Path, queue_name: str
) -> None:
    arranged = await arranged_alert(outbox)
    delivery_id = await add_delivery(
        outbox.sessionmaker, clock, arranged.alert_id, channel="email", recipient="prosecutor@example.org"
    )
    url, stop = await asyncio.to_thread(start_embedded_redis, tmp_path)
    pool = await create_pool(RedisSettings.from_dsn(url))
    try:
        await asyncio.to_thread(stop)

        with pytest.raises((RedisConnectionError, OSError)):
            await run_publish(outbox, clock, pool, queue_name)
    finally:
        await pool.aclose()

    delivery = await load_delivery(outbox.sessionmaker, delivery_id)
    assert (delivery.status, delivery.published_at) == ("pending", None)

    url, stop = await asyncio.to_thread(start_embedded_redis, tmp_path)
    pool = await create_pool(RedisSettings.from_dsn(url))
    try:
        assert await run_publish(outbox, clock, pool, queue_name) == 1
        assert await queued_deliveries(pool, queue_name) == [str(delivery_id)]
    finally:
        await pool.aclose()
        await asyncio.to_thread(stop)
    assert (await load_delivery(outbox.sessionmaker, delivery_id)).published_at == clock.now()


async def test_a_delivery_whose_job_was_lost_is_published_again_after_five_minutes(
    outbox: Outbox, clock: FixedClock, redis: ArqRedis, queue_name: str
) -> None:
    arranged = await arranged_alert(outbox)
    delivery_id = await add_delivery(
        outbox.sessionmaker, clock, arranged.alert_id, channel="email", recipient="prosecutor@example.org"
    )
    assert await run_publish(outbox, clock, redis, queue_name) == 1
    published_at = clock.now()
    # The job is lost (Redis flushed, say); the row still says published.
    await lose_queued_jobs(redis, queue_name)

    clock.advance(timedelta(minutes=4))
    assert await run_publish(outbox, clock, redis, queue_name) == 0
    clock.advance(timedelta(minutes=2))
    assert await run_publish(outbox, clock, redis, queue_name) == 1

    assert await queued_deliveries(redis, queue_name) == [str(delivery_id)]
    delivery = await load_delivery(outbox.sessionmaker, delivery_id)
    assert delivery.published_at == published_at + timedelta(minutes=6)


async def test_a_burst_worker_relays_and_delivers_due_deliveries_end_to_end(
    outbox: Outbox, clock: FixedClock, smtp: SmtpSink, receiver: WebhookReceiver, queue_name: str
) -> None:
    arranged, webhook_delivery_id = await webhook_delivery(outbox, receiver)
    email_delivery_id = await add_delivery(
        outbox.sessionmaker, clock, arranged.alert_id, channel="email", recipient="prosecutor@example.org"
    )
    settings = msgspec.structs.replace(with_smtp(outbox.settings, smtp), queue_name=queue_name)
    worker = build_worker(settings, clock=clock, burst=True, handle_signals=False)
    try:
        await asyncio.wait_for(worker.async_run(), WORKER_TIMEOUT)
    finally:
        await worker.close()

    assert worker.jobs_failed == 0
    assert len(receiver.requests) == 1 and receiver.signature_is_valid(receiver.requests[0])
    assert [m["To"] for m in smtp.messages] == ["prosecutor@example.org"]
    for delivery_id in (webhook_delivery_id, email_delivery_id):
        delivery = await load_delivery(outbox.sessionmaker, delivery_id)
        assert (delivery.status, delivery.attempts, delivery.published_at) == ("sent", 1, clock.now())


# --------------------------------------------------------------------------- batches


async def email_deliveries(outbox: Outbox, count: int) -> list[uuid.UUID]:
    arranged = await arranged_alert(outbox)
    return [
        await add_delivery(
            outbox.sessionmaker, outbox.world.clock, arranged.alert_id, channel="email", recipient=f"p{n}@example.org"
        )
        for n in range(count)
    ]


async def test_one_batch_sends_every_delivery_and_records_each_outcome(
    outbox: Outbox, clock: FixedClock, smtp: SmtpSink, receiver: WebhookReceiver, tls: ssl.SSLContext
) -> None:
    _, webhook_delivery_id = await webhook_delivery(outbox, receiver)
    failing_id = (await stored_delivery(outbox, (await arranged_alert(outbox)).org, "http://10.0.0.1/hooks/mla"))[1]
    emails = await email_deliveries(outbox, 3)
    batch = [webhook_delivery_id, failing_id, *emails, uuid.uuid4()]  # and one that does not exist

    outcomes = await deliver_batch(outbox.sessionmaker, clock, with_smtp(outbox.settings, smtp), batch, tls)

    assert outcomes == {
        webhook_delivery_id: Outcome.SENT,
        failing_id: Outcome.RETRY,
        **dict.fromkeys(emails, Outcome.SENT),
        batch[-1]: Outcome.SKIPPED,
    }
    assert len(receiver.requests) == 1 and receiver.signature_is_valid(receiver.requests[0])
    assert sorted(m["To"] for m in smtp.messages) == ["p0@example.org", "p1@example.org", "p2@example.org"]
    rows = [await load_delivery(outbox.sessionmaker, d) for d in batch[:-1]]
    assert [(d.status, d.attempts, d.last_error) for d in rows] == [
        ("sent", 1, None),
        ("pending", 1, WEBHOOK_NOT_DELIVERED),
        *[("sent", 1, None)] * 3,
    ]
    assert rows[1].next_attempt_at == clock.now() + timedelta(minutes=1)


async def test_a_batch_sends_its_emails_over_a_few_smtp_connections_each_carrying_several(
    outbox: Outbox, clock: FixedClock, smtp: SmtpSink, tls: ssl.SSLContext
) -> None:
    deliveries = await email_deliveries(outbox, 3 * MAIL_CONNECTIONS)

    outcomes = await deliver_batch(outbox.sessionmaker, clock, with_smtp(outbox.settings, smtp), deliveries, tls)

    assert set(outcomes.values()) == {Outcome.SENT}
    assert sorted(m["To"] for m in smtp.messages) == sorted(f"p{n}@example.org" for n in range(3 * MAIL_CONNECTIONS))
    assert smtp.connections() <= MAIL_CONNECTIONS


async def test_the_relay_publishes_a_job_per_batch_each_delivery_in_one_job(
    outbox: Outbox, clock: FixedClock, redis: ArqRedis, queue_name: str
) -> None:
    deliveries = await email_deliveries(outbox, SEND_BATCH + 1)

    assert await run_publish(outbox, clock, redis, queue_name) == SEND_BATCH + 1

    carried = await queued_deliveries(redis, queue_name)
    assert sorted(carried) == sorted(str(d) for d in deliveries)  # each once
    assert await redis.zcard(queue_name) == 2


async def test_two_batches_naming_the_same_deliveries_at_once_send_each_once(
    outbox: Outbox, clock: FixedClock, smtp: SmtpSink, tls: ssl.SSLContext
) -> None:
    """A republished row may sit in two jobs (its first job was only late): whichever leases it first sends it."""
    first, shared, last = await email_deliveries(outbox, 3)
    settings = with_smtp(outbox.settings, smtp)

    one, other = await asyncio.gather(
        deliver_batch(outbox.sessionmaker, clock, settings, [first, shared], tls),
        deliver_batch(outbox.sessionmaker, clock, settings, [shared, last], tls),
    )

    assert sorted([one[shared], other[shared]]) == sorted([Outcome.SENT, Outcome.SKIPPED])
    assert (one[first], other[last]) == (Outcome.SENT, Outcome.SENT)
    assert sorted(m["To"] for m in smtp.messages) == ["p0@example.org", "p1@example.org", "p2@example.org"]
    assert {(await load_delivery(outbox.sessionmaker, d)).attempts for d in (first, shared, last)} == {1}


async def test_a_batch_job_run_twice_sends_nothing_the_second_time(
    outbox: Outbox, clock: FixedClock, smtp: SmtpSink, tls: ssl.SSLContext
) -> None:
    deliveries = await email_deliveries(outbox, 2)
    ctx = {"sessionmaker": outbox.sessionmaker, "clock": clock, "settings": with_smtp(outbox.settings, smtp)}
    ctx["tls"] = tls

    first = await jobs.deliver_alerts(ctx, [str(d) for d in deliveries])
    again = await jobs.deliver_alerts(ctx, [str(d) for d in deliveries])

    assert (first, again) == ({"sent": 2}, {"skipped": 2})
    assert len(smtp.messages) == 2


async def test_a_delivery_whose_last_attempt_was_cut_off_fails_without_another_send(
    outbox: Outbox, clock: FixedClock, receiver: WebhookReceiver, tls: ssl.SSLContext
) -> None:
    _, delivery_id = await webhook_delivery(outbox, receiver)
    async with outbox.sessionmaker() as session, session.begin():  # as a worker killed during the last attempt
        await session.execute(update(Delivery).where(Delivery.id == delivery_id).values(attempts=MAX_ATTEMPTS))

    outcome = await run_deliver(outbox, clock, outbox.settings, delivery_id, tls)

    assert outcome == Outcome.FAILED
    assert receiver.requests == []
    delivery = await load_delivery(outbox.sessionmaker, delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", MAX_ATTEMPTS, WEBHOOK_NOT_DELIVERED)


async def test_an_attempt_that_outlived_its_lease_leaves_the_row_to_the_attempt_that_took_it_over(
    outbox: Outbox, clock: FixedClock, receiver: WebhookReceiver, tls: ssl.SSLContext
) -> None:
    _, delivery_id = await webhook_delivery(outbox, receiver)
    receiver.hold_first = True
    slow = asyncio.create_task(run_deliver(outbox, clock, outbox.settings, delivery_id, tls))
    try:
        await asyncio.wait_for(receiver.arrived.wait(), WORKER_TIMEOUT)
        clock.advance(ATTEMPT_LEASE)  # the lease ran out: the relay republished it, another job takes it
        taken_over = await run_deliver(outbox, clock, outbox.settings, delivery_id, tls)
    finally:
        receiver.release.set()
    late = await slow

    assert (taken_over, late) == (Outcome.SENT, Outcome.SKIPPED)
    delivery = await load_delivery(outbox.sessionmaker, delivery_id)
    assert (delivery.status, delivery.attempts) == ("sent", 2)
