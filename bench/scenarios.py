"""The operations the load generator repeats: HTTP calls against the API, and the database floor.

Everything here is built in the parent process and pickled into the load processes, so a scenario
carries its inputs (tokens, bodies, drafts to submit) and opens its connections in `open`.
"""

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import asyncpg
import msgspec

from bench.client import HttpConnection
from bench.database import BENCH_KEYRING
from bench.load import Operation
from bench.rows import CONFIDENTIALITY_REASON, FACTS, STATEMENT
from bench.seed import Draft
from bench.world import World
from mla.audit.chain import keyed_hash
from mla.checks.rules import REGISTRY
from mla.deadlines.stages import alert_stages
from mla.desk.session import SESSION_COOKIE
from mla.users.credentials import issue_access_token

# (instrument, type, target kind, data categories) of what the benchmark files.
FILINGS = (
    ("eu-epoc", "production", "provider", ["content", "subscriber"]),
    ("mlat", "mla", "state", ["content"]),
    ("us-2703f", "preservation", "provider", ["content", "subscriber", "traffic"]),
)
JSON = b"Content-Type: application/json\r\n"
DESK_SESSION = timedelta(hours=8)  # outlasts any run


@dataclass
class HttpCall:
    method: str
    path: str
    headers: bytes
    body: bytes = b""


@dataclass
class HttpCalls:
    """Repeat HTTP calls against the API processes (one keep-alive connection per task, spread over the ports)."""

    name: str
    ports: list[int]
    calls: list[HttpCall]
    expect: int
    consume: bool = False  # each call is made once (drafts to submit); the load stops when none are left
    seed: int = 0
    _connections: list[HttpConnection] = field(default_factory=list)

    async def open(self, task: int) -> Operation:
        connection = HttpConnection("127.0.0.1", self.ports[task % len(self.ports)])
        self._connections.append(connection)
        rng = random.Random(self.seed * 1000 + task)

        async def operation() -> tuple[bool, str] | None:
            if self.consume:
                if not self.calls:
                    return None
                call = self.calls.pop()
            else:
                call = self.calls[rng.randrange(len(self.calls))]
            status, answer = await connection.request(call.method, call.path, call.headers, call.body)
            if status == self.expect:
                return True, ""
            return False, f"{call.method} {call.path} -> {status} {answer[:400].decode(errors='replace')}"

        return operation

    async def close(self) -> None:
        for connection in self._connections:
            await connection.close()


def bearer(token: str) -> bytes:
    return f"Authorization: Bearer {token}\r\n".encode()


def filing_calls(world: World, now: datetime, rng: random.Random, count: int = 2_000) -> list[HttpCall]:
    """`POST /requests` bodies of prosecutors of many organisations, each for one of their cases."""
    calls = []
    for _ in range(count):
        service = rng.choices(world.services, weights=[s.weight for s in world.services])[0]
        instrument, kind, target, categories = rng.choice(FILINGS)
        body = request_body(rng.choice(service.cases), rng.choice(_targets(world, target)), now)
        body.update(instrument=instrument, type=kind, data_categories=categories)
        headers = JSON + bearer(rng.choice(service.members).token)
        calls.append(HttpCall("POST", "/api/v1/requests", headers, msgspec.json.encode(body)))
    return calls


