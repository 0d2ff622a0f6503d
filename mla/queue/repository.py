"""Every query of the central authority's queue, scoped to the requests the caller's organisation
is responsible for (`requests.central_authority_id`); read-only but for moving the counts' mark.

**The page** is one statement: the partial index `ix_requests_queue` (central authority, urgency
rank, coalesce(next due, 'infinity'), id) walked in order from the cursor's row, the page cut
first, then each row's names (case reference, owner, target, assignee) and its next running
deadline (a LATERAL join) added to those rows only. It is built once per shape (the viewer's
roles, bucket, order, cursor kind, which filters, the search text) with every value a bind
parameter, as is the counts' statement: a call binds values and reuses SQLAlchemy's compiled form
instead of building the SQL and its cache key again (a third of the request's CPU when it did).

**The counts** are kept by the database, not recomputed per page (migration 0a1986bb2797):
`queue_counts` holds, per central authority and visibility scope, how many open requests are
in the queue, waiting for triage (`new`), unassigned, and due before the mark and before the
mark plus `DUE_SOON_WINDOW`. Deferred constraint triggers on `requests` (`queue_counts_on_*`) add
each changed request's new contribution and take away its old one at commit, in the transaction
that moved it, whatever code moved it (workflow, deadlines, imports, scripts): no call site can
forget them. The scopes follow `confidential_allows`: "open" (not confidential, everyone sees
them), "confidential" (supervisors and auditors see all of them), "confidential_of" per user (the
confidential requests that user created or is assigned), and "assigned" per user (`mine`), so a
viewer's counts are the sum of two rows plus one.

Overdue and due soon depend on the time: the rows count what was due before the mark
(`queue_count_mark.counted_until`), and a read adds the requests whose due moment lies between
the mark and now (a signed count, so a clock behind the mark works too) through the small index
`ix_requests_queue_due`. The worker moves the mark every minute (`advance_counts`), so that span
stays a minute or two wide. The triggers hold the mark's advisory lock shared and the advance holds
it exclusively, so a count is never taken against a mark that moves under it: counts are exact at
every commit, and a read sees counts, mark and requests in one snapshot.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    Select,
    Uuid,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from mla.cases.models import Case
from mla.counterparties.models import Counterparty
from mla.deadlines.models import Deadline
from mla.deadlines.service import OPEN
from mla.enums import RequestStatus, RequestType, Role, Urgency
from mla.organisations.models import Organisation
from mla.queue.models import QueueCount, QueueCountMark
from mla.queue.schemas import QueueBucket, QueueCounts, QueueOrder
from mla.requests.models import Request, queue_due_at
from mla.requests.repository import confidential_allows, matches_text
from mla.users.models import User
from mla.users.principal import Principal

# `due_soon`: a running clock falls due within the next 48 hours (not yet overdue: the buckets are disjoint).
DUE_SOON_WINDOW = timedelta(hours=48)
NEW_STATUSES = (RequestStatus.UNDER_REVIEW.value, RequestStatus.RECEIVED.value)
# Spelled as in the partial index's predicate and inlined (not bound), so the planner can prove
# the index applies whatever plan it caches.
_OUT_OF_QUEUE = tuple(
    literal_column(f"'{status}'") for status in ("draft", "fulfilled", "refused", "rejected", "withdrawn", "expired")
)
_INFINITY = literal_column("'infinity'::timestamptz")
# The counts' authority-wide scopes have no user: this id stands for none.
NOBODY = uuid.UUID(int=0)
_REQUEST_COLUMNS = (
    "id",
    "reference",
    "case_id",
    "organisation_id",
    "central_authority_id",
    "direction",
    "type",
    "target_id",
    "instrument",
    "urgency",
    "status",
    "assignee_id",
    "priority",
    "counterparty_references",
    "postponed_until",
    "created_at",
    "updated_at",
    "version",
    "next_due_at",
    "urgency_rank",
)
_NEXT_DEADLINE_COLUMNS = ("id", "kind", "rule", "due_at")


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

    def given(self) -> dict[str, Any]:
        """The column filters given (name → value), `q` aside."""
        values = {name: getattr(self, name) for name in _FILTER_COLUMNS}
        return {name: value for name, value in values.items() if value is not None}


NO_FILTERS = QueueFilters()
_FILTER_COLUMNS = {
    "type": Request.type,
    "urgency": Request.urgency,
    "target_id": Request.target_id,
    "assignee_id": Request.assignee_id,
    "instrument": Request.instrument,
}


class Prepared(NamedTuple):
    """A statement built once for every call of its shape, and this call's values of its bind parameters."""

    statement: Select[Any]
    parameters: dict[str, Any]

    def bound(self) -> Select[Any]:
        """The statement with this call's values in it (to EXPLAIN it; it copies the statement)."""
        return self.statement.params(self.parameters)


