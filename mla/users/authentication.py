"""Bearer authentication: a signed access token or a long-lived API token, resolved to a Principal."""

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.db import request_session
from mla.settings import Settings
from mla.users import repository
from mla.users.credentials import API_TOKEN_PREFIX, read_access_token, token_digest
from mla.users.principal import Principal

PUBLIC_PATHS = ["^/health", "^/schema", "^/api/v1/auth/token$", "^/metrics$"]


class BearerAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("Send 'Authorization: Bearer <token>'.", headers=_CHALLENGE)
        principal = await resolve_principal(request_session(connection), connection.app.state, token.strip())
        if principal is None:
            raise NotAuthorizedException("The token is invalid, expired or revoked.", headers=_CHALLENGE)
        return AuthenticationResult(user=principal, auth=None)


_CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def resolve_principal(session: AsyncSession, state: Any, token: str) -> Principal | None:
    """The user a bearer token (or the desk's session) stands for; None if invalid, expired or revoked.

    Read in `session`, the request's own: its transaction is the one the handler then continues.
    """
    settings: Settings = state.settings
    clock: Clock = state.clock
    if token.startswith(API_TOKEN_PREFIX):
        return await repository.principal_for_api_token(session, token_digest(token), clock.now())
    claims = read_access_token(token, secret=settings.secret_key, now=clock.now())
    return None if claims is None else await repository.principal_for_access_token(session, claims)
