"""Authorization matrix (SPEC §4 roles, §9; README "Decisions"): every route × every role × context.

The routes come from the application itself, so a new route is covered automatically: a (method,
path) without an entry in `tests/authorization_routes.MATRIX` fails its test, naming what to add.
Only the API docs (`/schema…`), `/health/…` and `/metrics` are left out; they are public, and
`test_public_routes_need_no_token` checks that.

For each route and role (and anonymous), from both sides of the test's own pair (the owning
prosecution service and its central authority), the test asserts:
- OWN context: the allowed roles get the route's success status, the others 403;
- FOREIGN context (object routes): 404, with the same problem details as an object that does not
  exist (never 403), unless the role is refused by a role check that runs before any lookup;
- NESTED (a child object under a parent): own parent, foreign child: 404 for allowed roles;
- no token: 401.
The meaning of each context and the rules per route are documented in tests/authorization_routes.py.
The per-action workflow rules are tested in tests/workflow; the content of scoped lists in
tests/test_scoping.py.
"""

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.app import create_app
from mla.clock import FixedClock
from mla.enums import Role
from mla.guards import PLATFORM_ADMINS_OPT, keep_platform_admins_out
from mla.settings import Settings
from mla.users.authentication import PUBLIC_PATHS
from tests.authorization_routes import ALL as MEMBER_ROLES
from tests.authorization_routes import API as API_PREFIX
from tests.authorization_routes import MATRIX, Call, Ctx, Entry, Scene, Scope, Side, make_scene
from tests.factories import World

PROBLEM_JSON = "application/problem+json"
IGNORED_METHODS = {"OPTIONS", "HEAD"}
PUBLIC = re.compile(r"^/(schema|health)(/|$)|^/metrics$")  # public docs and probes, checked separately
# The desk's pages sign in with a session cookie, not a token: their scoping is tested in tests/desk.
UNLISTED = re.compile(rf"{PUBLIC.pattern}|^/desk(/|$)|^/$")
ANONYMOUS = "anonymous"

Key = tuple[str, str]

# Known authorization bugs: (method, path, role) → reason. Each becomes a strict xfail.
KNOWN_BUGS: dict[tuple[str, str, str], str] = {}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    object_parameters: tuple[str, ...]  # uuid path parameters, in path order

    @property
    def key(self) -> Key:
        return (self.method, self.path)


def endpoints(app: Litestar) -> list[Endpoint]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        ordered = re.findall(r"{(\w+)}", route.path_format)
        uuids = tuple(name for name in ordered if route.path_parameters[name].type is uuid.UUID)
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - IGNORED_METHODS):
                found.append(Endpoint(method, route.path_format, uuids))
    return found


def handler_of(app: Litestar, key: Key) -> HTTPRouteHandler:
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path_format == key[1]:
            for handler in route.route_handlers:
                if key[0] in handler.http_methods:
                    return handler
    raise AssertionError(f"no route {key}")


def handler_has_guards(app: Litestar, key: Key) -> bool:
    """A role guard of the route's own, besides the application's guard on platform admins."""
    guards = [getattr(guard, "func", guard) for guard in handler_of(app, key).resolve_guards()]  # unwrapped
    return any(guard is not keep_platform_admins_out for guard in guards)


def collection_app() -> Litestar:
    """The application built only to read its routes while tests are collected (nothing connects)."""
    dummy = Settings(database_url="postgresql://collect/only", redis_url="redis://collect", secret_key="c" * 32)
    return create_app(dummy)


APP_ENDPOINTS = {e.key: e for e in endpoints(collection_app()) if not UNLISTED.search(e.path)}
ROLES: list[Role | str] = [*Role, ANONYMOUS]


