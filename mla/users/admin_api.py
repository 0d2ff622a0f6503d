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
from mla.openapi_problems import problem
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
        guards=[requires(Role.ADMIN, Role.PLATFORM_ADMIN)],
        opt=OPEN_TO_PLATFORM_ADMINS,
        responses={409: problem("A user with this e-mail already exists.")},
    )
    async def create_user(self, data: UserCreate, session: AsyncSession, clock: Clock, principal: Principal) -> UserOut:
        """Create a user in your organisation (a platform admin: an organisation's first admin)

        An organisation's admins create users of their own organisation with any roles but `platform_admin`. A
        platform administrator creates only the first admin of an organisation that has none (roles `[admin]`).
        Without `password` the user signs in only with API tokens issued to them. Answers the user; audited. An
        organisation the caller does not administer is a 422, like one that does not exist.
        """
        return service.to_out(await service.create_user(session, clock, principal, data))

    @get("/", guards=ORGANISATION_ADMINS)
    async def list_users(
        self,
        session: AsyncSession,
        principal: Principal,
        cursor: str | None = None,
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=200),
    ) -> Page[UserOut]:
        """Your organisation's users

        Your organisation's admins only. Every user of the caller's organisation, disabled ones included, newest
        first, one page at a time (`cursor`, `limit`). Changes nothing.
        """
        return await service.list_users(session, principal.organisation_id, cursor, limit)

    @get(USER, guards=ORGANISATION_ADMINS)
    async def get_user(self, user_id: uuid.UUID, session: AsyncSession, principal: Principal) -> UserOut:
        """One user of your organisation

        Your organisation's admins only; a user of another organisation is 404.
        """
        return service.to_out(await administration.get_user(session, principal, user_id))

    @post(
        USER + "/disable",
        guards=ORGANISATION_ADMINS,
        status_code=HTTP_200_OK,
        responses={409: problem("This is the organisation's last active admin: grant admin to someone else first.")},
    )
    async def disable_user(
        self, user_id: uuid.UUID, session: AsyncSession, clock: Clock, principal: Principal
    ) -> UserOut:
        """Disable a user: their tokens stop working at once

        Your organisation's admins only. From the next request on, every token of the user is refused (401) and
        they cannot sign in; their requests, assignments and trail stay. Idempotent. Answers the user; audited.
        """
        return service.to_out(await administration.set_active(session, clock, principal, user_id, active=False))

    @post(
        USER + "/enable",
        guards=ORGANISATION_ADMINS,
        status_code=HTTP_200_OK,
    )
    async def enable_user(
        self, user_id: uuid.UUID, session: AsyncSession, clock: Clock, principal: Principal
    ) -> UserOut:
        """Enable a disabled user

        Your organisation's admins only. Their API tokens that are neither revoked nor expired work again.
        Idempotent. Answers the user; audited.
        """
        return service.to_out(await administration.set_active(session, clock, principal, user_id, active=True))

    @put(
        USER + "/roles",
        guards=ORGANISATION_ADMINS,
        responses={
            409: problem("Revoking admin from the organisation's last active admin: grant admin to someone else first.")
        },
    )
    async def set_roles(
        self, user_id: uuid.UUID, data: RolesUpdate, session: AsyncSession, clock: Clock, principal: Principal
    ) -> UserOut:
        """Grant and revoke roles: the user holds exactly these

        Your organisation's admins only. Send the complete set: missing roles are granted, the others revoked,
        in one audited event naming both. `platform_admin` is the operator's (`mla users`) and never combined
        with another role. Answers the user.
        """
        return service.to_out(await administration.set_roles(session, clock, principal, user_id, data.roles))

    @post(USER + "/password", guards=ORGANISATION_ADMINS, status_code=HTTP_200_OK)
    async def reset_password(
        self, user_id: uuid.UUID, data: PasswordReset, session: AsyncSession, clock: Clock, principal: Principal
    ) -> UserOut:
        """Reset a user's password

        Your organisation's admins only. The old password stops working at once; tokens already issued keep
        working (disable the user or revoke them to cut access). Answers the user; audited, never with either
        password.
        """
        return service.to_out(await administration.reset_password(session, clock, principal, user_id, data.password))

    @get(
        USER + "/api-tokens",
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
        """A user's API tokens, revoked and expired ones included

        Your organisation's admins only. Labels, expiry and revocation of each token, newest first; the tokens
        themselves are never shown again after they are issued.
        """
        return await tokens.list_tokens(session, principal, user_id, cursor, limit)

    @post(USER + "/api-tokens", guards=ORGANISATION_ADMINS)
    async def issue_api_token(
        self,
        user_id: uuid.UUID,
        data: ApiTokenCreate,
        session: AsyncSession,
        clock: Clock,
        settings: Settings,
        principal: Principal,
    ) -> IssuedApiTokenOut:
        """Issue an API token (shown this once)

        Your organisation's admins only. A long-lived bearer token for automation, valid for `days` (default
        `MLA_API_TOKEN_TTL_DAYS`). The answer carries the token itself: store it now, only its digest is kept.
        Audited.
        """
        issued = await tokens.issue_for(session, clock, principal, user_id, data.label, lifetime(data.days, settings))
        return tokens.issued_out(issued)

    @post(TOKEN + "/revoke", guards=ORGANISATION_ADMINS, status_code=HTTP_200_OK)
    async def revoke_api_token(
        self, user_id: uuid.UUID, token_id: uuid.UUID, session: AsyncSession, clock: Clock, principal: Principal
    ) -> ApiTokenOut:
        """Revoke an API token

        Your organisation's admins only. The token is refused from the next request on. Idempotent: revoking a
        revoked token changes and records nothing. Answers the token's record.
        """
        return tokens.to_out(await tokens.revoke(session, clock, principal, user_id, token_id))

    @post(
        TOKEN + "/renew",
        guards=ORGANISATION_ADMINS,
        status_code=HTTP_200_OK,
        responses={409: problem("The token is revoked or expired: issue a new one.")},
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
        """Extend a live API token's expiry

        Your organisation's admins only. The token stays the same and is valid for `days` from now (default
        `MLA_API_TOKEN_TTL_DAYS`). Answers the token's record; audited.
        """
        renewed = await tokens.renew(session, clock, principal, user_id, token_id, lifetime(data.days, settings))
        return tokens.to_out(renewed)
