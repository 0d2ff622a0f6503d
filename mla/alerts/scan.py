"""Deciding alerts: find the deadlines whose next alert stage is due and record each stage once.

Runs in the worker's cron, in one transaction per batch: the alert, the in-app notifications and
the e-mail and webhook deliveries (the outbox) are written together, so a crash or a Redis outage
delays an alert but never loses or duplicates it. Due deadlines are claimed with
`FOR UPDATE SKIP LOCKED`, so any number of workers can scan at once; the unique key
(deadline, stage) makes a second decision of the same stage a no-op.
"""

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import any_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mla.alerts.models import Alert, Delivery, Notification, Webhook
from mla.clock import Clock
from mla.deadlines.models import Deadline, DeadlineRule
from mla.deadlines.service import OPEN, schedule
from mla.deadlines.stages import ESCALATION, OVERDUE, alert_stages, is_reminder
from mla.enums import RequestStatus, Role
from mla.requests.models import Request
from mla.users.models import User
from mla.workflow import service as workflow

STAGE_TITLES = {OVERDUE: "Overdue", ESCALATION: "Escalation"}
PRESERVED = RequestStatus.PRESERVED.value


@dataclass
class ScanReport:
    deadlines: int = 0
    alerts: int = 0
    skipped: int = 0
    lapsed: int = 0
    deliveries: int = 0
    notifications: int = 0
    stages: list[str] = field(default_factory=list)


async def scan_due_alerts(session: AsyncSession, clock: Clock, batch: int = 500) -> ScanReport:
    """Decide every alert stage due at `clock.now()` for up to `batch` deadlines, in the caller's transaction."""
    now = clock.now()
    report = ScanReport()
    query = (
        select(Deadline, DeadlineRule)
        .join(DeadlineRule, DeadlineRule.id == Deadline.rule_id)
        .where(
            Deadline.status == OPEN,
            Deadline.paused_at.is_(None),
            Deadline.next_alert_at.is_not(None),
            Deadline.next_alert_at <= now,
        )
        .order_by(Deadline.next_alert_at)
        .limit(batch)
        .with_for_update(of=Deadline, skip_locked=True)
    )
    for deadline, rule in (await session.execute(query)).all():
        await _decide(session, clock, deadline, rule, now, report)
    return report


def due_stages(deadline: Deadline, rule: DeadlineRule, now: datetime) -> list[tuple[str, datetime, bool]]:
    """Stages due now and not yet fired, each with whether it is sent (False: a stale reminder)."""
    stages = alert_stages(deadline.due_at, timedelta(seconds=deadline.window_seconds), rule.reminder_leads_hours)
    due = [(stage, at) for stage, at in stages if at <= now and stage not in deadline.fired_stages]
    # A reminder is pointless once a later stage is due too: it is recorded, not sent.
    return [(stage, at, not (is_reminder(stage) and index < len(due) - 1)) for index, (stage, at) in enumerate(due)]


async def _decide(
    session: AsyncSession, clock: Clock, deadline: Deadline, rule: DeadlineRule, now: datetime, report: ScanReport
) -> None:
    stages = due_stages(deadline, rule, now)
    lapses = rule.lapses_request and any(stage == OVERDUE for stage, _, _ in stages)
    lapses = (
        lapses and await session.scalar(select(Request.status).where(Request.id == deadline.request_id)) == PRESERVED
    )
    request_query = select(Request).where(Request.id == deadline.request_id)
    # Never wait on a request a user is acting on (that would risk a deadlock): the next scan retries.
    request = await session.scalar(request_query.with_for_update(skip_locked=True) if lapses else request_query)
    if request is None:
        return
    report.deadlines += 1
    for stage, stage_at, send in stages:
        alert_id = await _record_alert(session, deadline, stage, stage_at, now, skipped=not send)
        if alert_id is None:
            continue  # decided by an earlier run
        report.alerts += 1
        report.stages.append(stage)
        if send:
            await _notify(session, request, deadline, rule, stage, alert_id, now, report)
        else:
            report.skipped += 1
    deadline.fired_stages = [*deadline.fired_stages, *(stage for stage, _, _ in stages)]
    schedule(deadline, rule)
    if lapses:
        await workflow.lapse_request(session, clock, request)
        report.lapsed += 1


