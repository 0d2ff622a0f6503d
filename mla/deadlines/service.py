"""Deadlines follow the workflow: an action opens, meets, cancels, pauses or resumes clocks.

Called inside the action's transaction, after the request's status changed; the returned summary
goes into the action's audit event.

Decisions:
- Each clock runs on the calendar of the party who must act (Reg. 1182/71 art 2(1)): the
  counterparty's country and time zone for its answers, the enforcing authority's state for its
  review, the central authority's for its review, the requesting organisation's for its own.
- A clock whose legal start is the counterparty's receipt (`starts_at_receipt`) runs from the
  transmission until the counterparty's receipt time is recorded (`received_at` on `acknowledge`
  or `confirm_preserved`), then restarts from it, once.
- `outlives_fulfilment` clocks (enforcing-authority review, emergency validation) are not
  cancelled when the data arrive; `met_when_passed` clocks (a window for the other side to
  object) are met when they pass without an answer (the worker closes them, `passed`).
- A preservation confirmed after its expiry passed (counted from receipt, a receipt time given
  with the confirmation included) is refused (409): the duty to preserve had already ended, and a
  `preserved` request whose expiry was already overdue would never lapse.
- Extensions of a preservation are capped per instrument (`max_extensions` of at most
  `extension_days` each) and must be asked before the running expiry: a refusal is a 409 naming
  the limit.
"""

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service as audit
from mla.clock import Clock
from mla.deadlines import repository
from mla.deadlines.arithmetic import (
    Counting,
    DueDate,
    Duration,
    DurationUnit,
    add_remaining,
    compute_due,
    keep_paused_time,
    resume_due,
)
from mla.deadlines.models import Deadline, DeadlineRule
from mla.deadlines.repository import DeadlineRow
from mla.deadlines.stages import PASSED, alert_stages, next_stage_at
from mla.enums import (
    TERMINAL_STATUSES,
    URGENCY_RANK,
    Action,
    ClockEffect,
    DataCategory,
    DeadlineStatus,
    RequestStatus,
    Urgency,
)
from mla.errors import Conflict, Unprocessable
from mla.fields import default_timezone
from mla.instruments.models import Instrument
from mla.reference import cache as reference_data
from mla.reference.cache import ReferenceData
from mla.requests.models import Request

OPEN, MET, MISSED, CANCELLED = DeadlineStatus
# `DeadlineRule.responsible` besides "owner", the requesting organisation.
CENTRAL_AUTHORITY, COUNTERPARTY, ENFORCING_AUTHORITY = "central_authority", "counterparty", "enforcing_authority"
# Conditions a rule may require of a request (`DeadlineRule.applies_when`).
NOTIFIED, WITHOUT_VALIDATION = "notified_enforcing_authority", "issued_without_prior_validation"
# Reg. 2023/1543 art 8(1): notification only for traffic data (not identification) and content data.
NOTIFIABLE_CATEGORIES = frozenset({DataCategory.TRAFFIC.value, DataCategory.CONTENT.value})
UNVERIFIED_NOTE = (
    "Source not verified: this period or article could not be checked against the legal text here; "
    "check it before relying on this deadline."
)


@dataclass(frozen=True)
class Calendar:
    """Whose days a clock counts: country (holidays), IANA time zone, and who that is."""

    country: str
    timezone: str
    party: str
    note: str = ""  # why another calendar stood in (the calculator without a counterparty)


# Rows of the reference cache on the workflow's path, ORM objects in the rules' admin and the calculator.
RuleLike = Row[Any] | DeadlineRule
InstrumentLike = Row[Any] | Instrument
DeadlineLike = DeadlineRow | Deadline


