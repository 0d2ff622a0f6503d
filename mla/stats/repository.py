"""Every statistics and export query, scoped like the request list (`visible_to`), computed in PostgreSQL.

Definitions (SPEC §9):

- **Scope**: the requests the caller sees, exactly as `GET /requests`
  (`mla.requests.repository.visible_to`): confidential ones count only for those who may see them.
- **Period** `from` ≤ t < `to` (either end may be open): requests are selected by `created_at` for
  the counts, the turnaround and the lapses; deadlines by `due_at` for the overdue rate.
- **Turnaround**, from the request's audit events (its status changes), in days:
  - *start*: the first `transmit` of an outgoing request; the first `accept` of an incoming one;
  - *first response* (outgoing only; on incoming requests the responder is us): the first
    counterparty event recorded after transmission, one of `RESPONSE_ACTIONS`;
  - *fulfilment*: the first `fulfil` or `supersede` (outgoing), `execute` (incoming);
  - *paused time is excluded*: every period the request spent in `awaiting_clarification` (from
    the event that entered it, `request_clarification` or, incoming, `request_more_info`, to the
    next status change, normally `provide_clarification`), clipped to [start, end], is
    subtracted. Postponement is the counterparty's own time and is not excluded;
  - only requests that reached the end are measured. Median and 90th percentile are
    `percentile_cont(0.5)` / `(0.9)` (linear interpolation), per direction and counterparty
    (the target) and per direction and instrument.
- **Overdue rate**: among the deadlines of visible requests whose `due_at` is in the period and
  already past (`due_at` < now), a deadline is
  - *overdue* if it was still running when its due moment passed: it is `missed`, or the moment it
    stopped running (`closed_at` when met/missed/cancelled, `paused_at` while paused, else now)
    is after `due_at` — still open past due, met late, or cancelled only after it was overdue;
  - *met on time* if it is `met` with `closed_at` ≤ `due_at`;
  - neither — so not counted — if it was cancelled or paused before its due moment (it never
    came due as such; a paused clock's `due_at` moves when it resumes).
  `came_due` = overdue + met on time; rate = overdue / came_due, null when nothing came due.
- **Preservations lapsed**: requests of the period that reached `expired` (only `lapse`, the
  worker's action on a preservation, leads there, and it is terminal).
"""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Interval,
    Row,
    Select,
    and_,
    extract,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from mla.audit.models import AuditEvent
from mla.cases.models import Case
from mla.counterparties.models import Counterparty
from mla.deadlines.models import Deadline
from mla.enums import Direction, RequestStatus
from mla.instruments.models import Instrument
from mla.requests.models import Request
from mla.requests.repository import RequestFilters, filtered, visible_to
from mla.users.principal import Principal
from mla.workflow.table import Action

START_ACTIONS = (Action.TRANSMIT.value, Action.ACCEPT.value)
RESPONSE_ACTIONS = tuple(
    a.value
    for a in (
        Action.ACKNOWLEDGE,
        Action.RECORD_PARTIAL,
        Action.FULFIL,
        Action.REFUSE,
        Action.REQUEST_CLARIFICATION,
        Action.POSTPONE,
        Action.CONFIRM_PRESERVED,
    )
)
FULFILMENT_ACTIONS = (Action.FULFIL.value, Action.SUPERSEDE.value, Action.EXECUTE.value)
PAUSED_STATUS = RequestStatus.AWAITING_CLARIFICATION.value
SECONDS_PER_DAY = 86_400
_NO_TIME = literal(timedelta(0), Interval())


@dataclass(frozen=True)
class Window:
    """`start` ≤ t < `end`; None is an open end."""

    start: datetime | None = None
    end: datetime | None = None

    def contains(self, column: Any) -> list[ColumnElement[bool]]:
        conditions = []
        if self.start is not None:
            conditions.append(column >= self.start)
        if self.end is not None:
            conditions.append(column < self.end)
        return conditions


