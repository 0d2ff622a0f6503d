"""The in-app notifications' queries: only ever the viewer's own, and only about requests they may
still see (a user moved off a confidential request, or out of a role, no longer reads its alerts)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mla.alerts.models import Notification
from mla.alerts.schemas import NotificationOut
from mla.pagination import Page, keyset, page_of
from mla.requests.models import Request
from mla.requests.repository import visible_to
from mla.users.principal import Principal

_notifications = Notification.__table__.c
_SHOWN = (
    _notifications.id,
    _notifications.request_id,
    _notifications.alert_id,
    _notifications.stage,
    _notifications.title,
    _notifications.body,
    _notifications.created_at,
    _notifications.read_at,
)


def to_out(row: Any) -> NotificationOut:
    return NotificationOut(
        id=row.id,
        request_id=row.request_id,
        alert_id=row.alert_id,
        stage=row.stage,
        title=row.title,
        body=row.body,
        created_at=row.created_at,
        read_at=row.read_at,
        read=row.read_at is not None,
    )


def _readable_by(viewer: Principal) -> ColumnElement[bool]:
    """The viewer's own notifications about requests the viewer may see now."""
    still_visible = exists().where(Request.id == _notifications.request_id, visible_to(viewer))
    return and_(_notifications.user_id == viewer.user_id, still_visible)


async def list_notifications(
    session: AsyncSession, viewer: Principal, unread: bool | None, cursor: str | None, limit: int
) -> Page[NotificationOut]:
    """The viewer's notifications, newest first; `unread` True for unread only, False for read only."""
    query = select(*_SHOWN).where(_readable_by(viewer))
    if unread is True:
        query = query.where(_notifications.read_at.is_(None))
    elif unread is False:
        query = query.where(_notifications.read_at.is_not(None))
    rows = (await session.execute(keyset(query, Notification.created_at, Notification.id, cursor, limit))).all()
    return page_of(rows, limit, to_out)


async def unread_count(session: AsyncSession, viewer: Principal) -> int:
    query = select(func.count()).where(_readable_by(viewer), _notifications.read_at.is_(None))
    return int(await session.scalar(query) or 0)


async def mark_read(
    session: AsyncSession, viewer: Principal, notification_id: uuid.UUID, now: datetime
) -> NotificationOut | None:
    """Mark one of the viewer's notifications read at `now`, unless it already was; None if it is not
    theirs or is about a request they may no longer see."""
    marked = (
        update(Notification.__table__)
        .where(_notifications.id == notification_id, _readable_by(viewer))
        .values(read_at=func.coalesce(_notifications.read_at, now))
        .returning(*_SHOWN)
    )
    row = (await session.execute(marked)).first()
    return None if row is None else to_out(row)
