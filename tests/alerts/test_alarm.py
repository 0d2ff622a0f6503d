"""Alerts on time: the worker's alarm scans when the earliest alert falls due, and wakes for a nearer one.

Each test has a database of its own: the alarm reads the earliest alert of the whole table. The
clock is fixed and moved by hand; only the wait for a notification is real, and bounded.
"""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from mla.alerts.models import Alert
from mla.alerts.repository import earliest_alert_at
from mla.alerts.scan import scan_due_alerts
from mla.clock import FixedClock
from tests.alerts.support import Outbox, own_outbox
from tests.conftest import Servers
from tests.factories import EMERGENCY
from workers.alarm import AlarmListener, ScanAlarm

# Every stage of a deadline moves by the same amount, so that its next one falls at :at.
MOVE = text("""
    UPDATE deadlines SET
        due_at = due_at + (:at - next_alert_at),
        alert_stage_times = ARRAY(SELECT t + (:at - next_alert_at) FROM unnest(alert_stage_times) WITH ORDINALITY
                                  AS s(t, n) ORDER BY n),
        next_alert_at = :at
    WHERE id = :id
""")
NOTIFIED_WITHIN = 10.0  # seconds: a notification is delivered at commit, in milliseconds
QUIET_FOR = 0.5  # seconds without a wake-up that show nothing was delivered


@pytest.fixture
async def outbox(servers: Servers, clock: FixedClock) -> AsyncIterator[Outbox]:
    async with own_outbox(servers, clock) as own:
        yield own


def alarm_of(outbox: Outbox, clock: FixedClock, longest_wait: timedelta = timedelta(days=30)) -> ScanAlarm:
    async def earliest() -> datetime | None:
        async with outbox.sessionmaker() as session:
            return await earliest_alert_at(session)

    async def scan() -> None:
        async with outbox.sessionmaker() as session, session.begin():
            await scan_due_alerts(session, clock)

    return ScanAlarm(clock, earliest, scan, longest_wait)


async def alerts(outbox: Outbox) -> list[tuple[str, datetime, datetime]]:
    async with outbox.sessionmaker() as session:
        rows = await session.execute(select(Alert.stage, Alert.stage_at, Alert.decided_at).order_by(Alert.stage_at))
        return [tuple(row) for row in rows]


async def test_the_alarm_sleeps_until_the_earliest_alert_and_scans_at_that_very_instant(
    outbox: Outbox, clock: FixedClock
) -> None:
    await outbox.world.transmitted(**EMERGENCY)
    alarm = alarm_of(outbox, clock)
    async with outbox.sessionmaker() as session:
        first = await earliest_alert_at(session)
    assert first is not None and first > clock.now()

    assert await alarm.next_wait() == first - clock.now()
    clock.set(first - timedelta(seconds=1))
    assert await alarm.next_wait() == timedelta(seconds=1)
    assert await alerts(outbox) == []  # a second early: nothing decided

    clock.set(first)
    then = await alarm.next_wait()

    [(stage, stage_at, decided_at)] = await alerts(outbox)
    assert (stage_at, decided_at) == (first, first)  # decided the instant it fell due
    async with outbox.sessionmaker() as session:
        following = await earliest_alert_at(session)
    assert following is not None and then == following - first


async def test_a_nearer_alert_wakes_the_sleeping_alarm_when_its_transaction_commits(
    outbox: Outbox, clock: FixedClock
) -> None:
    await outbox.world.transmitted()  # routine: its first alert is days away
    alarm = alarm_of(outbox, clock)
    listener = AlarmListener(outbox.settings.database_url or "", alarm)
    await listener.ensure_listening()
    try:
        wait = await alarm.next_wait()
        assert wait > timedelta(days=1)
        sleeping = asyncio.create_task(alarm.sleep(wait))

        async with outbox.sessionmaker() as session, session.begin():
            deadline_id = await session.scalar(text("SELECT id FROM deadlines WHERE next_alert_at IS NOT NULL LIMIT 1"))
            nearer = {"id": deadline_id, "at": clock.now() + timedelta(hours=1)}
            await session.execute(MOVE, nearer)
            await asyncio.sleep(QUIET_FOR)
            assert not sleeping.done()  # not before the commit

        assert await asyncio.wait_for(sleeping, NOTIFIED_WITHIN) is True
        assert await alarm.next_wait() == timedelta(hours=1)
    finally:
        await listener.close()


async def test_a_later_alert_leaves_the_alarm_asleep_and_an_emergency_wakes_it(
    outbox: Outbox, clock: FixedClock
) -> None:
    await outbox.world.transmitted(**EMERGENCY)
    alarm = alarm_of(outbox, clock)
    listener = AlarmListener(outbox.settings.database_url or "", alarm)
    await listener.ensure_listening()
    try:
        sleeping = asyncio.create_task(alarm.sleep(await alarm.next_wait()))
        await outbox.world.transmitted()  # routine: its alerts come after the emergency's
        await asyncio.sleep(QUIET_FOR)
        assert not sleeping.done()

        clock.advance(timedelta(minutes=-30))  # filed earlier than the first: its alerts are nearer
        await outbox.world.transmitted(**EMERGENCY)

        assert await asyncio.wait_for(sleeping, NOTIFIED_WITHIN) is True
    finally:
        await listener.close()
