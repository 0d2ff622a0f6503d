import uuid

from litestar import Controller, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.enums import Role
from mla.guards import requires
from mla.pagination import DEFAULT_LIMIT, Page
from mla.settings import Settings
from mla.users import service
from mla.users.principal import Principal
from mla.users.schemas import TokenOut, TokenRequest, UserCreate, UserOut


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    # 200, not 201: a token is issued, no resource is created (as OAuth 2.0 token endpoints answer).
    @post("/token", summary="Exchange e-mail and password for a bearer token", security=[], status_code=HTTP_200_OK)
    async def issue_token(
        self, data: TokenRequest, session: AsyncSession, clock: Clock, settings: Settings
    ) -> TokenOut:
        try:
            return await service.login(session, clock, settings, data.email, data.password)
        except service.LoginRefused as exc:
            raise NotAuthorizedException("Wrong e-mail or password.") from exc

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
