"""Issue 9 §1: an organisation's admin administers its own organisation and nothing else.

The attack reproduced first: an admin of a Paris prosecution service plants a prosecutor (or an
admin) with a password of its choosing in a Berlin organisation, logs in as it and reads Berlin's
cases, requests and CSV export; it also attaches a webhook to Berlin to receive Berlin's alerts.

Answers: a foreign organisation named in a body is 422 with the same problem as one that does not
exist (as POST /requests answers for a foreign case); a foreign object in the path (a user, a
webhook, a token) is 404 like a missing one. Neither says whether the foreign thing exists. A role
the admin may never grant (`platform_admin`) is 403: the admin's own authority is the issue.
"""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from mla.alerts.models import Delivery, Webhook
from mla.audit.models import AuditEvent
from mla.enums import Role
from mla.users.models import ApiToken, User
from tests.alerts.support import add_delivery, arrange_alert
from tests.factories import Org, World, unique
from tests.users.test_auth import PASSWORD, assert_problem, log_in

PARIS_ADMIN_PASSWORD = "chosen-by-the-paris-admin"


@pytest.fixture
async def paris(world: World) -> Org:
    return await world.organisation(country="FR", timezone="Europe/Paris")


@pytest.fixture
async def berlin(world: World) -> Org:
    return await world.organisation()


def user_body(organisation_id: object, *roles: str, password: str = PASSWORD) -> dict[str, Any]:
    """A new user with a password, for POST /admin/users."""
    return {
        "email": f"{unique('user')}@example.org",
        "name": "Una User",
        "organisation_id": str(organisation_id),
        "roles": list(roles),
        "password": password,
    }


async def users_named(world: World, email: str) -> list[User]:
    async with world.sessionmaker() as session:
        return list(await session.scalars(select(User).where(User.email == email)))


@pytest.mark.parametrize("role", [Role.PROSECUTOR, Role.ADMIN])
async def test_an_admin_cannot_plant_a_user_in_another_organisation_and_read_its_cases(
    world: World, paris: Org, berlin: Org, role: Role
) -> None:
    client = world.client
    case = await world.case(berlin)
    request = await world.request(berlin, case, await world.counterparty())
    body = user_body(berlin.id, role.value, password=PARIS_ADMIN_PASSWORD)

    planted = await client.post("/api/v1/admin/users", json=body, headers=paris.headers(Role.ADMIN))
    nowhere = await client.post(
        "/api/v1/admin/users", json={**body, "organisation_id": str(uuid.uuid4())}, headers=paris.headers(Role.ADMIN)
    )

    assert_problem(planted, 422)
    assert planted.json() == nowhere.json()  # a foreign organisation is refused like one that does not exist
    assert await users_named(world, body["email"]) == []
    assert_problem(await log_in(world, body["email"], PARIS_ADMIN_PASSWORD), 401)
    # With its own token the Paris admin reads none of Berlin's cases, requests or export either.
    headers = paris.headers(Role.ADMIN)
    assert_problem(await client.get(f"/api/v1/cases/{case['id']}", headers=headers), 404)
    assert_problem(await client.get(f"/api/v1/requests/{request['id']}", headers=headers), 404)
    export = await client.get("/api/v1/requests/export.csv", headers=headers)
    assert export.status_code == 200 and request["reference"] not in export.text


async def test_an_admin_cannot_attach_a_webhook_to_another_organisation(world: World, paris: Org, berlin: Org) -> None:
    body = {
        "url": "https://paris.example.org/hook",
        "secret": "s3cret-s3cret-s3cret",
        "organisation_id": str(berlin.id),
    }

    attached = await world.client.post("/api/v1/admin/webhooks", json=body, headers=paris.headers(Role.ADMIN))

    assert_problem(attached, 422)
    assert attached.json()["errors"][0]["field"] == "organisation_id"
    async with world.sessionmaker() as session:
        assert (await session.scalars(select(Webhook).where(Webhook.organisation_id == berlin.id))).all() == []


