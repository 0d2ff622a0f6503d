"""Alert latency as deployed: from the instant 10,000 alerts fall due to each webhook's arrival.

A real `mla worker` process runs as docker-compose runs it (system clock, its alarm, the minute
cron, `deliver_alerts` jobs). Every organisation gets one webhook to a receiver in this process, so
each alert sent about a request that is not confidential is exactly one webhook (a confidential
request's alerts go to no webhook: README, Decisions); e-mail goes to an SMTP sink that accepts and
drops it, in a process of its own so that it never delays the receiver's clock readings. The line
awaits the webhooks of the due deadlines of requests that are not confidential (at 1,000,000
requests: all 10,000, as the seed makes no due request confidential). The seeded-due deadlines,
and those that fell due by the wall clock since the seed instant, are parked a day ahead while the
worker starts; once it is up the seeded-due ones are moved, in one committed statement, so that
their due stage falls at one instant a few seconds ahead (what the worker learns of by its
notification, as it would of any clock an action schedules). Each webhook's latency is its arrival
minus that instant. Afterwards the database is put back as seeded.
"""

import asyncio
import contextlib
import json
import multiprocessing
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiosmtpd.controller import Controller
from redis.asyncio import Redis

from bench.database import BENCH_AUDIT_KEYS, plain_dsn
from bench.server import LOGS

WORKER_START = timedelta(seconds=8)  # the worker's imports and connections, on a loaded machine
PARKED = timedelta(days=1)  # where the due alerts wait while the worker starts
SINCE_SEED_MARGIN = timedelta(minutes=15)  # alerts falling due during the measurement are parked too
LEAD = timedelta(seconds=3)  # from the notifying commit to the instant the alerts fall due
GIVE_UP = timedelta(seconds=300)
RECEIVER_HOST = "127.0.0.1"

DUE = """
SELECT d.id, d.due_at, d.next_alert_at, d.alert_stage_times, d.fired_stages, q.confidential
FROM deadlines d JOIN requests q ON q.id = d.request_id
WHERE d.status = 'open' AND d.paused_at IS NULL AND d.next_alert_at IS NOT NULL AND d.next_alert_at <= $1
"""
# Every stage of the due deadlines moves by the same amount: the one due now falls due at $2.
MOVE = """
UPDATE deadlines SET
    due_at = due_at + ($2 - next_alert_at),
    alert_stage_times = ARRAY(SELECT t + ($2 - next_alert_at) FROM unnest(alert_stage_times) WITH ORDINALITY
                              AS s(t, n) ORDER BY n),
    next_alert_at = $2
WHERE id = ANY($1::uuid[])
"""
RESTORE = """
UPDATE deadlines SET due_at = $2, next_alert_at = $3, alert_stage_times = $4, fired_stages = $5 WHERE id = $1
"""


@dataclass
class LatencyRun:
    due: int  # alerts falling due at once
    awaited: int  # of which post a webhook (their request is not confidential)
    received: int
    p50: float  # seconds, from falling due to the webhook's arrival
    p99: float
    slowest: float
    first: float


class Receiver:
    """A minimal HTTP/1.1 endpoint: records when the first webhook of each awaited deadline arrives; answers 204.

    Webhooks of other deadlines, if any, are answered and not counted.
    """

    def __init__(self, awaited: set[str]) -> None:
        self.awaited = awaited
        self.arrivals: dict[str, float] = {}  # deadline id -> first arrival (unix time)
        self.all_received = asyncio.Event()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, RECEIVER_HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
            headers = dict(line.split(":", 1) for line in head.split("\r\n")[1:] if ":" in line)
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self._record(json.loads(body)["deadline"]["id"], time.time())
            writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _record(self, deadline_id: str, at: float) -> None:
        if deadline_id in self.awaited and deadline_id not in self.arrivals:
            self.arrivals[deadline_id] = at
            if len(self.arrivals) == len(self.awaited):
                self.all_received.set()


