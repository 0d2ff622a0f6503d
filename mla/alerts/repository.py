"""The alert scan's queries: claim what is due, decide its stages, fan each alert out to its recipients.

Each is one statement for a whole batch, whatever its size. The stage arithmetic is not repeated
here: `mla.deadlines.service.schedule` stores every deadline's stages and their moments on its row
(`alert_stages`, `alert_stage_times`), and these statements only compare them with the scan instant.
Who is alerted is decided in SQL too (see `mla.alerts.scan` for the rules); Python renders the
texts, once per alert.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from mla.alerts.schemas import DeliveryStatus
from mla.counterparties.models import Counterparty
from mla.deadlines.models import Deadline, DeadlineRule
from mla.deadlines.service import CENTRAL_AUTHORITY, OPEN
from mla.deadlines.stages import ESCALATION, OVERDUE, REMINDER
from mla.enums import RequestStatus, Role
from mla.requests.access import HANDLER_ROLES
from mla.requests.models import Request

# A trigger on `deadlines` NOTIFYs this channel with the earliest alert a statement scheduled (ISO 8601).
ALERT_SCHEDULED_CHANNEL = "mla_alert_scheduled"
_DUE = "d.status = 'open' AND d.paused_at IS NULL AND d.next_alert_at IS NOT NULL AND d.next_alert_at <= :now"
# A stage of `d` that is due at :now and not yet fired (`s` from unnest of its stages).
_STAGE_DUE = "s.at <= :now AND NOT s.stage = ANY(d.fired_stages)"

NO_JIT = text("SET LOCAL jit = off")
CLAIM = text(f"""
SELECT d.id, d.request_id, r.met_when_passed AS passes,
       -- Only a preservation's clock reads its request here, by its key: the others cost no request
       -- lookup. (An EXISTS here was planned as a hashed subplan over every preserved request.)
       CASE WHEN r.lapses_request THEN
           (SELECT q.status FROM requests q WHERE q.id = d.request_id) = :preserved
           AND EXISTS (SELECT FROM unnest(d.alert_stages, d.alert_stage_times) AS s(stage, at)
                       WHERE s.stage = :overdue AND {_STAGE_DUE})
       ELSE false END AS lapses
FROM deadlines d
JOIN deadline_rules r ON r.id = d.rule_id
WHERE {_DUE}
ORDER BY d.next_alert_at
LIMIT :batch
FOR UPDATE OF d SKIP LOCKED
""")

# Every claimed deadline is rescheduled, with or without a stage due, so a claim always makes progress.
DECIDE = text(f"""
WITH due AS (
    SELECT d.id AS deadline_id, d.request_id, s.stage, s.at, s.position,
           s.position = max(s.position) OVER (PARTITION BY d.id) AS latest
    FROM deadlines d,
         unnest(d.alert_stages, d.alert_stage_times) WITH ORDINALITY AS s(stage, at, position)
    WHERE d.id = ANY(CAST(:ids AS uuid[])) AND {_STAGE_DUE}
),
fired AS (
    SELECT c.id, coalesce(array_agg(due.stage ORDER BY due.position) FILTER (WHERE due.stage IS NOT NULL),
                          '{{}}') AS stages
    FROM unnest(CAST(:ids AS uuid[])) AS c(id) LEFT JOIN due ON due.deadline_id = c.id
    GROUP BY c.id
),
rescheduled AS (
    UPDATE deadlines d
    SET fired_stages = d.fired_stages || fired.stages,
        next_alert_at = (SELECT min(s.at) FROM unnest(d.alert_stages, d.alert_stage_times) AS s(stage, at)
                         WHERE s.at > :now AND NOT s.stage = ANY(d.fired_stages || fired.stages))
    FROM fired WHERE d.id = fired.id
),
recorded AS (
    -- A reminder is pointless once a later stage is due too: recorded, not sent.
    INSERT INTO alerts (id, deadline_id, request_id, stage, stage_at, decided_at, skipped)
    SELECT gen_random_uuid(), deadline_id, request_id, stage, at, :now, stage LIKE :reminders AND NOT latest
    FROM due ORDER BY deadline_id, position
    ON CONFLICT (deadline_id, stage) DO NOTHING
    RETURNING id, deadline_id, stage, skipped
)
SELECT recorded.id AS alert_id, recorded.stage, recorded.skipped,
       d.id AS deadline_id, d.kind, d.due_at,
       r.code AS rule_code, r.name AS rule_name, r.source AS rule_source, r.lapses_request,
       q.id AS request_id, q.reference, q.status AS request_status, q.target_id, q.identifiers, q.data_categories,
       -- Five key lookups (an OR here scanned every organisation for each alert).
       ARRAY(SELECT DISTINCT o.timezone FROM organisations o
             WHERE o.id = ANY(ARRAY[q.organisation_id, q.central_authority_id, q.executing_organisation_id,
                                    (SELECT u.organisation_id FROM users u WHERE u.id = q.created_by),
                                    (SELECT u.organisation_id FROM users u WHERE u.id = q.assignee_id)])
       ) AS zones
