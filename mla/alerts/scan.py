"""Deciding alerts: find the deadlines whose next alert stage is due and record each stage once.

Runs in the worker (its scheduler and its cron), in one transaction per batch: the alerts, the
in-app notifications and the e-mail and webhook deliveries (the outbox) are written together, so a
crash or a Redis outage delays an alert but never loses or duplicates it. Due deadlines are claimed
with `FOR UPDATE SKIP LOCKED`, so any number of workers can scan at once; the unique keys
(deadline, stage), (alert, user) and (alert, channel, recipient) make a second decision a no-op.

The decisions are made in SQL (mla.alerts.repository), three statements a batch whatever its size (JIT off):
claim the due deadlines; record their due stages and reschedule them; fan each alert out to its
recipients. Python renders each alert's texts once per time zone of the organisations it may reach
(mla.alerts.messages), between the last two. Only a window that
passed unanswered and a lapsing preservation are handled one by one, through the workflow.

Who is alerted (issue 10 §5):
- a clock the central authority owns (`rule.responsible == "central_authority"`: its review, an
  incoming request's acknowledgement, execution and preservation) chases the assignee, or, while
  nobody of the authority (or of the prosecution service executing it) is assigned, every officer
  of the authority and every prosecutor of that service; for a confidential request the
  authority's supervisors stand in for its officers (only they may see it). The prosecutor who
  filed it is informed, not chased: an in-app notification of the overdue stage, no e-mail;
- any other clock chases the request's creator and assignee;
- an assignee counts only while active and holding a handling role (prosecutor, officer,
  supervisor): one moved to other duties is chased no more, and an authority clock then chases
  as if nobody were assigned;
- escalations go to the responsible central authority's supervisors;
- a preservation that lapses (its expiry passes) escalates at once, with what was lost.
"""

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mla.alerts import repository
from mla.alerts.messages import DeadlineFacts, Decision, RequestFacts, RuleFacts, alert_message
from mla.alerts.repository import Rendered
from mla.clock import Clock
from mla.counterparties.models import Counterparty
from mla.deadlines.service import close_passed
from mla.enums import RequestStatus
from mla.requests.models import Request
from mla.workflow import service as workflow

PRESERVED = RequestStatus.PRESERVED.value


@dataclass
class ScanReport:
    claimed: int = 0
    deadlines: int = 0
    alerts: int = 0
    skipped: int = 0
    lapsed: int = 0
    passed: int = 0
    deliveries: int = 0
    notifications: int = 0
    stages: list[str] = field(default_factory=list)


async def scan_due_alerts(session: AsyncSession, clock: Clock, batch: int = 500) -> ScanReport:
    """Decide every alert stage due at `clock.now()` for up to `batch` deadlines, in the caller's transaction."""
    now = clock.now()
    report = ScanReport()
    claimed = await repository.claim_due(session, now, batch)
    report.claimed = len(claimed)
    deciding: list[uuid.UUID] = []
    lapsing: list[Request] = []
    for due in claimed:
        if due.passes:
            report.passed += await _close_passed(session, clock, due.deadline_id, due.request_id)
        elif not due.lapses:
            deciding.append(due.deadline_id)
        elif (request := await repository.lock_request(session, due.request_id)) is not None:
            deciding.append(due.deadline_id)  # a request a user holds is left for the next scan
            if request.status == PRESERVED:
                lapsing.append(request)
    decisions = [_decision(row) for row in await repository.decide(session, deciding, now)]
    report.deadlines = len(deciding)
    sent = [d for d in decisions if d.send]
    targets = await repository.counterparties(session, {d.request.target_id for d in sent if d.rule.lapses_request})
    report.notifications, report.deliveries = await repository.fan_out(
        session, [text for d in sent for text in _rendered(d, now, targets)], now
    )
    report.alerts, report.skipped, report.stages = (
        len(decisions),
        len(decisions) - len(sent),
        [d.stage for d in decisions],
    )
    for request in lapsing:
        await workflow.lapse_request(session, clock, request)
        report.lapsed += 1
    return report


async def _close_passed(session: AsyncSession, clock: Clock, deadline_id: uuid.UUID, request_id: uuid.UUID) -> int:
    """Close a window for the other side that passed unanswered; 0 if a user holds the request (retried)."""
    request = await repository.lock_request(session, request_id)
    if request is None:
        return 0
    deadline, rule = await repository.deadline_with_rule(session, deadline_id)
    await close_passed(session, clock, deadline, rule, request)
    return 1


def _decision(row: Any) -> Decision:
    return Decision(
        alert_id=row.alert_id,
        stage=row.stage,
        send=not row.skipped,
        deadline=DeadlineFacts(row.deadline_id, row.kind, row.due_at),
        rule=RuleFacts(row.rule_code, row.rule_name, row.rule_source, row.lapses_request),
        request=RequestFacts(
            row.request_id, row.reference, row.request_status, row.target_id, row.identifiers, row.data_categories
        ),
        zones=row.zones,
    )


def _rendered(d: Decision, now: datetime, targets: dict[uuid.UUID, Counterparty]) -> list[Rendered]:
    """The alert's texts in each time zone it may be read in (the webhook payload's title and text too)."""
    texts = []
    for zone in d.zones:
        title, body = alert_message(d, now, zone, targets.get(d.request.target_id))
        payload = json.dumps(_payload(d, now) | {"title": title, "text": body}, sort_keys=True)
        texts.append(Rendered(d.alert_id, zone, title, body, payload))
    return texts


def _payload(d: Decision, now: datetime) -> dict[str, Any]:
    return {
        "event": "deadline_alert",
        "stage": d.stage,
        "alert_id": str(d.alert_id),
        "occurred_at": now.isoformat(),
        "request": {"id": str(d.request.id), "reference": d.request.reference},
        "deadline": {
            "id": str(d.deadline.id),
            "rule": d.rule.code,
            "kind": d.deadline.kind,
            "due_at": d.deadline.due_at.isoformat(),
        },
    }
