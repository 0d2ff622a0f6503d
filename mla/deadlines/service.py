"""Deadlines follow the workflow: an action opens, meets, cancels, pauses or resumes clocks.

Called inside the action's transaction, after the request's status changed; the returned summary
goes into the action's audit event.
"""

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.deadlines.arithmetic import DueDate, Duration, DurationUnit, add_remaining, compute_due, remaining_time
from mla.deadlines.models import Deadline, DeadlineRule
from mla.deadlines.stages import alert_stages, next_stage_at
from mla.enums import TERMINAL_STATUSES, URGENCY_RANK, Urgency
from mla.errors import Unprocessable
from mla.instruments.models import Instrument
from mla.organisations.models import Organisation
from mla.requests.models import Request

OPEN, MET, MISSED, CANCELLED = "open", "met", "missed", "cancelled"
PAUSE_ACTION, RESUME_ACTION, EXTEND_ACTION, LAPSE_ACTION = (
    "request_clarification",
    "provide_clarification",
    "extend",
    "lapse",
)
# Waiting on the other side: our clarification (outgoing) or the requesting state's (incoming).
PAUSE_ACTIONS = frozenset({PAUSE_ACTION, "request_more_info"})
POSTPONE_ACTION, END_POSTPONEMENT_ACTION = "postpone", "resume"
RECEIVE_ACTION = "receive"  # an incoming request is recorded: its clocks open


@dataclass
class DeadlineChanges:
    """What one action did to the request's clocks, for its audit event."""

    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, what: str, deadline: Deadline) -> None:
        self.entries.setdefault(what, []).append(
            {"id": str(deadline.id), "rule": deadline.rule_code, "due_at": deadline.due_at.isoformat()}
        )

    def as_audit(self) -> dict[str, Any]:
        return {"deadlines": self.entries} if self.entries else {}


def rule_applies(
    rule: DeadlineRule, *, instrument: str, request_type: str, direction: str, data_categories: Collection[str] | None
) -> bool:
    """Every non-empty selector of the rule matches; unknown categories (a preview) match both ways."""
    selectors = ((rule.instrument_codes, instrument), (rule.request_types, request_type), (rule.directions, direction))
    if any(allowed and value not in allowed for allowed, value in selectors):
        return False
    if data_categories is None:
        return True
    if rule.requires_category and rule.requires_category not in data_categories:
        return False
    return not (rule.excludes_category and rule.excludes_category in data_categories)


def rule_duration(rule: DeadlineRule, urgency: str, instrument: Instrument) -> Duration | None:
    """The clock's length at this urgency; None when the rule does not run at it."""
    amount: int | None = getattr(rule, f"{urgency}_amount")
    if rule.amount_from_instrument:
        amount = instrument.preservation_days
    if amount is None:
        return None
    return Duration(amount, DurationUnit(getattr(rule, f"{urgency}_unit")))


def explain(due: DueDate, rule: DeadlineRule) -> str:
    return f"{due.explanation}\nLegal source: {rule.source}"


def compute(rule: DeadlineRule, duration: Duration, start: datetime, organisation: Organisation, name: str) -> DueDate:
    return compute_due(start, duration, country=organisation.country, timezone=organisation.timezone, rule_name=name)


async def applicable_rules(
    session: AsyncSession,
    action: str,
    *,
    instrument: str,
    request_type: str,
    direction: str,
    data_categories: Collection[str] | None,
) -> list[DeadlineRule]:
    rules = await session.scalars(
        select(DeadlineRule).where(DeadlineRule.opens_on == action).order_by(DeadlineRule.code)
    )
    return [
        rule
        for rule in rules
        if rule_applies(
            rule, instrument=instrument, request_type=request_type, direction=direction, data_categories=data_categories
        )
    ]


async def responsible_organisation(session: AsyncSession, rule: DeadlineRule, request: Request) -> Organisation:
    """Whose calendar (country, holidays, time zone) the clock runs on."""
    organisation_id = request.organisation_id
    if rule.responsible == "central_authority" and request.central_authority_id is not None:
        organisation_id = request.central_authority_id
    return await session.get_one(Organisation, organisation_id)


