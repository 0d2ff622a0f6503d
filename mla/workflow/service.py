"""Applying workflow actions: one locked, versioned transaction per action, with its audit event."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service as audit
from mla.checks import service as checks
from mla.checks.rules import CheckResult, CheckSettings
from mla.clock import Clock
from mla.deadlines import service as deadlines
from mla.enums import TERMINAL_STATUSES, OrganisationKind
from mla.errors import Conflict, DomainError, Forbidden, InvalidTransition, NotFound, Unprocessable
from mla.organisations.models import Organisation
from mla.requests import service as requests
from mla.requests.access import FourEyesViolation, effective_roles, is_author
from mla.requests.models import Request
from mla.users.models import User
from mla.users.principal import Principal
from mla.workflow.schemas import ActionFieldOut, ActionInput, AssignInput, AvailableAction
from mla.workflow.table import SYSTEM, Action, Transition, TransitionRefused, available_actions, plan_transition

CHECKED_ACTIONS = frozenset({Action.SUBMIT, Action.APPROVE, Action.ACCEPT})
# Refused (409, naming the failing checks) while a blocking check fails or an attestation is missing.
GATED_ACTIONS = frozenset({Action.APPROVE, Action.ACCEPT})
# Budapest art 30: the requested Party discloses traffic data while executing an art 29 request.
TRAFFIC_DISCLOSURE_INSTRUMENTS = frozenset({"budapest-29"})
ENFORCING_REVIEW = "enforcing_review"  # the deadline kind of Reg. 2023/1543 art 12(1)

Effect = Callable[[AsyncSession, Request, ActionInput], Awaitable[dict[str, Any]]]


async def actions_for(session: AsyncSession, actor: Principal, request_id: uuid.UUID) -> list[AvailableAction]:
    request = await requests.get_request(session, actor, request_id)
    transitions = available_actions(
        status=request.status,
        direction=request.direction,
        request_type=request.type,
        roles=effective_roles(actor, request),
        is_author=await is_author(session, actor, request),
    )
    return [_available(t, request.status) for t in transitions]


def _available(transition: Transition, status: str) -> AvailableAction:
    fields = [ActionFieldOut(name=f.name, required=f.required, kind=f.kind) for f in transition.fields]
    return AvailableAction(action=transition.action, to_status=transition.next_status(status), fields=fields)


async def perform_action(
    session: AsyncSession,
    clock: Clock,
    actor: Principal,
    request_id: uuid.UUID,
    action: str,
    data: ActionInput,
    if_match: int | None,
    check_settings: CheckSettings,
) -> Request:
    """Take `action` on a request: 404 unseen or unknown action, 409 wrong status or stale version,
    403 wrong role, 422 missing fields, and for `approve` and `accept` 409 naming each blocking check.

    The row stays locked until the transaction ends, so of two racing writers exactly one wins and
    the other sees the new version. `submit` and `approve` record the checks as they stood.
    """
    request = await requests.get_request(session, actor, request_id, for_update=True)
    transition = _plan(request, actor, action, data, is_author=await is_author(session, actor, request))
    requests.check_version(request, data.version if data.version is not None else if_match)
    if transition.action == Action.POSTPONE:
        _require_future(data.until, clock.now())
    results = None
    if transition.action in CHECKED_ACTIONS:
        results = await checks.evaluate_request(session, clock, request, check_settings)
        if transition.action in GATED_ACTIONS:
            checks.require_approvable(results, transition.action)
    await _apply(session, clock, actor, request, transition, data, results)
    return request


async def lapse_request(session: AsyncSession, clock: Clock, request: Request) -> None:
    """The worker's action: a preservation whose expiry passed becomes `expired`, by the system actor.

    The caller holds the request's row lock.
    """
    transition = plan_transition(
        Action.LAPSE,
        status=request.status,
        direction=request.direction,
        request_type=request.type,
        roles={SYSTEM},
        is_author=False,
        fields={},
    )
    reason = "The preservation period expired without a follow-up request or an extension."
    await _apply(session, clock, None, request, transition, ActionInput(reason=reason), None)


async def _apply(
    session: AsyncSession,
    clock: Clock,
    actor: Principal | None,
    request: Request,
    transition: Transition,
    data: ActionInput,
    results: list[CheckResult] | None,
) -> None:
    """Move the request, its clocks and its version, and write the action's audit event."""
    from_status, postponed_until = request.status, request.postponed_until
    request.updated_at = clock.now()  # the action's moment: effects read it
    changes = await EFFECTS.get(transition.action, _no_effect)(session, request, data)
    request.status = transition.next_status(from_status)
    request.version += 1
    clocks = await deadlines.apply_action(
        session,
        clock,
        request,
        transition.action,
        extend_days=data.days,
        received_at=changes.get("counterparty_received_at"),
        until=data.until or postponed_until,
    )
    changes |= clocks.as_audit()
    entry = audit.request_entry(
        request,
        transition.action,
        from_status=from_status,
        changes=changes,
        reason=data.reason or data.grounds,
        checks=None if results is None else checks.records(results),
    )
    await audit.record(session, clock, actor, entry)


