"""The workflow paths that used to let work slip (issue 10 §5), walked through the API with worked dates.

The tests' clock starts on Monday 2 November 2026, 09:00 UTC; central authorities sit in Berlin.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from mla.enums import OrganisationKind, Role
from mla.organisations.models import Organisation
from tests.factories import Org, World

OFFICER, PROSECUTOR = Role.CENTRAL_AUTHORITY, Role.PROSECUTOR


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def act(world: World, org: Org, role: Role, request: dict[str, Any], action: str, **fields: Any) -> Any:
    return await world.client.post(
        f"/api/v1/requests/{request['id']}/actions/{action}",
        json={"version": request["version"], **fields},
        headers=org.headers(role),
    )


async def clocks(world: World, org: Org, request: dict[str, Any], role: Role = OFFICER) -> dict[str, list[dict]]:
    """The request's deadlines by rule code, oldest first."""
    response = await world.client.get(f"/api/v1/requests/{request['id']}/deadlines", headers=org.headers(role))
    assert response.status_code == 200, response.text
    found: dict[str, list[dict]] = {}
    for deadline in response.json()["items"]:
        found.setdefault(deadline["rule"], []).append(deadline)
    return found


# --- submission needs someone to review it -----------------------------------------------------------


async def test_an_organisation_without_a_central_authority_cannot_submit(world: World) -> None:
    lonely = await world.organisation()
    draft = await world.request(lonely, await world.case(lonely), await world.counterparty())

    response = await act(world, lonely, PROSECUTOR, draft, "submit")

    assert response.status_code == 409
    assert response.json()["type"].endswith("/no-central-authority")
    assert "no central authority" in response.json()["detail"]
    current = await world.client.get(f"/api/v1/requests/{draft['id']}", headers=lonely.headers())
    assert (current.json()["status"], current.json()["version"]) == ("draft", 1)
    assert await clocks(world, lonely, draft, PROSECUTOR) == {}


async def test_a_draft_filed_before_its_service_was_linked_goes_to_the_authority_on_submit(world: World) -> None:
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    service = await world.organisation()
    draft = await world.request(service, await world.case(service), await world.counterparty())
    async with world.sessionmaker() as session, session.begin():
        (await session.get_one(Organisation, service.id)).central_authority_id = authority.id

    submitted = await world.act(service, PROSECUTOR, draft, "submit")

    assert submitted["central_authority_id"] == str(authority.id)
    seen = await world.client.get(f"/api/v1/requests/{draft['id']}", headers=authority.headers(OFFICER))
    assert seen.status_code == 200 and seen.json()["status"] == "under_review"


# --- postponement ------------------------------------------------------------------------------------


async def test_postponing_until_a_moment_that_has_passed_is_refused(world: World) -> None:
    authority, request = await world.accepted()
    yesterday = (world.clock.now() - timedelta(days=1)).isoformat()

    response = await act(
        world, authority, OFFICER, request, "postpone", reason="Our own investigation.", until=yesterday
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "until", "message": "must lie in the future"}]
    current = await world.client.get(f"/api/v1/requests/{request['id']}", headers=authority.headers(OFFICER))
    assert current.json()["status"] == "in_execution"


async def test_a_postponed_execution_clock_pauses_until_then_and_resuming_early_keeps_what_was_left(
    world: World,
) -> None:
    """Accepted Mon 2 Nov 09:00: execution due Wed 2 Dec 09:00 (30 days). Postponed on 12 Nov until
    22 Nov with 20 days left: due 12 Dec. Resumed on 17 Nov, five days early: the 20 days run from
    then, due 7 Dec."""
    authority, request = await world.accepted()
    assert (await clocks(world, authority, request))["incoming-execution"][0]["due_at"] == "2026-12-02T09:00:00Z"

    world.clock.set(datetime(2026, 11, 12, 9, 0, tzinfo=UTC))
    request = await world.act(
        authority,
        OFFICER,
        request,
        "postpone",
        reason="Would prejudice our own investigation.",
        until="2026-11-22T09:00:00Z",
    )
    postponed = (await clocks(world, authority, request))["incoming-execution"][0]
    world.clock.set(datetime(2026, 11, 17, 9, 0, tzinfo=UTC))
    request = await world.act(authority, OFFICER, request, "resume")
    resumed = (await clocks(world, authority, request))["incoming-execution"][0]

    assert postponed["due_at"] == "2026-12-12T09:00:00Z" and postponed["status"] == "open"
    assert "Postponed until 2026-11-22T09:00:00+00:00" in postponed["explanation"]
    assert resumed["due_at"] == "2026-12-07T09:00:00Z"


