"""The legal-basis catalogue: seeded, read by everyone, edited by admins (each edit audited)."""

import uuid
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service as audit
from mla.clock import Clock
from mla.errors import Conflict, NotFound
from mla.instruments.models import Instrument
from mla.instruments.schemas import InstrumentCreate, InstrumentOut, InstrumentPatch
from mla.users.principal import Principal


def to_out(instrument: Instrument) -> InstrumentOut:
    return msgspec.convert(instrument, InstrumentOut, from_attributes=True)


async def find_by_code(session: AsyncSession, code: str) -> Instrument | None:
    if "\x00" in code:  # no code holds U+0000, and PostgreSQL cannot compare with it (a 500)
        return None
    return await session.scalar(select(Instrument).where(Instrument.code == code))


async def get_by_code(session: AsyncSession, code: str) -> Instrument:
    instrument = await find_by_code(session, code)
    if instrument is None:
        raise NotFound(f"No instrument with code {code!r}.")
    return instrument


async def list_instruments(session: AsyncSession) -> list[InstrumentOut]:
    """The whole catalogue (a few dozen rows), ordered by code."""
    return [to_out(i) for i in await session.scalars(select(Instrument).order_by(Instrument.code))]


async def create_instrument(
    session: AsyncSession, clock: Clock, actor: Principal | None, data: InstrumentCreate
) -> Instrument:
    """Refuses a code already in the catalogue (409)."""
    if await find_by_code(session, data.code) is not None:
        raise Conflict(f"An instrument with code {data.code!r} already exists.")
    now = clock.now()
    instrument = Instrument(**msgspec.to_builtins(data), id=uuid.uuid4(), created_at=now, updated_at=now)
    session.add(instrument)
    await session.flush()
    await audit.record(
        session,
        clock,
        actor,
        audit.AuditEntry(
            action="create_instrument",
            chain=audit.admin_chain(),
            changes={"after": msgspec.to_builtins(to_out(instrument))},
        ),
    )
    return instrument


async def update_instrument(
    session: AsyncSession, clock: Clock, actor: Principal, code: str, patch: InstrumentPatch
) -> Instrument:
    instrument = await get_by_code(session, code)
    changes: dict[str, Any] = {}
    for name, value in msgspec.structs.asdict(patch).items():
        if value is msgspec.UNSET:  # not sent: left as it is (to_builtins cannot encode UNSET)
            continue
        new_value = msgspec.to_builtins(value)
        if getattr(instrument, name) == new_value:
            continue
        changes[name] = {"before": getattr(instrument, name), "after": new_value}
        setattr(instrument, name, new_value)
    if changes:
        instrument.updated_at = clock.now()
        await audit.record(
            session,
            clock,
            actor,
            audit.AuditEntry(action="update_instrument", chain=audit.admin_chain(), changes={"code": code, **changes}),
        )
    return instrument
