"""The audit trail refuses rewriting, and verification names the first broken link."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.audit import service as audit_service
from mla.audit.chain import legacy_hash
from mla.db import create_engine
from mla.enums import Role
from tests.audit.support import FORGERS, as_owner, rewrite_event, walked_request
from tests.factories import World


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_events SET reason = 'rewritten' WHERE chain = :chain AND seq = :seq",
        "UPDATE audit_events SET changes = '{}' WHERE chain = :chain AND seq = :seq",
        "UPDATE audit_events SET at = at + interval '1 second' WHERE chain = :chain AND seq = :seq",
        "UPDATE audit_events SET key_id = NULL WHERE chain = :chain AND seq = :seq",
        "DELETE FROM audit_events WHERE chain = :chain AND seq = :seq",
    ],
)
async def test_verification_fails_at_exactly_the_tampered_event(
    world: World, owner_database_url: str, sql: str
) -> None:
    headers, request = await walked_request(world)
    url = f"/api/v1/requests/{request['id']}/audit/verify"
    verdict = (await world.client.get(url, headers=headers)).json()
    assert (verdict["valid"], verdict["events"], verdict["first_broken_seq"]) == (True, 3, None)

    async with as_owner(owner_database_url) as session:
        await session.execute(text(sql), {"chain": f"request:{request['id']}", "seq": 2})

    verdict = (await world.client.get(url, headers=headers)).json()
    assert verdict["valid"] is False
    assert verdict["first_broken_seq"] == 2
    assert verdict["problem"].startswith("event 2 ")


@pytest.mark.parametrize("forgery", FORGERS)
async def test_a_rewrite_rehashed_without_the_key_is_named(world: World, owner_database_url: str, forgery: str) -> None:
    """The attack of issue 9: rewrite who did what and recompute every later hash with a known function."""
    headers, request = await walked_request(world)
    chain = f"request:{request['id']}"
    forger, as_legacy = FORGERS[forgery]

    await rewrite_event(owner_database_url, chain, 2, forger, as_legacy=as_legacy)

    verdict = (await world.client.get(f"/api/v1/requests/{request['id']}/audit/verify", headers=headers)).json()
    assert (verdict["valid"], verdict["first_broken_seq"]) == (False, 2)
    assert verdict["problem"].startswith("event 2 ")


async def test_marking_a_whole_chain_as_legacy_gains_nothing(world: World, owner_database_url: str) -> None:
    """Events without a key are accepted only if a keyed event or a signed checkpoint pins them."""
    headers, request = await walked_request(world)

    await rewrite_event(owner_database_url, f"request:{request['id']}", 1, legacy_hash, as_legacy=True)

    verdict = (await world.client.get(f"/api/v1/requests/{request['id']}/audit/verify", headers=headers)).json()
    assert (verdict["valid"], verdict["first_broken_seq"]) == (False, 1)
    assert verdict["problem"] == "event 1 carries no key and no signed checkpoint covers it"


@pytest.mark.parametrize(
    "sql", ["UPDATE audit_events SET reason = 'x'", "DELETE FROM audit_events", "TRUNCATE audit_events"]
)
async def test_the_database_refuses_to_rewrite_history_even_to_its_owner(
    owner_database_url: str, world: World, sql: str
) -> None:
    await walked_request(world)
    with pytest.raises(DBAPIError, match="append-only"):
        engine = create_engine(owner_database_url, null_pool=True)
        try:
            async with engine.begin() as connection:
                await connection.execute(text(sql))
        finally:
            await engine.dispose()


async def test_an_auditor_reading_a_request_leaves_a_trace(world: World) -> None:
    org = await world.organisation()
    request = await world.request(org, await world.case(org), await world.counterparty())

    await world.client.get(f"/api/v1/requests/{request['id']}", headers=org.headers(Role.AUDITOR))
    await world.client.get(f"/api/v1/requests/{request['id']}", headers=org.headers(Role.PROSECUTOR))

    trail = (await world.client.get(f"/api/v1/requests/{request['id']}/audit", headers=org.headers())).json()["items"]
    assert [(e["action"], e["actor_id"]) for e in trail] == [
        ("create", str(org.members[Role.PROSECUTOR].id)),
        ("read", str(org.members[Role.AUDITOR].id)),
    ]


@pytest.mark.parametrize("cursor", ["-1", str(2**31), "108850816789807144148541460447232"])
async def test_an_audit_cursor_out_of_range_is_a_422_naming_it(world: World, cursor: str) -> None:
    """`seq` is a 32-bit column: a larger cursor reached PostgreSQL and was a 500 (found by fuzzing)."""
    org = await world.organisation()
    request = await world.request(org, await world.case(org), await world.counterparty())

    response = await world.client.get(
        f"/api/v1/requests/{request['id']}/audit", params={"cursor": cursor}, headers=org.headers()
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "cursor"


async def test_verification_reports_its_progress(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, request = await walked_request(world)
    monkeypatch.setattr(audit_service, "PROGRESS_EVERY", 2)
    seen: list[int] = []

    async with sessionmaker() as session:
        [verdict] = await audit_service.verify_chains(session, f"request:{request['id']}", seen.append)

    assert verdict.valid and verdict.events == 3
    assert seen == [2]