# --- incoming requests -------------------------------------------------------------------------------


async def test_a_received_request_must_be_acknowledged_or_decided_and_its_clock_waits_for_more_information(
    world: World,
) -> None:
    """Received Mon 2 Nov 09:00: 5 business days, due Mon 9 Nov 09:00. More information asked on Wed 4
    Nov with 5 days left, answered on Fri 6 Nov: due Wed 11 Nov. Accepting meets it."""
    authority, request = await world.received()
    received = (await clocks(world, authority, request))["incoming-acknowledge"][0]

    world.clock.set(datetime(2026, 11, 4, 9, 0, tzinfo=UTC))
    request = await world.act(authority, OFFICER, request, "request_more_info", reason="Which account exactly?")
    world.clock.set(datetime(2026, 11, 6, 9, 0, tzinfo=UTC))
    request = await world.act(authority, OFFICER, request, "provide_clarification")
    answered = (await clocks(world, authority, request))["incoming-acknowledge"][0]
    await world.attest_pending(authority, request)
    request = await world.act(authority, OFFICER, request, "accept")
    accepted = (await clocks(world, authority, request))["incoming-acknowledge"][0]

    assert (received["due_at"], received["status"]) == ("2026-11-09T09:00:00Z", "open")
    assert answered["due_at"] == "2026-11-11T09:00:00Z"
    assert accepted["status"] == "met"


async def test_accept_is_gated_by_the_checks_like_approve(world: World) -> None:
    authority, request = await world.received(treaty_reference=None)

    refused = await act(world, authority, OFFICER, request, "accept")

    assert refused.status_code == 409
    failing = {c["code"]: c["outcome"] for c in refused.json()["failing_checks"]}
    assert failing["instrument_in_force"] == "fail"  # the bilateral treaty is not named
    assert failing["human_rights_risk"] == "needs_attestation"
    assert refused.json()["detail"].startswith("Accept needs every blocking check to pass")
    current = await world.client.get(f"/api/v1/requests/{request['id']}", headers=authority.headers(OFFICER))
    assert current.json()["status"] == "received"


async def test_the_execution_clock_pauses_while_the_requesting_state_owes_more_information(world: World) -> None:
    """Accepted Mon 2 Nov 09:00, due 2 Dec. Asked for more on 5 Nov (27 days left), answered 15 Nov:
    due 12 Dec. Accepted again: the same clock runs on, none is added."""
    authority, request = await world.accepted()
    world.clock.set(datetime(2026, 11, 5, 9, 0, tzinfo=UTC))
    request = await world.act(authority, OFFICER, request, "request_more_info", reason="Send the court order.")
    paused = (await clocks(world, authority, request))["incoming-execution"][0]
    world.clock.set(datetime(2026, 11, 15, 9, 0, tzinfo=UTC))
    request = await world.act(authority, OFFICER, request, "provide_clarification")
    request = await world.act(authority, OFFICER, request, "accept")

    execution = (await clocks(world, authority, request))["incoming-execution"]
    assert paused["paused_at"] == "2026-11-05T09:00:00Z"
    assert [(d["due_at"], d["status"]) for d in execution] == [("2026-12-12T09:00:00Z", "open")]


