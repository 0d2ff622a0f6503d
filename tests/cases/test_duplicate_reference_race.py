"""Two cases of one organisation never share a reference, even when opened at the same moment."""

import asyncio

from sqlalchemy import func, select

from mla.cases.models import Case
from tests.factories import World


async def test_concurrent_cases_with_one_reference_give_one_201_and_409s(world: World) -> None:
    org = await world.organisation()
    body = {"reference": "RACE-1", "title": "Raced", "offences": [{"description": "Fraud", "max_penalty_years": 5}]}

    responses = await asyncio.gather(
        *(world.client.post("/api/v1/cases", json=body, headers=org.headers()) for _ in range(8))
    )

    assert sorted(r.status_code for r in responses) == [201] + [409] * 7
    for response in responses:
        if response.status_code == 409:
            assert response.headers["content-type"].startswith("application/problem+json")
    async with world.sessionmaker() as session:
        count = await session.scalar(select(func.count()).where(Case.organisation_id == org.id))
    assert count == 1
