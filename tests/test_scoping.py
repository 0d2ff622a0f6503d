"""Scoping (SPEC §9, README "Decisions"): one organisation never sees or changes another's cases and requests.

Every route of the app is classified here, from `app.routes`, so a new route cannot go untested:
reads with an id are probed generically, writes with an id need a probe in `WRITE_PROBES`, the
shared catalogue is listed in `SHARED_WITH_ID`, and admin routes are checked for their role guard.
"""

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.audit.models import AuditEvent
from mla.checks.rules import attestable_codes
from mla.enums import OrganisationKind, Role
from mla.users.authentication import PUBLIC_PATHS
from tests.alerts.support import add_notification, arrange_alert
from tests.factories import Org, World, request_body

API = "/api/v1/"
ADMIN = "/api/v1/admin/"
PROBLEM_JSON = "application/problem+json"
IGNORED_METHODS = {"OPTIONS", "HEAD"}
# The roles of an organisation's members; platform admins read no case data at all (403 before any
# lookup): tests/users/test_platform_admins.py and the authorization matrix.
MEMBER_ROLES = [role for role in Role if role is not Role.PLATFORM_ADMIN]

# Routes with an id that every authenticated user may read: the shared catalogue (README).
SHARED_WITH_ID = {
    ("GET", "/api/v1/counterparties/{counterparty_id}"),
    ("GET", "/api/v1/instruments/{code}"),
    ("GET", "/api/v1/deadline-rules/{code}"),
    ("GET", "/api/v1/treaties/{code}"),
}


def patch_body(scene: "Scene") -> dict[str, Any]:
    return {"version": 1, "facts": "Overwritten by a stranger.", "counterparty_references": ["STOLEN-1"]}


@dataclass(frozen=True)
class Probe:
    """A write that would succeed for the owner's prosecutor (or, `by_authority`, for the
    responsible central authority's officer): extra path values and a body."""

    values: dict[str, str]
    body: dict[str, Any]
    by_authority: bool = False


async def transmitted(world: World, scene: "Scene") -> dict[str, str]:
    """Organisation A's own transmitted request (evidence needs one): its id for the probe's path."""
    draft = await world.request(scene.owner, scene.case, scene.provider)
    return {"request_id": (await world.walk_to_transmitted(scene.owner, scene.ca, draft))["id"]}


async def production_probe(world: World, scene: "Scene") -> Probe:
    values = await transmitted(world, scene)
    response = await world.client.post(
        f"/api/v1/requests/{values['request_id']}/productions",
        json=production_body(world),
        headers=scene.owner.headers(),
    )
    assert response.status_code == 201, response.text
    custody = {"at": world.clock.now().isoformat(), "kind": "sealed", "holder": "Evidence room"}
    return Probe(values | {"production_id": response.json()["id"]}, custody)


async def evidence_probe(world: World, scene: "Scene") -> Probe:
    return Probe(await transmitted(world, scene), production_body(world))


def production_body(world: World) -> dict[str, Any]:
    return {
        "received_at": world.clock.now().isoformat(),
        "description": "Subscriber records",
        "size_bytes": 1024,
        "sha256": "ab" * 32,
        "format": "csv",
    }


async def fixed(probe: Probe) -> Probe:
    return probe


async def notification_probe(world: World, scene: "Scene") -> Probe:
    """A notification of organisation A's request for its prosecutor (as the alert scan writes it)."""
    alert_id = await arrange_alert(world.sessionmaker, world.clock, scene.request["id"])
    prosecutor = scene.owner.members[Role.PROSECUTOR].id
    notification_id = await add_notification(
        world.sessionmaker, world.clock, alert_id, scene.request["id"], prosecutor, "Overdue"
    )
    return Probe({"notification_id": str(notification_id)}, {})


async def closable_case_probe(world: World, scene: "Scene") -> Probe:
    """Another case of organisation A, with no request yet: one its owner may close."""
    case = await world.case(scene.owner)
    return Probe({"case_id": case["id"]}, {"version": case["version"]})


