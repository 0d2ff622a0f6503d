"""Input validation of administration and log-in, through the API (SPEC §4, §9, §11).

Organisations, users and counterparties are refused with an RFC 9457 problem naming the field
(422), never a 500, and a refused write creates nothing and records no audit event.
"""

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mla.audit.models import AuditEvent
from mla.counterparties.models import Counterparty
from mla.enums import Role
from mla.organisations.models import Organisation
from mla.users.models import User
from tests.factories import Org, World, unique

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
ABSENT = object()  # a key to leave out of the body


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    """The response is a problem of `status`; a 422 lists its errors, naming `field` if given."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys()
    assert problem["status"] == status
    if status == 422:
        assert problem["errors"], problem
        assert field is None or field in [error["field"] for error in problem["errors"]], problem
    return problem


def with_changes(body: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    body = {**body, **changes}
    return {name: value for name, value in body.items() if value is not ABSENT}


@dataclass
class Admin:
    """The organisation's admin for its users, its platform admin for the installation's routes."""

    world: World
    org: Org

    def headers(self, path: str) -> dict[str, str]:
        """`path` as posted (`users`) or as read (`/api/v1/admin/users?...`)."""
        route = path.removeprefix("/api/v1/admin/")
        installation = not route.startswith(("users", "/"))
        return self.org.headers(Role.PLATFORM_ADMIN if installation else Role.ADMIN)

    async def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.world.client.post(f"/api/v1/admin/{path}", json=body, headers=self.headers(path))

    async def count(self, query: Any) -> int:
        async with self.world.sessionmaker() as session:
            return await session.scalar(select(func.count()).select_from(query.subquery())) or 0

    async def audit_events(self) -> int:
        """The events these administrators have caused."""
        actors = [self.org.members[Role.ADMIN].id, self.org.members[Role.PLATFORM_ADMIN].id]
        return await self.count(select(AuditEvent.id).where(AuditEvent.actor_id.in_(actors)))


@pytest.fixture
async def admin(world: World) -> Admin:
    return Admin(world, await world.organisation())


# --- organisations ----------------------------------------------------------------------------


def organisation_body() -> dict[str, Any]:
    return {"name": unique("org"), "kind": "prosecution_service", "country": "DE", "timezone": "Europe/Berlin"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"kind": "army"}, "kind", id="unknown kind"),
        pytest.param({"kind": None}, "kind", id="null kind"),
        pytest.param({"country": "XX"}, "country", id="unassigned country code"),
        pytest.param({"country": "GBR"}, "country", id="alpha-3 country code"),
        pytest.param({"country": "G1"}, "country", id="country with a digit"),
        pytest.param({"country": ""}, "country", id="empty country"),
        pytest.param({"country": 49}, "country", id="number for a country"),
        pytest.param({"timezone": "Mars/Olympus"}, "timezone", id="unknown time zone"),
        pytest.param({"timezone": "europe/berlin"}, "timezone", id="mis-cased time zone"),
        pytest.param({"timezone": "localtime"}, "timezone", id="host-dependent time zone"),
        pytest.param({"timezone": "+02:00"}, "timezone", id="offset instead of a zone"),
        pytest.param({"timezone": "Europe/\x00"}, "timezone", id="NUL in time zone"),
        pytest.param({"name": "x" * 201}, "name", id="name of 201 characters"),
        pytest.param({"name": "   "}, "name", id="blank name"),
        pytest.param({"name": "Parquet\x00"}, "name", id="NUL in name"),
        pytest.param({"name": ABSENT}, "name", id="missing name"),
        pytest.param({"central_authority_id": UNKNOWN_ID}, "central_authority_id", id="unknown central authority"),
        pytest.param({"colour": "red"}, "colour", id="unknown field"),
    ],
)
async def test_invalid_organisation_is_refused_naming_the_field_and_creates_nothing(
    admin: Admin, changes: dict[str, Any], field: str
) -> None:
    body = with_changes(organisation_body(), changes)
    events = await admin.audit_events()

    response = await admin.post("organisations", body)

    assert_problem(response, 422, field)
    if isinstance(body.get("name"), str) and "\x00" not in body["name"]:  # PostgreSQL cannot even look for NUL
        assert await admin.count(select(Organisation.id).where(Organisation.name == body["name"])) == 0
    assert await admin.audit_events() == events


@pytest.mark.parametrize(
    ("changes", "stored"),
    [
        ({"country": "gb", "timezone": "Europe/London"}, {"country": "GB", "timezone": "Europe/London"}),
        ({"country": "De", "timezone": "UTC"}, {"country": "DE", "timezone": "UTC"}),
        ({"country": "AR", "timezone": "America/Argentina/Buenos_Aires"}, {"country": "AR"}),
    ],
)
async def test_organisation_country_is_upper_cased_and_iana_zones_are_accepted(
    admin: Admin, changes: dict[str, Any], stored: dict[str, Any]
) -> None:
    response = await admin.post("organisations", with_changes(organisation_body(), changes))

    assert response.status_code == 201, response.text
    assert stored.items() <= response.json().items()


# --- counterparties ---------------------------------------------------------------------------


def counterparty_body() -> dict[str, Any]:
    return {"kind": "provider", "name": unique("provider"), "country": "US"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"kind": "pirate"}, "kind", id="unknown kind"),
        pytest.param({"country": "XX"}, "country", id="unassigned country code"),
        pytest.param({"country": "usa"}, "country", id="alpha-3 country code"),
        pytest.param({"request_types": ["mla", "bogus"]}, "request_types[1]", id="unknown request type"),
        pytest.param({"retention_days": {"dna": 90}}, "retention_days", id="unknown data category"),
        pytest.param({"retention_days": {"content": -1}}, "retention_days[...]", id="negative retention"),
        pytest.param({"languages": ["english"]}, "languages[0]", id="language not an ISO 639 code"),
        pytest.param({"portal_url": "ftp://portal.example.com"}, "portal_url", id="portal not http(s)"),
        pytest.param({"name": "x" * 201}, "name", id="name of 201 characters"),
        pytest.param({"emergency_policy": "x" * 20_001}, "emergency_policy", id="policy of 20,001 characters"),
        pytest.param({"contact_24_7": "\x00"}, "contact_24_7", id="NUL in contact"),
    ],
)
async def test_invalid_counterparty_is_refused_naming_the_field_and_creates_nothing(
    admin: Admin, changes: dict[str, Any], field: str
) -> None:
    body = with_changes(counterparty_body(), changes)
    events = await admin.audit_events()

    response = await admin.post("counterparties", body)

    assert_problem(response, 422, field)
    assert await admin.count(select(Counterparty.id).where(Counterparty.name == body["name"])) == 0
    assert await admin.audit_events() == events


async def test_counterparty_country_is_upper_cased(admin: Admin) -> None:
    response = await admin.post("counterparties", {**counterparty_body(), "kind": "state", "country": "gb"})

    assert response.status_code == 201, response.text
    assert response.json()["country"] == "GB"


# --- users ------------------------------------------------------------------------------------


def user_body(admin: Admin) -> dict[str, Any]:
    return {
        "email": f"{unique('user')}@example.org",
        "name": "Avery Analyst",
        "organisation_id": str(admin.org.id),
        "roles": ["prosecutor"],
        "password": "correct horse battery",
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"roles": ["prosecutor", "king"]}, "roles[1]", id="unknown role"),
        pytest.param({"roles": []}, "roles", id="no role"),
        pytest.param({"email": "two@@example.org"}, "email", id="two @"),
        pytest.param({"email": "someone@localhost"}, "email", id="single-label domain"),
        pytest.param({"email": "someone@-bad-.org"}, "email", id="malformed domain"),
        pytest.param({"password": "short"}, "password", id="password of 5 characters"),
        pytest.param({"name": "x" * 201}, "name", id="name of 201 characters"),
        pytest.param({"organisation_id": "org-1"}, "organisation_id", id="organisation id not a UUID"),
        pytest.param({"organisation_id": UNKNOWN_ID}, "organisation_id", id="unknown organisation"),
    ],
)
async def test_invalid_user_is_refused_naming_the_field_and_creates_nothing(
    admin: Admin, changes: dict[str, Any], field: str
) -> None:
    body = with_changes(user_body(admin), changes)
    events = await admin.audit_events()

    response = await admin.post("users", body)

    assert_problem(response, 422, field)
    assert await admin.count(select(User.id).where(User.email == body["email"].lower())) == 0
    assert await admin.audit_events() == events


async def test_user_email_domain_is_lower_cased(admin: Admin) -> None:
    local = unique("user")

    response = await admin.post("users", {**user_body(admin), "email": f"{local}@Example.ORG"})

    assert response.status_code == 201, response.text
    assert response.json()["email"] == f"{local}@example.org"


# --- instruments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"code": "EU EPOC"}, "code", id="code with capitals and a space"),
        pytest.param({"request_types": ["bogus"]}, "request_types[0]", id="unknown request type"),
        pytest.param({"directions": ["sideways"]}, "directions[0]", id="unknown direction"),
        pytest.param({"target_kinds": ["pirate"]}, "target_kinds[0]", id="unknown target kind"),
        pytest.param({"data_categories": ["dna"]}, "data_categories[0]", id="unknown data category"),
        pytest.param({"preservation_days": 0}, "preservation_days", id="zero preservation days"),
    ],
)
async def test_invalid_instrument_is_refused_naming_the_field(
    admin: Admin, changes: dict[str, Any], field: str
) -> None:
    code = f"test-{uuid.uuid4().hex[:8]}"
    body = {"code": code, "title": "Test treaty", "citation": "Art. 1", "request_types": ["mla"]}

    response = await admin.post("instruments", with_changes(body, changes))

    assert_problem(response, 422, field)


# --- administration is checked for the role before the body ------------------------------------


async def test_a_non_administrator_gets_403_even_for_an_invalid_body(admin: Admin) -> None:
    response = await admin.world.client.post(
        "/api/v1/admin/organisations", json={"country": "XX"}, headers=admin.org.headers(Role.PROSECUTOR)
    )

    assert_problem(response, 403)


# --- list parameters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/admin/organisations?limit=0", "limit"),
        ("/api/v1/admin/organisations?limit=201", "limit"),
        ("/api/v1/admin/organisations?cursor=not-a-cursor", "cursor"),
        ("/api/v1/admin/users?cursor=not-a-cursor", "cursor"),
        ("/api/v1/admin/users?limit=0", "limit"),
        ("/api/v1/counterparties?kind=pirate", "kind"),
        ("/api/v1/counterparties?limit=201", "limit"),
        ("/api/v1/cases?limit=0", "limit"),
        ("/api/v1/cases?cursor=eyJ4IjoxfQ", "cursor"),
    ],
)
async def test_invalid_list_parameter_is_a_422_naming_it(admin: Admin, path: str, field: str) -> None:
    response = await admin.world.client.get(path, headers=admin.headers(path))

    assert_problem(response, 422, field)


# --- log-in -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        pytest.param({"email": "someone\x00@example.org", "password": "x"}, 422, "email", id="NUL in e-mail"),
        pytest.param({"email": "x" * 255, "password": "x"}, 422, "email", id="e-mail of 255 characters"),
        pytest.param({"email": "someone@example.org"}, 422, "password", id="no password"),
        pytest.param({"email": "nobody@example.org", "password": "wrong password"}, 401, None, id="unknown user"),
    ],
)
async def test_token_request_is_refused_with_a_problem_never_a_500(
    world: World, body: dict[str, Any], status: int, field: str | None
) -> None:
    response = await world.client.post("/api/v1/auth/token", json=body)

    assert_problem(response, status, field)
