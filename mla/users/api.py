from litestar import Controller, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.guards import OPEN_TO_PLATFORM_ADMINS
from mla.settings import Settings
from mla.users import service, tokens
from mla.users.principal import Principal
from mla.users.schemas import TokenOut, TokenRequest, UserOut


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]
    opt = OPEN_TO_PLATFORM_ADMINS

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

    @post("/logout", summary="Revoke the token this request carries", status_code=HTTP_204_NO_CONTENT)
    async def log_out(self, session: AsyncSession, clock: Clock, principal: Principal) -> None:
        await tokens.log_out(session, clock, principal)