class DroppedMail:
    """aiosmtpd handler: accept every message and keep nothing."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        return "250 OK"


async def measure_latency(owner_url: str, runtime_url: str, redis_url: str, now: datetime) -> LatencyRun:
    """Start a worker, make the seeded-due alerts fall due at once, time their webhooks; then restore."""
    connection = await asyncpg.connect(plain_dsn(owner_url))
    # The awaited alerts (due at the seed instant) and those that fell due by the wall clock since.
    seeded = await connection.fetch(DUE, datetime.now(UTC) + SINCE_SEED_MARGIN)
    due = [row for row in seeded if row["next_alert_at"] <= now]
    ids = [row["id"] for row in due]
    receiver = Receiver({str(row["id"]) for row in due if not row["confidential"]})
    await receiver.start()
    mail_port = _free_port()
    mail = multiprocessing.get_context("spawn").Process(target=_sink_mail, args=(mail_port,), daemon=True)
    mail.start()
    await _until_listening(mail_port)
    queue_name = f"mla:bench:latency:{secrets.token_hex(4)}"
    worker: subprocess.Popen[bytes] | None = None
    try:
        # Out of the way while the worker starts: else it would decide them at once, by the wall clock.
        await connection.execute(MOVE, [row["id"] for row in seeded], datetime.now(UTC) + PARKED)
        url = f"http://{RECEIVER_HOST}:{receiver.port}/hook"
        await connection.execute(
            "INSERT INTO webhooks (id, organisation_id, url, secret, active, created_at) "
            "SELECT gen_random_uuid(), id, $1, $2, true, $3 FROM organisations",
            url,
            secrets.token_urlsafe(32),
            now,
        )
        worker = _start_worker(runtime_url, redis_url, queue_name, mail_port)
        await asyncio.sleep(WORKER_START.total_seconds())
        if worker.poll() is not None:
            raise SystemExit(f"bench: the worker exited; see {LOGS}/worker.log")
        falls_due = datetime.now(UTC) + LEAD
        await connection.execute(MOVE, ids, falls_due)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(receiver.all_received.wait(), GIVE_UP.total_seconds())
    finally:
        if worker is not None:
            _stop(worker)
        mail.terminate()
        mail.join()
        await receiver.stop()
        await _restore(connection, seeded)  # the parked ones too
        await _empty(redis_url, queue_name)
        await connection.close()
    return _figures(len(ids), receiver, falls_due.timestamp())


def _sink_mail(port: int) -> None:
    """The SMTP sink's process: accepts every message and keeps nothing, until terminated."""
    Controller(DroppedMail(), hostname=RECEIVER_HOST, port=port).start()
    threading.Event().wait()


async def _until_listening(port: int) -> None:
    for _ in range(200):
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection(RECEIVER_HOST, port)
            writer.close()
            return
        await asyncio.sleep(0.05)
    raise SystemExit("bench: the SMTP sink did not start")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((RECEIVER_HOST, 0))
        return probe.getsockname()[1]


def _start_worker(runtime_url: str, redis_url: str, queue_name: str, smtp_port: int) -> subprocess.Popen[bytes]:
    LOGS.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "MLA_DATABASE_URL": runtime_url,
        "MLA_REDIS_URL": redis_url,
        "MLA_QUEUE_NAME": queue_name,
        "MLA_AUDIT_KEYS": BENCH_AUDIT_KEYS,
        "MLA_SMTP_HOST": RECEIVER_HOST,
        "MLA_SMTP_PORT": str(smtp_port),
        "MLA_WEBHOOK_ALLOWED_NETWORKS": f"{RECEIVER_HOST}/32",
        "MLA_DATA_DIR": tempfile.mkdtemp(prefix="mla-bench-worker-"),
    }
    log = (LOGS / "worker.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "mla", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)


def _stop(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


async def _restore(connection: asyncpg.Connection, seeded: list[asyncpg.Record]) -> None:
    """Back to the seed: no alerts, deliveries, notifications or webhooks; the due deadlines as they were."""
    async with connection.transaction():
        await connection.execute(
            "DELETE FROM deliveries; DELETE FROM notifications; DELETE FROM alerts; DELETE FROM webhooks"
        )
        await connection.executemany(
            RESTORE,
            [(r["id"], r["due_at"], r["next_alert_at"], r["alert_stage_times"], r["fired_stages"]) for r in seeded],
        )


async def _empty(redis_url: str, queue_name: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        await redis.delete(queue_name)
    finally:
        await redis.aclose()


def _figures(due: int, receiver: Receiver, falls_due: float) -> LatencyRun:
    awaited = len(receiver.awaited)
    latencies = sorted(arrival - falls_due for arrival in receiver.arrivals.values())
    if not latencies:
        return LatencyRun(due, awaited, 0, float("nan"), float("nan"), float("nan"), float("nan"))
    # Webhooks never received count as the slowest: the p99 is over what was awaited, not what arrived.
    padded = latencies + [float("inf")] * (awaited - len(latencies))

    def percentile(p: float) -> float:
        return padded[min(len(padded) - 1, int(p * len(padded)))]

    return LatencyRun(due, awaited, len(latencies), percentile(0.5), percentile(0.99), latencies[-1], latencies[0])
