"""The authorization matrix's route table: who may call each route, and how to call it validly.

Read by `tests/test_authorization_matrix.py`, which enumerates the application's routes and fails
for any (method, path) without an entry here. Adding a route means adding one `Entry`: its scope,
the roles allowed in each context, its success status, and a builder that prepares fresh state and
returns path values and a body that would succeed for an allowed caller.

Contexts (README "Decisions": scoping, admins, workflow roles)
----------------------------------------------------------------
Every caller is one user holding exactly one role. A *pair* is a prosecution service and the
central authority responsible for it (`World.linked_pair`); the test has its own pair and an
unrelated foreign pair. Callers come from either side of their own pair:

- side `owner`: the prosecution service that owns the case and request;
- side `authority`: the central authority the request is routed to.

For routes that name an object (scope OBJECT):

- OWN: the object belongs to the caller's pair. A role in `owner` (or `authority`) gets `success`
  when calling from that side; any other role gets 403 — it can already see the object, so the
  refusal reveals nothing.
- FOREIGN: the same kind of object in the foreign pair (another prosecution service, routed to
  another central authority): every role gets 404, exactly as for an object that does not exist,
  never 403 — unless a role check that runs before any object is looked at (`role_gate`: a route
  guard, or the service's first check) refuses the role, in which case 403 is correct.
- NESTED (routes with a second object under the first, e.g. a production of a request): the
  parent is OWN and the child belongs to the foreign pair. Allowed roles get 404; other roles get
  the 403 they get for the parent.

Routes of scope ORGANISATION act in the caller's own organisation (lists, filing, statistics);
CATALOGUE routes read the shared reference data; ADMIN routes administer the caller's own
organisation (its users, webhooks, deliveries, administration trail); INSTALLATION routes
administer the installation (organisations, counterparties, instruments, deadline rules). None of
them has a foreign object in its path, so they have only the OWN context (the caller's own
organisation). POST /requests and POST /admin/webhooks name a case or an organisation in their
body: their FOREIGN context names the foreign pair's and gets 422 exactly like one that does not
exist. The admin routes naming a user, a token or a webhook are OBJECT routes: a foreign one is
404. PUBLIC routes need no token at all. Without a token every other route answers 401.

Platform administrators (`platform_admin`, one in every organisation of the factories) reach only
the routes marked open to them (`platform=True`); an application-wide guard refuses them every
other route before anything is read (so FOREIGN is 403 for them too): they read no case data.

Decisions recorded by the table (what the application does today and README/SPEC ask for):

- Reads of a request and everything under it (actions list, audit, audit/verify, checks,
  deadlines, productions, communications) and of its case: every role on both sides.
- Editing a request (PATCH): the owning organisation's prosecutors, or its central authority
  officers when the owner is itself a central authority (`EDITING_ROLES` held *for the request*);
  nobody at a separate authority.
- Handling writes (assign, record production / custody, record communication): the roles the user
  holds *for this request* (`mla.requests.access.effective_roles`): a prosecutor of the owner; a
  central-authority officer or supervisor of the responsible authority. Auditors and admins never.
- Workflow actions: one representative action per role (the per-action rules are in
  tests/workflow): prosecutor `submit` on a draft; central_authority and supervisor `return`
  (with a reason) on a request under review; auditor and admin `withdraw` (with a reason) on a
  draft — an action other roles may take in that status, so their 403 is about the role only.
- Attesting a check: a central-authority officer or supervisor of the responsible authority.
- Filing a case: prosecutors and central-authority-role users, in their own organisation; the same
  roles of the owning organisation edit and close it (the authority it is routed to sees it: 403). Filing
  an outgoing request: the roles held for a request of the caller's organisation — prosecutors,
  and central-authority officers only in a central authority (checked before the case is read).
  The queue: central authority officers and supervisors. Lists, statistics, exports and
  notifications: every member role. The deadline calculator and the catalogue: every role.
- Admin routes: the organisation's admins (a route guard: 403 for every other role, before
  anything is read); creating a user and the administration trail also platform admins (an
  organisation's first admin; the installation's trail). Installation routes: platform admins.
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.alerts.models import Webhook
from mla.cases.models import Case
from mla.checks.rules import attestable_codes
from mla.enums import OrganisationKind, Role
from mla.organisations import service as organisations
from mla.organisations.schemas import OrganisationCreate
from mla.users import service as users
from mla.users.models import ApiToken, User
from mla.users.schemas import UserCreate
from tests.alerts.support import add_notification, arrange_alert
from tests.factories import Org, World, request_body, unique

API = "/api/v1"


class Side(StrEnum):
    OWNER = "owner"  # the prosecution service owning the case and request
    AUTHORITY = "authority"  # the central authority responsible for it


class Scope(StrEnum):
    PUBLIC = "public"  # no token needed
    CATALOGUE = "catalogue"  # shared reference data: every authenticated user, no foreign context
    ADMIN = "admin"  # administration of the caller's own organisation: no foreign object in the path
    INSTALLATION = "installation"  # administration of the installation (platform admins)
    ORGANISATION = "organisation"  # acts in the caller's own organisation: no object in the path
    OBJECT = "object"  # names a case, request or notification: OWN and FOREIGN contexts


EVERYONE = frozenset(Role)
ALL = EVERYONE - {Role.PLATFORM_ADMIN}  # every role of an organisation's members
NOBODY: frozenset[Role] = frozenset()
PROSECUTOR = frozenset({Role.PROSECUTOR})
OFFICERS = frozenset({Role.CENTRAL_AUTHORITY, Role.SUPERVISOR})
FILERS = frozenset({Role.PROSECUTOR, Role.CENTRAL_AUTHORITY})
ADMINS = frozenset({Role.ADMIN})
PLATFORM = frozenset({Role.PLATFORM_ADMIN})
ANY_ADMIN = ADMINS | PLATFORM


# --- the state the builders work on -------------------------------------------------------------


@dataclass
class Pair:
    """A prosecution service, its central authority, and one case of each."""

    owner: Org
    authority: Org
    cases: dict[Side, dict[str, Any]]
    request: dict[str, Any]  # a draft of the owner's case, routed to the authority

    def org(self, side: Side) -> Org:
        return self.owner if side is Side.OWNER else self.authority


@dataclass
class Scene:
    """Built once per module: the test's own pair, an unrelated foreign pair, a provider to file
    requests to, and a user with a password for POST /auth/token."""

    world: World
    own: Pair
    foreign: Pair
    provider: uuid.UUID
    login: dict[str, str]

    async def close(self) -> None:
        """Deactivate the webhooks the routes registered, so no later alert of these requests is sent."""
        organisations = [org.id for pair in (self.own, self.foreign) for org in (pair.owner, pair.authority)]
        async with self.world.sessionmaker() as session, session.begin():
            await session.execute(
                update(Webhook).where(Webhook.organisation_id.in_(organisations)).values(active=False)
            )


async def make_pair(world: World, provider: uuid.UUID) -> Pair:
    owner, authority = await world.linked_pair()
    case = await world.case(owner)
    authority_case = await world.case(authority, role=Role.CENTRAL_AUTHORITY)
    request = await world.request(owner, case, provider)
    return Pair(owner, authority, {Side.OWNER: case, Side.AUTHORITY: authority_case}, request)


async def make_scene(world: World) -> Scene:
    provider = await world.counterparty()
    own = await make_pair(world, provider)
    foreign = await make_pair(world, provider)
    login = {"email": f"{unique('login')}@example.org", "password": "correct horse battery staple"}
    sessionmaker: async_sessionmaker[AsyncSession] = world.sessionmaker
    async with sessionmaker() as session, session.begin():
        await users.create_user(
            session,
            world.clock,
            None,
            UserCreate(
                email=login["email"],
                name="Login user",
                organisation_id=own.owner.id,
                roles=[Role.PROSECUTOR],
                password=login["password"],
            ),
        )
    return Scene(world, own, foreign, provider, login)


@dataclass
class Ctx:
    """One call: `role` calling from `side` of the scene's own pair, on objects of `pair`
    (the own pair, or the foreign one). Builders make the objects they need in `pair`."""

    scene: Scene
    pair: Pair
    side: Side
    role: Role

    @property
    def world(self) -> World:
        return self.scene.world

    @property
    def counterpart(self) -> Org:
        """The caller's organisation in the own pair; its counterpart in the foreign pair."""
        return self.pair.org(self.side)

    @property
    def owner(self) -> Org:
        return self.pair.owner

    @property
    def authority(self) -> Org:
        return self.pair.authority

    async def draft(self) -> dict[str, Any]:
        """A fresh draft in the pair's case, filed by the owner's prosecutor."""
        return await self.world.request(self.owner, self.pair.cases[Side.OWNER], self.scene.provider)

    async def under_review(self) -> dict[str, Any]:
        return await self.world.act(self.owner, Role.PROSECUTOR, await self.draft(), "submit")

    async def transmitted(self) -> dict[str, Any]:
        """Evidence is recorded only on a request that was transmitted."""
        return await self.world.walk_to_transmitted(self.owner, self.authority, await self.draft())

    async def production(self, request: dict[str, Any]) -> str:
        response = await self.world.client.post(
            f"{API}/requests/{request['id']}/productions",
            json=production_body(self.world),
            headers=self.owner.headers(Role.PROSECUTOR),
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def webhook(self) -> str:
        """A webhook of the caller's organisation (FOREIGN: of its counterpart), registered by its admin."""
        response = await self.world.client.post(
            f"{API}/admin/webhooks",
            json=webhook_body(self.counterpart),
            headers=self.counterpart.headers(Role.ADMIN),
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def user(self) -> User:
        """A fresh prosecutor with an API token in the caller's organisation (FOREIGN: its counterpart's)."""
        async with self.world.sessionmaker() as session, session.begin():
            data = UserCreate(
                email=f"{unique('subject')}@example.org",
                name="Subject of administration",
                organisation_id=self.counterpart.id,
                roles=[Role.PROSECUTOR],
            )
            user = await users.create_user(session, self.world.clock, None, data)
            await users.create_api_token(session, self.world.clock, None, user, "matrix")
        return user

    async def own_token(self) -> str:
        """A second API token of the caller itself, for a route that consumes the token it is called with."""
        async with self.world.sessionmaker() as session, session.begin():
            caller = await session.get(User, self.counterpart.members[self.role].id)
            assert caller is not None
            return await users.create_api_token(session, self.world.clock, None, caller, "matrix")


@dataclass(frozen=True)
class Call:
    """What to send: path values, a JSON body (None: none), query parameters, and a token of the
    caller's own to use instead of its usual one (for a route that revokes the token it comes with)."""

    values: dict[str, str] = field(default_factory=dict)
    body: Any = None
    params: dict[str, str] | None = None
    token: str | None = None


Builder = Callable[[Ctx], Awaitable[Call]]


@dataclass(frozen=True)
class Entry:
    scope: Scope
    owner: frozenset[Role]  # roles that succeed calling from the owning organisation (OWN context)
    authority: frozenset[Role]  # roles that succeed calling from the responsible central authority
    success: int
    build: Builder
    # Roles let through by a role check that runs before any object is looked at (a route guard,
    # or the service's first check). Every other role gets 403 in every context, foreign included.
    role_gate: frozenset[Role] | None = None
    # What an allowed role gets in the FOREIGN context; None: the route has no foreign context.
    foreign: int | None = None
    nested: bool = False  # a second object under the first: also probe own parent + foreign child
    platform: bool = False  # open to platform admins (else the application's guard refuses them first)

    def allowed(self, side: Side) -> frozenset[Role]:
        return self.owner if side is Side.OWNER else self.authority

    def kept_off(self, role: Role) -> bool:
        """Refused by the application-wide guard before the route runs: a platform admin on a
        route not open to platform admins (403 in every context)."""
        return role is Role.PLATFORM_ADMIN and not self.platform


def everyone(scope: Scope, success: int, build: Builder, **kw: Any) -> Entry:
    """Every member role of an organisation (not platform admins: no case data)."""
    return Entry(scope, ALL, ALL, success, build, **kw)


def anyone(scope: Scope, success: int, build: Builder) -> Entry:
    """Every role, platform admins included: authentication and the shared catalogue."""
    return Entry(scope, EVERYONE, EVERYONE, success, build, platform=True)


def admin_only(success: int, build: Builder, **kw: Any) -> Entry:
    """The caller's organisation's admins."""
    scope = Scope.OBJECT if "foreign" in kw else Scope.ADMIN
    return Entry(scope, ADMINS, ADMINS, success, build, role_gate=ADMINS, **kw)


def installation(success: int, build: Builder) -> Entry:
    return Entry(Scope.INSTALLATION, PLATFORM, PLATFORM, success, build, role_gate=PLATFORM, platform=True)


def request_read(build: "Builder | None" = None) -> Entry:
    """A read of a request or something under it: every role on both sides; foreign 404."""
    return Entry(Scope.OBJECT, ALL, ALL, 200, build or on_request, foreign=404)


def handling(success: int, build: Builder, **kw: Any) -> Entry:
    """A write by whoever handles the request (`effective_roles`): the owner's prosecutor, the
    authority's officers and supervisors."""
    return Entry(Scope.OBJECT, PROSECUTOR, OFFICERS, success, build, foreign=404, **kw)


# --- builders -------------------------------------------------------------------------------------


def production_body(world: World) -> dict[str, Any]:
    return {
        "received_at": world.clock.now().isoformat(),
        "description": "Subscriber records",
        "size_bytes": 1024,
        "sha256": "ab" * 32,
        "format": "csv",
    }


def webhook_body(organisation: Org) -> dict[str, Any]:
    return {
        "url": "https://alerts.example.org/mla",
        "secret": "s3cret-s3cret-s3cret",
        "organisation_id": str(organisation.id),
    }


async def nothing(ctx: Ctx) -> Call:
    return Call()


async def on_request(ctx: Ctx) -> Call:
    """The pair's shared draft: reads change nothing an allowed caller relies on."""
    return Call({"request_id": ctx.pair.request["id"]})


async def on_case(ctx: Ctx) -> Call:
    # The owner's case has the pair's request routed to the authority, so both sides see it.
    return Call({"case_id": ctx.pair.cases[Side.OWNER]["id"]})


async def token(ctx: Ctx) -> Call:
    return Call(body=dict(ctx.scene.login))


async def preview(ctx: Ctx) -> Call:
    start = ctx.world.clock.now().isoformat()
    return Call(params={"instrument": "eu-epoc", "type": "production", "action": "submit", "start": start})


async def counterparty(ctx: Ctx) -> Call:
    return Call({"counterparty_id": str(ctx.scene.provider)})


async def instrument(ctx: Ctx) -> Call:
    return Call({"code": "eu-epoc"})


async def deadline_rule(ctx: Ctx) -> Call:
    return Call({"code": "epoc-response"})


async def treaty(ctx: Ctx) -> Call:
    return Call({"code": "ets-185"})


# Antarctica is party to nothing any other test relies on.
PARTY = {"code": "cets-224", "country": "AQ"}
PARTY_BODY = {"in_force_on": "2026-01-01", "source": "Recorded by the authorization matrix test"}


async def set_party(ctx: Ctx) -> Call:
    return Call(PARTY, PARTY_BODY)


async def remove_party(ctx: Ctx) -> Call:
    created = await ctx.world.client.put(
        f"{API}/admin/treaties/cets-224/parties/AQ", json=PARTY_BODY, headers=ctx.owner.headers(Role.PLATFORM_ADMIN)
    )
    assert created.status_code == 200, created.text
    return Call(PARTY)


async def new_case(ctx: Ctx) -> Call:
    return Call(
        body={
            "reference": unique("CASE"),
            "title": "Fraud by phishing",
            "summary": "Phishing e-mails to pensioners.",
            "offences": [{"description": "Computer fraud", "max_penalty_years": 5}],
        }
    )


async def patch_case(ctx: Ctx) -> Call:
    """The pair's shared case (routed to the authority, so both sides see it), at its current version."""
    case_id = ctx.pair.cases[Side.OWNER]["id"]
    async with ctx.world.sessionmaker() as session:
        version = await session.scalar(select(Case.version).where(Case.id == uuid.UUID(case_id)))
    return Call({"case_id": case_id}, {"version": version, "title": unique("Edited case")})


async def closable_case(ctx: Ctx) -> Call:
    """A fresh case of the pair's owner whose only request, routed to the authority, was withdrawn."""
    case = await ctx.world.case(ctx.owner)
    request = await ctx.world.request(ctx.owner, case, ctx.scene.provider)
    await ctx.world.act(ctx.owner, Role.PROSECUTOR, request, "withdraw", reason="The case is being closed.")
    return Call({"case_id": case["id"]}, {"version": case["version"]})


async def new_request(ctx: Ctx) -> Call:
    """An outgoing draft in the case of the caller's organisation (FOREIGN: its counterpart's)."""
    case = ctx.pair.cases[ctx.side]
    return Call(body=request_body(case["id"], ctx.scene.provider, ctx.world.clock.now()))


async def patch_request(ctx: Ctx) -> Call:
    request = await ctx.draft()
    return Call({"request_id": request["id"]}, {"version": request["version"], "facts": "Edited facts " * 5})


ACTION_BY_ROLE: dict[Role, tuple[str, bool, dict[str, Any]]] = {
    # role: (action, on a request under review (else a draft), fields)
    Role.PROSECUTOR: ("submit", False, {}),
    Role.CENTRAL_AUTHORITY: ("return", True, {"reason": "Add the provider's retention period."}),
    Role.SUPERVISOR: ("return", True, {"reason": "Add the provider's retention period."}),
    Role.AUDITOR: ("withdraw", False, {"reason": "An auditor tries to withdraw."}),
    Role.ADMIN: ("withdraw", False, {"reason": "An administrator tries to withdraw."}),
    Role.PLATFORM_ADMIN: ("withdraw", False, {"reason": "A platform administrator tries to withdraw."}),
}


async def workflow_action(ctx: Ctx) -> Call:
    action, reviewed, fields = ACTION_BY_ROLE[ctx.role]
    request = await (ctx.under_review() if reviewed else ctx.draft())
    return Call({"request_id": request["id"], "action": action}, {"version": request["version"], **fields})


async def assign(ctx: Ctx) -> Call:
    request = await ctx.draft()
    assignee = ctx.owner.members[Role.PROSECUTOR].id
    return Call({"request_id": request["id"]}, {"version": request["version"], "user_id": str(assignee)})


async def record_production(ctx: Ctx) -> Call:
    request = await ctx.transmitted()
    return Call({"request_id": request["id"]}, production_body(ctx.world))


async def record_custody(ctx: Ctx) -> Call:
    request = await ctx.transmitted()
    production = await ctx.production(request)
    body = {"at": ctx.world.clock.now().isoformat(), "kind": "sealed", "holder": "Evidence room"}
    return Call({"request_id": request["id"], "production_id": production}, body)


async def record_communication(ctx: Ctx) -> Call:
    request = await ctx.draft()
    body = {"kind": "letter", "direction": "sent", "occurred_at": ctx.world.clock.now().isoformat(), "summary": "Sent."}
    return Call({"request_id": request["id"]}, body)


async def attest(ctx: Ctx) -> Call:
    request = await ctx.draft()
    return Call(
        {"request_id": request["id"], "code": min(attestable_codes())},
        {"outcome": "pass", "reason": "Judged on the file."},
    )


async def mark_read(ctx: Ctx) -> Call:
    """OWN: a notification addressed to the caller; FOREIGN: one addressed to its counterpart."""
    world, request = ctx.world, ctx.pair.request
    alert_id = await arrange_alert(world.sessionmaker, world.clock, request["id"])
    recipient = ctx.counterpart.members[ctx.role].id
    notification = await add_notification(world.sessionmaker, world.clock, alert_id, request["id"], recipient, "Due")
    return Call({"notification_id": str(notification)})


async def new_organisation(ctx: Ctx) -> Call:
    return Call(
        body={
            "name": unique("org"),
            "kind": OrganisationKind.PROSECUTION_SERVICE.value,
            "country": "FR",
            "timezone": "Europe/Paris",
        }
    )


async def new_user(ctx: Ctx) -> Call:
    """An admin adds an auditor to its organisation; a platform admin, a new organisation's first admin."""
    body = {"email": f"{unique('new')}@example.org", "name": "New user"}
    if ctx.role is not Role.PLATFORM_ADMIN:
        return Call(body={**body, "organisation_id": str(ctx.counterpart.id), "roles": ["auditor"]})
    async with ctx.world.sessionmaker() as session, session.begin():
        data = OrganisationCreate(
            name=unique("org"), kind=OrganisationKind.COURT, country="FR", timezone="Europe/Paris"
        )
        organisation = await organisations.create_organisation(session, ctx.world.clock, None, data)
    return Call(body={**body, "organisation_id": str(organisation.id), "roles": ["admin"]})


async def on_user(ctx: Ctx) -> Call:
    return Call({"user_id": str((await ctx.user()).id)})


async def user_roles(ctx: Ctx) -> Call:
    return replace(await on_user(ctx), body={"roles": ["auditor"]})


async def user_password(ctx: Ctx) -> Call:
    return replace(await on_user(ctx), body={"password": "a new passphrase"})


async def new_api_token(ctx: Ctx) -> Call:
    return replace(await on_user(ctx), body={"label": "matrix"})


async def on_api_token(ctx: Ctx) -> Call:
    user = await ctx.user()
    async with ctx.world.sessionmaker() as session:
        token_id = await session.scalar(select(ApiToken.id).where(ApiToken.user_id == user.id))
    return Call({"user_id": str(user.id), "token_id": str(token_id)}, body={})


async def log_out(ctx: Ctx) -> Call:
    return Call(token=await ctx.own_token())


async def new_counterparty(ctx: Ctx) -> Call:
    return Call(body={"kind": "provider", "name": unique("provider"), "country": "IE"})


async def patch_counterparty(ctx: Ctx) -> Call:
    return Call({"counterparty_id": str(ctx.scene.provider)}, {"timezone": "America/New_York"})


def instrument_code() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


async def new_instrument(ctx: Ctx) -> Call:
    return Call(
        body={"code": instrument_code(), "title": "Test instrument", "citation": "Art. 1", "request_types": ["mla"]}
    )


async def patch_instrument(ctx: Ctx) -> Call:
    code = instrument_code()
    created = await ctx.world.client.post(
        f"{API}/admin/instruments",
        json={"code": code, "title": "Test instrument", "citation": "Art. 1", "request_types": ["mla"]},
        headers=ctx.owner.headers(Role.PLATFORM_ADMIN),
    )
    assert created.status_code == 201, created.text
    return Call({"code": code}, {"title": "Test instrument, edited"})


async def patch_deadline_rule(ctx: Ctx) -> Call:
    """A seeded rule is shared by every test: send its current name, an edit that changes nothing."""
    rule = await ctx.world.client.get(f"{API}/deadline-rules/epoc-response", headers=ctx.owner.headers())
    assert rule.status_code == 200, rule.text
    return Call({"code": "epoc-response"}, {"name": rule.json()["name"]})


async def new_webhook(ctx: Ctx) -> Call:
    """For the caller's own organisation (FOREIGN: its counterpart's, refused like a missing one)."""
    return Call(body=webhook_body(ctx.counterpart))


async def deactivate_webhook(ctx: Ctx) -> Call:
    return Call({"webhook_id": await ctx.webhook()})


# --- the table ------------------------------------------------------------------------------------

PUB, OBJ, CAT, ORG, ADM = Scope.PUBLIC, Scope.OBJECT, Scope.CATALOGUE, Scope.ORGANISATION, Scope.ADMIN
R = f"{API}/requests/{{request_id}}"
U = f"{API}/admin/users/{{user_id}}"
EDITORS = PROSECUTOR  # `EDITING_ROLES` held for the request: a prosecution service's prosecutors
ATTESTERS = OFFICERS  # of the responsible authority

# Entry(scope, allowed from the owner side, allowed from the authority side, success status, builder, ...)

MATRIX: dict[tuple[str, str], Entry] = {
    # authentication
    ("POST", f"{API}/auth/token"): anyone(PUB, 200, token),
    ("GET", f"{API}/auth/me"): anyone(ORG, 200, nothing),
    ("POST", f"{API}/auth/logout"): anyone(ORG, 204, log_out),
    # administration of the installation
    ("POST", f"{API}/admin/organisations"): installation(201, new_organisation),
    ("GET", f"{API}/admin/organisations"): installation(200, nothing),
    ("POST", f"{API}/admin/counterparties"): installation(201, new_counterparty),
    ("PATCH", f"{API}/admin/counterparties/{{counterparty_id}}"): installation(200, patch_counterparty),
    ("POST", f"{API}/admin/instruments"): installation(201, new_instrument),
    ("PATCH", f"{API}/admin/instruments/{{code}}"): installation(200, patch_instrument),
    ("PATCH", f"{API}/admin/deadline-rules/{{code}}"): installation(200, patch_deadline_rule),
    ("PUT", f"{API}/admin/treaties/{{code}}/parties/{{country}}"): installation(200, set_party),
    ("DELETE", f"{API}/admin/treaties/{{code}}/parties/{{country}}"): installation(204, remove_party),
    # administration of the caller's own organisation (a platform admin: a first admin, its own trail)
    ("POST", f"{API}/admin/users"): Entry(ADM, ANY_ADMIN, ANY_ADMIN, 201, new_user, role_gate=ANY_ADMIN, platform=True),
    ("GET", f"{API}/admin/audit"): Entry(ADM, ANY_ADMIN, ANY_ADMIN, 200, nothing, role_gate=ANY_ADMIN, platform=True),
    ("GET", f"{API}/admin/users"): admin_only(200, nothing),
    ("GET", U): admin_only(200, on_user, foreign=404),
    ("POST", f"{U}/disable"): admin_only(200, on_user, foreign=404),
    ("POST", f"{U}/enable"): admin_only(200, on_user, foreign=404),
    ("PUT", f"{U}/roles"): admin_only(200, user_roles, foreign=404),
    ("POST", f"{U}/password"): admin_only(200, user_password, foreign=404),
    ("GET", f"{U}/api-tokens"): admin_only(200, on_user, foreign=404),
    ("POST", f"{U}/api-tokens"): admin_only(201, new_api_token, foreign=404),
    # NESTED: also the own user with a token of a foreign user.
    ("POST", f"{U}/api-tokens/{{token_id}}/revoke"): admin_only(200, on_api_token, foreign=404, nested=True),
    ("POST", f"{U}/api-tokens/{{token_id}}/renew"): admin_only(200, on_api_token, foreign=404, nested=True),
    # Registers for the organisation named in the body: a foreign one is 422 like a missing one.
    ("POST", f"{API}/admin/webhooks"): Entry(ADM, ADMINS, ADMINS, 201, new_webhook, role_gate=ADMINS, foreign=422),
    ("GET", f"{API}/admin/webhooks"): admin_only(200, nothing),
    ("POST", f"{API}/admin/webhooks/{{webhook_id}}/deactivate"): admin_only(200, deactivate_webhook, foreign=404),
    ("GET", f"{API}/admin/deliveries"): admin_only(200, nothing),
    # the shared catalogue
    ("GET", f"{API}/counterparties"): anyone(CAT, 200, nothing),
    ("GET", f"{API}/counterparties/{{counterparty_id}}"): anyone(CAT, 200, counterparty),
    ("GET", f"{API}/instruments"): anyone(CAT, 200, nothing),
    ("GET", f"{API}/instruments/{{code}}"): anyone(CAT, 200, instrument),
    ("GET", f"{API}/deadline-rules"): anyone(CAT, 200, nothing),
    ("GET", f"{API}/deadline-rules/{{code}}"): anyone(CAT, 200, deadline_rule),
    ("GET", f"{API}/deadlines/preview"): anyone(CAT, 200, preview),
    ("GET", f"{API}/treaties"): anyone(CAT, 200, nothing),
    ("GET", f"{API}/treaties/{{code}}"): anyone(CAT, 200, treaty),
    # the caller's own organisation
    ("GET", f"{API}/cases"): everyone(ORG, 200, nothing),
    ("POST", f"{API}/cases"): Entry(ORG, FILERS, FILERS, 201, new_case, role_gate=FILERS),
    ("GET", f"{API}/requests"): everyone(ORG, 200, nothing),
    # Files into the case named in the body: a foreign case is 422 like a missing one.
    ("POST", f"{API}/requests"): Entry(ORG, PROSECUTOR, FILERS, 201, new_request, role_gate=FILERS, foreign=422),
    ("GET", f"{API}/requests/export.csv"): everyone(ORG, 200, nothing),
    ("GET", f"{API}/stats"): everyone(ORG, 200, nothing),
    ("GET", f"{API}/stats/export.csv"): everyone(ORG, 200, nothing),
    ("GET", f"{API}/queue"): Entry(ORG, OFFICERS, OFFICERS, 200, nothing, role_gate=OFFICERS),
    ("GET", f"{API}/notifications"): everyone(ORG, 200, nothing),
    # OWN: a notification addressed to the caller; FOREIGN: one addressed to someone else.
    ("POST", f"{API}/notifications/{{notification_id}}/read"): everyone(OBJ, 200, mark_read, foreign=404),
    # a case, a request and what hangs off it
    ("GET", f"{API}/cases/{{case_id}}"): request_read(on_case),
    # The authority a request of the case is routed to sees the case (403, not 404) but never changes it.
    ("PATCH", f"{API}/cases/{{case_id}}"): Entry(OBJ, FILERS, NOBODY, 200, patch_case, foreign=404),
    ("POST", f"{API}/cases/{{case_id}}/close"): Entry(OBJ, FILERS, NOBODY, 200, closable_case, foreign=404),
    ("GET", R): request_read(),
    # The authority sees the request (403, not 404) but never edits it.
    ("PATCH", R): Entry(OBJ, EDITORS, NOBODY, 200, patch_request, foreign=404),
    ("GET", f"{R}/actions"): request_read(),
    # One representative action per role: ACTION_BY_ROLE.
    ("POST", f"{R}/actions/{{action}}"): handling(200, workflow_action),
    ("POST", f"{R}/assign"): handling(200, assign),
    ("GET", f"{R}/audit"): request_read(),
    ("GET", f"{R}/audit/verify"): request_read(),
    ("GET", f"{R}/checks"): request_read(),
    ("POST", f"{R}/checks/{{code}}/attestation"): Entry(OBJ, NOBODY, ATTESTERS, 201, attest, foreign=404),
    ("GET", f"{R}/deadlines"): request_read(),
    ("GET", f"{R}/productions"): request_read(),
    ("POST", f"{R}/productions"): handling(201, record_production),
    # NESTED: also the own request with a production of the foreign pair's request.
    ("POST", f"{R}/productions/{{production_id}}/custody"): handling(201, record_custody, nested=True),
    ("GET", f"{R}/communications"): request_read(),
    ("POST", f"{R}/communications"): handling(201, record_communication),
}
