"""Delivering alerts: the outbox relay, the e-mail and webhook channels, and their signatures.

The alert scan writes each e-mail and webhook to send as a `Delivery` row in the transaction that
decides the alert (the outbox). From there:

1. `publish_due_deliveries` (the worker's `relay_deliveries` cron) claims pending rows that are due
   and not yet published (`FOR UPDATE SKIP LOCKED`, so any number of workers relay at once),
   enqueues one arq job `deliver_alert` per row with the job id `delivery:{id}:{attempts}` (the
   whole batch in one Redis pipeline, mla.alerts.relay), and
   marks the rows published in the same transaction. If Redis is down the enqueue raises, the
   transaction rolls back and nothing is marked: the next tick tries again. A row published long
   ago and still pending (its job was lost: Redis flushed, a worker died past arq's own retries)
   is published again.
2. `deliver` (the `deliver_alert` job) counts the attempt on the row and commits, leasing the row
   for `ATTEMPT_LEASE` (not due meanwhile), then sends it once and records the outcome in a second
   transaction. A row that is no longer pending, or not yet due, is left alone, so a job that arq
   runs twice never sends twice. The attempt is counted before anything leaves, so what
   administrators see is true: an attempt cut off by a crash after the POST left shows in
   `attempts`, and is retried once the lease runs out (the relay republishes the row); a sent row
   keeps no `last_error` of an earlier failure. A retried send may reach a receiver twice:
   webhooks carry an `Idempotency-Key` (the delivery id, the same on every attempt) and e-mails a
   `Message-ID` derived from it, so receivers can drop the duplicate.

Webhooks go only to allowed addresses (`mla.alerts.targets`): the host is resolved at every
attempt, every address checked, and the POST made to a checked address (with the name in the
`Host` header and TLS SNI), never following a redirect. Every failed webhook attempt, whatever its
cause (refused or unresolvable target, closed port, timeout, TLS or protocol error, a non-2xx
answer), is stored and shown as the same `WEBHOOK_NOT_DELIVERED` and retried alike: the
administrator chose the URL, and distinct errors would let them map the network from the
deliveries list. The cause goes to the worker's log, for operators.

Retries live in PostgreSQL, not in arq: a failed attempt counts in `attempts`, sets
`next_attempt_at` after an exponential backoff (1, 2, 4 ... minutes, at most 60) and clears
`published_at`, so the relay publishes it again when it is due; after `MAX_ATTEMPTS` the row is
`failed` for good, with its `last_error` visible to administrators. The jobs never raise
`Retry` and never defer, so `mla worker --burst` sends what is due and exits without waiting.
"""

import asyncio
import contextlib
import enum
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib
import httpx
from arq.connections import ArqRedis
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.alerts import targets
from mla.alerts.models import Alert, Delivery, Webhook
from mla.alerts.relay import QueuedJob, enqueue_jobs
from mla.alerts.schemas import DeliveryOut, DeliveryStatus
from mla.alerts.signature import signed_headers
from mla.clock import Clock
from mla.pagination import Page, keyset, page_of
from mla.settings import Settings
from mla.users.models import User

log = logging.getLogger("mla.alerts.delivery")

DELIVER_JOB = "deliver_alert"  # the arq job name (workers.jobs.deliver_alert)
MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(minutes=60)
# A published row still pending after this long lost its job; no job runs anywhere near this long.
REPUBLISH_AFTER = timedelta(minutes=5)
# While an attempt runs its row is not due; a job outlives this only if its worker died (job_timeout: 60 s).
ATTEMPT_LEASE = timedelta(minutes=5)
SEND_TIMEOUT_SECONDS = 10
MAX_ERROR_LENGTH = 300

PENDING = DeliveryStatus.PENDING.value
SENT = DeliveryStatus.SENT.value
FAILED = DeliveryStatus.FAILED.value

EMAIL = "email"
WEBHOOK = "webhook"
WEBHOOK_NOT_DELIVERED = "webhook: not delivered (no 2xx answer from an allowed receiver)"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Outcome(enum.StrEnum):
    """What one `deliver` call did."""

    SENT = "sent"
    RETRY = "retry"  # failed, another attempt is scheduled
    FAILED = "failed"  # failed for good
    SKIPPED = "skipped"  # not pending, not due or unknown: a duplicate or stale job


