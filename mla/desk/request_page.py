"""The Request pages: the list, one request with everything about it, and the writes a user may make there."""

import urllib.parse
import uuid
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service as audit
from mla.audit.checkpoints import verify_against_checkpoint
from mla.cases import service as cases
from mla.cases.schemas import CaseOut
from mla.checks import service as checks
from mla.checks.api import check_settings
from mla.checks.schemas import AttestationInput
from mla.clock import Clock
from mla.communications import repository as communications
from mla.counterparties import repository as counterparty_records
from mla.counterparties import service as counterparties
from mla.deadlines import preview
from mla.deadlines import repository as deadlines
from mla.desk import formatting
from mla.desk.pages import (
    Cursor,
    DeskController,
    IdentifierText,
    SearchText,
    Viewer,
    as_input,
    current_page,
    go_to,
    is_htmx,
    page,
)
from mla.desk.queue import officers
from mla.enums import RequestStatus
from mla.errors import DomainError, Forbidden, InvalidTransition, NotFound, StaleVersion, Unprocessable
from mla.instruments import service as instruments
from mla.organisations import repository as organisations
from mla.productions import repository as productions
from mla.requests import service as requests
from mla.requests.access import FourEyesViolation
from mla.requests.repository import RequestFilters
from mla.settings import Settings
from mla.users import service as users
from mla.workflow import service as workflow
from mla.workflow.schemas import ActionInput, AssignInput

PAGE_SIZE = 50
AUDIT_EVENTS_SHOWN = 200


class ListQuery(msgspec.Struct, kw_only=True):
    """The list's query string; an empty field is no filter."""

    status: RequestStatus | None = None
    q: SearchText | None = None
    identifier: IdentifierText | None = None
    cursor: Cursor | None = None

    def filters(self) -> RequestFilters:
        return RequestFilters(status=self.status, q=self.q, identifier=self.identifier)

    def url(self, cursor: str) -> str:
        """This list's address at another page."""
        given = {name: str(value) for name, value in msgspec.structs.asdict(self).items() if value is not None}
        return "/desk/requests?" + urllib.parse.urlencode(given | {"cursor": cursor})


def request_page_url(request_id: uuid.UUID) -> str:
    return f"/desk/requests/{request_id}"


