"""Issue 9 §1: the platform administrator administers the installation, not organisations or cases.

A platform admin lives in an organisation like every user (usually the one hosting the
installation; the factories put one in each). Its role, not its organisation, keeps it out: an
application-wide guard refuses it (403, before anything is read) every route not marked open to
platform administrators, so it reads no case data even in its own organisation.
"""

import pytest

from mla.enums import Role
from tests.factories import Org, World, unique
from tests.users.test_auth import (
    access_token,
    assert_problem,
    bearer,
    counterparty_body,
    instrument_body,
    organisation_body,
)
from tests.users.test_organisation_admins import admin_events, user_body


@pytest.fixture
async def org(world: World) -> Org:
    return await world.organisation()


async def test_a_platform_admin_creates_an_organisation_and_its_first_admin_and_nothing_else(
    world: World, org: Org
) -> None:
    client, platform = world.client, org.headers(Role.PLATFORM_ADMIN)
    created = await client.post("/api/v1/admin/organisations", json=organisation_body(), headers=platform)
    assert created.status_code == 201, created.text
    new_org = created.json()["id"]

    prosecutor_first = await client.post("/api/v1/admin/users", json=user_body(new_org, "prosecutor"), headers=platform)
    admin_and_more = await client.post(
        "/api/v1/admin/users", json=user_body(new_org, "admin", "auditor"), headers=platform
    )
    first_admin = await client.post("/api/v1/admin/users", json=user_body(new_org, "admin"), headers=platform)
    second_admin = await client.post("/api/v1/admin/users", json=user_body(new_org, "admin"), headers=platform)

    assert "first admin" in assert_problem(prosecutor_first, 403)["detail"]
    assert "first admin" in assert_problem(admin_and_more, 403)["detail"]
    assert first_admin.status_code == 201, first_admin.text
    assert "already has an active admin" in assert_problem(second_admin, 403)["detail"]
    # From here on the organisation's own admin administers it.
    admin = bearer(await access_token(world, first_admin.json()["email"]))
    colleague = await client.post("/api/v1/admin/users", json=user_body(new_org, "prosecutor"), headers=admin)
    assert colleague.status_code == 201, colleague.text
    events = await admin_events(client, admin)
    assert [(e["action"], e["actor_id"]) for e in events] == [
        ("create_user", str(org.members[Role.PLATFORM_ADMIN].id)),
        ("create_user", first_admin.json()["id"]),
    ]


async def test_an_organisation_whose_admin_exists_gets_no_user_from_a_platform_admin(world: World, org: Org) -> None:
    refused = await world.client.post(
        "/api/v1/admin/users", json=user_body(org.id, "admin"), headers=org.headers(Role.PLATFORM_ADMIN)
    )

    assert_problem(refused, 403)


async def test_a_platform_admin_does_not_administer_an_organisations_people(world: World, org: Org) -> None:
    headers, admin = org.headers(Role.PLATFORM_ADMIN), org.members[Role.ADMIN]
    attempts = [
        ("GET", "/api/v1/admin/users", None),
        ("GET", f"/api/v1/admin/users/{admin.id}", None),
        ("POST", f"/api/v1/admin/users/{admin.id}/disable", None),
        ("PUT", f"/api/v1/admin/users/{admin.id}/roles", {"roles": ["prosecutor"]}),
        ("POST", f"/api/v1/admin/users/{admin.id}/password", {"password": "taken-over-by-platform"}),
        ("GET", f"/api/v1/admin/users/{admin.id}/api-tokens", None),
        ("POST", f"/api/v1/admin/users/{admin.id}/api-tokens", {"label": "platform"}),
        ("GET", "/api/v1/admin/webhooks", None),
        ("GET", "/api/v1/admin/deliveries", None),
    ]

    for method, path, body in attempts:
        assert_problem(await world.client.request(method, path, json=body, headers=headers), 403)
    assert (await world.client.get("/api/v1/auth/me", headers=admin.headers)).json()["roles"] == ["admin"]


async def test_a_platform_admin_reads_no_case_data_even_in_its_own_organisation(world: World, org: Org) -> None:
    case = await world.case(org)
    request = await world.request(org, case, await world.counterparty())
    headers = org.headers(Role.PLATFORM_ADMIN)
    reads = [
        "/api/v1/cases",
        f"/api/v1/cases/{case['id']}",
        "/api/v1/requests",
        f"/api/v1/requests/{request['id']}",
        f"/api/v1/requests/{request['id']}/audit",
        f"/api/v1/requests/{request['id']}/checks",
        "/api/v1/requests/export.csv",
        "/api/v1/queue",
        "/api/v1/stats",
        "/api/v1/stats/export.csv",
        "/api/v1/notifications",
    ]

    for path in reads:
        response = await world.client.get(path, headers=headers)
        assert "no case data" in assert_problem(response, 403)["detail"], path
        assert request["reference"] not in response.text
    filed = await world.client.post(
        "/api/v1/cases",
        json={"reference": unique("P"), "title": "t", "offences": [{"description": "d", "max_penalty_years": 3}]},
        headers=headers,
    )
    assert_problem(filed, 403)
    # The same routes answer the organisation's own auditor: the 403 is about the role.
    assert (await world.client.get(f"/api/v1/requests/{request['id']}", headers=org.headers(Role.AUDITOR))).is_success


async def test_the_installation_is_administered_by_platform_admins_only(world: World, org: Org) -> None:
    client, platform, admin = world.client, org.headers(Role.PLATFORM_ADMIN), org.headers(Role.ADMIN)
    writes = [
        ("POST", "/api/v1/admin/organisations", organisation_body()),
        ("POST", "/api/v1/admin/counterparties", counterparty_body()),
        ("POST", "/api/v1/admin/instruments", instrument_body()),
    ]
    rule = (await client.get("/api/v1/deadline-rules/epoc-response", headers=platform)).json()

    for method, path, body in writes:
        assert_problem(await client.request(method, path, json=body, headers=admin), 403)
        assert (await client.request(method, path, json=body, headers=platform)).status_code == 201, path
    assert_problem(await client.get("/api/v1/admin/organisations", headers=admin), 403)
    patch = {"name": rule["name"]}
    assert_problem(await client.patch("/api/v1/admin/deadline-rules/epoc-response", json=patch, headers=admin), 403)
    assert (await client.patch("/api/v1/admin/deadline-rules/epoc-response", json=patch, headers=platform)).is_success

    installation = {e["action"] for e in await admin_events(client, platform)}
    assert {"create_organisation", "create_counterparty", "create_instrument"} <= installation
    assert not {"create_organisation", "create_counterparty"} & {e["action"] for e in await admin_events(client, admin)}