def _visible_requests(viewer: Principal, window: Window) -> CTE:
    """The requests in scope created in the window, with their counterparty's name and instrument's title."""
    return (
        select(
            Request.id,
            Request.status,
            Request.type,
            Request.direction,
            Request.urgency,
            Request.target_id,
            Counterparty.name.label("target_name"),
            Request.instrument,
            Instrument.title.label("instrument_title"),
        )
        .join(Counterparty, Counterparty.id == Request.target_id)
        .join(Instrument, Instrument.code == Request.instrument)
        .where(visible_to(viewer), *window.contains(Request.created_at))
        .cte("visible")
    )


async def request_counts(session: AsyncSession, viewer: Principal, window: Window) -> list[Row[Any]]:
    """One row per value of each dimension, in one pass (GROUPING SETS).

    In each row exactly one dimension column is set (they are NOT NULL in the table, so a null
    means "not grouped by this one"); the counterparty row also carries the name.
    """
    v = _visible_requests(viewer, window).c
    query = select(
        v.status, v.type, v.direction, v.urgency, v.target_id, v.target_name, func.count().label("requests")
    ).group_by(
        func.grouping_sets(
            tuple_(v.status),
            tuple_(v.type),
            tuple_(v.direction),
            tuple_(v.urgency),
            tuple_(v.target_id, v.target_name),
        )
    )
    return list(await session.execute(query))


async def turnarounds(session: AsyncSession, viewer: Principal, window: Window) -> list[Row[Any]]:
    """Median and p90 days to first response and to fulfilment, paused time excluded.

    One row per (direction, counterparty) — `instrument` null — and per (direction, instrument)
    — `target_id` null. See the module docstring for what is measured.
    """
    visible = _visible_requests(viewer, window)
    v = visible.c
    # Only status changes: assignments and auditors' reads would otherwise split a pause in two.
    status_changes = (
        select(
            AuditEvent.request_id,
            AuditEvent.action,
            AuditEvent.to_status,
            AuditEvent.at.label("entered_at"),
            func.lead(AuditEvent.at).over(partition_by=AuditEvent.request_id, order_by=AuditEvent.id).label("left_at"),
        )
        .where(
            AuditEvent.request_id.in_(select(v.id)),
            AuditEvent.from_status.is_distinct_from(AuditEvent.to_status),
        )
        .cte("status_changes")
    )
    s = status_changes.c
    # On an incoming request `refuse` and `postpone` are ours: only outgoing ones have a first response.
    counterparty_response = and_(s.action.in_(RESPONSE_ACTIONS), v.direction == Direction.OUTGOING.value)
    milestones = (
        select(
            s.request_id,
            func.min(s.entered_at).filter(s.action.in_(START_ACTIONS)).label("started_at"),
            func.min(s.entered_at).filter(counterparty_response).label("responded_at"),
            func.min(s.entered_at).filter(s.action.in_(FULFILMENT_ACTIONS)).label("fulfilled_at"),
        )
        .join(visible, v.id == s.request_id)
        .group_by(s.request_id)
        .cte("milestones")
    )
    pauses = (
        select(s.request_id, s.entered_at.label("paused_from"), s.left_at.label("paused_until"))
        .where(s.to_status == PAUSED_STATUS)
        .cte("pauses")
    )
    m, p = milestones.c, pauses.c

    def active_time(end: Any) -> ColumnElement[Any]:
        """From start to `end`, less each pause's overlap with [start, end]; null while `end` is."""
        overlap = func.least(func.coalesce(p.paused_until, end), end) - func.greatest(p.paused_from, m.started_at)
        # GREATEST and LEAST skip nulls: the outer join's empty pause row must not count.
        paused_sum = func.sum(func.greatest(overlap, _NO_TIME)).filter(p.paused_from.is_not(None))
        paused = func.coalesce(paused_sum, _NO_TIME)
        return end - m.started_at - paused

    durations = (
        select(
            v.direction,
            v.target_id,
            v.target_name,
            v.instrument,
            v.instrument_title,
            active_time(m.responded_at).label("first_response"),
            active_time(m.fulfilled_at).label("fulfilment"),
        )
        .select_from(milestones)
        .join(visible, v.id == m.request_id)
        .outerjoin(pauses, p.request_id == m.request_id)
        .where(m.started_at.is_not(None))
        .group_by(m.request_id, m.started_at, m.responded_at, m.fulfilled_at, *v)
        .cte("durations")
    )
    d = durations.c
    query = (
        select(
            d.direction,
            d.target_id,
            d.target_name,
            d.instrument,
            d.instrument_title,
            func.count(d.first_response).label("first_response_requests"),
            _days(_percentile(0.5, d.first_response)).label("first_response_median"),
            _days(_percentile(0.9, d.first_response)).label("first_response_p90"),
            func.count(d.fulfilment).label("fulfilment_requests"),
            _days(_percentile(0.5, d.fulfilment)).label("fulfilment_median"),
            _days(_percentile(0.9, d.fulfilment)).label("fulfilment_p90"),
        )
        .group_by(
            func.grouping_sets(
                tuple_(d.direction, d.target_id, d.target_name),
                tuple_(d.direction, d.instrument, d.instrument_title),
            )
        )
        .order_by(d.direction, d.target_name, d.instrument)
    )
    return list(await session.execute(query))


