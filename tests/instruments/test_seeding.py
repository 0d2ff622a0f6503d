"""The catalogue is seeded into the real database, once, without overwriting admin edits."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.clock import FixedClock
from mla.instruments.catalogue import CATALOGUE, seed_catalogue
from mla.instruments.models import Instrument


async def test_seeding_again_inserts_nothing_and_keeps_every_code(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    async with sessionmaker() as session, session.begin():
        inserted = await seed_catalogue(session, clock)
        codes = set(await session.scalars(select(Instrument.code)))

    assert inserted == 0
    assert {entry.code for entry in CATALOGUE} <= codes


async def test_every_instrument_is_listed_with_its_citation(world) -> None:  # type: ignore[no-untyped-def]
    org = await world.organisation()
    response = await world.client.get("/api/v1/instruments", headers=org.headers())
    items = {item["code"]: item for item in response.json()["items"]}
    assert response.status_code == 200
    assert {entry.code for entry in CATALOGUE} <= set(items)
    assert "art 10" in items["eu-epoc"]["citation"]
