"""Cases are edited (`PATCH /cases/{id}`) and closed (`POST /cases/{id}/close`) by their own
organisation's prosecutors and officers, each change audited on the case's chain; a closed case
takes no new request and no edit."""

import uuid
from typing import Any

from sqlalchemy import select

from mla.audit.models import AuditEvent
from mla.audit.service import case_chain
from mla.enums import Role
from tests.factories import Org, World, request_body

CASES = "/api/v1/cases"


async def case_events(world: World, case_id: str) -> list[AuditEvent]:
    async with world.sessionmaker() as session:
        query = select(AuditEvent).where(AuditEvent.chain == case_chain(uuid.UUID(case_id))).order_by(AuditEvent.seq)
        return list(await session.scalars(query))


async def withdrawn(world: World, org: Org, request: dict[str, Any]) -> dict[str, Any]:
    return await world.act(org, Role.PROSECUTOR, request, "withdraw", reason="No longer needed by the case.")


async def test_the_owner_edits_a_case_and_the_change_is_audited_with_before_and_after(world: World) -> None:
    org = await world.organisation()
    case = await world.case(org)
    edit = {"version": case["version"], "title": "Ransomware on two hospitals", "summary": "A second hospital."}

    response = await world.client.patch(f"{CASES}/{case['id']}", json=edit, headers=org.headers())

    assert response.status_code == 200, response.text
    edited = response.json()
    assert (edited["title"], edited["summary"], edited["version"]) == (edit["title"], edit["summary"], 2)
    assert edited["reference"] == case["reference"] and edited["offences"] == case["offences"]
    assert (await world.client.get(f"{CASES}/{case['id']}", headers=org.headers())).json() == edited
    [*_, event] = await case_events(world, case["id"])
    assert event.action == "update_case" and event.actor_id == org.members[Role.PROSECUTOR].id
    assert event.changes == {
        "title": {"before": case["title"], "after": edit["title"]},
        "summary": {"before": case["summary"], "after": edit["summary"]},
    }


async def test_an_edit_based_on_an_old_version_is_a_409_and_changes_nothing(world: World) -> None:
    org = await world.organisation()
    case = await world.case(org)
    first = await world.client.patch(
        f"{CASES}/{case['id']}", json={"version": 1, "title": "First edit"}, headers=org.headers()
    )
    assert first.status_code == 200

    stale = await world.client.patch(
        f"{CASES}/{case['id']}", json={"version": 1, "title": "Lost update"}, headers=org.headers()
    )

    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    assert (await world.client.get(f"{CASES}/{case['id']}", headers=org.headers())).json()["title"] == "First edit"


async def test_an_edit_to_a_reference_the_organisation_already_uses_is_a_409(world: World) -> None:
    org = await world.organisation()
    taken, case = await world.case(org), await world.case(org)

    response = await world.client.patch(
        f"{CASES}/{case['id']}", json={"version": 1, "reference": taken["reference"]}, headers=org.headers()
    )

    assert response.status_code == 409, response.text
    assert (await world.client.get(f"{CASES}/{case['id']}", headers=org.headers())).json()["version"] == 1


async def test_an_edit_without_a_version_is_a_422(world: World) -> None:
    org = await world.organisation()
    case = await world.case(org)

    response = await world.client.patch(f"{CASES}/{case['id']}", json={"title": "No version"}, headers=org.headers())

    assert response.status_code == 422, response.text


async def test_the_routed_authority_sees_the_case_but_may_not_edit_or_close_it_and_a_stranger_gets_404(
    world: World,
) -> None:
    owner, authority = await world.linked_pair()
    stranger = await world.organisation()
    case = await world.case(owner)
    await world.request(owner, case, await world.counterparty())
    edit = {"version": 1, "title": "Edited by someone else"}

    for role in (Role.CENTRAL_AUTHORITY, Role.SUPERVISOR):
        headers = authority.headers(role)
        assert (await world.client.get(f"{CASES}/{case['id']}", headers=headers)).status_code == 200
        assert (await world.client.patch(f"{CASES}/{case['id']}", json=edit, headers=headers)).status_code == 403
        closing = await world.client.post(f"{CASES}/{case['id']}/close", json={"version": 1}, headers=headers)
        assert closing.status_code == 403
    for role in (Role.AUDITOR, Role.ADMIN, Role.SUPERVISOR):
        response = await world.client.patch(f"{CASES}/{case['id']}", json=edit, headers=owner.headers(role))
        assert response.status_code == 403, role
    stranger_edit = await world.client.patch(f"{CASES}/{case['id']}", json=edit, headers=stranger.headers())
    missing_edit = await world.client.patch(f"{CASES}/{uuid.uuid4()}", json=edit, headers=stranger.headers())
    assert stranger_edit.status_code == missing_edit.status_code == 404
    assert stranger_edit.json()["detail"] == missing_edit.json()["detail"]
    assert (await world.client.get(f"{CASES}/{case['id']}", headers=owner.headers())).json()["version"] == 1


async def test_a_case_with_open_requests_is_not_closed_and_the_refusal_names_them(world: World) -> None:
    org = await world.organisation()
    case = await world.case(org)
    target = await world.counterparty()
    first, second = await world.request(org, case, target), await world.request(org, case, target)
    await withdrawn(world, org, first)

    response = await world.client.post(f"{CASES}/{case['id']}/close", json={"version": 1}, headers=org.headers())

    assert response.status_code == 409, response.text
    assert response.json()["open_requests"] == [second["reference"]]
    assert second["reference"] in response.json()["detail"]
    assert (await world.client.get(f"{CASES}/{case['id']}", headers=org.headers())).json()["status"] == "open"


async def test_a_case_whose_requests_are_all_closed_is_closed_and_audited(world: World) -> None:
    org = await world.organisation()
    case = await world.case(org)
    await withdrawn(world, org, await world.request(org, case, await world.counterparty()))

    response = await world.client.post(f"{CASES}/{case['id']}/close", json={"version": 1}, headers=org.headers())

    assert response.status_code == 200, response.text
    closed = response.json()
    assert closed["status"] == "closed" and closed["version"] == 2
    assert closed["closed_at"].replace("Z", "+00:00") == world.clock.now().isoformat()
    [*_, event] = await case_events(world, case["id"])
    assert event.action == "close_case"
    assert event.changes["status"] == {"before": "open", "after": "closed"}


async def test_a_closed_case_refuses_new_requests_and_edits_and_a_second_close(world: World) -> None:
    org = await world.organisation()
    case = await world.case(org)
    closed = await world.client.post(f"{CASES}/{case['id']}/close", json={"version": 1}, headers=org.headers())
    assert closed.status_code == 200, closed.text

    filing = await world.client.post(
        "/api/v1/requests",
        json=request_body(case["id"], await world.counterparty(), world.clock.now()),
        headers=org.headers(),
    )
    edit = await world.client.patch(f"{CASES}/{case['id']}", json={"version": 2, "title": "x"}, headers=org.headers())
    again = await world.client.post(f"{CASES}/{case['id']}/close", json={"version": 2}, headers=org.headers())

    assert filing.status_code == 409 and "closed" in filing.json()["detail"], filing.text
    assert edit.status_code == 409 and again.status_code == 409
    listed = (await world.client.get("/api/v1/requests", params={"case": case["id"]}, headers=org.headers())).json()
    assert listed["items"] == []
    actions = [event.action for event in await case_events(world, case["id"])]
    assert actions == ["create_case", "close_case"]
