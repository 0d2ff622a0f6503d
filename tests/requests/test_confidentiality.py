"""A confidential request shows only to its creator and assignee, the authority's supervisors and auditors.

Everyone else in the organisations that would see it gets 404, exactly as for a request that does
not exist, and it is left out of their lists, queue, exports and statistics.
"""

from typing import Any

import httpx
from sqlalchemy import select

from mla.audit.models import AuditEvent
from mla.enums import Role
from tests.factories import Member, Org, World

SECRET = {"confidential": True, "confidentiality_reason": "The suspect is a serving police officer."}


def url(request: dict[str, Any]) -> str:
    return f"/api/v1/requests/{request['id']}"


async def sees(client: httpx.AsyncClient, member: Member, request: dict[str, Any]) -> bool:
    """Whether `member` reads the request, finds it in the list and (officers) in the queue, consistently."""
    read = await client.get(url(request), headers=member.headers)
    listed = await client.get("/api/v1/requests", headers=member.headers)
    exported = await client.get("/api/v1/requests/export.csv", headers=member.headers)
    found = [read.status_code == 200, request["id"] in {r["id"] for r in listed.json()["items"]}]
    found.append(request["reference"] in exported.text)
    assert read.status_code in (200, 404) and len(set(found)) == 1, found
    return found[0]


async def submitted_secret(world: World) -> tuple[Org, Org, dict[str, Any]]:
    prosecution, authority = await world.linked_pair()
    draft = await world.request(prosecution, await world.case(prosecution), await world.counterparty(), **SECRET)
    return prosecution, authority, await world.act(prosecution, Role.PROSECUTOR, draft, "submit")


async def in_queue(client: httpx.AsyncClient, member: Member, request: dict[str, Any]) -> bool:
    queue = (await client.get("/api/v1/queue", headers=member.headers)).json()
    return request["id"] in {item["id"] for item in queue["items"]}


async def test_only_the_creator_supervisors_and_auditors_see_an_unassigned_confidential_request(world: World) -> None:
    prosecution, authority, request = await submitted_secret(world)
    colleague = await world.member(prosecution, Role.PROSECUTOR)
    c = world.client

    assert await sees(c, prosecution.members[Role.PROSECUTOR], request)  # the creator
    assert not await sees(c, colleague, request)  # another prosecutor of the same office
    assert not await sees(c, authority.members[Role.CENTRAL_AUTHORITY], request)  # an officer not assigned
    assert await sees(c, authority.members[Role.SUPERVISOR], request)
    assert await sees(c, prosecution.members[Role.AUDITOR], request)
    assert await sees(c, authority.members[Role.AUDITOR], request)
    assert not await sees(c, authority.members[Role.ADMIN], request)
    assert not await in_queue(c, authority.members[Role.CENTRAL_AUTHORITY], request)
    assert await in_queue(c, authority.members[Role.SUPERVISOR], request)


async def test_the_assigned_officer_then_sees_and_handles_it(world: World) -> None:
    _, authority, request = await submitted_secret(world)
    officer, supervisor = authority.members[Role.CENTRAL_AUTHORITY], authority.members[Role.SUPERVISOR]

    assigned = await world.client.post(
        f"{url(request)}/assign",
        json={"user_id": str(officer.id), "version": request["version"]},
        headers=supervisor.headers,
    )
    assert assigned.status_code == 200, assigned.text

    assert await sees(world.client, officer, request)
    assert await in_queue(world.client, officer, request)
    returned = await world.act(authority, Role.CENTRAL_AUTHORITY, assigned.json(), "return", reason="Add the period.")
    assert returned["status"] == "draft"


async def test_hidden_is_404_on_everything_under_the_request_too(world: World) -> None:
    prosecution, _, request = await submitted_secret(world)
    colleague = await world.member(prosecution, Role.PROSECUTOR)

    for path in ("", "/actions", "/audit", "/checks", "/deadlines", "/productions", "/communications"):
        response = await world.client.get(url(request) + path, headers=colleague.headers)
        assert response.status_code == 404, path
    withdraw = await world.client.post(
        f"{url(request)}/actions/withdraw",
        json={"version": request["version"], "reason": "Not mine to withdraw."},
        headers=colleague.headers,
    )
    assert withdraw.status_code == 404


async def test_an_auditors_every_read_of_a_confidential_request_is_audited(world: World) -> None:
    prosecution, _, request = await submitted_secret(world)
    auditor = prosecution.members[Role.AUDITOR]

    await world.client.get(url(request), headers=auditor.headers)
    await world.client.get("/api/v1/requests", headers=auditor.headers)

    trail = (await world.client.get(f"{url(request)}/audit", headers=prosecution.headers())).json()["items"]
    reads = [(e["action"], e["actor_id"]) for e in trail if e["action"].startswith("read")]
    assert reads[:1] == [("read", str(auditor.id))]
    # The list call is one event on the auditor's own reads chain (mla.audit.reads), counting the rows it showed.
    async with world.sessionmaker() as session:
        chain = f"reads:{prosecution.id}:{auditor.id}"
        listed = (await session.scalars(select(AuditEvent).where(AuditEvent.chain == chain))).all()
    assert [(e.action, e.changes["rows"] >= 1) for e in listed] == [("list_requests", True)]


async def test_statistics_count_it_only_for_those_who_may_see_it(world: World) -> None:
    prosecution, _, request = await submitted_secret(world)
    colleague = await world.member(prosecution, Role.PROSECUTOR)

    mine = (await world.client.get("/api/v1/stats", headers=prosecution.headers())).json()
    theirs = (await world.client.get("/api/v1/stats", headers=colleague.headers)).json()

    assert mine["by_status"]["under_review"] == 1
    assert theirs["by_status"]["under_review"] == 0


async def test_the_api_says_what_confidential_hides(world: World) -> None:
    schema = (await world.client.get("/schema/openapi.json")).json()

    described = [
        component["properties"]["confidential"].get("description", "")
        for name, component in schema["components"]["schemas"].items()
        if name.startswith("Request") and "confidential" in component.get("properties", {})
    ]
    assert described and all("hidden (404" in text and "supervisors" in text for text in described)
