"""A cursor carrying a moment outside what the database and Python can hold is a 422, never a 500.

Found by hand: a keyset cursor of (year 1 at +14:00, id) overflowed when converted to UTC for the
query, on every list. A cursor the API issued always carries a moment of 1900-2999.
"""

import base64
import json
from typing import Any

import pytest

from mla.enums import OrganisationKind, Role
from tests.factories import World

NIL = "00000000-0000-0000-0000-000000000000"
OUT_OF_RANGE = [
    "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
    "9999-12-31T23:59:59-14:00",  # after year 9999 in UTC
    "1850-01-01T00:00:00Z",  # representable, but no row of ours was created then
    "2026-11-02T09:00:00",  # naive
]
LISTS = [
    ("/api/v1/requests", Role.PROSECUTOR),
    ("/api/v1/cases", Role.PROSECUTOR),
    ("/api/v1/notifications", Role.PROSECUTOR),
    ("/api/v1/counterparties", Role.PROSECUTOR),
    ("/api/v1/admin/organisations", Role.PLATFORM_ADMIN),
    ("/api/v1/admin/users", Role.ADMIN),
    ("/api/v1/admin/webhooks", Role.ADMIN),
    ("/api/v1/admin/deliveries", Role.ADMIN),
]


def cursor(*position: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


@pytest.mark.parametrize("moment", OUT_OF_RANGE)
async def test_a_list_cursor_with_a_moment_out_of_range_is_a_422_on_every_list(world: World, moment: str) -> None:
    org = await world.organisation()

    for path, role in LISTS:
        response = await world.client.get(path, params={"cursor": cursor(moment, NIL)}, headers=org.headers(role))

        assert response.status_code == 422, (path, response.text)
        assert "cursor" in [error["field"] for error in response.json()["errors"]]


@pytest.mark.parametrize("moment", OUT_OF_RANGE)
async def test_a_queue_cursor_with_a_due_moment_out_of_range_is_a_422(world: World, moment: str) -> None:
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)

    response = await world.client.get(
        "/api/v1/queue", params={"cursor": cursor(0, moment, NIL)}, headers=authority.headers(Role.CENTRAL_AUTHORITY)
    )

    assert response.status_code == 422, response.text


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
async def test_other_moments_in_a_query_out_of_range_are_a_422(world: World, moment: str) -> None:
    org = await world.organisation()
    queries = [
        ("/api/v1/stats", {"from": moment}),
        ("/api/v1/stats/export.csv", {"to": moment}),
        (
            "/api/v1/deadlines/preview",
            {
                "instrument": "eu-epoc",
                "type": "production",
                "urgency": "routine",
                "action": "transmit",
                "start": moment,
            },
        ),
    ]

    for path, params in queries:
        response = await world.client.get(path, params=params, headers=org.headers())

        assert response.status_code == 422, (path, response.text)
