"""Every query on requests, scoped to what the caller's organisation owns, is responsible for or executes,
less the confidential requests the caller is not entitled to see."""

import uuid
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, Select, and_, any_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from mla.audit.models import AuditEvent
from mla.enums import DataCategory, Direction, RequestStatus, RequestType, Role, Urgency
from mla.fields import identifier_forms
from mla.requests.models import Request, reference_sequence
from mla.requests.schemas import RequestSummary
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


def visible_to(viewer: Principal) -> ColumnElement[bool]:
    """What the viewer sees: requests their organisation owns, is responsible for or executes, less
    the confidential ones they are not entitled to (`confidential_allows`)."""
    organisation_id = viewer.organisation_id
    seen = or_(
        Request.organisation_id == organisation_id,
        Request.central_authority_id == organisation_id,
        Request.executing_organisation_id == organisation_id,
    )
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


def filtered(viewer: Principal, filters: RequestFilters) -> Select[Any]:
    query = select(Request).where(visible_to(viewer))
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


def summaries(viewer: Principal, filters: RequestFilters) -> Select[Any]:
    """`filtered`, loading only the columns of a `RequestSummary`: a page never reads the statements.

    Touching any other attribute of these rows raises instead of loading it one row at a time.
    """
    columns = [getattr(Request, name) for name in RequestSummary.__struct_fields__]
    return filtered(viewer, filters).options(load_only(*columns, raiseload=True))


def matches_text(q: str) -> ColumnElement[bool]:
    """Text in our reference, or exactly one of the counterparty's references."""
    text = q.strip()
    return or_(
        Request.reference.ilike(f"%{_escape_like(text)}%", escape="\\"),
        text == any_(Request.counterparty_references),
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def next_reference_number(session: AsyncSession) -> int:
    return int(await session.scalar(select(reference_sequence.next_value())))


async def submitter_ids(session: AsyncSession, request_id: uuid.UUID) -> set[uuid.UUID]:
    """Every user who ever submitted the request, read from its audit trail (each submit writes one event)."""
    query = select(AuditEvent.actor_id).where(
        AuditEvent.request_id == request_id, AuditEvent.action == "submit", AuditEvent.actor_id.is_not(None)
    )
    return set(await session.scalars(query))  # type: ignore[arg-type]
