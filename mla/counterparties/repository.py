"""Every query on counterparties, on Core: a catalogue every organisation reads, platform admins write."""

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mla.counterparties.models import Counterparty
from mla.counterparties.schemas import CounterpartyOut
from mla.enums import CounterpartyKind
from mla.pagination import Page, struct_page
from mla.rows import columns_of, to_struct_or_none

_counterparties = Counterparty.__table__.c
_OUT_COLUMNS = columns_of(Counterparty.__table__, CounterpartyOut)


async def insert_counterparty(session: AsyncSession, values: dict[str, Any]) -> CounterpartyOut | None:
    """Store a counterparty and answer it as stored; None if its name is in the catalogue already."""
    statement = insert(Counterparty.__table__).values(values).on_conflict_do_nothing().returning(*_OUT_COLUMNS)
    row = (await session.execute(statement)).first()
    return to_struct_or_none(row, CounterpartyOut)


async def counterparty(
    session: AsyncSession, counterparty_id: uuid.UUID, *, for_update: bool = False
) -> CounterpartyOut | None:
    query = select(*_OUT_COLUMNS).where(_counterparties.id == counterparty_id)
    row = (await session.execute(query.with_for_update() if for_update else query)).first()
    return to_struct_or_none(row, CounterpartyOut)


async def set_timezone(session: AsyncSession, counterparty_id: uuid.UUID, timezone: str) -> None:
    statement = update(Counterparty.__table__).where(_counterparties.id == counterparty_id).values(timezone=timezone)
    await session.execute(statement)


async def names(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Display names of counterparties by id."""
    rows = await session.execute(select(_counterparties.id, _counterparties.name).where(_counterparties.id.in_(ids)))
    return {row.id: row.name for row in rows}


async def page(
    session: AsyncSession, kind: CounterpartyKind | None, cursor: str | None, limit: int
) -> Page[CounterpartyOut]:
    """One page of the catalogue (of one `kind` if given), newest first."""
    where = [] if kind is None else [_counterparties.kind == kind]
    return await struct_page(session, Counterparty.__table__, CounterpartyOut, cursor, limit, *where)