class DeskRequestController(DeskController):
    path = "/requests"

    @get("/")
    async def list_requests(
        self, request: Request[Any, Any, Any], session: AsyncSession, clock: Clock, viewer: Viewer
    ) -> Template:
        """Requests the caller's organisation owns or is responsible for, newest first (`GET /requests`)."""
        query = as_input(request.query_params, ListQuery)
        listing = await requests.list_requests(
            session, clock, viewer.principal, query.filters(), query.cursor, PAGE_SIZE
        )
        shown = [item.id for item in listing.items]
        context = {
            "listing": listing,
            "targets": await counterparty_records.names(session, {item.target_id for item in listing.items}),
            "evidence": await productions.received_counts(session, shown),
            "query": query,
            "statuses": list(RequestStatus),
        }
        return page(viewer, "requests.html", **context)

    @get("/{request_id:uuid}")
    async def show_request(
        self, request_id: uuid.UUID, session: AsyncSession, clock: Clock, settings: Settings, viewer: Viewer
    ) -> Template:
        """Everything the API shows about one request, and the forms of what this user may do now."""
        principal = viewer.principal
        # One page view is one read of the request and what hangs under it: one event when accountable
        # (mla/audit/reads.py), where the API records one per route. The case is read on its own chain.
        request = await requests.read_request(session, clock, principal, request_id)
        out = requests.to_out(request)
        case = await _case_shown(session, clock, viewer, request.case_id)
        results = await checks.evaluate_request(session, clock, request, check_settings(settings))
        instrument = await instruments.get_by_code(session, request.instrument)
        rows = await deadlines.all_deadlines(session, request.id)
        clocks = [preview.deadline_out(deadline, rule, instrument) for deadline, rule in rows]
        chain = audit.request_chain(request.id)
        events = await audit.chain_page(session, chain, 0, AUDIT_EVENTS_SHOWN)
        evidence = await productions.productions_of(session, request.id)
        notes = await communications.communications_of(session, request.id)
        people = {out.created_by, *(e.actor_id for e in events.items), *(p.recorded_by for p in evidence)}
        people |= {n.recorded_by for n in notes} | ({out.assignee_id} if out.assignee_id else set())
        attestation_refused = await checks.attestation_refusal(session, principal, request)
        context = {
            "record": out,  # not `request`: Litestar gives templates the HTTP request under that name
            "case": case,
            "checks": results,
            "may_attest": attestation_refused is None,
            "four_eyes": isinstance(attestation_refused, FourEyesViolation),
            "deadlines": clocks,
            "events": events.items,
            "more_events": events.next_cursor is not None,
            "verdict": await verify_against_checkpoint(session, settings, chain),
            "productions": evidence,
            "communications": notes,
            "actions": await workflow.actions_for(session, principal, request_id),
            "may_assign": workflow.assignment_refusal(principal, request) is None,
            "officers": await officers(session, principal),
            "people": await users.names(session, {person for person in people if person}),
            "organisations": await organisations.names(
                session, {out.organisation_id, *([out.central_authority_id] if out.central_authority_id else [])}
            ),
            "target": (await counterparties.get_counterparty(session, out.target_id)).name,
            "instrument": instrument,
        }
        return page(viewer, "request.html", **context)

    @post("/{request_id:uuid}/actions/{action:str}")
    async def take_action(
        self,
        request: Request[Any, Any, Any],
        request_id: uuid.UUID,
        action: str,
        session: AsyncSession,
        clock: Clock,
        settings: Settings,
        viewer: Viewer,
    ) -> Response[Any]:
        """`POST /requests/{id}/actions/{action}` from a form; a stale version is refused with a reload link."""
        form = await request.form()
        moment = {"until": _local_moment(form.get("until"), viewer.zone)} if form.get("until") else {}
        data = as_input(form, ActionInput, **moment)
        try:
            await workflow.perform_action(
                session, clock, viewer.principal, request_id, action, data, None, check_settings(settings)
            )
        except (InvalidTransition, Forbidden) as refused:
            raise await _stale_or(refused, session, viewer, request_id, data.version) from refused
        return go_to(request, request_page_url(request_id))

    @post("/{request_id:uuid}/checks/{code:str}/attestation")
    async def attest(
        self,
        request: Request[Any, Any, Any],
        request_id: uuid.UUID,
        code: str,
        session: AsyncSession,
        clock: Clock,
        settings: Settings,
        viewer: Viewer,
    ) -> Response[Any]:
        data = as_input(await request.form(), AttestationInput)
        await checks.attest(session, clock, viewer.principal, check_settings(settings), request_id, code, data)
        return go_to(request, request_page_url(request_id))

    @post("/{request_id:uuid}/assign")
    async def assign(
        self,
        request: Request[Any, Any, Any],
        request_id: uuid.UUID,
        session: AsyncSession,
        clock: Clock,
        viewer: Viewer,
    ) -> Response[Any]:
        """Assign in one click: `user_id` is `me`, a colleague's id, or empty to unassign."""
        form = await request.form()
        chosen = form.get("user_id", "")
        user_id = str(viewer.principal.user_id) if chosen == "me" else chosen or None
        data = as_input({"version": form.get("version", "")}, AssignInput, user_id=user_id)
        assigned = await workflow.assign(session, clock, viewer.principal, request_id, data, None)
        if not (is_htmx(request) and current_page(request).startswith("/desk/queue")):
            return go_to(request, request_page_url(request_id))
        # In the queue the row may change bucket: the page refreshes its list and counts on this event.
        who = (await users.names(session, {assigned.assignee_id})).get(assigned.assignee_id) if user_id else None
        notice = f"{assigned.reference} assigned to {who}." if who else f"{assigned.reference} unassigned."
        response = page(viewer, "_notice.html", notice=notice)
        response.headers["HX-Trigger"] = "queue-changed"
        return response


async def _case_shown(session: AsyncSession, clock: Clock, viewer: Viewer, case_id: uuid.UUID) -> CaseOut | None:
    """The request's case, if the API would show it to the caller (a prosecution service executing an incoming
    request sees the request, not the central authority's case file)."""
    try:
        return cases.to_out(await cases.read_case(session, clock, viewer.principal, case_id))
    except NotFound:
        return None


async def _stale_or(
    refused: DomainError, session: AsyncSession, viewer: Viewer, request_id: uuid.UUID, version: int | None
) -> DomainError:
    """An action refused for the status or role the page no longer shows: the page is stale, say so."""
    current = (await requests.get_request(session, viewer.principal, request_id)).version
    if version is not None and version != current:
        return StaleVersion(f"It is at version {current} now, not {version}: {refused.detail}", current_version=current)
    return refused


def _local_moment(value: Any, zone: str) -> str:
    """A `datetime-local` value read in the user's zone, as the RFC 3339 the API takes."""
    try:
        return formatting.from_local_input(str(value), zone).isoformat()
    except ValueError as exc:
        raise Unprocessable("until: give a date and time.", errors=[{"field": "until", "message": str(exc)}]) from exc
