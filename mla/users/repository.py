"""Every query on users and API tokens."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mla.users.models import ApiToken, User
from mla.users.principal import Principal


def _principal(user: User) -> Principal:
    return Principal(user.id, user.organisation_id, frozenset(user.roles), user.email)


async def principal_for_user(session: AsyncSession, user_id: uuid.UUID) -> Principal | None:
    user = await session.get(User, user_id)
    return _principal(user) if user is not None and user.active else None


async def principal_for_api_token(session: AsyncSession, digest: str) -> Principal | None:
    query = (
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None), User.active.is_(True))
    )
    user = await session.scalar(query)
    return _principal(user) if user is not None else None


async def find_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.lower()))
