"""Every query of the central authority's queue, scoped to the requests the caller's organisation
is responsible for (`requests.central_authority_id`); read-only.

The list walks the partial index `ix_requests_queue` (central authority, urgency rank,
coalesce(next due, 'infinity'), id) in order, starting after the cursor's row.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, literal_column, select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from mla.deadlines.models import Deadline
from mla.deadlines.service import OPEN
from mla.enums import RequestStatus, RequestType, Urgency
from mla.queue.schemas import QueueBucket, QueueItem, QueueOrder
from mla.requests.models import Request, queue_due_at
from mla.requests.repository import confidential_allows, matches_text
from mla.users.principal import Principal

# `due_soon`: a running clock falls due within the next 48 hours (not yet overdue: the buckets are disjoint).
DUE_SOON_WINDOW = timedelta(hours=48)
NEW_STATUSES = (RequestStatus.UNDER_REVIEW.value, RequestStatus.RECEIVED.value)
# Spelled as in the partial index's predicate and inlined (not bound), so the planner can prove
# the index applies whatever plan it caches.
_OUT_OF_QUEUE = ("draft", "fulfilled", "refused", "rejected", "withdrawn", "expired")
_INFINITY = literal_column("'infinity'::timestamptz")
_ITEM_COLUMNS = [name for name in QueueItem.__struct_fields__ if name != "next_deadline"]


@dataclass(frozen=True)
class QueuePosition:
    """Where a page ends: the last row's sort key (`due_at` None sorts after every moment)."""

    urgency_rank: int
    due_at: datetime | None
    id: uuid.UUID


@dataclass(frozen=True)
class QueueFilters:
    """Narrow the queue (never the counts): each given value must match; `q` as in the request list."""

    type: RequestType | None = None
    urgency: Urgency | None = None
    target_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    instrument: str | None = None
    q: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        columns = {"type": Request.type, "urgency": Request.urgency, "target_id": Request.target_id}
        columns |= {"assignee_id": Request.assignee_id, "instrument": Request.instrument}
        found = [column == getattr(self, name) for name, column in columns.items() if getattr(self, name) is not None]
        return found + ([matches_text(self.q)] if self.q else [])


NO_FILTERS = QueueFilters()


def in_queue_of(viewer: Principal) -> ColumnElement[bool]:
    """The submitted or received, not yet closed, requests the viewer's organisation is responsible
    for, less the confidential ones the viewer may not see."""
    excluded = bindparam("excluded_statuses", list(_OUT_OF_QUEUE), expanding=True, literal_execute=True)
    return and_(
        Request.central_authority_id == viewer.organisation_id,
        Request.status.not_in(excluded),
        confidential_allows(viewer),
    )


def bucket_condition(bucket: QueueBucket, now: datetime, user_id: uuid.UUID) -> ColumnElement[bool]:
    if bucket is QueueBucket.OVERDUE:
        return Request.next_due_at < now
    if bucket is QueueBucket.DUE_SOON:
        return and_(Request.next_due_at >= now, Request.next_due_at < now + DUE_SOON_WINDOW)
    if bucket is QueueBucket.NEW:
        return and_(Request.status.in_(NEW_STATUSES), Request.assignee_id.is_(None))
    if bucket is QueueBucket.MINE:
        return Request.assignee_id == user_id
    return Request.assignee_id.is_(None)


def queue_page(
    viewer: Principal,
    bucket: QueueBucket | None,
    now: datetime,
    after: QueuePosition | None,
    limit: int,
    filters: QueueFilters = NO_FILTERS,
    order: QueueOrder = QueueOrder.PRIORITY,
) -> Select[Any]:
    """One page of the queue in order; fetches one extra row to tell whether there is more."""
    query = select(Request).options(
        load_only(*(getattr(Request, name) for name in _ITEM_COLUMNS), Request.urgency_rank)
    )
    query = query.where(in_queue_of(viewer), *filters.conditions())
    if bucket is not None:
        query = query.where(bucket_condition(bucket, now, viewer.user_id))
    # PRIORITY: emergencies first, then earliest due; DUE: earliest due whatever the urgency.
    key = [queue_due_at, Request.id] if order is QueueOrder.DUE else [Request.urgency_rank, queue_due_at, Request.id]
    if after is not None:
        after_due = _INFINITY if after.due_at is None else bindparam("after_due", after.due_at)
        after_key = [after_due, after.id] if order is QueueOrder.DUE else [after.urgency_rank, after_due, after.id]
        query = query.where(tuple_(*key) > tuple_(*after_key))
    return query.order_by(*key).limit(limit + 1)


async def bucket_counts(session: AsyncSession, viewer: Principal, now: datetime) -> dict[QueueBucket, int]:
    """How many of the open requests the viewer sees fall in each bucket, in one pass."""
    counts = [
        func.count().filter(bucket_condition(bucket, now, viewer.user_id)).label(bucket.value) for bucket in QueueBucket
    ]
    row = (await session.execute(select(*counts).select_from(Request).where(in_queue_of(viewer)))).one()
    return {bucket: getattr(row, bucket.value) for bucket in QueueBucket}


async def next_deadlines(session: AsyncSession, request_ids: list[uuid.UUID]) -> dict[uuid.UUID, Deadline]:
    """Each request's earliest open, running (unpaused) deadline: the one `next_due_at` was taken from."""
    if not request_ids:
        return {}
    query = (
        select(Deadline)
        .where(Deadline.request_id.in_(request_ids), Deadline.status == OPEN, Deadline.paused_at.is_(None))
        .ext(distinct_on(Deadline.request_id))
        .order_by(Deadline.request_id, Deadline.due_at, Deadline.id)
    )
    return {deadline.request_id: deadline for deadline in await session.scalars(query)}
