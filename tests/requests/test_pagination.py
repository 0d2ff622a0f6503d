"""Keyset pagination of the request and case lists (SPEC §9, §11): every row once, newest first.

Rows are filed through the API while a walk is under way; the FixedClock makes created_at either
distinct (`clock.advance`) or identical, which the (created_at, id) cursor must both handle.
"""

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from mla.enums import OrganisationKind, Role
from mla.requests.models import Request
from tests.factories import Org, World

Between = Callable[[], Awaitable[None]]


async def walk(
    world: World,
    path: str,
    headers: dict[str, str],
    *,
    limit: int,
    params: dict[str, Any] | None = None,
    between: Between | None = None,
) -> list[list[dict[str, Any]]]:
    """Fetch every page by following `next_cursor`, calling `between` after each page."""
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        query = {**(params or {}), "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await world.client.get(path, params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"items", "next_cursor"}
        assert len(body["items"]) <= limit
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert body["items"], "a page with a next_cursor must not be empty"
        assert len(pages) < 1000, "the walk does not end"
        if between is not None:
            await between()


def ids_of(pages: list[list[dict[str, Any]]]) -> list[str]:
    return [item["id"] for page in pages for item in page]


def assert_each_once(seen: list[str], expected: list[str]) -> None:
    assert len(seen) == len(set(seen)), "a row was shown twice"
    missing = set(expected) - set(seen)
    assert not missing, f"{len(missing)} rows were never shown"


def assert_newest_first(pages: list[list[dict[str, Any]]]) -> None:
    keys = [(datetime.fromisoformat(item["created_at"]), uuid.UUID(item["id"])) for page in pages for item in page]
    assert keys == sorted(keys, reverse=True)


class Filer:
    """Files requests and cases for one organisation through the API."""

    def __init__(self, world: World, org: Org) -> None:
        self.world = world
        self.org = org
        self.case: dict[str, Any] | None = None
        self.provider: uuid.UUID | None = None

    async def request(self, **overrides: Any) -> dict[str, Any]:
        if self.case is None:
            self.case = await self.world.case(self.org)
        if self.provider is None:
            self.provider = await self.world.counterparty()
        target = overrides.pop("target", self.provider)
        return await self.world.request(self.org, self.case, target, **overrides)

    async def requests(self, count: int, *, step: timedelta | None = None) -> list[dict[str, Any]]:
        created = []
        for _ in range(count):
            created.append(await self.request())
            if step is not None:
                self.world.clock.advance(step)
        return created

    async def cases(self, count: int, *, step: timedelta | None = None) -> list[dict[str, Any]]:
        created = []
        for _ in range(count):
            created.append(await self.world.case(self.org))
            if step is not None:
                self.world.clock.advance(step)
        return created


async def set_status(world: World, request_id: str, status: str) -> None:
    async with world.sessionmaker() as session, session.begin():
        await session.execute(update(Request).where(Request.id == uuid.UUID(request_id)).values(status=status))


# --- requests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 200])
async def test_requests_with_distinct_times_are_walked_once_while_new_ones_are_filed(world: World, limit: int) -> None:
    filer = Filer(world, await world.organisation())
    existing = await filer.requests(7, step=timedelta(minutes=1))
    filed_during: list[dict[str, Any]] = []

    async def file_one() -> None:
        world.clock.advance(timedelta(seconds=30))
        filed_during.append(await filer.request())

    pages = await walk(world, "/api/v1/requests", filer.org.headers(), limit=limit, between=file_one)

    seen = ids_of(pages)
    assert_each_once(seen, [r["id"] for r in existing])
    # Newer rows land before the cursor: the walk already started, so they are not shown.
    assert seen == [r["id"] for r in reversed(existing)]
    assert_newest_first(pages)
    # ...and a fresh walk shows them all, once.
    again = ids_of(await walk(world, "/api/v1/requests", filer.org.headers(), limit=limit))
    assert sorted(again) == sorted(r["id"] for r in existing + filed_during)


@pytest.mark.parametrize("limit", [1, 2, 3, 10])
async def test_requests_with_the_same_created_at_are_walked_once_while_more_are_filed(world: World, limit: int) -> None:
    filer = Filer(world, await world.organisation())
    existing = await filer.requests(10)  # the clock stands still: all share one created_at
    assert len({r["created_at"] for r in existing}) == 1
    filed_during: list[dict[str, Any]] = []

    async def file_one_at_the_same_time() -> None:
        filed_during.append(await filer.request())

    pages = await walk(world, "/api/v1/requests", filer.org.headers(), limit=limit, between=file_one_at_the_same_time)

    seen = ids_of(pages)
    assert_each_once(seen, [r["id"] for r in existing])
    # Rows filed meanwhile with the same time may sort after the cursor; if so, shown once.
    assert set(seen) <= {r["id"] for r in existing + filed_during}
    assert_newest_first(pages)


async def test_requests_with_mixed_times_are_walked_once(world: World) -> None:
    filer = Filer(world, await world.organisation())
    existing = []
    for burst in (3, 1, 4, 1, 5):
        existing += await filer.requests(burst)  # a burst shares a created_at
        world.clock.advance(timedelta(microseconds=1))

    async def file_a_burst() -> None:
        await filer.requests(2)
        world.clock.advance(timedelta(microseconds=1))

    pages = await walk(world, "/api/v1/requests", filer.org.headers(), limit=3, between=file_a_burst)

    seen = ids_of(pages)
    assert_each_once(seen, [r["id"] for r in existing])
    newest_first = sorted(
        existing, key=lambda r: (datetime.fromisoformat(r["created_at"]), uuid.UUID(r["id"])), reverse=True
    )
    assert seen == [r["id"] for r in newest_first]


async def test_last_page_has_no_cursor_even_when_it_is_full(world: World) -> None:
    filer = Filer(world, await world.organisation())
    await filer.requests(6, step=timedelta(seconds=1))

    pages = await walk(world, "/api/v1/requests", filer.org.headers(), limit=3)

    assert [len(page) for page in pages] == [3, 3]


async def test_an_empty_list_has_no_cursor(world: World) -> None:
    org = await world.organisation()

    response = await world.client.get("/api/v1/requests", headers=org.headers())

    assert response.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("path", ["/api/v1/requests", "/api/v1/cases"])
@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 201}, {"limit": "ten"}, {"cursor": "not-a-cursor"}])
async def test_bad_paging_parameters_are_422_problems(world: World, path: str, params: dict[str, Any]) -> None:
    org = await world.organisation()

    response = await world.client.get(path, params=params, headers=org.headers())

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_limit_200_is_allowed_and_the_default_is_50(world: World) -> None:
    filer = Filer(world, await world.organisation())
    await filer.requests(51)

    default = await world.client.get("/api/v1/requests", headers=filer.org.headers())
    most = await world.client.get("/api/v1/requests", params={"limit": 200}, headers=filer.org.headers())

    assert len(default.json()["items"]) == 50 and default.json()["next_cursor"] is not None
    assert len(most.json()["items"]) == 51 and most.json()["next_cursor"] is None


