"""Every query of the deadline rules' administration: the rules, and the open clocks an edit recomputes.

Rules and deadlines are `DeadlineRule` and `Deadline` objects here: an edit changes the rule's fields
and recomputes each open clock of it through the deadlines' own arithmetic (mla/deadlines/service.py),
which moves the objects it is given; the unit of work then writes every clock that moved. Rare
admin work, in one transaction.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from mla.deadlines.models import Deadline, DeadlineRule
from mla.deadlines.schemas import DeadlineRuleOut
from mla.enums import Action, DeadlineStatus
from mla.requests.models import Request
from mla.rows import columns_of, to_struct

_RULE_OUT_COLUMNS = columns_of(DeadlineRule.__table__, DeadlineRuleOut)


async def all_rules(session: AsyncSession) -> list[DeadlineRuleOut]:
    """Every rule (a dozen rows), ordered by code."""
    rows = await session.execute(select(*_RULE_OUT_COLUMNS).order_by(DeadlineRule.code))
    return [to_struct(row, DeadlineRuleOut) for row in rows]


async def rule(session: AsyncSession, code: str, *, for_update: bool = False) -> DeadlineRule | None:
    query = select(DeadlineRule).where(DeadlineRule.code == code)
    return await session.scalar(query.with_for_update() if for_update else query)


async def rule_codes(session: AsyncSession) -> set[str]:
    return set(await session.scalars(select(DeadlineRule.code)))


async def add_rules(session: AsyncSession, rules: Iterable[DeadlineRule]) -> None:
    session.add_all(rules)
    await session.flush()


async def opening_actions(session: AsyncSession) -> set[str]:
    """Every action some rule opens its clock on."""
    return set(await session.scalars(select(DeadlineRule.opens_on).distinct()))


def _with_open_clock(rule_id: uuid.UUID) -> Select[Any]:
    """The ids of the requests with an open clock of the rule (an alias: never correlated with a query
    on the deadlines that embeds it)."""
    clock = aliased(Deadline)
    return select(clock.request_id).where(clock.rule_id == rule_id, clock.status == DeadlineStatus.OPEN)


async def requests_with_open_clock(session: AsyncSession, rule_id: uuid.UUID) -> list[Request]:
    """The requests with an open clock of the rule, locked in id order (as the workflow locks them)."""
    query = select(Request).where(Request.id.in_(_with_open_clock(rule_id))).order_by(Request.id).with_for_update()
    return list(await session.scalars(query))


async def open_clocks_by_request(session: AsyncSession, rule_id: uuid.UUID) -> dict[uuid.UUID, list[Deadline]]:
    """The rule's open clocks, locked, by request, earliest due first."""
    query = (
        select(Deadline)
        .where(Deadline.rule_id == rule_id, Deadline.status == DeadlineStatus.OPEN)
        .order_by(Deadline.request_id, Deadline.due_at, Deadline.id)
        .with_for_update()
    )
    clocks: dict[uuid.UUID, list[Deadline]] = {}
    for deadline in await session.scalars(query):
        clocks.setdefault(deadline.request_id, []).append(deadline)
    return clocks


async def extended_expiries(session: AsyncSession, rule_id: uuid.UUID) -> set[tuple[uuid.UUID, datetime]]:
    """(request, moment) pairs where an extension of the rule started, for requests with an open clock of
    it: the expiry that `extend` closed."""
    query = select(Deadline.request_id, Deadline.due_at).where(
        Deadline.rule_id == rule_id,
        Deadline.request_id.in_(_with_open_clock(rule_id)),
        Deadline.status == DeadlineStatus.MET,
        Deadline.closed_by_action == Action.EXTEND,
    )
    return {(row.request_id, row.due_at) for row in await session.execute(query)}
