"""Editing a request (README "Decisions": Editing; SPEC §5 versions): PATCH /api/v1/requests/{id}.

The substance is editable only in a draft, counterparty references and priority while the request
is open; every write names the version it read, a stale one is 409 and changes nothing.
"""

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from mla.audit.models import AuditEvent
from mla.enums import TERMINAL_STATUSES, RequestStatus, Role
from mla.requests.models import Request
from tests.factories import Org, World

OPEN_AFTER_DRAFT = sorted(
    {s for s in RequestStatus if s not in TERMINAL_STATUSES and s != RequestStatus.DRAFT},
)


async def draft(world: World, org: Org | None = None, **overrides: Any) -> tuple[Org, dict[str, Any]]:
    org = org or await world.organisation()
    created = await world.request(org, await world.case(org), await world.counterparty(), **overrides)
    return org, created


def url(request: dict[str, Any]) -> str:
    return f"/api/v1/requests/{request['id']}"


async def audit_events(world: World, request_id: str) -> list[AuditEvent]:
    async with world.sessionmaker() as session:
        query = select(AuditEvent).where(AuditEvent.chain == f"request:{request_id}").order_by(AuditEvent.seq)
        return list(await session.scalars(query))


async def updates(world: World, request_id: str) -> list[AuditEvent]:
    return [event for event in await audit_events(world, request_id) if event.action == "update"]


async def set_status(world: World, request_id: str, status: str) -> None:
    """Put a request in a status directly, as the workflow would have (no audit event)."""
    async with world.sessionmaker() as session, session.begin():
        await session.execute(update(Request).where(Request.id == uuid.UUID(request_id)).values(status=status))


async def read(world: World, org: Org, request: dict[str, Any]) -> dict[str, Any]:
    response = await world.client.get(url(request), headers=org.headers())
    assert response.status_code == 200
    return response.json()


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    return body


# --- versions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({"version": 1}, {}),
        ({}, {"If-Match": "1"}),
        ({}, {"If-Match": '"1"'}),
        ({}, {"If-Match": 'W/"1"'}),
    ],
    ids=["body-version", "if-match", "if-match-quoted", "if-match-weak"],
)
async def test_patch_of_a_draft_with_the_current_version_edits_it_and_audits_once(
    world: World, body: dict[str, Any], headers: dict[str, str]
) -> None:
    org, created = await draft(world)
    world.clock.advance(timedelta(minutes=5))
    changes = {"facts": "New facts established on 3 November.", "priority": 3, "urgency": "urgent"}

    response = await world.client.patch(url(created), json={**body, **changes}, headers={**org.headers(), **headers})

    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["version"] == 2
    assert {name: edited[name] for name in changes} == changes
    assert edited["updated_at"] != created["updated_at"]
    assert edited["created_at"] == created["created_at"]
    untouched = set(created) - set(changes) - {"version", "updated_at"}
    assert {name: edited[name] for name in untouched} == {name: created[name] for name in untouched}
    assert await read(world, org, created) == edited
    [event] = await updates(world, created["id"])
    assert event.changes == {
        "facts": {"before": created["facts"], "after": changes["facts"]},
        "priority": {"before": 0, "after": 3},
        "urgency": {"before": "routine", "after": "urgent"},
    }
    assert event.actor_id == org.members[Role.PROSECUTOR].id
    assert event.from_status == event.to_status == "draft"


async def test_successive_patches_each_name_the_version_they_read(world: World) -> None:
    org, created = await draft(world)

    first = await world.client.patch(url(created), json={"version": 1, "priority": 1}, headers=org.headers())
    second = await world.client.patch(url(created), json={"version": 2, "priority": 2}, headers=org.headers())
    replayed = await world.client.patch(url(created), json={"version": 2, "priority": 5}, headers=org.headers())

    assert (first.json()["version"], second.json()["version"]) == (2, 3)
    assert_problem(replayed, 409)
    assert [e.changes["priority"]["after"] for e in await updates(world, created["id"])] == [1, 2]


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({"version": 2}, {}),
        ({}, {"If-Match": "7"}),
        ({"version": 2}, {"If-Match": "1"}),  # the body's version is the one that counts
    ],
    ids=["body", "if-match", "body-over-header"],
)
async def test_stale_version_is_409_and_changes_nothing(
    world: World, body: dict[str, Any], headers: dict[str, str]
) -> None:
    org, created = await draft(world)

    response = await world.client.patch(
        url(created), json={**body, "facts": "Lost update."}, headers={**org.headers(), **headers}
    )

    problem = assert_problem(response, 409)
    assert problem["current_version"] == 1
    assert await read(world, org, created) == created
    assert await updates(world, created["id"]) == []