def new_deadline(request: Request, rule: DeadlineRule, start: datetime, due: DueDate, now: datetime) -> Deadline:
    window = due.due_at - start
    deadline = Deadline(
        id=uuid.uuid4(),
        request_id=request.id,
        rule_id=rule.id,
        kind=rule.kind,
        rule_code=rule.code,
        status=OPEN,
        started_at=start,
        due_at=due.due_at,
        window_seconds=int(window.total_seconds()),
        explanation=explain(due, rule),
        fired_stages=[],
        created_at=now,
    )
    schedule(deadline, rule)
    return deadline


def schedule(deadline: Deadline, rule: DeadlineRule) -> None:
    """Point `next_alert_at` at the first alert stage not yet fired."""
    stages = alert_stages(deadline.due_at, timedelta(seconds=deadline.window_seconds), rule.reminder_leads_hours)
    deadline.next_alert_at = next_stage_at(stages, deadline.fired_stages)


async def apply_action(
    session: AsyncSession,
    clock: Clock,
    request: Request,
    action: str,
    *,
    extend_days: int | None = None,
    until: datetime | None = None,
) -> DeadlineChanges:
    """Update the request's clocks for `action`, which has just moved it to its current status.

    `until` is the postponement's end for `postpone` and `resume`: the clocks that wait on the
    other side keep their remaining time from then on.
    """
    changes = DeadlineChanges()
    now = clock.now()
    instrument = await session.scalar(select(Instrument).where(Instrument.code == request.instrument))
    assert instrument is not None  # a foreign key guarantees it
    for deadline, rule in await open_deadlines(session, request.id):
        if action == EXTEND_ACTION and rule.kind == "preservation_expiry":
            await _extend(session, request, deadline, rule, instrument, extend_days, now, changes)
        elif action in rule.meets_on:
            _close(deadline, MET, action, now, changes)
        elif action == LAPSE_ACTION and rule.lapses_request:
            _close(deadline, MISSED, action, now, changes)
        elif request.status in TERMINAL_STATUSES:
            _close(deadline, CANCELLED, action, now, changes)
        elif action in PAUSE_ACTIONS and rule.pauses_on_clarification and deadline.paused_at is None:
            deadline.paused_at = now
            changes.add("paused", deadline)
        elif action == RESUME_ACTION and deadline.paused_at is not None:
            _resume(deadline, rule, now)
            changes.add("resumed", deadline)
        elif action in (POSTPONE_ACTION, END_POSTPONEMENT_ACTION) and rule.pauses_on_clarification and until:
            if _move_for_postponement(deadline, rule, now, until, postponing=action == POSTPONE_ACTION):
                changes.add("postponed" if action == POSTPONE_ACTION else "resumed", deadline)
    running = {deadline.rule_id for deadline, _ in await open_deadlines(session, request.id)}
    rules = await applicable_rules(
        session,
        action,
        instrument=request.instrument,
        request_type=request.type,
        direction=request.direction,
        data_categories=request.data_categories,
    )
    for rule in rules:
        if rule.id not in running:  # e.g. `accept` again after more information: the clock runs on
            await _open(session, request, rule, instrument, now, changes)
    await refresh_queue_position(session, request)
    return changes


async def restart_recurring(session: AsyncSession, clock: Clock, request: Request, reason: str) -> DeadlineChanges:
    """A follow-up was sent: each open recurring clock is met and starts again from now."""
    changes = DeadlineChanges()
    now = clock.now()
    instrument = await session.scalar(select(Instrument).where(Instrument.code == request.instrument))
    assert instrument is not None
    for deadline, rule in await open_deadlines(session, request.id):
        if rule.recurring and deadline.paused_at is None:
            _close(deadline, MET, reason, now, changes)
            await _open(session, request, rule, instrument, now, changes)
    await refresh_queue_position(session, request)
    return changes


async def open_deadlines(session: AsyncSession, request_id: uuid.UUID) -> list[tuple[Deadline, DeadlineRule]]:
    query = (
        select(Deadline, DeadlineRule)
        .join(DeadlineRule, DeadlineRule.id == Deadline.rule_id)
        .where(Deadline.request_id == request_id, Deadline.status == OPEN)
        .order_by(Deadline.due_at)
        .with_for_update(of=Deadline)
    )
    return [(row.Deadline, row.DeadlineRule) for row in await session.execute(query)]


