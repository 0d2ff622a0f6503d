"""Delivering alerts: the outbox relay, the e-mail and webhook channels, and their signatures.

The alert scan writes each e-mail and webhook to send as a `Delivery` row in the transaction that
decides the alert (the outbox). From there:

1. `publish_due_deliveries` (the worker's `relay_deliveries` cron, and the scan job right after it
   decides) claims pending rows that are due and not yet published (`FOR UPDATE SKIP LOCKED`, so any
   number of workers relay at once), enqueues one arq job `deliver_alerts` per `SEND_BATCH` rows
   (the whole claim in one Redis pipeline, mla.alerts.relay), and marks the rows published in the
   same transaction. If Redis is down the enqueue raises, the transaction rolls back and nothing is
   marked: the next tick tries again. A row published long ago and still pending (its job was lost:
   Redis flushed, a worker died past arq's own retries) is published again.
2. `deliver_batch` (the `deliver_alerts` job) counts an attempt on each of its rows and commits, in
   one statement, leasing the rows for `ATTEMPT_LEASE` (not due meanwhile); then sends them, at most
   `SEND_CONCURRENCY` at once, and records every outcome in a second statement. A row that is no
   longer pending, or not yet due, is left alone, so a job that arq runs twice, or two jobs naming
   the same row (a republished one), never send it twice. The attempt is counted before anything
   leaves, so what administrators see is true: an attempt cut off by a crash after the POST left
   shows in `attempts`, and is retried once the lease runs out (the relay republishes the row); a
   sent row keeps no `last_error` of an earlier failure. A retried send may reach a receiver twice:
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
The queries are in `mla.alerts.delivery_repository`.
"""

import asyncio
import contextlib
import enum
import logging
import math
import ssl
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib
import httpx
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.alerts import delivery_repository as repository
from mla.alerts import targets, webhook_post
from mla.alerts.delivery_repository import EMAIL, FAILED, PENDING, SENT, WEBHOOK, Attempt, Result, WebhookTarget
from mla.alerts.relay import QueuedJob, enqueue_jobs
from mla.alerts.signature import signed_headers
from mla.clock import Clock
from mla.settings import Settings

log = logging.getLogger("mla.alerts.delivery")

DELIVER_JOB = "deliver_alerts"  # the arq job name (workers.jobs.deliver_alerts)
SEND_BATCH = 100  # deliveries per job
SEND_CONCURRENCY = 25  # sends in flight per job
MAIL_CONNECTIONS = 4  # SMTP connections per job, each carrying message after message
MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(minutes=60)
# A published row still pending after this long lost its job; no job runs anywhere near this long.
REPUBLISH_AFTER = timedelta(minutes=5)
SEND_TIMEOUT_SECONDS = 10
ATTEMPT_TIMEOUT_SECONDS = 2 * SEND_TIMEOUT_SECONDS  # a whole SMTP dialogue or POST, resolution included
# The longest a batch can take: every round of sends timing out, and the two statements around them.
BATCH_TIMEOUT_SECONDS = math.ceil(SEND_BATCH / SEND_CONCURRENCY) * ATTEMPT_TIMEOUT_SECONDS + SEND_TIMEOUT_SECONDS
# While an attempt runs its row is not due; a job outlives this only if its worker died.
ATTEMPT_LEASE = timedelta(minutes=5)
MAX_ERROR_LENGTH = 300

WEBHOOK_NOT_DELIVERED = "webhook: not delivered (no 2xx answer from an allowed receiver)"
CUT_OFF = "the last attempt was cut off"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Outcome(enum.StrEnum):
    """What a batch did with one delivery."""

    SENT = "sent"
    RETRY = "retry"  # failed, another attempt is scheduled
    FAILED = "failed"  # failed for good
    SKIPPED = "skipped"  # not pending, not due or unknown: a duplicate or stale job


class SendFailed(Exception):
    """One attempt failed; the message is short and safe to show an administrator."""


class Undeliverable(SendFailed):
    """No attempt can succeed (deactivated webhook, unknown channel): fail without retrying."""


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4 ... minutes, at most `MAX_BACKOFF`."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


# --------------------------------------------------------------------------- the relay


async def publish_due_deliveries(
    session: AsyncSession, clock: Clock, redis: ArqRedis, queue_name: str, batch: int = 1_000
) -> int:
    """Enqueue `deliver_alerts` jobs for up to `batch` due deliveries and mark them published.

    In the caller's transaction. Redis errors propagate: the caller's rollback then leaves every
    row unpublished, to be claimed again on the next run. Returns how many rows were published.
    """
    now = clock.now()
    if released := await repository.release_lost(session, now - REPUBLISH_AFTER, batch):
        log.warning("publishing again %d deliveries whose jobs were lost", released)
    claimed = await repository.claim_unpublished(session, now, batch)
    # Job ids are fresh: two jobs naming one row are harmless (the first to lease it sends it).
    jobs = [
        QueuedJob(f"deliveries:{uuid.uuid4()}", DELIVER_JOB, ([str(i) for i in claimed[start : start + SEND_BATCH]],))
        for start in range(0, len(claimed), SEND_BATCH)
    ]
    await enqueue_jobs(redis, queue_name, jobs)
    await repository.mark_published(session, claimed, now)
    return len(claimed)