async def test_patch_without_a_version_is_422_and_changes_nothing(world: World) -> None:
    org, created = await draft(world)

    response = await world.client.patch(url(created), json={"facts": "No version named."}, headers=org.headers())

    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "version"
    assert await read(world, org, created) == created


@pytest.mark.parametrize("value", ["one", "*", "1.0", ""])
async def test_unreadable_if_match_is_422(world: World, value: str) -> None:
    org, created = await draft(world)

    response = await world.client.patch(
        url(created), json={"priority": 1}, headers={**org.headers(), "If-Match": value}
    )

    assert_problem(response, 422)
    assert await read(world, org, created) == created


async def test_patch_that_changes_nothing_keeps_the_version_and_writes_no_event(world: World) -> None:
    org, created = await draft(world)
    world.clock.advance(timedelta(minutes=5))
    same = {
        "version": 1,
        "facts": created["facts"],
        "priority": created["priority"],
        "data_categories": list(reversed(created["data_categories"])),  # same set, other order
        "identifiers": created["identifiers"],
        "counterparty_references": created["counterparty_references"],
        "target_id": created["target_id"],
    }

    empty = await world.client.patch(url(created), json={"version": 1}, headers=org.headers())
    unchanged = await world.client.patch(url(created), json=same, headers=org.headers())

    assert empty.status_code == unchanged.status_code == 200
    assert empty.json() == unchanged.json() == created
    assert await read(world, org, created) == created
    assert await updates(world, created["id"]) == []


async def test_the_same_instant_in_another_offset_is_no_change(world: World) -> None:
    org, created = await draft(world, period_start="2026-08-01T10:00:00+02:00")
    assert created["period_start"] == "2026-08-01T08:00:00Z"  # answered in UTC, as it is read back
    assert await read(world, org, created) == created

    same = await world.client.patch(
        url(created), json={"version": 1, "period_start": "2026-08-01T03:00:00-05:00"}, headers=org.headers()
    )
    moved = await world.client.patch(
        url(created), json={"version": 1, "period_start": "2026-08-01T10:00:00+01:00"}, headers=org.headers()
    )

    assert same.json() == created
    assert moved.json()["version"] == 2
    assert moved.json()["period_start"] == "2026-08-01T09:00:00Z"
    assert await read(world, org, created) == moved.json()
    [event] = await updates(world, created["id"])
    assert event.changes == {"period_start": {"before": "2026-08-01T08:00:00Z", "after": "2026-08-01T09:00:00Z"}}


async def test_invalid_edit_is_refused_and_changes_nothing(world: World) -> None:
    org, created = await draft(world)

    responses = [
        await world.client.patch(
            url(created), json={"version": 1, "target_id": str(uuid.uuid4())}, headers=org.headers()
        ),
        await world.client.patch(url(created), json={"version": 1, "instrument": "no-such"}, headers=org.headers()),
        await world.client.patch(
            url(created),
            json={"version": 1, "period_start": created["period_end"], "period_end": created["period_start"]},
            headers=org.headers(),
        ),
        await world.client.patch(
            url(created),
            json={"version": 1, "confidential": True, "confidentiality_reason": None},
            headers=org.headers(),
        ),
        await world.client.patch(url(created), json={"version": 1, "status": "approved"}, headers=org.headers()),
        await world.client.patch(
            url(created), json={"version": 1, "reference": "MLA-2026-999999"}, headers=org.headers()
        ),
    ]

    for response in responses:
        assert response.status_code in (400, 422), response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await read(world, org, created) == created
    assert await updates(world, created["id"]) == []


# --- what each status allows --------------------------------------------------------------------


