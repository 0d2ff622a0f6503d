"""The desk's session and its CSRF protection.

A desk session is an access token issued by the API's own login (`mla.users.service.login`), kept
in an HttpOnly, SameSite=Strict cookie (Secure when the request came over https) and resolved on
each request exactly as a bearer token is. So a deactivated user, an expired token or anything
the login refuses (wrong password, the failed-login limits) applies to the desk as to the API.

CSRF: every unsafe request must carry a token, as the form field `_csrf` or the `X-CSRF-Token`
header (htmx sends it from the page's `hx-headers`). When signed in, the token is an HMAC of the
session token under the server's secret, so only a page served to this session knows it; on the
login form it is a random value that must match a login cookie (double submit).
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from mla.db import request_session
from mla.settings import Settings
from mla.users.authentication import resolve_principal
from mla.users.schemas import TokenOut

SESSION_COOKIE = "mla_desk_session"
LOGIN_CSRF_COOKIE = "mla_desk_login"
COOKIE_PATH = "/desk"
CSRF_FIELD = "_csrf"
CSRF_HEADER = "X-CSRF-Token"
# Routes marked with this opt check the login cookie's token instead of the session's.
LOGIN_FORM_OPT = "desk_login_form"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignInRequired(Exception):
    """No valid session: the desk answers with the login page (`ended` if a session had expired)."""

    def __init__(self, ended: bool) -> None:
        super().__init__("sign in required")
        self.ended = ended


class CsrfRefused(Exception):
    """An unsafe request without the page's token: a forged or stale form; nothing is changed."""


@dataclass(frozen=True)
class DeskSession:
    token: str
    csrf: str


def csrf_for(token: str, settings: Settings) -> str:
    return hmac.new(settings.secret_key.encode(), b"desk-csrf:" + token.encode(), hashlib.sha256).hexdigest()


def is_https(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    return connection.url.scheme == "https"


def session_cookie(token: TokenOut, connection: ASGIConnection[Any, Any, Any, Any], now: datetime) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=token.access_token,
        path=COOKIE_PATH,
        max_age=max(int((token.expires_at - now).total_seconds()), 0),
        httponly=True,
        samesite="strict",
        secure=is_https(connection),
    )


def login_csrf_cookie(value: str, connection: ASGIConnection[Any, Any, Any, Any]) -> Cookie:
    return Cookie(
        key=LOGIN_CSRF_COOKIE,
        value=value,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=is_https(connection),
    )


def new_login_csrf() -> str:
    return secrets.token_urlsafe(32)


def expired(name: str) -> Cookie:
    """A cookie that makes the browser forget `name` (sign-out; the login token once used)."""
    return Cookie(key=name, value="", path=COOKIE_PATH, max_age=0, httponly=True, samesite="strict")


class DeskSessionMiddleware(ASGIMiddleware):
    """Puts the signed-in user (or None) in `scope["user"]` and the session in `scope["auth"]`."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        token = connection.cookies.get(SESSION_COOKIE)
        principal = (
            None if not token else await resolve_principal(request_session(connection), connection.app.state, token)
        )
        scope["user"] = principal
        scope["auth"] = (
            None if principal is None or token is None else DeskSession(token, csrf_for(token, _settings(connection)))
        )
        await next_app(scope, receive, send)


def _settings(connection: ASGIConnection[Any, Any, Any, Any]) -> Settings:
    return connection.app.state.settings


def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard of every desk page but the login: without a valid session, sign in first."""
    if connection.user is None:
        raise SignInRequired(ended=SESSION_COOKIE in connection.cookies)


async def verify_csrf(request: Request[Any, Any, Any]) -> None:
    """`before_request` of every desk route: refuse an unsafe request whose token is missing or wrong."""
    if request.method in _SAFE_METHODS:
        return
    if request.route_handler.opt.get(LOGIN_FORM_OPT):
        expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    else:
        session: DeskSession | None = request.auth
        expected = None if session is None else session.csrf
    sent = request.headers.get(CSRF_HEADER) or (await request.form()).get(CSRF_FIELD)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(expected, sent):
        raise CsrfRefused