def _plan(request: Request, actor: Principal, action: str, data: ActionInput, *, is_author: bool) -> Transition:
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


class NoCentralAuthority(Conflict):
    problem = "no-central-authority"
    title = "No central authority responsible"


async def _no_effect(session: AsyncSession, request: Request, data: ActionInput) -> dict[str, Any]:
    return {}


async def _submit(session: AsyncSession, request: Request, data: ActionInput) -> dict[str, Any]:
    """A submitted request waits for a central authority's review: there must be one to do it."""
    if request.central_authority_id is not None:
        return {}
    owner = await session.get_one(Organisation, request.organisation_id)
    authority_id = requests.responsible_authority(owner)
    if authority_id is None:
        raise NoCentralAuthority(
            f"{owner.name} has no central authority to review and transmit its requests, so nobody could act on "
            "this one: an administrator links the organisation to its central authority first."
        )
    request.central_authority_id = authority_id  # linked after the draft was filed
    return {"central_authority_id": authority_id}


async def _hand_over(session: AsyncSession, request: Request, data: ActionInput) -> dict[str, Any]:
    """An incoming request goes to a domestic prosecution service, which then sees and executes it."""
    authority = await session.get_one(Organisation, request.organisation_id)
    service = None if data.organisation_id is None else await session.get(Organisation, data.organisation_id)
    if service is None or service.kind != OrganisationKind.PROSECUTION_SERVICE or service.country != authority.country:
        raise Unprocessable(
            f"An incoming request is handed to a prosecution service of {authority.country}.",
            errors=[{"field": "organisation_id", "message": "not a domestic prosecution service"}],
        )
    request.executing_organisation_id = service.id
    return {"executing_organisation_id": service.id, "executing_organisation": service.name}


async def _transmit(session: AsyncSession, request: Request, data: ActionInput) -> dict[str, Any]:
    request.channel_reference = data.channel_reference
    request.transmitted_at = request.updated_at
    return {"channel_reference": data.channel_reference}


async def _acknowledge(session: AsyncSession, request: Request, data: ActionInput) -> dict[str, Any]:
    """Record when the counterparty received the request, if it said so (the legal start of receipt clocks).

    Refuses a second receipt time (409) and one before the transmission or in the future (422).
    """
    if data.received_at is None:
        return {}
    if request.counterparty_received_at is not None:
        raise InvalidTransition(f"Receipt was already recorded at {request.counterparty_received_at.isoformat()}.")
    received_at = data.received_at.astimezone(UTC)
    earliest = request.transmitted_at
    if received_at > request.updated_at or (earliest is not None and received_at < earliest):
        raise requests.field_error("received_at", "must lie between the transmission and now")
    request.counterparty_received_at = received_at
    return {"counterparty_received_at": received_at}


async def _confirm_preserved(session: AsyncSession, request: Request, data: ActionInput) -> dict[str, Any]:
    changes = await _acknowledge(session, request, data)
    reference = data.provider_reference
    if reference and reference not in request.counterparty_references:
        request.counterparty_references = [*request.counterparty_references, reference]
    return changes | {"provider_reference": reference}


async def _validate(session: AsyncSession, request: Request, data: ActionInput) -> dict[str, Any]:
    """Record the ex-post validation of an emergency order (Reg. 2023/1543 art 4(5)).

    Refuses a request not issued without prior validation, or already validated (409), and a
    validation time in the future or before the order was sent, which it validates ex post (422).
    """
    if not request.issued_without_prior_validation:
        raise InvalidTransition("This order was not issued without prior validation: there is nothing to validate.")
    if request.validation is not None:
        raise InvalidTransition(f"This order was already validated by {request.validation['validated_by']}.")
    assert data.validated_at is not None and data.validated_by is not None  # required by the table
    sent = request.transmitted_at
    if data.validated_at > request.updated_at or (sent is not None and data.validated_at < sent):
        raise requests.field_error("validated_at", "must lie between the transmission and now")
    request.validation = {
        "validated_by": data.validated_by,
        "validated_at": data.validated_at.astimezone(UTC).isoformat(),
        "reference": data.validation_reference,
    }
    return {"validation": request.validation}