@pytest.mark.parametrize("status", OPEN_AFTER_DRAFT)
@pytest.mark.parametrize(
    "changes",
    [{"facts": "Changed after submission."}, {"urgency": "urgent"}, {"facts": "x", "counterparty_references": ["T-1"]}],
    ids=["facts", "urgency", "substance-with-reference"],
)
async def test_substance_of_a_request_that_left_draft_is_409(
    world: World, status: str, changes: dict[str, Any]
) -> None:
    org, created = await draft(world)
    await set_status(world, created["id"], status)

    response = await world.client.patch(url(created), json={"version": 1, **changes}, headers=org.headers())

    assert_problem(response, 409)
    after = await read(world, org, created)
    assert after == {**created, "status": status}
    assert await updates(world, created["id"]) == []


@pytest.mark.parametrize("status", OPEN_AFTER_DRAFT)
async def test_counterparty_references_and_priority_stay_editable_while_open(world: World, status: str) -> None:
    org, created = await draft(world)
    await set_status(world, created["id"], status)

    response = await world.client.patch(
        url(created),
        json={"counterparty_references": ["GOOG-LE-123", "FR-2026-77"], "priority": 7},
        headers={**org.headers(), "If-Match": "1"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["counterparty_references"] == ["GOOG-LE-123", "FR-2026-77"]
    assert response.json()["priority"] == 7
    assert response.json()["version"] == 2
    assert response.json()["status"] == status
    [event] = await updates(world, created["id"])
    assert event.changes == {
        "counterparty_references": {"before": [], "after": ["GOOG-LE-123", "FR-2026-77"]},
        "priority": {"before": 0, "after": 7},
    }
    found = await world.client.get("/api/v1/requests", params={"q": "FR-2026-77"}, headers=org.headers())
    assert [item["id"] for item in found.json()["items"]] == [created["id"]]


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES))
@pytest.mark.parametrize(
    "changes",
    [{"counterparty_references": ["LATE-1"]}, {"priority": 9}, {"facts": "Too late."}, {}],
    ids=["counterparty-references", "priority", "facts", "nothing"],
)
async def test_a_closed_request_refuses_every_edit(world: World, status: str, changes: dict[str, Any]) -> None:
    org, created = await draft(world)
    await set_status(world, created["id"], status)

    response = await world.client.patch(url(created), json={"version": 1, **changes}, headers=org.headers())

    assert_problem(response, 409)
    assert await read(world, org, created) == {**created, "status": status}
    assert await updates(world, created["id"]) == []


# --- racing writers -----------------------------------------------------------------------------


def patch_facts(world: World, org: Org, request: dict[str, Any], version: int, facts: str, via: str) -> Any:
    if via == "body":
        return world.client.patch(url(request), json={"version": version, "facts": facts}, headers=org.headers())
    return world.client.patch(url(request), json={"facts": facts}, headers={**org.headers(), "If-Match": str(version)})


@pytest.mark.parametrize("via", ["body", "if-match"])
async def test_two_concurrent_patches_of_the_same_version_one_wins_one_conflicts(world: World, via: str) -> None:
    org, created = await draft(world)

    for round_ in range(1, 6):
        first, second = await asyncio.gather(
            patch_facts(world, org, created, round_, f"Facts A{round_}", via),
            patch_facts(world, org, created, round_, f"Facts B{round_}", via),
        )

        assert sorted([first.status_code, second.status_code]) == [200, 409], (first.text, second.text)
        winner, loser = (first, second) if first.status_code == 200 else (second, first)
        assert_problem(loser, 409)
        assert loser.json()["current_version"] == round_ + 1
        assert winner.json()["version"] == round_ + 1
        assert await read(world, org, created) == winner.json()
        assert len(await updates(world, created["id"])) == round_
    # One chain, no gaps: creation plus one event per round.
    assert [event.seq for event in await audit_events(world, created["id"])] == list(range(1, 7))


async def test_many_concurrent_patches_of_the_same_version_exactly_one_wins(world: World) -> None:
    org, created = await draft(world)

    responses = await asyncio.gather(
        *(
            world.client.patch(url(created), json={"version": 1, "priority": n}, headers=org.headers())
            for n in range(1, 9)
        )
    )

    assert sorted(r.status_code for r in responses) == [200] + [409] * 7
    [winner] = [r for r in responses if r.status_code == 200]
    [event] = await updates(world, created["id"])
    assert event.changes == {"priority": {"before": 0, "after": winner.json()["priority"]}}
    assert (await read(world, org, created))["version"] == 2