async def test_an_incoming_preservation_keeps_its_own_preservation_period(world: World) -> None:
    authority, request = await world.accepted(type="preservation", instrument="budapest-29", treaty_reference=None)

    preserved = await world.act(authority, OFFICER, request, "confirm_preserved", provider_reference="PRES-DE-17")
    extended = await world.act(authority, OFFICER, preserved, "extend")

    assert preserved["status"] == extended["status"] == "preserved"
    found = await clocks(world, authority, extended)
    assert found["incoming-execution"][0]["status"] == "met"  # preserving is how it is executed
    first, renewal = found["incoming-preservation-expiry"]
    assert first["status"] == "met" and renewal["status"] == "open"
    # Budapest art 29(7): not less than 60 days from the preservation, a legal period counted on our
    # (Berlin) calendar: preserved Mon 2 Nov 2026, day 60 is Fri 1 Jan 2027 (New Year), so it ends
    # Mon 4 Jan 23:59:59 CET; the renewal's 60 days run from 4 Jan to Fri 5 Mar 2027 23:59:59 CET.
    assert moment(first["due_at"]) == datetime(2027, 1, 4, 22, 59, 59, tzinfo=UTC)
    assert moment(renewal["due_at"]) == datetime(2027, 3, 5, 22, 59, 59, tzinfo=UTC)
    assert first["counting"] == "legal" and "ends Fri 1 Jan → Mon 4 Jan" in first["explanation"]


async def test_an_incoming_preservation_is_superseded_by_the_follow_up_request_that_arrived(world: World) -> None:
    """Budapest art 29(7): once the requesting state's follow-up request is received, the data stay preserved
    pending the decision on it; a received request was sent to us, so it ends the preservation period."""
    authority, request = await world.accepted(type="preservation", instrument="budapest-29", treaty_reference=None)
    preserved = await world.act(authority, OFFICER, request, "confirm_preserved")
    case = await world.case(authority, role=OFFICER)
    incoming = {"direction": "incoming", "type": "mla", "instrument": "budapest-29", "treaty_reference": None}
    follow_up = await world.request(authority, case, uuid.UUID(request["target_id"]), **incoming)

    superseded = await world.act(authority, OFFICER, preserved, "supersede", follow_up_request_id=follow_up["id"])

    assert follow_up["status"] == "received"
    assert (superseded["status"], superseded["follow_up_request_id"]) == ("fulfilled", follow_up["id"])
    assert (await clocks(world, authority, superseded))["incoming-preservation-expiry"][0]["status"] == "met"


async def test_an_incoming_request_handed_to_a_prosecution_service_is_seen_and_executed_there(world: World) -> None:
    authority, request = await world.accepted()
    service = await world.organisation()  # Berlin, like the authority
    stranger = await world.organisation()
    before = await world.client.get(f"/api/v1/requests/{request['id']}", headers=service.headers())

    request = await world.act(authority, OFFICER, request, "hand_over", organisation_id=str(service.id))
    listed = await world.client.get("/api/v1/requests", headers=service.headers())
    actions = await world.client.get(f"/api/v1/requests/{request['id']}/actions", headers=service.headers())
    executed = await world.act(service, PROSECUTOR, request, "execute")

    assert before.status_code == 404
    assert request["executing_organisation_id"] == str(service.id)
    assert request["id"] in {item["id"] for item in listed.json()["items"]}
    assert [a["action"] for a in actions.json()["items"]] == ["execute"]
    assert executed["status"] == "fulfilled"
    assert (await world.client.get(f"/api/v1/requests/{request['id']}", headers=stranger.headers())).status_code == 404
    trail = await world.client.get(f"/api/v1/requests/{request['id']}/audit", headers=authority.headers(OFFICER))
    handed = next(e for e in trail.json()["items"] if e["action"] == "hand_over")
    assert handed["changes"]["executing_organisation"] == service.name


async def test_only_a_domestic_prosecution_service_takes_over_an_incoming_request(world: World) -> None:
    authority, request = await world.accepted()
    foreign = await world.organisation(country="FR", timezone="Europe/Paris")
    another_authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)

    for organisation_id in (foreign.id, another_authority.id, uuid.uuid4()):
        response = await act(world, authority, OFFICER, request, "hand_over", organisation_id=str(organisation_id))
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "organisation_id"
