"""Applying workflow actions: one locked, versioned transaction per action, with its audit event.

Each action reads the request row once (locked, with whether the actor authored it), runs the
checks and the clocks the transition table names, and writes the request row once; the queries are
in repository.py (SQLAlchemy Core, rows as msgspec structs).
"""

import uuid
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service as audit
from mla.checks import service as checks
from mla.checks.rules import CheckResult, CheckSettings
from mla.clock import Clock
from mla.deadlines import service as deadlines
from mla.enums import TERMINAL_STATUSES, Action, CheckGate
from mla.errors import DomainError, Forbidden, InvalidTransition, NotFound, Unprocessable
from mla.requests import service as requests
from mla.requests.access import FourEyesViolation, effective_roles
from mla.requests.models import Request
from mla.users.principal import Principal
from mla.workflow import repository
from mla.workflow.repository import LockedRequest, RequestRow
from mla.workflow.schemas import ActionFieldOut, ActionInput, AssignInput, AvailableAction
from mla.workflow.table import SYSTEM, Transition, TransitionRefused, available_actions, plan_transition


async def actions_for(session: AsyncSession, actor: Principal, request_id: uuid.UUID) -> list[AvailableAction]:
    """The actions the table offers the actor on this request now, with the fields each takes."""
    found = await _visible(session, actor, request_id, for_update=False)
    row = found.row
    transitions = available_actions(
        status=row.status,
        direction=row.direction,
        request_type=row.type,
        roles=effective_roles(actor, row),
        is_author=found.by_author,
    )
    return [_available(t, row.status) for t in transitions]


def _available(transition: Transition, status: str) -> AvailableAction:
    fields = [ActionFieldOut(name=f.name, required=f.required, kind=f.kind) for f in transition.fields]
    return AvailableAction(action=transition.action, to_status=transition.next_status(status), fields=fields)


async def _visible(
    session: AsyncSession, actor: Principal, request_id: uuid.UUID, *, for_update: bool
) -> LockedRequest:
    found = await repository.visible(session, actor, request_id, for_update=for_update)
    if found is None:
        raise NotFound("No such request.")
    return found


async def perform_action(
    session: AsyncSession,
    clock: Clock,
    actor: Principal,
    request_id: uuid.UUID,
    action: str,
    data: ActionInput,
    if_match: int | None,
    check_settings: CheckSettings,
) -> RequestRow:
    """Take `action` on a request: 404 unseen or unknown action, 409 wrong status or stale version,
    403 wrong role, 422 missing fields, and for the actions whose checks block (`approve`, `accept`)
    409 naming each blocking check.

    The row stays locked until the transaction ends, so of two racing writers exactly one wins and
    the other sees the new version. Actions that run the checks record them as they stood.
    """
    found = await _visible(session, actor, request_id, for_update=True)
    row = found.row
    transition = _plan(row, actor, action, data, is_author=found.by_author)
    requests.check_version(row, data.version if data.version is not None else if_match)
    if transition.action == Action.POSTPONE:
        _require_future(data.until, clock.now())
    results, instrument = None, None
    if transition.checks != CheckGate.NONE:
        context = await checks.load_context(session, row)
        results, instrument = checks.evaluate_context(clock, context, check_settings), context.instrument
        if transition.checks == CheckGate.BLOCK:
            checks.require_approvable(results, transition.action)
    await _apply(session, clock, actor, row, transition, data, results, instrument)
    return row


async def lapse_request(session: AsyncSession, clock: Clock, request: Request) -> None:
    """The worker's action: a preservation whose expiry passed becomes `expired`, by the system actor.

    The caller holds the request's row lock; the row is read again (the caller's `request` goes stale).
    """
    row = await repository.lock(session, request.id)
    transition = plan_transition(
        Action.LAPSE,
        status=row.status,
        direction=row.direction,
        request_type=row.type,
        roles={SYSTEM},
        is_author=False,
        fields={},
    )
    reason = "The preservation period expired without a follow-up request or an extension."
    await _apply(session, clock, None, row, transition, ActionInput(reason=reason), None, None)