@dataclass(frozen=True)
class Parties:
    """Everyone whose calendar a clock of one request may run on (anything with a name, kind, country and
    time zone: rows of the reference cache, or ORM objects in the calculator)."""

    owner: Any
    authority: Any | None
    counterparty: Any | None
    enforcing_state: str | None

    def calendar(self, rule: RuleLike) -> Calendar:
        """The calendar of the party who must act under `rule` (Reg. 1182/71 art 2(1))."""
        if rule.responsible == ENFORCING_AUTHORITY and (self.enforcing_state or self.counterparty):
            state = self.enforcing_state or self.counterparty.country  # type: ignore[union-attr]
            return Calendar(state, default_timezone(state), f"the enforcing authority of {state}")
        if rule.responsible in (COUNTERPARTY, ENFORCING_AUTHORITY) and self.counterparty is not None:
            target = self.counterparty
            return Calendar(target.country, target.timezone, f"the {target.kind} {target.name}")
        if rule.responsible == CENTRAL_AUTHORITY and self.authority is not None:
            return _organisation_calendar(self.authority, "the central authority")
        calendar = _organisation_calendar(self.owner, "the requesting organisation")
        if rule.responsible in (COUNTERPARTY, ENFORCING_AUTHORITY):
            note = "No counterparty was given: the organisation's calendar stands in for the party who must act."
            return Calendar(calendar.country, calendar.timezone, calendar.party, note)
        return calendar


def _organisation_calendar(organisation: Any, role: str) -> Calendar:
    return Calendar(organisation.country, organisation.timezone, f"{role} {organisation.name}")


RECEIVE_ACTION = "receive"  # an incoming request is recorded: its clocks open


@dataclass
class DeadlineChanges:
    """What one action did to the request's clocks, for its audit event."""

    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, what: str, deadline: DeadlineLike) -> None:
        self.entries.setdefault(what, []).append(
            {"id": str(deadline.id), "rule": deadline.rule_code, "due_at": deadline.due_at.isoformat()}
        )

    def as_audit(self) -> dict[str, Any]:
        return {"deadlines": self.entries} if self.entries else {}


def rule_applies(
    rule: RuleLike,
    *,
    instrument: str,
    request_type: str,
    direction: str,
    data_categories: Collection[str] | None,
    conditions: Collection[str] = (),
) -> bool:
    """Every non-empty selector of the rule matches and its condition, if any, is among `conditions`;
    unknown categories (a preview) match both ways."""
    selectors = ((rule.instrument_codes, instrument), (rule.request_types, request_type), (rule.directions, direction))
    if any(allowed and value not in allowed for allowed, value in selectors):
        return False
    if rule.applies_when and rule.applies_when not in conditions:
        return False
    if data_categories is None:
        return True
    if rule.requires_category and rule.requires_category not in data_categories:
        return False
    return not (rule.excludes_category and rule.excludes_category in data_categories)


def rule_duration(rule: RuleLike, urgency: str, instrument: InstrumentLike) -> Duration | None:
    """The clock's length at this urgency; None when the rule does not run at it."""
    amount: int | None = getattr(rule, f"{urgency}_amount")
    if rule.amount_from_instrument:
        amount = instrument.preservation_days
    if amount is None:
        return None
    return Duration(amount, DurationUnit(getattr(rule, f"{urgency}_unit")))


def request_conditions(request: Request) -> frozenset[str]:
    """The named conditions (`DeadlineRule.applies_when`) that hold for a request."""
    held = set()
    if request.notified_enforcing_state and NOTIFIABLE_CATEGORIES & set(request.data_categories):
        held.add(NOTIFIED)
    if request.issued_without_prior_validation:
        held.add(WITHOUT_VALIDATION)
    return frozenset(held)


def source_verified(rule: RuleLike, instrument: InstrumentLike) -> bool:
    return rule.source_verified and instrument.source_verified


def explain(due: DueDate, rule: RuleLike, instrument: InstrumentLike, calendar: Calendar) -> str:
    lines = [due.explanation, f"Legal source: {rule.source}"]
    if calendar.note:
        lines.insert(1, calendar.note)
    if not source_verified(rule, instrument):
        lines.append(UNVERIFIED_NOTE)
    return "\n".join(lines)


def compute(rule: RuleLike, duration: Duration, start: datetime, calendar: Calendar, name: str) -> DueDate:
    return compute_due(
        start,
        duration,
        country=calendar.country,
        timezone=calendar.timezone,
        rule_name=name,
        counting=Counting(rule.counting),
        party=calendar.party,
    )


