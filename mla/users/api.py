import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException, ServiceUnavailableException, TooManyRequestsException
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.enums import Role
from mla.guards import requires
from mla.pagination import DEFAULT_LIMIT, Page
from mla.settings import Settings
from mla.users import service
from mla.users.login_limits import LoginLimitsUnavailable, LoginThrottled, client_address
from mla.users.principal import Principal
from mla.users.schemas import TokenOut, TokenRequest, UserCreate, UserOut

LOGIN_UNAVAILABLE_RETRY_SECONDS = 10


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    # 200, not 201: a token is issued, no resource is created (as OAuth 2.0 token endpoints answer).
    # No `session` dependency: the log-in opens its own only for the lookup (see service.login).
    @post(
        "/token",
        summary="Exchange e-mail and password for a bearer token",
        description="After repeated failures for the account or from the address, answers 429 with "
        "`Retry-After` (the right password too) until the back-off has passed; 503 while the limits "
        "cannot be checked.",
        security=[],
        status_code=HTTP_200_OK,
    )
    async def issue_token(
        self, data: TokenRequest, request: Request[Any, Any, Any], state: State, clock: Clock, settings: Settings
    ) -> TokenOut:
        address = client_address(request.client.host if request.client else None)
        try:
            return await service.login(state.sessionmaker, state.login_limits, clock, settings, data, address)
        except service.LoginRefused as exc:
            raise NotAuthorizedException("Wrong e-mail or password.") from exc
        except LoginThrottled as exc:
            raise TooManyRequestsException(
                f"Too many failed log-ins; retry in {exc.retry_after} s.", headers={"Retry-After": str(exc.retry_after)}
            ) from exc
        except LoginLimitsUnavailable as exc:
            raise ServiceUnavailableException(
                "Logging in is unavailable for a moment; tokens already issued keep working.",
                headers={"Retry-After": str(LOGIN_UNAVAILABLE_RETRY_SECONDS)},
            ) from exc

    @get("/me", summary="Who the token belongs to")
    async def me(self, session: AsyncSession, principal: Principal) -> UserOut:
        return service.to_out(await service.get_user(session, principal.user_id))


class AdminUserController(Controller):
    path = "/api/v1/admin/users"
    tags = ["admin"]
    guards = [requires(Role.ADMIN)]

    @post("/", summary="Create a user")
    async def create_user(self, data: UserCreate, session: AsyncSession, clock: Clock, principal: Principal) -> UserOut:
        return service.to_out(await service.create_user(session, clock, principal, data))

    @get("/", summary="List users")
    async def list_users(
        self,
        session: AsyncSession,
        organisation_id: uuid.UUID | None = None,
        cursor: str | None = None,
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=200),
    ) -> Page[UserOut]:
        return await service.list_users(session, organisation_id, cursor, limit)
