"""Every query of the clocks that follow the workflow: a request's deadlines and the rules they run on."""

import uuid
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mla.counterparties.models import Counterparty
from mla.deadlines.models import Deadline, DeadlineRule
from mla.deadlines.stages import PASSED
from mla.enums import Action, DeadlineStatus

DEADLINES = Deadline.__table__


class DeadlineRow(msgspec.Struct, kw_only=True):
    """A deadline row as an action works on it: changed in place, then written back (only what changed)."""

    id: uuid.UUID
    request_id: uuid.UUID
    rule_id: uuid.UUID
    kind: str
    rule_code: str
    status: str
    started_at: datetime
    due_at: datetime
    window_seconds: int
    explanation: str
    paused_at: datetime | None = None
    next_alert_at: datetime | None = None
    fired_stages: list[str] = msgspec.field(default_factory=list)
    alert_stages: list[str] = msgspec.field(default_factory=list)
    alert_stage_times: list[datetime] = msgspec.field(default_factory=list)
    closed_at: datetime | None = None
    closed_by_action: str | None = None
    created_at: datetime

    def values(self) -> dict[str, Any]:
        return msgspec.structs.asdict(self)


class CounterpartyCalendarRow(msgspec.Struct, kw_only=True):
    """Whose calendar a counterparty's clock runs on."""

    kind: str
    name: str
    country: str
    timezone: str


async def open_deadlines(session: AsyncSession, request_id: uuid.UUID) -> list[DeadlineRow]:
    """The request's open clocks, earliest due first; locked until commit."""
    query = (
        select(DEADLINES)
        .where(DEADLINES.c.request_id == request_id, DEADLINES.c.status == DeadlineStatus.OPEN)
        .order_by(DEADLINES.c.due_at)
        .with_for_update()
    )
    return [DeadlineRow(**row) for row in (await session.execute(query)).mappings()]


async def insert_deadlines(session: AsyncSession, deadlines: list[DeadlineRow]) -> None:
    """The clocks an action opened, in one statement."""
    if deadlines:
        await session.execute(insert(DEADLINES), [deadline.values() for deadline in deadlines])


async def update_deadline(session: AsyncSession, deadline_id: uuid.UUID, changes: dict[str, Any]) -> None:
    await session.execute(update(DEADLINES).where(DEADLINES.c.id == deadline_id).values(changes))


async def counterparty_calendar(session: AsyncSession, counterparty_id: uuid.UUID) -> CounterpartyCalendarRow:
    table = Counterparty.__table__
    columns = [table.c[name] for name in CounterpartyCalendarRow.__struct_fields__]
    found = (await session.execute(select(*columns).where(table.c.id == counterparty_id))).mappings().one()
    return CounterpartyCalendarRow(**found)


async def all_deadlines(session: AsyncSession, request_id: uuid.UUID) -> list[tuple[Deadline, DeadlineRule]]:
    query = (
        select(Deadline, DeadlineRule)
        .join(DeadlineRule, DeadlineRule.id == Deadline.rule_id)
        .where(Deadline.request_id == request_id)
        .order_by(Deadline.started_at, Deadline.due_at, Deadline.id)
    )
    return [(row.Deadline, row.DeadlineRule) for row in await session.execute(query)]


async def running_due_at(session: AsyncSession, request_id: uuid.UUID) -> datetime | None:
    """The earliest due moment of the request's running (open, not paused) clocks, the session's pending ORM
    changes to them included."""
    await session.flush()
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