# Writes on organisation A's objects, by (method, path): each prepares what it needs and returns a
# body the owner's prosecutor could send successfully, so a stranger's 404 is about scope only.
WRITE_PROBES: dict[tuple[str, str], Callable[[World, "Scene"], Awaitable[Probe]]] = {
    ("PATCH", "/api/v1/requests/{request_id}"): lambda w, s: fixed(Probe({}, patch_body(s))),
    ("POST", "/api/v1/requests/{request_id}/actions/{action}"): lambda w, s: fixed(
        Probe({"action": "submit"}, {"version": 1})
    ),
    ("POST", "/api/v1/requests/{request_id}/assign"): lambda w, s: fixed(
        Probe({}, {"version": 1, "user_id": str(s.owner.members[Role.PROSECUTOR].id)})
    ),
    ("POST", "/api/v1/requests/{request_id}/productions"): evidence_probe,
    ("POST", "/api/v1/requests/{request_id}/productions/{production_id}/custody"): production_probe,
    ("POST", "/api/v1/requests/{request_id}/checks/{code}/attestation"): lambda w, s: fixed(
        Probe({"code": min(attestable_codes())}, {"outcome": "pass", "reason": "Judged fine."}, by_authority=True)
    ),
    ("POST", "/api/v1/notifications/{notification_id}/read"): notification_probe,
    ("PATCH", "/api/v1/cases/{case_id}"): lambda w, s: fixed(Probe({}, {"version": 1, "title": "Edited title"})),
    ("POST", "/api/v1/cases/{case_id}/close"): closable_case_probe,
    ("POST", "/api/v1/requests/{request_id}/communications"): lambda w, s: fixed(
        Probe(
            {},
            {"kind": "letter", "direction": "sent", "occurred_at": w.clock.now().isoformat(), "summary": "Sent."},
        )
    ),
}

# Path parameters naming one of organisation A's objects, read generically by GET probes.
SCOPED_PARAMETERS = {"request_id", "case_id"}


@dataclass
class Scene:
    """Organisation A (a prosecution service under central authority `ca`) with a case and a
    draft request; organisation B with its own case and request; and an unrelated authority."""

    ca: Org
    owner: Org
    stranger: Org
    other_ca: Org
    provider: uuid.UUID
    case: dict[str, Any]
    request: dict[str, Any]
    stranger_case: dict[str, Any]
    stranger_request: dict[str, Any]

    @property
    def ids(self) -> dict[str, str]:
        return {"request_id": self.request["id"], "case_id": self.case["id"]}


async def make_scene(world: World) -> Scene:
    ca = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    owner = await world.organisation(central_authority=ca)
    stranger = await world.organisation()
    other_ca = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    provider = await world.counterparty()
    case = await world.case(owner)
    request = await world.request(owner, case, provider, counterparty_references=["TICKET-A-4711"])
    stranger_case = await world.case(stranger)
    stranger_request = await world.request(stranger, stranger_case, provider)
    return Scene(ca, owner, stranger, other_ca, provider, case, request, stranger_case, stranger_request)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # path_format: "/api/v1/requests/{request_id}"
    parameters: frozenset[str]

    def url(self, values: dict[str, str]) -> str:
        return self.path.format(**values)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def endpoints(app: Litestar) -> list[Endpoint]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path_format.startswith(API):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - IGNORED_METHODS):
                found.append(Endpoint(method, route.path_format, frozenset(route.path_parameters)))
    return found


def is_public(endpoint: Endpoint) -> bool:
    return any(re.search(pattern, endpoint.path) for pattern in PUBLIC_PATHS)


def scoped_endpoints(app: Litestar) -> list[Endpoint]:
    """Non-admin routes naming one of organisation A's objects."""
    return [
        e
        for e in endpoints(app)
        if e.parameters and not e.path.startswith(ADMIN) and (e.method, e.path) not in SHARED_WITH_ID
    ]