def keep_pauses(
    rule: RuleLike, duration: Duration, due_at: datetime, paused: timedelta, calendar: Calendar
) -> tuple[datetime, str]:
    """`due_at` moved by the time earlier pauses kept, as the rule counts (whole days when legal)."""
    return keep_paused_time(
        due_at,
        paused,
        counting=Counting(rule.counting),
        unit=duration.unit,
        country=calendar.country,
        timezone=calendar.timezone,
    )


async def applicable_rules(
    session: AsyncSession,
    action: str,
    *,
    instrument: str,
    request_type: str,
    direction: str,
    data_categories: Collection[str] | None,
    conditions: Collection[str] = (),
) -> list[Row[Any]]:
    """The rules whose clock `action` opens for such a request, by code (from the reference cache)."""
    return [
        rule
        for rule in (await reference_data.current(session)).rules_opened_by(action)
        if rule_applies(
            rule,
            instrument=instrument,
            request_type=request_type,
            direction=direction,
            data_categories=data_categories,
            conditions=conditions,
        )
    ]


async def request_parties(session: AsyncSession, request: Any, *, with_counterparty: bool = True) -> Parties:
    """The owner, central authority, counterparty and notified state of a request; the organisations come
    from the reference cache, the counterparty (unless left out) from the database."""
    known = await reference_data.current(session)
    authority = None if request.central_authority_id is None else known.organisation(request.central_authority_id)
    counterparty = await repository.counterparty_calendar(session, request.target_id) if with_counterparty else None
    return Parties(
        owner=known.organisation(request.organisation_id),
        authority=authority,
        counterparty=counterparty,
        enforcing_state=request.notified_enforcing_state,
    )


async def responsible_calendar(session: AsyncSession, rule: RuleLike, request: Any) -> Calendar:
    """Whose calendar (country, holidays, time zone) the clock runs on: the party who must act (the
    counterparty is read only for the clocks that may run on its calendar)."""
    on_their_side = rule.responsible in (COUNTERPARTY, ENFORCING_AUTHORITY)
    return (await request_parties(session, request, with_counterparty=on_their_side)).calendar(rule)


def new_deadline(
    request: Any, rule: RuleLike, start: datetime, due: DueDate, explanation: str, now: datetime
) -> DeadlineRow:
    window = due.due_at - start
    deadline = DeadlineRow(
        id=uuid.uuid4(),
        request_id=request.id,
        rule_id=rule.id,
        kind=rule.kind,
        rule_code=rule.code,
        status=OPEN,
        started_at=start,
        due_at=due.due_at,
        window_seconds=int(window.total_seconds()),
        explanation=explanation,
        fired_stages=[],
        created_at=now,
    )
    schedule(deadline, rule)
    return deadline


def schedule(deadline: DeadlineLike, rule: RuleLike) -> None:
    """Store the deadline's alert stages and point `next_alert_at` at the first one not yet fired."""
    stages = alert_stages(
        deadline.due_at,
        timedelta(seconds=deadline.window_seconds),
        rule.reminder_leads_hours,
        met_when_passed=rule.met_when_passed,
        lapses_request=rule.lapses_request,
    )
    deadline.alert_stages = [stage for stage, _ in stages]
    deadline.alert_stage_times = [at for _, at in stages]
    deadline.next_alert_at = next_stage_at(stages, deadline.fired_stages)


@dataclass(frozen=True)
class ActionClocks:
    """What a workflow action tells the clocks: its name (the rules it opens and meets), what else it
    does to them (the transition table's `clocks`) and the moments and length it carries."""

    action: str
    effect: ClockEffect | None = None
    extend_days: int | None = None
    received_at: datetime | None = None  # the counterparty's receipt, recorded by this action
    until: datetime | None = None  # the postponement's end, for `postpone` and `resume`


