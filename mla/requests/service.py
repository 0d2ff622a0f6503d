"""Filing, reading and editing requests; every write is one transaction with its audit event."""

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import reads
from mla.audit import service as audit
from mla.cases import service as cases
from mla.clock import Clock
from mla.deadlines import service as deadlines
from mla.enums import (
    TERMINAL_STATUSES,
    URGENCY_RANK,
    Direction,
    OrganisationKind,
    RequestStatus,
    RequestType,
    Role,
    Urgency,
)
from mla.errors import Forbidden, InvalidTransition, NotFound, StaleVersion, Unprocessable
from mla.fields import check_period
from mla.organisations.models import Organisation
from mla.pagination import Page
from mla.reference import cache as reference_data
from mla.reference.cache import ReferenceData
from mla.requests import repository
from mla.requests.access import effective_roles, require_handler, roles_for
from mla.requests.models import Request
from mla.requests.schemas import (
    WITHOUT_VALIDATION_NEEDS_EMERGENCY,
    RequestCreate,
    RequestOut,
    RequestPatch,
    RequestSummary,
)
from mla.users.principal import Principal

REFERENCE_PREFIX = {
    RequestType.MLA: "MLA",
    RequestType.PRESERVATION: "PRES",
    RequestType.PRODUCTION: "PROD",
    RequestType.SUBSCRIBER_INFO: "SUB",
    RequestType.DOMAIN_REGISTRATION: "DOM",
    RequestType.EMERGENCY_DISCLOSURE: "EMD",
    RequestType.TRAFFIC_DISCLOSURE: "TRD",
}
FILING_ROLES = {
    Direction.OUTGOING: frozenset({Role.PROSECUTOR.value, Role.CENTRAL_AUTHORITY.value}),
    Direction.INCOMING: frozenset({Role.CENTRAL_AUTHORITY.value}),
}
EDITING_ROLES = frozenset({Role.PROSECUTOR.value, Role.CENTRAL_AUTHORITY.value})
# Counterparty references and priority may change while a request is open; the substance only in draft.
EDITABLE_WHILE_OPEN = frozenset({"counterparty_references", "priority"})


def to_out(request: Request) -> RequestOut:
    return msgspec.convert(request, RequestOut, from_attributes=True)


def snapshot(request: Request) -> dict[str, Any]:
    return msgspec.to_builtins(to_out(request))


def field_error(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}", errors=[{"field": field, "message": message}])


async def create_request(session: AsyncSession, clock: Clock, actor: Principal, data: RequestCreate) -> RequestOut:
    """File a draft (outgoing) or record a received request (incoming).

    Refuses a role that may not file this direction for its organisation (403: officers file for
    a central authority, prosecutors for their service), a case, target or instrument the
    caller cannot use (422, naming the field), an outgoing order notified to an enforcing authority
    of its own issuing state (422, Reg. 2023/1543 art 8(2)), and a closed case (409).
    """
    values = await _filing_values(session, clock, actor, data, numbered=True)
    request = await repository.insert_request(session, values)
    changes = {"after": msgspec.to_builtins(request)}
    if data.direction == Direction.INCOMING:  # received now: acknowledge or decide within the rule's time
        received = await get_request(session, actor, request.id)  # the row the deadline effects work on
        changes |= (
            await deadlines.apply_action(session, clock, received, deadlines.ActionClocks(deadlines.RECEIVE_ACTION))
        ).as_audit()
    await audit.record(session, clock, actor, audit.request_entry(request, "create", from_status=None, changes=changes))
    return request


async def unsaved_request(session: AsyncSession, clock: Clock, actor: Principal, data: RequestCreate) -> Request:
    """The request `create_request` would file, not added to the session and without a reference
    (so a form can preview its checks and deadlines); refuses exactly what filing refuses."""
    return Request(**await _filing_values(session, clock, actor, data, numbered=False))