# The viewer's ids and the moment as bind parameters of the statements built once per shape.
_VIEWER_ID = bindparam("viewer_id", type_=Uuid)
_ORGANISATION_ID = bindparam("organisation_id", type_=Uuid)
_NOW = bindparam("now", type_=DateTime(timezone=True))
_SOON = bindparam("soon", type_=DateTime(timezone=True))  # now + DUE_SOON_WINDOW
# Shapes worth keeping: roles × buckets × orders × cursor kinds × filter sets, and recent searches.
_SHAPES_KEPT = 512


def _viewer_shape(supervisor: bool, auditor: bool) -> Principal:
    """A viewer whose ids are bind parameters: what the statements built for it see of any viewer
    with these roles (the only roles that change the queue's SQL)."""
    roles = frozenset(role.value for role, held in ((Role.SUPERVISOR, supervisor), (Role.AUDITOR, auditor)) if held)
    return Principal(_VIEWER_ID, _ORGANISATION_ID, roles, "")  # type: ignore[arg-type]


def _roles_of(viewer: Principal) -> tuple[bool, bool]:
    return viewer.has_any(Role.SUPERVISOR), viewer.has_any(Role.AUDITOR)


def _viewer_values(viewer: Principal, now: datetime) -> dict[str, Any]:
    ids = {"viewer_id": viewer.user_id, "organisation_id": viewer.organisation_id}
    return ids | {"now": now, "soon": now + DUE_SOON_WINDOW}


def in_queue_of(viewer: Principal) -> ColumnElement[bool]:
    """The submitted or received, not yet closed, requests the viewer's organisation is responsible
    for, less the confidential ones the viewer may not see."""
    return and_(
        Request.central_authority_id == viewer.organisation_id,
        Request.status.not_in(_OUT_OF_QUEUE),
        confidential_allows(viewer),
    )


def bucket_condition(bucket: QueueBucket, now: Any, user_id: Any, soon: Any = None) -> ColumnElement[bool]:
    """The bucket's rows at `now` (a moment or a bind parameter; `soon` defaults to now + DUE_SOON_WINDOW)."""
    if bucket is QueueBucket.OVERDUE:
        return Request.next_due_at < now
    if bucket is QueueBucket.DUE_SOON:
        return and_(Request.next_due_at >= now, Request.next_due_at < (now + DUE_SOON_WINDOW if soon is None else soon))
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
) -> Prepared:
    """One page of the queue in order, each row with its names and next running deadline (columns
    `next_deadline_*`, NULL without one); fetches one extra row to tell whether there is more.

    The statement is built and compiled once per shape (roles, bucket, order, cursor kind, which
    filters, the search text); each call only binds its values."""
    given = filters.given()
    after_kind = None if after is None else "never" if after.due_at is None else "at"
    statement = _page_statement(*_roles_of(viewer), bucket, order, after_kind, frozenset(given), filters.q)
    values = _viewer_values(viewer, now) | {f"filter_{name}": value for name, value in given.items()}
    values["rows"] = limit + 1
    if after is not None:
        values |= {"after_rank": after.urgency_rank, "after_due": after.due_at, "after_id": after.id}
    return Prepared(statement, values)


