"""Helpers for the alert tests: an SMTP server, a webhook receiver, and alert rows arranged directly.

The alert scan decides alerts in production; these tests arrange the rows it would write (a
deadline, an alert, its deliveries and notifications) through the ORM, so delivery can be tested
on its own. Arranged deadlines have no `next_alert_at`, so the scan never picks them up.
"""

import asyncio
import email.policy
import hashlib
import hmac
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from litestar import Litestar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.alerts.models import Alert, Delivery, Notification
from mla.app import create_app, hold_resources
from mla.clock import FixedClock
from mla.deadlines.models import Deadline, DeadlineRule
from mla.reference_data import seed_reference_data
from mla.settings import Settings
from tests.conftest import TEST_AUDIT_KEYS, Servers, two_role_database
from tests.factories import World

LOCAL_RECEIVERS = "127.0.0.0/8"


@dataclass
class Outbox:
    """An app on a database of its own: the relay and the scan claim every due row of their database,
    so tests that run them must not share one with the rest of the suite."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    world: World
    client: httpx.AsyncClient
    app: Litestar


@asynccontextmanager
async def own_outbox(servers: Servers, clock: FixedClock) -> AsyncIterator[Outbox]:
    async with two_role_database(servers, "mla_test_outbox") as database:
        settings = Settings(
            database_url=database.runtime_url,
            redis_url=servers.redis_url,
            queue_name=f"mla:test:outbox:{uuid.uuid4().hex[:8]}",
            secret_key="test-secret-key-not-for-production",
            audit_keys=TEST_AUDIT_KEYS,
            # The receivers of these tests listen on the loopback interface: allowed here only.
            webhook_allowed_networks=LOCAL_RECEIVERS,
        )
        app = create_app(settings, clock)
        async with hold_resources(app):
            async with app.state.sessionmaker() as session, session.begin():
                await seed_reference_data(session, clock)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://mla.test") as client:
                world = World(client, app.state.sessionmaker, clock)
                yield Outbox(settings, app.state.sessionmaker, world, client, app)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --------------------------------------------------------------------------- SMTP


class SmtpSink:
    """An SMTP server on localhost (aiosmtpd, in its own thread) that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Any] = []
        self.sessions: list[Any] = []  # one aiosmtpd session per connection, kept so their ids stay distinct
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append(envelope)
        self.sessions.append(session)
        self.messages.append(BytesParser(policy=email.policy.default).parsebytes(envelope.content))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def connections(self) -> int:
        return len({id(session) for session in self.sessions})


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink._controller.start()  # returns once the server answers
    try:
        yield sink
    finally:
        sink._controller.stop()


# --------------------------------------------------------------------------- webhooks


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


@dataclass
class WebhookReceiver:
    """A minimal HTTP/1.1 server that records every request; answers 500 to the next `failures` ones."""

    secret: str
    failures: int = 0
    # When set, the first request is recorded but not answered until `release` is set (a hung send).
    hold_first: bool = False
    # When set, every request is answered 307 to this URL.
    redirect_to: str | None = None
    release: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # set once a request was recorded
    requests: list[ReceivedRequest] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/mla"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            request_line, *header_lines = head.split("\r\n")
            method, path, _ = request_line.split(" ", 2)
            headers = {}
            for line in header_lines:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(ReceivedRequest(method, path, headers, body))
            self.arrived.set()
            if self.hold_first and len(self.requests) == 1:
                await self.release.wait()
            status = "500 Internal Server Error" if self.failures > 0 else "204 No Content"
            if self.redirect_to is not None:
                status = f"307 Temporary Redirect\r\nLocation: {self.redirect_to}"
            self.failures = max(self.failures - 1, 0)
            writer.write(f"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def distinct_deliveries(self) -> set[str]:
        """What a receiver that drops repeated Idempotency-Keys would act on."""
        return {request.headers["idempotency-key"] for request in self.requests}

    def signature_is_valid(self, request: ReceivedRequest) -> bool:
        """Checked here independently of mla.alerts.signature, from the documented scheme."""
        names = ("x-mla-timestamp", "x-mla-webhook-id", "idempotency-key")
        signed = "".join(f"{request.headers[name]}." for name in names).encode() + request.body
        expected = "sha256=" + hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, request.headers.get("x-mla-signature", ""))


# --------------------------------------------------------------------------- arranged rows


async def arrange_alert(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    request_id: str | uuid.UUID,
    stage: str = "overdue",
) -> uuid.UUID:
    """An open deadline of `request_id`, due now, and one decided alert stage of it."""
    now = clock.now()
    async with sessionmaker() as session, session.begin():
        rule = await session.scalar(select(DeadlineRule).order_by(DeadlineRule.code).limit(1))
        assert rule is not None, "the deadline rules are seeded"
        deadline = Deadline(
            id=uuid.uuid4(),
            request_id=uuid.UUID(str(request_id)),
            rule_id=rule.id,
            kind=rule.kind,
            rule_code=rule.code,
            status="open",
            started_at=now - timedelta(days=10),
            due_at=now,
            window_seconds=int(timedelta(days=10).total_seconds()),
            explanation="arranged by a test",
            paused_at=None,
            next_alert_at=None,  # never picked up by the alert scan
            fired_stages=[stage],
            created_at=now,
        )
        session.add(deadline)
        await session.flush()
        alert = Alert(
            id=uuid.uuid4(),
            deadline_id=deadline.id,
            request_id=deadline.request_id,
            stage=stage,
            stage_at=now,
            decided_at=now,
            skipped=False,
        )
        session.add(alert)
    return alert.id


async def add_delivery(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    alert_id: uuid.UUID,
    *,
    channel: str,
    recipient: str,
    subject: str = "Overdue: MLA-2026-000001",
    body: str = "The response deadline is overdue.",
    webhook_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A pending, unpublished delivery due now, as the alert scan writes it."""
    now = clock.now()
    delivery = Delivery(
        id=uuid.uuid4(),
        alert_id=alert_id,
        channel=channel,
        recipient=recipient,
        webhook_id=webhook_id,
        subject=subject,
        body=body,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        published_at=None,
        created_at=now,
    )
    async with sessionmaker() as session, session.begin():
        session.add(delivery)
    return delivery.id


async def add_notification(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    alert_id: uuid.UUID,
    request_id: str | uuid.UUID,
    user_id: uuid.UUID,
    title: str,
) -> uuid.UUID:
    notification = Notification(
        id=uuid.uuid4(),
        user_id=user_id,
        alert_id=alert_id,
        request_id=uuid.UUID(str(request_id)),
        stage="overdue",
        title=title,
        body=f"{title}: the deadline is overdue.",
        created_at=clock.now(),
    )
    async with sessionmaker() as session, session.begin():
        session.add(notification)
    return notification.id


async def load_delivery(sessionmaker: async_sessionmaker[AsyncSession], delivery_id: uuid.UUID) -> Delivery:
    async with sessionmaker() as session:
        delivery = await session.get(Delivery, delivery_id)
        assert delivery is not None
        return delivery
