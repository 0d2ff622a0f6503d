"""`mla users <life-cycle command>`, parsed by the real `mla` parser and run in-process on the test
database (the subprocess plumbing is tested once, in tests/test_cli.py). The operator is not scoped;
its changes are audited as the system's on the user's organisation's administration chain."""

import httpx
import msgspec
import pytest
from sqlalchemy import select

from mla.audit.models import AuditEvent
from mla.cli import parser
from mla.enums import Role
from mla.errors import Conflict, Unprocessable
from mla.settings import Settings
from tests.factories import Org, World

pytestmark = pytest.mark.usefixtures("client")


@pytest.fixture
async def org(world: World) -> Org:
    return await world.organisation()


async def mla_users(world: World, settings: Settings, *argv: str) -> list[str]:
    """The lines `mla users ...` prints, its changes committed."""
    args = parser().parse_args(["users", *argv])
    async with world.sessionmaker() as session, session.begin():
        return await args.work(session, settings, args)


async def me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


async def test_the_operator_runs_a_users_whole_life_cycle(world: World, org: Org, settings: Settings) -> None:
    member, client = org.members[Role.PROSECUTOR], world.client
    email = member.email

    async def run(*argv: str) -> list[str]:
        return await mla_users(world, settings, *argv, "--email", email)

    assert "disabled" in (await run("disable"))[-1]
    assert (await me(client, member.token)).status_code == 401
    await run("enable")
    assert (await me(client, member.token)).status_code == 200

    await run("set-roles", "--role", "auditor", "--role", "supervisor")
    assert (await me(client, member.token)).json()["roles"] == ["auditor", "supervisor"]

    password = (await run("reset-password"))[-1]
    login = await client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert login.status_code == 200, login.text

    issued = (await run("issue-token", "--label", "nightly", "--days", "5"))[-1]
    assert (await me(client, issued)).status_code == 200
    listed = await run("tokens")
    nightly = next(line.split()[0] for line in listed if "nightly" in line)
    first = next(line.split()[0] for line in listed if "nightly" not in line)
    assert len(listed) == 2 and all(issued not in line for line in listed)  # printed once, when issued
    assert "revoked" in (await run("revoke-token", "--token", nightly))[-1]
    assert (await me(client, issued)).status_code == 401
    assert "expires" in (await run("renew-token", "--token", first, "--days", "30"))[-1]

    async with world.sessionmaker() as session:
        query = select(AuditEvent).where(AuditEvent.chain == f"admin:{org.id}", AuditEvent.actor_id.is_(None))
        chain = await session.scalars(query.order_by(AuditEvent.seq))
        events = [event for event in chain if event.changes.get("email") == email]
    assert [e.action for e in events] == [
        "create_user",
        "create_api_token",
        "disable_user",
        "enable_user",
        "change_roles",
        "reset_password",
        "create_api_token",
        "revoke_api_token",
        "renew_api_token",
    ]


async def test_the_operator_is_refused_what_the_rules_refuse(world: World, org: Org, settings: Settings) -> None:
    admin = org.members[Role.ADMIN]

    with pytest.raises(Unprocessable, match="held alone"):
        await mla_users(
            world, settings, "set-roles", "--email", admin.email, "--role", "platform_admin", "--role", "admin"
        )
    with pytest.raises(Conflict, match="last active admin"):
        await mla_users(world, settings, "disable", "--email", admin.email)
    with pytest.raises(msgspec.ValidationError, match="days"):  # `mla` prints it as one line, exit 2
        await mla_users(world, settings, "issue-token", "--email", admin.email, "--days", "0")