@lru_cache(maxsize=_SHAPES_KEPT)
def _page_statement(
    supervisor: bool,
    auditor: bool,
    bucket: QueueBucket | None,
    order: QueueOrder,
    after_kind: str | None,
    filter_names: frozenset[str],
    q: str | None,
) -> Select[Any]:
    viewer = _viewer_shape(supervisor, auditor)
    page = _ordered_rows(viewer, bucket, after_kind, filter_names, q, order).subquery("page")
    next_deadline = (
        select(Deadline.id, Deadline.kind, Deadline.rule_code.label("rule"), Deadline.due_at)
        .where(Deadline.request_id == page.c.id, Deadline.status == OPEN, Deadline.paused_at.is_(None))
        .order_by(Deadline.due_at, Deadline.id)
        .limit(1)
        .lateral("next_deadline")
    )
    assignee = aliased(User, name="assignee")
    key = [page.c.queue_due_at, page.c.id]
    return (
        select(
            *(page.c[name] for name in _REQUEST_COLUMNS),
            Case.reference.label("case_reference"),
            Organisation.name.label("owner_name"),
            Counterparty.name.label("target_name"),
            assignee.name.label("assignee_name"),
            *(next_deadline.c[name].label(f"next_deadline_{name}") for name in _NEXT_DEADLINE_COLUMNS),
        )
        .join(Case, Case.id == page.c.case_id)
        .join(Organisation, Organisation.id == page.c.organisation_id)
        .join(Counterparty, Counterparty.id == page.c.target_id)
        .outerjoin(assignee, assignee.id == page.c.assignee_id)
        .outerjoin(next_deadline, true())
        .order_by(*(key if order is QueueOrder.DUE else [page.c.urgency_rank, *key]))
    )


def _ordered_rows(
    viewer: Principal,
    bucket: QueueBucket | None,
    after_kind: str | None,
    filter_names: frozenset[str],
    q: str | None,
    order: QueueOrder,
) -> Select[Any]:
    columns = [getattr(Request, name) for name in _REQUEST_COLUMNS]
    narrowed = [_FILTER_COLUMNS[name] == bindparam(f"filter_{name}") for name in sorted(filter_names)]
    narrowed += [matches_text(q)] if q else []
    query = select(*columns, queue_due_at.label("queue_due_at")).where(in_queue_of(viewer), *narrowed)
    if bucket is not None:
        query = query.where(bucket_condition(bucket, _NOW, viewer.user_id, _SOON))
    # PRIORITY: emergencies first, then earliest due; DUE: earliest due whatever the urgency.
    key = [queue_due_at, Request.id] if order is QueueOrder.DUE else [Request.urgency_rank, queue_due_at, Request.id]
    if after_kind is not None:
        after_due = _INFINITY if after_kind == "never" else bindparam("after_due", type_=DateTime(timezone=True))
        after_id = bindparam("after_id", type_=Uuid)
        after_rank = bindparam("after_rank", type_=Integer)
        after_key = [after_due, after_id] if order is QueueOrder.DUE else [after_rank, after_due, after_id]
        query = query.where(tuple_(*key) > tuple_(*after_key))
    return query.order_by(*key).limit(bindparam("rows", type_=Integer))


async def fetch_page(session: AsyncSession, query: Prepared) -> list[dict[str, Any]]:
    """The rows of `queue_page`, each a dict with its next deadline nested (None without one)."""
    connection = await session.connection()
    result = await connection.execute(query.statement, query.parameters)
    names = [str(name) for name in result.keys()]  # plain `str`: msgspec refuses SQLAlchemy's `quoted_name`
    rows = []
    for row in result:
        values = dict(zip(names, row, strict=True))
        deadline = {name: values.pop(f"next_deadline_{name}") for name in _NEXT_DEADLINE_COLUMNS}
        values["next_deadline"] = deadline if deadline["id"] is not None else None
        rows.append(values)
    return rows