class SendFailed(Exception):
    """One attempt failed; the message is short and safe to show an administrator."""


class Undeliverable(SendFailed):
    """No attempt can succeed (deactivated webhook, unknown channel): fail without retrying."""


# --------------------------------------------------------------------------- signatures


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4 ... minutes, at most `MAX_BACKOFF`."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def delivery_job_id(delivery_id: uuid.UUID, attempts: int) -> str:
    """One job id per attempt: arq drops a second enqueue of the same attempt while the first exists."""
    return f"delivery:{delivery_id}:{attempts}"


# --------------------------------------------------------------------------- the relay


async def publish_due_deliveries(
    session: AsyncSession, clock: Clock, redis: ArqRedis, queue_name: str, batch: int = 200
) -> int:
    """Enqueue a `deliver_alert` job for up to `batch` due deliveries and mark them published.

    In the caller's transaction. Redis errors propagate: the caller's rollback then leaves every
    row unpublished, to be claimed again on the next run. Returns how many rows were published.
    """
    now = clock.now()
    lost = (
        select(Delivery.id)
        .where(
            Delivery.status == PENDING,
            Delivery.published_at.is_not(None),
            Delivery.published_at < now - REPUBLISH_AFTER,
        )
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    republished = (
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(lost))
            .values(published_at=None)
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    if republished:
        log.warning("publishing again %d deliveries whose jobs were lost", len(republished))

    # Matches the partial index ix_deliveries_to_publish: cost follows what is due.
    due = (
        select(Delivery.id, Delivery.attempts)
        .where(Delivery.status == PENDING, Delivery.published_at.is_(None), Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    rows = (await session.execute(due)).all()
    # One pipeline for the batch; a job id still queued or running is skipped: that job will do the work.
    jobs = [
        QueuedJob(delivery_job_id(delivery_id, attempts), DELIVER_JOB, (str(delivery_id),))
        for delivery_id, attempts in rows
    ]
    await enqueue_jobs(redis, queue_name, jobs)
    if rows:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_([delivery_id for delivery_id, _ in rows]))
            .values(published_at=now)
            .execution_options(synchronize_session=False)
        )
    return len(rows)


# --------------------------------------------------------------------------- sending


@dataclass(frozen=True)
class Attempt:
    """One attempt, counted and committed before anything is sent (rows read in its transaction)."""

    delivery: Delivery
    webhook: Webhook | None


async def deliver(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    settings: Settings,
    delivery_id: uuid.UUID,
    http: httpx.AsyncClient,
) -> Outcome:
    """Send one delivery and record the outcome on its row, in two transactions around the send.

    The first counts the attempt and commits before anything leaves, so an attempt cut off by a
    crash after the POST left still shows in `attempts`; it also leases the row (`next_attempt_at`
    moves `ATTEMPT_LEASE` ahead), so another job for it finds it not due and skips it. The second
    records the outcome: `sent` clears the error of an earlier failure. Does nothing (SKIPPED) for
    an unknown delivery, one no longer pending or one not yet due.
    """
    async with sessionmaker() as session, session.begin():
        attempt = await _start_attempt(session, clock, delivery_id)
    if not isinstance(attempt, Attempt):
        return attempt
    error = await _attempt(settings, attempt, clock.now(), http)
    async with sessionmaker() as session, session.begin():
        return await _record_outcome(session, clock, attempt.delivery, error)


async def _start_attempt(session: AsyncSession, clock: Clock, delivery_id: uuid.UUID) -> Attempt | Outcome:
    delivery = await session.scalar(select(Delivery).where(Delivery.id == delivery_id).with_for_update())
    now = clock.now()
    if delivery is None or delivery.status != PENDING or delivery.next_attempt_at > now:
        return Outcome.SKIPPED
    if delivery.attempts >= MAX_ATTEMPTS:  # the last attempt was cut off before its outcome was recorded
        return _record_failure(delivery, now, _shown(delivery, "the last attempt was cut off"), permanent=True)
    delivery.attempts += 1
    delivery.next_attempt_at = now + ATTEMPT_LEASE
    webhook = None if delivery.webhook_id is None else await session.get(Webhook, delivery.webhook_id)
    return Attempt(delivery, webhook)


async def _attempt(settings: Settings, attempt: Attempt, now: datetime, http: httpx.AsyncClient) -> SendFailed | None:
    """Send once; the failure, if any, as what the administrator will see."""
    delivery = attempt.delivery
    try:
        # Bounds a slow SMTP dialogue as a whole; the job's own timeout is longer still.
        async with asyncio.timeout(2 * SEND_TIMEOUT_SECONDS):
            await _send(settings, attempt, now, http)
    except SendFailed as exc:
        return exc
    except TimeoutError:
        log.info("delivery %s: timed out after %d s", delivery.id, 2 * SEND_TIMEOUT_SECONDS)
        return SendFailed(_shown(delivery, f"timed out after {2 * SEND_TIMEOUT_SECONDS} s"))
    except Exception as exc:  # any failure to send is a failed attempt, bounded by MAX_ATTEMPTS
        log.warning("delivery %s: unexpected error while sending", delivery.id, exc_info=True)
        return SendFailed(_shown(delivery, type(exc).__name__))
    return None


async def _record_outcome(session: AsyncSession, clock: Clock, sent: Delivery, error: SendFailed | None) -> Outcome:
    """On the row as the attempt left it; if another job took it over meanwhile, that job records."""
    query = select(Delivery).where(
        Delivery.id == sent.id, Delivery.status == PENDING, Delivery.attempts == sent.attempts
    )
    delivery = await session.scalar(query.with_for_update())
    if delivery is None:
        log.warning("delivery %s: attempt %d outlived its lease; not recorded", sent.id, sent.attempts)
        return Outcome.SKIPPED
    now = clock.now()
    if error is not None:
        return _record_failure(delivery, now, str(error), permanent=isinstance(error, Undeliverable))
    delivery.status = SENT
    delivery.delivered_at = now
    delivery.last_error = None
    return Outcome.SENT


def _shown(delivery: Delivery, error: str) -> str:
    """What the administrator sees of a failed attempt: for a webhook, always the same words."""
    return WEBHOOK_NOT_DELIVERED if delivery.channel == WEBHOOK else error


def _record_failure(delivery: Delivery, now: datetime, error: str, *, permanent: bool) -> Outcome:
    delivery.last_error = error[:MAX_ERROR_LENGTH]
    delivery.published_at = None
    if permanent or delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = FAILED
        log.warning("delivery %s failed for good after %d attempts: %s", delivery.id, delivery.attempts, error)
        return Outcome.FAILED
    delivery.next_attempt_at = now + backoff(delivery.attempts)
    log.info(
        "delivery %s attempt %d failed (%s); next attempt at %s",
        delivery.id,
        delivery.attempts,
        error,
        delivery.next_attempt_at,
    )
    return Outcome.RETRY


async def _send(settings: Settings, attempt: Attempt, now: datetime, http: httpx.AsyncClient) -> None:
    delivery, webhook = attempt.delivery, attempt.webhook
    if delivery.channel == EMAIL:
        await send_email(settings, delivery, now)
    elif delivery.channel == WEBHOOK:
        if webhook is None:
            raise Undeliverable("the delivery names no webhook")
        if not webhook.active:
            raise Undeliverable("the webhook is deactivated: not sent")
        await post_webhook(http, webhook, delivery, now, settings.webhook_networks)
    else:
        raise Undeliverable(f"unknown channel {delivery.channel[:32]!r}")


async def send_email(settings: Settings, delivery: Delivery, now: datetime) -> None:
    """One plain-text e-mail over SMTP; its Message-ID is the same on every attempt."""
    message = EmailMessage()
    try:
        message["From"] = settings.smtp_sender
        message["To"] = delivery.recipient
        message["Subject"] = delivery.subject
        message["Date"] = format_datetime(now)
        message["Message-ID"] = f"<delivery-{delivery.id}@{settings.smtp_sender.rpartition('@')[2] or 'mla'}>"
        message["X-MLA-Delivery"] = str(delivery.id)
        message.set_content(delivery.body)
    except ValueError as exc:  # a header with a line break, say: retrying cannot help
        raise Undeliverable(f"the e-mail cannot be built: {exc}") from exc
    try:
        await aiosmtplib.send(
            message, hostname=settings.smtp_host, port=settings.smtp_port, timeout=SEND_TIMEOUT_SECONDS
        )
    except (aiosmtplib.SMTPTimeoutError, TimeoutError) as exc:
        raise SendFailed(f"SMTP: timed out after {SEND_TIMEOUT_SECONDS} s") from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise SendFailed(f"SMTP: {type(exc).__name__}: {exc}") from exc


async def post_webhook(
    http: httpx.AsyncClient, webhook: Webhook, delivery: Delivery, now: datetime, allowed: tuple[targets.Network, ...]
) -> None:
    """POST the delivery's JSON body, signed, to an allowed address of the webhook's host.

    Anything but a 2xx answer is a failure, raised as `SendFailed(WEBHOOK_NOT_DELIVERED)` whatever
    its cause; the cause is logged (never the URL, which may carry a token).
    """
    try:
        response = await _post_to_allowed_address(http, webhook, delivery, now, allowed)
        cause = None if response.is_success else f"HTTP {response.status_code}"
    except targets.TargetRefused as exc:
        cause = f"target refused: {exc}"
    except httpx.HTTPError as exc:
        cause = type(exc).__name__
    if cause is not None:
        log.info("delivery %s to webhook %s not delivered: %s", delivery.id, webhook.id, cause)
        raise SendFailed(WEBHOOK_NOT_DELIVERED)


async def _post_to_allowed_address(
    http: httpx.AsyncClient, webhook: Webhook, delivery: Delivery, now: datetime, allowed: tuple[targets.Network, ...]
) -> httpx.Response:
    url = httpx.URL(webhook.url)
    host = url.raw_host.decode("ascii")
    addresses = await targets.resolve_target(host, url.port or _DEFAULT_PORTS[url.scheme], allowed)
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "mla-tracker",
        # The connection goes to the checked address; the receiver still sees the name it serves.
        "Host": url.netloc.decode("ascii"),
        "Connection": "close",  # never pooled: a connection checked for one name serves no other
        **signed_headers(webhook.secret, int(now.timestamp()), str(webhook.id), str(delivery.id), body),
    }
    # TLS: the certificate must be valid for the name, sent as SNI, not for the address (Python's
    # ssl sends no SNI and checks the address when the host is itself an IP address).
    extensions = {"sni_hostname": host} if url.scheme == "https" else {}

    async def post(address: targets.Address) -> httpx.Response:
        return await http.post(
            url.copy_with(host=str(address)),
            content=body,
            headers=headers,
            timeout=SEND_TIMEOUT_SECONDS,
            follow_redirects=False,
            extensions=extensions,
        )

    for address in addresses[:-1]:
        with contextlib.suppress(httpx.ConnectError):  # nothing listens there: the name's next address
            return await post(address)
    return await post(addresses[-1])