async def _record_alert(
    session: AsyncSession, deadline: Deadline, stage: str, stage_at: datetime, now: datetime, *, skipped: bool
) -> uuid.UUID | None:
    statement = (
        insert(Alert)
        .values(
            id=uuid.uuid4(),
            deadline_id=deadline.id,
            request_id=deadline.request_id,
            stage=stage,
            stage_at=stage_at,
            decided_at=now,
            skipped=skipped,
        )
        .on_conflict_do_nothing(index_elements=[Alert.deadline_id, Alert.stage])
        .returning(Alert.id)
    )
    return await session.scalar(statement)


async def _notify(
    session: AsyncSession,
    request: Request,
    deadline: Deadline,
    rule: DeadlineRule,
    stage: str,
    alert_id: uuid.UUID,
    now: datetime,
    report: ScanReport,
) -> None:
    title = f"{STAGE_TITLES.get(stage, 'Reminder')}: {request.reference} — {rule.name}"
    body = (
        f"{rule.name} for request {request.reference} is due {deadline.due_at.isoformat()} "
        f"({'overdue' if deadline.due_at <= now else 'not yet due'}).\nLegal source: {rule.source}"
    )
    for user in await _recipients(session, request, stage):
        session.add(
            Notification(
                id=uuid.uuid4(),
                user_id=user.id,
                alert_id=alert_id,
                request_id=request.id,
                stage=stage,
                title=title,
                body=body,
                created_at=now,
            )
        )
        session.add(_delivery(alert_id, "email", user.email, title, body, now))
        report.notifications += 1
        report.deliveries += 1
    payload = {
        "event": "deadline_alert",
        "stage": stage,
        "alert_id": str(alert_id),
        "occurred_at": now.isoformat(),
        "request": {"id": str(request.id), "reference": request.reference},
        "deadline": {
            "id": str(deadline.id),
            "rule": rule.code,
            "kind": deadline.kind,
            "due_at": deadline.due_at.isoformat(),
        },
    }
    for webhook in await _webhooks(session, request, stage):
        delivery = _delivery(alert_id, "webhook", str(webhook.id), title, json.dumps(payload, sort_keys=True), now)
        delivery.webhook_id = webhook.id
        session.add(delivery)
        report.deliveries += 1


def _delivery(alert_id: uuid.UUID, channel: str, recipient: str, subject: str, body: str, now: datetime) -> Delivery:
    return Delivery(
        id=uuid.uuid4(),
        alert_id=alert_id,
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


def _alerted_organisation(request: Request, stage: str) -> uuid.UUID:
    """Escalations go to the responsible central authority; reminders and overdue alerts to the owner."""
    if stage == ESCALATION:
        return request.central_authority_id or request.organisation_id
    return request.organisation_id


async def _recipients(session: AsyncSession, request: Request, stage: str) -> list[User]:
    """Owner and assignee for reminders and overdue alerts; the authority's supervisors for escalations."""
    if stage == ESCALATION:
        query = select(User).where(
            User.organisation_id == _alerted_organisation(request, stage),
            Role.SUPERVISOR.value == any_(User.roles),
            User.active.is_(True),
        )
    else:
        people = {request.created_by, request.assignee_id} - {None}
        query = select(User).where(User.id.in_(people), User.active.is_(True))
    return list(await session.scalars(query.order_by(User.id)))


async def _webhooks(session: AsyncSession, request: Request, stage: str) -> list[Webhook]:
    query = select(Webhook).where(
        Webhook.organisation_id == _alerted_organisation(request, stage), Webhook.active.is_(True)
    )
    return list(await session.scalars(query.order_by(Webhook.id)))