def _percentile(fraction: float, interval: Any) -> ColumnElement[Any]:
    return func.percentile_cont(fraction).within_group(interval)


def _days(interval: ColumnElement[Any]) -> ColumnElement[Any]:
    return extract("epoch", interval) / SECONDS_PER_DAY


async def overdue_counts(session: AsyncSession, viewer: Principal, window: Window, now: datetime) -> Row[Any]:
    """`overdue` and `met_on_time` among the deadlines that came due in the window (module docstring)."""
    stopped_running_at = func.coalesce(Deadline.closed_at, Deadline.paused_at, now)
    overdue = or_(Deadline.status == "missed", stopped_running_at > Deadline.due_at)
    met_on_time = and_(Deadline.status == "met", Deadline.closed_at <= Deadline.due_at)
    query = (
        select(
            func.count().filter(overdue).label("overdue"),
            func.count().filter(met_on_time).label("met_on_time"),
        )
        .select_from(Deadline)
        .join(Request, Request.id == Deadline.request_id)
        .where(visible_to(viewer), Deadline.due_at < now, *window.contains(Deadline.due_at))
    )
    return (await session.execute(query)).one()


EXPORT_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("reference", Request.reference),
    ("id", Request.id),
    ("direction", Request.direction),
    ("type", Request.type),
    ("status", Request.status),
    ("urgency", Request.urgency),
    ("instrument", Request.instrument),
    ("target", Counterparty.name),
    ("case_reference", Case.reference),
    ("created_at", Request.created_at),
    ("updated_at", Request.updated_at),
    ("next_due_at", Request.next_due_at),
    ("counterparty_references", Request.counterparty_references),
)


def export_query(viewer: Principal, filters: RequestFilters) -> Select[Any]:
    """The request list's rows (same scope and filters, newest first) with the export's columns."""
    columns: list[InstrumentedAttribute[Any]] = [column for _, column in EXPORT_COLUMNS]
    return (
        filtered(viewer, filters)
        .with_only_columns(*columns)
        .select_from(Request)
        .join(Counterparty, Counterparty.id == Request.target_id)
        .join(Case, Case.id == Request.case_id)
        .order_by(Request.created_at.desc(), Request.id.desc())
    )


async def export_row_count(session: AsyncSession, viewer: Principal, filters: RequestFilters) -> int:
    """How many rows `export_query` yields, for the export's audit event."""
    rows = export_query(viewer, filters).order_by(None).subquery()
    return int(await session.scalar(select(func.count()).select_from(rows)) or 0)


async def export_batches(
    session: AsyncSession, viewer: Principal, filters: RequestFilters, batch_rows: int
) -> AsyncIterator[Sequence[Row[Any]]]:
    """`export_query`'s rows, `batch_rows` at a time, through a server-side cursor (constant memory)."""
    result = await session.stream(export_query(viewer, filters).execution_options(yield_per=batch_rows))
    async for batch in result.partitions():
        yield batch