# --------------------------------------------------------------------------- inspection


async def list_deliveries(
    session: AsyncSession, organisation_id: uuid.UUID, status: DeliveryStatus | None, cursor: str | None, limit: int
) -> Page[DeliveryOut]:
    """The deliveries to one organisation's webhooks and to its users' e-mail addresses, newest first."""
    own_webhooks = select(Webhook.id).where(Webhook.organisation_id == organisation_id)
    own_addresses = select(User.email).where(User.organisation_id == organisation_id)
    query = select(
        Delivery.id,
        Delivery.alert_id,
        Alert.stage,
        Delivery.channel,
        Delivery.recipient,
        Delivery.webhook_id,
        Delivery.status,
        Delivery.attempts,
        Delivery.last_error,
        Delivery.next_attempt_at,
        Delivery.delivered_at,
        Delivery.created_at,
    ).join(Alert, Alert.id == Delivery.alert_id)
    query = query.where(
        or_(
            Delivery.webhook_id.in_(own_webhooks),
            and_(Delivery.channel == EMAIL, Delivery.recipient.in_(own_addresses)),
        )
    )
    if status is not None:
        query = query.where(Delivery.status == status.value)
    rows = (await session.execute(keyset(query, Delivery.created_at, Delivery.id, cursor, limit))).all()
    return page_of(rows, limit, lambda row: DeliveryOut(**row._mapping))
