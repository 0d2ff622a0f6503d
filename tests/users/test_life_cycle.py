"""Issue 9 §8: users and tokens have a life cycle, run by the organisation's admins and audited.

Disabling takes effect on the next request for every token already issued (API tokens and signed
access tokens alike: each request reads the user). API tokens expire (default 90 days, the
`api_token_ttl_days` setting) and can be renewed while live; `POST /auth/logout` revokes the token
the request carries (an access token by its `jti`, until it would have expired anyway).
"""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from mla.audit.models import AuditEvent
from mla.clock import FixedClock
from mla.enums import Role
from mla.settings import Settings
from mla.users.models import RevokedAccessToken
from tests.factories import Org, World
from tests.users.test_auth import (
    PASSWORD,
    REFUSED_LOGIN,
    access_token,
    assert_problem,
    bearer,
    create_user_with_password,
    log_in,
    me,
)
from tests.users.test_organisation_admins import admin_events

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def org(world: World) -> Org:
    return await world.organisation()


class Admin:
    """The organisation's admin, calling the user administration routes."""

    def __init__(self, client: httpx.AsyncClient, org: Org) -> None:
        self.client, self.headers = client, org.headers(Role.ADMIN)

    async def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = await self.client.request(method, f"/api/v1/admin/users/{path}", json=body, headers=self.headers)
        assert response.status_code == status, response.text
        return response.json()


@pytest.fixture
def admin(world: World, org: Org) -> Admin:
    return Admin(world.client, org)


async def test_disabling_a_user_refuses_their_tokens_at_once_and_enabling_restores_them(
    world: World, org: Org, admin: Admin
) -> None:
    user = await create_user_with_password(world, org, ["prosecutor"])
    jwt_token = await access_token(world, user["email"])
    api_token = (await admin.call("POST", f"{user['id']}/api-tokens", {"label": "automation"}, 201))["token"]

    disabled = await admin.call("POST", f"{user['id']}/disable")

    assert disabled["active"] is False
    assert_problem(await me(world, jwt_token), 401)
    assert_problem(await me(world, api_token), 401)
    assert assert_problem(await log_in(world, user["email"]), 401)["detail"] == REFUSED_LOGIN

    assert (await admin.call("POST", f"{user['id']}/enable"))["active"] is True
    assert (await me(world, api_token)).status_code == 200
    assert (await log_in(world, user["email"])).status_code == 200


async def test_the_last_active_admin_can_be_neither_disabled_nor_demoted(world: World, org: Org, admin: Admin) -> None:
    admin_id = org.members[Role.ADMIN].id

    assert (
        "last active admin"
        in assert_problem(
            await world.client.post(f"/api/v1/admin/users/{admin_id}/disable", headers=admin.headers), 409
        )["detail"]
    )
    assert_problem(
        await world.client.put(
            f"/api/v1/admin/users/{admin_id}/roles", json={"roles": ["prosecutor"]}, headers=admin.headers
        ),
        409,
    )

    second = await create_user_with_password(world, org, ["admin"])
    assert (await admin.call("PUT", f"{admin_id}/roles", {"roles": ["auditor"]}))["roles"] == ["auditor"]
    assert (await me(world, await access_token(world, second["email"]))).json()["roles"] == ["admin"]


async def test_roles_are_granted_and_revoked_at_once_and_audited(world: World, org: Org, admin: Admin) -> None:
    user = await create_user_with_password(world, org, ["auditor"])
    token = await access_token(world, user["email"])
    case = {"reference": "ROLES-1", "title": "t", "offences": [{"description": "d", "max_penalty_years": 3}]}
    assert_problem(await world.client.post("/api/v1/cases", json=case, headers=bearer(token)), 403)

    changed = await admin.call("PUT", f"{user['id']}/roles", {"roles": ["prosecutor", "supervisor"]})

    assert changed["roles"] == ["prosecutor", "supervisor"]
    assert (await world.client.post("/api/v1/cases", json=case, headers=bearer(token))).status_code == 201
    events = [e for e in await admin_events(world.client, admin.headers) if e["changes"].get("user_id") == user["id"]]
    assert events[-1]["action"] == "change_roles"
    assert events[-1]["changes"]["granted"] == ["prosecutor", "supervisor"]
    assert events[-1]["changes"]["revoked"] == ["auditor"]
    assert events[-1]["actor_id"] == str(org.members[Role.ADMIN].id)


async def test_a_password_reset_replaces_the_old_one_and_is_audited_without_it(
    world: World, org: Org, admin: Admin
) -> None:
    user = await create_user_with_password(world, org, ["prosecutor"])

    await admin.call("POST", f"{user['id']}/password", {"password": NEW_PASSWORD})

    assert_problem(await log_in(world, user["email"], PASSWORD), 401)
    assert (await log_in(world, user["email"], NEW_PASSWORD)).status_code == 200
    async with world.sessionmaker() as session:
        leaks = await session.scalar(
            text("SELECT count(*) FROM audit_events e WHERE strpos(e::text, :p) > 0"), {"p": NEW_PASSWORD}
        )
    assert leaks == 0
    events = await admin_events(world.client, admin.headers)
    assert ("reset_password", user["id"]) in {(e["action"], e["changes"].get("user_id")) for e in events}


