"""Queries of the audit trail written for checkpoints (the older ones live in service.py)."""

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit.models import AuditEvent


async def chain_heads(session: AsyncSession) -> dict[str, tuple[int, str]]:
    """Every chain's last `seq` and hash: one ordered pass over the (chain, seq) index."""
    query = (
        select(AuditEvent.chain, AuditEvent.seq, AuditEvent.hash)
        .ext(distinct_on(AuditEvent.chain))
        .order_by(AuditEvent.chain, AuditEvent.seq.desc())
    )
    return {row.chain: (row.seq, row.hash) for row in await session.execute(query)}
