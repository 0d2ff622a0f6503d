"""The aggregates the metrics report, counted for the worker's refresh (a scrape reads no table)."""

from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mla.alerts.models import Delivery
from mla.deadlines.models import Deadline
from mla.enums import DeadlineStatus


async def open_deadlines_by_bucket(session: AsyncSession, now: datetime, due_soon: timedelta) -> dict[str, int]:
    """Open deadlines counted as `paused`, `overdue`, `due_soon` (within `due_soon` of now) or `later`;
    buckets with none are absent."""
    bucket = case(
        (Deadline.paused_at.is_not(None), "paused"),
        (Deadline.due_at < now, "overdue"),
        (Deadline.due_at < now + due_soon, "due_soon"),
        else_="later",
    )
    query = select(bucket, func.count()).where(Deadline.status == DeadlineStatus.OPEN).group_by(bucket)
    return {name: count for name, count in await session.execute(query)}


async def deliveries_by_status(session: AsyncSession) -> dict[str, int]:
    """Alert deliveries counted by status; statuses with none are absent."""
    query = select(Delivery.status, func.count()).group_by(Delivery.status)
    return {status: count for status, count in await session.execute(query)}