def admin_endpoints(app: Litestar) -> list[Endpoint]:
    return [e for e in endpoints(app) if e.path.startswith(ADMIN)]


def placeholder_url(endpoint: Endpoint) -> str:
    return endpoint.url({name: str(uuid.uuid4()) for name in endpoint.parameters})


def assert_problem(response: httpx.Response, status: int, context: str = "") -> None:
    assert response.status_code == status, f"{context}: {response.status_code} {response.text}"
    assert response.headers["content-type"].startswith(PROBLEM_JSON), context
    body = response.json()
    assert body["status"] == status, context
    assert {"type", "title", "detail"} <= set(body), context


async def audit_count(sessionmaker: async_sessionmaker[AsyncSession], chain: str) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).where(AuditEvent.chain == chain)) or 0)


async def owners_view(world: World, app: Litestar, scene: Scene) -> list[Any]:
    """Everything a write could have changed, as the owner's prosecutor reads it."""
    view: list[Any] = [
        await audit_count(world.sessionmaker, f"request:{scene.request['id']}"),
        await audit_count(world.sessionmaker, f"case:{scene.case['id']}"),
    ]
    for endpoint in scoped_endpoints(app):
        if endpoint.method == "GET" and endpoint.parameters <= SCOPED_PARAMETERS:
            response = await world.client.get(endpoint.url(scene.ids), headers=scene.owner.headers())
            view.append((str(endpoint), response.status_code, response.json()))
    return view


async def prepared_writes(world: World, app: Litestar, scene: Scene) -> list[tuple[Endpoint, str, Probe]]:
    """Every write route with an id, its URL on organisation A's objects and a valid body."""
    writes = []
    for endpoint in (e for e in scoped_endpoints(app) if e.method != "GET"):
        if (endpoint.method, endpoint.path) not in WRITE_PROBES:
            continue  # reported by test_every_non_admin_route_with_an_id_is_covered_by_a_scoping_probe
        probe = await WRITE_PROBES[(endpoint.method, endpoint.path)](world, scene)
        writes.append((endpoint, endpoint.url({**scene.ids, **probe.values}), probe))
    return writes


# --- the route inventory ------------------------------------------------------------------------


async def test_every_non_admin_route_with_an_id_is_covered_by_a_scoping_probe(app: Litestar) -> None:
    uncovered = []
    for endpoint in scoped_endpoints(app):
        unknown = endpoint.parameters - SCOPED_PARAMETERS
        if endpoint.method == "GET" and unknown:
            uncovered.append(f"{endpoint} (no organisation-A value for path parameter(s) {sorted(unknown)})")
        elif endpoint.method != "GET" and (endpoint.method, endpoint.path) not in WRITE_PROBES:
            uncovered.append(f"{endpoint} (a write: add a body to WRITE_PROBES)")
    assert not uncovered, (
        "Routes not covered by tests/test_scoping.py; add them to SCOPED_PARAMETERS / WRITE_PROBES, "
        "or to SHARED_WITH_ID if every user may read them:\n  " + "\n  ".join(uncovered)
    )


async def test_the_route_inventory_sees_the_known_routes(app: Litestar) -> None:
    found = {(e.method, e.path) for e in scoped_endpoints(app)}
    assert {
        ("GET", "/api/v1/requests/{request_id}"),
        ("PATCH", "/api/v1/requests/{request_id}"),
        ("GET", "/api/v1/cases/{case_id}"),
    } <= found
    assert ("POST", "/api/v1/admin/organisations") in {(e.method, e.path) for e in admin_endpoints(app)}


# --- another organisation: 404 for everything ---------------------------------------------------


