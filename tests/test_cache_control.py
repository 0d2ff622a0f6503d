"""No answer of the API may be kept by a browser, proxy or CDN: tokens and case data are `no-store`."""

import httpx
import pytest

from mla.enums import OrganisationKind, Role
from mla.users import service as users
from mla.users.schemas import UserCreate
from tests.factories import Org, World, unique

PASSWORD = "correct horse battery staple"


async def login_user(world: World, org: Org) -> str:
    email = f"{unique('cache')}@example.org"
    async with world.sessionmaker() as session, session.begin():
        data = UserCreate(
            email=email, name="Nora No-Store", organisation_id=org.id, roles=[Role.PROSECUTOR], password=PASSWORD
        )
        await users.create_user(session, world.clock, None, data)
    return email


def assert_not_stored(response: httpx.Response) -> None:
    assert response.headers.get("cache-control") == "no-store", (response.request.url, response.headers)


async def test_a_token_answer_is_not_stored(world: World) -> None:
    org = await world.organisation()
    email = await login_user(world, org)

    response = await world.client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})

    assert response.status_code == 200, response.text
    assert "access_token" in response.json()
    assert_not_stored(response)


async def test_answers_carrying_case_data_are_not_stored(world: World) -> None:
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    org = await world.organisation(central_authority=authority)
    request = await world.request(org, await world.case(org), await world.counterparty())
    headers = org.headers()

    answers = {
        "item": await world.client.get(f"/api/v1/requests/{request['id']}", headers=headers),
        "list": await world.client.get("/api/v1/requests", headers=headers),
        "cases": await world.client.get("/api/v1/cases", headers=headers),
        "export": await world.client.get("/api/v1/requests/export.csv", headers=headers),
        "audit": await world.client.get(f"/api/v1/requests/{request['id']}/audit", headers=org.headers(Role.AUDITOR)),
        "stats": await world.client.get("/api/v1/stats", headers=headers),
        "queue": await world.client.get("/api/v1/queue", headers=authority.headers(Role.CENTRAL_AUTHORITY)),
    }

    for name, response in answers.items():
        assert response.status_code == 200, (name, response.text)
        assert_not_stored(response)
    assert answers["export"].headers["content-type"].startswith("text/csv")


# A fixed unknown id: xdist workers must collect the same test ids.
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/requests/5f0c6c1e-8a47-4a39-9c1e-2d6b1d9e7a10"),
        ("POST", "/api/v1/cases"),
        ("GET", "/api/v1/requests"),
    ],
)
async def test_problem_answers_are_not_stored_either(world: World, method: str, path: str) -> None:
    org = await world.organisation()

    authenticated = await world.client.request(method, path, json={"title": 1}, headers=org.headers())
    anonymous = await world.client.request(method, path)

    assert authenticated.status_code in (404, 422, 200) and anonymous.status_code == 401
    assert_not_stored(authenticated)
    assert_not_stored(anonymous)