async def _open(
    session: AsyncSession,
    request: Request,
    rule: DeadlineRule,
    instrument: Instrument,
    now: datetime,
    changes: DeadlineChanges,
) -> None:
    duration = rule_duration(rule, request.urgency, instrument)
    if duration is None:
        return
    organisation = await responsible_organisation(session, rule, request)
    deadline = new_deadline(request, rule, now, compute(rule, duration, now, organisation, rule.name), now)
    session.add(deadline)
    changes.add("opened", deadline)


def _close(deadline: Deadline, status: str, action: str, now: datetime, changes: DeadlineChanges) -> None:
    deadline.status, deadline.closed_at, deadline.closed_by_action, deadline.next_alert_at = status, now, action, None
    changes.add(status, deadline)


def _resume(deadline: Deadline, rule: DeadlineRule, now: datetime) -> None:
    assert deadline.paused_at is not None
    moved_from = deadline.due_at
    deadline.due_at = add_remaining(now, remaining_time(deadline.due_at, deadline.paused_at))
    deadline.explanation += (
        f"\nPaused {deadline.paused_at.isoformat()} to {now.isoformat()} while the counterparty awaited our "
        f"clarification; the remaining time was kept, so the due moment moved from {moved_from.isoformat()} "
        f"to {deadline.due_at.isoformat()}."
    )
    deadline.paused_at = None
    schedule(deadline, rule)


def _move_for_postponement(
    deadline: Deadline, rule: DeadlineRule, now: datetime, until: datetime, *, postponing: bool
) -> bool:
    """A postponed clock pauses until `until`: the time it had left runs from then, or from an earlier
    `resume`. An overdue clock stays overdue. Returns whether the due moment moved."""
    if postponing:
        left, restart, what = deadline.due_at - now, until, f"Postponed until {until.isoformat()}"
    elif until > now:
        left, restart, what = (
            deadline.due_at - until,
            now,
            f"Resumed before the postponement's end ({until.isoformat()})",
        )
    else:
        return False  # the postponement is over: the clock has been running since `until`
    if left <= timedelta(0):
        return False
    moved_from = deadline.due_at
    deadline.due_at = add_remaining(restart, left)
    deadline.explanation += (
        f"\n{what}, at {now.isoformat()}: the remaining time was kept, so the due moment moved from "
        f"{moved_from.isoformat()} to {deadline.due_at.isoformat()}."
    )
    schedule(deadline, rule)
    return True


async def _extend(
    session: AsyncSession,
    request: Request,
    deadline: Deadline,
    rule: DeadlineRule,
    instrument: Instrument,
    days: int | None,
    now: datetime,
    changes: DeadlineChanges,
) -> None:
    """Close the running expiry and open its extension, counted from the old expiry."""
    days = days or instrument.extension_days
    if days is None:
        raise Unprocessable(
            f"Instrument {instrument.code} has no default extension: say how many days.",
            errors=[{"field": "days", "message": "required for this instrument"}],
        )
    _close(deadline, MET, EXTEND_ACTION, now, changes)
    organisation = await responsible_organisation(session, rule, request)
    name = f"{rule.name} (extended by {days} days from the previous expiry)"
    due = compute(rule, Duration(days, DurationUnit.CALENDAR_DAYS), deadline.due_at, organisation, name)
    extension = new_deadline(request, rule, deadline.due_at, due, now)
    session.add(extension)
    changes.add("opened", extension)


async def refresh_queue_position(session: AsyncSession, request: Request) -> None:
    """Keep the queue's ordering columns: urgency rank and the earliest running due moment."""
    await session.flush()
    query = select(Deadline.due_at).where(
        Deadline.request_id == request.id, Deadline.status == OPEN, Deadline.paused_at.is_(None)
    )
    request.next_due_at = min(await session.scalars(query), default=None)
    request.urgency_rank = URGENCY_RANK[Urgency(request.urgency)]


async def list_deadlines(session: AsyncSession, request_id: uuid.UUID) -> list[tuple[Deadline, DeadlineRule]]:
    query = (
        select(Deadline, DeadlineRule)
        .join(DeadlineRule, DeadlineRule.id == Deadline.rule_id)
        .where(Deadline.request_id == request_id)
        .order_by(Deadline.started_at, Deadline.due_at, Deadline.id)
    )
    return [(row.Deadline, row.DeadlineRule) for row in await session.execute(query)]