async def apply_action(
    session: AsyncSession,
    clock: Clock,
    request: Any,
    taken: ActionClocks,
    instrument: InstrumentLike | None = None,
) -> DeadlineChanges:
    """Update the request's clocks for an action that has just moved it to its current status, and
    its queue position (`next_due_at`, `urgency_rank`) on `request`, which the caller writes.

    `request` is the request row (a `Request` or a row struct); `instrument` its instrument when the
    caller read it already. Clocks that run from receipt restart from `taken.received_at`; for
    `postpone` and `resume` the clocks that wait on the other side keep their remaining time from
    `taken.until` on. Refuses an extension beyond the instrument's cap or after the expiry (409), and
    one without a length where the instrument has none (422).
    """
    changes = DeadlineChanges()
    now = clock.now()
    known = await reference_data.current(session)
    instrument = instrument or known.instrument(request.instrument)
    assert instrument is not None  # a foreign key guarantees it
    running = await _running(session, known, request.id)
    opened: list[DeadlineRow] = []
    for deadline, rule, _ in running:
        opened += await _follow(session, request, deadline, rule, instrument, taken, now, changes)
    rules = await applicable_rules(
        session,
        taken.action,
        instrument=request.instrument,
        request_type=request.type,
        direction=request.direction,
        data_categories=request.data_categories,
        conditions=request_conditions(request),
    )
    if taken.effect == ClockEffect.CONFIRM:
        _require_unexpired(running, now)
    open_now = [deadline for deadline, _, _ in running if deadline.status == OPEN] + opened
    running_rules = {deadline.rule_id for deadline in open_now}
    for rule in rules:
        if rule.id not in running_rules:  # e.g. `accept` again after more information: the clock runs on
            new = await _open(session, request, rule, instrument, now, changes)
            open_now += new
            opened += new
    await _write(session, running, opened)
    request.next_due_at = min((d.due_at for d in open_now if d.paused_at is None), default=None)
    request.urgency_rank = URGENCY_RANK[Urgency(request.urgency)]
    return changes


class _Running(NamedTuple):
    """An open clock with its rule, and its columns as read (to write back only what an action changed)."""

    deadline: DeadlineRow
    rule: Row[Any]
    read: dict[str, Any]


async def _running(session: AsyncSession, known: ReferenceData, request_id: uuid.UUID) -> list[_Running]:
    """The request's open clocks (locked), each with its rule from the reference cache."""
    return [
        _Running(deadline, known.deadline_rule(deadline.rule_id), deadline.values())
        for deadline in await repository.open_deadlines(session, request_id)
    ]


async def _write(session: AsyncSession, running: list[_Running], opened: list[DeadlineRow]) -> None:
    """One UPDATE per clock the action changed, one INSERT of the clocks it opened."""
    for deadline, _, read in running:
        changed = {name: value for name, value in deadline.values().items() if value != read[name]}
        if changed:
            await repository.update_deadline(session, deadline.id, changed)
    await repository.insert_deadlines(session, opened)


def _require_unexpired(deadlines: list[_Running], now: datetime) -> None:
    """Refuse (409) a confirmation of a preservation whose expiry already passed (after any restart
    from a receipt time given with it)."""
    for deadline, rule, _ in deadlines:
        if deadline.status == OPEN and rule.lapses_request and deadline.due_at < now:
            raise Conflict(
                f"The preservation period ended at {deadline.due_at.isoformat()}: a confirmation after it "
                "preserves nothing. File a new preservation request (or record the receipt time, if the "
                "period runs from a later receipt)."
            )


async def _follow(
    session: AsyncSession,
    request: Any,
    deadline: DeadlineRow,
    rule: RuleLike,
    instrument: InstrumentLike,
    taken: ActionClocks,
    now: datetime,
    changes: DeadlineChanges,
) -> list[DeadlineRow]:
    """One open clock after the action: met, missed, cancelled, paused, resumed, restarted or moved;
    returns the clock an extension opens."""
    effect, action = taken.effect, taken.action
    if effect == ClockEffect.EXTEND and rule.kind == "preservation_expiry":
        return [await _extend(session, request, deadline, rule, instrument, taken.extend_days, now, changes)]
    if action in rule.meets_on:
        _close(deadline, MET, action, now, changes)
    elif effect == ClockEffect.LAPSE and rule.lapses_request:
        _close(deadline, MISSED, action, now, changes)
    elif request.status in TERMINAL_STATUSES and not (
        rule.outlives_fulfilment and request.status == RequestStatus.FULFILLED
    ):
        _close(deadline, CANCELLED, action, now, changes)
    elif effect == ClockEffect.PAUSE and rule.pauses_on_clarification and deadline.paused_at is None:
        deadline.paused_at = now
        changes.add("paused", deadline)
    elif effect == ClockEffect.RESUME and deadline.paused_at is not None:
        await _resume(session, request, deadline, rule, instrument, now)
        changes.add("resumed", deadline)
    elif taken.received_at is not None and rule.starts_at_receipt and deadline.started_at < taken.received_at:
        await _restart_from_receipt(session, request, deadline, rule, instrument, taken.received_at, changes)
    elif effect in _POSTPONING and rule.pauses_on_clarification and taken.until:
        postponing = effect == ClockEffect.POSTPONE
        if _move_for_postponement(deadline, rule, now, taken.until, postponing=postponing):
            changes.add("postponed" if postponing else "resumed", deadline)
    return []


