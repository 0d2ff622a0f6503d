"""Every query on communications, on Core: a request's communications are read by whoever may read the
request (the caller checks that first)."""

import uuid
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from mla.communications.models import Communication
from mla.communications.schemas import CommunicationOut
from mla.rows import columns_of, to_struct

_communications = Communication.__table__.c
_OUT_COLUMNS = columns_of(Communication.__table__, CommunicationOut)


async def insert_communication(session: AsyncSession, values: dict[str, Any]) -> CommunicationOut:
    """Store a communication; answers it as stored."""
    row = (await session.execute(insert(Communication.__table__).values(values).returning(*_OUT_COLUMNS))).one()
    return to_struct(row, CommunicationOut)


async def communications_of(session: AsyncSession, request_id: uuid.UUID) -> list[CommunicationOut]:
    """The communications of a request, oldest first."""
    query = (
        select(*_OUT_COLUMNS)
        .where(_communications.request_id == request_id)
        .order_by(_communications.occurred_at, _communications.id)
    )
    return [to_struct(row, CommunicationOut) for row in await session.execute(query)]
