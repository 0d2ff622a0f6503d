"""Every query on treaties and their parties (shared reference data, read by every organisation).

Treaties and parties are `Treaty` and `TreatyParty` objects: the legality checks read them as such,
and the rare admin edit (a party's record inserted or replaced, with its before and after) changes
one object the unit of work then writes.
"""

import uuid
from collections.abc import Collection

from sqlalchemy import any_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mla.treaties.models import Treaty, TreatyParty


async def find_by_code(session: AsyncSession, code: str) -> Treaty | None:
    if "\x00" in code:  # PostgreSQL cannot compare with U+0000 (a 500, not a 404)
        return None
    return await session.scalar(select(Treaty).where(Treaty.code == code))


async def treaty_of_instrument(session: AsyncSession, instrument_code: str) -> Treaty | None:
    """The treaty an instrument rests on; None for domestic law or a provider's policy."""
    query = select(Treaty).where(instrument_code == any_(Treaty.instrument_codes)).order_by(Treaty.code).limit(1)
    return await session.scalar(query)


async def all_treaties(session: AsyncSession) -> list[Treaty]:
    return list(await session.scalars(select(Treaty).order_by(Treaty.code)))


async def parties(
    session: AsyncSession, treaty_ids: Collection[uuid.UUID], countries: Collection[str] | None = None
) -> list[TreatyParty]:
    """Party rows of these treaties (only of `countries` when given), by treaty and country."""
    query = select(TreatyParty).where(TreatyParty.treaty_id.in_(treaty_ids))
    if countries is not None:
        query = query.where(TreatyParty.country.in_(countries))
    return list(await session.scalars(query.order_by(TreatyParty.treaty_id, TreatyParty.country)))


async def party(
    session: AsyncSession, treaty_id: uuid.UUID, country: str, *, for_update: bool = False
) -> TreatyParty | None:
    query = select(TreatyParty).where(TreatyParty.treaty_id == treaty_id, TreatyParty.country == country)
    return await session.scalar(query.with_for_update() if for_update else query)


async def write(session: AsyncSession, row: Treaty | TreatyParty) -> None:
    """Write the new or changed treaty or party now."""
    session.add(row)
    await session.flush()


async def delete_party(session: AsyncSession, party: TreatyParty) -> None:
    """Forget the party's record when the transaction is written."""
    await session.delete(party)
