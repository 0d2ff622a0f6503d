"""Administrators edit the deadline rules (SPEC §6); an edit recomputes the open clocks that use it.

Decisions:
- Editable: name, source, `meets_on`, the duration at each urgency (amount and unit; a null
  amount means the clock does not run at that urgency), the reminder lead times, how the rule
  counts (`legal` or `elapsed`) and whether its source was verified. What a rule applies to, which
  action opens it and whose calendar it runs on are not: changing them would strand running clocks.
- A rule whose length is the instrument's preservation days (`amount_from_instrument`) refuses
  amounts (422: edit the instrument); its units may change.
- When a duration, the name, the source or the reminder leads change, every OPEN deadline of the
  rule is recomputed in the administrator's transaction: from its `started_at`, with the new
  duration for its request's urgency, on the responsible organisation's calendar.
  - Time the clock already spent paused (clarification) is kept: the due moment moves by exactly
    the change in the computed length (a `legal` clock keeps the whole days pauses added to its
    last day, and the new last day is rolled forward to a working day again).
  - A paused clock is recomputed and stays paused; when it resumes it keeps the time left until
    its new due moment.
  - An extension keeps its due moment: its length is the extension granted from the previous
    expiry, not the rule's duration. It is recognised by its start: the due moment of a clock of
    the same rule and request that `extend` closed (its explanation says "extended by", but so
    may a rule's source text).
  - A clock the rule no longer runs at its request's urgency is cancelled.
  - Alert stages already fired stay fired (each fires at most once); the next is rescheduled.
  Each request whose clocks moved gets its queue position refreshed and one `recompute_deadline`
  event on its chain; the edit itself is one `update_deadline_rule` event on the admin chain.
  The request's `version` is not bumped: none of its own fields change, only its clocks.
- `meets_on` applies to actions taken from now on; a rule that starts running at an urgency opens
  clocks only on later actions, never retroactively.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service as audit
from mla.clock import Clock
from mla.deadlines import rules_repository
from mla.deadlines.arithmetic import Duration, DurationUnit
from mla.deadlines.models import Deadline, DeadlineRule
from mla.deadlines.schemas import DeadlineRuleOut, DeadlineRulePatch
from mla.deadlines.service import (
    CANCELLED,
    Calendar,
    compute,
    explain,
    keep_pauses,
    refresh_queue_position,
    request_parties,
    rule_duration,
    schedule,
)
from mla.enums import Urgency
from mla.errors import NotFound, Unprocessable
from mla.instruments import repository as instruments
from mla.instruments.schemas import InstrumentOut
from mla.users.principal import Principal

AMOUNT_FIELDS = tuple(f"{urgency}_amount" for urgency in Urgency)
DURATION_FIELDS = (*AMOUNT_FIELDS, *(f"{urgency}_unit" for urgency in Urgency))
RECOMPUTING_FIELDS = frozenset(
    {*DURATION_FIELDS, "name", "source", "reminder_leads_hours", "counting", "source_verified"}
)
# Fields whose change rewrites the explanation even when the due moment stays.
EXPLAINED_FIELDS = ("name", "source", "counting", "source_verified")
MAX_AMOUNT = {
    DurationUnit.CALENDAR_DAYS: 3650,
    DurationUnit.BUSINESS_DAYS: 3650,
    DurationUnit.WEEKS: 520,
    DurationUnit.MONTHS: 120,
    DurationUnit.HOURS: 8760,
}
# `closed_by_action` of a clock cancelled because its rule stopped running at the request's urgency.
RULE_STOPPED = "update_deadline_rule"


@dataclass
class RecomputeSummary:
    requests: int = 0
    deadlines: int = 0
    cancelled: int = 0

    def as_audit(self) -> dict[str, int]:
        return {"requests": self.requests, "deadlines": self.deadlines, "cancelled": self.cancelled}


def to_out(rule: DeadlineRule) -> DeadlineRuleOut:
    return msgspec.convert(rule, DeadlineRuleOut, from_attributes=True)


async def list_rules(session: AsyncSession) -> list[DeadlineRuleOut]:
    """Every rule (a dozen rows), ordered by code."""
    return await rules_repository.all_rules(session)


async def get_rule(session: AsyncSession, code: str, *, for_update: bool = False) -> DeadlineRule:
    """Refuses an unknown code (404)."""
    rule = await rules_repository.rule(session, code, for_update=for_update)
    if rule is None:
        raise NotFound(f"No deadline rule with code {code!r}.")
    return rule


async def update_rule(
    session: AsyncSession, clock: Clock, actor: Principal, code: str, patch: DeadlineRulePatch
) -> DeadlineRule:
    """Edit a rule and recompute the open deadlines that use it, all audited, in one transaction.

    Refuses an unknown code (404), an amount on a rule that takes its length from the instrument,
    and an amount too long for its unit (422). An edit that changes nothing records nothing.
    """
    rule = await get_rule(session, code, for_update=True)
    previous = _detached_copy(rule)
    changes: dict[str, Any] = {}
    for name, value in msgspec.structs.asdict(patch).items():
        if value is msgspec.UNSET:
            continue
        new_value = _normalised(name, msgspec.to_builtins(value))
        if getattr(rule, name) != new_value:
            changes[name] = {"before": getattr(rule, name), "after": new_value}
            setattr(rule, name, new_value)
    _require_valid_durations(rule, changes)
    if not changes:
        return rule
    rule.updated_at = clock.now()
    summary = RecomputeSummary()
    if RECOMPUTING_FIELDS & changes.keys():
        summary = await recompute_open_deadlines(session, clock, actor, rule, previous)
    entry = audit.AuditEntry(
        action="update_deadline_rule",
        chain=audit.admin_chain(),
        changes={"code": code, **changes, "recomputed": summary.as_audit()},
    )
    await audit.record(session, clock, actor, entry)
    return rule


async def recompute_open_deadlines(
    session: AsyncSession, clock: Clock, actor: Principal | None, rule: DeadlineRule, previous: DeadlineRule
) -> RecomputeSummary:
    """Recompute every open deadline of `rule` (as edited; `previous` is the rule before the edit).

    Requests are locked before their deadlines, in id order, as the workflow locks them, so an
    action racing with the edit waits for it instead of deadlocking.
    """
    now = clock.now()
    summary = RecomputeSummary()
    requests = await rules_repository.requests_with_open_clock(session, rule.id)
    if not requests:
        return summary
    # Only the locked requests' clocks are recomputed. A clock opened by an action that read the rule
    # before this edit but committed after the requests above were read is missed: closing that race
    # needs the workflow to read the rules it opens FOR SHARE (mla/deadlines/service.py).
    deadlines = await rules_repository.open_clocks_by_request(session, rule.id)
    extended_from = await rules_repository.extended_expiries(session, rule.id)
    by_code = await instruments.instruments_with_codes(session, {request.instrument for request in requests})
    for request in requests:
        calendar = (await request_parties(session, request)).calendar(rule)
        recomputation = _Recomputation(rule, previous, request.urgency, by_code[request.instrument], calendar, now)
        entries = []
        for deadline in deadlines.get(request.id, []):
            if (request.id, deadline.started_at) in extended_from:
                schedule(deadline, rule)  # an extension keeps its length; only its alerts follow the new leads
            elif (entry := recomputation.apply(deadline)) is not None:
                entries.append(entry)
        if not entries:
            continue
        await refresh_queue_position(session, request)
        await audit.record(
            session,
            clock,
            actor,
            audit.request_entry(
                request,
                "recompute_deadline",
                from_status=request.status,
                changes={"rule": rule.code, "deadlines": entries},
            ),
        )
        summary.requests += 1
        summary.deadlines += len(entries)
        summary.cancelled += sum(1 for entry in entries if entry["status"] == CANCELLED)
    return summary


@dataclass(frozen=True)
class _Recomputation:
    """Recomputes the clocks of one request: one rule, one urgency, one calendar."""

    rule: DeadlineRule
    previous: DeadlineRule
    urgency: str
    instrument: InstrumentOut
    calendar: Calendar
    now: datetime

    def apply(self, deadline: Deadline) -> dict[str, Any] | None:
        """Move, cancel or leave the deadline; what changed, for the request's audit event (None: nothing)."""
        before = deadline.due_at
        duration = rule_duration(self.rule, self.urgency, self.instrument)
        if duration is None:
            deadline.status, deadline.closed_at = CANCELLED, self.now
            deadline.closed_by_action, deadline.next_alert_at = RULE_STOPPED, None
            return _entry(deadline, before, None)
        due = compute(self.rule, duration, deadline.started_at, self.calendar, self.rule.name)
        paused_before = self._time_paused_before(deadline)
        due_at, kept = keep_pauses(self.rule, duration, due.due_at, paused_before, self.calendar)
        renamed = any(getattr(self.rule, name) != getattr(self.previous, name) for name in EXPLAINED_FIELDS)
        if due_at == before and not renamed:
            schedule(deadline, self.rule)  # the reminder leads may have changed
            return None
        lines = [explain(due, self.rule, self.instrument, self.calendar)]
        if paused_before:
            lines.append(f"It includes {paused_before} the clock spent paused earlier: {kept}.")
        previous_duration = self._previous_duration()
        what = (
            "" if previous_duration == duration else f" ({_describe(previous_duration)} became {_describe(duration)})"
        )
        moved = "stays" if due_at == before else f"moved from {before.isoformat()} to"
        lines.append(
            f"Recomputed {self.now.isoformat()} because an administrator changed rule {self.rule.code}{what}; "
            f"the due moment {moved} {due_at.isoformat()}."
        )
        if deadline.paused_at is not None:
            lines.append(
                f"Paused since {deadline.paused_at.isoformat()}: when the clock resumes, it keeps the time "
                f"left until {due_at.isoformat()}."
            )
        deadline.due_at = due_at
        deadline.window_seconds = int((due.due_at - deadline.started_at).total_seconds())
        deadline.explanation = "\n".join(lines)
        schedule(deadline, self.rule)
        return _entry(deadline, before, due_at)

    def _previous_duration(self) -> Duration | None:
        return rule_duration(self.previous, self.urgency, self.instrument)

    def _time_paused_before(self, deadline: Deadline) -> timedelta:
        """How far earlier pauses pushed the due moment past what the old rule computed."""
        old = self._previous_duration()
        if not self.rule.pauses_on_clarification or old is None:
            return timedelta(0)
        nominal = compute(self.previous, old, deadline.started_at, self.calendar, self.previous.name)
        return deadline.due_at - nominal.due_at


