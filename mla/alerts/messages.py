"""The texts of an alert, as its recipient reads them: e-mails, in-app notifications and the
`title`/`text` of webhook payloads give times in the recipient's time zone (`mla.local_time`).

Users have no time zone of their own: a user reads their organisation's, and a webhook its
organisation's. Machine-readable fields (the webhook payload's `due_at`, the API's JSON) stay in UTC.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from mla.counterparties.models import Counterparty
from mla.deadlines.stages import ESCALATION, OVERDUE
from mla.enums import RequestStatus
from mla.local_time import local_time

STAGE_TITLES = {OVERDUE: "Overdue", ESCALATION: "Escalation"}


@dataclass(frozen=True, slots=True)
class DeadlineFacts:
    id: uuid.UUID
    kind: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class RuleFacts:
    code: str
    name: str
    source: str
    lapses_request: bool


@dataclass(frozen=True, slots=True)
class RequestFacts:
    id: uuid.UUID
    reference: str
    status: str  # before the scan lapses it
    target_id: uuid.UUID
    identifiers: list[dict[str, str]]
    data_categories: list[str]


@dataclass(frozen=True, slots=True)
class Decision:
    """One stage of one deadline, recorded now, with what its texts say."""

    alert_id: uuid.UUID
    stage: str
    send: bool  # False for a stale reminder: recorded, never sent
    deadline: DeadlineFacts
    rule: RuleFacts
    request: RequestFacts
    zones: list[str]  # the time zones of every organisation whose people or webhooks it may reach


def alert_message(d: Decision, now: datetime, zone: str, target: Counterparty | None) -> tuple[str, str]:
    """(title, body) of an alert for a reader in `zone`; a lapsed preservation says what was lost."""
    if d.rule.lapses_request and d.stage in (OVERDUE, ESCALATION):
        return _lapse_message(d, zone, target)
    reference, rule = d.request.reference, d.rule
    title = f"{STAGE_TITLES.get(d.stage, 'Reminder')}: {reference} — {rule.name}"
    body = (
        f"{rule.name} for request {reference} is due {local_time(d.deadline.due_at, zone)} "
        f"({'overdue' if d.deadline.due_at <= now else 'not yet due'}).\nLegal source: {rule.source}"
    )
    return title, body


def _lapse_message(d: Decision, zone: str, target: Counterparty | None) -> tuple[str, str]:
    """What was lost when a preservation lapsed: who held the data, which categories, which identifiers."""
    request = d.request
    holder = "the counterparty" if target is None else f"{target.name} ({target.kind}, {target.country})"
    identifiers = "; ".join(f"{i['kind']} {i['value']}" for i in request.identifiers) or "none recorded"
    title = f"Preservation lapsed: {request.reference} — {d.rule.name}"
    unconfirmed = "" if request.status == RequestStatus.PRESERVED else f"{holder} never confirmed the preservation.\n"
    body = (
        f"The preservation of request {request.reference} lapsed at {local_time(d.deadline.due_at, zone)}: "
        f"{holder} is no longer bound to keep the data.\n{unconfirmed}"
        f"Lost: {', '.join(request.data_categories) or 'no category recorded'} data for {identifiers}.\n"
        f"Legal source: {d.rule.source}"
    )
    return title, body
