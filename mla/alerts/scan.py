"""Deciding alerts: find the deadlines whose next alert stage is due and record each stage once.

Runs in the worker's cron, in one transaction per batch: the alerts, the in-app notifications and
the e-mail and webhook deliveries (the outbox) are written together, so a crash or a Redis outage
delays an alert but never loses or duplicates it. Due deadlines are claimed with
`FOR UPDATE SKIP LOCKED`, so any number of workers can scan at once; the unique key
(deadline, stage) makes a second decision of the same stage a no-op.

A batch costs a fixed number of statements whatever its size (claim, requests, alerts, recipients,
webhooks, notifications, deliveries, deadline updates): only a lapsing preservation is handled on
its own, through the workflow.

Who is alerted (issue 10 §5):
- a clock the central authority owns (`rule.responsible == "central_authority"`: its review, an
  incoming request's acknowledgement, execution and preservation) chases the assignee, or, while
  nobody of the authority (or of the prosecution service executing it) is assigned, every officer
  of the authority and every prosecutor of that service; for a confidential request the
  authority's supervisors stand in for its officers (only they may see it). The prosecutor who
  filed it is informed, not chased: an in-app notification of the overdue stage, no e-mail;
- any other clock chases the request's creator and assignee;
- escalations go to the responsible central authority's supervisors;
- a preservation that lapses (its expiry passes) escalates at once, with what was lost.
"""

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import any_, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mla.alerts.models import Alert, Delivery, Notification, Webhook
from mla.clock import Clock
from mla.counterparties.models import Counterparty
from mla.deadlines.models import Deadline, DeadlineRule
from mla.deadlines.service import OPEN, close_passed, schedule
from mla.deadlines.stages import ESCALATION, OVERDUE, alert_stages, is_reminder
from mla.enums import RequestStatus, Role
from mla.requests.models import Request
from mla.users.models import User
from mla.workflow import service as workflow

STAGE_TITLES = {OVERDUE: "Overdue", ESCALATION: "Escalation"}
PRESERVED = RequestStatus.PRESERVED.value
CENTRAL_AUTHORITY_CLOCK = "central_authority"


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


@dataclass(frozen=True)
class Decision:
    """One stage of one deadline, to record now; `send` is False for a stale reminder."""

    deadline: Deadline
    rule: DeadlineRule
    request: Request
    stage: str
    stage_at: datetime
    send: bool


async def scan_due_alerts(session: AsyncSession, clock: Clock, batch: int = 500) -> ScanReport:
    """Decide every alert stage due at `clock.now()` for up to `batch` deadlines, in the caller's transaction."""
    now = clock.now()
    report = ScanReport()
    claimed = await _claim_due(session, now, batch)
    report.claimed = len(claimed)
    requests = await _requests_of(session, [deadline for deadline, _ in claimed])
    decisions: list[Decision] = []
    lapsing: list[Request] = []
    for deadline, rule in claimed:
        request = requests[deadline.request_id]
        if rule.met_when_passed:
            report.passed += await _close_passed(session, clock, deadline, rule, request)
            continue
        stages = due_stages(deadline, rule, now)
        if rule.lapses_request and request.status == PRESERVED and any(s == OVERDUE for s, _, _ in stages):
            still_preserved = await _lock_for_lapse(session, request)
            if still_preserved is None:
                continue  # a user is acting on it: never wait (deadlock risk); the next scan retries
            if still_preserved:
                lapsing.append(request)
        decisions += [Decision(deadline, rule, request, stage, at, send) for stage, at, send in stages]
        deadline.fired_stages = [*deadline.fired_stages, *(stage for stage, _, _ in stages)]
        schedule(deadline, rule)
        report.deadlines += 1
    recorded = await _record_alerts(session, decisions, now)
    new = [d for d in decisions if (d.deadline.id, d.stage) in recorded]  # the rest: decided by an earlier run
    await _notify(session, [d for d in new if d.send], recorded, now, report)
    report.alerts, report.skipped, report.stages = len(new), sum(not d.send for d in new), [d.stage for d in new]
    for request in lapsing:
        await workflow.lapse_request(session, clock, request)
        report.lapsed += 1
    return report


