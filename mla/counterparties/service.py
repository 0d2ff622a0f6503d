"""Foreign states and service providers: a catalogue every organisation reads, admins write."""

import uuid

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service as audit
from mla.clock import Clock
from mla.counterparties import repository
from mla.counterparties.schemas import CounterpartyCreate, CounterpartyOut, CounterpartyPatch
from mla.enums import CounterpartyKind
from mla.errors import Conflict, NotFound
from mla.pagination import Page
from mla.users.principal import Principal


async def create_counterparty(
    session: AsyncSession, clock: Clock, actor: Principal | None, data: CounterpartyCreate
) -> CounterpartyOut:
    """Refuses a name already in the catalogue (409)."""
    values = msgspec.to_builtins(data) | {"id": uuid.uuid4(), "created_at": clock.now()}
    counterparty = await repository.insert_counterparty(session, values)
    if counterparty is None:
        raise Conflict(f"A counterparty named {data.name!r} already exists.")
    entry = audit.AuditEntry(
        action="create_counterparty", chain=audit.admin_chain(), changes={"after": msgspec.to_builtins(counterparty)}
    )
    await audit.record(session, clock, actor, entry)
    return counterparty


async def update_counterparty(
    session: AsyncSession, clock: Clock, actor: Principal, counterparty_id: uuid.UUID, data: CounterpartyPatch
) -> CounterpartyOut:
    """Set the time zone its answers are counted in (clocks opened from now on); audited. Unknown id: 404."""
    counterparty = _found(await repository.counterparty(session, counterparty_id, for_update=True))
    if counterparty.timezone == data.timezone:
        return counterparty
    changes = {"id": str(counterparty.id), "timezone": {"before": counterparty.timezone, "after": data.timezone}}
    await repository.set_timezone(session, counterparty.id, data.timezone)
    entry = audit.AuditEntry(action="update_counterparty", chain=audit.admin_chain(), changes=changes)
    await audit.record(session, clock, actor, entry)
    return msgspec.structs.replace(counterparty, timezone=data.timezone)


async def get_counterparty(session: AsyncSession, counterparty_id: uuid.UUID) -> CounterpartyOut:
    """Refuses an unknown id (404)."""
    return _found(await repository.counterparty(session, counterparty_id))


def _found(counterparty: CounterpartyOut | None) -> CounterpartyOut:
    if counterparty is None:
        raise NotFound("No such counterparty.")
    return counterparty


async def list_counterparties(
    session: AsyncSession, kind: CounterpartyKind | None, cursor: str | None, limit: int
) -> Page[CounterpartyOut]:
    return await repository.page(session, kind, cursor, limit)