_POSTPONING = frozenset({ClockEffect.POSTPONE, ClockEffect.END_POSTPONEMENT})


async def restart_recurring(session: AsyncSession, clock: Clock, request: Request, reason: str) -> DeadlineChanges:
    """A follow-up was sent: each open recurring clock is met and starts again from now."""
    changes = DeadlineChanges()
    now = clock.now()
    known = await reference_data.current(session)
    instrument = known.instrument(request.instrument)
    assert instrument is not None  # a foreign key guarantees it
    running = await _running(session, known, request.id)
    opened: list[DeadlineRow] = []
    for deadline, rule, _ in running:
        if rule.recurring and deadline.paused_at is None:
            _close(deadline, MET, reason, now, changes)
            opened += await _open(session, request, rule, instrument, now, changes)
    await _write(session, running, opened)
    await refresh_queue_position(session, request)
    return changes


async def _open(
    session: AsyncSession,
    request: Any,
    rule: RuleLike,
    instrument: InstrumentLike,
    now: datetime,
    changes: DeadlineChanges,
) -> list[DeadlineRow]:
    """The rule's clock, opened now (none when the rule does not run at the request's urgency); the caller
    writes it."""
    computed = await _computed(session, request, rule, instrument, now)
    if computed is None:
        return []
    deadline = new_deadline(request, rule, now, *computed, now)
    changes.add("opened", deadline)
    return [deadline]


async def close_passed(
    session: AsyncSession, clock: Clock, deadline: Deadline, rule: RuleLike, request: Request
) -> None:
    """A window for the other side passed without an answer (`met_when_passed`): it is met, audited.

    The caller holds the request's row lock.
    """
    changes = DeadlineChanges()
    # It ended at its due moment, whenever the worker noticed: never counted as overdue.
    _close(deadline, MET, PASSED, deadline.due_at, changes)
    await refresh_queue_position(session, request)
    reason = f"{rule.name}: the period passed without an answer, so it is met."
    entry = audit.request_entry(request, PASSED, from_status=request.status, changes=changes.as_audit(), reason=reason)
    await audit.record(session, clock, None, entry)


async def _computed(
    session: AsyncSession, request: Any, rule: RuleLike, instrument: InstrumentLike, start: datetime
) -> tuple[DueDate, str] | None:
    """The rule's due moment from `start` on the acting party's calendar, and its explanation (None: no clock)."""
    duration = rule_duration(rule, request.urgency, instrument)
    if duration is None:
        return None
    calendar = await responsible_calendar(session, rule, request)
    due = compute(rule, duration, start, calendar, rule.name)
    return due, explain(due, rule, instrument, calendar)


def _close(deadline: DeadlineLike, status: str, action: str, now: datetime, changes: DeadlineChanges) -> None:
    deadline.status, deadline.closed_at, deadline.closed_by_action, deadline.next_alert_at = status, now, action, None
    changes.add(status, deadline)


