"""Lists answer summaries; the full body only on the item route (issue 9: a page of 200 once weighed 39 MB).

Every field a client may fill is set to its maximum length here; the fields a summary keeps are
in four-byte characters, so the page measured is the largest one the API can be made to send.
"""

import uuid
from typing import Any

from mla.requests.models import Request
from mla.requests.schemas import RequestOut, RequestSummary
from tests.factories import World

PAGE = 200
LARGEST_PAGE_BYTES = 4_500_000  # 200 x (50 references of 100 four-byte characters, ~20 KB, + ~1 KB)
WIDE = "\U0001f512"  # four bytes in UTF-8
MAXIMAL_TEXT = "x" * 20_000
LONG_FIELDS = set(RequestOut.__struct_fields__) - set(RequestSummary.__struct_fields__)


def maximal_identifier(n: int) -> dict[str, Any]:
    return {"kind": "other", "value": f"{n:04d}" + "x" * 496, "from": "2026-01-01T00:00:00+00:00", "to": None}


MAXIMAL = {
    "facts": MAXIMAL_TEXT,
    "link_to_offence": MAXIMAL_TEXT,
    "necessity": MAXIMAL_TEXT,
    "proportionality": MAXIMAL_TEXT,
    "emergency_justification": MAXIMAL_TEXT,
    "confidentiality_reason": MAXIMAL_TEXT,
    "identifiers": [maximal_identifier(n) for n in range(1000)],
    "counterparty_references": [f"{n:02d}" + WIDE * 98 for n in range(50)],
}


async def copies_at_their_largest(world: World, filed: dict[str, Any], count: int) -> None:
    """`count` copies of a filed request with every client-filled field at its maximum.

    Written to the database directly: the HTTP body limit would refuse such a request.
    """
    async with world.sessionmaker() as session, session.begin():
        template = await session.get_one(Request, uuid.UUID(filed["id"]))
        values = {column.key: getattr(template, column.key) for column in Request.__table__.columns}
        for n in range(count):
            copy = {"id": uuid.uuid4(), "reference": f"MAX-{uuid.uuid4().hex[:12]}-{n}"}
            session.add(Request(**values | MAXIMAL | copy))


async def test_a_full_page_of_the_largest_requests_stays_under_its_bound_and_carries_no_statements(
    world: World,
) -> None:
    org = await world.organisation()
    filed = await world.request(org, await world.case(org), await world.counterparty())
    await copies_at_their_largest(world, filed, PAGE)

    response = await world.client.get("/api/v1/requests", params={"limit": PAGE}, headers=org.headers())

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert len(items) == PAGE
    assert len(response.content) < LARGEST_PAGE_BYTES, len(response.content)
    assert all(LONG_FIELDS.isdisjoint(item) for item in items)
    assert set(items[0]) == set(RequestSummary.__struct_fields__)


async def test_the_item_route_still_answers_the_whole_request(world: World) -> None:
    org = await world.organisation()
    filed = await world.request(org, await world.case(org), await world.counterparty())
    await copies_at_their_largest(world, filed, 1)
    page = (await world.client.get("/api/v1/requests", headers=org.headers())).json()["items"]
    listed = next(item for item in page if item["id"] != filed["id"])

    response = await world.client.get(f"/api/v1/requests/{listed['id']}", headers=org.headers())

    assert response.status_code == 200
    whole = response.json()
    assert whole["facts"] == MAXIMAL_TEXT and len(whole["identifiers"]) == 1000
    assert {name: whole[name] for name in listed} == listed