def request_body(case_id: uuid.UUID, target_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    """A complete, valid draft (as tests/factories.py files one)."""
    return {
        "case_id": str(case_id),
        "direction": "outgoing",
        "type": "production",
        "target_id": str(target_id),
        "instrument": "eu-epoc",
        "data_categories": ["subscriber", "content"],
        "identifiers": [{"kind": "email", "value": "suspect@example.com"}],
        "period_start": (now - timedelta(days=90)).isoformat(),
        "period_end": (now - timedelta(days=1)).isoformat(),
        "urgency": "routine",
        "facts": FACTS,
        "link_to_offence": STATEMENT,
        "necessity": STATEMENT,
        "proportionality": STATEMENT,
        "confidential": True,
        "confidentiality_reason": CONFIDENTIALITY_REASON,
        "language": "en",
    }


def submit_calls(world: World, drafts: list[Draft]) -> list[HttpCall]:
    """`POST .../actions/submit` for seeded drafts, each by the prosecutor who created it."""
    tokens = {member.id: member.token for service in world.services for member in service.members}
    return [
        HttpCall(
            "POST",
            f"/api/v1/requests/{draft.id}/actions/submit",
            JSON + bearer(tokens[draft.created_by]),
            msgspec.json.encode({"version": draft.version}),
        )
        for draft in drafts
        if draft.created_by in tokens
    ]


def queue_calls(world: World, bucket: str) -> list[HttpCall]:
    """`GET /queue?bucket=` by the first officer of every central authority (large and small queues alike)."""
    return [
        HttpCall("GET", f"/api/v1/queue?bucket={bucket}", bearer(authority.members[0].token))
        for authority in world.authorities
    ]


def desk_queue_calls(world: World, secret_key: str) -> list[HttpCall]:
    """`GET /desk/queue` (the whole open queue's first page, as the desk opens) by the busiest authority's
    first officer, signed in: its session cookie is an access token, signed with the servers' key."""
    officer = world.authorities[0].members[0]
    token, _ = issue_access_token(officer.id, secret=secret_key, now=datetime.now(UTC), ttl=DESK_SESSION)
    return [HttpCall("GET", "/desk/queue", f"Cookie: {SESSION_COOKIE}={token}\r\n".encode())]


def list_calls(world: World) -> list[HttpCall]:
    """`GET /requests?limit=20`, an authenticated list, by every prosecutor of every prosecution service."""
    return [
        HttpCall("GET", "/api/v1/requests?limit=20", bearer(member.token))
        for service in world.services
        for member in service.members
    ]


def login_spray_calls(rng: random.Random, count: int = 5_000) -> list[HttpCall]:
    """Wrong passwords for made-up accounts, each from an address of its own: a spray from many machines.

    The address travels in `X-Forwarded-For`, which `mla serve` (uvicorn) trusts from 127.0.0.1 as it
    would from a reverse proxy on the same host. Neither an account nor an address reaches its
    limit, so every attempt costs an argon2 verification (unknown e-mails cost as much as wrong
    passwords): the worst flood the limits leave to the API.
    """
    calls = []
    for k in range(count):
        address = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        body = {"email": f"spray-{k}@bench.example", "password": f"guess-{rng.randrange(10**9)}"}
        headers = JSON + f"X-Forwarded-For: {address}\r\n".encode()
        calls.append(HttpCall("POST", "/api/v1/auth/token", headers, msgspec.json.encode(body)))
    return calls


def login_guess_calls(rng: random.Random, count: int = 1_000) -> list[HttpCall]:
    """Wrong passwords for one account from one address: past the first few, 429s that cost no hash."""
    body = {"email": "victim@bench.example"}
    return [
        HttpCall("POST", "/api/v1/auth/token", JSON, msgspec.json.encode({**body, "password": f"guess-{k}"}))
        for k in rng.sample(range(10**9), count)
    ]


def _targets(world: World, kind: str) -> list[uuid.UUID]:
    return world.states if kind == "state" else world.providers


@dataclass
class Owner:
    organisation_id: uuid.UUID
    central_authority_id: uuid.UUID
    created_by: uuid.UUID
    cases: list[uuid.UUID]


@dataclass
class DatabaseFloor:
    """The writes of one filing through raw asyncpg, no HTTP and no ORM: the database floor.

    Per request, in one transaction, as `mla.requests.service.create_request` and
    `mla.audit.service.record` do: take a reference number from the sequence, insert the request,
    lock its audit chain, read the chain's last event, insert the `create` event with its hash. The
    filing's reads (token, case, target, instrument, organisation) are not repeated here.
    """

    name: str
    url: str
    owners: list[Owner]
    targets: list[uuid.UUID]
    seed: int = 0
    _connections: list[asyncpg.Connection] = field(default_factory=list)

    async def open(self, task: int) -> Operation:
        connection, rng = await _connect(self._connections, self.url, self.seed, task)

        async def operation() -> tuple[bool, str]:
            await _file_directly(connection, rng.choice(self.owners), rng.choice(self.targets), rng)
            return True, ""

        return operation

    async def close(self) -> None:
        await _close_all(self._connections)


async def _connect(
    connections: list[asyncpg.Connection], url: str, seed: int, task: int
) -> tuple[asyncpg.Connection, random.Random]:
    """One more connection of a floor's (kept in `connections` to close), with the task's own random source."""
    connection = await asyncpg.connect(url)
    connections.append(connection)
    return connection, random.Random(seed * 1000 + task)


async def _close_all(connections: list[asyncpg.Connection]) -> None:
    for connection in connections:
        await connection.close()


def floor_owners(world: World) -> list[Owner]:
    return [Owner(s.id, world.authorities[s.authority].id, s.members[0].id, s.cases[:20]) for s in world.services]


REQUEST_INSERT = """
INSERT INTO requests (id, reference, case_id, organisation_id, central_authority_id, direction, type, target_id,
  instrument, data_categories, identifiers, period_start, period_end, urgency, emergency_justification, facts,
  link_to_offence, necessity, proportionality, confidential, confidentiality_reason, language, status,
  assignee_id, priority, counterparty_references, follow_up_request_id, channel_reference, postponed_until,
  urgency_rank, next_due_at, created_by, created_at, updated_at, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,
  $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35)
"""
EVENT_INSERT = """
INSERT INTO audit_events (chain, seq, at, actor_id, actor_roles, organisation_id, request_id, case_id, action,
  from_status, to_status, changes, checks, reason, prev_hash, hash, key_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
"""


async def _file_directly(connection: asyncpg.Connection, owner: Owner, target: uuid.UUID, rng: random.Random) -> None:
    now = datetime.now(UTC)
    request_id = uuid.uuid4()
    async with connection.transaction():
        number = await connection.fetchval("SELECT nextval('request_reference_seq')")
        values = {
            "id": request_id,
            "reference": f"PROD-{now.year}-{number:06d}",
            "case_id": rng.choice(owner.cases),
            "organisation_id": owner.organisation_id,
            "central_authority_id": owner.central_authority_id,
            "direction": "outgoing",
            "type": "production",
            "target_id": target,
            "instrument": "eu-epoc",
            "data_categories": ["content", "subscriber"],
            "identifiers": [{"kind": "email", "value": "suspect@example.com", "from": None, "to": None}],
            "period_start": now - timedelta(days=90),
            "period_end": now - timedelta(days=1),
            "urgency": "routine",
            "emergency_justification": None,
            "facts": FACTS,
            "link_to_offence": STATEMENT,
            "necessity": STATEMENT,
            "proportionality": STATEMENT,
            "confidential": True,
            "confidentiality_reason": CONFIDENTIALITY_REASON,
            "language": "en",
            "status": "draft",
            "assignee_id": None,
            "priority": 0,
            "counterparty_references": [],
            "follow_up_request_id": None,
            "channel_reference": None,
            "postponed_until": None,
            "urgency_rank": 2,
            "next_due_at": None,
            "created_by": owner.created_by,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        row = [*values.values()]
        row[10] = msgspec.json.encode(values["identifiers"]).decode()
        await connection.execute(REQUEST_INSERT, *row)
        snapshot = msgspec.to_builtins({k: v for k, v in values.items() if k not in ("urgency_rank", "next_due_at")})
        event = ChainEvent(
            request_id, owner.organisation_id, values["case_id"], owner.created_by, "create", None, "draft",
            {"after": snapshot},
        )  # fmt: skip
        await _append_event(connection, event, now)


@dataclass
class ChainEvent:
    """An audit event on a request's chain, as `mla.audit.service.record` writes it."""

    request_id: uuid.UUID
    organisation_id: uuid.UUID
    case_id: uuid.UUID
    actor_id: uuid.UUID
    action: str
    from_status: str | None
    to_status: str
    changes: dict[str, Any]
    checks: list[dict[str, Any]] | None = None


async def _append_event(connection: asyncpg.Connection, event: ChainEvent, now: datetime) -> None:
    """Lock the request's chain, read its head, insert the event with its keyed hash."""
    chain = f"request:{event.request_id}"
    await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", chain)
    last = await connection.fetchrow(
        "SELECT seq, hash FROM audit_events WHERE chain = $1 ORDER BY seq DESC LIMIT 1", chain
    )
    sealed = SimpleNamespace(
        **vars(event), chain=chain, seq=1 if last is None else last["seq"] + 1, at=now, actor_roles=["prosecutor"],
        reason=None, prev_hash=None if last is None else last["hash"], key_id=BENCH_KEYRING.current,
    )  # fmt: skip
    await connection.execute(
        EVENT_INSERT, chain, sealed.seq, now, event.actor_id, sealed.actor_roles, event.organisation_id,
        event.request_id, event.case_id, event.action, event.from_status, event.to_status,
        msgspec.json.encode(event.changes).decode(),
        None if event.checks is None else msgspec.json.encode(event.checks).decode(),
        None, sealed.prev_hash, keyed_hash(sealed, BENCH_KEYRING.current_key), sealed.key_id,
    )  # fmt: skip


@dataclass
class SubmitFloor:
    """The writes of one submit through raw asyncpg, no HTTP and no ORM: the submit's database floor.

    Per operation, in one transaction, as `mla.workflow.service.perform_action` writes them: the
    request row updated once (status, version, time, next due moment), the central authority's
    review clock inserted (`internal-review`, the one rule that opens on `submit`), the chain
    locked, its head read and the `submit` event inserted with the checks' records and its hash.
    The submit's reads (token, the locked request, the checks' context, the rules) are not repeated.

    Its drafts are its own (the submit line gets the others) and are used again and again: each
    operation moves one between `draft` and `under_review`, so every write touches the same indexes
    a submit does; `close` puts them back in `draft` and cancels the clocks it opened.
    """

    name: str
    url: str
    drafts: list[uuid.UUID]
    seed: int = 0
    _connections: list[asyncpg.Connection] = field(default_factory=list)

    async def open(self, task: int) -> Operation:
        connection, rng = await _connect(self._connections, self.url, self.seed, task)
        rows = await connection.fetch(
            "SELECT id, organisation_id, case_id, created_by FROM requests WHERE id = ANY($1::uuid[])", self.drafts
        )
        rule = await connection.fetchrow(
            "SELECT id, reminder_leads_hours, met_when_passed, lapses_request FROM deadline_rules "
            "WHERE code = 'internal-review'"
        )

        async def operation() -> tuple[bool, str]:
            await _submit_directly(connection, rng.choice(rows), rule)
            return True, ""

        return operation

    async def close(self) -> None:
        if self._connections:
            await _restore_drafts(self._connections[0], self.drafts)
        await _close_all(self._connections)


async def _restore_drafts(connection: asyncpg.Connection, drafts: list[uuid.UUID], attempts: int = 5) -> None:
    """Put the floor's drafts back. Each load process restores its own drafts at the same moment, and
    the queue-count triggers of two such statements can meet in opposite orders: PostgreSQL then
    rolls one back as a deadlock, which is run again."""
    for _ in range(attempts - 1):
        try:
            await connection.execute(FLOOR_DRAFTS_RESTORED, drafts)
            return
        except asyncpg.DeadlockDetectedError:
            continue
    await connection.execute(FLOOR_DRAFTS_RESTORED, drafts)


FLOOR_DRAFTS_RESTORED = """
WITH drafts AS (UPDATE requests SET status = 'draft', next_due_at = NULL WHERE id = ANY($1::uuid[]))
UPDATE deadlines SET status = 'cancelled', next_alert_at = NULL WHERE request_id = ANY($1::uuid[]) AND status = 'open'
"""
REQUEST_SUBMITTED = """
UPDATE requests SET status = CASE status WHEN 'draft' THEN 'under_review' ELSE 'draft' END, version = version + 1,
  updated_at = $2, next_due_at = $3
WHERE id = $1
RETURNING status
"""
DEADLINE_INSERT = """
INSERT INTO deadlines (id, request_id, rule_id, kind, rule_code, status, started_at, due_at, window_seconds,
  explanation, paused_at, next_alert_at, alert_stages, alert_stage_times, fired_stages, closed_at, closed_by_action,
  created_at)
VALUES ($1, $2, $3, 'review', 'internal-review', 'open', $4, $5, $6, $7, NULL, $8, $9, $10, '{}', NULL, NULL, $4)
"""
REVIEW = timedelta(days=7)  # 5 business days
CHECK_RECORDS = [
    {"code": code, "severity": "blocking", "outcome": "pass", "explanation": STATEMENT[:160], "attestable": False,
     "attested_by": None, "attested_reason": None, "attested_at": None}
    for code in sorted(REGISTRY)
]  # fmt: skip


async def _submit_directly(connection: asyncpg.Connection, draft: asyncpg.Record, rule: asyncpg.Record) -> None:
    now = datetime.now(UTC)
    due = now + REVIEW
    stages = alert_stages(
        due,
        REVIEW,
        rule["reminder_leads_hours"],
        met_when_passed=rule["met_when_passed"],
        lapses_request=rule["lapses_request"],
    )
    async with connection.transaction():
        status = await connection.fetchval(REQUEST_SUBMITTED, draft["id"], now, due)
        deadline_id = uuid.uuid4()
        explanation = "Internal review by the central authority: 5 business days from the submission."
        await connection.execute(
            DEADLINE_INSERT, deadline_id, draft["id"], rule["id"], now, due, int(REVIEW.total_seconds()), explanation,
            stages[0][1], [stage for stage, _ in stages], [at for _, at in stages],
        )  # fmt: skip
        opened = {"opened": [{"id": str(deadline_id), "rule": "internal-review", "due_at": due.isoformat()}]}
        event = ChainEvent(
            draft["id"], draft["organisation_id"], draft["case_id"], draft["created_by"], "submit",
            "draft" if status == "under_review" else "under_review", status,
            {"deadlines": opened}, CHECK_RECORDS,
        )  # fmt: skip
        await _append_event(connection, event, now)
