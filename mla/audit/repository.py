"""Every query of the audit trail that writes events or reads chain heads, on SQLAlchemy Core."""

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit.models import AuditEvent

# migration 5b7e3c9a1f24: takes the chain's transaction-level advisory lock, then reads its head
# with a snapshot taken after the lock was granted.
_LOCK_CHAIN = text("SELECT seq, hash FROM lock_audit_chain(:chain)")
_INSERT_EVENT = insert(AuditEvent.__table__)
EVENT_COLUMNS = tuple(column.name for column in AuditEvent.__table__.c if column.name != "id")  # id: the identity


async def lock_chain(session: AsyncSession, chain: str) -> tuple[int, str] | None:
    """Lock the chain until the transaction ends (two writers never take the same `seq`) and return its
    last `seq` and hash, or None for a new chain; one statement."""
    head = (await session.execute(_LOCK_CHAIN, {"chain": chain})).first()
    return None if head is None else (head.seq, head.hash)


async def insert_event(session: AsyncSession, values: dict[str, Any]) -> None:
    """Write one event (a Core insert: no unit of work, no identity map), after the ORM changes of callers
    still on the ORM: their changes are written before their event."""
    await session.flush()
    await session.execute(_INSERT_EVENT, values)


async def chain_heads(session: AsyncSession) -> dict[str, tuple[int, str]]:
    """Every chain's last `seq` and hash: one ordered pass over the (chain, seq) index."""
    query = (
        select(AuditEvent.chain, AuditEvent.seq, AuditEvent.hash)
        .ext(distinct_on(AuditEvent.chain))
        .order_by(AuditEvent.chain, AuditEvent.seq.desc())
    )
    return {row.chain: (row.seq, row.hash) for row in await session.execute(query)}


async def events_in_chain_order(session: AsyncSession, chains: Sequence[str] | None) -> AsyncIterator[AuditEvent]:
    """Every event of these chains (of all chains when None), by chain then `seq`, streamed in batches."""
    query = select(AuditEvent).order_by(AuditEvent.chain, AuditEvent.seq)
    if chains is not None:
        query = query.where(AuditEvent.chain.in_(chains))
    async for event in await session.stream_scalars(query.execution_options(yield_per=2000)):
        yield event


async def chain_events(session: AsyncSession, chain: str, after_seq: int, limit: int) -> list[AuditEvent]:
    """Events of one chain in order, from just after `after_seq`; one extra row tells if there is more."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.chain == chain, AuditEvent.seq > after_seq)
        .order_by(AuditEvent.seq)
        .limit(limit + 1)
    )
    return list(await session.scalars(query))
