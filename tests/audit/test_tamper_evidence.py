"""The audit trail refuses rewriting, and verification names the first broken link."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.audit import service as audit_service
from mla.enums import Role
from tests.factories import World


async def walked_request(world: World) -> tuple[dict[str, str], dict[str, str]]:
    org = await world.organisation()
    request = await world.request(org, await world.case(org), await world.counterparty())
    for version in (1, 2):
        await world.client.patch(
            f"/api/v1/requests/{request['id']}", json={"version": version, "priority": version}, headers=org.headers()
        )
    return org.headers(), request


async def tamper(sessionmaker: async_sessionmaker[AsyncSession], request_id: str, seq: int, sql: str) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        await session.execute(text(sql), {"chain": f"request:{request_id}", "seq": seq})
        await session.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_events SET reason = 'rewritten' WHERE chain = :chain AND seq = :seq",
        "UPDATE audit_events SET changes = '{}' WHERE chain = :chain AND seq = :seq",
        "UPDATE audit_events SET at = at + interval '1 second' WHERE chain = :chain AND seq = :seq",
        "DELETE FROM audit_events WHERE chain = :chain AND seq = :seq",
    ],
)
async def test_verification_fails_at_exactly_the_tampered_event(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], sql: str
) -> None:
    headers, request = await walked_request(world)
    url = f"/api/v1/requests/{request['id']}/audit/verify"
    assert (await world.client.get(url, headers=headers)).json() == {
        "valid": True,
        "events": 3,
        "first_broken_seq": None,
    }

    await tamper(sessionmaker, request["id"], 2, sql)

    verdict = (await world.client.get(url, headers=headers)).json()
    assert verdict["valid"] is False
    assert verdict["first_broken_seq"] == (3 if sql.startswith("DELETE") else 2)


@pytest.mark.parametrize(
    "sql", ["UPDATE audit_events SET reason = 'x'", "DELETE FROM audit_events", "TRUNCATE audit_events"]
)
async def test_the_database_refuses_to_rewrite_history(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, sql: str
) -> None:
    await walked_request(world)
    with pytest.raises(DBAPIError, match="append-only"):
        async with sessionmaker() as session, session.begin():
            await session.execute(text(sql))


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
