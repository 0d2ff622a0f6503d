"""Every query on the legal-basis catalogue, on Core (shared reference data, read by every organisation).

Each write fires the statement trigger that bumps the reference data's version (mla/reference)."""

from collections.abc import Collection
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mla.instruments.models import Instrument
from mla.instruments.schemas import InstrumentOut
from mla.rows import columns_of, to_struct, to_struct_or_none

_instruments = Instrument.__table__.c
_OUT_COLUMNS = columns_of(Instrument.__table__, InstrumentOut)


async def instrument(session: AsyncSession, code: str, *, for_update: bool = False) -> InstrumentOut | None:
    if "\x00" in code:  # no code holds U+0000, and PostgreSQL cannot compare with it (a 500)
        return None
    query = select(*_OUT_COLUMNS).where(_instruments.code == code)
    row = (await session.execute(query.with_for_update() if for_update else query)).first()
    return to_struct_or_none(row, InstrumentOut)


async def all_instruments(session: AsyncSession) -> list[InstrumentOut]:
    """The whole catalogue (a few dozen rows), ordered by code."""
    rows = await session.execute(select(*_OUT_COLUMNS).order_by(_instruments.code))
    return [to_struct(row, InstrumentOut) for row in rows]


async def instruments_with_codes(session: AsyncSession, codes: Collection[str]) -> dict[str, InstrumentOut]:
    rows = await session.execute(select(*_OUT_COLUMNS).where(_instruments.code.in_(codes)))
    return {row.code: to_struct(row, InstrumentOut) for row in rows}


async def insert_instrument(session: AsyncSession, values: dict[str, Any]) -> InstrumentOut:
    """Store an instrument; answers it as stored."""
    statement = insert(Instrument.__table__).values(values).returning(*_OUT_COLUMNS)
    return to_struct((await session.execute(statement)).one(), InstrumentOut)


async def update_instrument(session: AsyncSession, code: str, values: dict[str, Any]) -> InstrumentOut:
    """Change these columns of the instrument; answers it as stored."""
    statement = update(Instrument.__table__).where(_instruments.code == code).values(values).returning(*_OUT_COLUMNS)
    return to_struct((await session.execute(statement)).one(), InstrumentOut)