def _entry(deadline: Deadline, before: datetime, after: datetime | None) -> dict[str, Any]:
    return {
        "id": str(deadline.id),
        "kind": deadline.kind,
        "status": deadline.status,
        "paused": deadline.paused_at is not None,
        "due_at": {"before": before.isoformat(), "after": None if after is None else after.isoformat()},
    }


def _describe(duration: Duration | None) -> str:
    if duration is None:
        return "no clock"
    return f"{duration.amount} {duration.unit.value.replace('_', ' ')}"


def _normalised(name: str, value: Any) -> Any:
    if name == "reminder_leads_hours":
        return sorted(set(value), reverse=True)
    if name == "meets_on":
        return list(dict.fromkeys(value))
    return value


def _require_valid_durations(rule: DeadlineRule, changes: dict[str, Any]) -> None:
    errors = []
    if rule.amount_from_instrument:
        errors += [
            {"field": name, "message": "this rule runs for the instrument's preservation days: edit the instrument"}
            for name in AMOUNT_FIELDS
            if name in changes
        ]
    for urgency in Urgency:
        amount, unit = getattr(rule, f"{urgency}_amount"), DurationUnit(getattr(rule, f"{urgency}_unit"))
        if amount is not None and amount > MAX_AMOUNT[unit]:
            errors.append({"field": f"{urgency}_amount", "message": f"at most {MAX_AMOUNT[unit]} {unit.value}"})
    if errors:
        raise Unprocessable(f"{errors[0]['field']}: {errors[0]['message']}", errors=errors)


def _detached_copy(rule: DeadlineRule) -> DeadlineRule:
    """The rule as it was, for recomputing what the old durations gave; never added to the session."""
    return DeadlineRule(**{column.key: getattr(rule, column.key) for column in inspect(DeadlineRule).column_attrs})
