"""The legal-basis catalogue: seeded, read by everyone, edited by admins (each edit audited)."""

import uuid
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service as audit
from mla.clock import Clock
from mla.errors import Conflict, NotFound
from mla.instruments import repository
from mla.instruments.schemas import InstrumentCreate, InstrumentOut, InstrumentPatch
from mla.users.principal import Principal


async def get_by_code(session: AsyncSession, code: str, *, for_update: bool = False) -> InstrumentOut:
    """Refuses an unknown code (404)."""
    instrument = await repository.instrument(session, code, for_update=for_update)
    if instrument is None:
        raise NotFound(f"No instrument with code {code!r}.")
    return instrument


async def list_instruments(session: AsyncSession) -> list[InstrumentOut]:
    """The whole catalogue, ordered by code."""
    return await repository.all_instruments(session)


async def create_instrument(
    session: AsyncSession, clock: Clock, actor: Principal | None, data: InstrumentCreate
) -> InstrumentOut:
    """Refuses a code already in the catalogue (409)."""
    if await repository.instrument(session, data.code) is not None:
        raise Conflict(f"An instrument with code {data.code!r} already exists.")
    now = clock.now()
    values = msgspec.to_builtins(data) | {"id": uuid.uuid4(), "created_at": now, "updated_at": now}
    instrument = await repository.insert_instrument(session, values)
    entry = audit.AuditEntry(
        action="create_instrument", chain=audit.admin_chain(), changes={"after": msgspec.to_builtins(instrument)}
    )
    await audit.record(session, clock, actor, entry)
    return instrument


async def update_instrument(
    session: AsyncSession, clock: Clock, actor: Principal, code: str, patch: InstrumentPatch
) -> InstrumentOut:
    """Change the fields sent that differ; audited. Refuses an unknown code (404)."""
    instrument = await get_by_code(session, code, for_update=True)
    changes: dict[str, Any] = {}
    for name, value in msgspec.structs.asdict(patch).items():
        if value is msgspec.UNSET:  # not sent: left as it is (to_builtins cannot encode UNSET)
            continue
        before, after = msgspec.to_builtins(getattr(instrument, name)), msgspec.to_builtins(value)
        if before != after:
            changes[name] = {"before": before, "after": after}
    if not changes:
        return instrument
    values = {name: change["after"] for name, change in changes.items()} | {"updated_at": clock.now()}
    updated = await repository.update_instrument(session, code, values)
    entry = audit.AuditEntry(action="update_instrument", chain=audit.admin_chain(), changes={"code": code, **changes})
    await audit.record(session, clock, actor, entry)
    return updated
