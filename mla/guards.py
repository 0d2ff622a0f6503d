"""Role guards: `guards=[requires(Role.ADMIN)]` on a route or controller, and the application-wide
guard that keeps platform administrators to the routes open to them."""

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


# `opt=OPEN_TO_PLATFORM_ADMINS` on a controller or route: a platform administrator may call it.
PLATFORM_ADMINS_OPT = "open_to_platform_admins"
OPEN_TO_PLATFORM_ADMINS = {PLATFORM_ADMINS_OPT: True}


def keep_platform_admins_out(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Application-wide: a platform administrator reaches only the routes marked open to them.

    Deny by default, so a route added later never shows case data to the installation's
    administrators: they administer the installation, not the cases (403 before anything is read).
    """
    principal = connection.scope.get("user")  # absent on public routes and OPTIONS
    if not isinstance(principal, Principal) or not principal.has_any(Role.PLATFORM_ADMIN):
        return
    if not handler.opt.get(PLATFORM_ADMINS_OPT):
        raise PermissionDeniedException(
            "A platform administrator administers the installation: no case data and no organisation's people."
        )
