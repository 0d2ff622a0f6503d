"""Authentication (passwords, access tokens, API tokens) and administration (SPEC §9, §11).

Users with passwords are created the way their organisation's admin would: POST /api/v1/admin/users.
The installation (organisations, counterparties, instruments) is administered by platform admins.
Token expiry is judged by the injected clock, which the autouse `reset_clock` fixture puts back.
"""

import base64
import hashlib
import json
import uuid
import warnings
from datetime import datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning
from sqlalchemy import select, text, update

from mla.audit.models import AuditEvent
from mla.clock import FixedClock
from mla.enums import Role
from mla.settings import Settings
from mla.users.models import User
from tests.factories import Org, World, unique

PASSWORD = "correct horse battery staple"
REFUSED_LOGIN = "Wrong e-mail or password."


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status
    assert {"type", "title", "detail"} <= problem.keys()
    return problem


async def create_user_with_password(
    world: World, admin: Org, roles: list[str], *, email: str | None = None
) -> dict[str, Any]:
    """A user created by the organisation's own admin."""
    body = {
        "email": email or f"{unique('login')}@example.org",
        "name": "Lena Login",
        "organisation_id": str(admin.id),
        "roles": roles,
        "password": PASSWORD,
    }
    response = await world.client.post("/api/v1/admin/users", json=body, headers=admin.headers(Role.ADMIN))
    assert response.status_code == 201, response.text
    return response.json()


async def log_in(world: World, email: str, password: str = PASSWORD) -> httpx.Response:
    return await world.client.post("/api/v1/auth/token", json={"email": email, "password": password})


async def access_token(world: World, email: str) -> str:
    response = await log_in(world, email)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def me(world: World, token: str) -> httpx.Response:
    return await world.client.get("/api/v1/auth/me", headers=bearer(token))


@pytest.fixture
async def org(world: World) -> Org:
    return await world.organisation()


# --------------------------------------------------------------------------- logging in


async def test_right_password_gives_a_bearer_token_that_works(
    world: World, org: Org, settings: Settings, clock: FixedClock
) -> None:
    user = await create_user_with_password(world, org, ["prosecutor", "supervisor"])

    response = await log_in(world, user["email"])

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert datetime.fromisoformat(body["expires_at"]) == clock.now() + timedelta(minutes=settings.token_ttl_minutes)
    who = await me(world, body["access_token"])
    assert who.status_code == 200, who.text
    assert who.json()["id"] == user["id"]
    assert who.json()["roles"] == ["prosecutor", "supervisor"]
    # The token carries the user's rights: a prosecutor can open a case with it.
    case = await world.client.post(
        "/api/v1/cases",
        json={"reference": unique("AUTH"), "title": "t", "offences": [{"description": "d", "max_penalty_years": 3}]},
        headers=bearer(body["access_token"]),
    )
    assert case.status_code == 201, case.text


async def test_email_is_matched_without_regard_to_case(world: World, org: Org) -> None:
    user = await create_user_with_password(world, org, ["auditor"])

    response = await log_in(world, user["email"].upper())

    assert response.status_code == 200, response.text


async def test_an_internationalised_email_logs_in_as_typed(world: World, org: Org) -> None:
    """Stored with its domain as A-labels; the user types it in Unicode, perhaps with stray spaces."""
    local = unique("idn")
    user = await create_user_with_password(world, org, ["prosecutor"], email=f"{local}@Bücher.example")
    assert user["email"] == f"{local}@xn--bcher-kva.example"

    for typed in (f"{local}@bücher.example", f" {local.upper()}@BÜCHER.example ", user["email"]):
        response = await log_in(world, typed)
        assert response.status_code == 200, (typed, response.text)


async def test_wrong_password_and_unknown_email_get_the_same_401(world: World, org: Org) -> None:
    user = await create_user_with_password(world, org, ["prosecutor"])
    token_only = org.members[Role.PROSECUTOR].email  # a user without a password (API token only)

    answers = [
        await log_in(world, user["email"], "not the password"),
        await log_in(world, f"{unique('nobody')}@example.org"),
        await log_in(world, token_only, ""),
        await log_in(world, token_only, PASSWORD),
        await log_in(world, "not an e-mail", PASSWORD),
    ]

    problems = [assert_problem(answer, 401) for answer in answers]
    assert all(problem == problems[0] for problem in problems)
    assert problems[0]["detail"] == REFUSED_LOGIN
    assert all("access_token" not in answer.text for answer in answers)


