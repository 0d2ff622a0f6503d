"""Legality and proportionality checks of one request: evaluation, attestations, and the approval gate."""

import dataclasses
import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import msgspec
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service as audit
from mla.checks import repository
from mla.checks.repository import AttestationRow, CounterpartyRow, TreatyRow
from mla.checks.rules import (
    AttestationView,
    CheckResult,
    CheckSettings,
    CounterpartyView,
    IdentifierView,
    InstrumentView,
    OffenceView,
    PartyView,
    RequestSnapshot,
    TreatyView,
    attestable_codes,
    blocking_failures,
    evaluate,
)
from mla.checks.schemas import AttestationInput
from mla.clock import Clock
from mla.enums import (
    TERMINAL_STATUSES,
    CounterpartyKind,
    DataCategory,
    Direction,
    EmergencyGround,
    IdentifierKind,
    OrganisationKind,
    RequestType,
)
from mla.errors import Conflict, DomainError, Forbidden, InvalidTransition, NotFound
from mla.reference import cache as reference_data
from mla.requests import service as requests
from mla.requests.access import AUTHORITY_ROLES, FourEyesViolation, effective_roles, is_author
from mla.requests.models import Request
from mla.treaties.schemas import TreatyKind, TreatyPartyRecord
from mla.treaties.service import states_to_bind
from mla.users.principal import Principal
from mla.workflow.table import FOUR_EYES_RULE

# What each attested judgement was about: an edit to any of these makes it no longer apply.
JUDGED_FIELDS: dict[str, tuple[str, ...]] = {
    "instrument_in_force": ("instrument", "target_id", "treaty_reference"),
    "dual_criminality": ("instrument", "target_id", "facts", "link_to_offence", "offences"),
    "human_rights_risk": ("instrument", "target_id", "facts"),
    "privileged_persons": ("target_id", "identifiers", "facts"),
}
ALL_SUBSTANCE = tuple(sorted({name for fields in JUDGED_FIELDS.values() for name in fields}))


class ApprovalBlocked(Conflict):
    problem = "approval-blocked"
    title = "Approval blocked by legality checks"


@dataclass(frozen=True)
class RequestContext:
    """A request (a `Request` or a workflow row) with everything its checks read."""

    request: Any
    offences: list[dict[str, Any]]
    instrument: Row[Any]  # from the reference cache, as are the owner
    counterparty: CounterpartyRow
    owner: Row[Any]
    treaty: TreatyView | None
    attestations: list[AttestationRow]  # the latest per check, whether or not it still applies


async def load_context(session: AsyncSession, request: Any) -> RequestContext:
    """The request's context: the instrument and the owner from the reference cache, the rest in one statement."""
    known = await reference_data.current(session)
    instrument, owner = known.instrument(request.instrument), known.organisation(request.organisation_id)
    assert instrument is not None and owner is not None  # foreign keys guarantee them
    found = await repository.checks_input(
        session,
        request_id=request.id,
        case_id=request.case_id,
        target_id=request.target_id,
        instrument=request.instrument,
        owner_country=owner.country,
    )
    treaty = None if found.treaty is None else _treaty_view(request, owner, found.counterparty, found.treaty)
    return RequestContext(request, found.offences, instrument, found.counterparty, owner, treaty, found.attestations)


def _treaty_view(request: Any, owner: Row[Any], counterparty: CounterpartyRow, treaty: TreatyRow) -> TreatyView:
    """The treaty the instrument rests on, with the record of each state it must bind here."""
    states = states_to_bind(
        TreatyKind(treaty.kind), Direction(request.direction), owner.country, counterparty.country, counterparty.kind
    )
    records = {p.country: p for p in treaty.parties}
    parties = tuple(_party_view(country, role, records.get(country)) for country, role in states)
    return TreatyView(treaty.code, treaty.title, treaty.kind, parties)  # type: ignore[arg-type]


def _party_view(country: str, role: str, record: TreatyPartyRecord | None) -> PartyView:
    if record is None:
        return PartyView(country, role, recorded=False)
    return PartyView(
        country,
        role,
        signed_on=record.signed_on,
        ratified_on=record.ratified_on,
        in_force_on=record.in_force_on,
        notes=record.notes,
        source=record.source,
        source_verified=record.source_verified,
    )


def fingerprint(context: RequestContext, code: str) -> str:
    """SHA-256 over the fields `code` judges, as they are now."""
    current = requests.snapshot(context.request) | {"offences": context.offences}
    judged = {name: current[name] for name in JUDGED_FIELDS.get(code, ALL_SUBSTANCE)}
    return hashlib.sha256(msgspec.json.encode(judged, order="sorted")).hexdigest()


def current_attestations(context: RequestContext) -> dict[str, AttestationView]:
    """The latest attestation per check that still judges the request as it is now."""
    return {
        a.code: AttestationView(outcome=a.outcome, reason=a.reason, by=a.attested_by_email, at=a.attested_at)  # type: ignore[arg-type]
        for a in context.attestations
        if a.fingerprint == fingerprint(context, a.code)
    }


