import uuid

from litestar import Controller, get, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from mla.alerts import notifications as service
from mla.alerts.schemas import NotificationOut
from mla.clock import Clock
from mla.pagination import DEFAULT_LIMIT, Page
from mla.users.principal import Principal


class NotificationController(Controller):
    path = "/api/v1/notifications"
    tags = ["notifications"]

    @get("/")
    async def list_notifications(
        self,
        session: AsyncSession,
        principal: Principal,
        unread: bool | None = Parameter(default=None, description="true: unread only; false: read only; absent: all"),
        cursor: str | None = None,
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=200),
    ) -> Page[NotificationOut]:
        """My notifications, newest first

        Any signed-in user of an organisation: the caller's own in-app alerts (reminders, overdue and
        escalations of deadlines), `unread` to filter.
        """
        return await service.list_notifications(session, principal, unread, cursor, limit)

    # 200: marking read changes a notification, it creates nothing; repeating it changes nothing.
    @post("/{notification_id:uuid}/read", status_code=HTTP_200_OK)
    async def mark_read(
        self, notification_id: uuid.UUID, session: AsyncSession, clock: Clock, principal: Principal
    ) -> NotificationOut:
        """Mark one of my notifications read

        The notification's recipient only (anyone else's is 404). Idempotent. Answers the notification.
        """
        return await service.mark_read(session, clock, principal, notification_id)