async def _resume(
    session: AsyncSession,
    request: Any,
    deadline: DeadlineRow,
    rule: RuleLike,
    instrument: InstrumentLike,
    now: datetime,
) -> None:
    assert deadline.paused_at is not None
    moved_from = deadline.due_at
    duration = rule_duration(rule, request.urgency, instrument)
    calendar = await responsible_calendar(session, rule, request)
    deadline.due_at, how = resume_due(
        deadline.due_at,
        deadline.paused_at,
        now,
        counting=Counting(rule.counting),
        unit=DurationUnit.HOURS if duration is None else duration.unit,
        country=calendar.country,
        timezone=calendar.timezone,
    )
    deadline.explanation += (
        f"\nPaused {deadline.paused_at.isoformat()} to {now.isoformat()} while the counterparty awaited our "
        f"clarification; {how}, so the due moment moved from {moved_from.isoformat()} "
        f"to {deadline.due_at.isoformat()}."
    )
    deadline.paused_at = None
    schedule(deadline, rule)


async def _restart_from_receipt(
    session: AsyncSession,
    request: Any,
    deadline: DeadlineRow,
    rule: RuleLike,
    instrument: InstrumentLike,
    received_at: datetime,
    changes: DeadlineChanges,
) -> None:
    """The legal start is the counterparty's receipt: the clock opened at transmission restarts from it."""
    computed = await _computed(session, request, rule, instrument, received_at)
    if computed is None:
        return
    due, explanation = computed
    moved_from = deadline.due_at
    deadline.started_at, deadline.due_at = received_at, due.due_at
    deadline.window_seconds = int((due.due_at - received_at).total_seconds())
    deadline.explanation = (
        f"{explanation}\nThe counterparty acknowledged receipt at "
        f"{received_at.isoformat()}: the period runs from receipt, so the due moment moved from "
        f"{moved_from.isoformat()} to {due.due_at.isoformat()}."
    )
    schedule(deadline, rule)
    changes.add("restarted_from_receipt", deadline)


def _move_for_postponement(
    deadline: DeadlineRow, rule: RuleLike, now: datetime, until: datetime, *, postponing: bool
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
    request: Any,
    deadline: DeadlineRow,
    rule: RuleLike,
    instrument: InstrumentLike,
    days: int | None,
    now: datetime,
    changes: DeadlineChanges,
) -> DeadlineRow:
    """Close the running expiry and open its extension, counted from the old expiry."""
    days = days or instrument.extension_days
    if days is None:
        raise Unprocessable(
            f"Instrument {instrument.code} has no default extension: say how many days.",
            errors=[{"field": "days", "message": "required for this instrument"}],
        )
    if now > deadline.due_at:
        raise Conflict(
            f"The preservation expired at {deadline.due_at.isoformat()}: an extension must be asked before it ends."
        )
    await _require_extension_allowed(session, request, rule, instrument, days)
    _close(deadline, MET, Action.EXTEND, now, changes)
    calendar = await responsible_calendar(session, rule, request)
    name = f"{rule.name} (extended by {days} days from the previous expiry)"
    due = compute(rule, Duration(days, DurationUnit.CALENDAR_DAYS), deadline.due_at, calendar, name)
    extension = new_deadline(request, rule, deadline.due_at, due, explain(due, rule, instrument, calendar), now)
    changes.add("opened", extension)
    return extension


async def _require_extension_allowed(
    session: AsyncSession, request: Any, rule: RuleLike, instrument: InstrumentLike, days: int
) -> None:
    """Refuse (409, naming the limit) an extension the instrument does not allow."""
    if instrument.max_extensions is None:
        return
    done = await repository.extensions_done(session, request.id, rule.id)
    longest = instrument.extension_days
    limit = {
        "instrument": instrument.code,
        "max_extensions": instrument.max_extensions,
        "extension_days": longest,
        "extensions_done": done,
    }
    allowed = f"{instrument.title} allows at most {_count(instrument.max_extensions, 'extension')}" + (
        f" of at most {longest} days" if longest is not None else ""
    )
    if done >= instrument.max_extensions:
        raise Conflict(f"{allowed}; this preservation was already extended {_count(done, 'time')}.", limit=limit)
    if longest is not None and days > longest:
        raise Conflict(f"{allowed}; {days} days were asked.", limit=limit)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


async def refresh_queue_position(session: AsyncSession, request: Request) -> None:
    """Keep the queue's ordering columns: urgency rank and the earliest running due moment."""
    request.next_due_at = await repository.running_due_at(session, request.id)
    request.urgency_rank = URGENCY_RANK[Urgency(request.urgency)]
