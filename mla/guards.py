"""Role guards: `guards=[requires(Role.ADMIN)]` on a route or controller."""

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from mla.enums import Role
from mla.users.principal import Principal

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def requires(*roles: Role) -> Guard:
    """Let the request through only if the caller holds one of `roles` (403 otherwise)."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        # Litestar runs controller guards on its own OPTIONS answer too (litestar#2314), which the
        # authentication middleware lets through without a user: it lists methods, no data.
        if connection.scope.get("method") == "OPTIONS":
            return
        principal: Principal = connection.user
        if not principal.has_any(*roles):
            raise PermissionDeniedException(f"This needs one of the roles: {', '.join(roles)}.")

    return guard
