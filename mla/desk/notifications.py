"""The Notifications page: the signed-in user's in-app alerts, and marking them read."""

import uuid
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from mla.alerts import notifications
from mla.clock import Clock
from mla.desk.pages import Cursor, DeskController, Viewer, as_input, go_to, is_htmx, page

PAGE_SIZE = 50


class DeskNotificationController(DeskController):
    path = "/notifications"

    @get("/")
    async def list_notifications(
        self, request: Request[Any, Any, Any], session: AsyncSession, viewer: Viewer
    ) -> Template:
        cursor = as_input(request.query_params, dict[str, Cursor]).get("cursor")
        listing = await notifications.list_notifications(session, viewer.principal, None, cursor, PAGE_SIZE)
        return page(viewer, "notifications.html", listing=listing)

    @get("/unread")
    async def show_unread(self, viewer: Viewer) -> Template:
        """The header's unread count, polled by every page and reloaded when one is marked read."""
        return page(viewer, "_unread.html")

    @post("/{notification_id:uuid}/read")
    async def mark_read(
        self,
        request: Request[Any, Any, Any],
        notification_id: uuid.UUID,
        session: AsyncSession,
        clock: Clock,
        viewer: Viewer,
    ) -> Response[Any]:
        notification = notifications.to_out(
            await notifications.mark_read(session, clock, viewer.principal, notification_id)
        )
        if not is_htmx(request):
            return go_to(request, "/desk/notifications")
        response = page(viewer, "_notification.html", notification=notification)
        response.headers["HX-Trigger"] = "notifications-changed"
        return response