async def _filing_values(
    session: AsyncSession, clock: Clock, actor: Principal, data: RequestCreate, *, numbered: bool
) -> dict[str, Any]:
    """The new request's columns; `numbered`: with its reference (a number is taken only if nothing is refused)."""
    known = await reference_data.current(session)
    organisation = _require_filing_role(known, actor, data.direction)
    instrument = known.instrument(data.instrument)
    found = await repository.filing_lookup(
        session, actor.organisation_id, data.case_id, data.target_id, take_number=numbered and instrument is not None
    )
    if found.case_status is None:
        raise field_error("case_id", "no such case in your organisation")
    cases.require_open_status(found.case_status)
    if not found.target_found:
        raise field_error("target_id", "no such counterparty")
    if instrument is None:
        raise field_error("instrument", f"no instrument with code {data.instrument!r}")
    _require_enforcing_state_abroad(data.direction, organisation.country, data.notified_enforcing_state)
    now = clock.now()
    return {
        **msgspec.to_builtins(data),
        "id": uuid.uuid4(),
        "reference": "" if found.number is None else _reference(data, now, found.number),
        "organisation_id": organisation.id,
        "central_authority_id": responsible_authority(organisation),
        "status": RequestStatus.DRAFT if data.direction == Direction.OUTGOING else RequestStatus.RECEIVED,
        "created_by": actor.user_id,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "urgency_rank": URGENCY_RANK[data.urgency],
        "period_start": _utc(data.period_start),
        "period_end": _utc(data.period_end),
    }


async def require_filing_role(session: AsyncSession, actor: Principal, direction: Direction) -> None:
    """Refuse (403) a caller who may not file a request of this direction for their organisation."""
    _require_filing_role(await reference_data.current(session), actor, direction)


def _require_filing_role(known: ReferenceData, actor: Principal, direction: Direction) -> Row[Any]:
    organisation = known.organisation(actor.organisation_id)
    assert organisation is not None  # the authenticated user's organisation, by a foreign key
    roles = roles_for(actor, owner_id=organisation.id, authority_id=responsible_authority(organisation))
    if not roles & FILING_ROLES[direction]:
        allowed = ", ".join(sorted(FILING_ROLES[direction]))
        raise Forbidden(f"Filing an {direction} request for your organisation needs one of: {allowed}.")
    return organisation


async def get_request(
    session: AsyncSession, actor: Principal, request_id: uuid.UUID, *, for_update: bool = False
) -> Request:
    """A request the caller's organisation owns or is responsible for; anything else is 404."""
    request = await repository.get_visible(session, actor, request_id, for_update=for_update)
    if request is None:
        raise NotFound("No such request.")
    return request


async def read_request(
    session: AsyncSession, clock: Clock, actor: Principal, request_id: uuid.UUID, action: str = "read"
) -> Request:
    """`get_request` for showing the request or what hangs under it (`action` names which).

    The read is recorded on the request's trail when an auditor or another organisation than the
    owner reads it (mla/audit/reads.py), in the caller's transaction.
    """
    request = await get_request(session, actor, request_id)
    if reads.is_accountable(actor, request.organisation_id):
        await audit.record(session, clock, actor, audit.request_entry(request, action, from_status=request.status))
    return request


async def list_requests(
    session: AsyncSession,
    clock: Clock,
    actor: Principal,
    filters: repository.RequestFilters,
    cursor: str | None,
    limit: int,
) -> Page[RequestSummary]:
    """One page of the requests the caller may see, as summaries (no statements), its read recorded if accountable."""
    page = await repository.summary_page(session, actor, filters, cursor, limit)
    query_asked = reads.query_of(filters, cursor=cursor, limit=limit)
    await reads.record_page_read(session, clock, actor, "list_requests", page.items, query_asked)
    return page


async def get_request_to_handle(session: AsyncSession, actor: Principal, request_id: uuid.UUID) -> Request:
    """A request the caller handles, locked until the transaction ends: 404 if unseen, 403 if read-only."""
    request = await get_request(session, actor, request_id, for_update=True)
    require_handler(actor, request)
    return request


def check_version(request: Request, expected: int | None) -> None:
    """Writes must name the version they were based on; any other is a lost update (409)."""
    if expected is None:
        raise field_error("version", "send the version you last read, in the body or an If-Match header")
    if expected != request.version:
        raise StaleVersion(
            f"The request is at version {request.version}, not {expected}: reload it and try again.",
            current_version=request.version,
        )


