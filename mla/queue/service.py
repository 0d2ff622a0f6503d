"""The central authority's triage queue (SPEC §9 `GET /queue`): its open requests, most pressing first.

Order: emergency, urgent, routine (`urgency_rank`); then the earliest running due moment
(`next_due_at`, kept by the deadlines service), requests without a running clock last; then id.
Buckets, all relative to the injected clock:
- `overdue`: the running clock is past due;
- `due_soon`: due within `repository.DUE_SOON_WINDOW` (48 hours) and not yet overdue;
- `new`: waiting for triage: under review (outgoing) or received (incoming), and unassigned;
- `mine`: assigned to the caller; `unassigned`: assigned to nobody.
A request may be in several buckets (e.g. overdue and unassigned). The counts cover the whole
queue, whatever bucket is asked. Paged by keyset on the sort key: a request whose clock moves
between two pages may be shown twice or not at all, as with any live ordering.
"""

import base64
import uuid
from typing import Annotated, Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import reads
from mla.clock import Clock
from mla.enums import Role
from mla.errors import Forbidden, Unprocessable
from mla.fields import AwareDatetime, check_moment
from mla.queue import repository
from mla.queue.repository import NO_FILTERS, QueueFilters, QueuePosition
from mla.queue.schemas import QueueBucket, QueueCounts, QueueItem, QueueOrder, QueuePage
from mla.users.principal import Principal

QUEUE_ROLES = (Role.CENTRAL_AUTHORITY, Role.SUPERVISOR)


class _Cursor(msgspec.Struct, array_like=True):
    # Bounded and aware, so a forged cursor is a 422 and never a database error.
    urgency_rank: Annotated[int, msgspec.Meta(ge=0, le=9)]
    due_at: AwareDatetime | None
    id: uuid.UUID

    def __post_init__(self) -> None:
        if self.due_at is not None:
            check_moment(self.due_at)


async def list_queue(
    session: AsyncSession,
    clock: Clock,
    actor: Principal,
    bucket: QueueBucket | None,
    cursor: str | None,
    limit: int,
    filters: QueueFilters = NO_FILTERS,
    order: QueueOrder = QueueOrder.PRIORITY,
) -> QueuePage:
    """One page of the caller's queue (one bucket, or all, narrowed by `filters`) with the counts of
    every bucket (not narrowed).

    Refuses a caller without the central authority or supervisor role (403) and a cursor this
    API did not issue (422). An organisation responsible for nothing has an empty queue. A page
    showing another organisation's requests is recorded as one read (mla/audit/reads.py).
    """
    _require_queue_role(actor)
    now = clock.now()
    after = None if cursor is None else decode_cursor(cursor)
    rows = await repository.fetch_page(session, repository.queue_page(actor, bucket, now, after, limit, filters, order))
    shown = msgspec.convert(rows[:limit], list[QueueItem])
    query_asked = reads.query_of(filters, bucket=bucket, cursor=cursor, limit=limit, order=order)
    await reads.record_page_read(session, clock, actor, "list_queue", shown, query_asked)
    return QueuePage(
        items=shown,
        next_cursor=encode_cursor(rows[limit - 1]) if len(rows) > limit else None,
        counts=await repository.bucket_counts(session, actor, now),
    )


async def queue_counts(session: AsyncSession, clock: Clock, actor: Principal) -> QueueCounts:
    """How many requests each bucket of the caller's queue holds (403 as `list_queue`)."""
    _require_queue_role(actor)
    return await repository.bucket_counts(session, actor, clock.now())


async def advance_counts(session: AsyncSession, clock: Clock) -> None:
    """Move the counts' mark to now, so that a read corrects them only for what fell due since
    (the worker's job, every minute; mla/queue/repository.py)."""
    await repository.advance_counts(session, clock.now())


def _require_queue_role(actor: Principal) -> None:
    if not actor.has_any(*QUEUE_ROLES):
        raise Forbidden("The queue is for central authority officers and supervisors.")


def encode_cursor(row: dict[str, Any]) -> str:
    """The cursor after `row`, a row of `repository.fetch_page`."""
    position = _Cursor(row["urgency_rank"], row["next_due_at"], row["id"])
    return base64.urlsafe_b64encode(msgspec.json.encode(position)).decode().rstrip("=")


def decode_cursor(cursor: str) -> QueuePosition:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = msgspec.json.decode(raw, type=_Cursor)
    except (ValueError, msgspec.DecodeError) as exc:
        raise Unprocessable(
            "The cursor is not one this API issued.", errors=[{"field": "cursor", "message": "invalid cursor"}]
        ) from exc
    return QueuePosition(position.urgency_rank, position.due_at, position.id)