async def test_another_organisations_webhooks_and_deliveries_are_out_of_sight(
    world: World, paris: Org, berlin: Org
) -> None:
    body = {
        "url": "https://berlin.example.org/hook",
        "secret": "s3cret-s3cret-s3cret",
        "organisation_id": str(berlin.id),
    }
    webhook = (await world.client.post("/api/v1/admin/webhooks", json=body, headers=berlin.headers(Role.ADMIN))).json()
    headers = paris.headers(Role.ADMIN)

    deactivated = await world.client.post(f"/api/v1/admin/webhooks/{webhook['id']}/deactivate", headers=headers)
    missing = await world.client.post(f"/api/v1/admin/webhooks/{uuid.uuid4()}/deactivate", headers=headers)
    listed = await world.client.get("/api/v1/admin/webhooks", headers=headers)
    own = await world.client.get("/api/v1/admin/webhooks", headers=berlin.headers(Role.ADMIN))

    assert_problem(deactivated, 404)
    assert deactivated.json() == missing.json()
    assert listed.json()["items"] == []
    assert [item["id"] for item in own.json()["items"]] == [webhook["id"]]
    assert own.json()["items"][0]["active"] is True


async def test_deliveries_are_listed_to_the_admins_of_the_organisation_they_go_to(
    world: World, paris: Org, berlin: Org
) -> None:
    request = await world.request(berlin, await world.case(berlin), await world.counterparty())
    body = {
        "url": "https://berlin.example.org/hook",
        "secret": "s3cret-s3cret-s3cret",
        "organisation_id": str(berlin.id),
    }
    webhook = (await world.client.post("/api/v1/admin/webhooks", json=body, headers=berlin.headers(Role.ADMIN))).json()
    alert_id = await arrange_alert(world.sessionmaker, world.clock, request["id"])
    to_webhook = await add_delivery(
        world.sessionmaker,
        world.clock,
        alert_id,
        channel="webhook",
        recipient=webhook["id"],
        webhook_id=uuid.UUID(webhook["id"]),
    )
    to_officer = await add_delivery(
        world.sessionmaker, world.clock, alert_id, channel="email", recipient=berlin.members[Role.PROSECUTOR].email
    )
    async with world.sessionmaker() as session, session.begin():  # already sent: no relay of another test takes them
        await session.execute(update(Delivery).where(Delivery.alert_id == alert_id).values(status="sent"))

    berlins = await world.client.get("/api/v1/admin/deliveries", headers=berlin.headers(Role.ADMIN))
    paris_view = await world.client.get("/api/v1/admin/deliveries", headers=paris.headers(Role.ADMIN))

    assert {item["id"] for item in berlins.json()["items"]} == {str(to_webhook), str(to_officer)}
    assert paris_view.json()["items"] == []


def user_routes(user_id: str, token_id: str) -> list[tuple[str, str, Any]]:
    base = f"/api/v1/admin/users/{user_id}"
    return [
        ("GET", base, None),
        ("POST", f"{base}/disable", None),
        ("POST", f"{base}/enable", None),
        ("PUT", f"{base}/roles", {"roles": ["admin"]}),
        ("POST", f"{base}/password", {"password": PARIS_ADMIN_PASSWORD}),
        ("GET", f"{base}/api-tokens", None),
        ("POST", f"{base}/api-tokens", {"label": "stolen"}),
        ("POST", f"{base}/api-tokens/{token_id}/revoke", None),
        ("POST", f"{base}/api-tokens/{token_id}/renew", {}),
    ]


async def test_another_organisations_users_answer_404_like_missing_ones(world: World, paris: Org, berlin: Org) -> None:
    victim = berlin.members[Role.PROSECUTOR]
    async with world.sessionmaker() as session:
        token_id = str(await session.scalar(select(ApiToken.id).where(ApiToken.user_id == victim.id)))
    headers = paris.headers(Role.ADMIN)

    for (method, path, body), (_, absent_path, _) in zip(
        user_routes(str(victim.id), token_id), user_routes(str(uuid.uuid4()), str(uuid.uuid4())), strict=True
    ):
        foreign = await world.client.request(method, path, json=body, headers=headers)
        absent = await world.client.request(method, absent_path, json=body, headers=headers)
        assert_problem(foreign, 404)
        assert foreign.json() == absent.json(), path

    assert (await world.client.get("/api/v1/auth/me", headers=victim.headers)).json()["roles"] == ["prosecutor"]
    listed = await world.client.get("/api/v1/admin/users", headers=headers)
    assert {item["organisation_id"] for item in listed.json()["items"]} == {str(paris.id)}


