"""One direction vocabulary (README "Decisions"): communications answer `outgoing`/`incoming` like
requests, and still accept the `sent`/`received` they used before."""

from typing import Any

import pytest

from mla.enums import Role
from tests.factories import World

LETTER = {"kind": "letter", "occurred_at": "2026-11-20T09:00:00Z", "summary": "Cover letter."}


@pytest.mark.parametrize(
    ("given", "answered"),
    [("outgoing", "outgoing"), ("sent", "outgoing"), ("incoming", "incoming"), ("received", "incoming")],
)
async def test_a_communication_is_answered_in_the_requests_direction_words(
    world: World, given: str, answered: str
) -> None:
    org = await world.organisation()
    request = await world.request(org, await world.case(org), await world.counterparty())
    base = f"/api/v1/requests/{request['id']}/communications"

    created = await world.client.post(base, json=LETTER | {"direction": given}, headers=org.headers())

    assert created.status_code == 201, created.text
    assert created.json()["direction"] == answered
    [listed] = (await world.client.get(base, headers=org.headers())).json()["items"]
    assert listed["direction"] == answered


async def test_an_unknown_direction_is_a_422_listing_the_accepted_words(world: World) -> None:
    org = await world.organisation()
    request = await world.request(org, await world.case(org), await world.counterparty())
    base = f"/api/v1/requests/{request['id']}/communications"

    response = await world.client.post(
        base, json=LETTER | {"direction": "upward"}, headers=org.headers(Role.PROSECUTOR)
    )

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "direction"
    assert (await world.client.get(base, headers=org.headers())).json()["items"] == []


def words(schemas: dict[str, Any], field: dict[str, Any]) -> list[str]:
    """The enum of a field, inline or behind the `$ref` Litestar writes for a described enum."""
    if "enum" in field:
        return list(field["enum"])
    [reference] = field["allOf"]
    return list(schemas[reference["$ref"].rpartition("/")[2]]["enum"])


async def test_the_openapi_document_says_which_words_are_accepted_and_which_answered(world: World) -> None:
    schema = (await world.client.get("/schema/openapi.json")).json()["components"]["schemas"]
    given = schema["CommunicationCreate"]["properties"]["direction"]
    answered = schema["CommunicationOut"]["properties"]["direction"]

    assert set(words(schema, given)) == {"outgoing", "incoming", "sent", "received"}
    assert "answered as `outgoing`" in given["description"]
    assert set(words(schema, answered)) == {"outgoing", "incoming"}