async def test_a_cursor_of_another_organisations_row_shows_only_our_rows(world: World) -> None:
    ours = Filer(world, await world.organisation())
    theirs = Filer(world, await world.organisation())
    mine = await ours.requests(4, step=timedelta(seconds=1))
    await theirs.requests(4, step=timedelta(seconds=1))
    their_first = await world.client.get("/api/v1/requests", params={"limit": 1}, headers=theirs.org.headers())

    pages = await walk(
        world,
        "/api/v1/requests",
        ours.org.headers(),
        limit=2,
        params={"cursor": their_first.json()["next_cursor"]},
    )

    assert set(ids_of(pages)) <= {r["id"] for r in mine}


# --- filters with pagination --------------------------------------------------------------------


async def filtered_world(world: World) -> tuple[Filer, list[dict[str, Any]], uuid.UUID]:
    """Requests of every kind, some sharing a created_at: (filer, requests, second provider)."""
    filer = Filer(world, await world.organisation())
    other_provider = await world.counterparty()
    rows = []
    for i in range(18):
        overrides: dict[str, Any] = {}
        if i % 3 == 1:
            overrides.update(type="preservation", instrument="eu-epoc-pr")
        if i % 3 == 2:
            overrides.update(type="subscriber_info", instrument="2ap-7", data_categories=["subscriber"])
        if i % 2:
            overrides["urgency"] = "urgent"
        if i % 4 == 0:
            overrides["target"] = other_provider
        if i % 5 == 0:
            overrides["counterparty_references"] = [f"TICKET-{i}", "SHARED-REF"]
        rows.append(await filer.request(**overrides))
        if i % 2:
            world.clock.advance(timedelta(seconds=1))
    for row in rows[::4]:
        await set_status(world, row["id"], "under_review")
        row["status"] = "under_review"
    return filer, rows, other_provider


