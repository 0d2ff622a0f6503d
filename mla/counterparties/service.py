"""Foreign states and service providers: a catalogue every organisation reads, admins write."""

import uuid
from collections.abc import Collection

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service as audit
from mla.clock import Clock
from mla.counterparties.models import Counterparty
from mla.counterparties.schemas import CounterpartyCreate, CounterpartyOut, CounterpartyPatch
from mla.enums import CounterpartyKind
from mla.errors import Conflict, NotFound
from mla.pagination import Page, fetch_page
from mla.users.principal import Principal


def to_out(counterparty: Counterparty) -> CounterpartyOut:
    return msgspec.convert(counterparty, CounterpartyOut, from_attributes=True)


async def create_counterparty(
    session: AsyncSession, clock: Clock, actor: Principal | None, data: CounterpartyCreate
) -> Counterparty:
    """Refuses a name already in the catalogue (409)."""
    values = msgspec.to_builtins(data)
    counterparty = Counterparty(**values, id=uuid.uuid4(), created_at=clock.now())
    session.add(counterparty)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"A counterparty named {data.name!r} already exists.") from exc
    await audit.record(
        session,
        clock,
        actor,
        audit.AuditEntry(
            action="create_counterparty",
            chain=audit.admin_chain(),
            changes={"after": msgspec.to_builtins(to_out(counterparty))},
        ),
    )
    return counterparty


async def update_counterparty(
    session: AsyncSession, clock: Clock, actor: Principal, counterparty_id: uuid.UUID, data: CounterpartyPatch
) -> Counterparty:
    """Set the time zone its answers are counted in (clocks opened from now on); audited. Unknown id: 404."""
    counterparty = await get_counterparty(session, counterparty_id)
    if counterparty.timezone == data.timezone:
        return counterparty
    changes = {"id": str(counterparty.id), "timezone": {"before": counterparty.timezone, "after": data.timezone}}
    counterparty.timezone = data.timezone
    entry = audit.AuditEntry(action="update_counterparty", chain=audit.admin_chain(), changes=changes)
    await audit.record(session, clock, actor, entry)
    return counterparty


async def get_counterparty(session: AsyncSession, counterparty_id: uuid.UUID) -> Counterparty:
    counterparty = await session.get(Counterparty, counterparty_id)
    if counterparty is None:
        raise NotFound("No such counterparty.")
    return counterparty


async def names(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Display names of counterparties by id (the catalogue every user may read)."""
    rows = await session.execute(select(Counterparty.id, Counterparty.name).where(Counterparty.id.in_(set(ids))))
    return {row.id: row.name for row in rows}


async def find_by_name(session: AsyncSession, name: str) -> Counterparty | None:
    return await session.scalar(select(Counterparty).where(Counterparty.name == name))


async def list_counterparties(
    session: AsyncSession, kind: CounterpartyKind | None, cursor: str | None, limit: int
) -> Page[CounterpartyOut]:
    query = select(Counterparty)
    if kind is not None:
        query = query.where(Counterparty.kind == kind)
    return await fetch_page(session, query, Counterparty, cursor, limit, to_out)