FROM recorded
JOIN deadlines d ON d.id = recorded.deadline_id
JOIN deadline_rules r ON r.id = d.rule_id
JOIN requests q ON q.id = d.request_id
""")

# Who each sent alert reaches (mla.alerts.scan explains the rules): `chased` get an in-app notification
# and an e-mail, `informed` an in-app notification only; the alerted organisation's webhooks a POST, unless
# the request is confidential: a webhook's receiver is the organisation's system, run by its admins, who may
# not see it (a lapse's text names the holder and the identifiers).
FAN_OUT = text("""
WITH texts AS (
    SELECT * FROM unnest(CAST(:alert_ids AS uuid[]), CAST(:zones AS text[]), CAST(:titles AS text[]),
                         CAST(:bodies AS text[]), CAST(:payloads AS text[])) AS m(alert_id, zone, title, body, payload)
),
sent AS (
    SELECT a.id AS alert_id, a.stage, q.id AS request_id, q.created_by, q.assignee_id,
           q.organisation_id, q.central_authority_id, q.executing_organisation_id, q.confidential,
           r.responsible = :authority_clock AND q.central_authority_id IS NOT NULL AS authority_clock
    FROM (SELECT DISTINCT alert_id FROM texts) AS m
    JOIN alerts a ON a.id = m.alert_id
    JOIN deadlines d ON d.id = a.deadline_id
    JOIN deadline_rules r ON r.id = d.rule_id
    JOIN requests q ON q.id = a.request_id
),
alerted AS (
    SELECT sent.*,
           CASE WHEN stage = :escalation OR authority_clock THEN coalesce(central_authority_id, organisation_id)
                ELSE organisation_id END AS alerted_organisation,
           EXISTS (SELECT FROM users h WHERE h.id = assignee_id AND h.active
                   AND h.organisation_id IN (central_authority_id, executing_organisation_id)
                   AND h.roles && CAST(:handler_roles AS varchar[])) AS handled
    FROM sent
),
chased AS (
    SELECT a.alert_id, u.id AS user_id, u.email FROM alerted a
    JOIN users u ON u.active AND u.organisation_id = a.alerted_organisation AND :supervisor = ANY(u.roles)
    WHERE a.stage = :escalation
    UNION
    SELECT a.alert_id, u.id, u.email FROM alerted a
    JOIN users u ON u.active AND (u.id = a.created_by
                                  OR u.id = a.assignee_id AND u.roles && CAST(:handler_roles AS varchar[]))
    WHERE a.stage <> :escalation AND NOT a.authority_clock
    UNION
    SELECT a.alert_id, u.id, u.email FROM alerted a
    JOIN users u ON u.active AND u.id = a.assignee_id
    WHERE a.stage <> :escalation AND a.authority_clock AND a.handled
    UNION
    SELECT a.alert_id, u.id, u.email FROM alerted a
    JOIN users u ON u.active AND (
        (u.organisation_id = a.central_authority_id
         AND (CASE WHEN a.confidential THEN :supervisor ELSE :officer END) = ANY(u.roles))
        OR (NOT a.confidential AND u.organisation_id = a.executing_organisation_id AND :prosecutor = ANY(u.roles)))
    WHERE a.stage <> :escalation AND a.authority_clock AND NOT a.handled
),
informed AS (
    SELECT a.alert_id, u.id AS user_id FROM alerted a
    JOIN users u ON u.active AND u.id = a.created_by
    WHERE a.stage = :overdue AND a.authority_clock
    EXCEPT SELECT alert_id, user_id FROM chased
),
-- Each reader gets the texts written in their organisation's time zone.
notified AS (
    INSERT INTO notifications (id, user_id, alert_id, request_id, stage, title, body, created_at)
    SELECT gen_random_uuid(), people.user_id, a.alert_id, a.request_id, a.stage, t.title, t.body, :now
    FROM (SELECT alert_id, user_id FROM chased UNION SELECT alert_id, user_id FROM informed) AS people
    JOIN alerted a ON a.alert_id = people.alert_id
    JOIN users u ON u.id = people.user_id
    JOIN organisations o ON o.id = u.organisation_id
    JOIN texts t ON t.alert_id = a.alert_id AND t.zone = o.timezone
    ON CONFLICT (alert_id, user_id) DO NOTHING
    RETURNING 1
),
mailed AS (
    INSERT INTO deliveries (id, alert_id, channel, recipient, subject, body, status, attempts, next_attempt_at,
                            created_at)
    SELECT gen_random_uuid(), a.alert_id, 'email', c.email, t.title, t.body, :pending, 0, :now, :now
    FROM chased c JOIN alerted a ON a.alert_id = c.alert_id
    JOIN users u ON u.id = c.user_id
    JOIN organisations o ON o.id = u.organisation_id
    JOIN texts t ON t.alert_id = a.alert_id AND t.zone = o.timezone
    ON CONFLICT (alert_id, channel, recipient) DO NOTHING
    RETURNING 1
),
posted AS (
    INSERT INTO deliveries (id, alert_id, channel, recipient, webhook_id, subject, body, status, attempts,
                            next_attempt_at, created_at)
    SELECT gen_random_uuid(), a.alert_id, 'webhook', w.id::text, w.id, t.title, t.payload, :pending, 0, :now, :now
    FROM alerted a JOIN webhooks w ON w.active AND w.organisation_id = a.alerted_organisation AND NOT a.confidential
    JOIN organisations o ON o.id = a.alerted_organisation
    JOIN texts t ON t.alert_id = a.alert_id AND t.zone = o.timezone
    ON CONFLICT (alert_id, channel, recipient) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM notified) AS notifications,
       (SELECT count(*) FROM mailed) + (SELECT count(*) FROM posted) AS deliveries
