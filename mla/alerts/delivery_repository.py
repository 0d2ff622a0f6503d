"""The deliveries' queries (the outbox): what the relay publishes, a batch's attempts and their outcomes,
and the administrators' list. Each writing query is one statement for a whole batch.

The rules (lease, backoff, what an administrator sees) live in `mla.alerts.delivery`; here they
arrive as parameters.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from mla.alerts.models import Alert, Delivery, Webhook
from mla.alerts.schemas import DeliveryOut, DeliveryStatus
from mla.pagination import Page, keyset, page_of
from mla.users.models import User

PENDING = DeliveryStatus.PENDING.value
SENT = DeliveryStatus.SENT.value
FAILED = DeliveryStatus.FAILED.value
EMAIL = "email"
WEBHOOK = "webhook"

_deliveries = Delivery.__table__.c

# Locks (waiting: a row the relay holds is committed as published in a moment) the batch's rows that
# are still pending and due, in id order so two batches never deadlock; a row another attempt leased
# meanwhile no longer matches once its lock is released. Each is counted and leased, except a row
# whose last allowed attempt was cut off before its outcome was recorded: that one fails for good.
START_ATTEMPTS = text("""
WITH claimed AS (
    SELECT id, webhook_id FROM deliveries
    WHERE id = ANY(CAST(:ids AS uuid[])) AND status = :pending AND next_attempt_at <= :now
    ORDER BY id
    FOR UPDATE OF deliveries
)
UPDATE deliveries d SET
    attempts = CASE WHEN d.attempts < :max_attempts THEN d.attempts + 1 ELSE d.attempts END,
    next_attempt_at = CASE WHEN d.attempts < :max_attempts THEN CAST(:leased_until AS timestamptz)
                           ELSE d.next_attempt_at END,
    status = CASE WHEN d.attempts < :max_attempts THEN d.status ELSE :failed END,
    last_error = CASE WHEN d.attempts < :max_attempts THEN d.last_error
                      WHEN d.channel = :webhook THEN :webhook_cut_off ELSE :cut_off END,
    published_at = CASE WHEN d.attempts < :max_attempts THEN d.published_at END
FROM claimed LEFT JOIN webhooks w ON w.id = claimed.webhook_id
WHERE d.id = claimed.id
RETURNING d.id, d.channel, d.recipient, d.subject, d.body, d.attempts, d.status = :failed AS cut_off,
          w.id AS webhook_id, w.url AS webhook_url, w.secret AS webhook_secret, w.active AS webhook_active
""")

# Only on the row as the attempt left it: a row another attempt took over (after the lease ran out)
# is recorded by that attempt. A failure clears `published_at`, so the relay publishes it when due.
RECORD_OUTCOMES = text("""
UPDATE deliveries d SET
    status = o.status,
    last_error = o.error,
    next_attempt_at = coalesce(o.next_attempt_at, d.next_attempt_at),
    delivered_at = o.delivered_at,
    published_at = CASE WHEN o.status = :sent THEN d.published_at END
FROM unnest(CAST(:ids AS uuid[]), CAST(:attempts AS integer[]), CAST(:statuses AS text[]), CAST(:errors AS text[]),
            CAST(:next_attempts AS timestamptz[]), CAST(:delivered AS timestamptz[]))
     AS o(id, attempts, status, error, next_attempt_at, delivered_at)
WHERE d.id = o.id AND d.status = :pending AND d.attempts = o.attempts
RETURNING d.id
""")


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """Where a webhook delivery goes and the secret that signs it (never logged)."""

    id: uuid.UUID
    url: str
    secret: str
    active: bool


@dataclass(frozen=True, slots=True)
class Attempt:
    """One delivery's attempt, counted and committed before anything is sent.

    `cut_off`: its last allowed attempt was cut off earlier, so the row was failed instead.
    """

    id: uuid.UUID
    channel: str
    recipient: str
    subject: str
    body: str
    attempts: int
    cut_off: bool
    webhook: WebhookTarget | None


@dataclass(frozen=True, slots=True)
class Result:
    """What an attempt leaves on its row: `next_attempt_at` None keeps the row's."""

    id: uuid.UUID
    attempts: int
    status: str
    error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None


