"""Users, logins and API tokens."""

import uuid
from collections.abc import Collection
from datetime import timedelta

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.clock import Clock
from mla.errors import Conflict, NotFound
from mla.fields import check_email
from mla.pagination import Page
from mla.settings import Settings
from mla.users import administration, repository, tokens
from mla.users.credentials import hash_password, issue_access_token, verify_password
from mla.users.login_limits import LoginLimits
from mla.users.models import User
from mla.users.principal import Principal
from mla.users.schemas import TokenOut, TokenRequest, UserCreate, UserOut


class LoginRefused(Exception):
    """Wrong e-mail or password (deliberately not saying which)."""


def to_out(user: User) -> UserOut:
    return msgspec.convert(user, UserOut, from_attributes=True)


async def create_user(session: AsyncSession, clock: Clock, actor: Principal | None, data: UserCreate) -> User:
    """Refuses what `administration.check_may_create` refuses (422, 403) and an e-mail already taken (409)."""
    await administration.check_may_create(session, actor, data)
    if await repository.find_by_email(session, data.email) is not None:
        raise Conflict(f"A user with e-mail {data.email} already exists.")
    user = User(
        id=uuid.uuid4(),
        organisation_id=data.organisation_id,
        email=data.email,
        name=data.name,
        roles=[str(role) for role in data.roles],
        created_at=clock.now(),
        active=True,
        password_hash=None if data.password is None else await hash_password(data.password),
    )
    if not await repository.add_user(session, user):
        raise Conflict(f"A user with e-mail {data.email} already exists.")
    await administration.record_user_event(
        session, clock, actor, user, "create_user", after=msgspec.to_builtins(to_out(user))
    )
    return user


async def create_api_token(session: AsyncSession, clock: Clock, actor: Principal | None, user: User, label: str) -> str:
    """A new API token of the default lifetime; only its digest is stored, so this is the one time it is seen."""
    return (await tokens.issue_api_token(session, clock, actor, user, label)).secret


def login_email(email: str) -> str:
    """The e-mail normalised as `UserCreate` stores it (IDN domain as A-labels, lower case).

    A malformed one is only lower-cased: it matches nobody, and is refused like a wrong password.
    """
    try:
        return check_email(email).lower()
    except ValueError:
        return email.lower()


async def login(
    sessionmaker: async_sessionmaker[AsyncSession],
    limits: LoginLimits,
    clock: Clock,
    settings: Settings,
    credentials: TokenRequest,
    address: str,
) -> TokenOut:
    """An access token for the right e-mail and password from `address` (see `client_address`).

    Refuses a wrong e-mail or password (LoginRefused), and any attempt while the account or the
    address is locked out after failures (LoginThrottled), the right password included.
    """
    email = login_email(credentials.email)
    attempt = await limits.admit(email, address)
    # A session of its own, closed before the password is verified: no database connection
    # is held while argon2 runs or waits for a thread.
    async with sessionmaker() as session:
        user = await repository.find_by_email(session, email)
    password_hash = user.password_hash if user is not None and user.active else None
    if not await verify_password(password_hash, credentials.password) or user is None:
        raise LoginRefused  # the attempt stays counted
    await limits.succeeded(attempt)
    token, expires_at = issue_access_token(
        user.id, secret=settings.secret_key, now=clock.now(), ttl=timedelta(minutes=settings.token_ttl_minutes)
    )
    return TokenOut(access_token=token, token_type="bearer", expires_at=expires_at)


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    """Refuses an unknown id (404)."""
    user = await repository.user_in(session, None, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


async def names(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Display names of users by id: who is assigned, who acted (ids the caller already sees)."""
    return await repository.names(session, ids)


async def list_users(
    session: AsyncSession, organisation_id: uuid.UUID, cursor: str | None, limit: int
) -> Page[UserOut]:
    """The users of one organisation, newest first."""
    return await repository.user_page(session, organisation_id, cursor, limit)
