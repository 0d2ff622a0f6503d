"""The desk's routes under /desk, their session, CSRF check and error pages, and how the app takes them in."""

from typing import Any

from litestar import Request, Router, get
from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol
from litestar.response import Redirect

from mla.desk.assets import static_router
from mla.desk.auth import DeskAuthController
from mla.desk.filing import DeskFilingController
from mla.desk.notifications import DeskNotificationController
from mla.desk.pages import EXCEPTION_HANDLERS, TEMPLATE_CONFIG
from mla.desk.queue import DeskQueueController
from mla.desk.request_page import DeskRequestController
from mla.desk.session import DeskSessionMiddleware, signed_in, verify_csrf
from mla.desk.statistics import DeskStatisticsController
from mla.queue.service import QUEUE_ROLES
from mla.users.principal import Principal


@get("/", guards=[signed_in])
async def home(request: Request[Principal, Any, Any]) -> Redirect:
    """Officers start at their queue; everyone else at the requests they follow."""
    return Redirect("/desk/queue" if request.user.has_any(*QUEUE_ROLES) else "/desk/requests", status_code=303)


@get("/", opt={"exclude_from_auth": True}, include_in_schema=False)
async def root() -> Redirect:
    """The site's address opens the desk."""
    return Redirect("/desk/", status_code=303)


def desk_router() -> Router:
    return Router(
        path="/desk",
        route_handlers=[
            home,
            DeskAuthController,
            DeskQueueController,
            DeskRequestController,
            DeskNotificationController,
            DeskFilingController,
            DeskStatisticsController,
        ],
        middleware=[DeskSessionMiddleware()],
        before_request=verify_csrf,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        # The desk signs in with its session cookie; the API's bearer middleware leaves it alone.
        opt={"exclude_from_auth": True},
        include_in_schema=False,
    )


class DeskPlugin(InitPluginProtocol):
    """Adds the desk's pages, its static files and its templates to the app."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend([root, desk_router(), static_router()])
        app_config.template_config = TEMPLATE_CONFIG
        return app_config
