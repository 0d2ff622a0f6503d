"""Every query on users, API tokens and logged-out access tokens.

Authentication, the hot path, reads on Core. Administration reads and writes `User` and `ApiToken`
objects: each operation (activate, roles, password, revoke, renew, log out) changes an attribute or
two of a row read under lock and builds its audit event from the object, and the unit of work writes
what changed; these are rare writes.
"""

import uuid
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, any_, bindparam, delete, exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mla.enums import Role
from mla.pagination import Page, struct_page
from mla.reference import cache as reference_cache
from mla.reference import repository as reference
from mla.users.credentials import AccessClaims
from mla.users.models import ApiToken, RevokedAccessToken, User
from mla.users.principal import ACCESS_TOKEN, API_TOKEN, Credential, Principal
from mla.users.schemas import ApiTokenOut, UserOut

_users = User.__table__.c
_tokens = ApiToken.__table__.c


def _authenticated(*conditions: ColumnElement[bool]) -> Select[Any]:
    """The active user's identity, and the reference data's version read in the same statement
    (mla.reference.cache): the request's transaction then needs no statement of its own for it."""
    columns = (_users.id, _users.organisation_id, _users.roles, _users.email)
    version = reference.version_column().label("reference_version")
    return select(*columns, version).where(_users.active.is_(True), *conditions)


async def _principal(
    session: AsyncSession, query: Select[Any], parameters: dict[str, Any], credential: Callable[[Row[Any]], Credential]
) -> Principal | None:
    row = (await session.execute(query, parameters)).first()
    if row is None:
        return None
    reference_cache.remember_version(session, row.reference_version)
    return Principal(row.id, row.organisation_id, frozenset(row.roles), row.email, credential(row))


# Built once with bound parameters: every authenticated request runs one of these, and a statement
# built per request costs its cache key (the join) on every call.
_ACCESS_TOKEN_PRINCIPAL = _authenticated(
    _users.id == bindparam("user_id"),
    ~exists().where(RevokedAccessToken.__table__.c.jti == bindparam("token_id")),
)
_API_TOKEN_PRINCIPAL = (
    _authenticated(
        _tokens.token_hash == bindparam("digest"), _tokens.revoked_at.is_(None), _tokens.expires_at > bindparam("now")
    )
    .add_columns(_tokens.id.label("token_id"), _tokens.expires_at)
    .join_from(User.__table__, ApiToken.__table__, _tokens.user_id == _users.id)
)


async def principal_for_access_token(session: AsyncSession, claims: AccessClaims) -> Principal | None:
    """The active user of a signed access token that was not logged out."""
    parameters = {"user_id": claims.user_id, "token_id": claims.token_id}
    credential = Credential(ACCESS_TOKEN, claims.token_id, claims.expires_at)
    return await _principal(session, _ACCESS_TOKEN_PRINCIPAL, parameters, lambda _: credential)


async def principal_for_api_token(session: AsyncSession, digest: str, now: datetime) -> Principal | None:
    """The active user of an API token that is neither revoked nor expired at `now`."""
    parameters = {"digest": digest, "now": now}
    return await _principal(
        session, _API_TOKEN_PRINCIPAL, parameters, lambda row: Credential(API_TOKEN, row.token_id, row.expires_at)
    )


async def names(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = await session.execute(select(User.id, User.name).where(User.id.in_(set(ids))))
    return {row.id: row.name for row in rows}


async def find_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.lower()))


async def add_user(session: AsyncSession, user: User) -> bool:
    """Write the new user now; False if its e-mail is taken (by a concurrent transaction after the
    caller's check: the transaction is then unusable)."""
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        return False
    return True


async def user_page(session: AsyncSession, organisation_id: uuid.UUID, cursor: str | None, limit: int) -> Page[UserOut]:
    """One page of the organisation's users, newest first."""
    return await struct_page(session, User.__table__, UserOut, cursor, limit, _users.organisation_id == organisation_id)


async def user_in(
    session: AsyncSession, organisation_id: uuid.UUID | None, user_id: uuid.UUID, *, for_update: bool = False
) -> User | None:
    """The user, if it belongs to `organisation_id` (None: any organisation, for the operator's CLI)."""
    query = select(User).where(User.id == user_id)
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    return await session.scalar(query.with_for_update() if for_update else query)


async def count_active_admins(session: AsyncSession, organisation_id: uuid.UUID) -> int:
    """Active users holding `admin` in the organisation (callers lock the organisation first)."""
    query = select(func.count()).where(
        User.organisation_id == organisation_id, User.active.is_(True), Role.ADMIN.value == any_(User.roles)
    )
    return int(await session.scalar(query) or 0)


async def add_api_token(session: AsyncSession, token: ApiToken) -> None:
    session.add(token)
    await session.flush()


async def token_page(session: AsyncSession, user_id: uuid.UUID, cursor: str | None, limit: int) -> Page[ApiTokenOut]:
    """One page of the user's tokens, revoked and expired ones included, newest first."""
    return await struct_page(session, ApiToken.__table__, ApiTokenOut, cursor, limit, _tokens.user_id == user_id)


async def token_of(session: AsyncSession, user_id: uuid.UUID, token_id: uuid.UUID) -> ApiToken | None:
    query = select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id).with_for_update()
    return await session.scalar(query)


async def revoke_access_token(session: AsyncSession, user_id: uuid.UUID, credential: Credential, now: datetime) -> None:
    """Remember a logged-out access token until it expires; forget those already expired."""
    await session.execute(delete(RevokedAccessToken).where(RevokedAccessToken.expires_at <= now))
    row = {"jti": credential.id, "user_id": user_id, "expires_at": credential.expires_at, "revoked_at": now}
    await session.execute(insert(RevokedAccessToken).values(row).on_conflict_do_nothing())  # two logouts at once