@pytest.mark.parametrize("role", MEMBER_ROLES)
async def test_another_organisation_gets_404_on_every_read_of_our_objects(
    world: World, app: Litestar, role: Role
) -> None:
    scene = await make_scene(world)
    reads = [e for e in scoped_endpoints(app) if e.method == "GET"]
    assert reads
    for endpoint in reads:
        url = endpoint.url(scene.ids)
        response = await world.client.get(url, headers=scene.stranger.headers(role))
        assert_problem(response, 404, f"{role} of another organisation: GET {url}")


async def test_every_scoped_read_answers_the_owner(world: World, app: Litestar) -> None:
    """The probes above are meaningful: the same URLs do answer someone in organisation A."""
    scene = await make_scene(world)
    for endpoint in (e for e in scoped_endpoints(app) if e.method == "GET"):
        statuses = []
        for role in MEMBER_ROLES:
            response = await world.client.get(endpoint.url(scene.ids), headers=scene.owner.headers(role))
            statuses.append(response.status_code)
        assert 200 in statuses, f"no role of the owner can read {endpoint}: {statuses}"


async def test_another_organisations_object_and_a_missing_one_answer_the_same(world: World, app: Litestar) -> None:
    scene = await make_scene(world)
    for endpoint in (e for e in scoped_endpoints(app) if e.method == "GET"):
        foreign = await world.client.get(endpoint.url(scene.ids), headers=scene.stranger.headers())
        missing = await world.client.get(placeholder_url(endpoint), headers=scene.stranger.headers())
        assert foreign.status_code == missing.status_code == 404, str(endpoint)
        assert foreign.json()["detail"] == missing.json()["detail"], str(endpoint)


@pytest.mark.parametrize("role", MEMBER_ROLES)
async def test_another_organisation_gets_404_on_every_write_and_nothing_changes(
    world: World, app: Litestar, role: Role
) -> None:
    scene = await make_scene(world)
    writes = await prepared_writes(world, app, scene)
    before = await owners_view(world, app, scene)

    for endpoint, url, probe in writes:
        response = await world.client.request(
            endpoint.method, url, json=probe.body, headers=scene.stranger.headers(role)
        )
        assert_problem(response, 404, f"{role} of another organisation: {endpoint.method} {url}")

    assert await owners_view(world, app, scene) == before


async def test_write_probes_would_succeed_for_the_owner(world: World, app: Litestar) -> None:
    """The bodies in WRITE_PROBES are valid, so the 404s above are about scope, not input."""
    for key, make_probe in WRITE_PROBES.items():
        scene = await make_scene(world)
        endpoint = next((e for e in scoped_endpoints(app) if (e.method, e.path) == key), None)
        assert endpoint is not None, f"WRITE_PROBES names a route the app does not have: {key}"
        probe = await make_probe(world, scene)
        headers = scene.ca.headers(Role.CENTRAL_AUTHORITY) if probe.by_authority else scene.owner.headers()
        url = endpoint.url({**scene.ids, **probe.values})
        response = await world.client.request(endpoint.method, url, json=probe.body, headers=headers)
        assert 200 <= response.status_code < 300, f"{endpoint}: {response.status_code} {response.text}"


async def test_patch_with_if_match_by_another_organisation_is_404_and_changes_nothing(
    world: World, app: Litestar
) -> None:
    scene = await make_scene(world)
    before = await owners_view(world, app, scene)

    response = await world.client.patch(
        f"/api/v1/requests/{scene.request['id']}",
        json={"priority": 9},
        headers={**scene.stranger.headers(Role.CENTRAL_AUTHORITY), "If-Match": "1"},
    )

    assert_problem(response, 404)
    assert await owners_view(world, app, scene) == before


# --- lists and filters --------------------------------------------------------------------------


