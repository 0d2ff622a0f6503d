"""Evidence can only exist once a request went out, at a time that has passed; repeats are flagged."""

import hashlib
from datetime import timedelta
from typing import Any

from mla.enums import Role
from tests.factories import Org, World
from tests.productions.test_evidence_and_communications import production_body

EXPORT = hashlib.sha256(b"account-export.zip").hexdigest()


async def record(world: World, org: Org, request: dict[str, Any], role: Role = Role.PROSECUTOR, **body: Any) -> Any:
    return await world.client.post(
        f"/api/v1/requests/{request['id']}/productions", json=production_body(**body), headers=org.headers(role)
    )


async def custody(world: World, org: Org, request: dict[str, Any], production: dict[str, Any], at: str) -> Any:
    return await world.client.post(
        f"/api/v1/requests/{request['id']}/productions/{production['id']}/custody",
        json={"at": at, "kind": "sealed", "holder": "Evidence room 3"},
        headers=org.headers(),
    )


async def productions_of(world: World, org: Org, request: dict[str, Any]) -> list[dict[str, Any]]:
    return (await world.client.get(f"/api/v1/requests/{request['id']}/productions", headers=org.headers())).json()[
        "items"
    ]


async def test_no_evidence_is_recorded_on_a_request_that_was_never_transmitted(world: World) -> None:
    prosecution, authority = await world.linked_pair()
    draft = await world.request(prosecution, await world.case(prosecution), await world.counterparty())
    submitted = await world.act(prosecution, Role.PROSECUTOR, draft, "submit")

    for org, role in ((prosecution, Role.PROSECUTOR), (authority, Role.CENTRAL_AUTHORITY)):
        response = await record(world, org, submitted, role)
        assert response.status_code == 409, response.text
        assert response.json()["type"].endswith("/no-evidence-yet")
        assert "transmitted" in response.json()["detail"]
    assert await productions_of(world, prosecution, submitted) == []


async def test_a_withdrawn_request_that_had_been_transmitted_still_takes_the_evidence_that_arrived(
    world: World,
) -> None:
    prosecution, _, request = await world.transmitted()
    withdrawn = await world.act(prosecution, Role.PROSECUTOR, request, "withdraw", reason="Suspect confessed.")

    assert (await record(world, prosecution, withdrawn)).status_code == 201


async def test_an_incoming_request_takes_evidence_only_once_accepted(world: World) -> None:
    authority, received = await world.received()
    before = await record(world, authority, received, Role.CENTRAL_AUTHORITY)
    await world.attest_pending(authority, received)
    accepted = await world.act(authority, Role.CENTRAL_AUTHORITY, received, "accept")

    after = await record(world, authority, accepted, Role.CENTRAL_AUTHORITY)

    assert before.status_code == 409 and "accepted" in before.json()["detail"]
    assert after.status_code == 201


async def test_a_receipt_in_the_future_is_refused(world: World) -> None:
    prosecution, _, request = await world.transmitted()
    tomorrow = (world.clock.now() + timedelta(days=1)).isoformat()

    response = await record(world, prosecution, request, received_at=tomorrow)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "received_at"
    assert await productions_of(world, prosecution, request) == []


async def test_custody_cannot_precede_the_receipt_nor_lie_in_the_future(world: World) -> None:
    """Worked example: received 1 Nov 10:00 CET; sealed at 09:00 CET that day is impossible, as is tomorrow."""
    prosecution, _, request = await world.transmitted()
    production = (await record(world, prosecution, request)).json()

    before_receipt = await custody(world, prosecution, request, production, "2026-11-01T09:00:00+01:00")
    tomorrow = await custody(world, prosecution, request, production, "2026-11-03T09:00:00Z")
    at_receipt = await custody(world, prosecution, request, production, "2026-11-01T10:00:00+01:00")

    assert (before_receipt.status_code, tomorrow.status_code, at_receipt.status_code) == (422, 422, 201)
    assert before_receipt.json()["errors"][0]["field"] == "received_at"
    assert tomorrow.json()["errors"][0]["field"] == "at"
    [stored] = await productions_of(world, prosecution, request)
    assert len(stored["custody"]) == 1


async def test_a_hash_already_recorded_on_the_request_is_flagged_not_refused(world: World) -> None:
    prosecution, _, request = await world.transmitted()

    first = (await record(world, prosecution, request, sha256=EXPORT)).json()
    again = (await record(world, prosecution, request, sha256=EXPORT.upper())).json()
    other = (await record(world, prosecution, request, sha256=hashlib.sha256(b"other").hexdigest())).json()

    assert first["duplicate_of"] is None
    assert again["duplicate_of"] == first["id"]
    assert other["duplicate_of"] is None
    trail = (await world.client.get(f"/api/v1/requests/{request['id']}/audit", headers=prosecution.headers())).json()
    recorded = [e["changes"] for e in trail["items"] if e["action"] == "record_production"]
    assert [c["duplicate_of"] for c in recorded] == [None, first["id"], None]


async def test_a_backfilled_custody_entry_shows_when_it_was_recorded(world: World) -> None:
    prosecution, _, request = await world.transmitted()
    production = (await record(world, prosecution, request)).json()
    world.clock.advance(timedelta(days=10))

    entry = (await custody(world, prosecution, request, production, "2026-11-02T08:00:00Z")).json()["custody"][0]

    assert entry["at"] == "2026-11-02T08:00:00Z"
    assert entry["recorded_at"] == "2026-11-12T09:00:00Z"
