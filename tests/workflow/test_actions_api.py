"""Workflow actions through the API: the walks of the spec, refusals, and racing writers."""

import asyncio
from typing import Any

import httpx
import pytest

from mla.enums import Role
from tests.factories import Org, World


async def act(
    client: httpx.AsyncClient, org: Org, role: Role, request: dict[str, Any], action: str, **fields: Any
) -> httpx.Response:
    body = {"version": request["version"], **fields}
    return await client.post(f"/api/v1/requests/{request['id']}/actions/{action}", json=body, headers=org.headers(role))


async def audit_trail(world: World, org: Org, request: dict[str, Any]) -> list[dict[str, Any]]:
    response = await world.client.get(f"/api/v1/requests/{request['id']}/audit", headers=org.headers())
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_preservation_walks_from_draft_to_superseded_with_a_verifiable_trail(world: World) -> None:
    prosecution, authority = await world.linked_pair()
    provider = await world.counterparty()
    case = await world.case(prosecution)
    request = await world.request(prosecution, case, provider, type="preservation", instrument="us-2703f")
    follow_up = await world.walk_to_transmitted(
        prosecution, authority, await world.request(prosecution, case, provider)
    )
    P, CA = Role.PROSECUTOR, Role.CENTRAL_AUTHORITY

    request = await world.act(prosecution, P, request, "submit")
    request = await world.act(authority, CA, request, "return", reason="State the retention period.")
    assert request["status"] == "draft"
    request = await world.act(prosecution, P, request, "submit")
    await world.attest_pending(authority, request)
    request = await world.act(authority, CA, request, "approve")
    request = await world.act(authority, CA, request, "transmit", channel_reference="LERS-4711")
    request = await world.act(prosecution, P, request, "confirm_preserved", provider_reference="GOOG-123")
    request = await world.act(prosecution, P, request, "supersede", follow_up_request_id=follow_up["id"])

    assert request["status"] == "fulfilled"
    assert request["follow_up_request_id"] == follow_up["id"]
    assert "GOOG-123" in request["counterparty_references"]
    trail = await audit_trail(world, prosecution, request)
    # The authority's reads of the checks are on the trail too (issue 9 §7): here, the decisions.
    assert [e["action"] for e in trail if e["action"] != "attest" and not e["action"].startswith("read")] == [
        "create",
        "submit",
        "return",
        "submit",
        "approve",
        "transmit",
        "confirm_preserved",
        "supersede",
    ]
    assert trail[2]["reason"] == "State the retention period."
    assert trail[2]["from_status"] == "under_review" and trail[2]["to_status"] == "draft"
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in zip(trail, trail[1:], strict=False))
    approval = next(e for e in trail if e["action"] == "approve")
    issuer = {c["code"]: c for c in approval["checks"]}["issuer_competence"]
    assert issuer["outcome"] == "pass" and "no court order" in issuer["explanation"]
    verdict = await world.client.get(f"/api/v1/requests/{request['id']}/audit/verify", headers=prosecution.headers())
    shown = verdict.json()
    assert (shown["valid"], shown["events"], shown["first_broken_seq"]) == (True, len(trail), None)


async def test_incoming_request_is_accepted_and_executed(world: World) -> None:
    authority, request = await world.received()
    assert request["status"] == "received"

    await world.attest_pending(authority, request)
    request = await world.act(authority, Role.CENTRAL_AUTHORITY, request, "accept")
    request = await world.act(authority, Role.CENTRAL_AUTHORITY, request, "execute")

    assert request["status"] == "fulfilled"
    trail = await audit_trail(world, authority, request)
    assert [e["action"] for e in trail if e["action"] != "attest"] == ["create", "accept", "execute"]
    verdict = await world.client.get(f"/api/v1/requests/{request['id']}/audit/verify", headers=authority.headers())
    assert verdict.json()["valid"] is True and verdict.json()["events"] == len(trail)


async def test_refusals_have_the_right_status_and_change_nothing(world: World) -> None:
    prosecution, authority = await world.linked_pair()
    request = await world.request(prosecution, await world.case(prosecution), await world.counterparty())
    c = world.client

    assert (await act(c, prosecution, Role.PROSECUTOR, request, "no_such_action")).status_code == 404
    assert (await act(c, prosecution, Role.PROSECUTOR, request, "approve")).status_code == 409
    assert (await act(c, authority, Role.CENTRAL_AUTHORITY, request, "submit")).status_code == 403
    assert (await act(c, prosecution, Role.AUDITOR, request, "submit")).status_code == 403
    stale = {**request, "version": 7}
    assert (await act(c, prosecution, Role.PROSECUTOR, stale, "submit")).status_code == 409
    submitted = await world.act(prosecution, Role.PROSECUTOR, request, "submit")
    missing = await act(c, authority, Role.CENTRAL_AUTHORITY, submitted, "reject")
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "reason"
    assert missing.headers["content-type"].startswith("application/problem+json")

    assert [e["action"] for e in await audit_trail(world, prosecution, request)] == ["create", "submit"]