@pytest.mark.parametrize("role", MEMBER_ROLES)
async def test_lists_never_contain_another_organisations_rows(world: World, role: Role) -> None:
    scene = await make_scene(world)
    headers = scene.stranger.headers(role)

    requests = await world.client.get("/api/v1/requests", params={"limit": 200}, headers=headers)
    cases = await world.client.get("/api/v1/cases", params={"limit": 200}, headers=headers)

    assert requests.status_code == 200 and cases.status_code == 200
    request_ids = {item["id"] for item in requests.json()["items"]}
    case_ids = {item["id"] for item in cases.json()["items"]}
    assert scene.request["id"] not in request_ids
    assert scene.case["id"] not in case_ids
    # The stranger does see its own: the lists are not empty for some other reason.
    assert request_ids == {scene.stranger_request["id"]}
    assert case_ids == {scene.stranger_case["id"]}


@pytest.mark.parametrize(
    "params",
    [
        pytest.param(lambda s: {"case": s.case["id"]}, id="case"),
        pytest.param(lambda s: {"q": s.request["reference"]}, id="q-reference"),
        pytest.param(lambda s: {"q": s.request["reference"][-6:]}, id="q-reference-number"),
        pytest.param(lambda s: {"q": "TICKET-A-4711"}, id="q-counterparty-reference"),
        pytest.param(lambda s: {"q": s.request["reference"], "case": s.case["id"], "status": "draft"}, id="combined"),
        pytest.param(lambda s: {"assignee": str(s.owner.members[Role.PROSECUTOR].id)}, id="assignee"),
    ],
)
async def test_filters_reveal_nothing_of_another_organisation(world: World, params: Any) -> None:
    scene = await make_scene(world)
    query = params(scene)

    for role in MEMBER_ROLES:
        response = await world.client.get("/api/v1/requests", params=query, headers=scene.stranger.headers(role))
        assert response.status_code == 200, response.text
        assert response.json() == {"items": [], "next_cursor": None}, role
    # The owner's filter finds it: the filter itself works.
    owner = await world.client.get("/api/v1/requests", params=query, headers=scene.owner.headers())
    if "assignee" not in query:
        assert [item["id"] for item in owner.json()["items"]] == [scene.request["id"]]


async def test_filter_by_a_shared_target_shows_only_our_requests(world: World) -> None:
    scene = await make_scene(world)

    response = await world.client.get(
        "/api/v1/requests", params={"target": str(scene.provider)}, headers=scene.stranger.headers()
    )

    assert [item["id"] for item in response.json()["items"]] == [scene.stranger_request["id"]]


async def test_a_request_cannot_be_filed_into_another_organisations_case(world: World) -> None:
    scene = await make_scene(world)
    now = world.clock.now()

    for role in (Role.PROSECUTOR, Role.CENTRAL_AUTHORITY):
        foreign = await world.client.post(
            "/api/v1/requests",
            json=request_body(scene.case["id"], scene.provider, now),
            headers=scene.stranger.headers(role),
        )
        missing = await world.client.post(
            "/api/v1/requests",
            json=request_body(str(uuid.uuid4()), scene.provider, now),
            headers=scene.stranger.headers(role),
        )
        assert_problem(foreign, 422, str(role))
        # Indistinguishable from a case that does not exist.
        assert foreign.json() == missing.json()
    # A central authority cannot file into a case of an organisation it is responsible for either.
    routed = await world.client.post(
        "/api/v1/requests",
        json=request_body(scene.case["id"], scene.provider, now),
        headers=scene.ca.headers(Role.CENTRAL_AUTHORITY),
    )
    assert_problem(routed, 422)
    in_case = await world.client.get(
        "/api/v1/requests", params={"case": scene.case["id"]}, headers=scene.owner.headers()
    )
    assert [item["id"] for item in in_case.json()["items"]] == [scene.request["id"]]
    assert await audit_count(world.sessionmaker, f"case:{scene.case['id']}") == 1


# --- the responsible central authority ----------------------------------------------------------


