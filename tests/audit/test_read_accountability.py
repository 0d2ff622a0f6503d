"""Reads of case data are accountable (issue 9 §7).

A read by someone outside the owning organisation, or by an auditor, is one audit event: on the
object's own chain for one request or case, on the reader organisation's `reads:` chain for a list
page (one event per call, never one per row). Every export is one event with its filters and row
count. The owner reading its own data leaves no trace.
"""

from typing import Any

from sqlalchemy import select

from mla.audit.models import AuditEvent
from mla.enums import Role
from tests.factories import Org, World
from tests.stats.support import parse_csv

P, CA = Role.PROSECUTOR, Role.CENTRAL_AUTHORITY
SUB_RESOURCES = {
    "": "read",
    "/checks": "read_checks",
    "/deadlines": "read_deadlines",
    "/productions": "read_productions",
    "/communications": "read_communications",
    "/audit": "read_audit_trail",
}


async def events_on(world: World, chain: str) -> list[AuditEvent]:
    async with world.sessionmaker() as session:
        return list(await session.scalars(select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)))


async def reads_of(world: World, org: Org) -> list[AuditEvent]:
    """The list and export events of every reader in `org`, oldest first."""
    query = select(AuditEvent).where(AuditEvent.chain.startswith(f"reads:{org.id}:")).order_by(AuditEvent.id)
    async with world.sessionmaker() as session:
        return list(await session.scalars(query))


async def trail(world: World, org: Org, request: dict[str, Any]) -> list[dict[str, Any]]:
    response = await world.client.get(f"/api/v1/requests/{request['id']}/audit", headers=org.headers())
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def filed_pair(world: World, requests: int = 1) -> tuple[Org, Org, list[dict[str, Any]]]:
    prosecution, authority = await world.linked_pair()
    case, provider = await world.case(prosecution), await world.counterparty()
    filed = [await world.request(prosecution, case, provider) for _ in range(requests)]
    return prosecution, authority, filed


async def test_the_authority_reading_a_prosecution_services_request_is_on_the_requests_trail(world: World) -> None:
    prosecution, authority, [request] = await filed_pair(world)
    officer = authority.members[CA]

    for tail in SUB_RESOURCES:
        response = await world.client.get(f"/api/v1/requests/{request['id']}{tail}", headers=officer.headers)
        assert response.status_code == 200, (tail, response.text)

    reads = [e for e in await trail(world, prosecution, request) if e["action"] != "create"]
    assert [(e["action"], e["actor_id"]) for e in reads] == [(a, str(officer.id)) for a in SUB_RESOURCES.values()]
    assert all(e["from_status"] == e["to_status"] == "draft" for e in reads)
    verdict = await world.client.get(f"/api/v1/requests/{request['id']}/audit/verify", headers=prosecution.headers())
    assert verdict.json()["valid"] is True


async def test_the_owner_reading_its_own_request_leaves_no_trace(world: World) -> None:
    prosecution, _, [request] = await filed_pair(world)

    for tail in SUB_RESOURCES:
        response = await world.client.get(f"/api/v1/requests/{request['id']}{tail}", headers=prosecution.headers())
        assert response.status_code == 200, (tail, response.text)
    await world.client.get("/api/v1/requests", headers=prosecution.headers())

    assert [e["action"] for e in await trail(world, prosecution, request)] == ["create"]
    assert await reads_of(world, prosecution) == []


async def test_the_authority_reading_a_routed_case_is_on_the_cases_trail(world: World) -> None:
    prosecution, authority, [request] = await filed_pair(world)

    response = await world.client.get(f"/api/v1/cases/{request['case_id']}", headers=authority.headers(CA))

    assert response.status_code == 200
    events = await events_on(world, f"case:{request['case_id']}")
    assert [(e.action, e.actor_id, e.organisation_id) for e in events][-1] == (
        "read_case",
        authority.members[CA].id,
        prosecution.id,
    )