""")


@dataclass(frozen=True, slots=True)
class Claimed:
    """A due deadline, locked: `passes` if its rule is met when it passes, `lapses` if its request lapses now."""

    deadline_id: uuid.UUID
    request_id: uuid.UUID
    passes: bool
    lapses: bool


@dataclass(frozen=True, slots=True)
class Rendered:
    """The texts of one alert in one time zone: title and body for people, the JSON payload for webhooks."""

    alert_id: uuid.UUID
    zone: str
    title: str
    body: str
    payload: str


async def earliest_alert_at(session: AsyncSession) -> datetime | None:
    """When the next alert stage of any running clock falls due (one step down the scan's partial index)."""
    query = select(func.min(Deadline.next_alert_at)).where(
        Deadline.status == OPEN, Deadline.paused_at.is_(None), Deadline.next_alert_at.is_not(None)
    )
    return await session.scalar(query)


def claim_parameters(now: datetime, batch: int) -> dict[str, Any]:
    return {"now": now, "batch": batch, "preserved": RequestStatus.PRESERVED.value, "overdue": OVERDUE}


async def claim_due(session: AsyncSession, now: datetime, batch: int) -> list[Claimed]:
    """Lock up to `batch` deadlines with a stage due at `now`, earliest first, skipping those another scan holds.

    Also turns JIT compilation off for the rest of the transaction: the batch statements' cost
    estimates cross `jit_above_cost`, and compiling them (60 ms) costs more than it saves.
    """
    await session.execute(NO_JIT)
    rows = await session.execute(CLAIM, claim_parameters(now, batch))
    return [Claimed(row.id, row.request_id, row.passes, row.lapses) for row in rows]


async def decide(session: AsyncSession, deadline_ids: Sequence[uuid.UUID], now: datetime) -> list[Any]:
    """Record every stage due at `now` of these (claimed) deadlines and point each at its next stage.

    Returns the alerts recorded now, with what their texts need; a stage an earlier run recorded is
    not returned (the unique key (deadline, stage)).
    """
    if not deadline_ids:
        return []
    parameters = {"ids": list(deadline_ids), "now": now, "reminders": f"{REMINDER}%"}
    return list(await session.execute(DECIDE, parameters))


async def fan_out(session: AsyncSession, rendered: Sequence[Rendered], now: datetime) -> tuple[int, int]:
    """Write the notifications and the e-mail and webhook deliveries of these alerts; returns how many of each."""
    if not rendered:
        return 0, 0
    parameters = {
        "alert_ids": [r.alert_id for r in rendered],
        "zones": [r.zone for r in rendered],
        "titles": [r.title for r in rendered],
        "bodies": [r.body for r in rendered],
        "payloads": [r.payload for r in rendered],
        "now": now,
        "pending": DeliveryStatus.PENDING.value,
        "authority_clock": CENTRAL_AUTHORITY,  # `DeadlineRule.responsible` of the authority's own clocks
        "escalation": ESCALATION,
        "overdue": OVERDUE,
        "supervisor": Role.SUPERVISOR.value,
        "officer": Role.CENTRAL_AUTHORITY.value,
        "prosecutor": Role.PROSECUTOR.value,
        "handler_roles": sorted(HANDLER_ROLES),  # an assignee who lost them is chased no more
    }
    row = (await session.execute(FAN_OUT, parameters)).one()
    return row.notifications, row.deliveries


async def counterparties(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, Counterparty]:
    """The counterparties named (the holders of lapsed preservations), by id."""
    if not ids:
        return {}
    return {c.id: c for c in await session.scalars(select(Counterparty).where(Counterparty.id.in_(ids)))}


async def lock_request(session: AsyncSession, request_id: uuid.UUID) -> Request | None:
    """Lock a request and load it afresh; None if a user holds it (never wait: deadlock risk)."""
    query = select(Request).where(Request.id == request_id).with_for_update(skip_locked=True)
    return await session.scalar(query.execution_options(populate_existing=True))


async def deadline_with_rule(session: AsyncSession, deadline_id: uuid.UUID) -> tuple[Deadline, DeadlineRule]:
    """A claimed deadline and its rule, as the deadlines' service takes them."""
    deadline = await session.get_one(Deadline, deadline_id)
    return deadline, await session.get_one(DeadlineRule, deadline.rule_id)