@pytest.mark.parametrize("role", [Role.CENTRAL_AUTHORITY, Role.PROSECUTOR, Role.SUPERVISOR, Role.AUDITOR])
async def test_responsible_central_authority_sees_the_request_and_its_case(world: World, role: Role) -> None:
    scene = await make_scene(world)
    headers = scene.ca.headers(role)

    one = await world.client.get(f"/api/v1/requests/{scene.request['id']}", headers=headers)
    listed = await world.client.get("/api/v1/requests", headers=headers)
    found = await world.client.get("/api/v1/requests", params={"q": "TICKET-A-4711"}, headers=headers)
    case = await world.client.get(f"/api/v1/cases/{scene.case['id']}", headers=headers)
    cases = await world.client.get("/api/v1/cases", headers=headers)

    assert one.status_code == 200 and one.json() == scene.request
    assert [item["id"] for item in listed.json()["items"]] == [scene.request["id"]]
    assert [item["id"] for item in found.json()["items"]] == [scene.request["id"]]
    assert case.status_code == 200 and case.json()["id"] == scene.case["id"]
    assert [item["id"] for item in cases.json()["items"]] == [scene.case["id"]]


async def test_responsible_central_authority_reaches_every_scoped_read(world: World, app: Litestar) -> None:
    """What the authority may see, it may see everywhere: no sub-resource answers it 404."""
    scene = await make_scene(world)
    for endpoint in (e for e in scoped_endpoints(app) if e.method == "GET"):
        statuses = []
        for role in MEMBER_ROLES:
            response = await world.client.get(endpoint.url(scene.ids), headers=scene.ca.headers(role))
            statuses.append(response.status_code)
        assert 200 in statuses and 404 not in statuses, f"{endpoint}: {statuses}"


@pytest.mark.parametrize("role", MEMBER_ROLES)
async def test_responsible_central_authority_cannot_edit_the_request(world: World, app: Litestar, role: Role) -> None:
    scene = await make_scene(world)
    before = await owners_view(world, app, scene)

    response = await world.client.patch(
        f"/api/v1/requests/{scene.request['id']}", json=patch_body(scene), headers=scene.ca.headers(role)
    )

    # Every role of the authority sees the request, so a 403 tells it nothing new.
    assert_problem(response, 403, str(role))
    assert await owners_view(world, app, scene) == before


@pytest.mark.parametrize("role", MEMBER_ROLES)
async def test_another_central_authority_sees_nothing(world: World, app: Litestar, role: Role) -> None:
    scene = await make_scene(world)
    headers = scene.other_ca.headers(role)
    before = await owners_view(world, app, scene)

    for endpoint in (e for e in scoped_endpoints(app) if e.method == "GET"):
        assert_problem(await world.client.get(endpoint.url(scene.ids), headers=headers), 404, str(endpoint))
    patched = await world.client.patch(
        f"/api/v1/requests/{scene.request['id']}", json=patch_body(scene), headers=headers
    )
    listed = await world.client.get("/api/v1/requests", params={"q": scene.request["reference"]}, headers=headers)
    cases = await world.client.get("/api/v1/cases", headers=headers)

    assert_problem(patched, 404)
    assert listed.json()["items"] == []
    assert cases.json()["items"] == []
    assert await owners_view(world, app, scene) == before


async def test_admin_of_the_owning_organisation_sees_its_own_data_only_through_scope(world: World) -> None:
    scene = await make_scene(world)

    own = await world.client.get(f"/api/v1/requests/{scene.request['id']}", headers=scene.owner.headers(Role.ADMIN))
    foreign = await world.client.get(
        f"/api/v1/requests/{scene.request['id']}", headers=scene.stranger.headers(Role.ADMIN)
    )
    listed = await world.client.get("/api/v1/requests", headers=scene.stranger.headers(Role.ADMIN))

    assert own.status_code == 200
    assert_problem(foreign, 404)
    assert scene.request["id"] not in {item["id"] for item in listed.json()["items"]}