async def test_an_admin_never_grants_platform_admin_nor_touches_a_platform_admin(world: World, paris: Org) -> None:
    admin = paris.members[Role.ADMIN]
    platform = paris.members[Role.PLATFORM_ADMIN]  # the factories put one in every organisation
    headers = admin.headers

    to_self = await world.client.put(
        f"/api/v1/admin/users/{admin.id}/roles", json={"roles": ["platform_admin"]}, headers=headers
    )
    created = await world.client.post(
        "/api/v1/admin/users", json=user_body(paris.id, "platform_admin"), headers=headers
    )
    reset = await world.client.post(
        f"/api/v1/admin/users/{platform.id}/password", json={"password": PARIS_ADMIN_PASSWORD}, headers=headers
    )
    disabled = await world.client.post(f"/api/v1/admin/users/{platform.id}/disable", headers=headers)

    for refused in (to_self, created, reset, disabled):
        assert "operator" in assert_problem(refused, 403)["detail"]
    assert (await world.client.get("/api/v1/auth/me", headers=platform.headers)).status_code == 200
    assert (await world.client.get("/api/v1/auth/me", headers=headers)).json()["roles"] == ["admin"]


async def test_platform_admin_with_a_case_role_is_422(world: World, paris: Org) -> None:
    body = user_body(paris.id, "platform_admin", "prosecutor")
    created = await world.client.post("/api/v1/admin/users", json=body, headers=paris.headers(Role.ADMIN))
    changed = await world.client.put(
        f"/api/v1/admin/users/{paris.members[Role.AUDITOR].id}/roles",
        json={"roles": ["auditor", "platform_admin"]},
        headers=paris.headers(Role.ADMIN),
    )

    for refused in (created, changed):
        assert assert_problem(refused, 422)["errors"][0]["field"] == "roles"


async def test_an_admins_administration_events_are_listed_to_its_organisation_only(
    world: World, paris: Org, berlin: Org
) -> None:
    created = await world.client.post(
        "/api/v1/admin/users", json=user_body(paris.id, "prosecutor"), headers=paris.headers(Role.ADMIN)
    )
    user_id = created.json()["id"]

    paris_events = await admin_events(world.client, paris.headers(Role.ADMIN))
    berlin_events = await admin_events(world.client, berlin.headers(Role.ADMIN))

    mine = [e for e in paris_events if e["changes"].get("user_id") == user_id]
    assert [e["action"] for e in mine] == ["create_user"]
    assert mine[0]["actor_id"] == str(paris.members[Role.ADMIN].id)
    assert {e["organisation_id"] for e in paris_events} == {str(paris.id)}
    assert {e["organisation_id"] for e in berlin_events} == {str(berlin.id)}
    assert user_id not in str(berlin_events)
    # The chain is the organisation's own, hash-linked from its first event.
    seqs = [e["seq"] for e in paris_events]
    assert seqs == list(range(1, len(seqs) + 1))
    # Only the creation of the organisation itself is an installation event.
    async with world.sessionmaker() as session:
        rows = (
            await session.execute(
                select(AuditEvent.chain, AuditEvent.action).where(AuditEvent.organisation_id == paris.id)
            )
        ).all()
    assert {chain for chain, action in rows if action != "create_organisation"} == {f"admin:{paris.id}"}
    assert {chain for chain, action in rows if action == "create_organisation"} == {"admin"}


async def admin_events(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    events, cursor = [], None
    while True:
        params = {} if cursor is None else {"cursor": cursor}
        page = await client.get("/api/v1/admin/audit", params=params, headers=headers)
        assert page.status_code == 200, page.text
        events += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return events