async def update_request(
    session: AsyncSession,
    clock: Clock,
    actor: Principal,
    request_id: uuid.UUID,
    patch: RequestPatch,
    if_match: int | None,
) -> Request:
    """Edit a request: its substance only while a draft, its references and priority while open.

    Refuses another organisation's request (404 if unseen, 403 if only routed to the caller),
    a stale version (409), an edit the status does not allow (409), and an outgoing order notified
    to an enforcing authority of its own issuing state (422, Reg. 2023/1543 art 8(2)).
    """
    request = await get_request(session, actor, request_id, for_update=True)
    if request.organisation_id != actor.organisation_id or not effective_roles(actor, request) & EDITING_ROLES:
        raise Forbidden("Only the requesting organisation's prosecutors and central authority officers edit a request.")
    check_version(request, patch.version if patch.version is not msgspec.UNSET else if_match)
    changes = {name: value for name, value in msgspec.structs.asdict(patch).items() if value is not msgspec.UNSET}
    changes.pop("version", None)
    _require_editable(request, changes)
    if "target_id" in changes or "instrument" in changes:
        await _require_target_and_instrument(
            session, changes.get("target_id", request.target_id), changes.get("instrument", request.instrument)
        )
    _require_consistent_period(
        changes.get("period_start", request.period_start), changes.get("period_end", request.period_end)
    )
    if changes.get("confidential", request.confidential) and not changes.get(
        "confidentiality_reason", request.confidentiality_reason
    ):
        raise field_error("confidentiality_reason", "required when confidential is true")
    if changes.get("issued_without_prior_validation", request.issued_without_prior_validation) and (
        changes.get("urgency", request.urgency) != Urgency.EMERGENCY
    ):
        raise field_error("issued_without_prior_validation", WITHOUT_VALIDATION_NEEDS_EMERGENCY)
    if changes.get("notified_enforcing_state"):
        owner = (await reference_data.current(session)).organisation(request.organisation_id)
        assert owner is not None  # the request's organisation, by a foreign key
        _require_enforcing_state_abroad(
            Direction(request.direction), owner.country, changes["notified_enforcing_state"]
        )
    before = snapshot(request)
    for name, value in changes.items():
        setattr(request, name, _column_value(value))
    after = snapshot(request)
    diff = {name: {"before": before[name], "after": after[name]} for name in after if before[name] != after[name]}
    if not diff:
        return request
    request.version += 1
    request.updated_at = clock.now()
    request.urgency_rank = URGENCY_RANK[Urgency(request.urgency)]
    await audit.record(
        session,
        clock,
        actor,
        audit.request_entry(request, "update", from_status=request.status, changes=diff),
    )
    return request


def _utc(value: datetime | None) -> datetime | None:
    """Times are stored and answered in UTC, so the same instant in another offset is no change."""
    return None if value is None else value.astimezone(UTC)


def _column_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _utc(value)
    return value if isinstance(value, uuid.UUID | None) else msgspec.to_builtins(value)


def _require_editable(request: Request, changes: dict[str, Any]) -> None:
    if request.status in TERMINAL_STATUSES:
        raise InvalidTransition(f"A {request.status} request can no longer be edited.")
    substance = set(changes) - EDITABLE_WHILE_OPEN
    if substance and request.status != RequestStatus.DRAFT:
        raise InvalidTransition(
            f"Only a draft's substance can be edited; this request is {request.status}. "
            f"Fields refused: {', '.join(sorted(substance))}."
        )


def _require_consistent_period(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None:
        try:
            check_period(start, end)
        except ValueError as exc:
            raise field_error("period_end", str(exc)) from exc


def _require_enforcing_state_abroad(direction: Direction, owner_country: str, enforcing_state: str | None) -> None:
    """Reg. 2023/1543 art 8(2): the enforcing authority notified sits in another Member State than the
    issuing one (no notification when offence and person are both in the issuing state). The issuing
    state of an outgoing order is its owner's country; on an incoming one we may be the enforcing state."""
    if direction == Direction.OUTGOING and enforcing_state == owner_country:
        raise field_error(
            "notified_enforcing_state",
            f"must be another Member State than the issuing state {owner_country} (Reg. 2023/1543 art 8(2))",
        )


async def _require_target_and_instrument(session: AsyncSession, target_id: uuid.UUID, instrument_code: str) -> None:
    if not await repository.counterparty_exists(session, target_id):
        raise field_error("target_id", "no such counterparty")
    if (await reference_data.current(session)).instrument(instrument_code) is None:
        raise field_error("instrument", f"no instrument with code {instrument_code!r}")


def responsible_authority(organisation: Organisation | Row[Any]) -> uuid.UUID | None:
    """The central authority that reviews the organisation's requests: itself if it is one."""
    if organisation.kind == OrganisationKind.CENTRAL_AUTHORITY:
        return organisation.id
    return organisation.central_authority_id


def _reference(data: RequestCreate, now: datetime, number: int) -> str:
    prefix = REFERENCE_PREFIX[data.type] if data.direction == Direction.OUTGOING else "IN"
    return f"{prefix}-{now.year}-{number:06d}"