async def test_a_list_page_of_another_organisations_requests_is_one_event_on_the_readers_chain(
    world: World,
) -> None:
    prosecution, authority, filed = await filed_pair(world, requests=3)
    officer = authority.members[CA]
    supervisor = authority.members[Role.SUPERVISOR]

    first = await world.client.get("/api/v1/requests", params={"limit": 2, "status": "draft"}, headers=officer.headers)
    await world.client.get(
        "/api/v1/requests", params={"limit": 2, "cursor": first.json()["next_cursor"]}, headers=officer.headers
    )
    await world.client.get("/api/v1/requests", headers=supervisor.headers)

    events = await reads_of(world, authority)
    assert [(e.action, e.actor_id, e.changes["rows"]) for e in events] == [
        ("list_requests", officer.id, 2),
        ("list_requests", officer.id, 1),
        ("list_requests", supervisor.id, 3),
    ]
    assert [(e.chain, e.seq) for e in events] == [
        (f"reads:{authority.id}:{officer.id}", 1),
        (f"reads:{authority.id}:{officer.id}", 2),
        (f"reads:{authority.id}:{supervisor.id}", 1),  # each reader has a chain: no shared lock
    ]
    assert events[0].changes["query"] == {"status": "draft", "limit": 2}
    assert events[1].changes["query"]["cursor"] == first.json()["next_cursor"]
    assert events[0].changes["owners"] == [str(prosecution.id)]
    assert {len(await events_on(world, f"request:{r['id']}")) for r in filed} == {1}  # each only its `create`


async def test_the_queue_and_the_case_list_are_one_event_per_call(world: World) -> None:
    prosecution, authority, [request] = await filed_pair(world)
    await world.act(prosecution, P, request, "submit")

    queue = await world.client.get("/api/v1/queue", headers=authority.headers(CA))
    cases = await world.client.get("/api/v1/cases", headers=authority.headers(CA))

    assert queue.status_code == cases.status_code == 200
    assert [(e.action, e.changes["rows"]) for e in await reads_of(world, authority)] == [
        ("list_queue", 1),
        ("list_cases", 1),
    ]


async def test_an_auditor_listing_its_own_organisation_is_recorded_even_for_an_empty_page(world: World) -> None:
    prosecution, _, [request] = await filed_pair(world)
    auditor = prosecution.members[Role.AUDITOR]

    await world.client.get("/api/v1/requests", headers=auditor.headers)
    await world.client.get("/api/v1/requests", params={"status": "fulfilled"}, headers=auditor.headers)
    await world.client.get(f"/api/v1/cases/{request['case_id']}", headers=auditor.headers)

    assert [(e.action, e.changes["rows"]) for e in await reads_of(world, prosecution)] == [
        ("list_requests", 1),
        ("list_requests", 0),
    ]
    assert (await events_on(world, f"case:{request['case_id']}"))[-1].action == "read_case"


async def test_every_export_is_one_event_with_its_filters_and_row_count(world: World) -> None:
    prosecution, _, filed = await filed_pair(world, requests=3)
    await world.act(prosecution, P, filed[0], "submit")

    requests_csv = await world.client.get(
        "/api/v1/requests/export.csv", params={"status": "draft"}, headers=prosecution.headers()
    )
    stats_csv = await world.client.get(
        "/api/v1/stats/export.csv", params={"from": "2026-01-01T00:00:00Z"}, headers=prosecution.headers()
    )

    assert requests_csv.status_code == stats_csv.status_code == 200
    events = await reads_of(world, prosecution)
    assert [(e.action, e.actor_id) for e in events] == [
        ("export_requests", prosecution.members[P].id),
        ("export_statistics", prosecution.members[P].id),
    ]
    assert events[0].changes == {"query": {"status": "draft"}, "rows": len(parse_csv(requests_csv.text))}
    assert events[0].changes["rows"] == 2
    assert events[1].changes["query"] == {"from": "2026-01-01T00:00:00Z"}
    assert events[1].changes["rows"] == len(parse_csv(stats_csv.text))


async def test_an_export_of_many_rows_is_still_one_event(world: World) -> None:
    prosecution, authority, filed = await filed_pair(world, requests=12)

    response = await world.client.get("/api/v1/requests/export.csv", headers=authority.headers(CA))

    assert len(parse_csv(response.text)) == len(filed)
    [event] = await reads_of(world, authority)
    assert (event.action, event.changes["rows"]) == ("export_requests", len(filed))
    assert {len(await events_on(world, f"request:{r['id']}")) for r in filed} == {1}
