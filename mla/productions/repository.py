"""Every query of the evidence domain, on Core: productions and their custody events straight into the
API's structs (a request's productions are read by whoever may read the request: the caller checks)."""

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit.models import AuditEvent
from mla.productions.models import CustodyEvent, Production
from mla.productions.schemas import CustodyOut, ProductionOut
from mla.rows import to_struct, to_struct_or_none

_productions = Production.__table__.c
_custody = CustodyEvent.__table__.c
# A production answered without its custody, which is read apart (`with_custody`).
_PRODUCTION_COLUMNS = [
    *(column for column in _productions if column is not _productions.duplicate_of_id),
    _productions.duplicate_of_id.label("duplicate_of"),
]
_CUSTODY_COLUMNS = [
    *(_custody[name] for name in ("id", "production_id", "at", "kind", "holder", "note", "recorded_by")),
    _custody.created_at.label("recorded_at"),
]


async def has_taken(session: AsyncSession, request_id: uuid.UUID, action: str) -> bool:
    """Whether the request's audit trail records `action` (e.g. it was transmitted, or accepted)."""
    query = select(AuditEvent.id).where(AuditEvent.request_id == request_id, AuditEvent.action == action).limit(1)
    return await session.scalar(query) is not None


async def first_with_hash(session: AsyncSession, request_id: uuid.UUID, sha256: str) -> uuid.UUID | None:
    """The id of the earliest production of the request with this SHA-256."""
    query = (
        select(_productions.id)
        .where(_productions.request_id == request_id, _productions.sha256 == sha256)
        .order_by(_productions.created_at, _productions.id)
        .limit(1)
    )
    return await session.scalar(query)


async def insert_production(session: AsyncSession, values: dict[str, Any]) -> ProductionOut:
    """Store a production; answers it as stored, with no custody yet."""
    statement = insert(Production.__table__).values(values).returning(*_PRODUCTION_COLUMNS)
    return to_struct((await session.execute(statement)).one(), ProductionOut)


async def production(session: AsyncSession, request_id: uuid.UUID, production_id: uuid.UUID) -> ProductionOut | None:
    """The request's production, without its custody."""
    query = select(*_PRODUCTION_COLUMNS).where(_productions.id == production_id, _productions.request_id == request_id)
    return to_struct_or_none((await session.execute(query)).first(), ProductionOut)


async def insert_custody_event(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert(CustodyEvent.__table__).values(values))


async def productions_of(session: AsyncSession, request_id: uuid.UUID) -> list[ProductionOut]:
    """The request's productions in the order they were received, each with its custody."""
    query = (
        select(*_PRODUCTION_COLUMNS)
        .where(_productions.request_id == request_id)
        .order_by(_productions.received_at, _productions.id)
    )
    return await with_custody(session, [to_struct(row, ProductionOut) for row in await session.execute(query)])


async def with_custody(session: AsyncSession, productions: list[ProductionOut]) -> list[ProductionOut]:
    """The productions, each with its custody events in the order they happened."""
    query = (
        select(*_CUSTODY_COLUMNS)
        .where(_custody.production_id.in_([production.id for production in productions]))
        .order_by(_custody.at, _custody.created_at)
    )
    custody: dict[uuid.UUID, list[CustodyOut]] = {production.id: [] for production in productions}
    for row in await session.execute(query):
        custody[row.production_id].append(to_struct(row, CustodyOut))
    for production in productions:
        production.custody = custody[production.id]
    return productions


async def received_counts(session: AsyncSession, request_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many productions each request received (requests with none are absent)."""
    query = (
        select(_productions.request_id, func.count())
        .where(_productions.request_id.in_(set(request_ids)))
        .group_by(_productions.request_id)
    )
    return {request_id: count for request_id, count in await session.execute(query)}