@pytest.mark.parametrize(
    ("params", "matches"),
    [
        (lambda p: {"status": "draft"}, lambda r, p: r["status"] == "draft"),
        (lambda p: {"status": "under_review"}, lambda r, p: r["status"] == "under_review"),
        (lambda p: {"type": "preservation"}, lambda r, p: r["type"] == "preservation"),
        (lambda p: {"urgency": "urgent"}, lambda r, p: r["urgency"] == "urgent"),
        (lambda p: {"target": str(p)}, lambda r, p: r["target_id"] == str(p)),
        (lambda p: {"q": "SHARED-REF"}, lambda r, p: "SHARED-REF" in r["counterparty_references"]),
        (lambda p: {"q": "TICKET-10"}, lambda r, p: "TICKET-10" in r["counterparty_references"]),
        (lambda p: {"q": "PRES-"}, lambda r, p: r["reference"].startswith("PRES-")),
        (lambda p: {"q": "sub-2026"}, lambda r, p: r["reference"].startswith("SUB-")),
        (
            lambda p: {"type": "production", "urgency": "urgent", "status": "draft"},
            lambda r, p: r["type"] == "production" and r["urgency"] == "urgent" and r["status"] == "draft",
        ),
        (
            lambda p: {"target": str(p), "q": "SHARED-REF"},
            lambda r, p: r["target_id"] == str(p) and "SHARED-REF" in r["counterparty_references"],
        ),
        (lambda p: {"type": "mla"}, lambda r, p: False),
    ],
    ids=[
        "status-draft",
        "status-under-review",
        "type",
        "urgency",
        "target",
        "q-shared-counterparty-reference",
        "q-one-counterparty-reference",
        "q-reference-prefix",
        "q-reference-any-case",
        "combined",
        "target-and-q",
        "no-match",
    ],
)
@pytest.mark.parametrize("limit", [1, 2, 5])
async def test_filters_combine_with_pagination(world: World, params: Any, matches: Any, limit: int) -> None:
    filer, rows, other_provider = await filtered_world(world)
    query = params(other_provider)
    expected = [r["id"] for r in rows if matches(r, other_provider)]

    async def file_a_matching_one_and_another() -> None:
        await filer.request(counterparty_references=["SHARED-REF"])
        await filer.request(type="preservation", instrument="eu-epoc-pr", urgency="urgent")

    pages = await walk(
        world,
        "/api/v1/requests",
        filer.org.headers(),
        limit=limit,
        params=query,
        between=file_a_matching_one_and_another,
    )

    seen = ids_of(pages)
    assert_each_once(seen, expected)
    assert sorted(seen) == sorted(expected), "a row that does not match the filter was shown"
    assert_newest_first(pages)


async def test_q_does_not_treat_like_wildcards_as_wildcards(world: World) -> None:
    filer = Filer(world, await world.organisation())
    await filer.requests(3)

    for q in ("%", "_", "PROD_2026", "\\"):
        response = await world.client.get("/api/v1/requests", params={"q": q}, headers=filer.org.headers())
        assert response.status_code == 200
        assert response.json()["items"] == [], q


# --- cases --------------------------------------------------------------------------------------


@pytest.mark.parametrize("step", [timedelta(minutes=1), None], ids=["distinct-times", "same-time"])
@pytest.mark.parametrize("limit", [1, 2, 4])
async def test_cases_are_walked_once_while_new_ones_are_opened(
    world: World, step: timedelta | None, limit: int
) -> None:
    filer = Filer(world, await world.organisation())
    existing = await filer.cases(9, step=step)
    opened_during: list[dict[str, Any]] = []

    async def open_one() -> None:
        if step is not None:
            world.clock.advance(step)
        opened_during.append(await world.case(filer.org))

    pages = await walk(world, "/api/v1/cases", filer.org.headers(), limit=limit, between=open_one)

    seen = ids_of(pages)
    assert_each_once(seen, [c["id"] for c in existing])
    assert set(seen) <= {c["id"] for c in existing + opened_during}
    if step is not None:
        assert seen == [c["id"] for c in reversed(existing)]
    assert_newest_first(pages)
    again = ids_of(await walk(world, "/api/v1/cases", filer.org.headers(), limit=limit))
    assert sorted(again) == sorted(c["id"] for c in existing + opened_during)


async def test_cases_last_page_has_no_cursor(world: World) -> None:
    filer = Filer(world, await world.organisation())
    await filer.cases(4)

    pages = await walk(world, "/api/v1/cases", filer.org.headers(), limit=2)

    assert [len(page) for page in pages] == [2, 2]


async def test_central_authority_walks_its_own_and_routed_cases_once(world: World) -> None:
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    prosecutors = Filer(world, await world.organisation(central_authority=authority))
    routed = []
    for _ in range(3):
        prosecutors.case = None  # a new case for each request
        routed.append((await prosecutors.request())["case_id"])
        world.clock.advance(timedelta(seconds=1))
    await prosecutors.cases(2)  # no request routed: not the authority's
    own = [c["id"] for c in await Filer(world, authority).cases(3, step=timedelta(seconds=1))]

    pages = await walk(world, "/api/v1/cases", authority.headers(Role.CENTRAL_AUTHORITY), limit=2)

    assert sorted(ids_of(pages)) == sorted(routed + own)


async def test_a_request_where_the_organisation_plays_two_parts_is_listed_once(world: World) -> None:
    # An incoming request the authority recorded: it owns it and is its central authority.
    authority, first = await world.received()
    world.clock.advance(timedelta(minutes=1))
    recorder = Filer(world, authority)
    recorder.case, recorder.provider = {"id": first["case_id"]}, uuid.UUID(first["target_id"])
    second = await recorder.request(
        direction="incoming", type="mla", instrument="mlat", treaty_reference=first["treaty_reference"]
    )

    for limit in (1, 2, 50):
        pages = await walk(world, "/api/v1/requests", authority.headers(Role.CENTRAL_AUTHORITY), limit=limit)
        assert ids_of(pages) == [second["id"], first["id"]]
