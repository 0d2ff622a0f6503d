"""The alert scan: each stage of each deadline decided once, for the right people, from an indexed query."""

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.alerts.models import Alert, Delivery, Notification, Webhook
from mla.alerts.scan import ScanReport, scan_due_alerts
from mla.clock import FixedClock
from mla.deadlines.models import Deadline
from mla.enums import Role
from tests.factories import EMERGENCY, Org, World


async def scan(sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock) -> ScanReport:
    async with sessionmaker() as session, session.begin():
        return await scan_due_alerts(session, clock)


async def add_webhook(sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, org: Org) -> None:
    async with sessionmaker() as session, session.begin():
        session.add(
            Webhook(
                id=uuid.uuid4(),
                organisation_id=org.id,
                url="http://127.0.0.1:9/hook",
                secret="s" * 32,
                active=True,
                created_at=clock.now(),
            )
        )


async def alerts_of(sessionmaker: async_sessionmaker[AsyncSession], request_id: str) -> list[tuple[str, bool]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Alert.stage, Alert.skipped).where(Alert.request_id == uuid.UUID(request_id)).order_by(Alert.stage_at)
        )
        return [tuple(row) for row in rows]


async def notifications_of(sessionmaker: async_sessionmaker[AsyncSession], user_id: uuid.UUID) -> list[str]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(Notification.stage).where(Notification.user_id == user_id)))


async def deliveries_of(sessionmaker: async_sessionmaker[AsyncSession], request_id: str) -> list[tuple[str, str, str]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Alert.stage, Delivery.channel, Delivery.recipient)
            .join(Alert, Alert.id == Delivery.alert_id)
            .where(Alert.request_id == uuid.UUID(request_id))
        )
        return sorted(tuple(row) for row in rows)


async def test_an_overdue_emergency_epoc_alerts_the_prosecutor_once(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    prosecution, _, request = await world.transmitted(**EMERGENCY)
    await add_webhook(sessionmaker, clock, prosecution)
    prosecutor = prosecution.members[Role.PROSECUTOR]

    clock.advance(timedelta(hours=9))
    first = await scan(sessionmaker, clock)
    again = await scan(sessionmaker, clock)

    assert ("overdue", False) in await alerts_of(sessionmaker, request["id"])
    assert ("reminder", True) in await alerts_of(sessionmaker, request["id"])  # stale: recorded, never sent
    assert await notifications_of(sessionmaker, prosecutor.id) == ["overdue"]
    deliveries = await deliveries_of(sessionmaker, request["id"])
    assert [d for d in deliveries if d[0] == "overdue"] == [
        ("overdue", "email", prosecutor.email),
        ("overdue", "webhook", deliveries[-1][2]),
    ]
    assert first.alerts >= 2 and again.alerts == 0


async def test_a_week_later_the_authoritys_supervisor_has_the_escalation(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    prosecution, authority, request = await world.transmitted(**EMERGENCY)

    clock.advance(timedelta(hours=9))
    await scan(sessionmaker, clock)
    clock.advance(timedelta(days=8))
    await scan(sessionmaker, clock)

    assert "escalation" in await notifications_of(sessionmaker, authority.members[Role.SUPERVISOR].id)
    assert "escalation" not in await notifications_of(sessionmaker, prosecution.members[Role.PROSECUTOR].id)


async def test_two_workers_scanning_at_once_never_duplicate_an_alert(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    requests = [(await world.transmitted(**EMERGENCY))[2] for _ in range(3)]
    clock.advance(timedelta(days=9))

    await asyncio.gather(*(scan(sessionmaker, clock) for _ in range(4)))

    async with sessionmaker() as session:
        ids = [uuid.UUID(r["id"]) for r in requests]
        per_stage = await session.execute(
            select(Alert.deadline_id, Alert.stage, func.count())
            .where(Alert.request_id.in_(ids))
            .group_by(Alert.deadline_id, Alert.stage)
        )
        counts = [row[2] for row in per_stage]
    assert counts and set(counts) == {1}


async def test_an_expired_preservation_lapses_by_the_system_actor(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    """Reg. 2023/1543 art 11(1): 60 days from receipt (Mon 2 Nov 2026); day 60 is Fri 1 Jan 2027, a US
    holiday, so the US provider's duty ends Mon 4 Jan 23:59:59 New York time (05:00 UTC on 5 Jan)."""
    prosecution, _, request = await world.transmitted(type="preservation", instrument="eu-epoc-pr")
    request = await world.act(prosecution, Role.PROSECUTOR, request, "confirm_preserved")

    clock.advance(timedelta(days=50))
    await scan(sessionmaker, clock)
    assert await notifications_of(sessionmaker, prosecution.members[Role.PROSECUTOR].id) == ["reminder-336h"]
    clock.advance(timedelta(days=13, hours=19))  # Tue 5 Jan 04:00 UTC: Mon 4 Jan 23:00 in New York
    assert (await scan(sessionmaker, clock)).lapsed == 0
    clock.advance(timedelta(hours=1))
    report = await scan(sessionmaker, clock)

    assert report.lapsed >= 1
    current = (await world.client.get(f"/api/v1/requests/{request['id']}", headers=prosecution.headers())).json()
    assert current["status"] == "expired"
    trail = (await world.client.get(f"/api/v1/requests/{request['id']}/audit", headers=prosecution.headers())).json()
    lapse = trail["items"][-1]
    assert (lapse["action"], lapse["actor_id"], lapse["actor_roles"]) == ("lapse", None, ["system"])
    deadlines = (
        await world.client.get(f"/api/v1/requests/{request['id']}/deadlines", headers=prosecution.headers())
    ).json()
    assert {d["rule"]: d["status"] for d in deadlines["items"]}["epoc-pr-expiry"] == "missed"


async def test_a_paused_clock_raises_no_alert(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    prosecution, _, request = await world.transmitted(notified_enforcing_state="IE")
    await world.act(prosecution, Role.PROSECUTOR, request, "request_clarification")

    clock.advance(timedelta(days=9, hours=12))  # the EPOC's 10 days would be nearly over
    await scan(sessionmaker, clock)

    async with sessionmaker() as session:
        alerted_rules = set(
            await session.scalars(
                select(Deadline.rule_code)
                .join(Alert, Alert.deadline_id == Deadline.id)
                .where(Alert.request_id == uuid.UUID(request["id"]))
            )
        )
    # The enforcing authority's review (not paused) is a window for it, not a duty: it alerts nobody.
    assert alerted_rules == {"clarification-answer"}