async def test_owners_read_only_roles_cannot_edit(world: World, app: Litestar) -> None:
    scene = await make_scene(world)
    before = await owners_view(world, app, scene)

    for role in (Role.AUDITOR, Role.SUPERVISOR, Role.ADMIN):
        response = await world.client.patch(
            f"/api/v1/requests/{scene.request['id']}", json=patch_body(scene), headers=scene.owner.headers(role)
        )
        assert_problem(response, 403, str(role))
    assert await owners_view(world, app, scene) == before


# --- authentication and role guards -------------------------------------------------------------


def bad_tokens(secret: str) -> dict[str, dict[str, str | bytes]]:
    now = datetime.now(UTC)
    forged = jwt.encode({"sub": str(uuid.uuid4()), "exp": int((now + timedelta(hours=1)).timestamp())}, "x" * 32)
    unknown_user = jwt.encode({"sub": str(uuid.uuid4()), "exp": int((now + timedelta(days=3650)).timestamp())}, secret)
    return {
        "none": {},
        "empty bearer": {"Authorization": "Bearer "},
        "basic scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
        "garbage": {"Authorization": "Bearer garbage"},
        "unknown api token": {"Authorization": "Bearer mla_" + "A" * 43},
        "jwt with another key": {"Authorization": f"Bearer {forged}"},
        "jwt of an unknown user": {"Authorization": f"Bearer {unknown_user}"},
        "non-ascii": {"Authorization": "Bearer ünïcode".encode()},
    }


async def test_every_non_public_route_needs_a_valid_token(world: World, app: Litestar) -> None:
    scene = await make_scene(world)
    writes = {(e.method, e.path): (url, probe) for e, url, probe in await prepared_writes(world, app, scene)}
    before = await owners_view(world, app, scene)
    protected = [e for e in endpoints(app) if not is_public(e)]
    assert len(protected) >= 10

    for name, headers in bad_tokens(app.state.settings.secret_key).items():
        for endpoint in protected:
            values = {**{p: str(uuid.uuid4()) for p in endpoint.parameters}, **scene.ids}
            url, probe = writes.get((endpoint.method, endpoint.path), (endpoint.url(values), Probe({}, {})))
            response = await world.client.request(endpoint.method, url, json=probe.body, headers=headers)
            assert_problem(response, 401, f"{name}: {endpoint}")
            assert response.headers.get("www-authenticate") == "Bearer", f"{name}: {endpoint}"
    assert await owners_view(world, app, scene) == before


async def test_an_expired_access_token_is_refused(world: World, app: Litestar) -> None:
    org = await world.organisation()
    past = world.clock.now() - timedelta(hours=2)
    token = jwt.encode(
        {
            "sub": str(org.members[Role.PROSECUTOR].id),
            "iat": int(past.timestamp()),
            "exp": int((past + timedelta(hours=1)).timestamp()),
        },
        app.state.settings.secret_key,
        algorithm="HS256",
    )

    response = await world.client.get("/api/v1/requests", headers={"Authorization": f"Bearer {token}"})

    assert_problem(response, 401)


@pytest.mark.parametrize("role", [Role.PROSECUTOR, Role.CENTRAL_AUTHORITY, Role.SUPERVISOR, Role.AUDITOR])
async def test_only_admins_reach_admin_routes(world: World, app: Litestar, role: Role) -> None:
    org = await world.organisation()
    routes = admin_endpoints(app)
    assert routes

    for endpoint in routes:
        response = await world.client.request(
            endpoint.method, placeholder_url(endpoint), json={}, headers=org.headers(role)
        )
        assert_problem(response, 403, f"{role}: {endpoint}")


async def test_admin_routes_answer_admins(world: World) -> None:
    """The 403s above come from the guard: the same routes let an administrator through."""
    org = await world.organisation()

    users = await world.client.get("/api/v1/admin/users", headers=org.headers(Role.ADMIN))
    organisations = await world.client.get("/api/v1/admin/organisations", headers=org.headers(Role.PLATFORM_ADMIN))

    assert (users.status_code, organisations.status_code) == (200, 200)