# --------------------------------------------------------------------------- sending


async def deliver_batch(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    settings: Settings,
    delivery_ids: Sequence[uuid.UUID],
    tls: ssl.SSLContext,
) -> dict[uuid.UUID, Outcome]:
    """Send these deliveries and record each outcome on its row, in two statements around the sends.

    The first counts the attempts and commits before anything leaves, so an attempt cut off by a
    crash after the POST left still shows in `attempts`; it also leases the rows (`next_attempt_at`
    moves `ATTEMPT_LEASE` ahead), so another job naming one of them finds it not due and skips it.
    The second records the outcomes: `sent` clears the error of an earlier failure. A delivery that
    is unknown, no longer pending or not yet due is SKIPPED. `tls` verifies webhook receivers.
    """
    now = clock.now()
    async with sessionmaker() as session, session.begin():
        attempts = await repository.start_attempts(
            session, delivery_ids, now, now + ATTEMPT_LEASE, MAX_ATTEMPTS, (WEBHOOK_NOT_DELIVERED, CUT_OFF)
        )
    outcomes = dict.fromkeys(delivery_ids, Outcome.SKIPPED)
    for attempt in attempts:
        if attempt.cut_off:
            log.warning("delivery %s failed for good after %d attempts: %s", attempt.id, attempt.attempts, CUT_OFF)
            outcomes[attempt.id] = Outcome.FAILED
    sending = [attempt for attempt in attempts if not attempt.cut_off]
    errors = await _send_all(Channels(settings, tls), sending, clock)
    now = clock.now()
    results = [_result(attempt, error, now) for attempt, error in zip(sending, errors, strict=True)]
    async with sessionmaker() as session, session.begin():
        recorded = await repository.record_results(session, results)
    for result in results:
        outcomes[result.id] = _recorded(result) if result.id in recorded else Outcome.SKIPPED
    return outcomes


class MailConnections:
    """The SMTP connections one batch's e-mails share, at most `MAIL_CONNECTIONS`, each carrying
    message after message: opening one (connect, greeting, EHLO) costs five times a message."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._free = asyncio.Semaphore(MAIL_CONNECTIONS)
        self._idle: list[aiosmtplib.SMTP] = []

    async def send(self, message: EmailMessage) -> None:
        async with self._free:
            client = await self._connected()
            try:
                await client.send_message(message, timeout=SEND_TIMEOUT_SECONDS)
            except BaseException:
                client.close()  # in an unknown state: never reused
                raise
            self._idle.append(client)

    async def _connected(self) -> aiosmtplib.SMTP:
        while self._idle:
            client = self._idle.pop()
            if client.is_connected:  # the server may have closed it meanwhile
                return client
        settings = self._settings
        client = aiosmtplib.SMTP(hostname=settings.smtp_host, port=settings.smtp_port, timeout=SEND_TIMEOUT_SECONDS)
        await client.connect()
        return client

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            with contextlib.suppress(Exception):  # every message went: a failed goodbye loses nothing
                await client.quit()


@dataclass
class Channels:
    """What one batch sends with."""

    settings: Settings
    tls: ssl.SSLContext
    mail: MailConnections = field(init=False)

    def __post_init__(self) -> None:
        self.mail = MailConnections(self.settings)


async def _send_all(channels: Channels, attempts: Sequence[Attempt], clock: Clock) -> list[SendFailed | None]:
    limit = asyncio.Semaphore(SEND_CONCURRENCY)

    async def bounded(attempt: Attempt) -> SendFailed | None:
        async with limit:
            return await _attempt(channels, attempt, clock.now())

    try:
        return await asyncio.gather(*(bounded(attempt) for attempt in attempts))
    finally:
        await channels.mail.close()


async def _attempt(channels: Channels, attempt: Attempt, now: datetime) -> SendFailed | None:
    """Send once; the failure, if any, as what the administrator will see."""
    try:
        # Bounds a slow SMTP dialogue as a whole; the job's own timeout is longer still.
        async with asyncio.timeout(ATTEMPT_TIMEOUT_SECONDS):
            await _send(channels, attempt, now)
    except SendFailed as exc:
        return exc
    except TimeoutError:
        log.info("delivery %s: timed out after %d s", attempt.id, ATTEMPT_TIMEOUT_SECONDS)
        return SendFailed(_shown(attempt, f"timed out after {ATTEMPT_TIMEOUT_SECONDS} s"))
    except Exception as exc:  # any failure to send is a failed attempt, bounded by MAX_ATTEMPTS
        log.warning("delivery %s: unexpected error while sending", attempt.id, exc_info=True)
        return SendFailed(_shown(attempt, type(exc).__name__))
    return None


def _result(attempt: Attempt, error: SendFailed | None, now: datetime) -> Result:
    """What the attempt leaves on its row: sent, failed for good, or pending with the next attempt's time."""
    if error is None:
        return Result(attempt.id, attempt.attempts, SENT, None, None, now)
    message = str(error)[:MAX_ERROR_LENGTH]
    if isinstance(error, Undeliverable) or attempt.attempts >= MAX_ATTEMPTS:
        return Result(attempt.id, attempt.attempts, FAILED, message, None, None)
    return Result(attempt.id, attempt.attempts, PENDING, message, now + backoff(attempt.attempts), None)


