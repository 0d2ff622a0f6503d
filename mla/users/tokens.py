"""API tokens (issued, listed, revoked, renewed) and logging out, each audited on the owner's
organisation's administration chain. A token's secret is shown once; only its SHA-256 is kept."""

import uuid
from dataclasses import dataclass
from datetime import timedelta

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.errors import Conflict, NotFound
from mla.pagination import Page
from mla.users import administration, repository
from mla.users.credentials import new_api_token, token_digest
from mla.users.models import ApiToken, User
from mla.users.principal import API_TOKEN, Principal
from mla.users.schemas import ApiTokenOut, IssuedApiTokenOut

DEFAULT_LIFETIME = timedelta(days=90)


@dataclass(frozen=True)
class IssuedToken:
    row: ApiToken
    secret: str


def to_out(token: ApiToken) -> ApiTokenOut:
    return msgspec.convert(token, ApiTokenOut, from_attributes=True)


def issued_out(issued: IssuedToken) -> IssuedApiTokenOut:
    return IssuedApiTokenOut(**msgspec.structs.asdict(to_out(issued.row)), token=issued.secret)


async def issue_api_token(
    session: AsyncSession,
    clock: Clock,
    actor: Principal | None,
    user: User,
    label: str,
    lifetime: timedelta = DEFAULT_LIFETIME,
) -> IssuedToken:
    """A new token for `user`, valid for `lifetime`."""
    secret, now = new_api_token(), clock.now()
    row = ApiToken(
        id=uuid.uuid4(),
        user_id=user.id,
        token_hash=token_digest(secret),
        label=label,
        created_at=now,
        expires_at=now + lifetime,
    )
    await repository.add_api_token(session, row)
    await administration.record_user_event(
        session, clock, actor, user, "create_api_token", token_id=str(row.id), label=label, expires_at=row.expires_at
    )
    return IssuedToken(row, secret)


async def issue_for(
    session: AsyncSession, clock: Clock, actor: Principal | None, user_id: uuid.UUID, label: str, lifetime: timedelta
) -> IssuedToken:
    """`issue_api_token` for a user the actor administers (404 outside its organisation)."""
    user = await administration.administered_user(session, actor, user_id)
    return await issue_api_token(session, clock, actor, user, label, lifetime)


async def list_tokens(
    session: AsyncSession, actor: Principal | None, user_id: uuid.UUID, cursor: str | None, limit: int
) -> Page[ApiTokenOut]:
    """A user's tokens, revoked and expired ones included, newest first (404 outside the admin's organisation)."""
    user = await administration.administered_user(session, actor, user_id, lock=False)
    return await repository.token_page(session, user.id, cursor, limit)


async def revoke(
    session: AsyncSession, clock: Clock, actor: Principal | None, user_id: uuid.UUID, token_id: uuid.UUID
) -> ApiToken:
    """Refuse the token from now on. Idempotent: revoking a revoked token records nothing."""
    user, token = await _token(session, actor, user_id, token_id)
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        await administration.record_user_event(session, clock, actor, user, "revoke_api_token", token_id=str(token.id))
    return token


async def renew(
    session: AsyncSession,
    clock: Clock,
    actor: Principal | None,
    user_id: uuid.UUID,
    token_id: uuid.UUID,
    lifetime: timedelta,
) -> ApiToken:
    """Extend a live token to `lifetime` from now; a revoked or expired one is refused (409): issue a new one."""
    user, token = await _token(session, actor, user_id, token_id)
    now = clock.now()
    if token.revoked_at is not None or token.expires_at <= now:
        raise Conflict("This token is revoked or expired and cannot be renewed: issue a new one.")
    before, token.expires_at = token.expires_at, now + lifetime
    await administration.record_user_event(
        session,
        clock,
        actor,
        user,
        "renew_api_token",
        token_id=str(token.id),
        expires_at={"before": before, "after": token.expires_at},
    )
    return token


async def log_out(session: AsyncSession, clock: Clock, principal: Principal) -> None:
    """Revoke the token this request came with: an API token for good, an access token until it expires."""
    credential = principal.credential
    if credential is None:
        raise NotFound("This request carries no token to log out.")
    user = await administration.get_user(session, principal, principal.user_id)
    if credential.kind == API_TOKEN:
        token = await repository.token_of(session, user.id, credential.id)
        if token is not None and token.revoked_at is None:
            token.revoked_at = clock.now()
    else:
        await repository.revoke_access_token(session, user.id, credential, clock.now())
    await administration.record_user_event(
        session, clock, principal, user, "log_out", token_kind=credential.kind, token_id=str(credential.id)
    )


async def _token(
    session: AsyncSession, actor: Principal | None, user_id: uuid.UUID, token_id: uuid.UUID
) -> tuple[User, ApiToken]:
    user = await administration.administered_user(session, actor, user_id)
    token = await repository.token_of(session, user.id, token_id)
    if token is None:
        raise NotFound("No such API token.")
    return user, token