async def test_available_actions_depend_on_role_and_status(world: World) -> None:
    prosecution, authority = await world.linked_pair()
    request = await world.request(prosecution, await world.case(prosecution), await world.counterparty())
    url = f"/api/v1/requests/{request['id']}/actions"

    mine = (await world.client.get(url, headers=prosecution.headers())).json()["items"]
    theirs = (await world.client.get(url, headers=authority.headers(Role.CENTRAL_AUTHORITY))).json()["items"]

    assert {a["action"] for a in mine} == {"submit", "withdraw"}
    withdraw = next(a for a in mine if a["action"] == "withdraw")
    assert withdraw["fields"][0] == {"name": "reason", "required": True, "kind": "text"}
    assert {a["action"] for a in theirs} == {"withdraw"}


async def test_every_available_action_lists_the_version_it_needs(world: World) -> None:
    prosecution, _ = await world.linked_pair()
    request = await world.request(prosecution, await world.case(prosecution), await world.counterparty())
    url = f"/api/v1/requests/{request['id']}"

    actions = (await world.client.get(url + "/actions", headers=prosecution.headers())).json()["items"]
    without_version = await world.client.post(url + "/actions/submit", json={}, headers=prosecution.headers())

    version = {"name": "version", "required": True, "kind": "int"}
    assert actions and all(version in action["fields"] for action in actions)
    assert without_version.status_code == 422, without_version.text
    assert [e["field"] for e in without_version.json()["errors"]] == ["version"]


async def test_eight_concurrent_submits_give_one_success_and_one_audit_event(world: World) -> None:
    prosecution, _ = await world.linked_pair()
    request = await world.request(prosecution, await world.case(prosecution), await world.counterparty())

    responses = await asyncio.gather(
        *(act(world.client, prosecution, Role.PROSECUTOR, request, "submit") for _ in range(8))
    )

    assert sorted(r.status_code for r in responses) == [200] + [409] * 7
    assert [e["action"] for e in await audit_trail(world, prosecution, request)] == ["create", "submit"]


async def test_assigning_needs_a_user_of_the_request_and_is_audited(world: World) -> None:
    prosecution, authority = await world.linked_pair()
    stranger = await world.organisation()
    request = await world.request(prosecution, await world.case(prosecution), await world.counterparty())
    officer = authority.members[Role.CENTRAL_AUTHORITY]
    url = f"/api/v1/requests/{request['id']}/assign"

    refused = await world.client.post(
        url, json={"user_id": str(stranger.members[Role.PROSECUTOR].id), "version": 1}, headers=officer.headers
    )
    assigned = await world.client.post(url, json={"user_id": str(officer.id), "version": 1}, headers=officer.headers)

    assert refused.status_code == 422
    assert assigned.status_code == 200 and assigned.json()["assignee_id"] == str(officer.id)
    assert (await audit_trail(world, prosecution, request))[-1]["action"] == "assign"
    foreign = await world.client.post(url, json={"user_id": None, "version": 2}, headers=stranger.headers())
    assert foreign.status_code == 404


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"until": "9999-12-31T23:59:59-12:00"}, "until", id="until after year 9999 in UTC"),
        pytest.param({"until": "1899-12-31T23:59:59Z"}, "until", id="until before 1900"),
        pytest.param({"provider_reference": "PR-1\x00"}, "provider_reference", id="NUL in the provider's reference"),
    ],
)
async def test_action_fields_the_database_cannot_hold_are_a_422(
    world: World, fields: dict[str, Any], field: str
) -> None:
    """They used to reach PostgreSQL or the deadline arithmetic and fail there with a 500."""
    org = await world.organisation()
    request = await world.request(
        org, await world.case(org), await world.counterparty(), type="preservation", instrument="us-2703f"
    )

    response = await act(world.client, org, Role.PROSECUTOR, request, "confirm_preserved", **fields)

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    assert [e["action"] for e in await audit_trail(world, org, request)] == ["create"]