async def _close_passed(
    session: AsyncSession, clock: Clock, deadline: Deadline, rule: DeadlineRule, request: Request
) -> int:
    """Close a window for the other side that passed unanswered; 0 if a user holds the request (retried)."""
    query = select(Request.id).where(Request.id == request.id).with_for_update(skip_locked=True)
    if await session.scalar(query) is None:
        return 0
    await session.refresh(request)
    await close_passed(session, clock, deadline, rule, request)
    return 1


def due_stages(deadline: Deadline, rule: DeadlineRule, now: datetime) -> list[tuple[str, datetime, bool]]:
    """Stages due now and not yet fired, each with whether it is sent (False: a stale reminder)."""
    stages = alert_stages(
        deadline.due_at,
        timedelta(seconds=deadline.window_seconds),
        rule.reminder_leads_hours,
        met_when_passed=rule.met_when_passed,
    )
    if rule.lapses_request:  # a lapsed preservation is lost evidence: it escalates at once
        stages = [(stage, deadline.due_at if stage == ESCALATION else at) for stage, at in stages]
    due = [(stage, at) for stage, at in stages if at <= now and stage not in deadline.fired_stages]
    # A reminder is pointless once a later stage is due too: it is recorded, not sent.
    return [(stage, at, not (is_reminder(stage) and index < len(due) - 1)) for index, (stage, at) in enumerate(due)]


async def _claim_due(session: AsyncSession, now: datetime, batch: int) -> list[tuple[Deadline, DeadlineRule]]:
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
    return [(deadline, rule) for deadline, rule in (await session.execute(query)).all()]


async def _requests_of(session: AsyncSession, deadlines: list[Deadline]) -> dict[uuid.UUID, Request]:
    ids = {deadline.request_id for deadline in deadlines}
    return {request.id: request for request in await session.scalars(select(Request).where(Request.id.in_(ids)))}


async def _lock_for_lapse(session: AsyncSession, request: Request) -> bool | None:
    """Lock a request about to lapse and reload it: None if a user holds it, else whether it is still preserved."""
    query = select(Request.id).where(Request.id == request.id).with_for_update(skip_locked=True)
    if await session.scalar(query) is None:
        return None
    await session.refresh(request)
    return request.status == PRESERVED


async def _record_alerts(
    session: AsyncSession, decisions: list[Decision], now: datetime
) -> dict[tuple[uuid.UUID, str], uuid.UUID]:
    """Insert every decision's alert at once; returns the ones that were new, by (deadline, stage)."""
    if not decisions:
        return {}
    rows = [
        {
            "id": uuid.uuid4(),
            "deadline_id": d.deadline.id,
            "request_id": d.request.id,
            "stage": d.stage,
            "stage_at": d.stage_at,
            "decided_at": now,
            "skipped": not d.send,
        }
        for d in decisions
    ]
    statement = (
        insert(Alert)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[Alert.deadline_id, Alert.stage])
        .returning(Alert.deadline_id, Alert.stage, Alert.id)
    )
    return {(deadline_id, stage): alert_id for deadline_id, stage, alert_id in await session.execute(statement)}


