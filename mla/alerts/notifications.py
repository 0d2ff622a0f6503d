"""A user's in-app notifications: listed newest first and marked read, only ever the caller's own."""

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mla.alerts.models import Notification
from mla.alerts.schemas import NotificationOut
from mla.clock import Clock
from mla.errors import NotFound
from mla.pagination import Page, fetch_page
from mla.users.principal import Principal


def to_out(notification: Notification) -> NotificationOut:
    return NotificationOut(
        id=notification.id,
        request_id=notification.request_id,
        alert_id=notification.alert_id,
        stage=notification.stage,
        title=notification.title,
        body=notification.body,
        created_at=notification.created_at,
        read_at=notification.read_at,
        read=notification.read_at is not None,
    )


async def list_notifications(
    session: AsyncSession, principal: Principal, unread: bool | None, cursor: str | None, limit: int
) -> Page[NotificationOut]:
    """The caller's notifications, newest first; `unread` True for unread only, False for read only."""
    query = select(Notification).where(Notification.user_id == principal.user_id)
    if unread is True:
        query = query.where(Notification.read_at.is_(None))
    elif unread is False:
        query = query.where(Notification.read_at.is_not(None))
    return await fetch_page(session, query, Notification, cursor, limit, to_out)


async def unread_count(session: AsyncSession, principal: Principal) -> int:
    query = select(func.count()).where(Notification.user_id == principal.user_id, Notification.read_at.is_(None))
    return int(await session.scalar(query) or 0)


async def mark_read(
    session: AsyncSession, clock: Clock, principal: Principal, notification_id: uuid.UUID
) -> Notification:
    """Mark one of the caller's notifications read; reading it again keeps the first time.

    Another user's notification is 404, exactly like one that does not exist.
    """
    notification = await session.scalar(
        select(Notification)
        .where(Notification.id == notification_id, Notification.user_id == principal.user_id)
        .with_for_update()
    )
    if notification is None:
        raise NotFound("No such notification.")
    if notification.read_at is None:
        notification.read_at = clock.now()
    return notification
