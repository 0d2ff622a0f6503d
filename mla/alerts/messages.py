"""The texts of an alert, as its recipient reads them: e-mails, in-app notifications and the
`title`/`text` of webhook payloads give times in the recipient's time zone (`mla.local_time`).

Users have no time zone of their own: a user reads their organisation's, and a webhook its
organisation's. Machine-readable fields (the webhook payload's `due_at`, the API's JSON) stay in UTC.
"""

from dataclasses import dataclass
from datetime import datetime

from mla.counterparties.models import Counterparty
from mla.deadlines.models import DeadlineRule
from mla.deadlines.stages import ESCALATION, OVERDUE
from mla.enums import RequestStatus
from mla.local_time import local_time
from mla.requests.models import Request

STAGE_TITLES = {OVERDUE: "Overdue", ESCALATION: "Escalation"}


@dataclass(frozen=True)
class AlertMoment:
    """What an alert is about: one stage of one deadline of a request."""

    rule: DeadlineRule
    request: Request
    stage: str
    due_at: datetime


def alert_message(alert: AlertMoment, now: datetime, zone: str, target: Counterparty | None) -> tuple[str, str]:
    """(title, body) of an alert for a reader in `zone`; a lapsed preservation says what was lost."""
    if alert.rule.lapses_request and alert.stage in (OVERDUE, ESCALATION):
        return _lapse_message(alert, zone, target)
    reference, rule = alert.request.reference, alert.rule
    title = f"{STAGE_TITLES.get(alert.stage, 'Reminder')}: {reference} — {rule.name}"
    body = (
        f"{rule.name} for request {reference} is due {local_time(alert.due_at, zone)} "
        f"({'overdue' if alert.due_at <= now else 'not yet due'}).\nLegal source: {rule.source}"
    )
    return title, body


def _lapse_message(alert: AlertMoment, zone: str, target: Counterparty | None) -> tuple[str, str]:
    """What was lost when a preservation lapsed: who held the data, which categories, which identifiers."""
    request = alert.request
    holder = "the counterparty" if target is None else f"{target.name} ({target.kind}, {target.country})"
    identifiers = "; ".join(f"{i['kind']} {i['value']}" for i in request.identifiers) or "none recorded"
    title = f"Preservation lapsed: {request.reference} — {alert.rule.name}"
    unconfirmed = "" if request.status == RequestStatus.PRESERVED else f"{holder} never confirmed the preservation.\n"
    body = (
        f"The preservation of request {request.reference} lapsed at {local_time(alert.due_at, zone)}: "
        f"{holder} is no longer bound to keep the data.\n{unconfirmed}"
        f"Lost: {', '.join(request.data_categories) or 'no category recorded'} data for {identifiers}.\n"
        f"Legal source: {alert.rule.source}"
    )
    return title, body
