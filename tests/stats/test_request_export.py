"""`GET /requests/export.csv`: the request list's rows and filters, streamed, safe to open in a spreadsheet."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.clock import FixedClock
from mla.enums import CounterpartyKind, OrganisationKind, Role
from mla.requests.models import Request
from mla.requests.repository import RequestFilters
from mla.stats import service
from mla.users.principal import Principal
from tests.conftest import START_OF_TESTS
from tests.factories import STATEMENT, Org, World
from tests.stats.support import named_counterparty, parse_csv

ROWS = 250  # more than one page of the list (limit ≤ 200)
HEADER = [
    "reference",
    "id",
    "direction",
    "type",
    "status",
    "urgency",
    "instrument",
    "target",
    "case_reference",
    "created_at",
    "updated_at",
    "next_due_at",
    "counterparty_references",
]
FORMULA_REFERENCE = '=HYPERLINK("http://evil.example","click")'
AWKWARD_REFERENCE = 'T-7, "quoted"\nsecond line'


@dataclass
class ExportWorld:
    authority: Org
    prosecution: Org
    other: Org
    provider: uuid.UUID  # named like a formula
    state: uuid.UUID
    cases: list[dict[str, Any]]
    other_request_id: str


@pytest.fixture(scope="module")
async def exported(
    app: Litestar, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> AsyncIterator[ExportWorld]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mla.test") as client:
        world = World(client, sessionmaker, clock)
        clock.set(START_OF_TESTS)
        authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
        prosecution = await world.organisation(central_authority=authority)
        other = await world.organisation()
        provider = await named_counterparty(world, "@SUM(1+1)")
        state = await world.counterparty(CounterpartyKind.STATE, country="FR")
        cases = [await world.case(prosecution), await world.case(prosecution)]
        other_request = await world.request(other, await world.case(other), provider)
        await insert_requests(sessionmaker, clock, authority, prosecution, provider, state, cases)
        yield ExportWorld(authority, prosecution, other, provider, state, cases, other_request["id"])


async def insert_requests(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    authority: Org,
    prosecution: Org,
    provider: uuid.UUID,
    state: uuid.UUID,
    cases: list[dict[str, Any]],
) -> None:
    """`ROWS` requests straight into the table (the API would take longer), one second apart."""
    prosecutor = prosecution.members[Role.PROSECUTOR].id
    async with sessionmaker() as session, session.begin():
        for i in range(ROWS):
            created = clock.now() + timedelta(seconds=i)
            session.add(
                Request(
                    id=uuid.uuid4(),
                    reference=f"EXP-{uuid.uuid4().hex[:8]}-{i:04d}",
                    case_id=uuid.UUID(cases[i % 2]["id"]),
                    organisation_id=prosecution.id,
                    central_authority_id=authority.id,
                    direction="outgoing",
                    type="production" if i % 5 else "mla",
                    target_id=provider if i % 5 else state,
                    instrument="eu-epoc" if i % 5 else "mlat",
                    data_categories=["subscriber", "traffic"] if i % 3 == 0 else ["subscriber"],
                    identifiers=[{"kind": "email", "value": "suspect@example.com"}],
                    urgency="urgent" if i % 4 == 0 else "routine",
                    facts=STATEMENT,
                    link_to_offence=STATEMENT,
                    necessity=STATEMENT,
                    proportionality=STATEMENT,
                    confidential=False,
                    language="en",
                    status="transmitted" if i % 2 else "draft",
                    assignee_id=prosecutor if i % 10 == 0 else None,
                    counterparty_references=_references(i),
                    next_due_at=created + timedelta(days=10) if i % 2 else None,
                    created_by=prosecutor,
                    created_at=created,
                    updated_at=created + timedelta(hours=1),
                )
            )


def _references(i: int) -> list[str]:
    if i == 7:
        return [FORMULA_REFERENCE, "TICKET-7"]
    if i == 8:
        return [AWKWARD_REFERENCE]
    return [f"TICKET-{i}"] if i % 7 == 0 else []


async def export(client: httpx.AsyncClient, org: Org, role: Role = Role.PROSECUTOR, **params: Any) -> httpx.Response:
    return await client.get("/api/v1/requests/export.csv", params=params, headers=org.headers(role))


async def listed_ids(client: httpx.AsyncClient, org: Org, **params: Any) -> list[str]:
    """Every id the paginated list gives for these filters, in its order."""
    ids: list[str] = []
    cursor = None
    while True:
        page_params = {**params, "limit": 200} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/requests", params=page_params, headers=org.headers())).json()
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


async def test_every_visible_request_is_exported_newest_first(exported: ExportWorld, client: httpx.AsyncClient) -> None:
    response = await export(client, exported.prosecution)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="mla-requests-20261102T090000Z.csv"'
    rows = parse_csv(response.text)
    assert list(rows[0]) == HEADER
    assert len(rows) == ROWS
    assert [r["id"] for r in rows] == await listed_ids(client, exported.prosecution)
    assert [r["reference"][-4:] for r in rows[:2]] == ["0249", "0248"]
    authority_rows = parse_csv((await export(client, exported.authority, Role.CENTRAL_AUTHORITY)).text)
    assert [r["id"] for r in authority_rows] == [r["id"] for r in rows]  # and its central authority sees them


async def test_a_row_carries_the_request_its_target_and_its_case(
    exported: ExportWorld, client: httpx.AsyncClient
) -> None:
    rows = parse_csv((await export(client, exported.prosecution)).text)

    [row] = [r for r in rows if r["reference"].endswith("-0009")]
    path = f"/api/v1/counterparties/{exported.provider}"
    provider_name = (await client.get(path, headers=exported.prosecution.headers())).json()["name"]
    assert {k: v for k, v in row.items() if k not in ("reference", "id")} == {
        "direction": "outgoing",
        "type": "production",
        "status": "transmitted",
        "urgency": "routine",
        "instrument": "eu-epoc",
        "target": "'" + provider_name,  # "@SUM(1+1) ..." would be a formula
        "case_reference": exported.cases[1]["reference"],
        "created_at": "2026-11-02T09:00:09Z",
        "updated_at": "2026-11-02T10:00:09Z",
        "next_due_at": "2026-11-12T09:00:09Z",
        "counterparty_references": "",
    }


async def test_formulas_are_neutralised_and_awkward_text_survives_quoting(
    exported: ExportWorld, client: httpx.AsyncClient
) -> None:
    rows = {r["reference"][-4:]: r for r in parse_csv((await export(client, exported.prosecution)).text)}

    assert rows["0007"]["counterparty_references"] == "'" + FORMULA_REFERENCE + ";TICKET-7"
    assert rows["0008"]["counterparty_references"] == AWKWARD_REFERENCE  # comma, quotes, line break
    assert rows["0014"]["counterparty_references"] == "TICKET-14"
    assert all(not r["target"].startswith("@") for r in rows.values())


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "draft"}, 125),
        ({"type": "mla"}, 50),
        ({"direction": "outgoing", "urgency": "urgent"}, 63),
        ({"data_category": "traffic"}, 84),
        ({"q": "TICKET-7"}, 1),  # a counterparty reference
        ({"q": "-0123"}, 1),  # part of our reference
        ({"status": "withdrawn"}, 0),
    ],
)
async def test_the_lists_filters_select_the_same_rows(
    exported: ExportWorld, client: httpx.AsyncClient, filters: dict[str, str], expected: int
) -> None:
    rows = parse_csv((await export(client, exported.prosecution, **filters)).text)

    assert len(rows) == expected
    assert [r["id"] for r in rows] == await listed_ids(client, exported.prosecution, **filters)


async def test_target_assignee_and_case_filters(exported: ExportWorld, client: httpx.AsyncClient) -> None:
    prosecutor = exported.prosecution.members[Role.PROSECUTOR].id
    for filters, expected in (
        ({"target": str(exported.state)}, ROWS // 5),
        ({"assignee": str(prosecutor)}, ROWS // 10),
        ({"case": exported.cases[0]["id"]}, ROWS // 2),
    ):
        rows = parse_csv((await export(client, exported.prosecution, **filters)).text)
        assert len(rows) == expected, filters
        assert [r["id"] for r in rows] == await listed_ids(client, exported.prosecution, **filters)


async def test_another_organisation_exports_only_its_own(exported: ExportWorld, client: httpx.AsyncClient) -> None:
    rows = parse_csv((await export(client, exported.other)).text)

    assert [r["id"] for r in rows] == [exported.other_request_id]


async def test_rows_are_read_through_a_server_side_cursor_in_batches(
    exported: ExportWorld, sessionmaker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "EXPORT_BATCH_ROWS", 100)
    prosecutor = exported.prosecution.members[Role.PROSECUTOR]
    viewer = Principal(prosecutor.id, exported.prosecution.id, frozenset({Role.PROSECUTOR.value}), prosecutor.email)

    chunks = [chunk async for chunk in service.export_requests_csv(sessionmaker, viewer, RequestFilters())]

    assert len(chunks) == 1 + 3  # the header, then 100 + 100 + 50 rows
    assert len(parse_csv("".join(chunks))) == ROWS


async def test_bad_filters_are_refused_before_streaming(exported: ExportWorld, client: httpx.AsyncClient) -> None:
    for params in ({"status": "lost"}, {"target": "nope"}, {"q": "x" * 101}):
        response = await export(client, exported.prosecution, **params)
        assert response.status_code in (400, 422), params
        assert response.headers["content-type"] == "application/problem+json"


async def test_the_export_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/requests/export.csv")

    assert response.status_code == 401


async def test_request_ids_are_still_routed_beside_the_export(exported: ExportWorld, client: httpx.AsyncClient) -> None:
    headers = exported.prosecution.headers()

    unknown = await client.get(f"/api/v1/requests/{uuid.uuid4()}", headers=headers)
    known = await client.get(f"/api/v1/requests/{exported.other_request_id}", headers=exported.other.headers())

    assert unknown.status_code == 404 and known.status_code == 200