def _recorded(result: Result) -> Outcome:
    if result.status == SENT:
        return Outcome.SENT
    if result.status == FAILED:
        log.warning("delivery %s failed for good after %d attempts: %s", result.id, result.attempts, result.error)
        return Outcome.FAILED
    log.info(
        "delivery %s attempt %d failed (%s); next attempt at %s",
        result.id,
        result.attempts,
        result.error,
        result.next_attempt_at,
    )
    return Outcome.RETRY


def _shown(attempt: Attempt, error: str) -> str:
    """What the administrator sees of a failed attempt: for a webhook, always the same words."""
    return WEBHOOK_NOT_DELIVERED if attempt.channel == WEBHOOK else error


async def _send(channels: Channels, attempt: Attempt, now: datetime) -> None:
    webhook = attempt.webhook
    if attempt.channel == EMAIL:
        await send_email(channels.settings, channels.mail, attempt, now)
    elif attempt.channel == WEBHOOK:
        if webhook is None:
            raise Undeliverable("the delivery names no webhook")
        if not webhook.active:
            raise Undeliverable("the webhook is deactivated: not sent")
        await post_webhook(channels.tls, webhook, attempt, now, channels.settings.webhook_networks)
    else:
        raise Undeliverable(f"unknown channel {attempt.channel[:32]!r}")


async def send_email(settings: Settings, mail: MailConnections, delivery: Attempt, now: datetime) -> None:
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
        await mail.send(message)
    except (aiosmtplib.SMTPTimeoutError, TimeoutError) as exc:
        raise SendFailed(f"SMTP: timed out after {SEND_TIMEOUT_SECONDS} s") from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise SendFailed(f"SMTP: {type(exc).__name__}: {exc}") from exc


async def post_webhook(
    tls: ssl.SSLContext,
    webhook: WebhookTarget,
    delivery: Attempt,
    now: datetime,
    allowed: tuple[targets.Network, ...],
) -> None:
    """POST the delivery's JSON body, signed, to an allowed address of the webhook's host.

    Anything but a 2xx answer is a failure, raised as `SendFailed(WEBHOOK_NOT_DELIVERED)` whatever
    its cause; the cause is logged (never the URL, which may carry a token).
    """
    try:
        async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
            status = await _post_to_allowed_address(tls, webhook, delivery, now, allowed)
        cause = None if 200 <= status < 300 else f"HTTP {status}"
    except targets.TargetRefused as exc:
        cause = f"target refused: {exc}"
    except webhook_post.NoAnswer as exc:
        cause = f"no answer: {exc}"
    except TimeoutError:
        cause = f"timed out after {SEND_TIMEOUT_SECONDS} s"
    if cause is not None:
        log.info("delivery %s to webhook %s not delivered: %s", delivery.id, webhook.id, cause)
        raise SendFailed(WEBHOOK_NOT_DELIVERED)


async def _post_to_allowed_address(
    tls: ssl.SSLContext,
    webhook: WebhookTarget,
    delivery: Attempt,
    now: datetime,
    allowed: tuple[targets.Network, ...],
) -> int:
    url = httpx.URL(webhook.url)
    host = url.raw_host.decode("ascii")
    port = url.port or _DEFAULT_PORTS[url.scheme]
    addresses = await targets.resolve_target(host, port, allowed)
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "mla-tracker",
        "Connection": "close",  # never pooled: a connection checked for one name serves no other
        **signed_headers(webhook.secret, int(now.timestamp()), str(webhook.id), str(delivery.id), body),
    }
    # The connection goes to the checked address; the receiver still sees the name it serves, and
    # TLS checks the certificate for that name.
    request = webhook_post.Post(url.netloc.decode("ascii"), url.raw_path.decode("ascii"), headers, body)
    context = tls if url.scheme == "https" else None
    for address in addresses[:-1]:
        with contextlib.suppress(webhook_post.Unreachable):  # nothing listens there: the name's next address
            return await webhook_post.post(str(address), port, context, host, request)
    return await webhook_post.post(str(addresses[-1]), port, context, host, request)