async def release_lost(session: AsyncSession, published_before: datetime, batch: int) -> int:
    """Mark unpublished up to `batch` pending rows published before `published_before` (their job was lost)."""
    lost = (
        select(_deliveries.id)
        .where(
            _deliveries.status == PENDING,
            _deliveries.published_at.is_not(None),
            _deliveries.published_at < published_before,
        )
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    released = update(Delivery.__table__).where(_deliveries.id.in_(lost)).values(published_at=None)
    return len((await session.execute(released.returning(_deliveries.id))).all())


async def claim_unpublished(session: AsyncSession, now: datetime, batch: int) -> list[uuid.UUID]:
    """Lock up to `batch` due, unpublished, pending rows, earliest first, skipping those another relay holds.

    Matches the partial index ix_deliveries_to_publish: the cost follows what is due.
    """
    due = (
        select(_deliveries.id)
        .where(_deliveries.status == PENDING, _deliveries.published_at.is_(None), _deliveries.next_attempt_at <= now)
        .order_by(_deliveries.next_attempt_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    return list(await session.scalars(due))


async def mark_published(session: AsyncSession, delivery_ids: Sequence[uuid.UUID], now: datetime) -> None:
    if delivery_ids:
        published = update(Delivery.__table__).where(_deliveries.id.in_(delivery_ids)).values(published_at=now)
        await session.execute(published)


async def start_attempts(
    session: AsyncSession,
    delivery_ids: Sequence[uuid.UUID],
    now: datetime,
    leased_until: datetime,
    max_attempts: int,
    cut_off_errors: tuple[str, str],
) -> list[Attempt]:
    """Count an attempt on each of these rows still pending and due at `now`, leased until `leased_until`.

    A row whose `max_attempts`-th attempt was cut off is failed instead, with the first of
    `cut_off_errors` (webhooks) or the second (e-mail). Rows no longer pending or not due are left
    alone and not returned.
    """
    if not delivery_ids:
        return []
    webhook_cut_off, cut_off = cut_off_errors
    parameters: dict[str, Any] = {
        "ids": list(delivery_ids),
        "now": now,
        "leased_until": leased_until,
        "max_attempts": max_attempts,
        "pending": PENDING,
        "failed": FAILED,
        "webhook": WEBHOOK,
        "webhook_cut_off": webhook_cut_off,
        "cut_off": cut_off,
    }
    return [_attempt(row) for row in await session.execute(START_ATTEMPTS, parameters)]


def _attempt(row: Any) -> Attempt:
    webhook = None
    if row.webhook_id is not None:
        webhook = WebhookTarget(row.webhook_id, row.webhook_url, row.webhook_secret, row.webhook_active)
    return Attempt(row.id, row.channel, row.recipient, row.subject, row.body, row.attempts, row.cut_off, webhook)


async def record_results(session: AsyncSession, results: Sequence[Result]) -> set[uuid.UUID]:
    """Write each attempt's outcome on its row if no other attempt took the row over; returns the rows written."""
    if not results:
        return set()
    parameters = {
        "ids": [r.id for r in results],
        "attempts": [r.attempts for r in results],
        "statuses": [r.status for r in results],
        "errors": [r.error for r in results],
        "next_attempts": [r.next_attempt_at for r in results],
        "delivered": [r.delivered_at for r in results],
        "pending": PENDING,
        "sent": SENT,
    }
    return set(await session.scalars(RECORD_OUTCOMES, parameters))


async def list_deliveries(
    session: AsyncSession, organisation_id: uuid.UUID, status: DeliveryStatus | None, cursor: str | None, limit: int
) -> Page[DeliveryOut]:
    """The deliveries to one organisation's webhooks and to its users' e-mail addresses, newest first."""
    own_webhooks = select(Webhook.id).where(Webhook.organisation_id == organisation_id)
    own_addresses = select(User.email).where(User.organisation_id == organisation_id)
    query = select(
        _deliveries.id,
        _deliveries.alert_id,
        Alert.__table__.c.stage,
        _deliveries.channel,
        _deliveries.recipient,
        _deliveries.webhook_id,
        _deliveries.status,
        _deliveries.attempts,
        _deliveries.last_error,
        _deliveries.next_attempt_at,
        _deliveries.delivered_at,
        _deliveries.created_at,
    ).join_from(Delivery.__table__, Alert.__table__, Alert.__table__.c.id == _deliveries.alert_id)
    query = query.where(
        or_(
            _deliveries.webhook_id.in_(own_webhooks),
            and_(_deliveries.channel == EMAIL, _deliveries.recipient.in_(own_addresses)),
        )
    )
    if status is not None:
        query = query.where(_deliveries.status == status.value)
    rows = (await session.execute(keyset(query, Delivery.created_at, Delivery.id, cursor, limit))).all()
    return page_of(rows, limit, lambda row: DeliveryOut(**row._mapping))