def build_snapshot(context: RequestContext, attestations: dict[str, AttestationView], as_of: date) -> RequestSnapshot:
    request, instrument, counterparty = context.request, context.instrument, context.counterparty
    return RequestSnapshot(
        type=RequestType(request.type),
        direction=Direction(request.direction),
        data_categories=frozenset(DataCategory(c) for c in request.data_categories),
        identifiers=tuple(
            IdentifierView(IdentifierKind(i["kind"]), i["value"], _moment(i.get("from")), _moment(i.get("to")))
            for i in request.identifiers
        ),
        period_start=request.period_start,
        period_end=request.period_end,
        urgency=request.urgency,  # type: ignore[arg-type]
        emergency_justification=request.emergency_justification,
        facts=request.facts,
        link_to_offence=request.link_to_offence,
        necessity=request.necessity,
        proportionality=request.proportionality,
        offences=tuple(OffenceView(o["description"], o["max_penalty_years"]) for o in context.offences),
        instrument=InstrumentView(
            code=instrument.code,
            request_types=frozenset(RequestType(t) for t in instrument.request_types),
            directions=frozenset(Direction(d) for d in instrument.directions),
            target_kinds=frozenset(CounterpartyKind(k) for k in instrument.target_kinds),
            data_categories=frozenset(DataCategory(c) for c in instrument.data_categories),
            requires_dual_criminality=instrument.requires_dual_criminality or counterparty.requires_dual_criminality,
            citation=instrument.citation,
        ),
        counterparty=CounterpartyView(
            kind=CounterpartyKind(counterparty.kind),
            country=counterparty.country,
            name=counterparty.name,
            death_penalty=counterparty.death_penalty,
        ),
        attestations=attestations,
        emergency_grounds=frozenset(EmergencyGround(g) for g in request.emergency_grounds),
        issuing_judge_or_court=request.issuing_judge_or_court,
        order_reference=request.order_reference,
        issued_without_prior_validation=request.issued_without_prior_validation,
        ex_post_validation=_ex_post_validation(request.validation),
        treaty_reference=request.treaty_reference,
        owner_kind=OrganisationKind(context.owner.kind),
        treaty=context.treaty,
        as_of=as_of,
    )


def _ex_post_validation(validation: dict[str, Any] | None) -> str | None:
    """ "X on <when> (reference R)" from the `validate` action's record, or None before it."""
    if validation is None:
        return None
    reference = f" (reference {validation['reference']})" if validation.get("reference") else ""
    return f"{validation['validated_by']} on {validation['validated_at']}{reference}"


def _moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


async def evaluate_request(
    session: AsyncSession, clock: Clock, request: Request, settings: CheckSettings
) -> list[CheckResult]:
    """The checks on the request as it is now; treaties are judged in force on today's (UTC) date."""
    return evaluate_context(clock, await load_context(session, request), settings)


def evaluate_context(clock: Clock, context: RequestContext, settings: CheckSettings) -> list[CheckResult]:
    """`evaluate_request` on a context already loaded (whose instrument the caller reuses)."""
    return evaluate(build_snapshot(context, current_attestations(context), clock.now().date()), settings)


def records(results: list[CheckResult]) -> list[dict[str, Any]]:
    return [result.as_record() for result in results]


def require_approvable(results: list[CheckResult], action: str = "approve") -> None:
    """Refuse `action` (409) while a blocking check fails or an attestation is missing, naming each."""
    blocking = blocking_failures(results)
    if blocking:
        names = ", ".join(f"{r.code} ({r.outcome})" for r in blocking)
        raise ApprovalBlocked(
            f"{action.capitalize()} needs every blocking check to pass; these do not: {names}.",
            failing_checks=[{"code": r.code, "outcome": r.outcome, "explanation": r.explanation} for r in blocking],
        )


async def attestation_refusal(session: AsyncSession, actor: Principal, request: Request) -> DomainError | None:
    """Why the actor may not attest this request's checks now (403, 403 four eyes, 409), or None if they may."""
    if not effective_roles(actor, request) & AUTHORITY_ROLES:
        return Forbidden("Only an officer or supervisor of the request's central authority attests checks.")
    # Every attestable check, warning or blocking: a missing attestation blocks approval either way.
    if await is_author(session, actor, request):
        return FourEyesViolation(f"Four eyes: {FOUR_EYES_RULE} Another officer must attest its checks.")
    if request.status in TERMINAL_STATUSES:
        return InvalidTransition(f"A {request.status} request is closed.")
    return None


async def attest(
    session: AsyncSession,
    clock: Clock,
    actor: Principal,
    settings: CheckSettings,
    request_id: uuid.UUID,
    code: str,
    data: AttestationInput,
) -> list[CheckResult]:
    """Record a central authority officer's judgement on an attestable check, audited with its effect.

    Refuses an unknown or non-attestable code (404), a caller who is not the request's central
    authority officer (403), the request's author, who created or submitted it (403, four eyes),
    and a closed request (409).
    """
    request = await requests.get_request(session, actor, request_id, for_update=True)
    if code not in attestable_codes():
        raise NotFound(f"There is no attestable check {code!r}; attestable: {', '.join(sorted(attestable_codes()))}.")
    if refusal := await attestation_refusal(session, actor, request):
        raise refusal
    context = await load_context(session, request)
    attestation = AttestationRow(
        code=code,
        outcome=data.outcome,
        reason=data.reason,
        attested_by_email=actor.email,
        attested_at=clock.now(),
        fingerprint=fingerprint(context, code),
    )
    owner = {"id": uuid.uuid4(), "request_id": request.id, "attested_by": actor.user_id}
    await repository.insert_attestation(session, msgspec.structs.asdict(attestation) | owner)
    # The new one is the latest of its check: it replaces the one the context read.
    latest = [a for a in context.attestations if a.code != code] + [attestation]
    context = dataclasses.replace(context, attestations=latest)
    results = evaluate_context(clock, context, settings)
    entry = audit.request_entry(
        request,
        "attest",
        from_status=request.status,
        reason=data.reason,
        changes={"check": code, "outcome": data.outcome},
        checks=records(results),
    )
    await audit.record(session, clock, actor, entry)
    return results
