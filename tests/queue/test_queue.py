"""The central authority's queue: emergencies first, then earliest due, in buckets, paged exactly once."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from mla.clock import FixedClock
from mla.enums import CounterpartyKind, OrganisationKind, Role
from mla.queue import repository
from mla.queue.schemas import QueueBucket
from mla.users.principal import Principal
from tests.factories import EMERGENCY, Org, World

QUEUE = "/api/v1/queue"


async def act(
    world: World, org: Org, role: Role, request: dict[str, Any], action: str, **fields: Any
) -> dict[str, Any]:
    response = await world.client.post(
        f"/api/v1/requests/{request['id']}/actions/{action}",
        json={"version": request["version"], **fields},
        headers=org.headers(role),
    )
    assert response.status_code == 200, response.text
    return response.json()


async def authority_with_prosecution(world: World) -> tuple[Org, Org]:
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    return authority, await world.organisation(central_authority=authority)


async def draft(world: World, prosecution: Org, **overrides: Any) -> dict[str, Any]:
    return await world.request(prosecution, await world.case(prosecution), await world.counterparty(), **overrides)


async def submitted(world: World, prosecution: Org, **overrides: Any) -> dict[str, Any]:
    return await act(world, prosecution, Role.PROSECUTOR, await draft(world, prosecution, **overrides), "submit")


async def approved(world: World, authority: Org, prosecution: Org, **overrides: Any) -> dict[str, Any]:
    request = await submitted(world, prosecution, **overrides)
    await world.attest_pending(authority, request)
    return await act(world, authority, Role.CENTRAL_AUTHORITY, request, "approve")


async def queue(
    client: httpx.AsyncClient, org: Org, role: Role = Role.CENTRAL_AUTHORITY, **params: Any
) -> dict[str, Any]:
    response = await client.get(QUEUE, params=params, headers=org.headers(role))
    assert response.status_code == 200, response.text
    return response.json()


async def ids_in(client: httpx.AsyncClient, org: Org, bucket: str | None = None) -> list[str]:
    params = {"limit": 200} | ({} if bucket is None else {"bucket": bucket})
    return [item["id"] for item in (await queue(client, org, **params))["items"]]


async def test_emergency_comes_before_an_earlier_due_routine_and_no_clock_comes_last(
    world: World, clock: FixedClock
) -> None:
    authority, prosecution = await authority_with_prosecution(world)
    without_clock = await approved(world, authority, prosecution)  # review met, not yet transmitted
    routine_early = await submitted(world, prosecution)  # review due Mon 9 Nov, 09:00 UTC
    clock.advance(timedelta(days=1))
    routine_late = await submitted(world, prosecution)  # due Tue 10 Nov
    clock.set(datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    emergency = await submitted(world, prosecution, **EMERGENCY)  # due 4 hours later, after both routines

    page = await queue(world.client, authority)

    assert [item["id"] for item in page["items"]] == [
        emergency["id"],
        routine_early["id"],
        routine_late["id"],
        without_clock["id"],
    ]
    first = page["items"][0]
    assert first["next_deadline"]["rule"] == "internal-review" and first["next_deadline"]["kind"] == "review"
    assert first["next_deadline"]["due_at"] == "2026-11-10T13:00:00Z" == first["next_due_at"]
    assert page["items"][1]["next_due_at"] == "2026-11-09T09:00:00Z"
    assert page["items"][-1]["next_deadline"] is None and page["items"][-1]["next_due_at"] is None
    assert page["next_cursor"] is None


async def test_each_bucket_holds_what_it_says_as_the_clock_moves(world: World, clock: FixedClock) -> None:
    authority, prosecution = await authority_with_prosecution(world)
    officer = authority.members[Role.CENTRAL_AUTHORITY]
    fresh = await submitted(world, prosecution)  # review due Mon 9 Nov 09:00 UTC
    taken = await submitted(world, prosecution)
    response = await world.client.post(
        f"/api/v1/requests/{taken['id']}/assign",
        json={"user_id": str(officer.id), "version": taken["version"]},
        headers=officer.headers,
    )
    assert response.status_code == 200, response.text
    sent = await act(
        world, authority, Role.CENTRAL_AUTHORITY, await approved(world, authority, prosecution), "transmit"
    )
    case = await world.case(authority, role=Role.CENTRAL_AUTHORITY)
    state = await world.counterparty(kind=CounterpartyKind.STATE)
    received = await world.request(authority, case, state, direction="incoming", type="mla", instrument="mlat")
    unsent = await draft(world, prosecution)

    async def buckets() -> dict[str, set[str]]:
        return {
            b: set(await ids_in(world.client, authority, b))
            for b in ("overdue", "due_soon", "new", "mine", "unassigned")
        }

    assert await buckets() == {
        "overdue": set(),
        "due_soon": set(),
        "new": {fresh["id"], received["id"]},
        "mine": {taken["id"]},
        "unassigned": {fresh["id"], sent["id"], received["id"]},
    }
    assert unsent["id"] not in await ids_in(world.client, authority)  # a draft stays with the prosecutor
    clock.set(datetime(2026, 11, 8, 10, 0, tzinfo=UTC))  # the reviews fall due within 48 hours
    soon = await buckets()
    # the received request must be acknowledged or decided within 5 business days too: Mon 9 Nov 09:00
    assert soon["overdue"] == set() and soon["due_soon"] == {fresh["id"], taken["id"], received["id"]}
    clock.set(datetime(2026, 11, 11, 9, 0, tzinfo=UTC))  # reviews overdue; the EPOC answer due tomorrow
    late = await buckets()
    assert late["overdue"] == {fresh["id"], taken["id"], received["id"]} and late["due_soon"] == {sent["id"]}


async def test_counts_cover_every_bucket_whatever_bucket_is_asked(world: World, clock: FixedClock) -> None:
    authority, prosecution = await authority_with_prosecution(world)
    await submitted(world, prosecution)
    await submitted(world, prosecution, urgency="urgent")  # review due Wed 4 Nov
    await draft(world, prosecution)
    clock.set(datetime(2026, 11, 5, 9, 0, tzinfo=UTC))

    everything = await queue(world.client, authority)
    only_mine = await queue(world.client, authority, bucket="mine")

    expected = {"overdue": 1, "due_soon": 0, "new": 2, "mine": 0, "unassigned": 2}
    assert everything["counts"] == expected == only_mine["counts"]
    assert only_mine["items"] == [] and len(everything["items"]) == 2


async def test_pages_show_every_request_exactly_once_in_order(world: World, clock: FixedClock) -> None:
    authority, prosecution = await authority_with_prosecution(world)
    for _ in range(3):
        await approved(world, authority, prosecution)  # no clock running: the last page, ordered by id
    for _ in range(3):
        await submitted(world, prosecution)
        clock.advance(timedelta(hours=5))
    await submitted(world, prosecution, urgency="urgent")
    await submitted(world, prosecution, urgency="urgent")
    await submitted(world, prosecution, **EMERGENCY)
    whole = await ids_in(world.client, authority)

    for bucket, limit in ((None, 2), (None, 1), ("unassigned", 4)):
        params: dict[str, Any] = {"limit": limit} | ({} if bucket is None else {"bucket": bucket})
        seen: list[str] = []
        while True:
            page = await queue(world.client, authority, **params)
            assert len(page["items"]) <= limit
            seen += [item["id"] for item in page["items"]]
            if page["next_cursor"] is None:
                break
            params["cursor"] = page["next_cursor"]
        assert seen == whole and len(seen) == 9


async def test_another_authority_sees_nothing_and_a_prosecutor_is_refused(world: World) -> None:
    authority, prosecution = await authority_with_prosecution(world)
    await submitted(world, prosecution)
    other = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)

    elsewhere = await queue(world.client, other)
    own_supervisor = await queue(world.client, authority, Role.SUPERVISOR)

    zero = {"overdue": 0, "due_soon": 0, "new": 0, "mine": 0, "unassigned": 0}
    assert elsewhere == {"items": [], "next_cursor": None, "counts": zero}
    assert len(own_supervisor["items"]) == 1
    for org, role in ((prosecution, Role.PROSECUTOR), (authority, Role.AUDITOR), (authority, Role.ADMIN)):
        response = await world.client.get(QUEUE, headers=org.headers(role))
        assert response.status_code == 403, (role, response.text)


async def test_a_closed_request_leaves_the_queue(world: World) -> None:
    authority, prosecution = await authority_with_prosecution(world)
    kept = await submitted(world, prosecution)
    rejected = await submitted(world, prosecution)

    await act(world, authority, Role.CENTRAL_AUTHORITY, rejected, "reject", reason="Disproportionate to the offence.")

    page = await queue(world.client, authority)
    assert [item["id"] for item in page["items"]] == [kept["id"]]
    assert page["counts"]["new"] == 1 and page["counts"]["unassigned"] == 1


def forged_cursor(*position: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


async def test_a_bad_bucket_cursor_or_limit_is_422(world: World) -> None:
    authority, _ = await authority_with_prosecution(world)
    nil = "00000000-0000-0000-0000-000000000000"
    refused = [
        {"bucket": "urgent"},
        {"cursor": "not-a-cursor"},
        {"cursor": forged_cursor(10**20, None, nil)},  # beyond any integer column
        {"cursor": forged_cursor(2, "2026-11-02T09:00:00", nil)},  # a naive time
        {"limit": 0},
        {"limit": 201},
    ]

    for params in refused:
        response = await world.client.get(QUEUE, params=params, headers=authority.headers(Role.CENTRAL_AUTHORITY))
        assert response.status_code == 422, (params, response.text)


async def test_filters_narrow_the_items_not_the_counts_and_order_due_ignores_urgency(
    world: World, clock: FixedClock
) -> None:
    authority, prosecution = await authority_with_prosecution(world)
    routine = await submitted(world, prosecution)  # review due Mon 9 Nov, 09:00 UTC
    clock.set(datetime(2026, 11, 9, 6, 0, tzinfo=UTC))
    emergency = await submitted(world, prosecution, **EMERGENCY)  # due 4 hours later, after the routine

    only_emergencies = await queue(world.client, authority, urgency="emergency")
    by_due = await queue(world.client, authority, order="due")
    by_reference = await queue(world.client, authority, q=routine["reference"])

    assert [item["id"] for item in only_emergencies["items"]] == [emergency["id"]]
    assert only_emergencies["counts"]["new"] == 2
    assert [item["id"] for item in by_due["items"]] == [routine["id"], emergency["id"]]
    assert [item["id"] for item in by_reference["items"]] == [routine["id"]]


async def test_pages_in_due_order_show_every_request_once(world: World, clock: FixedClock) -> None:
    authority, prosecution = await authority_with_prosecution(world)
    expected = []
    for _ in range(3):
        expected.append((await submitted(world, prosecution))["id"])
        clock.advance(timedelta(hours=1))

    first = await queue(world.client, authority, order="due", limit=2)
    second = await queue(world.client, authority, order="due", limit=2, cursor=first["next_cursor"])

    assert [item["id"] for item in first["items"] + second["items"]] == expected
    assert second["next_cursor"] is None


async def test_an_item_carries_the_names_a_triage_reads(world: World) -> None:
    authority, prosecution = await authority_with_prosecution(world)
    officer = authority.members[Role.CENTRAL_AUTHORITY]
    case = await world.case(prosecution)
    request = await act(
        world,
        prosecution,
        Role.PROSECUTOR,
        await world.request(prosecution, case, await world.counterparty()),
        "submit",
    )
    response = await world.client.post(
        f"/api/v1/requests/{request['id']}/assign",
        json={"user_id": str(officer.id), "version": request["version"]},
        headers=officer.headers,
    )
    assert response.status_code == 200, response.text
    target = (await world.client.get(f"/api/v1/counterparties/{request['target_id']}", headers=officer.headers)).json()

    [item] = (await queue(world.client, authority))["items"]

    assert item["case_reference"] == case["reference"]
    assert item["owner_name"] == prosecution.name and item["target_name"] == target["name"]
    assert item["assignee_name"] == "central_authority user"
    assert item["next_deadline"]["kind"] == "review" and item["urgency"] == "routine"


def test_the_page_statement_is_built_once_per_shape_and_binds_each_viewer() -> None:
    """Two officers of different authorities share one built statement (only the bound values differ);
    a supervisor, who sees every confidential request, gets a statement of its own."""
    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    first, second = (
        Principal(uuid.uuid4(), uuid.uuid4(), frozenset({Role.CENTRAL_AUTHORITY.value}), "") for _ in range(2)
    )
    supervisor = Principal(uuid.uuid4(), uuid.uuid4(), frozenset({Role.SUPERVISOR.value}), "")
    viewers = (first, second, supervisor)
    pages = [repository.queue_page(viewer, QueueBucket.OVERDUE, now, None, 50) for viewer in viewers]
    assert pages[0].statement is pages[1].statement
    assert pages[0].statement is not pages[2].statement
    assert pages[0].parameters["organisation_id"] == first.organisation_id
    assert pages[1].parameters["organisation_id"] == second.organisation_id
    assert repository.counts_query(first, now).statement is repository.counts_query(second, now).statement
