"""Every query on requests, scoped to what the caller's organisation owns, is responsible for or executes,
less the confidential requests the caller is not entitled to see."""

import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    any_,
    bindparam,
    case,
    exists,
    insert,
    null,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from mla.audit.models import AuditEvent
from mla.cases.models import Case
from mla.counterparties.models import Counterparty
from mla.enums import CaseStatus, DataCategory, Direction, RequestStatus, RequestType, Role, Urgency
from mla.fields import identifier_forms
from mla.pagination import Page, keyset, page_of
from mla.requests.models import Request, reference_sequence
from mla.requests.schemas import RequestOut, RequestSummary
from mla.users.principal import Principal


class RequestFilters(msgspec.Struct, kw_only=True):
    status: RequestStatus | None = None
    type: RequestType | None = None
    direction: Direction | None = None
    urgency: Urgency | None = None
    target_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    data_category: DataCategory | None = None
    q: str | None = None
    identifier: str | None = None


_requests = Request.__table__.c
_SUMMARY_COLUMNS = [_requests[name] for name in RequestSummary.__struct_fields__]
_OUT_COLUMNS = [_requests[name] for name in RequestOut.__struct_fields__]


# The three parts an organisation can play in a request; each has its own (part, created_at, id) index.
_PARTS = (Request.organisation_id, Request.central_authority_id, Request.executing_organisation_id)


def visible_to(viewer: Principal) -> ColumnElement[bool]:
    """What the viewer sees: requests their organisation owns, is responsible for or executes, less
    the confidential ones they are not entitled to (`confidential_allows`)."""
    seen = or_(*(part == viewer.organisation_id for part in _PARTS))
    return and_(seen, confidential_allows(viewer))


def confidential_allows(viewer: Principal) -> ColumnElement[bool]:
    """A confidential request shows only to its creator and assignee, the responsible central
    authority's supervisors, and auditors (whose reads are audited); everyone else gets 404."""
    if viewer.has_any(Role.AUDITOR):
        return true()
    allowed = [
        Request.confidential.is_(False),
        Request.created_by == viewer.user_id,
        Request.assignee_id == viewer.user_id,
    ]
    if viewer.has_any(Role.SUPERVISOR):
        allowed.append(Request.central_authority_id == viewer.organisation_id)
    return or_(*allowed)


async def get_visible(
    session: AsyncSession, viewer: Principal, request_id: uuid.UUID, *, for_update: bool = False
) -> Request | None:
    """The request if the viewer may see it; `for_update` locks the row until commit."""
    query = select(Request).where(Request.id == request_id, visible_to(viewer))
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


def filtered(
    viewer: Principal, filters: RequestFilters, columns: Sequence[ColumnElement[Any]] | None = None
) -> Select[Any]:
    """The requests the viewer sees that match `filters`: as rows of `columns`, or else as `Request`s."""
    query = (select(Request) if columns is None else select(*columns)).where(visible_to(viewer))
    return _matching(query, filters)


def _matching(query: Select[Any], filters: RequestFilters) -> Select[Any]:
    for name in ("status", "type", "direction", "urgency", "target_id", "assignee_id", "case_id"):
        value = getattr(filters, name)
        if value is not None:
            query = query.where(getattr(Request, name) == value)
    if filters.data_category is not None:
        query = query.where(str(filters.data_category) == any_(Request.data_categories))
    if filters.q:
        query = query.where(matches_text(filters.q))
    if filters.identifier and (forms := identifier_forms(filters.identifier)):
        query = query.where(holds_identifier(forms))
    return query


def holds_identifier(forms: list[tuple[str, str]]) -> ColumnElement[bool]:
    """Requests asking about one of these (kind, normalised value): exact matches, through the GIN index."""
    return or_(*(Request.identifiers.contains([{"kind": kind, "value": value}]) for kind, value in forms))


async def summary_page(
    session: AsyncSession, viewer: Principal, filters: RequestFilters, cursor: str | None, limit: int
) -> Page[RequestSummary]:
    """One page of `filtered`, newest first, reading only the columns of a `RequestSummary` (never the
    statements), each row straight into its summary."""
    rows = (await session.execute(summary_page_query(viewer, filters, cursor, limit))).all()
    return page_of(rows, limit, _to_summary)


