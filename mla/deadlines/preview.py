"""The deadline calculator: what an action would open, computed exactly as for a real request."""

import uuid
from datetime import datetime

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from mla.counterparties import repository as counterparties
from mla.deadlines import rules_repository
from mla.deadlines.models import Deadline, DeadlineRule
from mla.deadlines.schemas import DeadlineOut, DeadlinePreview
from mla.deadlines.service import (
    NOTIFIABLE_CATEGORIES,
    NOTIFIED,
    WITHOUT_VALIDATION,
    Parties,
    applicable_rules,
    compute,
    explain,
    rule_duration,
    source_verified,
)
from mla.enums import OrganisationKind
from mla.errors import Unprocessable
from mla.fields import check_country, check_moment
from mla.instruments import repository as instruments
from mla.instruments.schemas import InstrumentOut
from mla.organisations import repository as organisations
from mla.workflow.table import Action


class PreviewQuery(msgspec.Struct, kw_only=True):
    instrument: str
    type: str
    action: str
    start: datetime
    urgency: str
    direction: str
    organisation_id: uuid.UUID
    data_categories: list[str] | None
    # The party who must answer: its calendar counts for the counterparty's clocks.
    counterparty_id: uuid.UUID | None = None
    # An EPOC notified to this state's enforcing authority (Reg. 2023/1543 art 8).
    enforcing_state: str | None = None
    # An emergency order issued without prior validation (art 4(5)).
    without_prior_validation: bool = False

    def conditions(self) -> frozenset[str]:
        held = set()
        notifiable = self.data_categories is None or NOTIFIABLE_CATEGORIES & set(self.data_categories)
        if self.enforcing_state is not None and notifiable:
            held.add(NOTIFIED)
        if self.without_prior_validation:
            held.add(WITHOUT_VALIDATION)
        return frozenset(held)


def deadline_out(deadline: Deadline, rule: DeadlineRule, instrument: InstrumentOut) -> DeadlineOut:
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
        counting=rule.counting,
        source_verified=source_verified(rule, instrument),
    )


async def preview(session: AsyncSession, query: PreviewQuery) -> list[DeadlinePreview]:
    """Refuses a naive start, an unknown instrument, action, organisation or counterparty, a request type or
    direction the instrument does not provide for, a bad state code (422)."""
    if query.start.tzinfo is None:
        raise _invalid("start", "give an RFC 3339 time with an offset")
    try:
        check_moment(query.start)  # the arithmetic would overflow past year 9999 (a 500)
    except ValueError as error:
        raise _invalid("start", str(error)) from None
    instrument = await instruments.instrument(session, query.instrument)
    if instrument is None:
        raise _invalid("instrument", f"no instrument with code {query.instrument!r}")
    _check_instrument_allows(instrument, query)
    await _check_known_action(session, query.action)
    parties = await _parties(session, query)
    rules = await applicable_rules(
        session,
        query.action,
        instrument=query.instrument,
        request_type=query.type,
        direction=query.direction,
        data_categories=query.data_categories,
        conditions=query.conditions(),
    )
    previews = []
    for rule in rules:
        duration = rule_duration(rule, query.urgency, instrument)
        if duration is not None:
            calendar = parties.calendar(rule)
            due = compute(rule, duration, query.start, calendar, rule.name)
            previews.append(
                DeadlinePreview(
                    kind=rule.kind,
                    rule=rule.code,
                    rule_name=rule.name,
                    due_at=due.due_at,
                    explanation=explain(due, rule, instrument, calendar),
                    counting=rule.counting,
                    source_verified=source_verified(rule, instrument),
                    country=calendar.country,
                    timezone=calendar.timezone,
                )
            )
    return previews


def _check_instrument_allows(instrument: InstrumentOut, query: PreviewQuery) -> None:
    for field, value, allowed in (
        ("type", query.type, instrument.request_types),
        ("direction", query.direction, instrument.directions),
    ):
        if value not in allowed:
            raise _invalid(field, f"{instrument.code} does not provide for '{value}'; it allows {', '.join(allowed)}")


async def _check_known_action(session: AsyncSession, action: str) -> None:
    """A workflow action, or one a rule opens its clock on (`receive`): anything else is a typo, not "no clock"."""
    known = {str(known_action) for known_action in Action} | await rules_repository.opening_actions(session)
    if action not in known:
        raise _invalid("action", f"no action {action!r}; the actions are {', '.join(sorted(known))}")


async def _parties(session: AsyncSession, query: PreviewQuery) -> Parties:
    """The organisation, its central authority, the counterparty and the notified state of the query."""
    organisation = await organisations.organisation(session, query.organisation_id)
    if organisation is None:
        raise _invalid("organisation_id", "no such organisation")
    authority = organisation if organisation.kind == OrganisationKind.CENTRAL_AUTHORITY else None
    if organisation.central_authority_id is not None and authority is None:
        authority = await organisations.organisation(session, organisation.central_authority_id)
    counterparty = None
    if query.counterparty_id is not None:
        counterparty = await counterparties.counterparty(session, query.counterparty_id)
        if counterparty is None:
            raise _invalid("counterparty_id", "no such counterparty")
    enforcing_state = query.enforcing_state
    if enforcing_state is not None:
        try:
            enforcing_state = check_country(enforcing_state)
        except ValueError as error:
            raise _invalid("enforcing_state", str(error)) from None
    return Parties(owner=organisation, authority=authority, counterparty=counterparty, enforcing_state=enforcing_state)


def _invalid(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}", errors=[{"field": field, "message": message}])
