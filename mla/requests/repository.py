"""Every query on requests, scoped to what the caller's organisation owns or is responsible for."""

import uuid
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, Select, any_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from mla.audit.models import AuditEvent
from mla.enums import DataCategory, Direction, RequestStatus, RequestType, Urgency
from mla.requests.models import Request, reference_sequence
from mla.requests.schemas import RequestSummary


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


def visible_to(organisation_id: uuid.UUID) -> ColumnElement[bool]:
    return or_(Request.organisation_id == organisation_id, Request.central_authority_id == organisation_id)


async def get_visible(
    session: AsyncSession, organisation_id: uuid.UUID, request_id: uuid.UUID, *, for_update: bool = False
) -> Request | None:
    """The request if the organisation may see it; `for_update` locks the row until commit."""
    query = select(Request).where(Request.id == request_id, visible_to(organisation_id))
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


def filtered(organisation_id: uuid.UUID, filters: RequestFilters) -> Select[Any]:
    query = select(Request).where(visible_to(organisation_id))
    for name in ("status", "type", "direction", "urgency", "target_id", "assignee_id", "case_id"):
        value = getattr(filters, name)
        if value is not None:
            query = query.where(getattr(Request, name) == value)
    if filters.data_category is not None:
        query = query.where(str(filters.data_category) == any_(Request.data_categories))
    if filters.q:
        text = filters.q.strip()
        query = query.where(
            or_(
                Request.reference.ilike(f"%{_escape_like(text)}%", escape="\\"),
                text == any_(Request.counterparty_references),
            )
        )
    return query


def summaries(organisation_id: uuid.UUID, filters: RequestFilters) -> Select[Any]:
    """`filtered`, loading only the columns of a `RequestSummary`: a page never reads the statements.

    Touching any other attribute of these rows raises instead of loading it one row at a time.
    """
    columns = [getattr(Request, name) for name in RequestSummary.__struct_fields__]
    return filtered(organisation_id, filters).options(load_only(*columns, raiseload=True))


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
