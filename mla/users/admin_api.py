"""An organisation's admins manage its users and their API tokens; a platform admin only creates a first admin."""

import uuid
from datetime import timedelta

from litestar import Controller, get, post, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.enums import Role
from mla.guards import OPEN_TO_PLATFORM_ADMINS, requires
from mla.pagination import DEFAULT_LIMIT, Page
from mla.settings import Settings
from mla.users import administration, service, tokens
from mla.users.principal import Principal
from mla.users.schemas import (
    ApiTokenCreate,
    ApiTokenOut,
    ApiTokenRenewal,
    IssuedApiTokenOut,
    PasswordReset,
    RolesUpdate,
    UserCreate,
    UserOut,
)

ORGANISATION_ADMINS = [requires(Role.ADMIN)]
USER = "/{user_id:uuid}"
TOKEN = USER + "/api-tokens/{token_id:uuid}"


def lifetime(days: int | None, settings: Settings) -> timedelta:
    return timedelta(days=settings.api_token_ttl_days if days is None else days)


class AdminUserController(Controller):
    path = "/api/v1/admin/users"
    tags = ["admin"]

    @post(
        "/",
        summary="Create a user in your organisation (a platform admin: an organisation's first admin)",
        guards=[requires(Role.ADMIN, Role.PLATFORM_ADMIN)],
        opt=OPEN_TO_PLATFORM_ADMINS,
    )
    async def create_user(self, data: UserCreate, session: AsyncSession, clock: Clock, principal: Principal) -> UserOut:
        return service.to_out(await service.create_user(session, clock, principal, data))

    @get("/", summary="Your organisation's users", guards=ORGANISATION_ADMINS)
    async def list_users(
        self,
        session: AsyncSession,
        principal: Principal,
        cursor: str | None = None,
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=200),
    ) -> Page[UserOut]:
        return await service.list_users(session, principal.organisation_id, cursor, limit)

    @get(USER, summary="One user of your organisation", guards=ORGANISATION_ADMINS)
    async def get_user(self, user_id: uuid.UUID, session: AsyncSession, principal: Principal) -> UserOut:
        return service.to_out(await administration.get_user(session, principal, user_id))

    @post(
        USER + "/disable",
        summary="Disable a user: their tokens stop working at once",
        guards=ORGANISATION_ADMINS,
        status_code=HTTP_200_OK,
    )
    async def disable_user(
        self, user_id: uuid.UUID, session: AsyncSession, clock: Clock, principal: Principal
    ) -> UserOut:
        return service.to_out(await administration.set_active(session, clock, principal, user_id, active=False))

    @post(
        USER + "/enable",
        summary="Enable a disabled user",
        guards=ORGANISATION_ADMINS,
        status_code=HTTP_200_OK,
    )
    async def enable_user(
        self, user_id: uuid.UUID, session: AsyncSession, clock: Clock, principal: Principal
    ) -> UserOut:
        return service.to_out(await administration.set_active(session, clock, principal, user_id, active=True))

    @put(USER + "/roles", summary="Grant and revoke roles: the user holds exactly these", guards=ORGANISATION_ADMINS)
    async def set_roles(
        self, user_id: uuid.UUID, data: RolesUpdate, session: AsyncSession, clock: Clock, principal: Principal
    ) -> UserOut:
        return service.to_out(await administration.set_roles(session, clock, principal, user_id, data.roles))

    @post(USER + "/password", summary="Reset a user's password", guards=ORGANISATION_ADMINS, status_code=HTTP_200_OK)
    async def reset_password(
        self, user_id: uuid.UUID, data: PasswordReset, session: AsyncSession, clock: Clock, principal: Principal
    ) -> UserOut:
        return service.to_out(await administration.reset_password(session, clock, principal, user_id, data.password))

    @get(
        USER + "/api-tokens",
        summary="A user's API tokens, revoked and expired ones included",
        guards=ORGANISATION_ADMINS,
    )
    async def list_api_tokens(
        self,
        user_id: uuid.UUID,
        session: AsyncSession,
        principal: Principal,
        cursor: str | None = None,
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=200),
    ) -> Page[ApiTokenOut]:
        return await tokens.list_tokens(session, principal, user_id, cursor, limit)

    @post(USER + "/api-tokens", summary="Issue an API token (shown this once)", guards=ORGANISATION_ADMINS)
    async def issue_api_token(
        self,
        user_id: uuid.UUID,
        data: ApiTokenCreate,
        session: AsyncSession,
        clock: Clock,
        settings: Settings,
        principal: Principal,
    ) -> IssuedApiTokenOut:
        issued = await tokens.issue_for(session, clock, principal, user_id, data.label, lifetime(data.days, settings))
        return tokens.issued_out(issued)

    @post(TOKEN + "/revoke", summary="Revoke an API token", guards=ORGANISATION_ADMINS, status_code=HTTP_200_OK)
    async def revoke_api_token(
        self, user_id: uuid.UUID, token_id: uuid.UUID, session: AsyncSession, clock: Clock, principal: Principal
    ) -> ApiTokenOut:
        return tokens.to_out(await tokens.revoke(session, clock, principal, user_id, token_id))

    @post(
        TOKEN + "/renew",
        summary="Extend a live API token's expiry",
        guards=ORGANISATION_ADMINS,
        status_code=HTTP_200_OK,
    )
    async def renew_api_token(
        self,
        user_id: uuid.UUID,
        token_id: uuid.UUID,
        data: ApiTokenRenewal,
        session: AsyncSession,
        clock: Clock,
        settings: Settings,
        principal: Principal,
    ) -> ApiTokenOut:
        renewed = await tokens.renew(session, clock, principal, user_id, token_id, lifetime(data.days, settings))
        return tokens.to_out(renewed)