def summary_page_query(viewer: Principal, filters: RequestFilters, cursor: str | None, limit: int) -> Select[Any]:
    """The statement of `summary_page` (one row more than `limit`, to know whether there is more)."""
    positions = union(*(_page_by_part(part, viewer, filters, cursor, limit) for part in _PARTS)).subquery()
    query = select(*_SUMMARY_COLUMNS).join_from(positions, Request, Request.id == positions.c.id)
    return query.order_by(positions.c.created_at.desc(), positions.c.id.desc()).limit(limit + 1)


def _page_by_part(
    part: InstrumentedAttribute[uuid.UUID | None],
    viewer: Principal,
    filters: RequestFilters,
    cursor: str | None,
    limit: int,
) -> Select[Any]:
    """The page's candidates among the requests where the viewer's organisation plays `part`, read in
    order from that part's keyset index. A page of the three parts' union: one OR across them would
    make PostgreSQL fetch and sort every request of the organisation for each page."""
    query = select(Request.created_at, Request.id).where(part == viewer.organisation_id, confidential_allows(viewer))
    return keyset(_matching(query, filters), _requests.created_at, _requests.id, cursor, limit)


def _to_summary(row: Row[Any]) -> RequestSummary:
    return msgspec.convert(row, RequestSummary, from_attributes=True)


def matches_text(q: str) -> ColumnElement[bool]:
    """Text in our reference, or exactly one of the counterparty's references."""
    text = q.strip()
    return or_(
        Request.reference.ilike(f"%{_escape_like(text)}%", escape="\\"),
        text == any_(Request.counterparty_references),
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class FilingLookup(NamedTuple):
    case_status: str | None  # None: no such case in the organisation
    target_found: bool
    number: int | None  # the new request's reference number, if one was asked for and the filing can go ahead


def _filing_lookup(take_number: bool) -> Select[Any]:
    cases, targets = Case.__table__.c, Counterparty.__table__.c
    # Share-locked: a request filed into the case and its closing (FOR UPDATE) never overlap.
    case_status = (
        select(cases.status)
        .where(cases.id == bindparam("case_id"), cases.organisation_id == bindparam("organisation_id"))
        .with_for_update(read=True)
        .scalar_subquery()
    )
    found = select(
        case_status.label("case_status"), exists().where(targets.id == bindparam("target_id")).label("target_found")
    ).subquery()
    can_file = (found.c.case_status == CaseStatus.OPEN.value) & found.c.target_found
    number = case((can_file, reference_sequence.next_value())) if take_number else null()
    return select(found.c.case_status, found.c.target_found, number.label("number"))


# Built once: each filing only binds its values.
_FILING_LOOKUPS = {take_number: _filing_lookup(take_number) for take_number in (False, True)}
_INSERT_REQUEST = insert(Request.__table__).returning(*_OUT_COLUMNS)


async def filing_lookup(
    session: AsyncSession, organisation_id: uuid.UUID, case_id: uuid.UUID, target_id: uuid.UUID, *, take_number: bool
) -> FilingLookup:
    """The status of the organisation's case (None if it has none by that id), whether the counterparty
    exists, and (`take_number`, an open case and a known target) the next reference number: one
    statement, and no number used up by a refused filing."""
    values = {"organisation_id": organisation_id, "case_id": case_id, "target_id": target_id}
    row = (await session.execute(_FILING_LOOKUPS[take_number], values)).one()
    return FilingLookup(row.case_status, row.target_found, row.number)


async def counterparty_exists(session: AsyncSession, counterparty_id: uuid.UUID) -> bool:
    """Whether a request may name this counterparty as its target."""
    return bool(await session.scalar(select(exists().where(Counterparty.__table__.c.id == counterparty_id))))


async def insert_request(session: AsyncSession, values: dict[str, Any]) -> RequestOut:
    """Store a new request; answers it as stored (`RETURNING`), straight into the API's shape."""
    row = (await session.execute(_INSERT_REQUEST, values)).one()
    return msgspec.convert(row, RequestOut, from_attributes=True)


async def submitter_ids(session: AsyncSession, request_id: uuid.UUID) -> set[uuid.UUID]:
    """Every user who ever submitted the request, read from its audit trail (each submit writes one event)."""
    query = select(AuditEvent.actor_id).where(
        AuditEvent.request_id == request_id, AuditEvent.action == "submit", AuditEvent.actor_id.is_not(None)
    )
    return set(await session.scalars(query))  # type: ignore[arg-type]
