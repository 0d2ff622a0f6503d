"""Every query of the clocks that follow the workflow: a request's deadlines and the rules they run on."""

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mla.deadlines.models import Deadline, DeadlineRule
from mla.deadlines.stages import PASSED
from mla.enums import Action, DeadlineStatus


async def open_deadlines(session: AsyncSession, request_id: uuid.UUID) -> list[tuple[Deadline, DeadlineRule]]:
    """The request's open clocks, earliest due first, each with its rule; locked until commit."""
    query = (
        select(Deadline, DeadlineRule)
        .join(DeadlineRule, DeadlineRule.id == Deadline.rule_id)
        .where(Deadline.request_id == request_id, Deadline.status == DeadlineStatus.OPEN)
        .order_by(Deadline.due_at)
        .with_for_update(of=Deadline)
    )
    return [(row.Deadline, row.DeadlineRule) for row in await session.execute(query)]


async def all_deadlines(session: AsyncSession, request_id: uuid.UUID) -> list[tuple[Deadline, DeadlineRule]]:
    query = (
        select(Deadline, DeadlineRule)
        .join(DeadlineRule, DeadlineRule.id == Deadline.rule_id)
        .where(Deadline.request_id == request_id)
        .order_by(Deadline.started_at, Deadline.due_at, Deadline.id)
    )
    return [(row.Deadline, row.DeadlineRule) for row in await session.execute(query)]


async def rules_opened_by(session: AsyncSession, action: str) -> list[DeadlineRule]:
    query = select(DeadlineRule).where(DeadlineRule.opens_on == action).order_by(DeadlineRule.code)
    return list(await session.scalars(query))


async def running_due_at(session: AsyncSession, request_id: uuid.UUID) -> datetime | None:
    """The earliest due moment of the request's running (open, not paused) clocks."""
    query = select(func.min(Deadline.due_at)).where(
        Deadline.request_id == request_id, Deadline.status == DeadlineStatus.OPEN, Deadline.paused_at.is_(None)
    )
    return await session.scalar(query)


async def extensions_done(session: AsyncSession, request_id: uuid.UUID, rule_id: uuid.UUID) -> int:
    """How many times the request's clock of this rule was extended."""
    query = (
        select(func.count())
        .select_from(Deadline)
        .where(
            Deadline.request_id == request_id,
            Deadline.rule_id == rule_id,
            Deadline.status == DeadlineStatus.MET,
            Deadline.closed_by_action == Action.EXTEND,
        )
    )
    return int(await session.scalar(query) or 0)


async def passed_unanswered(session: AsyncSession, request_id: uuid.UUID, kind: str) -> datetime | None:
    """When a window of this kind passed without an answer on the request (`met_when_passed`), if it did."""
    query = select(Deadline.due_at).where(
        Deadline.request_id == request_id, Deadline.kind == kind, Deadline.closed_by_action == PASSED
    )
    return await session.scalar(query.limit(1))
