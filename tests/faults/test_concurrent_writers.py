"""Many writers on the same requests: no lost update, and every audit chain still verifies."""

import asyncio
import random
from typing import Any

from mla.enums import OrganisationKind, Role
from tests.factories import Org, World


async def retrying_patch(world: World, org: Org, request_id: str, priority: int) -> int:
    """Optimistic writer: reread and retry on 409 until the write lands; returns how many tries it took."""
    url = f"/api/v1/requests/{request_id}"
    for attempt in range(1, 50):
        current = (await world.client.get(url, headers=org.headers())).json()
        body = {"version": current["version"], "priority": priority, "counterparty_references": [f"T-{priority}"]}
        response = await world.client.patch(url, json=body, headers=org.headers())
        if response.status_code == 200:
            return attempt
        assert response.status_code == 409, response.text
        await asyncio.sleep(random.random() / 100)
    raise AssertionError("a writer never got through")


async def test_concurrent_edits_and_records_lose_nothing_and_chains_verify(world: World) -> None:
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    prosecution = await world.organisation(central_authority=authority)
    case = await world.case(prosecution)
    provider = await world.counterparty()
    requests = [await world.request(prosecution, case, provider) for _ in range(3)]
    note = {"kind": "call", "direction": "received", "occurred_at": "2026-11-02T09:00:00Z", "summary": "Status call."}

    writers: list[Any] = []
    for request in requests:
        writers += [retrying_patch(world, prosecution, request["id"], priority) for priority in range(1, 7)]
        writers += [
            world.client.post(
                f"/api/v1/requests/{request['id']}/communications", json=note, headers=prosecution.headers()
            )
            for _ in range(4)
        ]
    results = await asyncio.gather(*writers)

    assert all(r.status_code == 201 for r in results if not isinstance(r, int))
    for request in requests:
        url = f"/api/v1/requests/{request['id']}"
        final = (await world.client.get(url, headers=prosecution.headers())).json()
        trail = (await world.client.get(f"{url}/audit", headers=prosecution.headers())).json()["items"]
        verdict = (
            await world.client.get(f"{url}/audit/verify", headers=authority.headers(Role.CENTRAL_AUTHORITY))
        ).json()
        updates = [e for e in trail if e["action"] == "update"]
        # Every successful edit bumped the version once and left exactly one event: none was lost.
        assert final["version"] == 1 + len(updates)
        assert len(updates) == 6 and len([e for e in trail if e["action"] == "record_communication"]) == 4
        assert updates[-1]["changes"]["priority"]["after"] == final["priority"]
        assert (verdict["valid"], verdict["events"], verdict["first_broken_seq"]) == (True, len(trail), None)