def counted_scopes(viewer: Principal) -> list[tuple[str, uuid.UUID]]:
    """The `queue_counts` rows whose sum is what the viewer sees of its organisation's queue, as
    `confidential_allows` decides: supervisors (of the responsible authority: the viewer's own) and
    auditors see every confidential request; others those they created or are assigned."""
    if viewer.has_any(Role.SUPERVISOR, Role.AUDITOR):
        return [("open", NOBODY), ("confidential", NOBODY)]
    return [("open", NOBODY), ("confidential_of", viewer.user_id)]


def counts_query(viewer: Principal, now: datetime) -> Prepared:
    """The viewer's counts in one statement: kept rows, plus the requests that fell due (or into the
    due-soon window) between the mark and `now`."""
    return Prepared(_counts_statement(*_roles_of(viewer)), _viewer_values(viewer, now))


@lru_cache(maxsize=4)
def _counts_statement(supervisor: bool, auditor: bool) -> Select[Any]:
    viewer = _viewer_shape(supervisor, auditor)
    mark, soon_mark = QueueCountMark.counted_until, QueueCountMark.due_soon_until
    mine = (
        select(QueueCount.total)
        .where(
            QueueCount.central_authority_id == _ORGANISATION_ID,
            QueueCount.scope == "assigned",
            QueueCount.user_id == _VIEWER_ID,
        )
        .correlate(None)  # its own row, not the outer query's
    )
    scopes = [and_(QueueCount.scope == scope, QueueCount.user_id == user) for scope, user in counted_scopes(viewer)]
    kept = and_(QueueCount.central_authority_id == _ORGANISATION_ID, or_(*scopes))
    return (
        select(
            func.coalesce(func.sum(QueueCount.untriaged), 0).label("new"),
            func.coalesce(func.sum(QueueCount.unassigned), 0).label("unassigned"),
            (func.coalesce(func.sum(QueueCount.due_before_mark), 0) + _crossed(viewer, mark, _NOW)).label("overdue"),
            (func.coalesce(func.sum(QueueCount.due_before_soon_mark), 0) + _crossed(viewer, soon_mark, _SOON)).label(
                "due_before_soon"
            ),
            func.coalesce(mine.scalar_subquery(), 0).label("mine"),
        )
        .select_from(QueueCountMark)
        .outerjoin(QueueCount, kept)
        .group_by(mark, soon_mark)
    )


def _crossed(viewer: Principal, mark: Any, moment: Any) -> Any:
    """How many of the viewer's queue fall due in [mark, moment) (negative when `moment` is earlier)."""
    crossed = func.queue_counts_crossed(Request.next_due_at, mark, moment)
    between = and_(Request.next_due_at >= func.least(mark, moment), Request.next_due_at < func.greatest(mark, moment))
    return func.coalesce(select(func.sum(crossed)).where(in_queue_of(viewer), between).scalar_subquery(), 0)


async def bucket_counts(session: AsyncSession, viewer: Principal, now: datetime) -> QueueCounts:
    """How many of the open requests the viewer sees fall in each bucket, from the kept counts."""
    query = counts_query(viewer, now)
    row = (await (await session.connection()).execute(query.statement, query.parameters)).one()
    return QueueCounts(
        overdue=row.overdue,
        due_soon=row.due_before_soon - row.overdue,
        new=row.new,
        mine=row.mine,
        unassigned=row.unassigned,
    )


async def advance_counts(session: AsyncSession, until: datetime) -> None:
    """Move the counts' mark to `until`: the requests that fell due since join the kept counts.
    Waits for the transactions moving counts at that moment; they wait for it in turn."""
    await session.execute(select(func.queue_counts_advance(until, DUE_SOON_WINDOW)))


async def rebuild_counts(session: AsyncSession, until: datetime) -> None:
    """Recount every authority's queue from the requests, with the mark at `until` (after a bulk load
    that bypassed the triggers, e.g. with `session_replication_role = replica`)."""
    await session.execute(select(func.queue_counts_rebuild(until, DUE_SOON_WINDOW)))
