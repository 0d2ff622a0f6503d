"""Evidence received, its chain of custody, and communications: scoped, audited, listed."""

import hashlib

import pytest

from mla.enums import Role
from tests.factories import World

DIGEST = hashlib.sha256(b"export.zip").hexdigest()


def production_body(**overrides: object) -> dict[str, object]:
    body = {
        "received_at": "2026-11-01T10:00:00+01:00",  # the day before the tests' clock
        "description": "Account export delivered through the provider's portal",
        "size_bytes": 1_048_576,
        "sha256": DIGEST.upper(),
        "format": "application/zip",
    }
    return body | overrides


async def test_evidence_and_custody_are_recorded_listed_and_audited(world: World) -> None:
    org, _, request = await world.transmitted()
    base = f"/api/v1/requests/{request['id']}/productions"

    created = await world.client.post(base, json=production_body(), headers=org.headers())
    custody = await world.client.post(
        f"{base}/{created.json()['id']}/custody",
        json={"at": "2026-11-02T08:00:00Z", "kind": "sealed", "holder": "Evidence room 3"},
        headers=org.headers(),
    )
    listed = await world.client.get(base, headers=org.headers(Role.AUDITOR))

    assert created.status_code == 201 and created.json()["sha256"] == DIGEST
    assert custody.status_code == 201
    [production] = listed.json()["items"]
    assert production["size_bytes"] == 1_048_576
    assert [event["kind"] for event in production["custody"]] == ["sealed"]
    trail = (await world.client.get(f"/api/v1/requests/{request['id']}/audit", headers=org.headers())).json()["items"]
    assert [e["action"] for e in trail][-3:] == ["record_production", "record_custody", "read_productions"]
    assert trail[-3]["changes"]["sha256"] == DIGEST
    assert trail[-1]["actor_id"] == str(org.members[Role.AUDITOR].id)  # auditors' reads are recorded


async def test_a_hash_that_is_not_64_hex_characters_is_refused_and_nothing_is_stored(world: World) -> None:
    org = await world.organisation()
    request = await world.request(org, await world.case(org), await world.counterparty())
    base = f"/api/v1/requests/{request['id']}/productions"

    for bad in ("abc", DIGEST[:-1] + "g", DIGEST + "0"):
        response = await world.client.post(base, json=production_body(sha256=bad), headers=org.headers())
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"] == "sha256"
    assert (await world.client.get(base, headers=org.headers())).json()["items"] == []


async def test_communications_are_recorded_in_order_and_scoped(world: World) -> None:
    org = await world.organisation()
    stranger = await world.organisation()
    request = await world.request(org, await world.case(org), await world.counterparty())
    base = f"/api/v1/requests/{request['id']}/communications"
    call = {
        "kind": "call",
        "direction": "received",
        "occurred_at": "2026-11-21T09:00:00Z",
        "summary": "Provider asked for the case number.",
    }
    letter = {
        "kind": "letter",
        "direction": "sent",
        "occurred_at": "2026-11-20T09:00:00Z",
        "summary": "Cover letter sent.",
    }

    for body in (call, letter):
        assert (await world.client.post(base, json=body, headers=org.headers())).status_code == 201
    listed = await world.client.get(base, headers=org.headers())

    assert [c["kind"] for c in listed.json()["items"]] == ["letter", "call"]
    assert (await world.client.get(base, headers=stranger.headers())).status_code == 404
    assert (await world.client.post(base, json=call, headers=stranger.headers())).status_code == 404
    assert (await world.client.post(base, json=call, headers=org.headers(Role.AUDITOR))).status_code == 403


async def test_a_nul_character_in_a_communication_is_refused_and_nothing_is_stored(world: World) -> None:
    """PostgreSQL cannot store U+0000: a 422 naming the field, not a 500 (found by fuzzing)."""
    org = await world.organisation()
    request = await world.request(org, await world.case(org), await world.counterparty())
    base = f"/api/v1/requests/{request['id']}/communications"
    body = {"kind": "letter", "direction": "received", "occurred_at": "2026-11-20T09:00:00Z", "summary": "Reply."}

    for field in ("counterparty_reference", "summary"):
        response = await world.client.post(base, json=body | {field: "ABC\x00123"}, headers=org.headers())
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
    assert (await world.client.get(base, headers=org.headers())).json()["items"] == []


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+12:00", "9999-12-31T23:59:59-12:00", "1899-12-31T23:59:59Z", "3000-01-01T00:00:00Z"]
)
async def test_a_time_out_of_range_is_refused_and_nothing_is_stored(world: World, moment: str) -> None:
    """Outside 1900-2999 (UTC); before year 1 or after 9999 in UTC it used to reach asyncpg: a 500."""
    org, _, request = await world.transmitted()
    productions = f"/api/v1/requests/{request['id']}/productions"
    communications = f"/api/v1/requests/{request['id']}/communications"
    production = (await world.client.post(productions, json=production_body(), headers=org.headers())).json()
    letter = {"kind": "letter", "direction": "received", "summary": "Reply."}
    attempts = [
        (productions, production_body(received_at=moment), "received_at"),
        (f"{productions}/{production['id']}/custody", {"at": moment, "kind": "sealed", "holder": "Room 3"}, "at"),
        (communications, letter | {"occurred_at": moment}, "occurred_at"),
    ]

    for path, body, field in attempts:
        response = await world.client.post(path, json=body, headers=org.headers())
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
    [stored] = (await world.client.get(productions, headers=org.headers())).json()["items"]
    assert stored["custody"] == []
    assert (await world.client.get(communications, headers=org.headers())).json()["items"] == []