async def test_the_token_expires_by_the_injected_clock(
    world: World, org: Org, settings: Settings, clock: FixedClock
) -> None:
    user = await create_user_with_password(world, org, ["prosecutor"])
    token = await access_token(world, user["email"])
    ttl = timedelta(minutes=settings.token_ttl_minutes)

    clock.advance(ttl - timedelta(seconds=1))
    assert (await me(world, token)).status_code == 200

    clock.advance(timedelta(seconds=1))
    expired = await me(world, token)
    assert_problem(expired, 401)
    assert expired.headers["www-authenticate"] == "Bearer"

    # A new log-in at the new time works again.
    assert (await me(world, await access_token(world, user["email"]))).status_code == 200


async def test_api_tokens_outlive_access_tokens_until_their_own_expiry(
    world: World, org: Org, clock: FixedClock
) -> None:
    clock.advance(timedelta(days=89))  # the default lifetime is 90 days: tests/users/test_life_cycle.py

    assert (await me(world, org.members[Role.PROSECUTOR].token)).status_code == 200


def _segments(token: str) -> list[str]:
    return token.split(".")


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(token: str) -> dict[str, Any]:
    payload = _segments(token)[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def hs512(claims: dict[str, Any], key: str) -> str:
    with warnings.catch_warnings():  # the test key is short for HS512, which is beside the point
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(claims, key, "HS512")


async def test_tampered_or_forged_tokens_are_refused(world: World, org: Org, settings: Settings) -> None:
    user = await create_user_with_password(world, org, ["prosecutor"])
    admin = await create_user_with_password(world, org, ["admin"])
    token = await access_token(world, user["email"])
    header, payload, signature = _segments(token)
    claims = _claims(token)
    far_future = claims["exp"] + 10 * 365 * 86400

    forgeries = {
        # Someone else's id (an admin's) under the original signature.
        "other subject": ".".join([header, _b64({**claims, "sub": admin["id"]}), signature]),
        "later expiry": ".".join([header, _b64({**claims, "exp": far_future}), signature]),
        "flipped signature": ".".join([header, payload, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")]),
        "no signature": ".".join([header, payload, ""]),
        "alg none": ".".join([_b64({"alg": "none", "typ": "JWT"}), _b64({**claims, "sub": admin["id"]}), ""]),
        "another key": jwt.encode({**claims, "sub": admin["id"]}, "some-other-secret-key-32-chars!!", "HS256"),
        "another algorithm": hs512(claims, settings.secret_key),
        "no expiry": jwt.encode({"sub": claims["sub"]}, settings.secret_key, "HS256"),
        "not a uuid": jwt.encode({**claims, "sub": "admin"}, settings.secret_key, "HS256"),
        "garbage": "not.a.token",
        "api-token lookalike": "mla_" + "x" * 43,
    }
    for name, forged in forgeries.items():
        response = await me(world, forged)
        assert response.status_code == 401, (name, response.text)
        assert_problem(response, 401)
    assert (await me(world, token)).status_code == 200  # the genuine one still works


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token mla_abc"],
)
async def test_requests_without_a_bearer_token_are_401(world: World, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = await world.client.get("/api/v1/auth/me", headers=headers)

    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


async def test_api_tokens_are_stored_only_as_their_digest(world: World, org: Org) -> None:
    token = org.members[Role.PROSECUTOR].token

    async with world.sessionmaker() as session:
        leaks = await session.scalar(
            text("SELECT count(*) FROM api_tokens t WHERE strpos(t::text, :token) > 0"), {"token": token}
        )
        digests = await session.scalar(
            text("SELECT count(*) FROM api_tokens WHERE token_hash = :digest"),
            {"digest": hashlib.sha256(token.encode()).hexdigest()},
        )
        audit_leaks = await session.scalar(
            text("SELECT count(*) FROM audit_events e WHERE strpos(e::text, :token) > 0"), {"token": token}
        )

    assert leaks == 0
    assert digests == 1
    assert audit_leaks == 0


async def test_passwords_are_stored_hashed(world: World, org: Org) -> None:
    user = await create_user_with_password(world, org, ["prosecutor"])

    async with world.sessionmaker() as session:
        stored = await session.scalar(select(User.password_hash).where(User.id == uuid.UUID(user["id"])))
        audit_leaks = await session.scalar(
            text("SELECT count(*) FROM audit_events e WHERE strpos(e::text, :password) > 0"), {"password": PASSWORD}
        )

    assert stored is not None and stored.startswith("$argon2") and PASSWORD not in stored
    assert audit_leaks == 0
    assert "password" not in user and "password_hash" not in user


async def test_a_deactivated_user_is_locked_out(world: World, org: Org) -> None:
    user = await create_user_with_password(world, org, ["prosecutor"])
    jwt_token = await access_token(world, user["email"])
    api_token = org.members[Role.PROSECUTOR].token
    async with world.sessionmaker() as session, session.begin():
        await session.execute(
            update(User)
            .where(User.id.in_([uuid.UUID(user["id"]), org.members[Role.PROSECUTOR].id]))
            .values(active=False)
        )

    assert_problem(await me(world, jwt_token), 401)
    assert_problem(await me(world, api_token), 401)
    login = await log_in(world, user["email"])
    assert assert_problem(login, 401)["detail"] == REFUSED_LOGIN
    assert (await me(world, org.members[Role.AUDITOR].token)).status_code == 200  # colleagues are unaffected


async def test_a_revoked_api_token_is_refused(world: World, org: Org) -> None:
    member = org.members[Role.PROSECUTOR]
    async with world.sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE api_tokens SET revoked_at = now() WHERE user_id = :user"), {"user": member.id}
        )

    assert_problem(await me(world, member.token), 401)


# --------------------------------------------------------------------------- administration


def organisation_body() -> dict[str, Any]:
    return {"name": unique("org"), "kind": "prosecution_service", "country": "FR", "timezone": "Europe/Paris"}


def counterparty_body() -> dict[str, Any]:
    return {"kind": "provider", "name": unique("provider"), "country": "IE", "languages": ["en"]}


def instrument_body() -> dict[str, Any]:
    return {
        "code": unique("t").lower(),
        "title": "A test treaty",
        "citation": "Test Treaty, art. 1",
        "request_types": ["mla"],
    }


async def admin_events(world: World, action: str, actor_id: uuid.UUID) -> list[AuditEvent]:
    """What one administrator did, on whichever administration chain."""
    async with world.sessionmaker() as session:
        query = (
            select(AuditEvent)
            .where(AuditEvent.chain.startswith("admin"), AuditEvent.action == action, AuditEvent.actor_id == actor_id)
            .order_by(AuditEvent.seq)
        )
        return list(await session.scalars(query))


async def test_platform_admin_creates_organisations_first_admins_counterparties_and_instruments_with_audit(
    world: World, org: Org, clock: FixedClock
) -> None:
    headers = org.headers(Role.PLATFORM_ADMIN)
    admin_id = org.members[Role.PLATFORM_ADMIN].id
    client = world.client

    organisation = await client.post("/api/v1/admin/organisations", json=organisation_body(), headers=headers)
    assert organisation.status_code == 201, organisation.text
    organisation_id = organisation.json()["id"]
    user = await client.post(
        "/api/v1/admin/users",
        json={
            "email": f"{unique('new')}@example.org",
            "name": "Nina New",
            "organisation_id": organisation_id,
            "roles": ["admin"],
            "password": PASSWORD,
        },
        headers=headers,
    )
    assert user.status_code == 201, user.text
    assert user.json()["organisation_id"] == organisation_id
    counterparty = await client.post("/api/v1/admin/counterparties", json=counterparty_body(), headers=headers)
    assert counterparty.status_code == 201, counterparty.text
    instrument = await client.post("/api/v1/admin/instruments", json=instrument_body(), headers=headers)
    assert instrument.status_code == 201, instrument.text

    created = {
        "create_organisation": organisation.json(),
        "create_user": user.json(),
        "create_counterparty": counterparty.json(),
        "create_instrument": instrument.json(),
    }
    for action, body in created.items():
        events = await admin_events(world, action, admin_id)
        assert len(events) == 1, action
        event = events[0]
        assert event.changes["after"]["id"] == body["id"]
        assert event.at == clock.now()
        assert event.actor_roles == ["platform_admin"]
        # The first admin opens the new organisation's own chain; the rest is the installation's.
        expected = (f"admin:{organisation_id}", 1) if action == "create_user" else ("admin", event.seq)
        assert (event.chain, event.seq) == expected
    org_event = (await admin_events(world, "create_organisation", admin_id))[0]
    assert org_event.organisation_id == uuid.UUID(organisation_id)

    # The new admin can log in and sees itself among its organisation's users.
    admin_token = await access_token(world, user.json()["email"])
    assert (await me(world, admin_token)).json()["id"] == user.json()["id"]
    listed = await client.get("/api/v1/admin/users", headers=bearer(admin_token))
    assert [item["id"] for item in listed.json()["items"]] == [user.json()["id"]]


@pytest.mark.parametrize("role", [Role.PROSECUTOR, Role.CENTRAL_AUTHORITY, Role.SUPERVISOR, Role.AUDITOR])
async def test_non_admins_get_403_and_nothing_is_created(world: World, org: Org, role: Role) -> None:
    headers = org.headers(role)
    user_body = {
        "email": f"{unique('x')}@example.org",
        "name": "X",
        "organisation_id": str(org.id),
        "roles": ["admin"],
        "password": PASSWORD,
    }
    attempts = [
        ("/api/v1/admin/organisations", organisation_body()),
        ("/api/v1/admin/users", user_body),
        ("/api/v1/admin/counterparties", counterparty_body()),
        ("/api/v1/admin/instruments", instrument_body()),
    ]
    for path, body in attempts:
        assert_problem(await world.client.post(path, json=body, headers=headers), 403)
    for path in ("/api/v1/admin/organisations", "/api/v1/admin/users"):
        assert_problem(await world.client.get(path, headers=headers), 403)
    patch = {"title": "Renamed by a non-admin"}
    assert_problem(await world.client.patch("/api/v1/admin/instruments/eu-epoc", json=patch, headers=headers), 403)
    assert_problem(await log_in(world, user_body["email"]), 401)  # the would-be admin does not exist
    async with world.sessionmaker() as session:
        caused = await session.scalar(select(AuditEvent.id).where(AuditEvent.actor_id == org.members[role].id).limit(1))
    assert caused is None


async def test_admin_endpoints_need_authentication(world: World) -> None:
    response = await world.client.post("/api/v1/admin/organisations", json=organisation_body())

    assert_problem(response, 401)


@pytest.mark.parametrize("path", ["/api/v1/admin/organisations", "/api/v1/admin/users", "/api/v1/queue"])
async def test_options_answers_without_running_the_role_guards(world: World, path: str) -> None:
    """OPTIONS needs no token and lists the methods; the role guards used to read a missing user (a 500)."""
    response = await world.client.options(path)

    assert response.status_code == 204, response.text
    assert "OPTIONS" in response.headers["allow"]
    assert_problem(await world.client.get(path), 401)


async def test_duplicate_organisation_name_is_409(world: World, org: Org) -> None:
    headers = org.headers(Role.PLATFORM_ADMIN)
    body = organisation_body()
    assert (await world.client.post("/api/v1/admin/organisations", json=body, headers=headers)).status_code == 201

    again = await world.client.post("/api/v1/admin/organisations", json={**body, "kind": "court"}, headers=headers)

    assert body["name"] in assert_problem(again, 409)["detail"]
    assert len(await admin_events(world, "create_organisation", org.members[Role.PLATFORM_ADMIN].id)) == 1


async def test_duplicate_email_is_409_whatever_its_case(world: World, org: Org) -> None:
    user = await create_user_with_password(world, org, ["prosecutor"])
    headers = org.headers(Role.ADMIN)

    for email in (user["email"], user["email"].upper()):
        again = await world.client.post(
            "/api/v1/admin/users",
            json={"email": email, "name": "Twin", "organisation_id": str(org.id), "roles": ["auditor"]},
            headers=headers,
        )
        assert user["email"] in assert_problem(again, 409)["detail"]
    assert len(await admin_events(world, "create_user", org.members[Role.ADMIN].id)) == 1
    # The first account is untouched: same roles, same password.
    assert (await me(world, await access_token(world, user["email"]))).json()["roles"] == ["prosecutor"]


async def test_duplicate_counterparty_name_and_instrument_code_are_409(world: World, org: Org) -> None:
    headers = org.headers(Role.PLATFORM_ADMIN)
    for path, body in (("counterparties", counterparty_body()), ("instruments", instrument_body())):
        assert (await world.client.post(f"/api/v1/admin/{path}", json=body, headers=headers)).status_code == 201
        assert_problem(await world.client.post(f"/api/v1/admin/{path}", json=body, headers=headers), 409)