async def _notify(
    session: AsyncSession,
    decisions: list[Decision],
    recorded: dict[tuple[uuid.UUID, str], uuid.UUID],
    now: datetime,
    report: ScanReport,
) -> None:
    """In-app notifications and e-mails to the people chased, in-app only to those informed, and
    signed webhooks of the organisation alerted."""
    people = await _people(session, decisions)
    webhooks = await _webhooks(session, decisions)
    targets = await _targets(session, [d.request for d in decisions if d.rule.lapses_request])
    notifications: list[dict[str, Any]] = []
    deliveries: list[dict[str, Any]] = []
    for d in decisions:
        alert_id = recorded[(d.deadline.id, d.stage)]
        title, body = _message(d, now, targets)
        chased, informed = people.recipients(d)
        for user in [*chased, *informed]:
            notifications.append(
                {
                    "id": uuid.uuid4(),
                    "user_id": user.id,
                    "alert_id": alert_id,
                    "request_id": d.request.id,
                    "stage": d.stage,
                    "title": title,
                    "body": body,
                    "created_at": now,
                }
            )
        deliveries += [_delivery(alert_id, "email", user.email, title, body, now) for user in chased]
        payload = json.dumps(_payload(d, alert_id, now), sort_keys=True)
        for webhook in webhooks.get(_alerted_organisation(d), []):
            deliveries.append(
                _delivery(alert_id, "webhook", str(webhook.id), title, payload, now) | {"webhook_id": webhook.id}
            )
    if notifications:
        await session.execute(insert(Notification), notifications)
    if deliveries:
        await session.execute(insert(Delivery), deliveries)
    report.notifications, report.deliveries = len(notifications), len(deliveries)


def _message(d: Decision, now: datetime, targets: dict[uuid.UUID, Counterparty]) -> tuple[str, str]:
    if d.rule.lapses_request and d.stage in (OVERDUE, ESCALATION):
        return _lapse_message(d, targets.get(d.request.target_id))
    title = f"{STAGE_TITLES.get(d.stage, 'Reminder')}: {d.request.reference} — {d.rule.name}"
    body = (
        f"{d.rule.name} for request {d.request.reference} is due {d.deadline.due_at.isoformat()} "
        f"({'overdue' if d.deadline.due_at <= now else 'not yet due'}).\nLegal source: {d.rule.source}"
    )
    return title, body


def _lapse_message(d: Decision, target: Counterparty | None) -> tuple[str, str]:
    """What was lost when a preservation lapsed: who held the data, which categories, which identifiers."""
    holder = "the counterparty" if target is None else f"{target.name} ({target.kind}, {target.country})"
    identifiers = "; ".join(f"{i['kind']} {i['value']}" for i in d.request.identifiers) or "none recorded"
    title = f"Preservation lapsed: {d.request.reference} — {d.rule.name}"
    unconfirmed = "" if d.request.status == PRESERVED else f"{holder} never confirmed the preservation.\n"
    body = (
        f"The preservation of request {d.request.reference} lapsed at {d.deadline.due_at.isoformat()}: "
        f"{holder} is no longer bound to keep the data.\n{unconfirmed}"
        f"Lost: {', '.join(d.request.data_categories) or 'no category recorded'} data for {identifiers}.\n"
        f"Legal source: {d.rule.source}"
    )
    return title, body


async def _targets(session: AsyncSession, requests: list[Request]) -> dict[uuid.UUID, Counterparty]:
    ids = {request.target_id for request in requests}
    if not ids:
        return {}
    return {c.id: c for c in await session.scalars(select(Counterparty).where(Counterparty.id.in_(ids)))}


