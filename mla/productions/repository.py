"""Queries of the evidence domain."""

import uuid
from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit.models import AuditEvent
from mla.productions.models import Production


async def has_taken(session: AsyncSession, request_id: uuid.UUID, action: str) -> bool:
    """Whether the request's audit trail records `action` (e.g. it was transmitted, or accepted)."""
    query = select(AuditEvent.id).where(AuditEvent.request_id == request_id, AuditEvent.action == action).limit(1)
    return await session.scalar(query) is not None


async def first_with_hash(session: AsyncSession, request_id: uuid.UUID, sha256: str) -> Production | None:
    """The earliest production of the request with this SHA-256."""
    query = (
        select(Production)
        .where(Production.request_id == request_id, Production.sha256 == sha256)
        .order_by(Production.created_at, Production.id)
        .limit(1)
    )
    return await session.scalar(query)


async def received_counts(session: AsyncSession, request_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many productions each request received (requests with none are absent)."""
    query = (
        select(Production.request_id, func.count())
        .where(Production.request_id.in_(set(request_ids)))
        .group_by(Production.request_id)
    )
    return {request_id: count for request_id, count in await session.execute(query)}
