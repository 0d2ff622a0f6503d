"""Alerts on time: the worker scans when the earliest alert falls due, not on the next minute's tick.

The alarm sleeps until the earliest `next_alert_at` of the running clocks (at most
`LONGEST_WAIT`), scans, and sleeps again. A transaction that schedules a nearer alert wakes it at
once: a trigger on `deadlines` NOTIFYs `mla_alert_scheduled` with the earliest alert the statement
wrote, if it falls within `LONGEST_WAIT` (migration 3e8b1f6c2a90), and PostgreSQL delivers it when
that transaction commits. Nothing outside this module and the trigger needs to know: any code
that schedules a deadline wakes the alarm by writing it. The
minute cron (`scan_alerts`) stays as the safety net: a lost notification, a dropped listening
connection or a stopped alarm delay an alert by a minute at most, and scanning twice is harmless
(claims skip locked rows, unique keys make a second decision a no-op).

Time is the worker's clock; only the waiting itself is real, so tests drive `next_wait` with a
fixed clock and never sleep until a deadline.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from mla.alerts.repository import ALERT_SCHEDULED_CHANNEL, earliest_alert_at
from mla.clock import Clock
from mla.database_roles import plain_dsn
from workers import jobs

log = logging.getLogger("mla.worker")
# Re-read the earliest alert at least this often. The trigger notifies only alerts this near (its
# NOTIFY_WITHIN, migration 3e8b1f6c2a90): a longer sleep would miss the farther ones.
LONGEST_WAIT = timedelta(seconds=60)
RETRY_WAIT = timedelta(seconds=1)  # after a scan that left something due (a request held by a user) or failed


class ScanAlarm:
    """Scans when the earliest alert is due; `notify` wakes it early for a nearer one."""

    def __init__(
        self,
        clock: Clock,
        earliest: Callable[[], Awaitable[datetime | None]],
        scan: Callable[[], Awaitable[Any]],
        longest_wait: timedelta = LONGEST_WAIT,
    ) -> None:
        self._clock = clock
        self._earliest = earliest
        self._scan = scan
        self._longest_wait = longest_wait
        self._woken = asyncio.Event()
        self._target: datetime | None = None  # the alert the alarm waits for; None while it looks

    def notify(self, at: datetime) -> None:
        """An alert was scheduled at `at` (committed): wake up if it is nearer than the one awaited."""
        if self._target is None or at < self._target:
            self._woken.set()

    async def next_wait(self) -> timedelta:
        """Scan if an alert is due now; then how long to sleep before looking again."""
        self._woken.clear()
        self._target = None  # a notification that arrives while we look wakes the next sleep at once
        earliest = await self._earliest()
        scanned = earliest is not None and earliest <= self._clock.now()
        if scanned:
            await self._scan()
            earliest = await self._earliest()
        self._target = earliest
        now = self._clock.now()
        if earliest is None or earliest - now >= self._longest_wait:
            return self._longest_wait
        if earliest > now:
            return earliest - now
        return RETRY_WAIT if scanned else timedelta(0)

    async def sleep(self, wait: timedelta) -> bool:
        """Sleep for `wait` or until notified of a nearer alert; returns whether a notification woke it."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), wait.total_seconds())
        return self._woken.is_set()


class AlarmListener:
    """A connection of its own that LISTENs for scheduled alerts and passes each to the alarm."""

    def __init__(self, database_url: str, alarm: ScanAlarm) -> None:
        self._dsn = plain_dsn(database_url)
        self._alarm = alarm
        self._connection: asyncpg.Connection | None = None

    async def ensure_listening(self) -> None:
        """Connect and LISTEN unless already listening; a failure is logged (the alarm still wakes on time)."""
        if self._connection is not None and not self._connection.is_closed():
            return
        try:
            self._connection = await asyncpg.connect(self._dsn)
            await self._connection.add_listener(ALERT_SCHEDULED_CHANNEL, self._received)
        except (OSError, asyncpg.PostgresError):
            log.warning("cannot listen for scheduled alerts; the alarm re-reads them every %s", LONGEST_WAIT)
            await self.close()

    def _received(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        try:
            at = datetime.fromisoformat(payload)
        except ValueError:
            log.warning("ignored a malformed %s notification", channel)
            return
        self._alarm.notify(at)

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # the server may be gone: nothing left to release
                await connection.close(timeout=5)


async def run_alarm(alarm: ScanAlarm, listener: AlarmListener) -> None:
    """The worker's alarm task: listen (reconnecting when the connection drops), scan on time, sleep."""
    try:
        while True:
            await listener.ensure_listening()
            try:
                wait = await alarm.next_wait()
            except Exception:
                log.warning("the alert alarm could not scan; retrying in %s", RETRY_WAIT, exc_info=True)
                wait = RETRY_WAIT
            await alarm.sleep(wait)
    finally:
        await listener.close()


def start_alarm(ctx: dict[str, Any], database_url: str) -> "asyncio.Task[None]":
    """Start the alarm of a long-running worker, on its context (sessionmaker, clock, Redis)."""

    async def earliest() -> datetime | None:
        async with ctx["sessionmaker"]() as session:
            return await earliest_alert_at(session)

    async def scan() -> None:
        totals = await jobs.scan_alerts(ctx)
        if totals["alerts"] or totals["lapsed"]:
            log.info("alarm: scanned on time", extra={"fields": {"job": "scan_alerts", "result": totals}})

    alarm = ScanAlarm(ctx["clock"], earliest, scan)
    return asyncio.create_task(run_alarm(alarm, AlarmListener(database_url, alarm)), name="alert alarm")


async def stop_alarm(task: "asyncio.Task[None]") -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