async def test_api_tokens_expire_after_the_default_lifetime(
    world: World, org: Org, admin: Admin, clock: FixedClock, settings: Settings
) -> None:
    user_id = org.members[Role.AUDITOR].id
    issued = await admin.call("POST", f"{user_id}/api-tokens", {"label": "nightly export"}, 201)
    colleague = await create_user_with_password(world, org, ["admin"])  # logs in once the factory tokens expired
    lifetime = timedelta(days=settings.api_token_ttl_days)
    assert settings.api_token_ttl_days == 90

    assert issued["expires_at"] == (clock.now() + lifetime).isoformat().replace("+00:00", "Z")
    clock.advance(lifetime - timedelta(seconds=1))
    assert (await me(world, issued["token"])).status_code == 200
    clock.advance(timedelta(seconds=1))
    assert_problem(await me(world, issued["token"]), 401)
    renewal = await world.client.post(
        f"/api/v1/admin/users/{user_id}/api-tokens/{issued['id']}/renew",
        json={},
        headers=bearer(await access_token(world, colleague["email"])),
    )
    assert "issue a new one" in assert_problem(renewal, 409)["detail"]


async def test_a_live_api_token_is_renewed_from_now(world: World, org: Org, admin: Admin, clock: FixedClock) -> None:
    user_id = org.members[Role.AUDITOR].id
    issued = await admin.call("POST", f"{user_id}/api-tokens", {"label": "short", "days": 1}, 201)
    clock.advance(timedelta(hours=23))

    renewed = await admin.call("POST", f"{user_id}/api-tokens/{issued['id']}/renew", {"days": 30})
    clock.advance(timedelta(days=29))

    assert renewed["expires_at"] > issued["expires_at"]
    assert (await me(world, issued["token"])).status_code == 200
    event = (await admin_events(world.client, admin.headers))[-1]
    assert event["action"] == "renew_api_token" and event["changes"]["token_id"] == issued["id"]


async def test_api_tokens_are_listed_and_revoked(world: World, org: Org, admin: Admin) -> None:
    member = org.members[Role.PROSECUTOR]
    world.clock.advance(timedelta(minutes=1))  # newest first: the second token must be newer than the first
    issued = await admin.call("POST", f"{member.id}/api-tokens", {"label": "second"}, 201)

    listed = await admin.call("GET", f"{member.id}/api-tokens")
    revoked = await admin.call("POST", f"{member.id}/api-tokens/{issued['id']}/revoke")

    assert [item["label"] for item in listed["items"]] == ["second", "test"]
    assert all("token" not in item and "token_hash" not in item for item in listed["items"])
    assert revoked["revoked_at"] is not None
    assert_problem(await me(world, issued["token"]), 401)
    assert (await me(world, member.token)).status_code == 200  # the other token still works
    assert_problem(
        await world.client.post(
            f"/api/v1/admin/users/{member.id}/api-tokens/{issued['id']}/renew", json={}, headers=admin.headers
        ),
        409,
    )
    actions = [e["action"] for e in await admin_events(world.client, admin.headers)]
    assert actions[-2:] == ["create_api_token", "revoke_api_token"]


async def test_logout_revokes_the_access_token_it_is_called_with_and_only_it(
    world: World, org: Org, admin: Admin, clock: FixedClock, settings: Settings
) -> None:
    user = await create_user_with_password(world, org, ["prosecutor"])
    first, second = await access_token(world, user["email"]), await access_token(world, user["email"])

    logged_out = await world.client.post("/api/v1/auth/logout", headers=bearer(first))

    assert logged_out.status_code == 204, logged_out.text
    assert_problem(await me(world, first), 401)
    assert_problem(await world.client.post("/api/v1/auth/logout", headers=bearer(first)), 401)
    assert (await me(world, second)).status_code == 200
    event = (await admin_events(world.client, admin.headers))[-1]
    assert (event["action"], event["actor_id"], event["changes"]["token_kind"]) == (
        "log_out",
        user["id"],
        "access_token",
    )
    # Remembered only until the token would have expired; later logouts forget it.
    clock.advance(timedelta(minutes=settings.token_ttl_minutes))
    await world.client.post("/api/v1/auth/logout", headers=bearer(await access_token(world, user["email"])))
    async with world.sessionmaker() as session:
        kept = await session.scalar(
            select(func.count()).select_from(RevokedAccessToken).where(RevokedAccessToken.user_id == user["id"])
        )
    assert kept == 1


async def test_logout_with_an_api_token_revokes_it(world: World, org: Org) -> None:
    member = org.members[Role.SUPERVISOR]

    assert (await world.client.post("/api/v1/auth/logout", headers=member.headers)).status_code == 204

    assert_problem(await me(world, member.token), 401)
    async with world.sessionmaker() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.actor_id == member.id, AuditEvent.action == "log_out")
        )
    assert event is not None and event.chain == f"admin:{org.id}" and event.changes["token_kind"] == "api_token"