def cases() -> list[Any]:
    params = []
    for key in sorted(set(APP_ENDPOINTS) | set(MATRIX)):
        for role in ROLES:
            reason = KNOWN_BUGS.get((*key, str(role)))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(key, role, marks=marks, id=f"{key[0]} {key[1]} [{role}]"))
    return params


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def scene(
    app: Litestar, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> AsyncIterator[Scene]:
    """Organisations and users are built once for the module; each call builds its own objects."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mla.test") as client:
        built = await make_scene(World(client, sessionmaker, clock))
        yield built
        await built.close()


# --- helpers --------------------------------------------------------------------------------------


def assert_problem(response: httpx.Response, status: int, context: str) -> None:
    assert response.status_code == status, f"{context}: expected {status}, got {response.status_code} {response.text}"
    assert response.headers.get("content-type", "").startswith(PROBLEM_JSON), f"{context}: {response.headers}"
    body = response.json()
    assert body.get("status") == status and {"type", "title", "detail"} <= set(body), f"{context}: {body}"


async def send(client: httpx.AsyncClient, endpoint: Endpoint, call: Call, headers: dict[str, str]) -> httpx.Response:
    url = endpoint.path.format(**call.values)
    if call.token is not None and headers:  # the caller's own second token; never for anonymous calls
        headers = {"Authorization": f"Bearer {call.token}"}
    if call.body is None:
        return await client.request(endpoint.method, url, params=call.params, headers=headers)
    return await client.request(endpoint.method, url, params=call.params, json=call.body, headers=headers)


def expected_own(entry: Entry, side: Side, role: Role) -> int:
    if entry.kept_off(role) or (entry.role_gate is not None and role not in entry.role_gate):
        return 403
    return entry.success if role in entry.allowed(side) else 403


def expected_foreign(entry: Entry, side: Side, role: Role) -> int:
    assert entry.foreign is not None
    if entry.kept_off(role) or (entry.role_gate is not None and role not in entry.allowed(side)):
        return 403  # refused before any object is looked at: reveals nothing
    return entry.foreign


def expected_nested(entry: Entry, side: Side, role: Role) -> int:
    # The caller sees the parent: a role that may not act on it learns nothing from 403.
    return 404 if role in entry.allowed(side) else 403


def missing(endpoint: Endpoint, call: Call) -> Call:
    """The same call on objects that do not exist."""
    return replace(call, values={**call.values, **{p: str(uuid.uuid4()) for p in endpoint.object_parameters}})


# --- the route inventory --------------------------------------------------------------------------


def test_every_route_of_the_application_has_an_entry(app: Litestar) -> None:
    found = {e.key for e in endpoints(app) if not UNLISTED.search(e.path)}
    absent = sorted(found - set(MATRIX))
    stale = sorted(set(MATRIX) - found)
    assert not absent, "\n".join(
        f"add an entry for {method} {path} to the matrix in tests/authorization_routes.py" for method, path in absent
    )
    assert not stale, f"entries for routes the app no longer has: {stale}"
    assert len(found) >= 40, sorted(found)


def test_the_table_names_every_route_guard(app: Litestar) -> None:
    """A route guarded by `requires(...)` refuses other roles before reading anything: its entry
    must say so (`role_gate`), or the FOREIGN expectations would be wrong."""
    for key, entry in MATRIX.items():
        if handler_has_guards(app, key):
            assert entry.role_gate is not None, f"{key} has a role guard: set role_gate in its entry"
        if entry.scope is Scope.ADMIN:
            assert entry.role_gate is not None and Role.ADMIN in entry.role_gate, key
        if entry.scope is Scope.INSTALLATION:
            assert entry.role_gate == frozenset({Role.PLATFORM_ADMIN}), key
        if entry.scope is Scope.OBJECT:
            assert entry.foreign == 404, f"{key}: a foreign object answers 404"
        open_to_platform_admins = bool(handler_of(app, key).opt.get(PLATFORM_ADMINS_OPT))
        assert entry.platform == open_to_platform_admins, f"{key}: platform= must match the route's opt"


async def test_public_routes_need_no_token(app: Litestar, client: httpx.AsyncClient) -> None:
    unlisted = [e for e in endpoints(app) if PUBLIC.search(e.path)]
    assert {"/health/live", "/health/ready", "/metrics", "/schema/openapi.json"} <= {e.path for e in unlisted}
    for endpoint in unlisted:
        assert any(re.search(p, endpoint.path) for p in PUBLIC_PATHS), endpoint
        if endpoint.object_parameters or "{" in endpoint.path:
            continue  # /schema/{path}: docs' not-found handler
        if endpoint.path == "/metrics":
            continue  # no user token, but its own: tests/test_observability.py
        response = await client.request(endpoint.method, endpoint.path)
        assert response.status_code == 200, f"{endpoint.method} {endpoint.path}: {response.status_code}"


# --- the matrix -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "role"), cases())
async def test_authorization_matrix(scene: Scene, key: Key, role: Role | str) -> None:
    method, path = key
    if key not in MATRIX:
        pytest.fail(f"add an entry for {method} {path} to the matrix in tests/authorization_routes.py")
    if key not in APP_ENDPOINTS:
        pytest.fail(f"the matrix names {method} {path}, which the app no longer has: remove its entry")
    entry, endpoint, client = MATRIX[key], APP_ENDPOINTS[key], scene.world.client
    failures: list[str] = []

    def check(context: str, response: httpx.Response, status: int) -> None:
        label = f"{method} {path} as {role} ({context})"
        try:
            if status >= 400:
                assert_problem(response, status, label)
            else:
                got = f"{response.status_code} {response.text}"
                assert response.status_code == status, f"{label}: expected {status}, got {got}"
        except AssertionError as error:
            failures.append(str(error))

    if role == ANONYMOUS:
        call = await entry.build(Ctx(scene, scene.own, Side.OWNER, Role.PROSECUTOR))
        response = await send(client, endpoint, call, {})
        if entry.scope is Scope.PUBLIC:
            check("no token", response, entry.success)
        else:
            check("no token", response, 401)
            if response.status_code == 401:
                assert response.headers.get("www-authenticate") == "Bearer"
        assert not failures, "\n".join(failures)
        return

    assert isinstance(role, Role)
    for side in Side:
        headers = scene.own.org(side).headers(role)

        own = await entry.build(Ctx(scene, scene.own, side, role))
        check(f"{side}, own", await send(client, endpoint, own, headers), expected_own(entry, side, role))

        if entry.foreign is None:
            continue
        foreign = await entry.build(Ctx(scene, scene.foreign, side, role))
        foreign_response = await send(client, endpoint, foreign, headers)
        expected = expected_foreign(entry, side, role)
        check(f"{side}, foreign", foreign_response, expected)
        if expected == 404 and endpoint.object_parameters:
            absent = await send(client, endpoint, missing(endpoint, foreign), headers)
            check(f"{side}, missing", absent, 404)
            if foreign_response.status_code == absent.status_code == 404:
                if foreign_response.json()["detail"] != absent.json()["detail"]:
                    failures.append(f"{method} {path} as {role} ({side}): a foreign object differs from a missing one")

        if entry.nested:
            parent = await entry.build(Ctx(scene, scene.own, side, role))
            child = await entry.build(Ctx(scene, scene.foreign, side, role))
            _parent_id, *rest = endpoint.object_parameters
            mixed = replace(parent, values={**parent.values, **{p: child.values[p] for p in rest}})
            check(
                f"{side}, own parent with a foreign child",
                await send(client, endpoint, mixed, headers),
                expected_nested(entry, side, role),
            )

    assert not failures, "\n".join(failures)


# --- the edges of "own" the matrix does not reach -------------------------------------------------


async def test_a_colleagues_notification_is_404_like_a_missing_one(scene: Scene) -> None:
    """Notifications are the caller's own, not their organisation's: a colleague's is not found."""
    client, owner = scene.world.client, scene.own.owner
    call = await MATRIX[("POST", f"{API_PREFIX}/notifications/{{notification_id}}/read")].build(
        Ctx(scene, scene.own, Side.OWNER, Role.PROSECUTOR)
    )
    url = f"{API_PREFIX}/notifications/{call.values['notification_id']}/read"
    for role in (Role.CENTRAL_AUTHORITY, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN):
        colleague = await client.post(url, headers=owner.headers(role))
        absent = await client.post(f"{API_PREFIX}/notifications/{uuid.uuid4()}/read", headers=owner.headers(role))
        assert_problem(colleague, 404, f"{role}: a colleague's notification")
        assert colleague.json()["detail"] == absent.json()["detail"]
    assert (await client.post(url, headers=owner.headers(Role.PROSECUTOR))).status_code == 200


async def test_the_authority_sees_a_case_only_once_a_request_of_it_is_routed_to_it(scene: Scene) -> None:
    """README: a case is visible to its owner and to an authority a request of it is routed to."""
    world = scene.world
    case = await world.case(scene.own.owner)
    url = f"{API_PREFIX}/cases/{case['id']}"
    for role in MEMBER_ROLES:
        assert (await world.client.get(url, headers=scene.own.owner.headers(role))).status_code == 200, role
        assert_problem(await world.client.get(url, headers=scene.own.authority.headers(role)), 404, str(role))

    await world.request(scene.own.owner, case, scene.provider)

    for role in MEMBER_ROLES:
        assert (await world.client.get(url, headers=scene.own.authority.headers(role))).status_code == 200, role
