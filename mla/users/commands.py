"""`mla users <command>`: the operator's user and token life cycle, from a shell on the installation.

The operator is not scoped to an organisation (it bootstraps the installation and is the only one
who grants `platform_admin`); every change is audited as the system's, on the user's organisation's
administration chain. Each command returns the lines to print; a secret, when there is one, is last.
"""

import argparse
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import SystemClock
from mla.enums import Role
from mla.errors import NotFound
from mla.settings import Settings
from mla.users import administration, repository, tokens
from mla.users.models import ApiToken, User
from mla.users.schemas import ApiTokenOut, ApiTokenRenewal, PasswordReset, RolesUpdate

Work = Callable[[AsyncSession, Settings, argparse.Namespace], Awaitable[list[str]]]


async def _user(session: AsyncSession, email: str) -> User:
    user = await repository.find_by_email(session, email)
    if user is None:
        raise NotFound(f"no user with e-mail {email}")
    return user


def _describe(user: User) -> str:
    state = "active" if user.active else "disabled"
    return f"{user.email} ({user.id}): {state}, roles {', '.join(user.roles)}"


def _describe_token(token: ApiToken | ApiTokenOut) -> str:
    state = "revoked" if token.revoked_at is not None else f"expires {token.expires_at.isoformat()}"
    return f"{token.id}  {token.label}  created {token.created_at.isoformat()}  {state}"


def _lifetime(args: argparse.Namespace, settings: Settings) -> timedelta:
    """--days, within the same bounds as in the API, or the installation's default."""
    days = msgspec.convert({"days": args.days}, ApiTokenRenewal).days
    return timedelta(days=settings.api_token_ttl_days if days is None else days)


async def disable(session: AsyncSession, settings: Settings, args: argparse.Namespace) -> list[str]:
    user = await administration.set_active(session, SystemClock(), None, (await _user(session, args.email)).id, False)
    return [_describe(user)]


async def enable(session: AsyncSession, settings: Settings, args: argparse.Namespace) -> list[str]:
    user = await administration.set_active(session, SystemClock(), None, (await _user(session, args.email)).id, True)
    return [_describe(user)]


async def set_roles(session: AsyncSession, settings: Settings, args: argparse.Namespace) -> list[str]:
    wanted = msgspec.convert({"roles": args.role}, RolesUpdate).roles
    user_id = (await _user(session, args.email)).id
    return [_describe(await administration.set_roles(session, SystemClock(), None, user_id, wanted))]


async def reset_password(session: AsyncSession, settings: Settings, args: argparse.Namespace) -> list[str]:
    """Without --password, a random one is set and printed last."""
    password = msgspec.convert({"password": args.password or secrets.token_urlsafe(18)}, PasswordReset).password
    user_id = (await _user(session, args.email)).id
    user = await administration.reset_password(session, SystemClock(), None, user_id, password)
    return [f"new password set for {user.email}", *([] if args.password else [password])]


async def list_tokens(session: AsyncSession, settings: Settings, args: argparse.Namespace) -> list[str]:
    user = await _user(session, args.email)
    page = await tokens.list_tokens(session, None, user.id, None, 200)
    return [_describe_token(item) for item in page.items]


async def issue_token(session: AsyncSession, settings: Settings, args: argparse.Namespace) -> list[str]:
    user = await _user(session, args.email)
    issued = await tokens.issue_api_token(session, SystemClock(), None, user, args.label, _lifetime(args, settings))
    return [_describe_token(issued.row), issued.secret]


async def revoke_token(session: AsyncSession, settings: Settings, args: argparse.Namespace) -> list[str]:
    user = await _user(session, args.email)
    return [_describe_token(await tokens.revoke(session, SystemClock(), None, user.id, args.token))]


async def renew_token(session: AsyncSession, settings: Settings, args: argparse.Namespace) -> list[str]:
    user = await _user(session, args.email)
    renewed = await tokens.renew(session, SystemClock(), None, user.id, args.token, _lifetime(args, settings))
    return [_describe_token(renewed)]


def add_commands(users: "argparse._SubParsersAction[argparse.ArgumentParser]", handler: Callable[..., None]) -> None:
    """Register the life-cycle commands; `handler` runs a command's `work` in one transaction."""

    def add(name: str, work: Work, help_text: str) -> argparse.ArgumentParser:
        command = users.add_parser(name, help=help_text)
        command.set_defaults(handler=handler, work=work)
        command.add_argument("--email", required=True)
        return command

    add("disable", disable, "disable a user: their tokens stop working at once")
    add("enable", enable, "enable a disabled user")
    add("set-roles", set_roles, "grant and revoke roles: the user holds exactly these").add_argument(
        "--role", action="append", required=True, choices=[r.value for r in Role]
    )
    add("reset-password", reset_password, "set a new password (random and printed last if not given)").add_argument(
        "--password"
    )
    add("tokens", list_tokens, "list a user's API tokens")
    issue = add("issue-token", issue_token, "issue an API token and print it last")
    issue.add_argument("--label", default="cli")
    issue.add_argument("--days", type=int, help="lifetime in days (default: MLA_API_TOKEN_TTL_DAYS)")
    add("revoke-token", revoke_token, "revoke one of the user's API tokens").add_argument(
        "--token", type=uuid.UUID, required=True, help="the token's id (see `mla users tokens`)"
    )
    renew = add("renew-token", renew_token, "extend a live API token's expiry")
    renew.add_argument("--token", type=uuid.UUID, required=True, help="the token's id")
    renew.add_argument("--days", type=int, help="lifetime from now in days (default: MLA_API_TOKEN_TTL_DAYS)")
