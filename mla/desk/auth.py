"""Signing in and out of the desk, through the API's own login."""

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.desk.pages import page
from mla.desk.session import (
    LOGIN_CSRF_COOKIE,
    LOGIN_FORM_OPT,
    SESSION_COOKIE,
    expired,
    login_csrf_cookie,
    new_login_csrf,
    session_cookie,
    signed_in,
)
from mla.guards import OPEN_TO_PLATFORM_ADMINS
from mla.settings import Settings
from mla.users import service as users
from mla.users import tokens
from mla.users.api import LOGIN_UNAVAILABLE_RETRY_SECONDS
from mla.users.login_limits import LoginLimitsUnavailable, LoginThrottled, client_address
from mla.users.principal import Principal
from mla.users.schemas import TokenRequest

HOME = "/desk/"
WRONG_CREDENTIALS = "Wrong e-mail or password."


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a desk page of ours, never another site (`//evil`, `/\\evil`)."""
    if target and target.startswith("/desk/") and "//" not in target and "\\" not in target:
        return target
    return HOME


def desk_login_settings(settings: Settings) -> Settings:
    """The API's login, issuing a token that lives as long as a desk session."""
    return msgspec.structs.replace(settings, token_ttl_minutes=settings.desk_session_minutes)


def login_page(request: Request[Any, Any, Any], *, status: int = 200, **context: Any) -> Template:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_csrf()
    values = {"email": "", "error": None, "notice": None, "next": HOME} | context
    template = page(None, "login.html", status=status, login_csrf=token, **values)
    template.cookies.append(login_csrf_cookie(token, request))
    return template


class DeskAuthController(Controller):
    path = "/"
    opt = OPEN_TO_PLATFORM_ADMINS  # signing in and out shows no case data; every other desk page refuses them

    @get("/login", opt={LOGIN_FORM_OPT: True})
    async def show_login(
        self, request: Request[Any, Any, Any], next: str | None = None, ended: bool = False, signed_out: bool = False
    ) -> Template | Redirect:
        if request.user is not None:
            return Redirect(safe_next(next), status_code=303)
        notice = "Your session has ended: sign in again." if ended else None
        notice = "You are signed out." if signed_out else notice
        return login_page(request, next=safe_next(next), notice=notice)

    @post("/login", opt={LOGIN_FORM_OPT: True})
    async def sign_in(
        self, request: Request[Any, Any, Any], state: State, clock: Clock, settings: Settings
    ) -> Template | Redirect:
        """The API's login (`users.service.login`): its refusals and failed-login limits are the desk's."""
        form = await request.form()
        target = safe_next(form.get("next"))
        email = str(form.get("email", ""))[:254]
        address = client_address(request.client.host if request.client else None)
        try:
            credentials = msgspec.convert({"email": email, "password": form.get("password", "")}, TokenRequest)
            token = await users.login(
                state.sessionmaker, state.login_limits, clock, desk_login_settings(settings), credentials, address
            )
        except (msgspec.ValidationError, users.LoginRefused):
            return login_page(request, status=401, email=email, error=WRONG_CREDENTIALS, next=target)
        except LoginThrottled as exc:
            error = f"Too many failed sign-ins: try again in {exc.retry_after} seconds."
            throttled = login_page(request, status=429, email=email, error=error, next=target)
            throttled.headers["Retry-After"] = str(exc.retry_after)
            return throttled
        except LoginLimitsUnavailable:
            error = "Signing in is unavailable for a moment: try again shortly."
            unavailable = login_page(request, status=503, email=email, error=error, next=target)
            unavailable.headers["Retry-After"] = str(LOGIN_UNAVAILABLE_RETRY_SECONDS)
            return unavailable
        cookies = [session_cookie(token, request, clock.now()), expired(LOGIN_CSRF_COOKIE)]
        return Redirect(target, status_code=303, cookies=cookies)

    @post("/logout", guards=[signed_in])
    async def sign_out(self, session: AsyncSession, clock: Clock, principal: Principal) -> Redirect:
        """Forget the cookie and revoke its token (`POST /auth/logout`), so a copy of it no longer works."""
        await tokens.log_out(session, clock, principal)
        return Redirect(
            "/desk/login?signed_out=1", status_code=303, cookies=[expired(SESSION_COOKIE), expired(LOGIN_CSRF_COOKIE)]
        )