async def _record_objection(session: AsyncSession, request: Request, data: ActionInput) -> dict[str, Any]:
    """Record the enforcing authority's objection (Reg. 2023/1543 art 12): data deleted or restricted.

    Refuses an order not notified to an enforcing authority, already objected to, or whose review
    period already passed without objection (409).
    """
    if request.notified_enforcing_state is None:
        raise InvalidTransition("This order was not notified to an enforcing authority: no objection can come.")
    if request.enforcing_objection is not None:
        raise InvalidTransition("The enforcing authority's objection is already recorded.")
    if (ended := await deadlines.passed_unanswered(session, request.id, ENFORCING_REVIEW)) is not None:
        raise InvalidTransition(f"The enforcing authority's review ended at {ended.isoformat()} without objection.")
    request.enforcing_objection = {
        "grounds": data.grounds,
        "data_measure": data.data_measure,
        "recorded_at": request.updated_at.isoformat(),
    }
    return {"enforcing_objection": request.enforcing_objection}


async def _record_traffic_disclosure(session: AsyncSession, request: Request, data: ActionInput) -> dict[str, Any]:
    """Record traffic data disclosed while the requested state executes a preservation (Budapest art 30).

    Refuses it on a preservation under another instrument (409).
    """
    if request.instrument not in TRAFFIC_DISCLOSURE_INSTRUMENTS:
        raise InvalidTransition(
            "Expedited disclosure of preserved traffic data is an outcome of a Budapest art 29 request only."
        )
    disclosure = {"disclosure": data.disclosure, "recorded_at": request.updated_at.isoformat()}
    request.traffic_disclosures = [*request.traffic_disclosures, disclosure]
    return {"traffic_disclosure": disclosure}


async def _postpone(session: AsyncSession, request: Request, data: ActionInput) -> dict[str, Any]:
    request.postponed_until = data.until
    return {"postponed_until": data.until}


async def _resume(session: AsyncSession, request: Request, data: ActionInput) -> dict[str, Any]:
    request.postponed_until = None
    return {}


async def _supersede(session: AsyncSession, request: Request, data: ActionInput) -> dict[str, Any]:
    follow_up_id = data.follow_up_request_id
    follow_up = None if follow_up_id is None else await session.get(Request, follow_up_id)
    if follow_up is None or follow_up.organisation_id != request.organisation_id or follow_up.id == request.id:
        raise Unprocessable(
            "The follow-up must be another request of the same organisation.",
            errors=[{"field": "follow_up_request_id", "message": "no such request of yours"}],
        )
    request.follow_up_request_id = follow_up.id
    return {"follow_up_request_id": follow_up.id, "follow_up_reference": follow_up.reference}


EFFECTS: dict[str, Effect] = {
    "submit": _submit,
    "hand_over": _hand_over,
    "transmit": _transmit,
    "acknowledge": _acknowledge,
    "confirm_preserved": _confirm_preserved,
    "validate": _validate,
    "record_objection": _record_objection,
    "record_traffic_disclosure": _record_traffic_disclosure,
    "postpone": _postpone,
    "resume": _resume,
    "supersede": _supersede,
}


async def assign(
    session: AsyncSession,
    clock: Clock,
    actor: Principal,
    request_id: uuid.UUID,
    data: AssignInput,
    if_match: int | None,
) -> Request:
    """Give a request to a user of its owning organisation or its central authority (None: unassign)."""
    request = await requests.get_request(session, actor, request_id, for_update=True)
    if refusal := assignment_refusal(actor, request):
        raise refusal
    requests.check_version(request, data.version if data.version is not None else if_match)
    if data.user_id is not None:
        await _require_assignable(session, request, data.user_id)
    before = request.assignee_id
    request.assignee_id = data.user_id
    request.version += 1
    request.updated_at = clock.now()
    await audit.record(
        session,
        clock,
        actor,
        audit.request_entry(
            request,
            "assign",
            from_status=request.status,
            changes={"assignee_id": {"before": before, "after": data.user_id}},
        ),
    )
    return request


def assignment_refusal(actor: Principal, request: Request) -> DomainError | None:
    """Why the actor may not (re)assign this request now (403 read-only, 409 closed), or None if they may."""
    if not effective_roles(actor, request):
        return Forbidden("Only the request's prosecutors and central authority officers may do this.")
    if request.status in TERMINAL_STATUSES:
        return InvalidTransition(f"A {request.status} request is closed.")
    return None


async def _require_assignable(session: AsyncSession, request: Request, user_id: uuid.UUID) -> None:
    organisations = {request.organisation_id, request.central_authority_id, request.executing_organisation_id} - {None}
    query = select(User.id).where(User.id == user_id, User.active.is_(True), User.organisation_id.in_(organisations))
    if await session.scalar(query) is None:
        raise Unprocessable(
            "The assignee must be an active user of the requesting organisation, its central authority or the "
            "prosecution service executing the request.",
            errors=[{"field": "user_id", "message": "not a user who can handle this request"}],
        )
