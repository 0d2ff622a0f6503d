from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException, ServiceUnavailableException, TooManyRequestsException
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.guards import OPEN_TO_PLATFORM_ADMINS
from mla.openapi_problems import problem
from mla.settings import Settings
from mla.users import service, tokens
from mla.users.login_limits import LoginLimitsUnavailable, LoginThrottled, client_address
from mla.users.principal import Principal
from mla.users.schemas import TokenOut, TokenRequest, UserOut

LOGIN_UNAVAILABLE_RETRY_SECONDS = 10


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]
    opt = OPEN_TO_PLATFORM_ADMINS

    # 200, not 201: a token is issued, no resource is created (as OAuth 2.0 token endpoints answer).
    # No `session` dependency: the log-in opens its own only for the lookup (see service.login).
    @post(
        "/token",
        security=[],
        status_code=HTTP_200_OK,
        responses={
            401: problem("Wrong e-mail or password, or the user is disabled."),
            429: problem(
                "Too many failed log-ins for this account or from this address: retry after `Retry-After` seconds."
            ),
            503: problem(
                "The database cannot be reached or the log-in limits cannot be checked (Redis): retry after "
                "`Retry-After` seconds; tokens already issued keep working."
            ),
        },
    )
    async def issue_token(
        self, data: TokenRequest, request: Request[Any, Any, Any], state: State, clock: Clock, settings: Settings
    ) -> TokenOut:
        """Exchange e-mail and password for a bearer token

        No token needed. Answers an access token to send as `Authorization: Bearer <access_token>` until
        `expires_at` (`MLA_TOKEN_TTL_MINUTES`). A wrong e-mail and a wrong password get the same 401. After
        repeated failures for the account or from the address, every attempt (the right password too) is refused
        with 429 and `Retry-After` until the back-off has passed. For automation, prefer an API token issued by
        an admin (`POST /api/v1/admin/users/{user_id}/api-tokens`).
        """
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

    @get("/me")
    async def me(self, session: AsyncSession, principal: Principal) -> UserOut:
        """Who the token belongs to

        Any signed-in user, platform administrators included. Answers the user: e-mail, name, organisation and
        roles. Changes nothing.
        """
        return service.to_out(await service.get_user(session, principal.user_id))

    @post("/logout", status_code=HTTP_204_NO_CONTENT)
    async def log_out(self, session: AsyncSession, clock: Clock, principal: Principal) -> None:
        """Revoke the token this request carries

        Any signed-in user. An API token is revoked for good; an access token is refused from the next request
        on until it would have expired. Answers 204 with no body; audited.
        """
        await tokens.log_out(session, clock, principal)
