"""The deadline calculator: what an action would open, computed exactly as for a real request."""

import uuid
from datetime import datetime

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mla.deadlines.models import Deadline, DeadlineRule
from mla.deadlines.schemas import DeadlineOut, DeadlinePreview
from mla.deadlines.service import applicable_rules, compute, rule_duration
from mla.errors import Unprocessable
from mla.fields import check_moment
from mla.instruments.models import Instrument
from mla.organisations.models import Organisation


class PreviewQuery(msgspec.Struct, kw_only=True):
    instrument: str
    type: str
    action: str
    start: datetime
    urgency: str
    direction: str
    organisation_id: uuid.UUID
    data_categories: list[str] | None


def deadline_out(deadline: Deadline, rule: DeadlineRule) -> DeadlineOut:
    return DeadlineOut(
        id=deadline.id,
        kind=deadline.kind,
        rule=deadline.rule_code,
        rule_name=rule.name,
        status=deadline.status,
        started_at=deadline.started_at,
        due_at=deadline.due_at,
        paused_at=deadline.paused_at,
        closed_at=deadline.closed_at,
        closed_by_action=deadline.closed_by_action,
        next_alert_at=deadline.next_alert_at,
        explanation=deadline.explanation,
    )


async def preview(session: AsyncSession, query: PreviewQuery) -> list[DeadlinePreview]:
    """Refuses a naive start, an unknown instrument or organisation (422)."""
    if query.start.tzinfo is None:
        raise _invalid("start", "give an RFC 3339 time with an offset")
    try:
        check_moment(query.start)  # the arithmetic would overflow past year 9999 (a 500)
    except ValueError as error:
        raise _invalid("start", str(error)) from None
    instrument = await session.scalar(select(Instrument).where(Instrument.code == query.instrument))
    if instrument is None:
        raise _invalid("instrument", f"no instrument with code {query.instrument!r}")
    organisation = await session.get(Organisation, query.organisation_id)
    if organisation is None:
        raise _invalid("organisation_id", "no such organisation")
    rules = await applicable_rules(
        session,
        query.action,
        instrument=query.instrument,
        request_type=query.type,
        direction=query.direction,
        data_categories=query.data_categories,
    )
    previews = []
    for rule in rules:
        duration = rule_duration(rule, query.urgency, instrument)
        if duration is not None:
            due = compute(rule, duration, query.start, organisation, rule.name)
            previews.append(
                DeadlinePreview(
                    kind=rule.kind, rule=rule.code, rule_name=rule.name, due_at=due.due_at, explanation=due.explanation
                )
            )
    return previews


def _invalid(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}", errors=[{"field": field, "message": message}])