def _payload(d: Decision, alert_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    return {
        "event": "deadline_alert",
        "stage": d.stage,
        "alert_id": str(alert_id),
        "occurred_at": now.isoformat(),
        "request": {"id": str(d.request.id), "reference": d.request.reference},
        "deadline": {
            "id": str(d.deadline.id),
            "rule": d.rule.code,
            "kind": d.deadline.kind,
            "due_at": d.deadline.due_at.isoformat(),
        },
    }


def _delivery(
    alert_id: uuid.UUID, channel: str, recipient: str, subject: str, body: str, now: datetime
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "alert_id": alert_id,
        "channel": channel,
        "recipient": recipient,
        "webhook_id": None,
        "subject": subject,
        "body": body,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def _authority_clock(d: Decision) -> bool:
    return d.rule.responsible == CENTRAL_AUTHORITY_CLOCK and d.request.central_authority_id is not None


def _alerted_organisation(d: Decision) -> uuid.UUID:
    """Escalations and the authority's own clocks go to the responsible central authority; others to the owner."""
    if d.stage == ESCALATION or _authority_clock(d):
        return d.request.central_authority_id or d.request.organisation_id
    return d.request.organisation_id


@dataclass
class People:
    """The active users a batch may alert: by id (creators, assignees) and by (organisation, role)."""

    by_id: dict[uuid.UUID, User]
    by_role: dict[tuple[uuid.UUID, str], list[User]]

    def recipients(self, d: Decision) -> tuple[list[User], list[User]]:
        """Who is chased (in-app and e-mail) and who is only informed (in-app) of this stage."""
        request = d.request
        if d.stage == ESCALATION:
            return self.by_role.get((_alerted_organisation(d), SUPERVISOR), []), []
        if not _authority_clock(d):
            return self._known([request.created_by, request.assignee_id]), []
        chased = self._handlers(request)
        informed = [] if d.stage != OVERDUE else [u for u in self._known([request.created_by]) if u not in chased]
        return chased, informed

    def _handlers(self, request: Request) -> list[User]:
        """The assignee if they handle the request for the authority or the executing service, else all who may."""
        handling = {request.central_authority_id, request.executing_organisation_id} - {None}
        assignee = self.by_id.get(request.assignee_id) if request.assignee_id else None
        if assignee is not None and assignee.organisation_id in handling:
            return [assignee]
        officers = SUPERVISOR if request.confidential else OFFICER  # only supervisors see an unassigned secret
        assert request.central_authority_id is not None
        found = list(self.by_role.get((request.central_authority_id, officers), []))
        if request.executing_organisation_id is not None and not request.confidential:
            found += self.by_role.get((request.executing_organisation_id, PROSECUTOR), [])
        return found

    def _known(self, ids: list[uuid.UUID | None]) -> list[User]:
        return [self.by_id[i] for i in sorted({i for i in ids if i is not None}) if i in self.by_id]


OFFICER, SUPERVISOR, PROSECUTOR = Role.CENTRAL_AUTHORITY.value, Role.SUPERVISOR.value, Role.PROSECUTOR.value


async def _people(session: AsyncSession, decisions: list[Decision]) -> People:
    """Every user the decisions may alert, in two statements whatever the batch's size."""
    ids = {i for d in decisions for i in (d.request.created_by, d.request.assignee_id) if i}
    organisations = {_alerted_organisation(d) for d in decisions} | {
        d.request.executing_organisation_id for d in decisions if d.request.executing_organisation_id
    }
    by_id = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(ids), User.active.is_(True)))}
    by_role: dict[tuple[uuid.UUID, str], list[User]] = defaultdict(list)
    query = select(User).where(
        User.organisation_id.in_(organisations),
        or_(*(role == any_(User.roles) for role in (OFFICER, SUPERVISOR, PROSECUTOR))),
        User.active.is_(True),
    )
    for user in await session.scalars(query.order_by(User.id)) if organisations else []:
        for role in set(user.roles) & {OFFICER, SUPERVISOR, PROSECUTOR}:
            by_role[(user.organisation_id, role)].append(user)
    return People(by_id, by_role)


async def _webhooks(session: AsyncSession, decisions: list[Decision]) -> dict[uuid.UUID, list[Webhook]]:
    organisations = {_alerted_organisation(d) for d in decisions}
    found: dict[uuid.UUID, list[Webhook]] = defaultdict(list)
    if organisations:
        query = select(Webhook).where(Webhook.organisation_id.in_(organisations), Webhook.active.is_(True))
        for webhook in await session.scalars(query.order_by(Webhook.id)):
            found[webhook.organisation_id].append(webhook)
    return found
