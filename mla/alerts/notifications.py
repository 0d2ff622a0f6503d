"""A user's in-app notifications: listed newest first and marked read, only ever the caller's own
and only about requests the caller may still see."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from mla.alerts import notification_repository as repository
from mla.alerts.notification_repository import to_out
from mla.alerts.schemas import NotificationOut
from mla.clock import Clock
from mla.errors import NotFound
from mla.pagination import Page
from mla.users.principal import Principal

__all__ = ["list_notifications", "mark_read", "to_out", "unread_count"]


async def list_notifications(
    session: AsyncSession, principal: Principal, unread: bool | None, cursor: str | None, limit: int
) -> Page[NotificationOut]:
    """The caller's notifications, newest first; `unread` True for unread only, False for read only."""
    return await repository.list_notifications(session, principal, unread, cursor, limit)


async def unread_count(session: AsyncSession, principal: Principal) -> int:
    return await repository.unread_count(session, principal)


async def mark_read(
    session: AsyncSession, clock: Clock, principal: Principal, notification_id: uuid.UUID
) -> NotificationOut:
    """Mark one of the caller's notifications read; reading it again keeps the first time.

    Another user's notification, or one about a request the caller may no longer see, is 404,
    exactly like one that does not exist.
    """
    notification = await repository.mark_read(session, principal, notification_id, clock.now())
    if notification is None:
        raise NotFound("No such notification.")
    return notification