async def _apply(
    session: AsyncSession,
    clock: Clock,
    actor: Principal | None,
    row: RequestRow,
    transition: Transition,
    data: ActionInput,
    results: list[CheckResult] | None,
    instrument: Row[Any] | None,
) -> None:
    """Move the request, its clocks and its version (one UPDATE), and write the action's audit event."""
    before = row.values()
    from_status = row.status
    row.updated_at = clock.now()  # the action's moment: effects read it
    changes = {} if transition.effect is None else await transition.effect(session, row, data)
    row.status = transition.next_status(from_status)
    row.version += 1
    taken = deadlines.ActionClocks(
        transition.action,
        transition.clocks,
        extend_days=data.days,
        received_at=changes.get("counterparty_received_at"),
        until=data.until or before["postponed_until"],
    )
    changes |= (await deadlines.apply_action(session, clock, row, taken, instrument)).as_audit()
    await _write(session, row, before)
    entry = audit.request_entry(
        row,
        transition.action,
        from_status=from_status,
        changes=changes,
        reason=data.reason or data.grounds,
        checks=None if results is None else checks.records(results),
    )
    await audit.record(session, clock, actor, entry)


async def _write(session: AsyncSession, row: RequestRow, before: dict[str, Any]) -> None:
    await repository.write(
        session, row.id, {name: value for name, value in row.values().items() if value != before[name]}
    )


def _plan(request: RequestRow, actor: Principal, action: str, data: ActionInput, *, is_author: bool) -> Transition:
    fields = {name: value for name, value in msgspec.structs.asdict(data).items() if name != "version"}
    try:
        return plan_transition(
            action,
            status=request.status,
            direction=request.direction,
            request_type=request.type,
            roles=effective_roles(actor, request),
            is_author=is_author,
            fields=fields,
        )
    except TransitionRefused as refused:
        raise _as_domain_error(refused) from refused


def _as_domain_error(refused: TransitionRefused) -> Exception:
    if refused.reason == "unknown_action":
        return NotFound(refused.message)
    if refused.reason == "wrong_status":
        return InvalidTransition(refused.message)
    if refused.reason == "wrong_role":
        return Forbidden(refused.message)
    if refused.reason == "four_eyes":
        return FourEyesViolation(refused.message)
    errors = [{"field": name, "message": "required for this action"} for name in refused.missing]
    return Unprocessable(refused.message, errors=errors)


def _require_future(until: datetime | None, now: datetime) -> None:
    if until is not None and until <= now:
        raise Unprocessable(
            f"A postponement runs until a moment still to come, not {until.isoformat()}.",
            errors=[{"field": "until", "message": "must lie in the future"}],
        )


async def assign(
    session: AsyncSession,
    clock: Clock,
    actor: Principal,
    request_id: uuid.UUID,
    data: AssignInput,
    if_match: int | None,
) -> RequestRow:
    """Give a request to a user of its owning organisation or its central authority (None: unassign)."""
    row = (await _visible(session, actor, request_id, for_update=True)).row
    if refusal := assignment_refusal(actor, row):
        raise refusal
    requests.check_version(row, data.version if data.version is not None else if_match)
    if data.user_id is not None:
        await _require_assignable(session, row, data.user_id)
    before = row.values()
    row.assignee_id = data.user_id
    row.version += 1
    row.updated_at = clock.now()
    await _write(session, row, before)
    changes = {"assignee_id": {"before": before["assignee_id"], "after": data.user_id}}
    await audit.record(
        session, clock, actor, audit.request_entry(row, "assign", from_status=row.status, changes=changes)
    )
    return row


def assignment_refusal(actor: Principal, request: Any) -> DomainError | None:
    """Why the actor may not (re)assign this request (a `Request` or a row) now (403 read-only, 409 closed),
    or None if they may."""
    if not effective_roles(actor, request):
        return Forbidden("Only the request's prosecutors and central authority officers may do this.")
    if request.status in TERMINAL_STATUSES:
        return InvalidTransition(f"A {request.status} request is closed.")
    return None


async def _require_assignable(session: AsyncSession, row: RequestRow, user_id: uuid.UUID) -> None:
    organisations = {row.organisation_id, row.central_authority_id, row.executing_organisation_id} - {None}
    if not await repository.is_assignable(session, user_id, organisations):  # type: ignore[arg-type]
        raise Unprocessable(
            "The assignee must be an active user of the requesting organisation, its central authority or the "
            "prosecution service executing the request.",
            errors=[{"field": "user_id", "message": "not a user who can handle this request"}],
        )
